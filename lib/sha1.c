/* sha1.c: SHA-1 (FIPS 180-4), for what git's formats and OpenSSH's hashed host names need:
 * the pack and index checksums (pack.c) and HMAC-SHA1 of known_hosts names (knownhosts.c).
 * Not for anything that must resist collisions. */
#include <string.h>

#include "sha1.h"

static uint32_t rol32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;
	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       (uint32_t)p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5A827999u;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ED9EBA1u;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDCu;
		else
			f = b ^ c ^ d, k = 0xCA62C1D6u;
		t = rol32(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol32(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void bm__sha1_init(bm__sha1_ctx *c)
{
	static const uint32_t iv[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u };
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->bl = 0;
}

void bm__sha1_update(bm__sha1_ctx *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	c->len += n;
	if (c->bl) {
		size_t take = 64 - c->bl < n ? 64 - c->bl : n;
		memcpy(c->blk + c->bl, p, take);
		c->bl += take, p += take, n -= take;
		if (c->bl < 64)
			return;
		sha1_block(c->h, c->blk);
		c->bl = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		sha1_block(c->h, p);
	memcpy(c->blk, p, n);
	c->bl = n;
}

void bm__sha1_final(unsigned char out[20], bm__sha1_ctx *c)
{
	uint64_t bits = c->len * 8;
	unsigned char pad = 0x80, zero = 0, lenb[8];
	int i;
	bm__sha1_update(c, &pad, 1);
	while (c->bl != 56)
		bm__sha1_update(c, &zero, 1);
	for (i = 0; i < 8; i++)
		lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
	bm__sha1_update(c, lenb, 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

void bm__sha1(unsigned char out[20], const void *data, size_t n)
{
	bm__sha1_ctx c;
	bm__sha1_init(&c);
	bm__sha1_update(&c, data, n);
	bm__sha1_final(out, &c);
}
