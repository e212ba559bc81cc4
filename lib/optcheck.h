/* optcheck.h: the version check every entry point makes on a versioned options struct
 * (`*_OPTIONS_VERSION`), as libgit2's GIT_ERROR_CHECK_VERSION does: a caller built against
 * another header, or one that forgot the _INIT macro (version 0), is refused with
 * BM_EINVALID before any field is read. Not part of the public API. */
#ifndef BM_OPTCHECK_H
#define BM_OPTCHECK_H

#include "bootmeta/common.h"

/* 0 when `opts` is NULL or its version is 1..`newest` (older versions of a struct that only
 * grew at the end stay readable); else BM_EINVALID naming `type`. */
#define BM_OPTS_CHECK(opts, newest, type) \
	((opts) && ((opts)->version == 0 || (opts)->version > (newest)) ? \
		 bm_error_set(BM_EINVALID, "%s version %u not supported (this library reads 1 to %u; " \
			      "initialise it with its _INIT macro)", type, (opts)->version, (unsigned)(newest)) : 0)

#endif
