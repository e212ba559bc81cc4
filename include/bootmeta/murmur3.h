/* bootmeta/murmur3.h: MurmurHash3 x86 32-bit (lib/murmur3.c), whole-buffer and incremental.
 * Flag rollouts bucket with it (bootmeta/flags.h); it depends on nothing else. */
#ifndef BOOTMETA_MURMUR3_H
#define BOOTMETA_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Austin Appleby's algorithm, little-endian block reads. */

BM_EXTERN uint32_t bm_murmur3_x86_32(const void *data, size_t len, uint32_t seed);

/* Incremental form: the hash of the concatenation of every update. */
typedef struct {
	uint32_t h;      /* running state */
	uint32_t tail;   /* bytes not yet forming a full 4-byte block, little-endian */
	uint32_t len;    /* total length so far (mod 2^32, as the algorithm uses it) */
} bm_murmur3;

BM_EXTERN void bm_murmur3_init(bm_murmur3 *m, uint32_t seed);
BM_EXTERN void bm_murmur3_update(bm_murmur3 *m, const void *data, size_t len);
/* The hash of everything added so far; `m` is not changed (more updates may follow). */
BM_EXTERN uint32_t bm_murmur3_final(const bm_murmur3 *m);

#ifdef __cplusplus
}
#endif
#endif
