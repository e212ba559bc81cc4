/* age_stub_secrets_tmp.c: TEMPORARY fake of the age module (NOT age, NOT secure) so the
 * secrets branch builds and tests before lib/age.c lands. Keys are real X25519/Bech32 so
 * recipients validate; the "ciphertext" is a list of recipients + a MAC + XOR'd bytes.
 * Delete on merge with main. */
#if !__has_include("bootmeta/age.h")
#define _GNU_SOURCE
#include "age_stub_secrets_tmp.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sodium.h>

static const char CS[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod(const unsigned char *v, size_t n)
{
	static const uint32_t G[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };
	uint32_t chk = 1;
	size_t i;
	int j;
	for (i = 0; i < n; i++) {
		uint32_t b = chk >> 25;
		chk = ((chk & 0x1ffffff) << 5) ^ v[i];
		for (j = 0; j < 5; j++)
			if ((b >> j) & 1)
				chk ^= G[j];
	}
	return chk;
}

static int b32_encode(bm_buf *out, const char *hrp, const unsigned char *data, size_t len, int upper)
{
	unsigned char v[256];
	size_t n = 0, hl = strlen(hrp), i, nd;
	uint32_t acc = 0, mod;
	int bits = 0;
	for (i = 0; i < hl; i++)
		v[n++] = (unsigned char)(tolower((unsigned char)hrp[i]) >> 5);
	v[n++] = 0;
	for (i = 0; i < hl; i++)
		v[n++] = (unsigned char)(tolower((unsigned char)hrp[i]) & 31);
	nd = n;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			v[n++] = (acc >> bits) & 31;
		}
	}
	if (bits)
		v[n++] = (acc << (5 - bits)) & 31;
	for (i = 0; i < 6; i++)
		v[n + i] = 0;
	mod = polymod(v, n + 6) ^ 1;
	for (i = 0; i < 6; i++)
		v[n + i] = (mod >> (5 * (5 - i))) & 31;
	bm_buf_puts(out, hrp);
	bm_buf_putc(out, '1');
	for (i = nd; i < n + 6; i++)
		bm_buf_putc(out, upper ? (char)toupper((unsigned char)CS[v[i]]) : CS[v[i]]);
	return 0;
}

static int b32_decode(unsigned char out[32], const char *s, size_t slen, const char *hrp)
{
	unsigned char v[256];
	size_t hl = strlen(hrp), n = 0, i, o = 0;
	uint32_t acc = 0;
	int bits = 0;
	if (slen < hl + 7 || slen > 200 || strncasecmp(s, hrp, hl) || s[hl] != '1')
		return -1;
	for (i = 0; i < hl; i++)
		v[n++] = (unsigned char)(tolower((unsigned char)hrp[i]) >> 5);
	v[n++] = 0;
	for (i = 0; i < hl; i++)
		v[n++] = (unsigned char)(tolower((unsigned char)hrp[i]) & 31);
	for (i = hl + 1; i < slen; i++) {
		const char *p = strchr(CS, tolower((unsigned char)s[i]));
		if (!p || !s[i])
			return -1;
		v[n++] = (unsigned char)(p - CS);
	}
	if (polymod(v, n) != 1)
		return -1;
	for (i = 2 * hl + 1; i < n - 6; i++) {
		acc = (acc << 5) | v[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= 32)
				return -1;
			out[o++] = (acc >> bits) & 0xff;
		}
	}
	return o == 32 ? 0 : -1;
}

int bm_age_keygen(bm_buf *identity, bm_buf *recipient)
{
	unsigned char sk[32];
	randombytes_buf(sk, sizeof(sk));
	b32_encode(identity, "AGE-SECRET-KEY-", sk, 32, 1);
	sodium_memzero(sk, sizeof(sk));
	return bm_age_recipient_of(recipient, identity->ptr);
}

