/* bootmeta/config.h: runtime config: typed values per project and env, layered through the
 * env's parent chain (dev -> dev/alice), every change an appended record.
 *
 * Layout: envs/<env>/config/<project>/+keys/<key>/<seq:%010u>.pb, one ConfigValue record
 * (config.proto) per change. The highest seq of a key is the env's current value; a tombstone
 * record means the env no longer sets the key. The "+keys" folder keeps a project's keys apart
 * from a nested project's folders ('+' is not allowed in project names), so project "a" key
 * "b" and project "a/b" never meet.
 *
 * Reads go through a bm_fs (a commit of a store, a plain folder, memory), so a server can
 * resolve its config from a local clone pinned to a meta commit, or from an unpacked export. */
#ifndef BOOTMETA_CONFIG_H
#define BOOTMETA_CONFIG_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The folder of config key `key` of `project` in `env` (envs/<env>/config/<project>/+keys/<key>),
 * or with `key` NULL the folder of all its keys (.../+keys). Names are validated (BM_EINVALID
 * with the reason). */
BM_EXTERN int bm_path_config_key(bm_buf *out, const char *project, const char *env, const char *key);

/* The largest value (as text) a config value may hold. */
#define BM_CONFIG_VALUE_MAX (64 * 1024)
/* The most keys one `config set` may write. */
#define BM_CONFIG_MAX_KEYS 1000
/* The longest `--reason`. */
#define BM_CONFIG_REASON_MAX 4096

typedef enum {
	BM_CONFIG_STRING = 1,
	BM_CONFIG_INT64 = 2,
	BM_CONFIG_DOUBLE = 3,
	BM_CONFIG_BOOL = 4,
	BM_CONFIG_JSON = 5, /* a JSON object or list */
} bm_config_type;

/* "string", "int64", "double", "bool", "json". */
BM_EXTERN const char *bm_config_type_str(bm_config_type type);
/* Parse a type name: string|str, int64|int|integer, double|float|number, bool|boolean, json.
 * BM_EINVALID naming the allowed names. */
BM_EXTERN int bm_config_type_parse(bm_config_type *out, const char *name);

/* One value of one key, with where it came from. */
typedef struct {
	char *key;
	bm_config_type type;
	char *text;            /* the value as text (canonical for int64, double and bool) */
	int64_t int64_value;   /* BM_CONFIG_INT64 */
	double double_value;   /* BM_CONFIG_DOUBLE */
	int bool_value;        /* BM_CONFIG_BOOL */
	int tombstone;         /* `config unset`: the env no longer sets the key */
	/* provenance */
	char *project;
	char *env;             /* the env layer the value comes from */
	uint64_t seq;
	int64_t time_ms;
	char *actor;
	char *reason;
	uint64_t reverted_from_seq;
	char *reverted_from_commit;
	char *path;            /* the record's path in the meta repo */
	bm_oid commit;         /* the meta commit that added the record, when has_commit */
	int has_commit;
	/* A secret (bm_config_resolve with `identities`): `key` is the secret's name, `type`
	 * BM_CONFIG_STRING, `text` its plaintext (UTF-8; bm_config_value_dispose wipes it), and
	 * the provenance is the secret version's (env layer, seq, actor, time, `path` of the
	 * .age); `reason` is NULL. */
	int secret;
} bm_config_value;

/* Parse `text` as a value of `type` into v->type, v->text and the typed field (other fields
 * untouched). BM_EINVALID when it does not parse ("abc" as int64, "1e999" as double, a JSON
 * scalar for json), BM_ETOOBIG over BM_CONFIG_VALUE_MAX. */
BM_EXTERN int bm_config_value_parse(bm_config_value *v, bm_config_type type, const char *text);
/* Free what a value owns (not the value itself) and zero it; a secret's text is wiped. */
BM_EXTERN void bm_config_value_dispose(bm_config_value *v);
/* Deep copy. */
BM_EXTERN int bm_config_value_copy(bm_config_value *dst, const bm_config_value *src);

