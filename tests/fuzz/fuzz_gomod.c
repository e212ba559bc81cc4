/* fuzz_gomod.c: go.mod parsing of arbitrary bytes: no crash, no leak, and a parse either
 * fails with BM_EINVALID/BM_ETOOBIG or gives a module path and well-formed requires. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bm_gomod *mod = NULL;
	size_t i;
	int rc = bm_gomod_parse(&mod, (const char *)data, size);
	if (rc < 0) {
		if (mod || (rc != BM_EINVALID && rc != BM_ETOOBIG && rc != BM_ENOMEM))
			abort();
		return 0;
	}
	if (!mod || !mod->module)
		abort();
	for (i = 0; i < mod->require_count; i++)
		if (!mod->requires[i].module || mod->requires[i].version[0] != 'v')
			abort();
	bm_gomod_free(mod);
	return 0;
}
