/* age.c: age v1 file encryption (age-encryption.org/v1): keys, identity sets, the header,
 * the STREAM payload, ASCII armor, and the buffer and fd conveniences over the streams.
 *
 * Decryption reads through a small buffered reader (`rd`); armor is one more reader layered
 * on the raw one, so header parsing and payload decryption never know which they read.
 * Every failure records its class (bm_age_failure) where it is detected. */
#include "bootmeta/age.h"
#include "age_codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#define TAG_LEN crypto_aead_chacha20poly1305_ietf_ABYTES
#define ENC_CHUNK (BM_AGE_CHUNK_SIZE + TAG_LEN)
#define FILE_KEY_LEN 16
#define NONCE_LEN 16
#define HEADER_MAX (1u << 20)      /* bytes of header we accept */
#define LINE_MAX_LEN (32u * 1024)  /* one header line */
#define READ_BUF (ENC_CHUNK + 4096)

static const char age_version_line[] = "age-encryption.org/v1";
static const char armor_begin[] = "-----BEGIN AGE ENCRYPTED FILE-----";
static const char armor_end[] = "-----END AGE ENCRYPTED FILE-----";
static const char x25519_info[] = "age-encryption.org/v1/X25519";
static const char scrypt_label[] = "age-encryption.org/v1/scrypt";

const char *bm_age_failure_name(bm_age_failure failure)
{
	switch (failure) {
	case BM_AGE_FAIL_NONE: return "success";
	case BM_AGE_FAIL_ARMOR: return "armor failure";
	case BM_AGE_FAIL_HEADER: return "header failure";
	case BM_AGE_FAIL_HMAC: return "HMAC failure";
	case BM_AGE_FAIL_NO_MATCH: return "no match";
	case BM_AGE_FAIL_PAYLOAD: return "payload failure";
	case BM_AGE_FAIL_IO: return "i/o failure";
	default: return "failure";
	}
}

/* Record a decryption failure of class `kind` (the first one wins) and set the error. */
static int fail(bm_age_failure *slot, bm_age_failure kind, int code, const char *fmt, ...)
	BM_PRINTF(4, 5);
static int fail(bm_age_failure *slot, bm_age_failure kind, int code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (slot && *slot == BM_AGE_FAIL_NONE)
		*slot = kind;
	return bm_error_set(code, "%s", msg);
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- keys ------------------------------------------------------------------------------ */

/* Trim ASCII whitespace around s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
	while (*len && is_space((unsigned char)s[0])) {
		s++;
		(*len)--;
	}
	while (*len && is_space((unsigned char)s[*len - 1]))
		(*len)--;
	return s;
}

static int parse_recipient(unsigned char pk[32], const char *s, size_t len)
{
	char hrp[64];
	unsigned char data[64];
	size_t n;

	s = trim(s, &len);
	if (len >= 7 && !strncmp(s, "age1pq1", 7))
		return bm_error_set(BM_EUNSUPPORTED, "post-quantum recipients (age1pq1...) are not supported yet; use an X25519 recipient (age1...)");
	if (len >= 4 && (!strncmp(s, "ssh-", 4) || !strncmp(s, "ecdsa-", 6))) {
		bm_error_set(BM_EUNSUPPORTED, "ssh recipients are not supported; use an age X25519 recipient (age1...)");
		return bm_error_set_about(BM_ABOUT_SSH_RECIPIENT, NULL);
	}
	if (age_bech32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, s, len) < 0)
		return bm_error_set(BM_EINVALID, "'%.*s' is not an age recipient (age1... with a valid Bech32 checksum)",
				    (int)(len > 100 ? 100 : len), s);
	if (strcmp(hrp, "age"))
		return bm_error_set(len > 4 && !strncmp(hrp, "age1", 4) ? BM_EUNSUPPORTED : BM_EINVALID,
				    "'%.*s' is not an X25519 age recipient (type '%s'); plugin recipients are not supported",
				    (int)(len > 100 ? 100 : len), s, hrp);
	if (n != 32)
		return bm_error_set(BM_EINVALID, "age recipient '%.*s' holds %zu bytes, not 32", (int)len, s, n);
	memcpy(pk, data, 32);
	return 0;
}

/* Never echoes the text: it may be a secret. */
static int parse_identity(unsigned char sk[32], const char *s, size_t len)
{
	char hrp[64];
	unsigned char data[64];
	size_t n = 0;
	int error = 0;

	s = trim(s, &len);
	if (len >= 18 && !strncmp(s, "AGE-SECRET-KEY-PQ-", 18)) {
		error = bm_error_set(BM_EUNSUPPORTED, "post-quantum identities (AGE-SECRET-KEY-PQ-1...) are not supported yet");
		goto done;
	}
	if (len >= 11 && !strncmp(s, "AGE-PLUGIN-", 11)) {
		error = bm_error_set(BM_EUNSUPPORTED, "age plugin identities (AGE-PLUGIN-...) are not supported");
		goto done;
	}
	if (age_bech32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, s, len) < 0 ||
	    strcmp(hrp, "age-secret-key-") || n != 32) {
		error = bm_error_set(BM_EINVALID, "not an age X25519 identity (AGE-SECRET-KEY-1... with a valid Bech32 checksum)");
		goto done;
	}
	memcpy(sk, data, 32);
done:
	sodium_memzero(data, sizeof(data));
	return error;
}

int bm_age_recipient_check(const char *recipient)
{
	unsigned char pk[32];
	if (!recipient)
		return bm_error_set(BM_EINVALID, "no recipient given");
	return parse_recipient(pk, recipient, strlen(recipient));
}

static int put_recipient(bm_buf *out, const unsigned char pk[32])
{
	char s[128];
	if (age_bech32_encode(s, sizeof(s), "age", pk, 32, 0) < 0)
		return bm_error_set(BM_ERROR, "bech32 encoding failed");
	bm_buf_clear(out);
	return bm_buf_puts(out, s);
}

int bm_age_keygen(bm_buf *identity, bm_buf *recipient)
{
	unsigned char *sk = NULL, pk[32];
	char *s = NULL;
	int error = 0;

	if (!identity || !recipient)
		return bm_error_set(BM_EINVALID, "bm_age_keygen: NULL buffer");
	sk = sodium_malloc(32);
	s = sodium_malloc(128);
	if (!sk || !s) {
		error = bm_error_set(BM_ENOMEM, "out of locked memory for a secret key");
		goto done;
	}
	randombytes_buf(sk, 32);
	if (crypto_scalarmult_base(pk, sk) != 0) {
		error = bm_error_set(BM_ERROR, "X25519 failed");
		goto done;
	}
	if (age_bech32_encode(s, 128, "age-secret-key-", sk, 32, 1) < 0) {
		error = bm_error_set(BM_ERROR, "bech32 encoding failed");
		goto done;
	}
	/* grow once up front so the secret is never left behind by a realloc */
	bm_buf_dispose_secret(identity);
	if ((error = bm_buf_grow(identity, 128)) < 0 || (error = bm_buf_puts(identity, s)) < 0)
		goto done;
	error = put_recipient(recipient, pk);
done:
	sodium_free(sk);
	sodium_free(s);
	return error;
}

int bm_age_recipient_of(bm_buf *recipient, const char *identity)
{
	unsigned char *sk = sodium_malloc(32), pk[32];
	int error;

	if (!sk)
		return bm_error_set(BM_ENOMEM, "out of locked memory for a secret key");
	if (!identity) {
		error = bm_error_set(BM_EINVALID, "no identity given");
		goto done;
	}
	if ((error = parse_identity(sk, identity, strlen(identity))) < 0)
		goto done;
	crypto_scalarmult_base(pk, sk);
	error = put_recipient(recipient, pk);
done:
	sodium_free(sk);
	return error;
}

