/* faultinject.c: the counting allocator and I/O calls of test_faults (see faultinject.h). */
#define _GNU_SOURCE
#include "faultinject.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/alloc.h>
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

static fi_kind armed;
static long target, count;
static int fired;
static const char *fired_call = "";
static char fired_where[256];
static void *fired_stack[32];
static int fired_depth;

void fi_arm(fi_kind kind, long n)
{
	armed = kind;
	target = n;
	count = 0;
	fired = 0;
	fired_call = "";
	fired_where[0] = '\0';
}

long fi_disarm(void)
{
	armed = 0;
	return count;
}

int fi_fired(void) { return fired; }
const char *fi_fired_where(void) { return fired_where; }
const char *fi_fired_call(void) { return fired_call; }

void fi_fired_backtrace(int fd)
{
	backtrace_symbols_fd(fired_stack, fired_depth, fd);
}

static void note_where(const void *caller)
{
	Dl_info self, at;
	if (dladdr((const void *)fi_arm, &self) && dladdr(caller, &at) && at.dli_fname) {
		if (self.dli_fname && !strcmp(self.dli_fname, at.dli_fname))
			snprintf(fired_where, sizeof(fired_where), "lib+%#lx",
				 (unsigned long)((uintptr_t)caller - (uintptr_t)self.dli_fbase));
		else {
			const char *base = strrchr(at.dli_fname, '/');
			snprintf(fired_where, sizeof(fired_where), "%s", base ? base + 1 : at.dli_fname);
		}
	} else {
		snprintf(fired_where, sizeof(fired_where), "?");
	}
}

/* Count a call of `kind`; 1 when this one must fail. */
static int hit(fi_kind kind, const char *call, const void *caller)
{
	if (armed != kind)
		return 0;
	if (++count != target)
		return 0;
	fired = 1;
	fired_call = call;
	note_where(caller);
	fired_depth = backtrace(fired_stack, 32);
	return 1;
}

#define CALLER __builtin_return_address(0)

/* ---- allocations: the library's own (-Wl,--wrap) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__real_sodium_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_sodium_malloc(size_t n);

#define FAIL_ALLOC(call, caller)                      \
	do {                                          \
		if (hit(FI_ALLOC, call, caller)) {    \
			errno = ENOMEM;               \
			return NULL;                  \
		}                                     \
	} while (0)

void *__wrap_malloc(size_t n)
{
	FAIL_ALLOC("malloc", CALLER);
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	FAIL_ALLOC("calloc", CALLER);
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	FAIL_ALLOC("realloc", CALLER);
	return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	FAIL_ALLOC("strdup", CALLER);
	return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	FAIL_ALLOC("strndup", CALLER);
	return __real_strndup(s, n);
}

void *__wrap_sodium_malloc(size_t n)
{
	FAIL_ALLOC("sodium_malloc", CALLER);
	return __real_sodium_malloc(n);
}

/* ---- libgit2 (GIT_OPT_SET_ALLOCATOR) ----
 *
 * Off unless fi_fail_git(1): libgit2 1.5 itself dereferences NULL after some of its
 * allocations fail (its loose-ref lookup returns success with no reference, and its config
 * and object reads crash the same way), so failing them tests libgit2, not bootmeta. */

static int git_faults;

void fi_fail_git(int on) { git_faults = on; }

#define FAIL_GIT(call)                                 \
	do {                                           \
		if (git_faults && hit(FI_ALLOC, call, CALLER)) {      \
			git_error_set_oom();           \
			return NULL;                   \
		}                                      \
	} while (0)

static void *g_malloc(size_t n, const char *file, int line)
{
	FAIL_GIT("git malloc");
	return __real_malloc(n);
}

static void *g_calloc(size_t n, size_t size, const char *file, int line)
{
	FAIL_GIT("git calloc");
	return __real_calloc(n, size);
}

static char *g_strdup(const char *s, const char *file, int line)
{
	FAIL_GIT("git strdup");
	return __real_strdup(s);
}

static char *g_strndup(const char *s, size_t n, const char *file, int line)
{
	FAIL_GIT("git strndup");
	return __real_strndup(s, n);
}