/* A secret bm_config_resolve could not add (with `identities`): its name, layer and why. */
typedef struct {
	char *name;
	char *env;             /* the env layer that holds it */
	uint64_t seq;          /* its current version (0 when unknown) */
	int error;             /* BM_ENORECIPIENT (not a recipient of env), BM_EINVALID (not UTF-8
	                        * text: read it with bm_secret_get), BM_EVERIFY (changed outside
	                        * bootmeta, or not signed with require_signed), ... */
	char *message;
} bm_config_skipped;

/* A set of values, sorted by key. */
typedef struct {
	char *project;
	char *env;
	bm_strlist chain;          /* resolve: env first, then its parents up to the root */
	bm_oid at;                 /* the meta commit read, when has_at */
	int has_at;
	bm_config_value *values;
	size_t count;
	/* bm_config_resolve with `identities`: the secrets left out, by name. Their names are
	 * left out of `values` too: a parent layer's value does not show through a secret
	 * that could not be opened. */
	bm_config_skipped *skipped;
	size_t nskipped;
} bm_config;

BM_EXTERN void bm_config_free(bm_config *config);
/* The value of `key`, NULL when not set. */
BM_EXTERN const bm_config_value *bm_config_get(const bm_config *config, const char *key);

/* The effective config of `project` in `env` read from `fs`: the root env's values, then each
 * child's on top, down to `env`; tombstones drop a key set by the same layer only (the key
 * then comes from the parent again). BM_ENOTFOUND when the env (or an env of its chain) does
 * not exist, BM_ECORRUPT on a looping chain or a record that does not decode. A project with
 * no config resolves to an empty set. */
BM_EXTERN int bm_config_resolve_fs(bm_config **out, bm_fs *fs, const char *project, const char *env);

/* One env's own layer: the latest record of every key the env ever set, tombstones
 * included (check `tombstone`). */
BM_EXTERN int bm_config_layer_fs(bm_config **out, bm_fs *fs, const char *project, const char *env);

typedef struct {
	unsigned int version;
	const bm_oid *at;  /* the meta commit to read; NULL: the store's tip */
	int with_commits;  /* fill each value's `commit` (walks history once; costs time) */
	/* version 2 */
	const char *identities; /* the text of an age identity file (bm_secret_identity_load):
	                         * add the secrets of each layer it opens; NULL: config only */
	int require_signed;     /* with identities: decrypt only secrets whose .age and .pb were
	                         * added in commits signed by an allowed signer
	                         * (bm_store_verify_path); the store's bm_store_require_signed()
	                         * turns it on too. Others are skipped with BM_EVERIFY. */
} bm_config_resolve_options;
#define BM_CONFIG_RESOLVE_OPTIONS_VERSION 2
#define BM_CONFIG_RESOLVE_OPTIONS_INIT { BM_CONFIG_RESOLVE_OPTIONS_VERSION, NULL, 0, NULL, 0 }

/* bm_config_resolve_fs on a store at a meta commit (opts->at, else the tip): what a server's
 * main calls on its local clone; `(*out)->at` names the commit it read, to log.
 *
 * With opts->identities, each layer of the chain adds its current secrets of `project`
 * (envs/<layer>/secrets/<project>/) that the identities open, as values with `secret` set.
 * Which of a key and a secret wins a name is the one rule of bootmeta-config(1), SECRETS IN
 * RESOLVE. A secret that cannot be opened (not a recipient, not UTF-8
 * text, tampered, unsigned with require_signed) goes to `skipped` and still claims its
 * name: the layers below do not supply it. Wipe nothing yourself: bm_config_free wipes the
 * secrets' text. */
BM_EXTERN int bm_config_resolve(bm_config **out, bm_store *store, const char *project, const char *env,
				const bm_config_resolve_options *opts);

/* Every record of `key` (NULL: every key) of `project` in `env` alone, by key then seq
 * (oldest first). */
BM_EXTERN int bm_config_history(bm_config **out, bm_store *store, const char *project, const char *env,
				const char *key, const bm_config_resolve_options *opts);

/* Fill `commit` of each value with the meta commit that added its record (one walk of the
 * history, then a binary search per record: records are never removed). Values whose record
 * is not found keep has_commit 0. */
BM_EXTERN int bm_config_find_commits(bm_store *store, bm_config_value *values, size_t n);