int bm_age_identity_file_read(bm_buf *out, const char *path)
{
	struct stat st;
	int fd = -1, error = 0;
	size_t want;

	bm_buf_dispose_secret(out);
	if ((error = bm_file_open_read(&fd, path, 0)) < 0) {
		bm_error_prefix(error, "identity file");
		goto done;
	}
	if (fstat(fd, &st) < 0) {
		error = bm_error_set(BM_EIO, "cannot stat identity file %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = bm_error_set(BM_EINVALID, "identity file %s is not a regular file", path);
		goto done;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		error = bm_error_set(BM_EPERM, "permissions %04o for %s are too open: an identity file must be private; chmod 600 %s",
				     (unsigned)(st.st_mode & 07777), path, path);
		goto done;
	}
	if (st.st_size > (1 << 20)) {
		error = bm_error_set(BM_ETOOBIG, "identity file %s is larger than 1 MiB", path);
		goto done;
	}
	want = (size_t)st.st_size;
	/* one allocation with room to notice growth: a realloc would leave secret copies */
	if ((error = bm_buf_grow(out, want + 1)) < 0)
		goto done;
	for (;;) {
		ssize_t n = read(fd, out->ptr + out->size, out->asize - 1 - out->size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = bm_error_set(BM_EIO, "cannot read identity file %s: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		out->size += (size_t)n;
		if (out->size == out->asize - 1) {
			error = bm_error_set(BM_EIO, "identity file %s changed while being read; try again", path);
			goto done;
		}
	}
	out->ptr[out->size] = '\0';
done:
	if (fd >= 0)
		close(fd);
	if (error < 0)
		bm_buf_dispose_secret(out);
	return error;
}

/* ---- identity sets --------------------------------------------------------------------- */

struct bm_age_identities {
	unsigned char *sk;  /* n * 32, sodium_malloc */
	unsigned char *pk;  /* n * 32 */
	size_t n;
	char **pass;        /* each sodium_malloc */
	size_t npass;
	bm_age_passphrase_fn pass_fn;
	void *pass_ctx;
	int max_log2n;
};

int bm_age_identities_new(bm_age_identities **out)
{
	bm_age_identities *ids = calloc(1, sizeof(*ids));
	*out = NULL;
	if (!ids)
		return bm_error_set(BM_ENOMEM, "out of memory");
	ids->max_log2n = BM_AGE_SCRYPT_MAX_LOG2N;
	*out = ids;
	return 0;
}

void bm_age_identities_free(bm_age_identities *ids)
{
	size_t i;
	if (!ids)
		return;
	sodium_free(ids->sk);
	free(ids->pk);
	for (i = 0; i < ids->npass; i++)
		sodium_free(ids->pass[i]);
	free(ids->pass);
	free(ids);
}

size_t bm_age_identities_count(const bm_age_identities *ids)
{
	return ids ? ids->n : 0;
}

void bm_age_identities_set_passphrase_fn(bm_age_identities *ids, bm_age_passphrase_fn fn, void *ctx)
{
	ids->pass_fn = fn;
	ids->pass_ctx = ctx;
}

int bm_age_identities_set_max_work_factor(bm_age_identities *ids, int log2n)
{
	if (log2n < 1 || log2n > 30)
		return bm_error_set(BM_EINVALID, "scrypt work factor bound %d is out of range 1..30", log2n);
	ids->max_log2n = log2n;
	return 0;
}

int bm_age_identities_add_passphrase(bm_age_identities *ids, const char *passphrase)
{
	size_t len = strlen(passphrase);
	char *p, **list;

	list = realloc(ids->pass, (ids->npass + 1) * sizeof(*list));
	if (!list)
		return bm_error_set(BM_ENOMEM, "out of memory");
	ids->pass = list;
	if (!(p = sodium_malloc(len + 1)))
		return bm_error_set(BM_ENOMEM, "out of locked memory for a passphrase");
	memcpy(p, passphrase, len + 1);
	ids->pass[ids->npass++] = p;
	return 0;
}

int bm_age_identities_add_text(bm_age_identities *ids, const char *text)
{
	const char *line = text, *eol;
	size_t count = 0, lineno = 0, k = 0;
	unsigned char *sk = NULL, *pk = NULL;
	int error = 0;

	/* pass 1: count candidate lines; pass 2: parse into new arrays */
	for (line = text; *line; line = eol + (*eol ? 1 : 0)) {
		size_t len;
		const char *s;
		eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		len = (size_t)(eol - line);
		s = trim(line, &len);
		if (len && s[0] != '#')
			count++;
	}
	if (count == 0)
		return bm_error_set(BM_EINVALID, "no identity found (expected lines AGE-SECRET-KEY-1...; '#' starts a comment)");
	sk = sodium_malloc((ids->n + count) * 32);
	pk = malloc((ids->n + count) * 32);
	if (!sk || !pk) {
		error = bm_error_set(BM_ENOMEM, "out of memory for identities");
		goto done;
	}
	if (ids->n) {
		memcpy(sk, ids->sk, ids->n * 32);
		memcpy(pk, ids->pk, ids->n * 32);
	}
	k = ids->n;
	for (line = text; *line; line = eol + (*eol ? 1 : 0)) {
		size_t len;
		const char *s;
		eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		lineno++;
		len = (size_t)(eol - line);
		s = trim(line, &len);
		if (!len || s[0] == '#')
			continue;
		if ((error = parse_identity(sk + k * 32, s, len)) < 0) {
			error = bm_error_prefix(error, "identity line %zu", lineno);
			goto done;
		}
		crypto_scalarmult_base(pk + k * 32, sk + k * 32);
		k++;
	}
	sodium_free(ids->sk);
	free(ids->pk);
	ids->sk = sk;
	ids->pk = pk;
	ids->n = k;
	sk = NULL;
	pk = NULL;
done:
	sodium_free(sk);
	free(pk);
	return error;
}

/* ---- buffered reading ------------------------------------------------------------------ */

typedef int (*fill_fn)(void *ctx, unsigned char *buf, size_t cap, size_t *got);

typedef struct {
	fill_fn fill;
	void *ctx;
	unsigned char *buf;
	size_t cap, pos, len;
	int eof;
} rd;

static int rd_init(rd *r, fill_fn fill, void *ctx, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->fill = fill;
	r->ctx = ctx;
	r->cap = cap;
	if (!(r->buf = malloc(cap)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	return 0;
}

static void rd_dispose(rd *r)
{
	if (r->buf) {
		sodium_memzero(r->buf, r->cap);
		free(r->buf);
	}
	r->buf = NULL;
}

/* Move the unread bytes to the front and read more after them (unless full or at EOF). */
static int rd_fill(rd *r)
{
	size_t got = 0;
	int error;
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == r->cap || r->eof)
		return 0;
	if ((error = r->fill(r->ctx, r->buf + r->len, r->cap - r->len, &got)) < 0)
		return error;
	if (got == 0)
		r->eof = 1;
	r->len += got;
	return 0;
}

/* The next line: *line points into the buffer (valid until the next call) and *n excludes
 * the LF; *lf is 0 when the input ended first (*n == 0 then means no more input). Returns
 * 1 when no LF comes within `max` bytes. */
static int rd_line(rd *r, const unsigned char **line, size_t *n, int *lf, size_t max)
{
	size_t scanned = 0;
	int error;
	for (;;) {
		size_t avail = r->len - r->pos;
		unsigned char *p = avail > scanned ? memchr(r->buf + r->pos + scanned, '\n', avail - scanned) : NULL;
		if (p) {
			*line = r->buf + r->pos;
			*n = (size_t)(p - (r->buf + r->pos));
			*lf = 1;
			r->pos += *n + 1;
			return *n > max ? 1 : 0;
		}
		if (avail > max)
			return 1;
		scanned = avail;
		if (r->eof) {
			*line = r->buf + r->pos;
			*n = avail;
			*lf = 0;
			r->pos += avail;
			return 0;
		}
		if ((error = rd_fill(r)) < 0)
			return error;
	}
}

/* Read up to `n` bytes; *got < n only at the end of the input. */
static int rd_read(rd *r, unsigned char *dst, size_t n, size_t *got)
{
	size_t have = r->len - r->pos, take = have < n ? have : n;
	int error;
	memcpy(dst, r->buf + r->pos, take);
	r->pos += take;
	*got = take;
	while (*got < n && !r->eof) {
		size_t g = 0;
		if ((error = r->fill(r->ctx, dst + *got, n - *got, &g)) < 0)
			return error;
		if (g == 0)
			r->eof = 1;
		*got += g;
	}
	return 0;
}

/* 1 when no byte is left. */
static int rd_at_end(rd *r, int *at_end)
{
	int error;
	if (r->pos == r->len && !r->eof && (error = rd_fill(r)) < 0)
		return error;
	*at_end = r->pos == r->len && r->eof;
	return 0;
}

/* ---- input adapters ---------------------------------------------------------------------- */

struct user_src {
	bm_age_read_fn read;
	void *ctx;
	bm_age_failure *failure;
};

static int user_fill(void *ctx, unsigned char *buf, size_t cap, size_t *got)
{
	struct user_src *u = ctx;
	int error = u->read(u->ctx, buf, cap, got);
	if (error < 0) {
		if (*u->failure == BM_AGE_FAIL_NONE)
			*u->failure = BM_AGE_FAIL_IO;
		return error;
	}
	if (*got > cap)
		return fail(u->failure, BM_AGE_FAIL_IO, BM_ERROR, "read callback returned more than asked");
	return 0;
}

struct mem_src {
	const unsigned char *p;
	size_t len, pos;
};

static int mem_read(void *ctx, void *buf, size_t cap, size_t *got)
{
	struct mem_src *m = ctx;
	size_t n = m->len - m->pos;
	if (n > cap)
		n = cap;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	*got = n;
	return 0;
}

int bm_age_fd_read(void *ctx, void *buf, size_t cap, size_t *got)
{
	int fd = *(int *)ctx;
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bm_error_set(BM_EIO, "cannot read the input: %s", strerror(errno));
		*got = (size_t)n;
		return 0;
	}
}

int bm_age_fd_write(void *ctx, const void *data, size_t len)
{
	int fd = *(int *)ctx;
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bm_error_set(BM_EIO, "cannot write the output: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int buf_write(void *ctx, const void *data, size_t len)
{
	return bm_buf_put(ctx, data, len);
}

/* ---- armor (decoding) ------------------------------------------------------------------ */

typedef struct {
	rd *raw;
	bm_age_failure *failure;
	int state;          /* 0 before BEGIN, 1 in the body, 2 after END */
	int final_seen;     /* a short or padded line: END must follow */
	unsigned char pend[48];
	size_t ppos, plen;
} armor_src;

static int armor_fail(armor_src *a, const char *what)
{
	return fail(a->failure, BM_AGE_FAIL_ARMOR, BM_ECORRUPT, "invalid age armor: %s", what);
}

/* Skip whitespace before BEGIN or after END; *end is set when the input ends. */
static int armor_skip_space(rd *r, int *end)
{
	int error;
	for (;;) {
		while (r->pos < r->len && is_space(r->buf[r->pos]))
			r->pos++;
		if (r->pos < r->len) {
			*end = 0;
			return 0;
		}
		if (r->eof) {
			*end = 1;
			return 0;
		}
		if ((error = rd_fill(r)) < 0)
			return error;
	}
}

static int armor_line_is(const unsigned char *line, size_t n, const char *marker)
{
	size_t m = strlen(marker);
	return n == m && !memcmp(line, marker, m);
}

static int armor_fill(void *ctx, unsigned char *buf, size_t cap, size_t *got)
{
	armor_src *a = ctx;
	const unsigned char *line = NULL;
	size_t n = 0, dec = 0;
	int lf = 0, error, end;

	*got = 0;
	if (a->state == 0) {
		if ((error = armor_skip_space(a->raw, &end)) < 0)
			return error;
		if (end)
			return armor_fail(a, "the input is empty");
		if ((error = rd_line(a->raw, &line, &n, &lf, 128)) < 0)
			return error;
		if (error == 1 || !lf)
			return armor_fail(a, "no '-----BEGIN AGE ENCRYPTED FILE-----' line");
		if (n && line[n - 1] == '\r')
			n--;
		if (!armor_line_is(line, n, armor_begin))
			return armor_fail(a, "the first line is not '-----BEGIN AGE ENCRYPTED FILE-----'");
		a->state = 1;
	}
	while (*got < cap) {
		if (a->ppos < a->plen) {
			size_t take = a->plen - a->ppos;
			if (take > cap - *got)
				take = cap - *got;
			memcpy(buf + *got, a->pend + a->ppos, take);
			a->ppos += take;
			*got += take;
			continue;
		}
		if (a->state == 2)
			break;
		if ((error = rd_line(a->raw, &line, &n, &lf, 66)) < 0)
			return error;
		if (error == 1)
			return armor_fail(a, "a line is longer than 64 columns");
		if (!lf && n == 0)
			return armor_fail(a, "no '-----END AGE ENCRYPTED FILE-----' line (truncated?)");
		if (n && line[n - 1] == '\r')
			n--;
		if (armor_line_is(line, n, armor_end)) {
			if ((error = armor_skip_space(a->raw, &end)) < 0)
				return error;
			if (!end)
				return armor_fail(a, "data after the END line");
			a->state = 2;
			break;
		}
		if (!lf)
			return armor_fail(a, "no '-----END AGE ENCRYPTED FILE-----' line (truncated?)");
		if (a->final_seen)
			return armor_fail(a, "a line follows the last (short or padded) line");
		if (n == 0)
			return armor_fail(a, "an empty line");
		if (n > 64)
			return armor_fail(a, "a line is longer than 64 columns");
		if (n % 4)
			return armor_fail(a, "a line's length is not a multiple of 4 (base64 padding missing?)");
		if (n < 64 || line[n - 1] == '=')
			a->final_seen = 1;
		if (cap - *got >= 48) {
			if (age_b64_decode_padded(buf + *got, 48, &dec, (const char *)line, n) < 0)
				return armor_fail(a, "invalid or non-canonical base64");
			*got += dec;
		} else {
			if (age_b64_decode_padded(a->pend, 48, &dec, (const char *)line, n) < 0)
				return armor_fail(a, "invalid or non-canonical base64");
			a->ppos = 0;
			a->plen = dec;
		}
	}
	return 0;
}

/* 1 when the buffered input starts, after whitespace, with "-----BEGIN". */
static int looks_armored(rd *r, int *yes)
{
	static const char pfx[] = "-----BEGIN";
	size_t i;
	int error;
	while (r->len - r->pos < 1024 + sizeof(pfx) && !r->eof && r->len < r->cap)
		if ((error = rd_fill(r)) < 0)
			return error;
	i = r->pos;
	while (i < r->len && is_space(r->buf[i]))
		i++;
	*yes = r->len - i >= sizeof(pfx) - 1 && !memcmp(r->buf + i, pfx, sizeof(pfx) - 1);
	return 0;
}

int bm_age_armor_decode(bm_buf *out, const void *text, size_t len)
{
	struct mem_src m = { text, len, 0 };
	bm_age_failure failure = BM_AGE_FAIL_NONE;
	struct user_src u = { mem_read, &m, &failure };
	armor_src a;
	rd raw = { 0 };
	unsigned char tmp[4096];
	size_t got;
	int error;

	bm_buf_clear(out);
	memset(&a, 0, sizeof(a));
	if ((error = rd_init(&raw, user_fill, &u, 4096)) < 0)
		return error;
	a.raw = &raw;
	a.failure = &failure;
	do {
		if ((error = armor_fill(&a, tmp, sizeof(tmp), &got)) < 0)
			goto done;
		if ((error = bm_buf_put(out, tmp, got)) < 0)
			goto done;
	} while (got);
done:
	rd_dispose(&raw);
	return error;
}

/* ---- header ------------------------------------------------------------------------------ */

typedef struct {
	char **args;            /* args[0] is the type */
	size_t nargs;
	unsigned char *body;
	size_t bodylen;
} stanza;

typedef struct {
	stanza *st;
	size_t n;
	unsigned char mac[32];
	bm_buf raw;             /* the header up to and including "---": the MAC's input */
} header;

static void header_dispose(header *h)
{
	size_t i, j;
	for (i = 0; i < h->n; i++) {
		for (j = 0; j < h->st[i].nargs; j++)
			free(h->st[i].args[j]);
		free(h->st[i].args);
		free(h->st[i].body);
	}
	free(h->st);
	bm_buf_dispose(&h->raw);
	memset(h, 0, sizeof(*h));
}

#define HFAIL(...) do { error = fail(failure, BM_AGE_FAIL_HEADER, BM_ECORRUPT, __VA_ARGS__); goto done; } while (0)

static int stanza_parse_args(stanza *s, const unsigned char *p, size_t n, bm_age_failure *failure)
{
	size_t i = 0, start;
	int error = 0;
	while (i <= n) {
		char **args;
		start = i;
		while (i < n && p[i] != ' ') {
			if (p[i] < 0x21 || p[i] > 0x7e)
				HFAIL("invalid age header: a stanza argument has an invalid character");
			i++;
		}
		if (i == start)
			HFAIL("invalid age header: a stanza has an empty argument");
		if (!(args = realloc(s->args, (s->nargs + 1) * sizeof(*args))))
			return bm_error_set(BM_ENOMEM, "out of memory");
		s->args = args;
		if (!(s->args[s->nargs] = strndup((const char *)p + start, i - start)))
			return bm_error_set(BM_ENOMEM, "out of memory");
		s->nargs++;
		i++; /* the space, or past the end */
	}
done:
	return error;
}

/* Read the header from `in`: version line, stanzas, MAC line. */
static int header_read(header *h, rd *in, bm_age_failure *failure)
{
	const unsigned char *line = NULL;
	size_t n = 0;
	int lf = 0, error = 0;
	bm_buf body = BM_BUF_INIT;

	if ((error = rd_line(in, &line, &n, &lf, 256)) < 0)
		goto done;
	if (error == 1 || !lf || n != sizeof(age_version_line) - 1 || memcmp(line, age_version_line, n)) {
		if (error != 1 && n > 19 && !memcmp(line, "age-encryption.org/", 19))
			error = fail(failure, BM_AGE_FAIL_HEADER, BM_EUNSUPPORTED,
				     "unsupported age format version '%.*s'; this bootmeta reads age-encryption.org/v1",
				     (int)(n > 64 ? 64 : n), line);
		else if (error != 1 && !lf && n == 0)
			error = fail(failure, BM_AGE_FAIL_HEADER, BM_ECORRUPT, "the input is empty: not an age file");
		else
			error = fail(failure, BM_AGE_FAIL_HEADER, BM_ECORRUPT,
				     "not an age file: it does not start with 'age-encryption.org/v1'");
		goto done;
	}
	if ((error = bm_buf_put(&h->raw, line, n + 1)) < 0)
		goto done;
	for (;;) {
		stanza *s, *grown;
		if ((error = rd_line(in, &line, &n, &lf, LINE_MAX_LEN)) < 0)
			goto done;
		if (error == 1)
			HFAIL("invalid age header: a line is longer than %u bytes", LINE_MAX_LEN);
		if (!lf)
			HFAIL("invalid age header: truncated before the MAC line ('--- ...')");
		if (h->raw.size + n + 1 > HEADER_MAX)
			HFAIL("age header larger than %u bytes", HEADER_MAX);
		if (n >= 3 && !memcmp(line, "---", 3)) {
			size_t maclen = 0;
			if (h->n == 0)
				HFAIL("invalid age header: no recipient stanza");
			if (n != 4 + 43 || line[3] != ' ' ||
			    age_b64_decode_raw(h->mac, sizeof(h->mac), &maclen, (const char *)line + 4, 43) < 0 ||
			    maclen != 32)
				HFAIL("invalid age header: malformed MAC line");
			if ((error = bm_buf_put(&h->raw, "---", 3)) < 0)
				goto done;
			break;
		}
		if (n < 3 || memcmp(line, "-> ", 3))
			HFAIL("invalid age header: a line starts with neither '-> ' nor '--- '");
		if (!(grown = realloc(h->st, (h->n + 1) * sizeof(*h->st)))) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		h->st = grown;
		s = &h->st[h->n++];
		memset(s, 0, sizeof(*s));
		if ((error = bm_buf_put(&h->raw, line, n + 1)) < 0)
			goto done;
		if ((error = stanza_parse_args(s, line + 3, n - 3, failure)) < 0)
			goto done;
		bm_buf_clear(&body);
		for (;;) {
			size_t i;
			if ((error = rd_line(in, &line, &n, &lf, LINE_MAX_LEN)) < 0)
				goto done;
			if (error == 1 || n > 64)
				HFAIL("invalid age header: a stanza body line is longer than 64 columns");
			if (!lf)
				HFAIL("invalid age header: truncated inside a stanza");
			for (i = 0; i < n; i++)
				if (!age_b64_is_char(line[i]))
					HFAIL("invalid age header: a stanza body has a character outside base64");
			if (h->raw.size + n + 1 > HEADER_MAX)
				HFAIL("age header larger than %u bytes", HEADER_MAX);
			if ((error = bm_buf_put(&h->raw, line, n + 1)) < 0 ||
			    (error = bm_buf_put(&body, line, n)) < 0)
				goto done;
			if (n < 64)
				break;
		}
		s->body = malloc(body.size / 4 * 3 + 3);
		if (!s->body) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		if (age_b64_decode_raw(s->body, body.size / 4 * 3 + 3, &s->bodylen, body.ptr ? body.ptr : "", body.size) < 0)
			HFAIL("invalid age header: a stanza body is not canonical base64");
	}
done:
	bm_buf_dispose(&body);
	return error;
}

int bm_age_header_parse(const void *data, size_t len, size_t *header_len, size_t *nstanzas)
{
	struct mem_src m = { data, len, 0 };
	bm_age_failure failure = BM_AGE_FAIL_NONE;
	struct user_src u = { mem_read, &m, &failure };
	header h;
	rd r = { 0 };
	int error;

	memset(&h, 0, sizeof(h));
	if ((error = rd_init(&r, user_fill, &u, READ_BUF)) < 0)
		return error;
	if ((error = header_read(&h, &r, &failure)) < 0)
		goto done;
	if (header_len)
		*header_len = m.pos - (r.len - r.pos);
	if (nstanzas)
		*nstanzas = h.n;
done:
	header_dispose(&h);
	rd_dispose(&r);
	return error;
}

/* ---- unwrapping the file key --------------------------------------------------------------- */

/* Secrets of one operation, in one sodium_malloc block. */
typedef struct {
	unsigned char file_key[FILE_KEY_LEN];
	unsigned char payload_key[32];
	unsigned char wrap_key[32];
	unsigned char shared[32];
	unsigned char mac[32];
	unsigned char body[32];
} secrets;

static const unsigned char zero_nonce[12];

/* 0 and the file key when the body opens under wrap_key; 1 when it does not. */
static int open_body(secrets *sec, const stanza *s)
{
	if (crypto_aead_chacha20poly1305_ietf_decrypt(sec->file_key, NULL, NULL, s->body, s->bodylen,
						      NULL, 0, zero_nonce, sec->wrap_key) != 0)
		return 1;
	return 0;
}

static int decode_arg(unsigned char *out, size_t want, const char *arg)
{
	size_t n;
	return age_b64_decode_raw(out, want, &n, arg, strlen(arg)) == 0 && n == want ? 0 : -1;
}

/* 0: opened; 1: not ours; < 0: malformed. */
static int unwrap_x25519(secrets *sec, const stanza *s, const bm_age_identities *ids,
			 bm_age_failure *failure)
{
	unsigned char share[32], salt[64];
	size_t i;
	int error = 1;

	if (s->nargs != 2 || decode_arg(share, 32, s->args[1]) < 0)
		HFAIL("invalid age header: an X25519 stanza needs one argument, the canonical base64 of 32 bytes");
	if (s->bodylen != 32)
		HFAIL("invalid age header: an X25519 stanza body must be 32 bytes, it is %zu", s->bodylen);
	for (i = 0; ids && i < ids->n; i++) {
		if (crypto_scalarmult(sec->shared, ids->sk + i * 32, share) != 0)
			HFAIL("invalid age header: an X25519 stanza's share is a low-order point");
		memcpy(salt, share, 32);
		memcpy(salt + 32, ids->pk + i * 32, 32);
		age_hkdf(sec->wrap_key, salt, sizeof(salt), sec->shared, 32, x25519_info);
		if (open_body(sec, s) == 0) {
			error = 0;
			goto done;
		}
	}
done:
	return error;
}

static int parse_log2n(const char *s, int max, int *out, bm_age_failure *failure)
{
	size_t i, n = strlen(s);
	int error = 0, v = 0;
	if (n == 0 || s[0] < '1' || s[0] > '9')
		HFAIL("invalid age header: the scrypt work factor '%.16s' is not a decimal number without leading zeros", s);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			HFAIL("invalid age header: the scrypt work factor '%.16s' is not a decimal number", s);
		if (v > 1000) /* keeps v small; anything this large is over the bound */
			continue;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max) {
		error = fail(failure, BM_AGE_FAIL_HEADER, BM_ETOOBIG,
			     "the file's scrypt work factor 2^%s is over the limit 2^%d (it would take very long and much memory); "
			     "if you trust the file, raise the bound", v > 1000 ? ">1000" : s, max);
		goto done;
	}
	*out = v;
done:
	return error;
}

static int unwrap_scrypt(secrets *sec, const stanza *s, const bm_age_identities *ids,
			 bm_buf *asked, int *had_passphrase, bm_age_failure *failure)
{
	unsigned char salt[sizeof(scrypt_label) - 1 + 16];
	const size_t lablen = sizeof(scrypt_label) - 1;
	size_t i;
	int error = 1, log2n = 0;

	if (s->nargs != 3 || decode_arg(salt + lablen, 16, s->args[1]) < 0)
		HFAIL("invalid age header: an scrypt stanza needs two arguments, a 16-byte salt in canonical base64 and the work factor");
	if ((error = parse_log2n(s->args[2], ids ? ids->max_log2n : BM_AGE_SCRYPT_MAX_LOG2N, &log2n, failure)) < 0)
		goto done;
	if (s->bodylen != 32)
		HFAIL("invalid age header: an scrypt stanza body must be 32 bytes, it is %zu", s->bodylen);
	memcpy(salt, scrypt_label, lablen);
	error = 1;
	if (ids && ids->npass == 0 && ids->pass_fn && asked->size == 0) {
		bm_buf_dispose_secret(asked);
		if ((error = bm_buf_grow(asked, 1024)) < 0)
			goto done;
		if ((error = ids->pass_fn(asked, ids->pass_ctx)) < 0) {
			if (*failure == BM_AGE_FAIL_NONE)
				*failure = BM_AGE_FAIL_OTHER;
			goto done;
		}
		error = 1;
	}
	for (i = 0; ids && i < ids->npass + (asked->size ? 1 : 0); i++) {
		const char *p = i < ids->npass ? ids->pass[i] : asked->ptr;
		*had_passphrase = 1;
		if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)p, strlen(p), salt, sizeof(salt),
							  (uint64_t)1 << log2n, 8, 1, sec->wrap_key, 32) != 0) {
			error = fail(failure, BM_AGE_FAIL_OTHER, BM_ENOMEM,
				     "scrypt with work factor 2^%d failed (out of memory?)", log2n);
			goto done;
		}
		if (open_body(sec, s) == 0) {
			error = 0;
			goto done;
		}
	}
done:
	return error;
}

static int unwrap(secrets *sec, const header *h, const bm_age_identities *ids, bm_age_failure *failure)
{
	bm_buf asked = BM_BUF_INIT;
	size_t i, nx = 0, nscrypt = 0;
	int error = 0, had_pass = 0;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->st[i].args[0], "scrypt"))
			nscrypt++;
	if (nscrypt && h->n != 1)
		HFAIL("invalid age header: an scrypt stanza must be the only stanza of a file");
	for (i = 0; i < h->n; i++) {
		const stanza *s = &h->st[i];
		if (!strcmp(s->args[0], "X25519")) {
			nx++;
			error = unwrap_x25519(sec, s, ids, failure);
		} else if (!strcmp(s->args[0], "scrypt")) {
			error = unwrap_scrypt(sec, s, ids, &asked, &had_pass, failure);
		} else {
			continue; /* other recipient types: not ours */
		}
		if (error <= 0)
			goto done;
	}
	if (nscrypt && !had_pass)
		error = fail(failure, BM_AGE_FAIL_NO_MATCH, BM_ENORECIPIENT,
			     "the file is encrypted with a passphrase; give the passphrase instead of identities");
	else if (nscrypt)
		error = fail(failure, BM_AGE_FAIL_NO_MATCH, BM_ENORECIPIENT,
			     "wrong passphrase: it does not decrypt the file");
	else if (!ids || ids->n == 0)
		error = fail(failure, BM_AGE_FAIL_NO_MATCH, BM_ENORECIPIENT,
			     "no identity given to decrypt with");
	else
		error = fail(failure, BM_AGE_FAIL_NO_MATCH, BM_ENORECIPIENT,
			     "no identity matched: %zu identit%s given, none opens any of the file's %zu recipient stanza%s "
			     "(%zu X25519); use the identity whose recipient the file was encrypted to",
			     ids->n, ids->n == 1 ? "y" : "ies", h->n, h->n == 1 ? "" : "s", nx);
