/* faultinject.h: fail the Nth allocation or the Nth I/O call of a test, as SQLite's test
 * harness does, to run the error paths nothing else reaches.
 *
 * Only test_faults links this. Allocations are caught in three places: the library's own
 * calls (malloc, calloc, realloc, strdup, strndup, sodium_malloc; the test executable is
 * linked with -Wl,--wrap for each), libgit2's (its GIT_OPT_SET_ALLOCATOR hook; only with
 * fi_fail_git) and protobuf-c's (protobuf_c_message_unpack/free_unpacked are wrapped so a NULL allocator
 * becomes the counting one), plus jansson's (json_set_alloc_funcs). I/O calls (open, write,
 * pwrite, fsync, fdatasync, sync_file_range, rename, mkdir, link, unlink) are interposed
 * for the whole process, libgit2 included, and go to the kernel through syscall(2); the
 * syncs are counted but not made (no device flushes in a test). */
#ifndef BM_TEST_FAULTINJECT_H
#define BM_TEST_FAULTINJECT_H

#include <stddef.h>

typedef enum {
	FI_ALLOC = 1,
	FI_IO = 2,
} fi_kind;

/* Point libgit2 and jansson at the counting allocator (after bm_global_init). */
void fi_install(void);

/* Count and fail libgit2's allocations too (off by default: libgit2 1.5 crashes on some of
 * its own allocation failures; test_faults --git lists them with --crashes). */
void fi_fail_git(int on);

/* From now on count calls of `kind`; the `n`th (1-based) fails: an allocation returns
 * NULL, an I/O call returns -1 with errno EIO (ENOSPC for a write). Only that one fails. */
void fi_arm(fi_kind kind, long n);
/* Stop counting; returns how many calls of the armed kind were made. */
long fi_disarm(void);
/* 1 when the armed failure was injected since fi_arm. */
int fi_fired(void);
/* Where the injected failure happened: "lib" when the caller was in the test executable
 * (libbootmeta is linked in statically), else the shared object's file name. */
const char *fi_fired_where(void);
/* The name of the call that failed ("malloc", "rename", ...). */
const char *fi_fired_call(void);
/* The stack of the injected failure, to `fd` (backtrace_symbols_fd). */
void fi_fired_backtrace(int fd);

#endif
