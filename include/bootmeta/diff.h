/* bootmeta/diff.h: what changed between two states of the meta repo (lib/diff.c). A
 * server that follows the repo turns each new commit into an event with these: the paths
 * it changed, whether a client's last-seen commit is still in the history, and whether the
 * thing a compare-and-swap names (a channel, a config key) moved since a given commit. */
#ifndef BOOTMETA_DIFF_H
#define BOOTMETA_DIFF_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The git object id of the file or folder at `path` in `commit` (NULL: the tip); "" is the
 * root tree. Two commits hold the same content at `path` exactly when the ids are equal.
 * BM_ENOTFOUND when nothing is there. */
BM_EXTERN int bm_store_path_id(bm_oid *out, bm_store *store, const bm_oid *commit, const char *path);

/* The files added, changed or removed from `from` (NULL: the empty repo) to `to`, under
 * `prefix` (NULL or "": everywhere; "a/b/" or "a/b" both mean the folder a/b and what is in
 * it, and a file named exactly `prefix`), appended to `out` sorted. Stops with BM_ETOOBIG
 * after `max` paths (0: no bound), `out` then holding the first `max`. */
BM_EXTERN int bm_store_changed(bm_strlist *out, bm_store *store, const bm_oid *from, const bm_oid *to,
			       const char *prefix, size_t max);

/* *out = 1 when `ancestor` is `commit` or one of its ancestors, else 0. BM_ENOTFOUND when
 * `ancestor` is not a commit of this repo (a client's commit from another history). */
BM_EXTERN int bm_store_is_ancestor(int *out, bm_store *store, const bm_oid *ancestor, const bm_oid *commit);

/* The first parent of `commit`; BM_ENOTFOUND for the root commit. */
BM_EXTERN int bm_store_parent(bm_oid *out, bm_store *store, const bm_oid *commit);

/* The whole message of `commit` (bm_commit_info has its first line only), trailers
 * included: a server keeps per-request facts there (see bootmeta-serve(1)). */
BM_EXTERN int bm_store_commit_message(bm_buf *out, bm_store *store, const bm_oid *commit);

#ifdef __cplusplus
}
#endif
#endif