done:
	bm_buf_dispose_secret(&asked);
	return error;
}

/* ---- decryption ------------------------------------------------------------------------------- */

static void stream_nonce(unsigned char nonce[12], uint64_t counter, int last)
{
	int i;
	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (unsigned char)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

#define PFAIL(...) do { error = fail(failure, BM_AGE_FAIL_PAYLOAD, BM_EVERIFY, __VA_ARGS__); goto done; } while (0)

static int decrypt_payload(rd *in, const secrets *sec, bm_age_write_fn wr, void *wctx,
			   bm_age_failure *failure)
{
	unsigned char *ct = malloc(ENC_CHUNK), *pt = malloc(BM_AGE_CHUNK_SIZE), nonce[12];
	uint64_t counter = 0;
	int error = 0;

	if (!ct || !pt) {
		error = fail(failure, BM_AGE_FAIL_OTHER, BM_ENOMEM, "out of memory");
		goto done;
	}
	for (;;) {
		size_t got = 0, plen;
		int at_end;

		if ((error = rd_read(in, ct, ENC_CHUNK, &got)) < 0)
			goto done;
		if (got < TAG_LEN) {
			if (counter == 0 && got == 0)
				PFAIL("the age file is truncated: it has no payload");
			PFAIL("the age file is truncated: the payload ends without a final chunk");
		}
		plen = got - TAG_LEN;
		if (got == ENC_CHUNK) {
			/* a full chunk is the last one only if it says so */
			stream_nonce(nonce, counter, 0);
			if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(pt, NULL, ct, plen, ct + plen,
									       NULL, 0, nonce, sec->payload_key) == 0) {
				if ((error = wr(wctx, pt, plen)) < 0)
					goto io;
				if (++counter == 0)
					PFAIL("the age payload has too many chunks");
				continue;
			}
		}
		stream_nonce(nonce, counter, 1);
		if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(pt, NULL, ct, plen, ct + plen,
								       NULL, 0, nonce, sec->payload_key) != 0)
			PFAIL("payload chunk %llu does not authenticate: the age file was corrupted, truncated or tampered with",
			      (unsigned long long)counter);
		if (plen == 0 && counter > 0)
			PFAIL("the age payload ends with an empty final chunk, which is invalid");
		/* as age does, the final chunk is released before looking for trailing data */
		if ((error = wr(wctx, pt, plen)) < 0)
			goto io;
		if ((error = rd_at_end(in, &at_end)) < 0)
			goto done;
		if (!at_end)
			PFAIL("the age file has data after the end of its payload");
		break;
	}
	goto done;
