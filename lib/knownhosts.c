/* knownhosts.c: an ssh server's host key against an OpenSSH known_hosts file (see
 * knownhosts.h). The rules are OpenSSH's (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): a line is
 * `[@marker] hosts keytype base64key [comment]`; a host matches when one of its patterns
 * matches and none of its negated ones does; the key is accepted when a matching line has
 * exactly this key, refused as changed when a matching line has another key of the same
 * type, and refused as unknown when no matching line has this type. */
#include <errno.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "knownhosts.h"
#include "sha1.h"

/* ---- HMAC-SHA1 (RFC 2104): only hashed host names use it ---- */

void bm__hmac_sha1(unsigned char out[20], const unsigned char *key, size_t klen, const unsigned char *msg,
		   size_t mlen)
{
	unsigned char k[64] = { 0 }, pad[64], inner[20];
	bm__sha1_ctx c;
	size_t i;
	if (klen > 64) {
		bm__sha1_init(&c);
		bm__sha1_update(&c, key, klen);
		bm__sha1_final(k, &c);
	} else if (klen) {
		memcpy(k, key, klen);
	}
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	bm__sha1_init(&c);
	bm__sha1_update(&c, pad, 64);
	bm__sha1_update(&c, msg, mlen);
	bm__sha1_final(inner, &c);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	bm__sha1_init(&c);
	bm__sha1_update(&c, pad, 64);
	bm__sha1_update(&c, inner, 20);
	bm__sha1_final(out, &c);
}

/* ---- known_hosts ---- */

