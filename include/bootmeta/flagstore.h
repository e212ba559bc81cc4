/* bootmeta/flagstore.h: feature flags in the meta repo: reading the current version of a
 * flag, listing and history, and writing a new version (the flag itself, its evaluation and
 * its flagd export are bootmeta/flags.h).
 *
 * Layout: envs/<env>/config/<project>/+flags/<key>/<seq:%010u>.pb, one Flag record
 * (flags.proto) per version; the highest seq is the flag's current version. Flags sit with
 * the config of the same project and env but in their own "+flags" folder, so a flag and a
 * config key may share a name. */
#ifndef BOOTMETA_FLAGSTORE_H
#define BOOTMETA_FLAGSTORE_H

#include "common.h"
#include "store.h"
#include "flags.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The folder of flag `key` of `project` in `env` (envs/<env>/config/<project>/+flags/<key>), or
 * with `key` NULL the folder of all its flags (.../+flags). Names are validated (BM_EINVALID
 * with the reason). */
BM_EXTERN int bm_path_flag(bm_buf *out, const char *project, const char *env, const char *key);

/* The current version of flag `key`. BM_ENOTFOUND when the flag was never set. */
BM_EXTERN int bm_flag_load(bm_flag **out, bm_fs *fs, const char *project, const char *env, const char *key);

/* A list of flags (owned). */
typedef struct {
	bm_flag **items;
	char **paths;     /* the record path of each */
	size_t count;
} bm_flag_list;

BM_EXTERN void bm_flag_list_dispose(bm_flag_list *l);
/* The current version of every flag of `project` in `env`, by key. A project or env with no
 * flags gives an empty list. */
BM_EXTERN int bm_flag_load_all(bm_flag_list *out, bm_fs *fs, const char *project, const char *env);
/* Every version of flag `key`, oldest first. */
BM_EXTERN int bm_flag_load_history(bm_flag_list *out, bm_fs *fs, const char *project, const char *env,
				   const char *key);
/* The meta commit that added each listed record (one history walk); `oids` and `has` hold
 * l->count entries. */
BM_EXTERN int bm_flag_list_commits(bm_store *store, const bm_flag_list *l, bm_oid *oids, int *has);

/* Make the next version of a flag: `current` is the flag's current version (NULL when the
 * flag is new); set *next to a new flag (the caller's bm_flag_from_spec or an edited
 * bm_flag_dup of current). Runs inside the write transaction, so it may run more than once. */
typedef int (*bm_flag_edit_fn)(bm_flag **next, const bm_flag *current, void *payload);

typedef struct {
	unsigned int version;
	int dry_run;                 /* compute and report, commit nothing */
	int allow_unknown_channels;  /* rules may name channels the project has no entry for yet */
} bm_flag_write_options;
#define BM_FLAG_WRITE_OPTIONS_VERSION 1
#define BM_FLAG_WRITE_OPTIONS_INIT { BM_FLAG_WRITE_OPTIONS_VERSION, 0, 0 }

typedef struct {
	bm_flag *before;   /* NULL when the flag is new */
	bm_flag *after;    /* the version written (or that a dry run would write) */
	char *path;        /* its record path */
	int unchanged;     /* the edit changed nothing: no record, no commit */
	bm_oid commit;     /* when has_commit */
	int has_commit;
} bm_flag_change;

BM_EXTERN void bm_flag_change_dispose(bm_flag_change *c);

/* Write the next version of flag `key` of `project` in `env` in one commit. Refused, with
 * nothing written: an unknown project or env (BM_ENOTFOUND), a bad key, a rule on a channel
 * the project has never had an entry on (BM_EINVALID, unless allow_unknown_channels), and
 * whatever the edit function refuses. */
BM_EXTERN int bm_flag_write(bm_flag_change *out, bm_store *store, const char *project, const char *env,
			    const char *key, bm_flag_edit_fn edit, void *payload, const bm_flag_write_options *opts,
			    const bm_write_options *wopts);

/* bm_flag_write inside the caller's transaction (several writes in one commit): the same
 * checks and the same record, the version counting what the transaction added. 0 when the
 * record was added; 1 when nothing was (the edit changed nothing, or opts->dry_run: the
 * record is checked but not added); < 0 on an error, when the transaction may hold part of
 * the call's files: abort it. `out` (zeroed, or filled by an earlier call: it is disposed
 * first) gets the change, replaced when the transaction re-runs (`edit` runs again); its
 * has_commit is 0 (the commit is the caller's). The commit message is not set. */
BM_EXTERN int bm_flag_write_txn(bm_flag_change *out, bm_txn *txn, const char *project, const char *env,
				const char *key, bm_flag_edit_fn edit, void *payload,
				const bm_flag_write_options *opts);

#ifdef __cplusplus
}
#endif
#endif