io:
	if (*failure == BM_AGE_FAIL_NONE)
		*failure = BM_AGE_FAIL_IO;
done:
	if (pt) {
		sodium_memzero(pt, BM_AGE_CHUNK_SIZE);
		free(pt);
	}
	free(ct);
	return error;
}

int bm_age_decrypt_stream(bm_age_write_fn write, void *write_ctx,
			  bm_age_read_fn read, void *read_ctx,
			  const bm_age_identities *ids, bm_age_armor_mode armor,
			  bm_age_failure *failure_out)
{
	bm_age_failure failure_local = BM_AGE_FAIL_NONE, *failure = &failure_local;
	struct user_src u = { read, read_ctx, &failure_local };
	armor_src a;
	rd raw = { 0 }, dearmored = { 0 }, *in = &raw;
	secrets *sec = NULL;
	header h;
	unsigned char nonce[NONCE_LEN];
	size_t got;
	int error, armored = armor == BM_AGE_ARMOR_YES;

	memset(&h, 0, sizeof(h));
	memset(&a, 0, sizeof(a));
	if (!write || !read) {
		error = fail(failure, BM_AGE_FAIL_OTHER, BM_EINVALID, "bm_age_decrypt_stream: no read or write function");
		goto done;
	}
	if (!(sec = sodium_malloc(sizeof(*sec)))) {
		error = fail(failure, BM_AGE_FAIL_OTHER, BM_ENOMEM, "out of locked memory for keys");
		goto done;
	}
	if ((error = rd_init(&raw, user_fill, &u, READ_BUF)) < 0)
		goto done;
	if (armor == BM_AGE_ARMOR_AUTO && (error = looks_armored(&raw, &armored)) < 0)
		goto done;
	if (armored) {
		a.raw = &raw;
		a.failure = failure;
		if ((error = rd_init(&dearmored, armor_fill, &a, READ_BUF)) < 0)
			goto done;
		in = &dearmored;
	}
	if ((error = header_read(&h, in, failure)) < 0)
		goto done;
	if ((error = unwrap(sec, &h, ids, failure)) < 0)
		goto done;
	age_hkdf(sec->wrap_key, NULL, 0, sec->file_key, FILE_KEY_LEN, "header");
	crypto_auth_hmacsha256(sec->mac, (const unsigned char *)h.raw.ptr, h.raw.size, sec->wrap_key);
	if (crypto_verify_32(sec->mac, h.mac) != 0) {
		error = fail(failure, BM_AGE_FAIL_HMAC, BM_EVERIFY,
			     "the age header's MAC does not verify: the file was tampered with or corrupted");
		goto done;
	}
	if ((error = rd_read(in, nonce, NONCE_LEN, &got)) < 0)
		goto done;
	if (got < NONCE_LEN) {
		error = fail(failure, BM_AGE_FAIL_HEADER, BM_ECORRUPT,
			     "the age file is truncated: it ends before the payload nonce");
		goto done;
	}
	age_hkdf(sec->payload_key, nonce, NONCE_LEN, sec->file_key, FILE_KEY_LEN, "payload");
	error = decrypt_payload(in, sec, write, write_ctx, failure);
done:
	if (error < 0 && failure_local == BM_AGE_FAIL_NONE)
		failure_local = BM_AGE_FAIL_OTHER;
	if (failure_out)
		*failure_out = error < 0 ? failure_local : BM_AGE_FAIL_NONE;
	header_dispose(&h);
	rd_dispose(&dearmored);
	rd_dispose(&raw);
	sodium_free(sec);
	return error;
}

