/* fuzz_gobuildinfo.c: Go build info from arbitrary bytes (a file image: ELF headers, the
 * inline and pointer formats) and modinfo text parsing: no crash, no read past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bm_gobuildinfo *bi)
{
	bm_buf out = BM_BUF_INIT;
	if (!bi->go_version || !bi->path || !bi->main.path)
		abort();
	if (bm_gobuildinfo_format(&out, bi) < 0)
		abort();
	bm_buf_dispose(&out);
	bm_gobuildinfo_free(bi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bm_gobuildinfo *bi = NULL;
	/* Copy to an exact-size buffer so ASan sees any read past the end. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (bm_gobuildinfo_parse(&bi, copy, size) == 0)
		check(bi);
	else if (bi)
		abort();
	bi = NULL;
	if (bm_gobuildinfo_parse_modinfo(&bi, (const char *)copy, size) == 0)
		check(bi);
	else if (bi)
		abort();
	free(copy);
	return 0;
}
