/* store.c: placeholder until the store lands. */
#include "bootmeta.h"

int bm_store_open(bm_store **out, const char *path)
{
	*out = NULL;
	return bm_error_set(BM_EUNSUPPORTED, "store not built yet (%s)", path ? path : "");
}
