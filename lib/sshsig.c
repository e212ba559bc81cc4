/* sshsig.c: SSH signatures (OpenSSH PROTOCOL.sshsig) with Ed25519 keys, for signed meta
 * commits that `git verify-commit` accepts with gpg.format=ssh, and a verifier that needs
 * neither git nor ssh-keygen.
 *
 * Blob:        "SSHSIG" u32(1) string(public key) string(namespace) string(reserved)
 *              string(hash algorithm) string(signature)
 * Signed data: "SSHSIG" string(namespace) string(reserved) string(hash algorithm)
 *              string(H(message))
 * Keys come from unencrypted OpenSSH private key files (PROTOCOL.key, "openssh-key-v1"). */
#define _GNU_SOURCE /* memmem */
#include "bootmeta/common.h"
#include "bootmeta/sign.h"

#include <fnmatch.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define SSHSIG_MAGIC "SSHSIG"
#define ED25519_NAME "ssh-ed25519"
#define PUBBLOB_LEN (4 + 11 + 4 + 32)
#define ARMOR_SIG "SSH SIGNATURE"
#define ARMOR_KEY "OPENSSH PRIVATE KEY"
#define MAX_ARMOR_BYTES (1024 * 1024)

struct bm_sshsig_key {
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
};

/* ---- SSH wire encoding ---- */

typedef struct {
	const unsigned char *p;
	size_t left;
} reader;

static int get_u32(reader *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int get_string(reader *r, const unsigned char **s, size_t *len)
{
	uint32_t n;
	if (get_u32(r, &n) < 0 || n > r->left)
		return -1;
	*s = r->p;
	*len = n;
	r->p += n;
	r->left -= n;
	return 0;
}

static int string_is(const unsigned char *s, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(s, want, len);
}

static int put_u32(bm_buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v };
	return bm_buf_put(b, x, 4);
}

static int put_string(bm_buf *b, const void *s, size_t len)
{
	int error;
	if (len > 0xffffffffU)
		return bm_error_set(BM_ETOOBIG, "string too long for the SSH wire format");
	if ((error = put_u32(b, (uint32_t)len)) < 0)
		return error;
	return bm_buf_put(b, s, len);
}

static void pubblob(unsigned char out[PUBBLOB_LEN], const unsigned char pk[32])
{
	memcpy(out, "\0\0\0\013" ED25519_NAME "\0\0\0\040", 4 + 11 + 4);
	memcpy(out + 19, pk, 32);
}

/* Decode an Ed25519 public key blob. */
static int parse_pubblob(unsigned char pk[32], const unsigned char *blob, size_t len, const char *what)
{
	reader r = { blob, len };
	const unsigned char *s, *k;
	size_t slen, klen;
	if (get_string(&r, &s, &slen) < 0)
		return bm_error_set(BM_EINVALID, "%s: malformed public key", what);
	if (!string_is(s, slen, ED25519_NAME))
		return bm_error_set(BM_EUNSUPPORTED, "%s: key type \"%.*s\" is not supported; only ssh-ed25519 keys are",
				    what, (int)(slen > 40 ? 40 : slen), (const char *)s);
	if (get_string(&r, &k, &klen) < 0 || klen != 32 || r.left)
		return bm_error_set(BM_EINVALID, "%s: malformed ssh-ed25519 public key", what);
	memcpy(pk, k, 32);
	return 0;
}

/* ---- armor ---- */

/* Find "-----BEGIN <label>-----" ... "-----END <label>-----" in text and base64-decode what is
 * between (whitespace ignored) into `out` (a buffer the caller may wipe). */
