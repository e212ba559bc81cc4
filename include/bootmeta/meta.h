/* bootmeta/meta.h: the core records of the meta repo as operations: projects, releases,
 * binaries (channels: bootmeta/channel.h, trace: bootmeta/trace.h, signed binaries:
 * bootmeta/trust.h). Every write is one transaction (bm_store_write): it
 * validates every name before a path is built, refuses unknown references (a release of a
 * project that does not exist, a promotion of a release that does not exist), and adds
 * immutable record files only. Every read takes a bm_fs view (a commit's tree, a folder, or
 * memory), so the same code answers from a clone's tip, a pinned meta commit or an export.
 *
 * Layout (see DESIGN.md):
 *   projects/<project>/project.pb
 *   projects/<project>/releases/<id>.pb
 *   projects/<project>/channels/<channel>/<seq/1000 as %07u>/<seq as %010u>.pb
 *   binaries/<sha256[0:2]>/<sha256>.pb
 *
 * Records are the protobuf-c messages generated from proto/bootmeta/v1/core.proto. A
 * record returned through `**out` is owned by the caller: free it with bm_meta_free(). */
#ifndef BOOTMETA_META_H
#define BOOTMETA_META_H

#include <protobuf-c/protobuf-c.h>

#include "common.h"
#include "store.h"
#include "sign.h"
#include "imports.h"
#include "bootmeta/v1/core.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds on free-text fields, so a record stays a small fact. */
#define BM_META_URL_MAX 2048
#define BM_META_TEXT_MAX 4096       /* note, reason, description, version */
#define BM_META_MAX_SOURCES 64
#define BM_META_MAX_URLS 32

/* Free a record returned by any bm_ function of this module (NULL is fine). */
BM_EXTERN void bm_meta_free(void *record);

/* ---- paths (names are validated; BM_EINVALID with the reason) ---- */

BM_EXTERN int bm_path_project(bm_buf *out, const char *project);
BM_EXTERN int bm_path_release(bm_buf *out, const char *project, const char *release);
BM_EXTERN int bm_path_binary(bm_buf *out, const char *sha256);

/* A project name as bm_name_validate(BM_NAME_PROJECT) wants it (which also refuses a part
 * that is a folder keyword of the layout: "releases", "channels" ...). */
BM_EXTERN int bm_project_name_check(const char *project);

/* ---- projects ---- */

typedef struct {
	unsigned int version;
	const char *const *sources; /* source repo URLs; the first is the project's own */
	size_t nsources;
	const char *const *owners;
	size_t nowners;
	const char *description;
	const bm_write_options *write; /* NULL: defaults */
} bm_project_options;
#define BM_PROJECT_OPTIONS_VERSION 1
#define BM_PROJECT_OPTIONS_INIT { BM_PROJECT_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, NULL }

/* Add project `name`. BM_EEXISTS when it exists. `out` and `out_commit` may be NULL. */
BM_EXTERN int bm_project_add(Bootmeta__V1__Project **out, bm_oid *out_commit, bm_store *store,
			     const char *name, const bm_project_options *opts);
/* BM_ENOTFOUND when there is no such project; BM_ECORRUPT when its file does not decode. */
BM_EXTERN int bm_project_get(Bootmeta__V1__Project **out, bm_fs *fs, const char *name);
/* The names of every project, sorted. */
BM_EXTERN int bm_project_list(bm_strlist *out, bm_fs *fs);

/* ---- releases ---- */

/* One source of a release: `url` + full `commit`, or `dir`, a local git checkout whose
 * origin URL and HEAD are read instead (url/commit then ignored). */
typedef struct {
	const char *url;
	const char *commit;
	const char *dir;
} bm_source;

/* Split "URL@COMMIT" at its last '@' and check both halves: the URL (not empty, no control
 * characters, bounded) and the commit (40 or 64 hex digits; returned lower-case). */
BM_EXTERN int bm_source_parse(bm_buf *url, bm_buf *commit, const char *spec);
/* Read a local checkout: the URL of its `origin` remote (else the folder's absolute path)
 * and its HEAD commit. BM_EINVALID when the tree has uncommitted changes to tracked files
 * and `allow_dirty` is 0, or when HEAD has no commit. */
BM_EXTERN int bm_source_from_dir(bm_buf *url, bm_buf *commit, const char *dir, int allow_dirty);
/* 0 when `commit` is 40 or 64 hex digits. */
BM_EXTERN int bm_commit_hash_check(const char *commit);

