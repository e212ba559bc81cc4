/* store_int.h: internals of store.c that other library modules use (doctor.c). */
#ifndef BM_STORE_INTERNAL_H
#define BM_STORE_INTERNAL_H

#include <git2.h>

#include "bootmeta/common.h"
#include "bootmeta/store.h"

/* Move refs/heads/main of `repo` from `expected` (NULL: must not exist) to `next` the way
 * every bootmeta write does: under the writers' lock and main.lock, durably, with a reflog
 * entry by `who` at `time_ms` saying `msg`. `expected` need not be an object that exists.
 * BM_ECONFLICT when main is not `expected`. */
int bm__ref_cas(git_repository *repo, const git_oid *next, const git_oid *expected, const char *who, int64_t time_ms,
		const char *msg);

/* The store's libgit2 repository (diff.c reads commits and trees through it). */
git_repository *bm__store_repo(bm_store *store);

/* The checks bm_txn_add makes, without adding: the path, that nothing is there, and the
 * content (a dry run reports what a write would refuse). */
int bm__txn_check_add(bm_txn *txn, const char *path, const void *data, size_t len);

#endif
