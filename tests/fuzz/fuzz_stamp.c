/* fuzz_stamp.c: the build stamp scanner over arbitrary bytes. A stamp that decodes must
 * encode again (it passed the writer's checks) and the new stamp must decode to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	if (!a || !*a)
		return !b || !*b;
	return b && strcmp(a, b) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bm_stamp *st = NULL, *again = NULL;
	bm_buf enc = BM_BUF_INIT;
	size_t i;
	uint8_t *copy = malloc(size ? size : 1);
	int rc;
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rc = bm_stamp_find(&st, copy, size);
	if (rc < 0) {
		if (st || (rc != BM_ENOTFOUND && rc != BM_ECORRUPT && rc != BM_ENOMEM))
			abort();
		goto done;
	}
	if (bm_stamp_encode(&enc, st) < 0)
		abort();
	if (bm_stamp_decode(&again, enc.ptr, enc.size) < 0)
		abort();
	if (!same(st->project, again->project) || !same(st->release, again->release) ||
	    !same(st->version, again->version) || !same(st->meta_commit, again->meta_commit) ||
	    st->source_count != again->source_count)
		abort();
	for (i = 0; i < st->source_count; i++)
		if (!same(st->sources[i].url, again->sources[i].url) ||
		    !same(st->sources[i].commit, again->sources[i].commit))
			abort();
done:
	bm_stamp_free(st);
	bm_stamp_free(again);
	bm_buf_dispose(&enc);
	free(copy);
	return 0;
}
