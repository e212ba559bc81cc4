/* error_int.h: the subject of an error whose name has several words ("PROJECT ENV"), for
 * bm_error_set_about. Not part of the public API. */
#ifndef BM_ERROR_INTERNAL_H
#define BM_ERROR_INTERNAL_H

#include <stdio.h>

#include "bootmeta/common.h"

/* bm_error_set_about with the name "a b c" (b and c may be NULL); returns the last error's
 * code. */
static inline int bm__about_words(bm_error_about about, const char *a, const char *b, const char *c)
{
	char name[512];
	snprintf(name, sizeof(name), "%s%s%s%s%s", a ? a : "", b ? " " : "", b ? b : "", c ? " " : "", c ? c : "");
	return bm_error_set_about(about, name);
}

#endif
