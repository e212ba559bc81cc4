/* bootmeta/common.h: error codes, the thread-local last error, growable buffers and
 * string lists shared by every module of libbootmeta.
 *
 * Conventions (as libgit2): functions return 0 or a negative BM_E* code; the detail is in
 * bm_error_last(). Out-parameters come first. A `**out` is owned by the caller and freed
 * with the matching *_free(), which accepts NULL. The library never prints and never exits. */
#ifndef BOOTMETA_COMMON_H
#define BOOTMETA_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BM_BUILDING_LIBRARY)
#define BM_EXTERN __attribute__((visibility("default")))
#else
#define BM_EXTERN
#endif
#define BM_WARN_UNUSED __attribute__((warn_unused_result))
#define BM_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define BM_VERSION "0.1.0"
/* The meta repo format this program reads and writes (.bootmeta/format). */
#define BM_FORMAT_VERSION 1

typedef enum {
	BM_OK = 0,
	BM_ERROR = -1,        /* generic failure */
	BM_ENOTFOUND = -3,    /* no such record, project, release, channel, key ... */
	BM_EEXISTS = -4,      /* a record that may not be rewritten already exists */
	BM_EINVALID = -5,     /* bad input: a name, a value, a flag */
	BM_ECONFLICT = -6,    /* compare-and-swap lost too many times */
	BM_EFORMAT = -7,      /* repo format newer than this program, or not a meta repo */
	BM_ECORRUPT = -8,     /* a stored record or file does not decode */
	BM_ENORECIPIENT = -9, /* not a recipient / no matching identity */
	BM_EVERIFY = -10,     /* a signature, MAC or checksum did not verify */
	BM_EIO = -11,         /* an OS or I/O error */
	BM_ENOMEM = -12,
	BM_ETOOBIG = -13,     /* over a size or work bound */
	BM_EPERM = -14,       /* unsafe permissions, not allowed */
	BM_EREMOTE = -15,     /* the remote refused or could not be reached */
	BM_EUNSUPPORTED = -16,
} bm_error_code;

/* The message of the last error on this thread ("" when none). */
BM_EXTERN const char *bm_error_last(void);
/* The code of the last error on this thread (0 when none). */
BM_EXTERN int bm_error_last_code(void);
/* Record an error; returns `code` so callers can `return bm_error_set(...)`. */
BM_EXTERN int bm_error_set(int code, const char *fmt, ...) BM_PRINTF(2, 3);
/* Prefix the current error message with more context; returns `code`. */
BM_EXTERN int bm_error_prefix(int code, const char *fmt, ...) BM_PRINTF(2, 3);
BM_EXTERN void bm_error_clear(void);

/* What the last error is about, so a caller can add advice in its own terms: messages from
 * the library state the fact ("no project \"app\""); what to run about it is the caller's
 * to say (the CLI names its commands and flags). bm_error_set clears it. */
typedef enum {
	BM_ABOUT_NONE = 0,
	BM_ABOUT_PROJECT,         /* name: a project that does not exist */
	BM_ABOUT_RELEASE,         /* name: the project a release does not exist in */
	BM_ABOUT_ENV,             /* name: an env that does not exist */
	BM_ABOUT_REPO,            /* name: the path given, "" when none was (not found upward) */
	BM_ABOUT_ACTOR,           /* the actor is not valid UTF-8 or too long */
	BM_ABOUT_DIRTY_SOURCE,    /* name: a source checkout with uncommitted changes */
	BM_ABOUT_ALLOWED_SIGNERS, /* signed commits are required but no allowed signers are set */
	BM_ABOUT_IDENTITY,        /* name: an age identity file that is missing, "" when none given */
	BM_ABOUT_RECORD,          /* name: the path of a record that does not decode (or holds
	                           * another record than its path says) */
	BM_ABOUT_SSH_HOST_UNKNOWN, /* name: an ssh host ("host", "[host]:port") not in known_hosts */
	BM_ABOUT_SSH_HOST_CHANGED, /* name: an ssh host whose known_hosts key differs from its key */
	BM_ABOUT_RECORD_HISTORY,  /* name: the path of a record that does not decode; restore it
	                           * from history */
	BM_ABOUT_CHANNEL,         /* name: "PROJECT CHANNEL" of a channel with no entry yet */
	BM_ABOUT_CHANNEL_HISTORY, /* name: the project of a channel that has no entries */
	BM_ABOUT_CHANNEL_RELEASE, /* name: "PROJECT CHANNEL": no release on the channel to read */
	BM_ABOUT_CONFIG_JSON,     /* a json config value that is not an object or a list */
	BM_ABOUT_CONFIG_KEY,      /* name: "PROJECT ENV" where a key to unset is not set */
	BM_ABOUT_CONFIG_SEQ,      /* name: "PROJECT ENV KEY" of a record number the key lacks */
	BM_ABOUT_ENV_FILE_FORMAT, /* values the portable env-file format cannot hold */
	BM_ABOUT_GIT_REPO,        /* name: a path that is not a git repo */
	BM_ABOUT_ENV_PARENT,      /* name: a parent env that does not exist */
	BM_ABOUT_ENV_FILE,        /* name: a checkout's env file that names no env, or several */
	BM_ABOUT_FLAG,            /* name: "PROJECT ENV" of a flag that does not exist */
	BM_ABOUT_FLAG_VARIANTS,   /* a flag spec with no variants */
	BM_ABOUT_FLAG_CHANNEL,    /* a flag rule on a channel with no entry yet */
	BM_ABOUT_RELEASE_ID,      /* name: the project a release id does not exist in */
	BM_ABOUT_SOURCE_DIR,      /* name: a source folder that is not in a git checkout */
	BM_ABOUT_BINARY,          /* name: a digest that is not a recorded binary; for BM_EVERIFY,
	                           * the file of a binary that is not signed */
	BM_ABOUT_BINARY_FILE,     /* name: a file that is not a recorded binary (verify) */
	BM_ABOUT_BINARY_TO_SIGN,  /* name: a file to sign that is not a recorded binary */
	BM_ABOUT_SIGNER,          /* name: the key id of a signature the meta repo does not trust */
	BM_ABOUT_SSH_RECIPIENT,   /* an ssh key given where an age recipient is wanted */
	BM_ABOUT_RECIPIENTS,      /* name: the env whose recipients are meant ("": the admins) */
	BM_ABOUT_SECRET,          /* name: "PROJECT ENV" of a secret that does not exist; the env
	                           * for BM_ENORECIPIENT; for BM_EINVALID a secret that is not text */
	BM_ABOUT_SECRET_REMOVED,  /* name: "PROJECT ENV NAME" of a removed secret */
	BM_ABOUT_DAMAGED_LOG,     /* a log changed outside bootmeta: nothing is appended to it */
	BM_ABOUT_REVISION,        /* a revision that names no meta commit */
	BM_ABOUT_UNPUSHED,        /* local main has commits the remote does not have */
	BM_ABOUT_REMOTE_MOVED,    /* the remote moved while pushing */
	BM_ABOUT_TRACE,           /* a trace argument that is no file, digest or release id */
	BM_ABOUT_LOG_KIND,        /* a log entry with no kind */
	BM_ABOUT_LOG_MESSAGE,     /* a log entry with no message */
	BM_ABOUT_CHANNEL_PINNED   /* name: "<project> <channel>", pinned by a rollback */
} bm_error_about;
/* The subject of the last error on this thread (BM_ABOUT_NONE when it has none); `name`
 * (may be NULL) gets its name ("" when it has none), valid until the next error. */
