/* bootmeta/env.h: environments (prod, stage, dev, dev/alice) and the local file that points
 * a source checkout at one of them.
 *
 * An env exists iff envs/<env>/env.pb (an Env record, config.proto) exists. A nested env's
 * parent defaults to its folder: dev/alice's parent is dev, prod/eu's is prod. The parent
 * must exist when the env is added, and the chain of parents may not loop. Env records are
 * never rewritten.
 *
 * Under envs/<env>/ the folders config, flags, secrets, recipients, instances and rollouts
 * belong to the env itself, so these words cannot be the second or later part of an env
 * name (dev/config is refused; a user called "config" picks another name). */
#ifndef BOOTMETA_ENV_H
#define BOOTMETA_ENV_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest parent chain bm_env_chain follows (an env and up to 15 ancestors). */
#define BM_ENV_MAX_DEPTH 16
/* The name of the local file `bootmeta dev use` writes at the top of a source checkout. */
#define BM_ENV_LOCAL_FILE ".bootmeta-env"

typedef struct {
	char *name;
	char *parent;       /* "" for a root env */
	int64_t created_ms;
	char *actor;
	char *description;
} bm_env;

/* 0 when `name` is a valid env name: bm_name_validate(BM_NAME_ENV) plus the reserved
 * folder words above. */
BM_EXTERN int bm_env_name_validate(const char *name);
/* The parent an env gets when none is given: its folder ("dev" for "dev/alice"), "" for a
 * one-part name. */
BM_EXTERN int bm_env_default_parent(bm_buf *out, const char *name);

/* The record path of an env: envs/<env>/env.pb. */
BM_EXTERN int bm_env_path(bm_buf *out, const char *name);
/* 1 when the env exists in `fs`, 0 when not, < 0 on a bad name. */
BM_EXTERN int bm_env_exists(bm_fs *fs, const char *name);
/* Read an env record. BM_ENOTFOUND ("no environment \"E\"; add it with `bootmeta env add E`") when the env
 * does not exist, BM_ECORRUPT when its record does not decode. */
BM_EXTERN int bm_env_read(bm_env **out, bm_fs *fs, const char *name);
BM_EXTERN void bm_env_free(bm_env *env);

/* Every env in `fs`, sorted (dev before dev/alice). */
BM_EXTERN int bm_env_list(bm_strlist *out, bm_fs *fs);

/* The chain of `name`: the env itself first, then its parent, ... up to a root env.
 * BM_ENOTFOUND when an env of the chain does not exist, BM_ECORRUPT when the chain loops
 * or is deeper than BM_ENV_MAX_DEPTH (the message shows the chain). */
BM_EXTERN int bm_env_chain(bm_strlist *out, bm_fs *fs, const char *name);

typedef struct {
	unsigned int version;
	const char *parent;       /* NULL: bm_env_default_parent(); "" : a root env */
	const char *description;
	int create_parent;        /* add the parent too (as a root env) when it is missing */
} bm_env_add_options;
#define BM_ENV_ADD_OPTIONS_VERSION 1
#define BM_ENV_ADD_OPTIONS_INIT { BM_ENV_ADD_OPTIONS_VERSION, NULL, NULL, 0 }

/* Inside a transaction: stage envs/<name>/env.pb. BM_EEXISTS when the env exists,
 * BM_ENOTFOUND when the parent does not (and create_parent is off), BM_EINVALID for a bad
 * name or a parent chain that would loop. */
BM_EXTERN int bm_env_add_txn(bm_txn *txn, const char *name, const bm_env_add_options *opts);
/* Add an env in its own commit. */
BM_EXTERN int bm_env_add(bm_oid *out_commit, bm_store *store, const char *name,
			 const bm_env_add_options *opts, const bm_write_options *wopts);
/* `bootmeta dev init USER`: add dev/<user> (parent dev), adding dev itself in the same
 * commit when it is missing. BM_EEXISTS when dev/<user> exists. */
BM_EXTERN int bm_dev_init(bm_oid *out_commit, bm_store *store, const char *user, const char *description,
			  const bm_write_options *wopts);

/* ---- the local env file of a source checkout ---- */

/* Find the top of the git checkout that holds `start_dir` (NULL: the current folder), as
 * git finds it. BM_ENOTFOUND when `start_dir` is not inside a checkout with a work tree. */
BM_EXTERN int bm_checkout_top(bm_buf *out, const char *start_dir);
/* Read the env named by <checkout top>/.bootmeta-env into `env` (`file` may be NULL; it
 * gets the file's path). BM_ENOTFOUND when there is no checkout or no such file; BM_EINVALID
 * when the file does not hold one valid env name. */
BM_EXTERN int bm_checkout_env_read(bm_buf *env, bm_buf *file, const char *start_dir);
/* Write `env` (NULL: remove the file) to <checkout top>/.bootmeta-env and make sure the
 * checkout's .gitignore names it. `file` (may be NULL) gets the file's path. Does not check
 * that the env exists: the caller does, against the meta repo. */
BM_EXTERN int bm_checkout_env_write(bm_buf *file, const char *start_dir, const char *env);

#ifdef __cplusplus
}
#endif
#endif