int bm_age_decrypt_buf_ex(bm_buf *out, const void *ciphertext, size_t len,
			  const bm_age_identities *ids, bm_age_failure *failure)
{
	struct mem_src m = { ciphertext, len, 0 };
	int error;

	bm_buf_dispose_secret(out);
	/* room for the plaintext up front: growing by realloc would leave plaintext behind */
	if (len > 200 && (error = bm_buf_grow(out, len)) < 0)
		return error;
	error = bm_age_decrypt_stream(buf_write, out, mem_read, &m, ids, BM_AGE_ARMOR_AUTO, failure);
	if (error < 0)
		bm_buf_dispose_secret(out);
	return error;
}

int bm_age_decrypt_buf(bm_buf *out, const void *ciphertext, size_t len, const char *identities_text)
{
	bm_age_identities *ids = NULL;
	int error;

	if ((error = bm_age_identities_new(&ids)) < 0)
		return error;
	if (identities_text && (error = bm_age_identities_add_text(ids, identities_text)) < 0)
		goto done;
	error = bm_age_decrypt_buf_ex(out, ciphertext, len, ids, NULL);
done:
	bm_age_identities_free(ids);
	return error;
}

int bm_age_decrypt_fd(int out_fd, int in_fd, const bm_age_identities *ids, bm_age_failure *failure)
{
	return bm_age_decrypt_stream(bm_age_fd_write, &out_fd, bm_age_fd_read, &in_fd, ids, BM_AGE_ARMOR_AUTO, failure);
}

