/* minisign.c: minisign-compatible Ed25519 keys and signatures over libsodium.
 *
 * Formats (https://jedisct1.github.io/minisign/), all base64 lines under a comment line:
 *   public key  "Ed" || key id (8) || public key (32)
 *   secret key  "Ed" || kdf ("Sc" scrypt, or "\0\0" unencrypted) || "B2" || salt (32) ||
 *               opslimit (8, LE) || memlimit (8, LE) || [key id (8) || secret key (64) ||
 *               checksum (32)], the bracket XORed with the scrypt stream when encrypted;
 *               checksum = BLAKE2b-256("Ed" || key id || secret key)
 *   .minisig    untrusted comment line, base64("ED" or "Ed" || key id || signature (64)),
 *               "trusted comment: " line, base64(signature over signature || trusted comment)
 * "ED" signs BLAKE2b-512 of the message (minisign 0.11's default), legacy "Ed" the message. */
#include "bootmeta/common.h"
#include "bootmeta/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#define PK_BYTES 42         /* "Ed" + key id + key */
#define SIG_BYTES 74        /* alg + key id + signature */
#define SK_BYTES 158
#define SK_SECRET_OFF 54    /* key id || secret key || checksum: what scrypt's stream covers */
#define SK_SECRET_LEN 104
#define LEGACY_MAX_BYTES (1024ULL * 1024 * 1024)

