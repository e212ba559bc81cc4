/* age_codec.c: canonical base64, Bech32 and HKDF-SHA-256 for the age module. Strictness
 * here is what makes age files non-malleable: decoders accept exactly one encoding of
 * each value. */
#include "age_codec.h"

#include <string.h>
#include <sodium.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of each base64 character; 255 outside the alphabet (including '='). */
static const unsigned char b64_table[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
	255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

static int b64_value(unsigned char c)
{
	return b64_table[c] == 255 ? -1 : b64_table[c];
}

int age_b64_is_char(unsigned char c)
{
	return b64_value(c) >= 0;
}

size_t age_b64_encode_raw(char *out, const unsigned char *in, size_t len)
{
	size_t i, o = 0;
	for (i = 0; i + 3 <= len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

size_t age_b64_encode_padded(char *out, const unsigned char *in, size_t len)
{
	size_t o = age_b64_encode_raw(out, in, len);
	while (o % 4)
		out[o++] = '=';
	return o;
}

int age_b64_decode_raw(unsigned char *out, size_t cap, size_t *outlen, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0, need, rest = len % 4;
	unsigned v;

	if (rest == 1)
		return -1;
	need = len / 4 * 3 + (rest ? rest - 1 : 0);
	if (need > cap)
		return -1;
	for (; i + 4 <= len; i += 4) {
		unsigned a = b64_table[p[i]], b = b64_table[p[i + 1]], c = b64_table[p[i + 2]], d = b64_table[p[i + 3]];
		if ((a | b | c | d) & 0x80)
			return -1;
		v = a << 18 | b << 12 | c << 6 | d;
		out[o++] = (unsigned char)(v >> 16);
		out[o++] = (unsigned char)(v >> 8);
		out[o++] = (unsigned char)v;
	}
	if (rest) {
		unsigned a = b64_table[p[i]], b = b64_table[p[i + 1]], c = rest == 3 ? b64_table[p[i + 2]] : 0;
		if ((a | b | c) & 0x80)
			return -1;
		v = a << 18 | b << 12 | c << 6;
		/* canonical: the bits past the last whole byte must be zero */
		if (rest == 2 && (v & 0xffff))
			return -1;
		if (rest == 3 && (v & 0xff))
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (rest == 3)
			out[o++] = (unsigned char)(v >> 8);
	}
	*outlen = o;
	return 0;
}

int age_b64_decode_padded(unsigned char *out, size_t cap, size_t *outlen, const char *in, size_t len)
{
	size_t pad = 0;
	if (len % 4)
		return -1;
	if (len >= 1 && in[len - 1] == '=')
		pad++;
	if (len >= 2 && in[len - 2] == '=')
		pad++;
	return age_b64_decode_raw(out, cap, outlen, in, len - pad);
}

/* ---- Bech32 (BIP 173) ---- */

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t bech32_polymod_step(uint32_t pre)
{
	uint8_t b = (uint8_t)(pre >> 25);
	return ((pre & 0x1ffffff) << 5) ^
	       (-((b >> 0) & 1) & 0x3b6a57b2UL) ^
	       (-((b >> 1) & 1) & 0x26508e6dUL) ^
	       (-((b >> 2) & 1) & 0x1ea119faUL) ^
	       (-((b >> 3) & 1) & 0x3d4233ddUL) ^
	       (-((b >> 4) & 1) & 0x2a1462b3UL);
}

static uint32_t bech32_hrp_checksum(const char *hrp, size_t hrplen)
{
	uint32_t chk = 1;
	size_t i;
	for (i = 0; i < hrplen; i++)
		chk = bech32_polymod_step(chk) ^ ((unsigned char)hrp[i] >> 5);
	chk = bech32_polymod_step(chk);
	for (i = 0; i < hrplen; i++)
		chk = bech32_polymod_step(chk) ^ ((unsigned char)hrp[i] & 31);
	return chk;
}

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }
static char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c; }

int age_bech32_encode(char *out, size_t cap, const char *hrp, const unsigned char *data,
		      size_t len, int upper)
{
	size_t hrplen = strlen(hrp), n5 = (len * 8 + 4) / 5, o = 0, i;
	uint32_t chk, acc = 0;
	int bits = 0;

	if (hrplen + 1 + n5 + 6 + 1 > cap)
		return -1;
	chk = bech32_hrp_checksum(hrp, hrplen);
	for (i = 0; i < hrplen; i++)
		out[o++] = upper ? ascii_upper(hrp[i]) : hrp[i];
	out[o++] = '1';
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			unsigned v = (acc >> (bits - 5)) & 31;
			bits -= 5;
			chk = bech32_polymod_step(chk) ^ v;
			out[o++] = bech32_charset[v];
		}
	}
	if (bits > 0) {
		unsigned v = (acc << (5 - bits)) & 31;
		chk = bech32_polymod_step(chk) ^ v;
		out[o++] = bech32_charset[v];
	}
	for (i = 0; i < 6; i++)
		chk = bech32_polymod_step(chk);
	chk ^= 1;
	for (i = 0; i < 6; i++)
		out[o++] = bech32_charset[(chk >> (5 * (5 - i))) & 31];
	if (upper)
		for (i = hrplen + 1; i < o; i++)
			out[i] = ascii_upper(out[i]);
	out[o] = '\0';
	sodium_memzero(&acc, sizeof(acc));
	return (int)o;
}

int age_bech32_decode(char *hrp, size_t hrpcap, unsigned char *data, size_t cap,
		      size_t *datalen, const char *s, size_t len)
{
	size_t i, sep = 0, hrplen, o = 0;
	int lower = 0, upper = 0, bits = 0, found = 0;
	uint32_t chk, acc = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126)
			return -1;
		if (c >= 'a' && c <= 'z')
			lower = 1;
		if (c >= 'A' && c <= 'Z')
			upper = 1;
		if (c == '1') {
			sep = i;
			found = 1;
		}
	}
	if ((lower && upper) || !found)
		return -1;
	hrplen = sep;
	if (hrplen < 1 || hrplen + 1 > hrpcap || len - sep - 1 < 6)
		return -1;
	for (i = 0; i < hrplen; i++)
		hrp[i] = ascii_lower(s[i]);
	hrp[hrplen] = '\0';
	chk = bech32_hrp_checksum(hrp, hrplen);
	for (i = sep + 1; i < len; i++) {
		const char *p = strchr(bech32_charset, ascii_lower(s[i]));
		unsigned v;
		if (!p || !*p)
			return -1;
		v = (unsigned)(p - bech32_charset);
		chk = bech32_polymod_step(chk) ^ v;
		if (i < len - 6) {
			acc = (acc << 5) | v;
			bits += 5;
			if (bits >= 8) {
				bits -= 8;
				if (o >= cap)
					return -1;
				data[o++] = (unsigned char)(acc >> bits);
				acc &= (1u << bits) - 1;
			}
		}
	}
	if (chk != 1)
		return -1;
	/* at most 4 padding bits, all zero */
	if (bits >= 5 || acc != 0)
		return -1;
	*datalen = o;
	return 0;
}

void age_hkdf(unsigned char out[32], const unsigned char *salt, size_t saltlen,
	      const unsigned char *ikm, size_t ikmlen, const char *info)
{
	crypto_auth_hmacsha256_state st;
	static const unsigned char empty[1];
	unsigned char prk[32], one = 1;

	crypto_auth_hmacsha256_init(&st, salt ? salt : empty, saltlen);
	crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&st, prk);
	crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)info, strlen(info));
	crypto_auth_hmacsha256_update(&st, &one, 1);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(&st, sizeof(st));
}
