/* common.c: the thread-local last error, growable buffers, string lists and small file
 * helpers used by every module. */
#include "bootmeta/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#define BM_ERRMSG_MAX 1024

static _Thread_local char err_msg[BM_ERRMSG_MAX];
static _Thread_local int err_code;
static _Thread_local bm_error_about err_about;
static _Thread_local char err_about_name[512];

const char *bm_error_last(void) { return err_msg; }
int bm_error_last_code(void) { return err_code; }

void bm_error_clear(void)
{
	err_msg[0] = '\0';
	err_code = 0;
	err_about = BM_ABOUT_NONE;
}

bm_error_about bm_error_last_about(const char **name)
{
	if (name)
		*name = err_about_name;
	return err_about;
}

int bm_error_set_about(bm_error_about about, const char *name)
{
	err_about = about;
	snprintf(err_about_name, sizeof(err_about_name), "%s", name ? name : "");
	return err_code;
}

int bm_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	err_code = code;
	err_about = BM_ABOUT_NONE;
	return code;
}

int bm_error_prefix(int code, const char *fmt, ...)
{
	char prefix[BM_ERRMSG_MAX], old[BM_ERRMSG_MAX];
	va_list ap;
	memcpy(old, err_msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	{
		size_t n = strnlen(prefix, sizeof(err_msg) - 3);
		memcpy(err_msg, prefix, n);
		memcpy(err_msg + n, ": ", 2);
		n += 2;
		memcpy(err_msg + n, old, strnlen(old, sizeof(err_msg) - n - 1));
		err_msg[n + strnlen(old, sizeof(err_msg) - n - 1)] = '\0';
	}
	err_code = code;
	return code;
}

const char *bm_error_name(int code)
{
	switch (code) {
	case BM_OK: return "ok";
	case BM_ENOTFOUND: return "not found";
	case BM_EEXISTS: return "exists";
	case BM_EINVALID: return "invalid";
	case BM_ECONFLICT: return "conflict";
	case BM_EFORMAT: return "format";
	case BM_ECORRUPT: return "corrupt";
	case BM_ENORECIPIENT: return "not a recipient";
	case BM_EVERIFY: return "verification failed";
	case BM_EIO: return "i/o";
	case BM_ENOMEM: return "out of memory";
	case BM_ETOOBIG: return "too big";
	case BM_EPERM: return "not permitted";
	case BM_EREMOTE: return "remote";
	case BM_EUNSUPPORTED: return "unsupported";
	default: return "error";
	}
}

int bm_buf_grow(bm_buf *b, size_t need)
{
	size_t want;
	char *p;
	if (need + 1 < need)
		return bm_error_set(BM_ENOMEM, "buffer size overflow");
	if (need + 1 <= b->asize)
		return 0;
	want = b->asize ? b->asize : 64;
	while (want < need + 1) {
		if (want > SIZE_MAX / 2)
			return bm_error_set(BM_ENOMEM, "buffer size overflow");
		want *= 2;
	}
	p = realloc(b->ptr, want);
	if (!p)
		return bm_error_set(BM_ENOMEM, "out of memory (%zu bytes)", want);
	b->ptr = p;
	b->asize = want;
	b->ptr[b->size] = '\0';
	return 0;
}

int bm_buf_put(bm_buf *b, const void *data, size_t len)
{
	if (b->size + len < b->size)
		return bm_error_set(BM_ENOMEM, "buffer size overflow");
	if (bm_buf_grow(b, b->size + len) < 0)
		return BM_ENOMEM;
	if (len)
		memcpy(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
	return 0;
}

int bm_buf_puts(bm_buf *b, const char *s) { return bm_buf_put(b, s, strlen(s)); }
int bm_buf_putc(bm_buf *b, char c) { return bm_buf_put(b, &c, 1); }

__attribute__((format(printf, 2, 0)))
int bm_buf_vprintf(bm_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return bm_error_set(BM_ERROR, "bad format");
	if (bm_buf_grow(b, b->size + (size_t)n) < 0)
		return BM_ENOMEM;
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	b->size += (size_t)n;
	return 0;
}

int bm_buf_printf(bm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int error;
	va_start(ap, fmt);
	error = bm_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return error;
}

void bm_buf_clear(bm_buf *b)
{
	b->size = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void bm_buf_dispose(bm_buf *b)
{
	if (!b)
		return;
	free(b->ptr);
	b->ptr = NULL;
	b->size = b->asize = 0;
}

void bm_buf_dispose_secret(bm_buf *b)
{
	if (!b)
		return;
	if (b->ptr)
		sodium_memzero(b->ptr, b->asize);
	bm_buf_dispose(b);
}

char *bm_buf_detach(bm_buf *b)
{
	char *p = b->ptr;
	if (!p)
		p = calloc(1, 1);
	b->ptr = NULL;
	b->size = b->asize = 0;
	return p;
}

int bm_strlist_addn(bm_strlist *l, const char *s, size_t n)
{
	char *copy;
	if (l->count == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 8;
		char **p = realloc(l->items, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		l->items = p;
		l->alloc = na;
	}
	copy = strndup(s, n);
	if (!copy)
		return bm_error_set(BM_ENOMEM, "out of memory");
	l->items[l->count++] = copy;
	return 0;
}

int bm_strlist_add(bm_strlist *l, const char *s) { return bm_strlist_addn(l, s, strlen(s)); }

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void bm_strlist_sort(bm_strlist *l)
{
	size_t i;
	/* a git tree lists its names in this order already (a folder as "name/"): one pass */
	for (i = 1; i < l->count; i++)
		if (strcmp(l->items[i - 1], l->items[i]) > 0)
			break;
	if (i < l->count)
		qsort(l->items, l->count, sizeof(char *), cmp_str);
}

void bm_strlist_dispose(bm_strlist *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = l->alloc = 0;
}

/* `path` for a message: printable ASCII as it is, other bytes as \xNN (as git's
 * core.quotePath), cut at the buffer. */
#define SHOWN_PATH_MAX 1024
static const char *shown_path(char out[SHOWN_PATH_MAX], const char *path)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (; *path && o + 8 < SHOWN_PATH_MAX; path++) {
		unsigned char c = (unsigned char)*path;
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (*path)
		out[o++] = '.', out[o++] = '.', out[o++] = '.';
	out[o] = '\0';
	return out;
}

static const char *file_type_name(mode_t m)
{
	if (S_ISDIR(m)) return "a folder";
	if (S_ISFIFO(m)) return "a named pipe (FIFO)";
	if (S_ISSOCK(m)) return "a socket";
	if (S_ISCHR(m)) return "a character device";
	if (S_ISBLK(m)) return "a block device";
	return "not a regular file";
}

int bm_file_open_read(int *out, const char *path, unsigned int flags)
{
	char sp[SHOWN_PATH_MAX];
	struct stat st;
	int fd, fl;

	*out = -1;
	if (!path || !*path)
		return bm_error_set(BM_EINVALID, "no file given");
	/* O_NONBLOCK: opening a named pipe waits for a writer; this must never hang */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return bm_error_set(BM_ENOTFOUND, "%s: no such file", shown_path(sp, path));
		return bm_error_set(e == EACCES ? BM_EPERM : BM_EIO, "%s: cannot open: %s", shown_path(sp, path),
				    strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return bm_error_set(BM_EIO, "%s: cannot stat: %s", shown_path(sp, path), strerror(e));
	}
	if (!S_ISREG(st.st_mode) &&
	    (!(flags & BM_FILE_STREAM) || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode)))) {
		close(fd);
		return bm_error_set(BM_EINVALID, "%s is %s, not a regular file; give a file%s", shown_path(sp, path),
				    file_type_name(st.st_mode),
				    flags & BM_FILE_STREAM ? ", a pipe or stdin" : " (copy a stream to a file first)");
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return bm_error_set(BM_EIO, "%s: fcntl: %s", shown_path(sp, path), strerror(e));
	}
	*out = fd;
	return 0;
}

int bm_file_read(bm_buf *out, const char *path, size_t max_size)
{
	int fd, error = 0;
	char chunk[65536];
	char sp[SHOWN_PATH_MAX];
	ssize_t n;

	/* a bounded read may read a stream (a pipe, /dev/stdin); an unbounded one only a file */
	if ((error = bm_file_open_read(&fd, path, max_size ? BM_FILE_STREAM : 0)) < 0)
		return error;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = bm_error_set(BM_EIO, "%s: read failed: %s", shown_path(sp, path), strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (max_size && out->size + (size_t)n > max_size) {
			error = bm_error_set(BM_ETOOBIG, "%s: larger than %zu bytes", shown_path(sp, path), max_size);
			break;
		}
		if ((error = bm_buf_put(out, chunk, (size_t)n)) < 0)
			break;
	}
	if (!error && !out->ptr)
		error = bm_buf_grow(out, 0);
	close(fd);
	return error;
}

static int fsync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc;
	if (!slash) {
		memcpy(dir, ".", 2);
	} else {
		size_t n = (size_t)(slash - path);
		if (n == 0)
			n = 1;
		if (n >= sizeof(dir))
			return bm_error_set(BM_EINVALID, "path too long");
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bm_error_set(BM_EIO, "%s: cannot open folder: %s", dir, strerror(errno));
	rc = fsync(fd);
	close(fd);
	if (rc < 0)
		return bm_error_set(BM_EIO, "%s: fsync failed: %s", dir, strerror(errno));
	return 0;
}

int bm_file_write_atomic(const char *path, const void *data, size_t len, unsigned int mode)
{
	bm_buf tmp = BM_BUF_INIT;
	int fd = -1, error = 0;
	const char *p = data;

	if ((error = bm_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid())) < 0)
		return error;
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		/* name the file asked for, not the temporary one beside it */
		error = bm_error_set(BM_EIO, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = bm_error_set(BM_EIO, "cannot write %s: %s", path, strerror(errno));
			goto done;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		error = bm_error_set(BM_EIO, "cannot write %s: fsync failed: %s", path, strerror(errno));
		goto done;
	}
	close(fd);
	fd = -1;
	if (rename(tmp.ptr, path) < 0) {
		error = bm_error_set(BM_EIO, "cannot write %s: rename failed: %s", path, strerror(errno));
		goto done;
	}
	error = fsync_dir_of(path);
done:
	if (fd >= 0)
		close(fd);
	if (error < 0)
		unlink(tmp.ptr);
	bm_buf_dispose(&tmp);
	return error;
}

void bm_hex_encode(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int bm_hex_decode(unsigned char *out, size_t outlen, const char *hex)
{
	size_t i;
	if (strlen(hex) != outlen * 2)
		return bm_error_set(BM_EINVALID, "expected %zu hex digits", outlen * 2);
	for (i = 0; i < outlen; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return bm_error_set(BM_EINVALID, "not a hex digit in \"%s\"", hex);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