/* ---- encryption ------------------------------------------------------------------------------- */

struct bm_age_encryptor {
	bm_age_write_fn write;
	void *wctx;
	int armor;
	unsigned char apend[48];  /* armor: bytes not yet on a line */
	size_t apend_len;
	char *aout;               /* armor: encoded lines waiting to be written */
	size_t aout_len;
	unsigned char *pt;        /* plaintext of the current chunk */
	size_t pt_len;
	unsigned char *ct;
	secrets *sec;
	uint64_t counter;
	int failed, finished;
};

#define ARMOR_OUT_CAP (1024 * 65)  /* 1024 lines of 64 columns + LF */

static int armor_flush(bm_age_encryptor *e)
{
	int error = 0;
	if (e->aout_len)
		error = e->write(e->wctx, e->aout, e->aout_len);
	e->aout_len = 0;
	return error;
}

/* Everything the encryptor emits goes through here (armored or not). */
static int enc_emit(bm_age_encryptor *e, const unsigned char *p, size_t n)
{
	int error;
	if (!e->armor)
		return e->write(e->wctx, p, n);
	while (n) {
		if (e->apend_len || n < 48) {
			size_t take = 48 - e->apend_len < n ? 48 - e->apend_len : n;
			memcpy(e->apend + e->apend_len, p, take);
			e->apend_len += take;
			p += take;
			n -= take;
			if (e->apend_len < 48)
				break;
			age_b64_encode_padded(e->aout + e->aout_len, e->apend, 48);
			e->aout_len += 64;
			e->aout[e->aout_len++] = '\n';
			e->apend_len = 0;
		} else {
			age_b64_encode_padded(e->aout + e->aout_len, p, 48);
			e->aout_len += 64;
			e->aout[e->aout_len++] = '\n';
			p += 48;
			n -= 48;
		}
		if (e->aout_len + 65 > ARMOR_OUT_CAP && (error = armor_flush(e)) < 0)
			return error;
	}
	return 0;
}

