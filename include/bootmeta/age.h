/* bootmeta/age.h: age v1 file encryption (age-encryption.org/v1, c2sp.org/age).
 *
 * Native X25519 recipients ("age1...") and identities ("AGE-SECRET-KEY-1..."), scrypt
 * passphrases, ASCII armor, and the streaming payload (64 KiB STREAM chunks), so a file of
 * any size is encrypted and decrypted in constant memory. Files are interoperable with the
 * age and rage programs; the C2SP CCTV conformance vectors run in tests/unit/test_age.c.
 *
 * Secret keys, file keys and passphrases are kept in sodium_malloc() memory and wiped.
 * Strings these functions return that hold a secret (bm_age_keygen's identity,
 * bm_age_identity_file_read's contents, decrypted plaintext) are the caller's to wipe with
 * bm_buf_dispose_secret().
 *
 * Errors (see bm_age_failure for telling decryption failures apart):
 *   BM_EINVALID      a recipient, identity or argument does not parse
 *   BM_ECORRUPT      malformed armor or header, truncated file
 *   BM_ETOOBIG       an scrypt work factor over the bound (a header failure)
 *   BM_EUNSUPPORTED  another age version, an identity type this build does not know
 *   BM_ENORECIPIENT  no identity or passphrase opens the file
 *   BM_EVERIFY       the header MAC or a payload chunk does not authenticate
 *   BM_EPERM         an identity file readable by others
 *   BM_EIO           reading or writing failed (or a callback returned an error)
 */
#ifndef BOOTMETA_AGE_H
#define BOOTMETA_AGE_H

#include <stddef.h>
#include "bootmeta/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Plaintext bytes per STREAM chunk. */
#define BM_AGE_CHUNK_SIZE 65536
/* log2 of the scrypt work factor used when encrypting with a passphrase (as age). */
#define BM_AGE_SCRYPT_DEFAULT_LOG2N 18
/* Decryption refuses scrypt work factors above 2^this unless raised (as age). */
#define BM_AGE_SCRYPT_MAX_LOG2N 22

/* Why a decryption failed; the classes of the age test kit. */
typedef enum {
	BM_AGE_FAIL_NONE = 0,  /* success */
	BM_AGE_FAIL_ARMOR,     /* ASCII armor malformed (strict PEM, canonical base64) */
	BM_AGE_FAIL_HEADER,    /* header malformed, unsupported version, bad stanza, bound */
	BM_AGE_FAIL_HMAC,      /* a stanza opened but the header MAC is wrong (tampering) */
	BM_AGE_FAIL_NO_MATCH,  /* no identity or passphrase opens any stanza */
	BM_AGE_FAIL_PAYLOAD,   /* payload truncated, tampered with, or trailing data */
	BM_AGE_FAIL_IO,        /* the read or write callback failed */
	BM_AGE_FAIL_OTHER,     /* out of memory, bad argument */
} bm_age_failure;

/* "armor failure", "header failure", "HMAC failure", "no match", "payload failure" ... */
BM_EXTERN const char *bm_age_failure_name(bm_age_failure failure);

/* How the decryptor treats ASCII armor. */
typedef enum {
	BM_AGE_ARMOR_AUTO = 0, /* armored when the input starts (after whitespace) with -----BEGIN */
	BM_AGE_ARMOR_NO,       /* binary only */
	BM_AGE_ARMOR_YES,      /* armored only */
} bm_age_armor_mode;

/* Streams. A read function fills `buf` with up to `cap` bytes and sets *got; *got == 0
 * means the end of the input. A write function consumes all `len` bytes. Both return 0 or
 * a negative BM_E* code (set an error message with bm_error_set), which aborts the
 * operation with that code. */
typedef int (*bm_age_read_fn)(void *ctx, void *buf, size_t cap, size_t *got);
typedef int (*bm_age_write_fn)(void *ctx, const void *data, size_t len);
/* Read and write callbacks over a file descriptor (ctx: an int *), retrying on EINTR. */
BM_EXTERN int bm_age_fd_read(void *ctx, void *buf, size_t cap, size_t *got);
BM_EXTERN int bm_age_fd_write(void *ctx, const void *data, size_t len);

/* ---- keys ---------------------------------------------------------------------------- */

/* A new X25519 key pair: `identity` gets "AGE-SECRET-KEY-1..." (a secret: dispose with
 * bm_buf_dispose_secret), `recipient` gets "age1...". Both buffers are replaced. */
BM_EXTERN int bm_age_keygen(bm_buf *identity, bm_buf *recipient);

/* The recipient "age1..." of one identity string "AGE-SECRET-KEY-1..." (surrounding
 * whitespace ignored). BM_EINVALID when it does not parse. */
BM_EXTERN int bm_age_recipient_of(bm_buf *recipient, const char *identity);

/* 0 when `recipient` is a valid X25519 recipient "age1...", else BM_EINVALID with why. */
BM_EXTERN int bm_age_recipient_check(const char *recipient);

/* Read an identity file into `out` (replaced; a secret: dispose with bm_buf_dispose_secret).
 * Refuses (BM_EPERM) a file whose permissions let group or others in at all, as ssh does,
 * and anything but a regular file of at most 1 MiB. BM_ENOTFOUND when it does not exist. */
BM_EXTERN int bm_age_identity_file_read(bm_buf *out, const char *path);

/* ---- identities: what a decryption may use ------------------------------------------- */

typedef struct bm_age_identities bm_age_identities;

/* Called at most once per decryption, only when the file is passphrase-encrypted and no
 * passphrase was added: put the passphrase in `out` (the caller wipes it) or return an
 * error code. */
typedef int (*bm_age_passphrase_fn)(bm_buf *out, void *ctx);

