/* bootmeta/imports.h: module imports of releases and the reverse index that answers "which
 * releases import module M (at version V), and which channels run them now" with a tree
 * lookup instead of a scan of every release.
 *
 * Layout: modules/<module>/+by/<project>/<release>.pb, one ModuleRef record (core.proto) per
 * release that imports <module>, written in the same commit as the release (the release's
 * transaction calls bm_module_index_add_txn). The "+by" marker keeps the module path apart
 * from the project path below it ('+' is in neither name set): module github.com/a/b used by
 * project c/d, and module github.com/a/b/c used by project d, never share a folder. */
#ifndef BOOTMETA_IMPORTS_H
#define BOOTMETA_IMPORTS_H

#include "common.h"
#include "store.h"
#include "buildinfo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most imports one release may record. */
#define BM_IMPORTS_MAX 4096

typedef struct {
	const char *module;
	const char *version;
	int indirect;
} bm_module_import;

/* Split "MODULE@VERSION" (`release add --import`). BM_EINVALID without '@', with an empty
 * side, a module outside BM_NAME_MODULE or a version with spaces or control characters. */
BM_EXTERN int bm_import_parse(bm_buf *module, bm_buf *version, const char *spec);

/* The index record path of one import. */
BM_EXTERN int bm_module_index_path(bm_buf *out, const char *module, const char *project, const char *release);

/* Stage the index records of a release's imports in `txn`: call it from the transaction
 * that adds the release, so both land in one commit. Checks every name first; BM_EEXISTS
 * when a record exists (the release id was used before), BM_EINVALID for a module given
 * twice. */
BM_EXTERN int bm_module_index_add_txn(bm_txn *txn, const char *project, const char *release,
				      const bm_module_import *imports, size_t n);

/* One import of one release (a ModuleRef), with the channels that run that release now
 * (dependents only). */
typedef struct {
	char *module;
	char *version;
	char *project;
	char *release;
	int indirect;
	bm_strlist channels;
} bm_module_ref;

typedef struct {
	bm_module_ref *items;
	size_t count;
} bm_module_refs;

BM_EXTERN void bm_module_refs_dispose(bm_module_refs *refs);

/* The imports a release records (projects/<project>/releases/<release>.pb), in its order.
 * BM_ENOTFOUND when there is no such release. */
BM_EXTERN int bm_release_imports(bm_module_refs *out, bm_fs *fs, const char *project, const char *release);

/* Every release that imports `module` (`version` NULL: any version), by project then
 * release, each with the channels whose current entry is that release. Reads
 * modules/<module>/+by/ and the channels of the projects found; a module nobody imports gives
 * an empty list. Records that do not decode are skipped and passed to `bad` (may be NULL). */
BM_EXTERN int bm_dependents(bm_module_refs *out, bm_fs *fs, const char *module, const char *version,
			    void (*bad)(const char *path, const char *error, void *payload), void *payload);

/* The release a channel of a project points at now: its id and seq (either may be NULL).
 * BM_ENOTFOUND when the channel has no entry. */
BM_EXTERN int bm_channel_release(bm_buf *release, uint64_t *seq, bm_fs *fs, const char *project, const char *channel);

/* The build stamp of a release as read from `fs`: project, release, version, every source
 * and the meta commit `fs` reads (BM_EINVALID when `fs` names no commit). BM_ENOTFOUND when
 * there is no such release. Free with bm_stamp_free. */
BM_EXTERN int bm_stamp_for_release(bm_stamp **out, bm_fs *fs, const char *project, const char *release);

#ifdef __cplusplus
}
#endif
#endif