struct bm_minisign_seckey {
	unsigned char key_id[8];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

/* A parsed .minisig. Comments point into the text. */
typedef struct {
	unsigned char alg[2];
	unsigned char key_id[8];
	unsigned char sig[crypto_sign_BYTES];
	unsigned char global_sig[crypto_sign_BYTES];
	const char *trusted;
	size_t trusted_len;
	const char *untrusted;
	size_t untrusted_len;
} minisig;

static void le64_store(unsigned char *p, unsigned long long v)
{
	int i;
	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static unsigned long long le64_load(const unsigned char *p)
{
	unsigned long long v = 0;
	int i;
	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void bm_minisign_key_id_fmt(char *out, const unsigned char key_id[8])
{
	snprintf(out, BM_MINISIGN_KEYID_HEXSZ + 1, "%016llX", le64_load(key_id));
}

void bm_minisign_result_dispose(bm_minisign_result *res)
{
	if (!res)
		return;
	bm_buf_dispose(&res->trusted_comment);
	bm_buf_dispose(&res->untrusted_comment);
}

/* The next line of *p (without "\n" or "\r\n"); advances *p past it. 0 at the end. */
static int next_line(const char **p, const char **line, size_t *len)
{
	const char *s = *p, *nl;
	if (!*s)
		return 0;
	nl = strchr(s, '\n');
	*line = s;
	*len = nl ? (size_t)(nl - s) : strlen(s);
	*p = nl ? nl + 1 : s + *len;
	if (*len && s[*len - 1] == '\r')
		(*len)--;
	return 1;
}

static int only_space(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* Decode one base64 line of exactly `want` bytes into `out`. */
static int b64_exact(unsigned char *out, size_t want, const char *line, size_t len, const char *what)
{
	unsigned char tmp[SK_BYTES + 1];
	size_t got = 0;
	int error = 0;

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (want > SK_BYTES)
		return bm_error_set(BM_ERROR, "internal: base64 buffer too small");
	if (len == 0)
		return bm_error_set(BM_EINVALID, "%s: empty line where base64 was expected", what);
	if (len > 4 * ((sizeof(tmp) + 2) / 3) ||
	    sodium_base642bin(tmp, sizeof(tmp), line, len, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		error = bm_error_set(BM_EINVALID, "%s: not valid base64 (or too long); is this the right file?", what);
		goto done;
	}
	if (got != want) {
		error = bm_error_set(BM_EINVALID, "%s: %zu bytes where %zu were expected; the file is truncated or not a minisign file",
				     what, got, want);
		goto done;
	}
	memcpy(out, tmp, want);
done:
	sodium_memzero(tmp, sizeof(tmp));
	return error;
}

static int check_comment(const char *c, size_t max, const char *what)
{
	size_t n = strlen(c);
	if (n > max)
		return bm_error_set(BM_EINVALID, "%s is longer than %zu bytes", what, max);
	if (strpbrk(c, "\r\n"))
		return bm_error_set(BM_EINVALID, "%s may not contain a line break", what);
	return 0;
}

/* ---- public keys ---- */

int bm_minisign_pubkey_parse(bm_minisign_pubkey *out, const char *text)
{
	unsigned char raw[PK_BYTES];
	const char *p = text, *line = NULL;
	size_t len = 0;
	int error;

	memset(out, 0, sizeof(*out));
	if (!text)
		return bm_error_set(BM_EINVALID, "no public key given");
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!next_line(&p, &line, &len))
		return bm_error_set(BM_EINVALID, "empty public key; give a minisign public key file or its base64 line");
	if (len >= 18 && !memcmp(line, "untrusted comment:", 18)) {
		if (!next_line(&p, &line, &len))
			return bm_error_set(BM_EINVALID, "public key file has a comment but no key line");
	}
	if (!only_space(p))
		return bm_error_set(BM_EINVALID, "public key: unexpected text after the key line");
	if ((error = b64_exact(raw, sizeof(raw), line, len, "public key")) < 0)
		return error;
	if (raw[0] != 'E' || raw[1] != 'd')
		return bm_error_set(BM_EUNSUPPORTED, "public key: signature algorithm \"%c%c\" is not Ed25519 (\"Ed\")",
				    raw[0] >= 0x20 && raw[0] < 0x7f ? raw[0] : '?',
				    raw[1] >= 0x20 && raw[1] < 0x7f ? raw[1] : '?');
	memcpy(out->key_id, raw + 2, 8);
	memcpy(out->key, raw + 10, 32);
	bm_minisign_key_id_fmt(out->key_id_hex, out->key_id);
	return 0;
}

int bm_minisign_pubkey_format(bm_buf *out, const bm_minisign_pubkey *pk)
{
	unsigned char raw[PK_BYTES];
	char b64[sodium_base64_ENCODED_LEN(PK_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	char hex[BM_MINISIGN_KEYID_HEXSZ + 1];

	raw[0] = 'E';
	raw[1] = 'd';
	memcpy(raw + 2, pk->key_id, 8);
	memcpy(raw + 10, pk->key, 32);
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	bm_minisign_key_id_fmt(hex, pk->key_id);
	return bm_buf_printf(out, "untrusted comment: minisign public key %s\n%s\n", hex, b64);
}

/* ---- secret keys ---- */

static void seckey_checksum(unsigned char out[32], const unsigned char *key_id, const unsigned char *sk)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const unsigned char *)"Ed", 2);
	crypto_generichash_update(&st, key_id, 8);
	crypto_generichash_update(&st, sk, crypto_sign_SECRETKEYBYTES);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

/* XOR the secret part with scrypt(password, salt) as minisign does. */
static int seckey_crypt(unsigned char *raw, const char *password)
{
	unsigned char *stream;
	unsigned long long ops = le64_load(raw + 38), mem = le64_load(raw + 46);
	int error = 0;
	size_t i;

	if (mem > BM_MINISIGN_KDF_MEMLIMIT_MAX || ops > 0xffffffffULL)
		return bm_error_set(BM_ETOOBIG, "secret key asks for scrypt limits (ops %llu, memory %llu) past what bootmeta allows",
				    ops, mem);
	if (!(stream = sodium_malloc(SK_SECRET_LEN)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if (crypto_pwhash_scryptsalsa208sha256(stream, SK_SECRET_LEN, password, strlen(password),
					       raw + 6, ops, (size_t)mem) != 0) {
		error = bm_error_set(BM_ENOMEM, "scrypt failed (ops %llu, memory %llu bytes): out of memory or bad limits",
				     ops, mem);
		goto done;
	}
	for (i = 0; i < SK_SECRET_LEN; i++)
		raw[SK_SECRET_OFF + i] ^= stream[i];
done:
	sodium_free(stream);
	return error;
}

int bm_minisign_keygen_ex(bm_buf *pubkey_file, bm_buf *seckey_file, const char *password,
			  unsigned long long opslimit, unsigned long long memlimit)
{
	unsigned char *raw = NULL;
	char *b64 = NULL;
	const size_t b64len = sodium_base64_ENCODED_LEN(SK_BYTES, sodium_base64_VARIANT_ORIGINAL);
	bm_minisign_pubkey pk;
	unsigned char key_id[8];
	int error = 0;

	if (!(raw = sodium_malloc(SK_BYTES)) || !(b64 = sodium_malloc(b64len))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	memset(raw, 0, SK_BYTES);
	randombytes_buf(key_id, sizeof(key_id));
	memcpy(raw, "Ed", 2);
	memcpy(raw + 4, "B2", 2);
	memcpy(raw + SK_SECRET_OFF, key_id, 8);
	crypto_sign_keypair(pk.key, raw + 62);
	memcpy(pk.key_id, key_id, 8);
	/* minisign 0.11 leaves the checksum of an unencrypted key zero (and does not check it);
	 * we write the real one, which it accepts too, so the file carries an integrity check */
	seckey_checksum(raw + 126, key_id, raw + 62);
	if (password) {
		memcpy(raw + 2, "Sc", 2);
		randombytes_buf(raw + 6, 32);
		le64_store(raw + 38, opslimit ? opslimit : BM_MINISIGN_KDF_OPSLIMIT);
		le64_store(raw + 46, memlimit ? memlimit : BM_MINISIGN_KDF_MEMLIMIT);
		if ((error = seckey_crypt(raw, password)) < 0)
			goto done;
	}
	sodium_bin2base64(b64, b64len, raw, SK_BYTES, sodium_base64_VARIANT_ORIGINAL);
	if ((error = bm_buf_printf(seckey_file, "untrusted comment: minisign %s secret key\n%s\n",
				   password ? "encrypted" : "unencrypted", b64)) < 0)
		goto done;
	error = bm_minisign_pubkey_format(pubkey_file, &pk);
done:
	if (raw)
		sodium_free(raw);
	if (b64)
		sodium_free(b64);
	return error;
}

int bm_minisign_keygen(bm_buf *pubkey_file, bm_buf *seckey_file, const char *password)
{
	return bm_minisign_keygen_ex(pubkey_file, seckey_file, password, 0, 0);
}

/* Decode a secret key file's base64 into raw (SK_BYTES, secure memory). */
static int seckey_decode(unsigned char *raw, const char *text)
{
	const char *p = text, *line = NULL;
	size_t len = 0;
	int error;

	if (!text)
		return bm_error_set(BM_EINVALID, "no secret key given");
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!next_line(&p, &line, &len))
		return bm_error_set(BM_EINVALID, "empty secret key file");
	if (len >= 18 && !memcmp(line, "untrusted comment:", 18)) {
		if (!next_line(&p, &line, &len))
			return bm_error_set(BM_EINVALID, "secret key file has a comment but no key line");
	}
	if (!only_space(p))
		return bm_error_set(BM_EINVALID, "secret key: unexpected text after the key line");
	if ((error = b64_exact(raw, SK_BYTES, line, len, "secret key")) < 0)
		return error;
	if (raw[0] != 'E' || raw[1] != 'd')
		return bm_error_set(BM_EUNSUPPORTED, "secret key: signature algorithm is not Ed25519 (\"Ed\")");
	if (raw[4] != 'B' || raw[5] != '2')
		return bm_error_set(BM_EUNSUPPORTED, "secret key: checksum algorithm is not BLAKE2b (\"B2\")");
	if (!(raw[2] == 'S' && raw[3] == 'c') && !(raw[2] == 0 && raw[3] == 0))
		return bm_error_set(BM_EUNSUPPORTED, "secret key: key derivation is neither scrypt (\"Sc\") nor none");
	return 0;
}

int bm_minisign_seckey_is_encrypted(const char *seckey_file_text)
{
	unsigned char *raw = sodium_malloc(SK_BYTES);
	int error;
	if (!raw)
		return bm_error_set(BM_ENOMEM, "out of memory");
	if ((error = seckey_decode(raw, seckey_file_text)) == 0)
		error = raw[2] == 'S';
	sodium_free(raw);
	return error;
}

int bm_minisign_seckey_load(bm_minisign_seckey **out, const char *seckey_file_text, const char *password)
{
	unsigned char *raw = NULL, chk[32];
	bm_minisign_seckey *sk = NULL;
	int error, encrypted;

	*out = NULL;
	if (!(raw = sodium_malloc(SK_BYTES))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = seckey_decode(raw, seckey_file_text)) < 0)
		goto done;
	encrypted = raw[2] == 'S';
	if (encrypted) {
		if (!password) {
			error = bm_error_set(BM_EINVALID, "the secret key is encrypted: a password is needed");
			goto done;
		}
		if ((error = seckey_crypt(raw, password)) < 0)
			goto done;
	}
	seckey_checksum(chk, raw + SK_SECRET_OFF, raw + 62);
	if (sodium_memcmp(chk, raw + 126, 32) != 0 &&
	    (encrypted || !sodium_is_zero(raw + 126, 32))) {
		error = encrypted
			? bm_error_set(BM_EVERIFY, "wrong password for the secret key (or the key file is damaged)")
			: bm_error_set(BM_ECORRUPT, "secret key checksum does not match: the key file is damaged");
		goto done;
	}
	if (!(sk = sodium_malloc(sizeof(*sk)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(sk->key_id, raw + SK_SECRET_OFF, 8);
	/* the seed must give the public half stored with it (an unencrypted minisign key has
	 * no checksum to catch damage), or every signature would fail to verify */
	{
		unsigned char pk[crypto_sign_PUBLICKEYBYTES];
		crypto_sign_seed_keypair(pk, sk->sk, raw + 62);
		if (sodium_memcmp(pk, raw + 62 + 32, sizeof(pk)) != 0) {
			error = bm_error_set(BM_ECORRUPT, "secret key is damaged: its two halves do not match");
			goto done;
		}
	}
	*out = sk;
	sk = NULL;
done:
	sodium_memzero(chk, sizeof(chk));
	if (raw)
		sodium_free(raw);
	if (sk)
		sodium_free(sk);
	return error;
}

void bm_minisign_seckey_free(bm_minisign_seckey *sk)
{
	if (sk)
		sodium_free(sk);
}

void bm_minisign_seckey_pubkey(bm_minisign_pubkey *out, const bm_minisign_seckey *sk)
{
	memcpy(out->key_id, sk->key_id, 8);
	crypto_sign_ed25519_sk_to_pk(out->key, sk->sk);
	bm_minisign_key_id_fmt(out->key_id_hex, out->key_id);
}

/* ---- signing ---- */

/* Sign `msg` (the message, or its BLAKE2b-512 when prehashed) and format the .minisig. */
static int sign_core(bm_buf *out, const bm_minisign_seckey *sk, const unsigned char *msg, size_t len,
		     int prehashed, const char *trusted, const char *untrusted)
{
	unsigned char raw[SIG_BYTES], global[crypto_sign_BYTES];
	unsigned char *gmsg = NULL;
	size_t tlen;
	char b64a[sodium_base64_ENCODED_LEN(SIG_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	char b64b[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	int error = 0;

	if (!untrusted)
		untrusted = "signature from minisign secret key";
	if ((error = check_comment(trusted, BM_MINISIGN_TRUSTED_COMMENT_MAX, "trusted comment")) < 0 ||
	    (error = check_comment(untrusted, BM_MINISIGN_COMMENT_MAX, "untrusted comment")) < 0)
		return error;
	raw[0] = 'E';
	raw[1] = prehashed ? 'D' : 'd';
	memcpy(raw + 2, sk->key_id, 8);
	crypto_sign_detached(raw + 10, NULL, msg, len, sk->sk);
	tlen = strlen(trusted);
	if (!(gmsg = malloc(crypto_sign_BYTES + tlen + 1)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	memcpy(gmsg, raw + 10, crypto_sign_BYTES);
	memcpy(gmsg + crypto_sign_BYTES, trusted, tlen);
	crypto_sign_detached(global, NULL, gmsg, crypto_sign_BYTES + tlen, sk->sk);
	sodium_bin2base64(b64a, sizeof(b64a), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64b, sizeof(b64b), global, sizeof(global), sodium_base64_VARIANT_ORIGINAL);
	error = bm_buf_printf(out, "untrusted comment: %s\n%s\ntrusted comment: %s\n%s\n",
			      untrusted, b64a, trusted, b64b);
	free(gmsg);
	return error;
}

static void default_trusted(char *out, size_t outlen, const char *file, int prehashed)
{
	snprintf(out, outlen, "timestamp:%lld%s%s%s", (long long)time(NULL),
		 file ? "\tfile:" : "", file ? file : "", prehashed ? "\thashed" : "");
}

int bm_minisign_sign_with(bm_buf *minisig_text, const bm_minisign_seckey *sk, const void *data,
			  size_t len, const char *trusted_comment, const char *untrusted_comment,
			  unsigned int flags)
{
	unsigned char h[crypto_generichash_BYTES_MAX];
	char tc[64];
	int prehashed = !(flags & BM_MINISIGN_SIGN_LEGACY);

	if (!trusted_comment) {
		default_trusted(tc, sizeof(tc), NULL, prehashed);
		trusted_comment = tc;
	}
	if (!prehashed)
		return sign_core(minisig_text, sk, data, len, 0, trusted_comment, untrusted_comment);
	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	return sign_core(minisig_text, sk, h, sizeof(h), 1, trusted_comment, untrusted_comment);
}

int bm_minisign_sign(bm_buf *minisig_text, const void *data, size_t len, const char *seckey_file_text,
		     const char *password, const char *trusted_comment, const char *untrusted_comment)
{
	bm_minisign_seckey *sk = NULL;
	int error;
	if ((error = bm_minisign_seckey_load(&sk, seckey_file_text, password)) < 0)
		return error;
	error = bm_minisign_sign_with(minisig_text, sk, data, len, trusted_comment, untrusted_comment, 0);
	bm_minisign_seckey_free(sk);
	return error;
}

/* BLAKE2b-512 of a file, read in chunks. */
static int hash_file(unsigned char out[crypto_generichash_BYTES_MAX], const char *path)
{
	crypto_generichash_state st;
	unsigned char chunk[65536];
	int fd, error = 0;
	ssize_t n;

	if ((error = bm_file_open_read(&fd, path, 0)) < 0)
		return error;
	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = bm_error_set(BM_EIO, "%s: read failed: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		crypto_generichash_update(&st, chunk, (size_t)n);
	}
	crypto_generichash_final(&st, out, crypto_generichash_BYTES_MAX);
done:
	close(fd);
	return error;
}

int bm_minisign_sign_file_with(bm_buf *minisig_text, const bm_minisign_seckey *sk, const char *path,
			       const char *trusted_comment, const char *untrusted_comment)
{
	unsigned char h[crypto_generichash_BYTES_MAX];
	bm_buf tc = BM_BUF_INIT;
	int error;

	if ((error = hash_file(h, path)) < 0)
		return error;
	if (!trusted_comment) {
		const char *base = strrchr(path, '/');
		if ((error = bm_buf_printf(&tc, "timestamp:%lld\tfile:%s\thashed", (long long)time(NULL),
					   base ? base + 1 : path)) < 0)
			goto done;
		trusted_comment = tc.ptr;
	}
	error = sign_core(minisig_text, sk, h, sizeof(h), 1, trusted_comment, untrusted_comment);
done:
	bm_buf_dispose(&tc);
	return error;
}

int bm_minisign_sign_file(bm_buf *minisig_text, const char *path, const char *seckey_file_text,
			  const char *password, const char *trusted_comment, const char *untrusted_comment)
{
	bm_minisign_seckey *sk = NULL;
	int error;
	if ((error = bm_minisign_seckey_load(&sk, seckey_file_text, password)) < 0)
		return error;
	error = bm_minisign_sign_file_with(minisig_text, sk, path, trusted_comment, untrusted_comment);
	bm_minisign_seckey_free(sk);
	return error;
}

/* ---- verification ---- */

static int minisig_parse(minisig *m, const char *text)
{
	const char *p = text, *line = NULL;
	size_t len = 0;
	unsigned char raw[SIG_BYTES];
	int error;

	memset(m, 0, sizeof(*m));
	if (!text)
		return bm_error_set(BM_EINVALID, "no signature given");
	if (!next_line(&p, &line, &len) || len < 19 || memcmp(line, "untrusted comment: ", 19) != 0)
		return bm_error_set(BM_EINVALID, "signature: the first line is not \"untrusted comment: ...\"; is this a .minisig file?");
	m->untrusted = line + 19;
	m->untrusted_len = len - 19;
	if (!next_line(&p, &line, &len))
		return bm_error_set(BM_EINVALID, "signature: truncated after the untrusted comment");
	if ((error = b64_exact(raw, sizeof(raw), line, len, "signature")) < 0)
		return error;
	if (!(raw[0] == 'E' && (raw[1] == 'd' || raw[1] == 'D')))
		return bm_error_set(BM_EUNSUPPORTED, "signature: algorithm \"%c%c\" is neither Ed25519 (\"Ed\") nor prehashed Ed25519 (\"ED\")",
				    raw[0] >= 0x20 && raw[0] < 0x7f ? raw[0] : '?',
				    raw[1] >= 0x20 && raw[1] < 0x7f ? raw[1] : '?');
	memcpy(m->alg, raw, 2);
	memcpy(m->key_id, raw + 2, 8);
	memcpy(m->sig, raw + 10, crypto_sign_BYTES);
	if (!next_line(&p, &line, &len))
		return bm_error_set(BM_EINVALID, "signature: no trusted comment line; a signature of minisign before 0.6? re-sign it");
	if (len < 17 || memcmp(line, "trusted comment: ", 17) != 0)
		return bm_error_set(BM_EINVALID, "signature: the third line is not \"trusted comment: ...\"");
	m->trusted = line + 17;
	m->trusted_len = len - 17;
	if (m->trusted_len > BM_MINISIGN_TRUSTED_COMMENT_MAX)
		return bm_error_set(BM_EINVALID, "signature: trusted comment longer than %d bytes", BM_MINISIGN_TRUSTED_COMMENT_MAX);
	if (memchr(m->trusted, '\0', m->trusted_len))
		return bm_error_set(BM_EINVALID, "signature: NUL in the trusted comment");
	if (!next_line(&p, &line, &len))
		return bm_error_set(BM_EINVALID, "signature: no global signature line after the trusted comment");
	if ((error = b64_exact(m->global_sig, crypto_sign_BYTES, line, len, "global signature")) < 0)
		return error;
	if (!only_space(p))
		return bm_error_set(BM_EINVALID, "signature: unexpected text after the global signature");
	return 0;
}

/* Check a parsed signature. `msg` is the message for "Ed", its BLAKE2b-512 for "ED". */
static int verify_parsed(bm_minisign_result *out, const minisig *m, const unsigned char *msg, size_t len,
			 const bm_minisign_pubkey *keys, size_t nkeys)
{
	const bm_minisign_pubkey *pk = NULL;
	unsigned char *gmsg = NULL;
	char hex[BM_MINISIGN_KEYID_HEXSZ + 1];
	size_t i;
	int error = 0;

	for (i = 0; i < nkeys && !pk; i++)
		if (!memcmp(keys[i].key_id, m->key_id, 8))
			pk = &keys[i];
	if (!pk) {
		bm_minisign_key_id_fmt(hex, m->key_id);
		return bm_error_set(BM_ENOTFOUND, "signed by key %s, which is not %s", hex,
				    nkeys ? "one of the trusted keys" : "trusted (no trusted keys given)");
	}
	if (crypto_sign_verify_detached(m->sig, msg, len, pk->key) != 0)
		return bm_error_set(BM_EVERIFY, "signature does not verify with key %s: the file was changed or the signature damaged",
				    pk->key_id_hex);
	if (!(gmsg = malloc(crypto_sign_BYTES + m->trusted_len + 1)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	memcpy(gmsg, m->sig, crypto_sign_BYTES);
	memcpy(gmsg + crypto_sign_BYTES, m->trusted, m->trusted_len);
	if (crypto_sign_verify_detached(m->global_sig, gmsg, crypto_sign_BYTES + m->trusted_len, pk->key) != 0) {
		error = bm_error_set(BM_EVERIFY, "the trusted comment's signature does not verify: the trusted comment was changed");
		goto done;
	}
	if (out) {
		bm_buf_clear(&out->trusted_comment);
		bm_buf_clear(&out->untrusted_comment);
		memcpy(out->key_id_hex, pk->key_id_hex, sizeof(out->key_id_hex));
		out->key_index = (size_t)(pk - keys);
		out->prehashed = m->alg[1] == 'D';
		if ((error = bm_buf_put(&out->trusted_comment, m->trusted, m->trusted_len)) < 0 ||
		    (error = bm_buf_put(&out->untrusted_comment, m->untrusted, m->untrusted_len)) < 0)
			goto done;
	}
done:
	free(gmsg);
	return error;
}

static int parse_keys(bm_minisign_pubkey **out, const char *const *pubkeys, size_t n)
{
	bm_minisign_pubkey *keys;
	size_t i;
	int error;

	*out = NULL;
	if (!n)
		return 0;
	if (!(keys = calloc(n, sizeof(*keys))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((error = bm_minisign_pubkey_parse(&keys[i], pubkeys[i])) < 0) {
			free(keys);
			return bm_error_prefix(error, "trusted key %zu", i + 1);
		}
	}
	*out = keys;
	return 0;
}

int bm_minisign_verify_key(bm_minisign_result *out, const char *minisig_text, const void *data,
			   size_t len, const bm_minisign_pubkey *keys, size_t nkeys)
{
	unsigned char h[crypto_generichash_BYTES_MAX];
	minisig m;
	int error;

	if ((error = minisig_parse(&m, minisig_text)) < 0)
		return error;
	if (m.alg[1] == 'd')
		return verify_parsed(out, &m, data, len, keys, nkeys);
	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	return verify_parsed(out, &m, h, sizeof(h), keys, nkeys);
}

int bm_minisign_verify(bm_minisign_result *out, const char *minisig_text, const void *data, size_t len,
		       const char *const *pubkeys, size_t npubkeys)
{
	bm_minisign_pubkey *keys = NULL;
	int error;

	if ((error = parse_keys(&keys, pubkeys, npubkeys)) < 0)
		return error;
	error = bm_minisign_verify_key(out, minisig_text, data, len, keys, npubkeys);
	free(keys);
	return error;
}

int bm_minisign_verify_file_key(bm_minisign_result *out, const char *minisig_text, const char *path,
				const bm_minisign_pubkey *keys, size_t nkeys)
{
	unsigned char h[crypto_generichash_BYTES_MAX];
	bm_buf content = BM_BUF_INIT;
	minisig m;
	int error;

	if ((error = minisig_parse(&m, minisig_text)) < 0)
		return error;
	if (m.alg[1] == 'D') {
		if ((error = hash_file(h, path)) < 0)
			goto done;
		error = verify_parsed(out, &m, h, sizeof(h), keys, nkeys);
	} else {
		if ((error = bm_file_read(&content, path, LEGACY_MAX_BYTES)) < 0) {
			if (error == BM_ETOOBIG)
				bm_error_prefix(error, "a legacy (non-prehashed) signature needs the whole file in memory");
			goto done;
		}
		error = verify_parsed(out, &m, (const unsigned char *)content.ptr, content.size, keys, nkeys);
	}
done:
	bm_buf_dispose(&content);
	return error;
}

int bm_minisign_verify_file(bm_minisign_result *out, const char *minisig_text, const char *path,
			    const char *const *pubkeys, size_t npubkeys)
{
	bm_minisign_pubkey *keys = NULL;
	int error;

	if ((error = parse_keys(&keys, pubkeys, npubkeys)) < 0)
		return error;
	error = bm_minisign_verify_file_key(out, minisig_text, path, keys, npubkeys);
	free(keys);
	return error;
}

/* ---- reading a signature without the file ---- */

int bm_minisign_sig_parse(bm_minisign_result *out, const char *minisig_text)
{
	minisig m;
	int error;

	if ((error = minisig_parse(&m, minisig_text)) < 0)
		return error;
	bm_buf_clear(&out->trusted_comment);
	bm_buf_clear(&out->untrusted_comment);
	bm_minisign_key_id_fmt(out->key_id_hex, m.key_id);
	out->key_index = 0;
	out->prehashed = m.alg[1] == 'D';
	if ((error = bm_buf_put(&out->trusted_comment, m.trusted, m.trusted_len)) < 0 ||
	    (error = bm_buf_put(&out->untrusted_comment, m.untrusted, m.untrusted_len)) < 0)
		return error;
	return 0;
}

int bm_minisign_verify_comment(bm_minisign_result *out, const char *minisig_text,
			       const bm_minisign_pubkey *keys, size_t nkeys)
{
	const bm_minisign_pubkey *pk = NULL;
	unsigned char *gmsg = NULL;
	char hex[BM_MINISIGN_KEYID_HEXSZ + 1];
	minisig m;
	size_t i;
	int error;

	if ((error = minisig_parse(&m, minisig_text)) < 0)
		return error;
	for (i = 0; i < nkeys && !pk; i++)
		if (!memcmp(keys[i].key_id, m.key_id, 8))
			pk = &keys[i];
	if (!pk) {
		bm_minisign_key_id_fmt(hex, m.key_id);
		return bm_error_set(BM_ENOTFOUND, "signed by key %s, which is not %s", hex,
				    nkeys ? "one of the trusted keys" : "trusted (no trusted keys given)");
	}
	if (!(gmsg = malloc(crypto_sign_BYTES + m.trusted_len + 1)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	memcpy(gmsg, m.sig, crypto_sign_BYTES);
	memcpy(gmsg + crypto_sign_BYTES, m.trusted, m.trusted_len);
	if (crypto_sign_verify_detached(m.global_sig, gmsg, crypto_sign_BYTES + m.trusted_len, pk->key) != 0) {
		error = bm_error_set(BM_EVERIFY, "the trusted comment's signature does not verify with key %s: the "
						 "signature was changed", pk->key_id_hex);
		goto done;
	}
	if (out) {
		if ((error = bm_minisign_sig_parse(out, minisig_text)) < 0)
			goto done;
		out->key_index = (size_t)(pk - keys);
	}
done:
	free(gmsg);
	return error;
}