static char *g_substrdup(const char *s, size_t n, const char *file, int line)
{
	char *p;
	FAIL_GIT("git substrdup");
	if (n + 1 < n || !(p = __real_malloc(n + 1)))
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void *g_realloc(void *p, size_t n, const char *file, int line)
{
	FAIL_GIT("git realloc");
	return __real_realloc(p, n);
}

static void *g_reallocarray(void *p, size_t nelem, size_t elsize, const char *file, int line)
{
	FAIL_GIT("git reallocarray");
	if (elsize && nelem > SIZE_MAX / elsize)
		return NULL;
	return __real_realloc(p, nelem * elsize);
}

static void *g_mallocarray(size_t nelem, size_t elsize, const char *file, int line)
{
	FAIL_GIT("git mallocarray");
	if (elsize && nelem > SIZE_MAX / elsize)
		return NULL;
	return __real_malloc(nelem * elsize);
}

static void g_free(void *p) { free(p); }

/* ---- protobuf-c: a NULL allocator means ours ---- */

static void *pb_alloc(void *data, size_t n)
{
	FAIL_ALLOC("protobuf-c alloc", CALLER);
	return __real_malloc(n);
}

static void pb_free(void *data, void *p) { free(p); }

static ProtobufCAllocator pb_allocator = { pb_alloc, pb_free, NULL };

ProtobufCMessage *__real_protobuf_c_message_unpack(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a,
						   size_t len, const uint8_t *data);
void __real_protobuf_c_message_free_unpacked(ProtobufCMessage *m, ProtobufCAllocator *a);
ProtobufCMessage *__wrap_protobuf_c_message_unpack(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a,
						   size_t len, const uint8_t *data);
void __wrap_protobuf_c_message_free_unpacked(ProtobufCMessage *m, ProtobufCAllocator *a);

ProtobufCMessage *__wrap_protobuf_c_message_unpack(const ProtobufCMessageDescriptor *d, ProtobufCAllocator *a,
						   size_t len, const uint8_t *data)
{
	return __real_protobuf_c_message_unpack(d, a ? a : &pb_allocator, len, data);
}

void __wrap_protobuf_c_message_free_unpacked(ProtobufCMessage *m, ProtobufCAllocator *a)
{
	__real_protobuf_c_message_free_unpacked(m, a ? a : &pb_allocator);
}

/* ---- jansson ---- */

static void *json_alloc(size_t n)
{
	FAIL_ALLOC("jansson malloc", CALLER);
	return __real_malloc(n);
}

void fi_install(void)
{
	static git_allocator ga = { g_malloc, g_calloc, g_strdup, g_strndup, g_substrdup,
				    g_realloc, g_reallocarray, g_mallocarray, g_free };
	git_libgit2_opts(GIT_OPT_SET_ALLOCATOR, &ga);
	json_set_alloc_funcs(json_alloc, free);
}

/* ---- I/O: interposed for the whole process ---- */

#define FAIL_IO(call, err)                           \
	do {                                         \
		if (hit(FI_IO, call, CALLER)) {      \
			errno = err;                 \
			return -1;                   \
		}                                    \
	} while (0)

static int do_openat(int dirfd, const char *path, int flags, mode_t mode, const void *caller)
{
	if (hit(FI_IO, "open", caller)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);

#define MODE_ARG(flags, mode)                                  \
	do {                                                   \
		if ((flags) & (O_CREAT | O_TMPFILE)) {         \
			va_list ap;                            \
			va_start(ap, flags);                   \
			mode = (mode_t)va_arg(ap, int);        \
			va_end(ap);                            \
		}                                              \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return do_openat(AT_FDCWD, path, flags, mode, CALLER);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return do_openat(AT_FDCWD, path, flags, mode, CALLER);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return do_openat(dirfd, path, flags, mode, CALLER);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	FAIL_IO("write", ENOSPC);
	return syscall(SYS_write, fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	FAIL_IO("pwrite", ENOSPC);
	return syscall(SYS_pwrite64, fd, buf, n, off);
}

/* The syncs are counted, not made: the test needs no durability, and a device flush per
 * call would make thousands of runs take minutes. */
int fsync(int fd)
{
	FAIL_IO("fsync", EIO);
	return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

int fdatasync(int fd)
{
	FAIL_IO("fdatasync", EIO);
	return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
	FAIL_IO("sync_file_range", EIO);
	return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

int rename(const char *from, const char *to)
{
	FAIL_IO("rename", EIO);
	return (int)syscall(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to);
}

int mkdir(const char *path, mode_t mode)
{
	FAIL_IO("mkdir", EIO);
	return (int)syscall(SYS_mkdirat, AT_FDCWD, path, mode);
}

int link(const char *from, const char *to)
{
	FAIL_IO("link", EIO);
	return (int)syscall(SYS_linkat, AT_FDCWD, from, AT_FDCWD, to, 0);
}

int unlink(const char *path)
{
	FAIL_IO("unlink", EIO);
	return (int)syscall(SYS_unlinkat, AT_FDCWD, path, 0);
}
