/* banned.h: functions bootmeta's library and CLI may not call (git's habit, git's list plus
 * strtok and gets). Force-included into every lib/ and src/ file by CMakeLists.txt
 * (-include), so a use is a compile error, not a review comment:
 *   - strcpy, strcat, sprintf, vsprintf, gets: no bound on what they write. Use memcpy with
 *     a checked length, bm_buf_puts/bm_buf_printf, or snprintf.
 *   - strncpy: leaves the result unterminated when it truncates (and zero-fills the rest);
 *     strncat: its bound is the room left, not the buffer size, a classic off-by-one. Use
 *     snprintf or bm_buf.
 *   - gmtime, localtime, ctime, asctime (and ctime_r, asctime_r, whose buffers have no size)
 *     and strtok: hidden static state, so not thread-safe in a library whose callers run
 *     threads. Use gmtime_r/localtime_r with strftime, and strtok_r or strcspn.
 * The system headers that declare them are included first, so their declarations are
 * untouched; _GNU_SOURCE comes first for the same reason (files that want GNU extensions
 * define it before their includes, which would come too late after these). */
#ifndef BM_BANNED_H
#define BM_BANNED_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BM_BANNED(func) sorry_##func##_is_a_banned_function_see_lib_banned_h

#undef strcpy
#define strcpy(x, y) BM_BANNED(strcpy)
#undef strcat
#define strcat(x, y) BM_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BM_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BM_BANNED(strncat)
#undef strtok
#define strtok(x, y) BM_BANNED(strtok)
#undef sprintf
#define sprintf(...) BM_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BM_BANNED(vsprintf)
#undef gets
#define gets(x) BM_BANNED(gets)
#undef gmtime
#define gmtime(t) BM_BANNED(gmtime)
#undef localtime
#define localtime(t) BM_BANNED(localtime)
#undef ctime
#define ctime(t) BM_BANNED(ctime)
#undef ctime_r
#define ctime_r(t, buf) BM_BANNED(ctime_r)
#undef asctime
#define asctime(t) BM_BANNED(asctime)
#undef asctime_r
#define asctime_r(t, buf) BM_BANNED(asctime_r)

#endif