typedef struct {
	unsigned int version;
	const bm_source *sources;    /* every source repo the release was built from; >= 1 */
	size_t nsources;
	const char *id;              /* NULL: the commit of the first source */
	const char *release_version; /* free text, e.g. v1.4.2 */
	const char *note;
	int allow_dirty;             /* for sources given as dir */
	const bm_write_options *write;
	/* modules the release imports (--import MODULE@VERSION, --go-mod FILE); the reverse index
	 * modules/<module>/+by/<project>/<id>.pb is written in the same commit (imports.h) */
	const bm_module_import *imports;
	size_t nimports;
} bm_release_options;
#define BM_RELEASE_OPTIONS_VERSION 1
#define BM_RELEASE_OPTIONS_INIT { BM_RELEASE_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL, 0, NULL }

/* Record a release of `project`. BM_ENOTFOUND for an unknown project; BM_EEXISTS when the
 * release id exists (releases are immutable); BM_EINVALID for a bad source, URL or id. */
BM_EXTERN int bm_release_add(Bootmeta__V1__Release **out, bm_oid *out_commit, bm_store *store,
			     const char *project, const bm_release_options *opts);
/* bm_release_add inside the caller's transaction (several writes in one commit): the same
 * checks and the same files (the release and, with imports, the reverse index) as
 * bm_release_add. Every source must be given as url + commit: a `dir` source is BM_EINVALID
 * (reading a checkout is the caller's, before the transaction: bm_source_from_dir).
 * `*out` (may be NULL; else NULL or a record from an earlier call, which is freed) gets the
 * record; a re-run of the transaction replaces it. opts->write is not used and the commit
 * message is not set. On an error the transaction may hold part of the call's files: abort
 * it. */
BM_EXTERN int bm_release_add_txn(Bootmeta__V1__Release **out, bm_txn *txn, const char *project,
				 const bm_release_options *opts);
BM_EXTERN int bm_release_get(Bootmeta__V1__Release **out, bm_fs *fs, const char *project, const char *release);
/* The release ids of `project`, sorted. BM_ENOTFOUND for an unknown project. */
BM_EXTERN int bm_release_list(bm_strlist *out, bm_fs *fs, const char *project);

/* ---- binaries ---- */

/* sha256 (lower-case hex) and size of a file, read in chunks (never whole in memory).
 * BM_ENOTFOUND / BM_EIO / BM_EINVALID (not a regular file) with the path. */
BM_EXTERN int bm_file_sha256(char hex[65], uint64_t *size, const char *path);
/* 0 when `sha256` is 64 lower-case hex digits. */
BM_EXTERN int bm_sha256_check(const char *sha256);

typedef struct {
	unsigned int version;
	const char *os;            /* linux, darwin ... */
	const char *arch;          /* amd64, arm64 ... */
	const char *const *urls;   /* where the immutable artifact lives */
	size_t nurls;
	const bm_write_options *write;
	/* Signed in the same commit (bm_binary_add only: a signature needs the file): sign with
	 * `sign_key` (trusted comment: bm_binary_trusted_comment, bootmeta/trust.h), or attach
	 * `signature`, a .minisig text made elsewhere. Either must verify over the file with a
	 * key of the repo's keys/signers before anything is written. */
	const bm_minisign_seckey *sign_key;
	const char *signature;
} bm_binary_options;
#define BM_BINARY_OPTIONS_VERSION 1
#define BM_BINARY_OPTIONS_INIT { BM_BINARY_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, NULL, NULL }

/* Record a binary from a known digest and size (the artifact is elsewhere; no signature:
 * sign it later with bm_binary_sign, which needs the file). bm_binary_add (bootmeta/trust.h)
 * hashes a file and may sign it in the same commit. */
BM_EXTERN int bm_binary_add_digest(Bootmeta__V1__Binary **out, bm_oid *out_commit, bm_store *store,
				   const char *project, const char *release, const char *sha256,
				   uint64_t size, const bm_binary_options *opts);
/* bm_binary_add_digest inside the caller's transaction: the same checks and the same record.
 * `*out` (may be NULL; else NULL or a record from an earlier call, which is freed) gets the
 * record; a re-run replaces it. opts->write is not used and the commit message is not set.
 * On an error the transaction may hold part of the call's files: abort it. */
BM_EXTERN int bm_binary_add_digest_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project,
				       const char *release, const char *sha256, uint64_t size,
				       const bm_binary_options *opts);
BM_EXTERN int bm_binary_get(Bootmeta__V1__Binary **out, bm_fs *fs, const char *sha256);
/* The binary of `release` of `project` for `os` and `arch` (NULL: any): the first match in
 * path order, so the same one every time; `candidates` (may be NULL) gets how many match.
 * Records that do not decode, or whose path names another sha256, are skipped. BM_ENOTFOUND
 * when none matches. It reads every binary record of the view: a host asks it once per
 * channel change, not per request. */
BM_EXTERN int bm_binary_find(Bootmeta__V1__Binary **out, size_t *candidates, bm_fs *fs, const char *project,
			     const char *release, const char *os, const char *arch);

#ifdef __cplusplus
}
#endif
#endif