/* Base64 `b64` (len bytes) decoded into out[cap]; the decoded length, or -1. */
static long b64_decode(unsigned char *out, size_t cap, const char *b64, size_t len)
{
	size_t got = 0;
	if (sodium_base642bin(out, cap, b64, len, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (long)got;
}

/* |1|base64(salt)|base64(hmac-sha1(salt, name)) */
static int hashed_match(const char *field, size_t len, const char *name)
{
	const char *salt = field + 3, *bar = memchr(salt, '|', len - 3);
	unsigned char s[64], h[20], want[32];
	long ns, nh;
	if (!bar)
		return 0;
	ns = b64_decode(s, sizeof(s), salt, (size_t)(bar - salt));
	nh = b64_decode(want, sizeof(want), bar + 1, len - (size_t)(bar + 1 - field));
	if (ns <= 0 || nh != 20)
		return 0;
	bm__hmac_sha1(h, s, (size_t)ns, (const unsigned char *)name, strlen(name));
	return sodium_memcmp(h, want, 20) == 0;
}

/* OpenSSH's host patterns: `*` any run, `?` any one character, the rest literal and
 * case-insensitive (so `[host]:port` is text, not a character class). */
static int pattern_match(const char *p, size_t np, const char *s)
{
	while (np) {
		if (*p == '*') {
			p++, np--;
			for (;;) {
				if (pattern_match(p, np, s))
					return 1;
				if (!*s)
					return 0;
				s++;
			}
		}
		if (!*s || (*p != '?' && tolower((unsigned char)*p) != tolower((unsigned char)*s)))
			return 0;
		p++, np--, s++;
	}
	return *s == '\0';
}

/* 1 when the host field (len bytes) names `name`: a pattern matches and no negated one does */
static int hosts_match(const char *field, size_t len, const char *name)
{
	size_t i = 0;
	int hit = 0;
	if (len > 3 && !memcmp(field, "|1|", 3))
		return hashed_match(field, len, name);
	while (i < len) {
		size_t j = i, n;
		int neg;
		while (j < len && field[j] != ',')
			j++;
		n = j - i;
		neg = n && field[i] == '!';
		if (neg)
			i++, n--;
		if (n) {
			if (pattern_match(field + i, n, name)) {
				if (neg)
					return 0;
				hit = 1;
			}
		}
		i = j + 1;
	}
	return hit;
}

/* The key type a blob names (its first string), into out[cap]. */
static void blob_type(char *out, size_t cap, const unsigned char *key, size_t len)
{
	uint32_t n;
	snprintf(out, cap, "unknown");
	if (len < 4)
		return;
	n = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	if (n == 0 || n > len - 4 || n >= cap)
		return;
	memcpy(out, key + 4, n);
	out[n] = '\0';
}

static void fingerprint(char *out, size_t cap, const unsigned char *key, size_t len)
{
	unsigned char h[32];
	char b64[64];
	crypto_hash_sha256(h, key, len);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(out, cap, "SHA256:%s", b64);
}

/* The next whitespace-separated word of *p (stops at the end of the line). */
static const char *word(const char **p, size_t *n)
{
	const char *s = *p, *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s;
	while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r')
		e++;
	*n = (size_t)(e - s);
	*p = e;
	return s;
}

int bm__known_hosts_check(const char *path, const char *host, int port, const unsigned char *key, size_t len)
{
	FILE *f;
	char name[600], type[64], fp[80], line[16384];
	unsigned char blob[8192];
	char other[64] = "";
	unsigned lineno = 0, changed_at = 0;
	int found = 0, revoked = 0;

	if (port == 22 || port <= 0)
		snprintf(name, sizeof(name), "%s", host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", host, port);
	blob_type(type, sizeof(type), key, len);
	fingerprint(fp, sizeof(fp), key, len);
	if (!(f = fopen(path, "r")) && errno != ENOENT)
		return bm_error_set(BM_EIO, "%s: cannot read the known_hosts file: %s", path, strerror(errno));
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = line, *w, *hosts, *kt, *kb;
		size_t n, nh, nkt, nkb;
		long nblob;
		int marker_revoked = 0;
		lineno++;
		w = word(&p, &n);
		if (!n || *w == '#')
			continue;
		if (*w == '@') {
			if (n == strlen("@cert-authority") && !memcmp(w, "@cert-authority", n))
				continue;
			if (!(n == strlen("@revoked") && !memcmp(w, "@revoked", n)))
				continue; /* a marker OpenSSH does not know either */
			marker_revoked = 1;
			w = word(&p, &n);
		}
		hosts = w, nh = n;
		kt = word(&p, &nkt);
		kb = word(&p, &nkb);
		if (!nkt || !nkb || !hosts_match(hosts, nh, name))
			continue;
		nblob = b64_decode(blob, sizeof(blob), kb, nkb);
		if (nblob == (long)len && !memcmp(blob, key, len)) {
			if (marker_revoked)
				revoked = 1;
			else
				found = 1;
		} else if (!marker_revoked && nkt == strlen(type) && !memcmp(kt, type, nkt)) {
			if (!changed_at)
				changed_at = lineno;
		} else if (!marker_revoked && !*other && nkt < sizeof(other)) {
			memcpy(other, kt, nkt);
			other[nkt] = '\0';
		}
	}
	if (f && ferror(f)) {
		fclose(f);
		return bm_error_set(BM_EIO, "%s: cannot read the known_hosts file", path);
	}
	if (f)
		fclose(f);
	if (revoked)
		return bm_error_set(BM_EVERIFY, "the ssh host key of %s (%s %s) is marked @revoked in %s; refused",
				    name, type, fp, path);
	if (found)
		return 0;
	if (changed_at) {
		bm_error_set(BM_EVERIFY, "the ssh host key of %s has changed: %s line %u has another %s key than the "
			     "%s the server offers now. Someone may be impersonating the server, or its key was "
			     "replaced; refused, nothing was fetched or pushed", name, path, changed_at, type, fp);
		return bm_error_set_about(BM_ABOUT_SSH_HOST_CHANGED, name);
	}
	if (*other)
		bm_error_set(BM_EVERIFY, "the ssh host %s is not in %s with the key type it offers (the file has a %s key "
			     "for it; the server offers the %s key %s); refused, nothing was fetched or pushed", name,
			     path, other, type, fp);
	else
		bm_error_set(BM_EVERIFY, "the ssh host %s is not in %s%s (it offers the %s key %s); refused, nothing "
			     "was fetched or pushed", name, path, f ? "" : " (no such file)", type, fp);
	return bm_error_set_about(BM_ABOUT_SSH_HOST_UNKNOWN, name);
}