BM_EXTERN bm_error_about bm_error_last_about(const char **name);
/* Say what the error just set is about; returns the last error's code. */
BM_EXTERN int bm_error_set_about(bm_error_about about, const char *name);
/* Name of a code: "not found", "invalid" ... */
BM_EXTERN const char *bm_error_name(int code);

/* A growable byte buffer, always NUL-terminated when ptr != NULL. */
typedef struct {
	char *ptr;
	size_t size;
	size_t asize;
} bm_buf;
#define BM_BUF_INIT { NULL, 0, 0 }

BM_EXTERN int bm_buf_grow(bm_buf *b, size_t need);
BM_EXTERN int bm_buf_put(bm_buf *b, const void *data, size_t len);
BM_EXTERN int bm_buf_puts(bm_buf *b, const char *s);
BM_EXTERN int bm_buf_putc(bm_buf *b, char c);
BM_EXTERN int bm_buf_printf(bm_buf *b, const char *fmt, ...) BM_PRINTF(2, 3);
BM_EXTERN int bm_buf_vprintf(bm_buf *b, const char *fmt, va_list ap) BM_PRINTF(2, 0);
BM_EXTERN void bm_buf_clear(bm_buf *b);
/* Wipe (sodium_memzero) then free: for buffers that held secrets. */
BM_EXTERN void bm_buf_dispose_secret(bm_buf *b);
BM_EXTERN void bm_buf_dispose(bm_buf *b);
/* Detach the memory: the caller frees it with free(). */
BM_EXTERN char *bm_buf_detach(bm_buf *b);

/* A list of owned strings. */
typedef struct {
	char **items;
	size_t count;
	size_t alloc;
} bm_strlist;
#define BM_STRLIST_INIT { NULL, 0, 0 }

BM_EXTERN int bm_strlist_add(bm_strlist *l, const char *s);
BM_EXTERN int bm_strlist_addn(bm_strlist *l, const char *s, size_t n);
BM_EXTERN void bm_strlist_sort(bm_strlist *l);
BM_EXTERN void bm_strlist_dispose(bm_strlist *l);

/* Open `path` for reading; *fd gets the descriptor (blocking, close-on-exec). Never waits:
 * a named pipe is opened without waiting for a writer. What is not a regular file is
 * refused with BM_EINVALID ("... is a named pipe (FIFO), not a regular file"), unless
 * `flags` has BM_FILE_STREAM: then a pipe, a socket or a character device (/dev/stdin) is
 * given back to be read as a stream, which the caller bounds (a named pipe with no writer
 * reads as empty). A folder or block device is always refused. BM_ENOTFOUND, BM_EPERM,
 * BM_EIO. Paths in messages show bytes outside printable ASCII as \xNN. */
#define BM_FILE_STREAM 1u
BM_EXTERN int bm_file_open_read(int *fd, const char *path, unsigned int flags);
/* Read a whole file (max_size 0: no bound). With a bound, a stream is read too (as
 * bm_file_open_read with BM_FILE_STREAM); without one, only a regular file. BM_ENOTFOUND,
 * BM_EINVALID, BM_EIO, BM_ETOOBIG. */
BM_EXTERN int bm_file_read(bm_buf *out, const char *path, size_t max_size);
/* Write a file atomically (temp file, fsync, rename, fsync folder) with `mode`. */
BM_EXTERN int bm_file_write_atomic(const char *path, const void *data, size_t len, unsigned int mode);

/* Hex encode/decode. bm_hex_decode returns BM_EINVALID on a bad digit or length. */
BM_EXTERN void bm_hex_encode(char *out, const unsigned char *in, size_t len);
BM_EXTERN int bm_hex_decode(unsigned char *out, size_t outlen, const char *hex);

#ifdef __cplusplus
}
#endif
#endif
