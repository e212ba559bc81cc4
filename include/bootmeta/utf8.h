/* bootmeta/utf8.h: the library's one UTF-8 validator (lib/utf8.c). Well-formed means
 * Unicode's table 3-7: no overlong encodings, no surrogates (U+D800..U+DFFF), nothing past
 * U+10FFFF, no truncated sequences. Every text check in the library and the CLI uses it. */
#ifndef BOOTMETA_UTF8_H
#define BOOTMETA_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The length (1..4) of the well-formed UTF-8 sequence at the start of `s` (`len` bytes
 * available, len > 0), with its code point in *cp; 0 when the bytes there are not one. */
BM_EXTERN size_t bm_utf8_char(uint32_t *cp, const char *s, size_t len);

/* 1 when `len` bytes of `s` are well-formed UTF-8, else 0. A NUL byte is a valid code
 * point here; callers that hold C strings check for it themselves. */
BM_EXTERN int bm_utf8_valid(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