static int armor_decode(bm_buf *out, const char *text, size_t len, const char *label, const char *what)
{
	char begin[64], end[64];
	const char *b, *e, *body;
	size_t blen, got = 0;
	int error;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	if (len > MAX_ARMOR_BYTES)
		return bm_error_set(BM_ETOOBIG, "%s: larger than %d bytes", what, MAX_ARMOR_BYTES);
	if (!(b = memmem(text, len, begin, strlen(begin))))
		return bm_error_set(BM_EINVALID, "%s: no \"%s\" line", what, begin);
	body = b + strlen(begin);
	if (!(e = memmem(body, len - (size_t)(body - text), end, strlen(end))))
		return bm_error_set(BM_EINVALID, "%s: no \"%s\" line", what, end);
	blen = (size_t)(e - body);
	if ((error = bm_buf_grow(out, blen)) < 0)
		return error;
	if (sodium_base642bin((unsigned char *)out->ptr, out->asize, body, blen, " \t\r\n", &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return bm_error_set(BM_EINVALID, "%s: the armored block is not valid base64", what);
	out->size = got;
	return 0;
}

static int armor_encode(bm_buf *out, const unsigned char *blob, size_t len, const char *label)
{
	size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL), i, n;
	char *b64 = malloc(b64len);
	int error;

	if (!b64)
		return bm_error_set(BM_ENOMEM, "out of memory");
	sodium_bin2base64(b64, b64len, blob, len, sodium_base64_VARIANT_ORIGINAL);
	n = strlen(b64);
	if ((error = bm_buf_printf(out, "-----BEGIN %s-----\n", label)) < 0)
		goto done;
	for (i = 0; i < n; i += 70) {
		if ((error = bm_buf_put(out, b64 + i, n - i < 70 ? n - i : 70)) < 0 ||
		    (error = bm_buf_putc(out, '\n')) < 0)
			goto done;
	}
	error = bm_buf_printf(out, "-----END %s-----\n", label);
done:
	free(b64);
	return error;
}

/* ---- private keys ---- */

int bm_sshsig_key_parse(bm_sshsig_key **out, const char *text, size_t len)
{
	static const char auth_magic[] = "openssh-key-v1";
	bm_buf raw = BM_BUF_INIT;
	bm_sshsig_key *key = NULL;
	const unsigned char *s, *pub, *priv, *kpk, *ksk, *comment;
	size_t slen, publen, privlen, kpklen, ksklen, commentlen, i;
	uint32_t nkeys, check1, check2;
	unsigned char pk[32];
	reader r, pr;
	int error;

	*out = NULL;
	if ((error = armor_decode(&raw, text, len, ARMOR_KEY, "SSH private key")) < 0) {
		if (memmem(text, len, "BEGIN OPENSSH PRIVATE KEY", 25) == NULL &&
		    (memmem(text, len, "PRIVATE KEY-----", 16) != NULL))
			error = bm_error_set(BM_EUNSUPPORTED, "SSH private key: not in the OpenSSH format; "
					     "convert it with ssh-keygen -p -f FILE, or make one with ssh-keygen -t ed25519");
		goto done;
	}
	r.p = (const unsigned char *)raw.ptr;
	r.left = raw.size;
	if (r.left < sizeof(auth_magic) || memcmp(r.p, auth_magic, sizeof(auth_magic)) != 0) {
		error = bm_error_set(BM_EINVALID, "SSH private key: not an openssh-key-v1 key");
		goto done;
	}
	r.p += sizeof(auth_magic);
	r.left -= sizeof(auth_magic);
	if (get_string(&r, &s, &slen) < 0)
		goto malformed;
	if (!string_is(s, slen, "none")) {
		error = bm_error_set(BM_EUNSUPPORTED, "SSH private key is encrypted (cipher \"%.*s\"); bootmeta needs an "
				     "unencrypted key: make a dedicated signing key with ssh-keygen -t ed25519 -N ''",
				     (int)(slen > 32 ? 32 : slen), (const char *)s);
		goto done;
	}
	if (get_string(&r, &s, &slen) < 0)
		goto malformed;
	if (!string_is(s, slen, "none")) {
		error = bm_error_set(BM_EUNSUPPORTED, "SSH private key uses a key derivation (encrypted); bootmeta needs an unencrypted key");
		goto done;
	}
	if (get_string(&r, &s, &slen) < 0 || get_u32(&r, &nkeys) < 0)
		goto malformed;
	if (nkeys != 1) {
		error = bm_error_set(BM_EUNSUPPORTED, "SSH private key file holds %u keys; expected one", nkeys);
		goto done;
	}
	if (get_string(&r, &pub, &publen) < 0 || get_string(&r, &priv, &privlen) < 0)
		goto malformed;
	if ((error = parse_pubblob(pk, pub, publen, "SSH private key")) < 0)
		goto done;
	pr.p = priv;
	pr.left = privlen;
	if (privlen % 8 || get_u32(&pr, &check1) < 0 || get_u32(&pr, &check2) < 0)
		goto malformed;
	if (check1 != check2) {
		error = bm_error_set(BM_EINVALID, "SSH private key: check values differ (damaged or wrongly decrypted)");
		goto done;
	}
	if (get_string(&pr, &s, &slen) < 0)
		goto malformed;
	if (!string_is(s, slen, ED25519_NAME)) {
		error = bm_error_set(BM_EUNSUPPORTED, "SSH private key: type \"%.*s\" is not supported; only ssh-ed25519",
				     (int)(slen > 40 ? 40 : slen), (const char *)s);
		goto done;
	}
	if (get_string(&pr, &kpk, &kpklen) < 0 || kpklen != 32 ||
	    get_string(&pr, &ksk, &ksklen) < 0 || ksklen != 64 ||
	    get_string(&pr, &comment, &commentlen) < 0)
		goto malformed;
	for (i = 0; i < pr.left; i++) {
		if (pr.p[i] != (unsigned char)(i + 1))
			goto malformed;
	}
	if (sodium_memcmp(kpk, pk, 32) != 0 || sodium_memcmp(ksk + 32, pk, 32) != 0) {
		error = bm_error_set(BM_EINVALID, "SSH private key: public and private halves do not match");
		goto done;
	}
	if (!(key = sodium_malloc(sizeof(*key)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(key->sk, ksk, 64);
	memcpy(key->pk, pk, 32);
	{
		/* the seed must give the stored public key, or signatures would not verify */
		unsigned char seed_pk[32], seed_sk[64];
		crypto_sign_seed_keypair(seed_pk, seed_sk, key->sk);
		sodium_memzero(seed_sk, sizeof(seed_sk));
		if (sodium_memcmp(seed_pk, pk, 32) != 0) {
			error = bm_error_set(BM_EINVALID, "SSH private key: the secret key does not match its public key");
			goto done;
		}
	}
	*out = key;
	key = NULL;
	goto done;
malformed:
	error = bm_error_set(BM_EINVALID, "SSH private key: malformed (truncated or damaged)");
done:
	if (key)
		sodium_free(key);
	bm_buf_dispose_secret(&raw);
	return error;
}

int bm_sshsig_key_load(bm_sshsig_key **out, const char *path)
{
	bm_buf text = BM_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = bm_file_read(&text, path, MAX_ARMOR_BYTES)) < 0)
		return error;
	if ((error = bm_sshsig_key_parse(out, text.ptr, text.size)) < 0)
		bm_error_prefix(error, "%s", path);
	bm_buf_dispose_secret(&text);
	return error;
}

void bm_sshsig_key_free(bm_sshsig_key *key)
{
	if (key)
		sodium_free(key);
}

int bm_sshsig_key_public(bm_buf *out, const bm_sshsig_key *key)
{
	unsigned char blob[PUBBLOB_LEN];
	char b64[sodium_base64_ENCODED_LEN(PUBBLOB_LEN, sodium_base64_VARIANT_ORIGINAL)];
	pubblob(blob, key->pk);
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
	return bm_buf_printf(out, ED25519_NAME " %s", b64);
}

static int fingerprint_of(bm_buf *out, const unsigned char pk[32])
{
	unsigned char blob[PUBBLOB_LEN], h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	pubblob(blob, pk);
	crypto_hash_sha256(h, blob, sizeof(blob));
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	return bm_buf_printf(out, "SHA256:%s", b64);
}

int bm_sshsig_key_fingerprint(bm_buf *out, const bm_sshsig_key *key)
{
	return fingerprint_of(out, key->pk);
}

/* ---- signing ---- */

/* The data an SSH signature signs. */
static int signed_data(bm_buf *out, const char *ns, size_t nslen, const unsigned char *reserved,
		       size_t reservedlen, const char *hashalg, const unsigned char *h, size_t hlen)
{
	int error;
	if ((error = bm_buf_put(out, SSHSIG_MAGIC, 6)) < 0 ||
	    (error = put_string(out, ns, nslen)) < 0 ||
	    (error = put_string(out, reserved, reservedlen)) < 0 ||
	    (error = put_string(out, hashalg, strlen(hashalg))) < 0)
		return error;
	return put_string(out, h, hlen);
}

int bm_sshsig_sign(bm_buf *armored, const void *data, size_t len, const bm_sshsig_key *key, const char *ns)
{
	unsigned char h[crypto_hash_sha512_BYTES], sig[crypto_sign_BYTES], blob[PUBBLOB_LEN];
	bm_buf tosign = BM_BUF_INIT, sigblob = BM_BUF_INIT, out = BM_BUF_INIT;
	int error;

	if (!ns || !*ns)
		return bm_error_set(BM_EINVALID, "an SSH signature needs a namespace (git signs in \"git\")");
	crypto_hash_sha512(h, data, len);
	if ((error = signed_data(&tosign, ns, strlen(ns), NULL, 0, "sha512", h, sizeof(h))) < 0)
		goto done;
	crypto_sign_detached(sig, NULL, (const unsigned char *)tosign.ptr, tosign.size, key->sk);
	if ((error = put_string(&sigblob, ED25519_NAME, 11)) < 0 ||
	    (error = put_string(&sigblob, sig, sizeof(sig))) < 0)
		goto done;
	pubblob(blob, key->pk);
	if ((error = bm_buf_put(&out, SSHSIG_MAGIC, 6)) < 0 ||
	    (error = put_u32(&out, 1)) < 0 ||
	    (error = put_string(&out, blob, sizeof(blob))) < 0 ||
	    (error = put_string(&out, ns, strlen(ns))) < 0 ||
	    (error = put_string(&out, NULL, 0)) < 0 ||
	    (error = put_string(&out, "sha512", 6)) < 0 ||
	    (error = put_string(&out, sigblob.ptr, sigblob.size)) < 0)
		goto done;
	error = armor_encode(armored, (const unsigned char *)out.ptr, out.size, ARMOR_SIG);
done:
	bm_buf_dispose(&tosign);
	bm_buf_dispose(&sigblob);
	bm_buf_dispose(&out);
	return error;
}

int bm_sshsig_sign_commit(bm_buf *signature, const char *content, size_t len, void *payload)
{
	size_t before = signature->size;
	int error;

	if (!payload)
		return bm_error_set(BM_EINVALID, "no SSH signing key given for the commit");
	if ((error = bm_sshsig_sign(signature, content, len, payload, "git")) < 0)
		return error;
	/* libgit2 writes each line of the signature as a header continuation line; a final
	 * newline would become an extra empty continuation line git does not write */
	if (signature->size > before && signature->ptr[signature->size - 1] == '\n')
		signature->ptr[--signature->size] = '\0';
	return 0;
}

/* ---- verification ---- */

typedef struct {
	unsigned char pk[32];
	const unsigned char *ns;
	size_t nslen;
	const unsigned char *reserved;
	size_t reservedlen;
	const char *hashalg;
	unsigned char sig[crypto_sign_BYTES];
} sshsig;

static int sshsig_parse(sshsig *out, bm_buf *raw, const char *armored)
{
	const unsigned char *s, *pub, *sigblob, *sigbytes;
	size_t slen, publen, sigbloblen, sigbyteslen;
	uint32_t version;
	reader r, sr;
	int error;

	memset(out, 0, sizeof(*out));
	if (!armored)
		return bm_error_set(BM_EINVALID, "no SSH signature given");
	if ((error = armor_decode(raw, armored, strlen(armored), ARMOR_SIG, "SSH signature")) < 0)
		return error;
	r.p = (const unsigned char *)raw->ptr;
	r.left = raw->size;
	if (r.left < 6 || memcmp(r.p, SSHSIG_MAGIC, 6) != 0)
		return bm_error_set(BM_EINVALID, "SSH signature: no SSHSIG preamble");
	r.p += 6;
	r.left -= 6;
	if (get_u32(&r, &version) < 0)
		goto malformed;
	if (version != 1)
		return bm_error_set(BM_EUNSUPPORTED, "SSH signature: version %u is not supported (only 1)", version);
	if (get_string(&r, &pub, &publen) < 0)
		goto malformed;
	if ((error = parse_pubblob(out->pk, pub, publen, "SSH signature")) < 0)
		return error;
	if (get_string(&r, &out->ns, &out->nslen) < 0 ||
	    get_string(&r, &out->reserved, &out->reservedlen) < 0 ||
	    get_string(&r, &s, &slen) < 0 ||
	    get_string(&r, &sigblob, &sigbloblen) < 0)
		goto malformed;
	if (r.left)
		return bm_error_set(BM_EINVALID, "SSH signature: trailing bytes after the signature");
	if (string_is(s, slen, "sha512"))
		out->hashalg = "sha512";
	else if (string_is(s, slen, "sha256"))
		out->hashalg = "sha256";
	else
		return bm_error_set(BM_EUNSUPPORTED, "SSH signature: hash algorithm \"%.*s\" is not sha512 or sha256",
				    (int)(slen > 32 ? 32 : slen), (const char *)s);
	sr.p = sigblob;
	sr.left = sigbloblen;
	if (get_string(&sr, &s, &slen) < 0)
		goto malformed;
	if (!string_is(s, slen, ED25519_NAME))
		return bm_error_set(BM_EUNSUPPORTED, "SSH signature: signature type \"%.*s\" is not ssh-ed25519",
				    (int)(slen > 40 ? 40 : slen), (const char *)s);
	if (get_string(&sr, &sigbytes, &sigbyteslen) < 0 || sigbyteslen != crypto_sign_BYTES || sr.left)
		goto malformed;
	memcpy(out->sig, sigbytes, crypto_sign_BYTES);
	return 0;
malformed:
	return bm_error_set(BM_EINVALID, "SSH signature: malformed (truncated or damaged)");
}

/* The next whitespace-separated token of *p; double quotes group (and are kept). */
static int next_token(const char **p, const char **tok, size_t *len)
{
	const char *s = *p;
	int quoted = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '\n' || *s == '\r')
		return 0;
	*tok = s;
	while (*s && *s != '\n' && *s != '\r' && (quoted || (*s != ' ' && *s != '\t'))) {
		if (*s == '"')
			quoted = !quoted;
		s++;
	}
	*len = (size_t)(s - *tok);
	*p = s;
	return 1;
}

static int looks_like_keytype(const char *t, size_t n)
{
	return (n > 4 && !memcmp(t, "ssh-", 4)) || (n > 6 && !memcmp(t, "ecdsa-", 6)) ||
	       (n > 3 && !memcmp(t, "sk-", 3));
}

/* Does a comma-separated pattern list (quotes allowed) match `ns`? */
static int ns_list_matches(const char *list, size_t n, const char *ns)
{
	char pat[256];
	size_t i = 0, k;
	while (i < n) {
		k = 0;
		while (i < n && list[i] != ',') {
			if (list[i] != '"' && k < sizeof(pat) - 1)
				pat[k++] = list[i];
			i++;
		}
		i++;
		pat[k] = '\0';
		if (k && fnmatch(pat, ns, 0) == 0)
			return 1;
	}
	return 0;
}

/* Options of an allowed-signers line: 1 usable for `ns`, 0 not (why in *reason). */
static int options_allow(const char *opt, size_t n, const char *ns, const char **reason)
{
	size_t i = 0, start;
	int quoted;
	while (i < n) {
		start = i;
		quoted = 0;
		while (i < n && (quoted || opt[i] != ',')) {
			if (opt[i] == '"')
				quoted = !quoted;
			i++;
		}
		if (i - start > 11 && !strncasecmp(opt + start, "namespaces=", 11)) {
			if (!ns_list_matches(opt + start + 11, i - start - 11, ns)) {
				*reason = "not for this namespace";
				return 0;
			}
		} else {
			*reason = "with options bootmeta does not check (cert-authority, valid-after, valid-before)";
			return 0;
		}
		i++;
	}
	return 1;
}

/* Find `pk` in an allowed-signers text. */
static int allowed_find(bm_buf *principal_out, const char *text, const unsigned char pk[32], const char *ns)
{
	unsigned char want[PUBBLOB_LEN], blob[PUBBLOB_LEN + 1];
	const char *p = text, *line_end, *tok, *principals = NULL, *opts, *type, *b64;
	size_t toklen, plen = 0, olen, tlen, blen, got;
	const char *skipped = NULL;
	bm_buf fp = BM_BUF_INIT;
	int error = 0;

	pubblob(want, pk);
	while (p && *p) {
		line_end = strchr(p, '\n');
		opts = NULL;
		olen = 0;
		if (!next_token(&p, &tok, &toklen) || *tok == '#')
			goto next;
		principals = tok;
		plen = toklen;
		if (!next_token(&p, &tok, &toklen))
			goto next;
		if (!looks_like_keytype(tok, toklen)) {
			opts = tok;
			olen = toklen;
			if (!next_token(&p, &tok, &toklen))
				goto next;
		}
		type = tok;
		tlen = toklen;
		if (!next_token(&p, &b64, &blen))
			goto next;
		if (tlen != 11 || memcmp(type, ED25519_NAME, 11) != 0)
			goto next;
		if (sodium_base642bin(blob, sizeof(blob), b64, blen, NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 || got != PUBBLOB_LEN ||
		    memcmp(blob, want, PUBBLOB_LEN) != 0)
			goto next;
		if (opts && !options_allow(opts, olen, ns, &skipped))
			goto next;
		if (principal_out) {
			bm_buf_clear(principal_out);
			if (plen >= 2 && principals[0] == '"' && principals[plen - 1] == '"')
				error = bm_buf_put(principal_out, principals + 1, plen - 2);
			else
				error = bm_buf_put(principal_out, principals, plen);
		}
		goto done;
next:
		p = line_end ? line_end + 1 : NULL;
	}
	if ((error = fingerprint_of(&fp, pk)) < 0)
		goto done;
	if (skipped)
		error = bm_error_set(BM_ENOTFOUND, "signing key %s is in the allowed signers only %s", fp.ptr, skipped);
	else
		error = bm_error_set(BM_ENOTFOUND, "signing key %s is not in the allowed signers", fp.ptr);
done:
	bm_buf_dispose(&fp);
	return error;
}

int bm_sshsig_verify_ns(const char *armored_sig, const void *data, size_t len, const char *ns,
			const char *allowed_signers_text, bm_buf *principal_out)
{
	unsigned char h[crypto_hash_sha512_BYTES];
	bm_buf raw = BM_BUF_INIT, tosign = BM_BUF_INIT;
	size_t hlen;
	sshsig s;
	int error;

	if (!ns || !*ns)
		return bm_error_set(BM_EINVALID, "verifying an SSH signature needs a namespace");
	if ((error = sshsig_parse(&s, &raw, armored_sig)) < 0)
		goto done;
	if (!string_is(s.ns, s.nslen, ns)) {
		error = bm_error_set(BM_EVERIFY, "SSH signature is for namespace \"%.*s\", not \"%s\"",
				     (int)(s.nslen > 64 ? 64 : s.nslen), (const char *)s.ns, ns);
		goto done;
	}
	if ((error = allowed_find(principal_out, allowed_signers_text ? allowed_signers_text : "", s.pk, ns)) < 0)
		goto done;
	if (!strcmp(s.hashalg, "sha512")) {
		crypto_hash_sha512(h, data, len);
		hlen = crypto_hash_sha512_BYTES;
	} else {
		crypto_hash_sha256(h, data, len);
		hlen = crypto_hash_sha256_BYTES;
	}
	if ((error = signed_data(&tosign, ns, strlen(ns), s.reserved, s.reservedlen, s.hashalg, h, hlen)) < 0)
		goto done;
	if (crypto_sign_verify_detached(s.sig, (const unsigned char *)tosign.ptr, tosign.size, s.pk) != 0)
		error = bm_error_set(BM_EVERIFY, "SSH signature does not verify: the signed content was changed or the signature damaged");
done:
	if (error < 0 && principal_out)
		bm_buf_clear(principal_out);
	bm_buf_dispose(&raw);
	bm_buf_dispose(&tosign);
	return error;
}

int bm_sshsig_verify(const char *armored_sig, const void *data, size_t len,
		     const char *allowed_signers_text, bm_buf *principal_out)
{
	return bm_sshsig_verify_ns(armored_sig, data, len, "git", allowed_signers_text, principal_out);
}

int bm_sshsig_verify_commit(const char *commit_object, size_t len, const char *allowed_signers_text,
			    bm_buf *principal_out)
{
	bm_buf payload = BM_BUF_INIT, sig = BM_BUF_INIT;
	const char *p = commit_object, *end = commit_object + len, *nl;
	int in_sig = 0, found = 0, in_headers = 1, error = 0;

	while (p < end) {
		size_t n;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (in_headers && n == 1 && *p == '\n')
			in_headers = 0;
		if (in_headers && in_sig && *p == ' ') {
			error = bm_buf_put(&sig, p + 1, n - 1);
		} else if (in_headers && !found && n >= 7 && !memcmp(p, "gpgsig ", 7)) {
			in_sig = found = 1;
			error = bm_buf_put(&sig, p + 7, n - 7);
		} else {
			in_sig = 0;
			error = bm_buf_put(&payload, p, n);
		}
		if (error < 0)
			goto done;
		p += n;
	}
	if (!found) {
		error = bm_error_set(BM_ENOTFOUND, "the commit is not signed (no gpgsig header)");
		goto done;
	}
	error = bm_sshsig_verify(sig.ptr, payload.ptr ? payload.ptr : "", payload.size,
				 allowed_signers_text, principal_out);
done:
	bm_buf_dispose(&payload);
	bm_buf_dispose(&sig);
	return error;
}
