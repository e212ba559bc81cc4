/* sha1.h: SHA-1 inside the library (lib/sha1.c): git's pack and index checksums and
 * OpenSSH's hashed known_hosts names. Not a public API. */
#ifndef BM_SHA1_H
#define BM_SHA1_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t h[5];
	uint64_t len;
	unsigned char blk[64];
	size_t bl;
} bm__sha1_ctx;

void bm__sha1_init(bm__sha1_ctx *c);
void bm__sha1_update(bm__sha1_ctx *c, const void *data, size_t n);
void bm__sha1_final(unsigned char out[20], bm__sha1_ctx *c);
/* the digest of one buffer (also what test_pack checks against FIPS 180's examples) */
void bm__sha1(unsigned char out[20], const void *data, size_t n);

#endif