BM_EXTERN int bm_age_identities_new(bm_age_identities **out);
/* Add every identity of an identity file's text: one "AGE-SECRET-KEY-1..." per line, empty
 * lines and lines starting with '#' ignored. BM_EINVALID (naming the line) on anything else,
 * BM_EUNSUPPORTED for plugin and post-quantum identities. Nothing is added on error. */
BM_EXTERN int bm_age_identities_add_text(bm_age_identities *ids, const char *text);
/* Add a passphrase to try on scrypt stanzas (copied into locked memory). */
BM_EXTERN int bm_age_identities_add_passphrase(bm_age_identities *ids, const char *passphrase);
BM_EXTERN void bm_age_identities_set_passphrase_fn(bm_age_identities *ids,
						   bm_age_passphrase_fn fn, void *ctx);
/* Raise or lower the largest scrypt work factor (log2 N, 1..30) decryption accepts. */
BM_EXTERN int bm_age_identities_set_max_work_factor(bm_age_identities *ids, int log2n);
/* Number of X25519 identities held. */
BM_EXTERN size_t bm_age_identities_count(const bm_age_identities *ids);
/* Wipes and frees; NULL is fine. */
BM_EXTERN void bm_age_identities_free(bm_age_identities *ids);

/* ---- encryption ---------------------------------------------------------------------- */

typedef struct bm_age_encryptor bm_age_encryptor;

/* Start a file encrypted to `nrecipients` recipients "age1..." (at least one); the header
 * is written to `write` right away, armored when `armor` is non-zero. */
BM_EXTERN int bm_age_encryptor_new(bm_age_encryptor **out,
				   const char *const *recipients, size_t nrecipients, int armor,
				   bm_age_write_fn write, void *write_ctx);
/* Start a file encrypted with a passphrase; `log2n` is the scrypt work factor (0: the
 * default BM_AGE_SCRYPT_DEFAULT_LOG2N; at most 30). */
BM_EXTERN int bm_age_encryptor_new_passphrase(bm_age_encryptor **out,
					      const char *passphrase, int log2n, int armor,
					      bm_age_write_fn write, void *write_ctx);
/* Encrypt more plaintext. Full chunks are written as soon as it is known they are not the
 * last one. */
BM_EXTERN int bm_age_encryptor_write(bm_age_encryptor *enc, const void *data, size_t len);
/* Write the final chunk (and the armor's end line). Required; the file is truncated
 * without it. After an error the encryptor can only be freed. */
BM_EXTERN int bm_age_encryptor_finish(bm_age_encryptor *enc);
/* Wipes and frees; NULL is fine. */
BM_EXTERN void bm_age_encryptor_free(bm_age_encryptor *enc);

/* Encrypt `len` bytes to `recipients` into `out` (replaced). */
BM_EXTERN int bm_age_encrypt_buf(bm_buf *out, const void *plain, size_t len,
				 const char *const *recipients, size_t nrecipients, int armor);
BM_EXTERN int bm_age_encrypt_buf_passphrase(bm_buf *out, const void *plain, size_t len,
					    const char *passphrase, int log2n, int armor);
/* Encrypt everything read from `in_fd` to `out_fd` (no seeking; pipes are fine). */
BM_EXTERN int bm_age_encrypt_fd(int out_fd, int in_fd,
				const char *const *recipients, size_t nrecipients, int armor);

/* ---- decryption ---------------------------------------------------------------------- */

/* Decrypt an age file read from `read` and write the plaintext to `write` one verified
 * chunk at a time. Memory use is constant. Plaintext of chunks that authenticated may have
 * been written before a later failure: a caller writing to a file should write to a
 * temporary one and keep it only on success. `failure` (may be NULL) classifies the
 * outcome. */
BM_EXTERN int bm_age_decrypt_stream(bm_age_write_fn write, void *write_ctx,
				    bm_age_read_fn read, void *read_ctx,
				    const bm_age_identities *ids, bm_age_armor_mode armor,
				    bm_age_failure *failure);

/* Decrypt `len` bytes into `out` (replaced; a secret: dispose with bm_buf_dispose_secret).
 * `identities_text` is an identity file's contents. On failure `out` is wiped and empty.
 * BM_ENORECIPIENT when no identity matches. Armor is detected. */
BM_EXTERN int bm_age_decrypt_buf(bm_buf *out, const void *ciphertext, size_t len,
				 const char *identities_text);
/* The same with an identity set and the failure class. */
BM_EXTERN int bm_age_decrypt_buf_ex(bm_buf *out, const void *ciphertext, size_t len,
				    const bm_age_identities *ids, bm_age_failure *failure);
/* Decrypt from `in_fd` to `out_fd` (armor detected). */
BM_EXTERN int bm_age_decrypt_fd(int out_fd, int in_fd, const bm_age_identities *ids,
				bm_age_failure *failure);

/* ---- building blocks (exposed for tests and fuzzing) --------------------------------- */

/* Decode ASCII armor (strict, as age: RFC 7468 strict PEM, canonical padded base64, 64
 * columns, LF or CRLF, whitespace only around the block) into `out` (replaced). */
BM_EXTERN int bm_age_armor_decode(bm_buf *out, const void *text, size_t len);
/* Parse (not decrypt) an age header at the start of `data`: syntax, stanza shapes,
 * canonical base64. `*header_len` (may be NULL) gets the header's length (payload offset),
 * `*nstanzas` (may be NULL) the number of stanzas. BM_ECORRUPT / BM_EUNSUPPORTED. */
BM_EXTERN int bm_age_header_parse(const void *data, size_t len, size_t *header_len,
				  size_t *nstanzas);

#ifdef __cplusplus
}
#endif
#endif