int bm_age_recipient_of(bm_buf *recipient, const char *identity)
{
	unsigned char sk[32], pk[32];
	if (b32_decode(sk, identity, strlen(identity), "AGE-SECRET-KEY-") < 0)
		return bm_error_set(BM_EINVALID, "not an age identity");
	crypto_scalarmult_base(pk, sk);
	sodium_memzero(sk, sizeof(sk));
	return b32_encode(recipient, "age", pk, 32, 0);
}

#define MAGIC "bootmeta-stub-age\n"

int bm_age_encrypt_buf(bm_buf *out, const void *plain, size_t len, const char *const *recipients,
		       size_t nrecipients, int armor)
{
	unsigned char mac[32];
	char hex[65];
	size_t i, start = out->size;
	(void)armor;
	if (!nrecipients)
		return bm_error_set(BM_EINVALID, "no recipients");
	bm_buf_puts(out, MAGIC);
	for (i = 0; i < nrecipients; i++)
		bm_buf_printf(out, "-> %s\n", recipients[i]);
	bm_buf_puts(out, "---\n");
	for (i = 0; i < len; i++)
		bm_buf_putc(out, (char)(((const unsigned char *)plain)[i] ^ 0x5a));
	crypto_generichash(mac, 32, (unsigned char *)out->ptr + start, out->size - start, NULL, 0);
	bm_hex_encode(hex, mac, 32);
	bm_buf_puts(out, hex);
	return 0;
}

int bm_age_decrypt_buf(bm_buf *out, const void *ciphertext, size_t len, const char *identities_text)
{
	const char *c = ciphertext, *p, *end = c + len, *body;
	unsigned char mac[32];
	char hex[65];
	bm_buf mine = BM_BUF_INIT;
	int match = 0;
	size_t i;

	if (len < sizeof(MAGIC) - 1 + 4 + 64 || memcmp(c, MAGIC, sizeof(MAGIC) - 1))
		return bm_error_set(BM_EFORMAT, "not an age file (stub)");
	/* recipients of every identity line */
	for (p = identities_text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 15 && !strncmp(p, "AGE-SECRET-KEY-", 15)) {
			char line[256];
			if (n < sizeof(line)) {
				memcpy(line, p, n);
				line[n] = '\0';
				bm_buf_putc(&mine, '\n');
				if (bm_age_recipient_of(&mine, line) < 0)
					mine.size -= 1;
				bm_buf_putc(&mine, '\n');
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	body = memmem(c, len, "\n---\n", 5);
	if (!body)
		return bm_error_set(BM_EFORMAT, "bad header (stub)");
	for (p = c + sizeof(MAGIC) - 1; p < body && !match;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char want[256];
		if (!nl || nl - p < 4 || (size_t)(nl - p) > 200)
			break;
		snprintf(want, sizeof(want), "\n%.*s\n", (int)(nl - p - 3), p + 3);
		if (mine.ptr && strstr(mine.ptr, want))
			match = 1;
		p = nl + 1;
	}
	bm_buf_dispose(&mine);
	if (!match)
		return bm_error_set(BM_ENORECIPIENT, "no identity matched any of the file's recipients");
	crypto_generichash(mac, 32, (const unsigned char *)c, len - 64, NULL, 0);
	bm_hex_encode(hex, mac, 32);
	if (memcmp(hex, end - 64, 64))
		return bm_error_set(BM_EVERIFY, "header MAC failed (stub)");
	body += 5;
	for (i = 0; body + i < end - 64; i++)
		bm_buf_putc(out, (char)(body[i] ^ 0x5a));
	return 0;
}

int bm_age_identity_file_read(bm_buf *out, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return bm_error_set(errno == ENOENT ? BM_ENOTFOUND : BM_EIO, "%s: %s", path, strerror(errno));
	if (st.st_mode & 077)
		return bm_error_set(BM_EPERM, "%s is readable by others (mode %03o); run chmod 600 %s", path,
				    (unsigned)(st.st_mode & 0777), path);
	return bm_file_read(out, path, 1 << 20);
}
#endif
