/* fuzz_age_header.c: libFuzzer target over what an attacker controls in an age file: the
 * armor decoder, the header parser, and a whole decryption (stanza unwrapping, MAC, STREAM)
 * with the CCTV test identity and passphrase, at most scrypt 2^10 to stay fast. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bm_age_identities *ids;

static int discard(void *ctx, const void *p, size_t len)
{
	(void)ctx;
	(void)p;
	(void)len;
	return 0;
}

struct src {
	const uint8_t *p;
	size_t len, pos;
};

/* Odd-sized reads, to shake out buffer-boundary bugs. */
static int src_read(void *ctx, void *buf, size_t cap, size_t *got)
{
	struct src *s = ctx;
	size_t n = s->len - s->pos;
	if (n > cap)
		n = cap;
	if (n > 777)
		n = 777;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	*got = n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bm_buf out = BM_BUF_INIT;
	bm_age_failure failure;
	size_t hlen = 0, n = 0;
	struct src s = { data, size, 0 };

	if (!ids) {
		if (bm_global_init() < 0 || bm_age_identities_new(&ids) < 0 ||
		    bm_age_identities_add_text(ids, "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0\n") < 0 ||
		    bm_age_identities_add_passphrase(ids, "password") < 0 ||
		    bm_age_identities_set_max_work_factor(ids, 10) < 0)
			abort();
	}
	if (bm_age_header_parse(data, size, &hlen, &n) == 0 && (hlen > size || n == 0))
		abort();
	if (bm_age_armor_decode(&out, data, size) == 0 &&
	    bm_age_header_parse(out.ptr, out.size, &hlen, &n) == 0 && hlen > out.size)
		abort();
	if (bm_age_decrypt_stream(discard, NULL, src_read, &s, ids, BM_AGE_ARMOR_AUTO, &failure) == 0) {
		if (failure != BM_AGE_FAIL_NONE)
			abort();
	} else if (failure == BM_AGE_FAIL_NONE) {
		abort();
	}
	bm_buf_dispose(&out);
	return 0;
}
