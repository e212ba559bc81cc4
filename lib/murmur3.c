/* murmur3.c: MurmurHash3 x86 32-bit, whole-buffer and incremental. Feature-flag rollouts
 * bucket with it because flagd's `fractional` does: the same hash gives the same buckets.
 * Blocks are read little-endian byte by byte, so the result does not depend on the host's
 * byte order or on alignment. */
#include "bootmeta/murmur3.h"

#define C1 0xcc9e2d51u
#define C2 0x1b873593u

static inline uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline uint32_t mix_k(uint32_t k)
{
	k *= C1;
	k = rotl32(k, 15);
	return k * C2;
}

static inline uint32_t mix_h(uint32_t h, uint32_t k)
{
	h ^= mix_k(k);
	h = rotl32(h, 13);
	return h * 5 + 0xe6546b64u;
}

static inline uint32_t fmix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static inline uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t bm_murmur3_x86_32(const void *data, size_t len, uint32_t seed)
{
	const unsigned char *p = data;
	size_t nblocks = len / 4, i;
	uint32_t h = seed, k = 0;

	for (i = 0; i < nblocks; i++, p += 4)
		h = mix_h(h, load_le32(p));
	switch (len & 3) {
	case 3: k ^= (uint32_t)p[2] << 16; /* fall through */
	case 2: k ^= (uint32_t)p[1] << 8;  /* fall through */
	case 1: k ^= p[0];
		h ^= mix_k(k);
	}
	return fmix(h ^ (uint32_t)len);
}

void bm_murmur3_init(bm_murmur3 *m, uint32_t seed)
{
	m->h = seed;
	m->tail = 0;
	m->len = 0;
}

void bm_murmur3_update(bm_murmur3 *m, const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned int have = m->len & 3;
	uint32_t h = m->h, tail = m->tail;

	m->len += (uint32_t)len;
	/* Complete a block started by an earlier update. */
	while (have && len) {
		tail |= (uint32_t)*p++ << (8 * have);
		len--;
		if (++have == 4) {
			h = mix_h(h, tail);
			tail = 0;
			have = 0;
		}
	}
	for (; len >= 4; len -= 4, p += 4)
		h = mix_h(h, load_le32(p));
	for (; len; len--, have++)
		tail |= (uint32_t)*p++ << (8 * have);
	m->h = h;
	m->tail = tail;
}

uint32_t bm_murmur3_final(const bm_murmur3 *m)
{
	uint32_t h = m->h;
	if (m->len & 3)
		h ^= mix_k(m->tail);
	return fmix(h ^ m->len);
}