static int enc_seal(bm_age_encryptor *e, const unsigned char *pt, size_t len, int last)
{
	unsigned char nonce[12];
	int error;
	stream_nonce(nonce, e->counter, last);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(e->ct, e->ct + len, NULL, pt, len, NULL, 0,
							   NULL, nonce, e->sec->payload_key);
	if ((error = enc_emit(e, e->ct, len + TAG_LEN)) < 0)
		return error;
	if (++e->counter == 0)
		return bm_error_set(BM_ETOOBIG, "too much data for one age file");
	return 0;
}

static int enc_start(bm_age_encryptor **out, int armor, bm_age_write_fn wr, void *wctx)
{
	bm_age_encryptor *e = calloc(1, sizeof(*e));
	*out = NULL;
	if (!e)
		return bm_error_set(BM_ENOMEM, "out of memory");
	e->write = wr;
	e->wctx = wctx;
	e->armor = armor != 0;
	e->pt = malloc(BM_AGE_CHUNK_SIZE);
	e->ct = malloc(ENC_CHUNK);
	e->sec = sodium_malloc(sizeof(*e->sec));
	if (e->armor)
		e->aout = malloc(ARMOR_OUT_CAP + 128); /* + the last line and END */
	if (!e->pt || !e->ct || !e->sec || (e->armor && !e->aout)) {
		bm_age_encryptor_free(e);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	randombytes_buf(e->sec->file_key, FILE_KEY_LEN);
	*out = e;
	return 0;
}

/* Finish the header in `hdr` (stanzas already there): MAC, nonce; emit it. */
static int enc_header(bm_age_encryptor *e, bm_buf *hdr)
{
	unsigned char nonce[NONCE_LEN];
	char mac_b64[48];
	int error;

	if ((error = bm_buf_puts(hdr, "---")) < 0)
		return error;
	age_hkdf(e->sec->wrap_key, NULL, 0, e->sec->file_key, FILE_KEY_LEN, "header");
	crypto_auth_hmacsha256(e->sec->mac, (const unsigned char *)hdr->ptr, hdr->size, e->sec->wrap_key);
	age_b64_encode_raw(mac_b64, e->sec->mac, 32);
	if ((error = bm_buf_printf(hdr, " %s\n", mac_b64)) < 0)
		return error;
	randombytes_buf(nonce, NONCE_LEN);
	if ((error = bm_buf_put(hdr, nonce, NONCE_LEN)) < 0)
		return error;
	age_hkdf(e->sec->payload_key, nonce, NONCE_LEN, e->sec->file_key, FILE_KEY_LEN, "payload");
	if (e->armor) {
		char line[sizeof(armor_begin) + 1];
		snprintf(line, sizeof(line), "%s\n", armor_begin);
		if ((error = e->write(e->wctx, line, strlen(line))) < 0)
			return error;
	}
	return enc_emit(e, (const unsigned char *)hdr->ptr, hdr->size);
}

/* Append one stanza whose body is the file key sealed under sec->wrap_key. */
static int enc_stanza(bm_age_encryptor *e, bm_buf *hdr, const char *args)
{
	char body_b64[48];
	crypto_aead_chacha20poly1305_ietf_encrypt(e->sec->body, NULL, e->sec->file_key, FILE_KEY_LEN,
						  NULL, 0, NULL, zero_nonce, e->sec->wrap_key);
	age_b64_encode_raw(body_b64, e->sec->body, 32);
	return bm_buf_printf(hdr, "-> %s\n%s\n", args, body_b64);
}

int bm_age_encryptor_new(bm_age_encryptor **out, const char *const *recipients, size_t nrecipients,
			 int armor, bm_age_write_fn write, void *write_ctx)
{
	bm_age_encryptor *e = NULL;
	bm_buf hdr = BM_BUF_INIT;
	unsigned char (*pks)[32] = NULL, esk[32], share[32], salt[64];
	size_t i;
	int error;

	*out = NULL;
	if (!write)
		return bm_error_set(BM_EINVALID, "bm_age_encryptor_new: no write function");
	if (!recipients || nrecipients == 0)
		return bm_error_set(BM_EINVALID, "no recipient given: age needs at least one recipient (age1...)");
	if (!(pks = malloc(nrecipients * sizeof(*pks))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	for (i = 0; i < nrecipients; i++)
		if ((error = parse_recipient(pks[i], recipients[i], strlen(recipients[i]))) < 0)
			goto done;
	if ((error = enc_start(&e, armor, write, write_ctx)) < 0)
		goto done;
	if ((error = bm_buf_printf(&hdr, "%s\n", age_version_line)) < 0)
		goto done;
	for (i = 0; i < nrecipients; i++) {
		char args[80];
		randombytes_buf(esk, sizeof(esk));
		crypto_scalarmult_base(share, esk);
		if (crypto_scalarmult(e->sec->shared, esk, pks[i]) != 0) {
			error = bm_error_set(BM_EINVALID, "recipient %s is not a usable X25519 key (low-order point)", recipients[i]);
			goto done;
		}
		memcpy(salt, share, 32);
		memcpy(salt + 32, pks[i], 32);
		age_hkdf(e->sec->wrap_key, salt, sizeof(salt), e->sec->shared, 32, x25519_info);
		memcpy(args, "X25519 ", 7);
		age_b64_encode_raw(args + 7, share, 32);
		if ((error = enc_stanza(e, &hdr, args)) < 0)
			goto done;
	}
	if ((error = enc_header(e, &hdr)) < 0)
		goto done;
	*out = e;
	e = NULL;
done:
	sodium_memzero(esk, sizeof(esk));
	bm_age_encryptor_free(e);
	bm_buf_dispose(&hdr);
	free(pks);
	return error;
}

int bm_age_encryptor_new_passphrase(bm_age_encryptor **out, const char *passphrase, int log2n,
				    int armor, bm_age_write_fn write, void *write_ctx)
{
	bm_age_encryptor *e = NULL;
	bm_buf hdr = BM_BUF_INIT;
	unsigned char salt[sizeof(scrypt_label) - 1 + 16];
	const size_t lablen = sizeof(scrypt_label) - 1;
	char args[64];
	int error;

	*out = NULL;
	if (!write)
		return bm_error_set(BM_EINVALID, "bm_age_encryptor_new_passphrase: no write function");
	if (!passphrase || !*passphrase)
		return bm_error_set(BM_EINVALID, "the passphrase is empty");
	if (log2n == 0)
		log2n = BM_AGE_SCRYPT_DEFAULT_LOG2N;
	if (log2n < 1 || log2n > 30)
		return bm_error_set(BM_EINVALID, "scrypt work factor %d is out of range 1..30", log2n);
	if ((error = enc_start(&e, armor, write, write_ctx)) < 0)
		goto done;
	memcpy(salt, scrypt_label, lablen);
	randombytes_buf(salt + lablen, 16);
	if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)passphrase, strlen(passphrase), salt,
						  sizeof(salt), (uint64_t)1 << log2n, 8, 1,
						  e->sec->wrap_key, 32) != 0) {
		error = bm_error_set(BM_ENOMEM, "scrypt with work factor 2^%d failed (out of memory?)", log2n);
		goto done;
	}
	memcpy(args, "scrypt ", 7);
	age_b64_encode_raw(args + 7, salt + lablen, 16);
	snprintf(args + strlen(args), sizeof(args) - strlen(args), " %d", log2n);
	if ((error = bm_buf_printf(&hdr, "%s\n", age_version_line)) < 0 ||
	    (error = enc_stanza(e, &hdr, args)) < 0 ||
	    (error = enc_header(e, &hdr)) < 0)
		goto done;
	*out = e;
	e = NULL;
done:
	bm_age_encryptor_free(e);
	bm_buf_dispose(&hdr);
	return error;
}