/* ---- writes ---- */

typedef struct {
	const char *key;
	bm_config_type type;  /* ignored for unset */
	const char *value;    /* text, parsed as `type` */
	int unset;            /* write a tombstone */
} bm_config_assign;

typedef struct {
	unsigned int version;
	const char *reason;
	int dry_run;          /* compute and report the changes, commit nothing */
} bm_config_write_options;
#define BM_CONFIG_WRITE_OPTIONS_VERSION 1
#define BM_CONFIG_WRITE_OPTIONS_INIT { BM_CONFIG_WRITE_OPTIONS_VERSION, NULL, 0 }

/* One key's change: `before` is the env's current value of the key (has_before 0 when the env
 * does not set it), `after` the record written (or that would be written). `unchanged` when
 * the key already had that value: no record is written for it. */
typedef struct {
	bm_config_value before;
	int has_before;
	bm_config_value after;
	int unchanged;
} bm_config_change;

typedef struct {
	bm_config_change *items;
	size_t count;
	bm_oid commit;        /* the commit made (has_commit 0 for a dry run or no change) */
	int has_commit;
} bm_config_changes;

BM_EXTERN void bm_config_changes_dispose(bm_config_changes *c);

/* Set or unset keys of `project` in `env`, all in one commit (none when every key is
 * unchanged, or for a dry run). Checked before anything is written: the project and env exist,
 * every key is a valid BM_NAME_KEY given once, every value parses as its type and is within
 * BM_CONFIG_VALUE_MAX, an unset key is set in the env (BM_ENOTFOUND otherwise). Sequence
 * numbers are taken inside the transaction, so concurrent writers never collide. */
BM_EXTERN int bm_config_write(bm_config_changes *out, bm_store *store, const char *project, const char *env,
			      const bm_config_assign *assigns, size_t n, const bm_config_write_options *opts,
			      const bm_write_options *wopts);

/* bm_config_write inside the caller's transaction (several writes in one commit): the same
 * checks and the same records, sequence numbers counting what the transaction added. 0 when
 * records were added; 1 when none were (every key unchanged, or opts->dry_run: the records
 * are checked but not added); < 0 on an error, when the transaction may hold part of the
 * call's records: abort it. `out` (zeroed, or filled by an earlier call: it is disposed
 * first) gets the changes, replaced when the transaction re-runs; its has_commit is 0 (the
 * commit is the caller's). The commit message is not set. */
BM_EXTERN int bm_config_write_txn(bm_config_changes *out, bm_txn *txn, const char *project, const char *env,
				  const bm_config_assign *assigns, size_t n, const bm_config_write_options *opts);

/* Write a new record of `key` restoring the env's value at sequence `seq` (seq > 0) or at
 * meta commit `commit` (a revision; the key's latest record there, or a tombstone when the
 * env did not set it then). BM_ENOTFOUND for an unknown seq or commit. */
BM_EXTERN int bm_config_revert(bm_config_changes *out, bm_store *store, const char *project, const char *env,
			       const char *key, uint64_t seq, const char *commit,
			       const bm_config_write_options *opts, const bm_write_options *wopts);

/* ---- output ---- */

/* Append the proto3 JSON view of the ConfigValue record `v` stands for (what `bootmeta show`
 * prints for its file). */
BM_EXTERN int bm_config_value_record_json(bm_buf *out, const bm_config_value *v);

typedef enum {
	BM_CONFIG_ENV_PORTABLE, /* KEY=VALUE both systemd EnvironmentFile= and docker --env-file read alike */
	BM_CONFIG_ENV_SYSTEMD,  /* quoted for systemd's EnvironmentFile= */
	BM_CONFIG_ENV_DOCKER,   /* raw, for docker --env-file */
} bm_config_env_style;

/* Render `config` as KEY=VALUE lines (see the README, "Runtime config", for the quoting).
 * BM_EINVALID naming the keys that cannot be written in that style (a key that is not an
 * environment variable name, a value with a newline for docker, ...). */
BM_EXTERN int bm_config_format_env(bm_buf *out, const bm_config *config, bm_config_env_style style);

#ifdef __cplusplus
}
#endif
#endif