int bm_age_encryptor_write(bm_age_encryptor *e, const void *data, size_t len)
{
	const unsigned char *p = data;
	int error = 0;

	if (e->failed || e->finished)
		return bm_error_set(BM_EINVALID, "the age encryptor %s", e->failed ? "failed earlier" : "is finished");
	while (len) {
		size_t take;
		if (e->pt_len == BM_AGE_CHUNK_SIZE) {
			/* more data follows, so the buffered chunk is not the last */
			if ((error = enc_seal(e, e->pt, e->pt_len, 0)) < 0)
				goto done;
			e->pt_len = 0;
		}
		/* whole chunks straight from the caller's memory when more follows them */
		while (e->pt_len == 0 && len > BM_AGE_CHUNK_SIZE) {
			if ((error = enc_seal(e, p, BM_AGE_CHUNK_SIZE, 0)) < 0)
				goto done;
			p += BM_AGE_CHUNK_SIZE;
			len -= BM_AGE_CHUNK_SIZE;
		}
		take = BM_AGE_CHUNK_SIZE - e->pt_len < len ? BM_AGE_CHUNK_SIZE - e->pt_len : len;
		memcpy(e->pt + e->pt_len, p, take);
		e->pt_len += take;
		p += take;
		len -= take;
	}
done:
	if (error < 0)
		e->failed = 1;
	return error;
}

int bm_age_encryptor_finish(bm_age_encryptor *e)
{
	int error;
	if (e->failed || e->finished)
		return bm_error_set(BM_EINVALID, "the age encryptor %s", e->failed ? "failed earlier" : "is finished");
	if ((error = enc_seal(e, e->pt, e->pt_len, 1)) < 0)
		goto done;
	e->pt_len = 0;
	if (e->armor) {
		if (e->apend_len) {
			e->aout_len += age_b64_encode_padded(e->aout + e->aout_len, e->apend, e->apend_len);
			e->aout[e->aout_len++] = '\n';
			e->apend_len = 0;
		}
		memcpy(e->aout + e->aout_len, armor_end, sizeof(armor_end) - 1);
		e->aout_len += sizeof(armor_end) - 1;
		e->aout[e->aout_len++] = '\n';
		if ((error = armor_flush(e)) < 0)
			goto done;
	}
	e->finished = 1;
done:
	if (error < 0)
		e->failed = 1;
	return error;
}

void bm_age_encryptor_free(bm_age_encryptor *e)
{
	if (!e)
		return;
	if (e->pt) {
		sodium_memzero(e->pt, BM_AGE_CHUNK_SIZE);
		free(e->pt);
	}
	if (e->aout) {
		sodium_memzero(e->apend, sizeof(e->apend));
		free(e->aout);
	}
	free(e->ct);
	sodium_free(e->sec);
	free(e);
}

static int encrypt_all(bm_age_encryptor *e, const void *plain, size_t len)
{
	int error;
	if ((error = bm_age_encryptor_write(e, plain, len)) < 0)
		return error;
	return bm_age_encryptor_finish(e);
}

int bm_age_encrypt_buf(bm_buf *out, const void *plain, size_t len,
		       const char *const *recipients, size_t nrecipients, int armor)
{
	bm_age_encryptor *e = NULL;
	int error;
	bm_buf_clear(out);
	if ((error = bm_age_encryptor_new(&e, recipients, nrecipients, armor, buf_write, out)) < 0)
		goto done;
	error = encrypt_all(e, plain, len);
done:
	bm_age_encryptor_free(e);
	if (error < 0)
		bm_buf_clear(out);
	return error;
}

int bm_age_encrypt_buf_passphrase(bm_buf *out, const void *plain, size_t len,
				  const char *passphrase, int log2n, int armor)
{
	bm_age_encryptor *e = NULL;
	int error;
	bm_buf_clear(out);
	if ((error = bm_age_encryptor_new_passphrase(&e, passphrase, log2n, armor, buf_write, out)) < 0)
		goto done;
	error = encrypt_all(e, plain, len);
done:
	bm_age_encryptor_free(e);
	if (error < 0)
		bm_buf_clear(out);
	return error;
}

int bm_age_encrypt_fd(int out_fd, int in_fd, const char *const *recipients, size_t nrecipients, int armor)
{
	bm_age_encryptor *e = NULL;
	unsigned char *buf = malloc(4 * BM_AGE_CHUNK_SIZE);
	int error;

	if (!buf)
		return bm_error_set(BM_ENOMEM, "out of memory");
	if ((error = bm_age_encryptor_new(&e, recipients, nrecipients, armor, bm_age_fd_write, &out_fd)) < 0)
		goto done;
	for (;;) {
		size_t got = 0;
		if ((error = bm_age_fd_read(&in_fd, buf, 4 * BM_AGE_CHUNK_SIZE, &got)) < 0)
			goto done;
		if (got == 0)
			break;
		if ((error = bm_age_encryptor_write(e, buf, got)) < 0)
			goto done;
	}
	error = bm_age_encryptor_finish(e);
done:
	bm_age_encryptor_free(e);
	sodium_memzero(buf, 4 * BM_AGE_CHUNK_SIZE);
	free(buf);
	return error;
}
