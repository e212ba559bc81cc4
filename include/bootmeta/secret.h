/* bootmeta/secret.h: age-encrypted secrets per environment, and who may read them.
 *
 * Layout (append-only; nothing is ever rewritten):
 *
 *   keys/admins/<seq>.pb                         RecipientChange: repo admins (read every env)
 *   envs/<env>/recipients/<seq>.pb               RecipientChange: the env's own recipients
 *   envs/<env>/secrets/<project>/<name>/<seq>.pb SecretVersion: who, when, to whom, sha256
 *   envs/<env>/secrets/<project>/<name>/<seq>.age  the age v1 ciphertext (ASCII-armored)
 *
 * <seq> is %010u, 1, 2, 3 ... per log. The recipient set of an env is the fold of its log;
 * a secret of env E is encrypted to E's recipients plus the admins, nothing inherited from a
 * parent env (dev/alice is alice's alone; dev's recipients cannot read it, admins can). The
 * highest seq of a secret is its current version; a REMOVE version is a tombstone. History
 * keeps every old ciphertext: a value that leaked, or that a removed recipient could read,
 * must be rotated, not just removed or rekeyed.
 *
 * Reads take a bm_fs (a commit's tree, a folder, memory); writes take a bm_store and run as
 * one transaction each (re-run on conflict, so sequence numbers and recipient sets are read
 * inside it). Plaintext is handed in and out in bm_buf's the caller wipes with
 * bm_buf_dispose_secret(); identities are the text of an age identity file. */
#ifndef BOOTMETA_SECRET_H
#define BOOTMETA_SECRET_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest secret value accepted (1 MiB): secrets are keys, tokens, certificates. */
#define BM_SECRET_MAX_SIZE (1024 * 1024)

/* ---- recipients ---- */

/* 0 when `recipient` is an age X25519 recipient (age1..., Bech32 with a valid checksum,
 * 32 bytes of key); BM_EINVALID with the reason otherwise. */
BM_EXTERN int bm_recipient_validate(const char *recipient);

typedef struct {
	char *recipient;    /* age1... */
	uint64_t seq;       /* the change that added it */
	int64_t time_ms;
	char *actor;
	char *comment;
} bm_recipient;

typedef struct {
	bm_recipient *items;
	size_t count;
} bm_recipient_list;
#define BM_RECIPIENT_LIST_INIT { NULL, 0 }

BM_EXTERN void bm_recipient_list_dispose(bm_recipient_list *l);

/* The current recipients of `env` (NULL: the repo admins), in the order they were added.
 * An env with no recipients gives an empty list. BM_ENOTFOUND when `env` does not exist
 * (no envs/<env>/env.pb). */
BM_EXTERN int bm_recipients_list(bm_recipient_list *out, bm_fs *fs, const char *env);

/* The set a secret of `env` is encrypted to: env's recipients plus the admins, sorted, no
 * duplicates. May be empty. */
BM_EXTERN int bm_recipients_effective(bm_strlist *out, bm_fs *fs, const char *env);

/* Add (or remove) `recipient` to (from) `env` (NULL: the repo admins), as a new record.
 * BM_EEXISTS when it is already a recipient; BM_ENOTFOUND on rm when it is not, or when
 * the env does not exist. Existing ciphertexts do not change: run bm_secret_rekey. `out_seq`
 * may be NULL; `comment` may be NULL. */
BM_EXTERN int bm_recipients_add(uint64_t *out_seq, bm_store *store, const char *env, const char *recipient,
				const char *comment, const bm_write_options *opts);
BM_EXTERN int bm_recipients_rm(uint64_t *out_seq, bm_store *store, const char *env, const char *recipient,
			       const char *comment, const bm_write_options *opts);

/* ---- identities ---- */

/* Identity files are named by the caller: the library knows no default location (the CLI's
 * is --identity, $BOOTMETA_IDENTITY, else ~/.config/bootmeta/identity; see bootmeta(1)). */

/* Read the identity file `path` (BM_EINVALID when NULL or "") into
 * `out` (wipe it with bm_buf_dispose_secret). BM_EPERM when the file is group- or
 * world-readable; BM_ENOTFOUND (with the hint to run `bootmeta key gen --age`) when missing.
 * `used_path` (may be NULL) gets the path that was read. */
BM_EXTERN int bm_secret_identity_load(bm_buf *out, bm_buf *used_path, const char *path);

/* Make a new age X25519 identity and write it to `path` (required) in the
 * format age-keygen writes, mode 0600, creating missing folders mode 0700. Refuses to
 * overwrite an existing file (BM_EEXISTS) unless `force`. `recipient` gets its age1...
 * recipient; `used_path` (may be NULL) the path written. */
BM_EXTERN int bm_secret_identity_create(bm_buf *recipient, bm_buf *used_path, const char *path, int force);

/* The recipient (age1...) of the first identity in `identities` (the text of an identity
 * file). BM_EINVALID when it holds none. */
BM_EXTERN int bm_secret_identity_recipient(bm_buf *out, const char *identities);

/* ---- secrets ---- */

/* Operation of a secret version (SecretOp in proto/bootmeta/v1/secret.proto). */
typedef enum {
	BM_SECRET_SET = 1,
	BM_SECRET_REMOVE = 2,
	BM_SECRET_REKEY = 3,
} bm_secret_op;

typedef struct {
	char *project;
	char *name;
	uint64_t seq;         /* the current (highest) version */
	bm_secret_op op;
	int64_t time_ms;
	char *actor;
	size_t nrecipients;   /* how many recipients the ciphertext is encrypted to */
	int stale;            /* encrypted to a set that is not the env's current one: rekey */
	char *path;           /* the ciphertext's path in the repo ("" for a tombstone) */
} bm_secret_info;

typedef struct {
	bm_secret_info *items;
	size_t count;
} bm_secret_infos;
#define BM_SECRET_INFOS_INIT { NULL, 0 }

BM_EXTERN void bm_secret_infos_dispose(bm_secret_infos *l);

/* The current secrets of `project` in `env` (`project` NULL: of every project), sorted by
 * project then name; removed ones are left out unless `with_removed`. No plaintext is
 * read. An env with no secrets gives an empty list; BM_ENOTFOUND when the env does not
 * exist. A version record that does not decode is BM_ECORRUPT naming its path. */
BM_EXTERN int bm_secret_list(bm_secret_infos *out, bm_fs *fs, const char *project, const char *env,
			     int with_removed);

/* Every version of one secret, oldest first (with tombstones). BM_ENOTFOUND when the
 * secret never existed. */
BM_EXTERN int bm_secret_history(bm_secret_infos *out, bm_fs *fs, const char *project, const char *env,
				const char *name);

/* Decrypt the current value of a secret into `out` (appended; wipe with
 * bm_buf_dispose_secret). `identities` is the text of an age identity file. `info` (may be
 * NULL) gets the version read; dispose it with bm_secret_info_dispose.
 *  BM_ENOTFOUND      no such secret, or it was removed
 *  BM_ENORECIPIENT   "not a recipient of ENV": no identity opens it
 *  BM_EVERIFY        the ciphertext was changed outside bootmeta (sha256 or age MAC);
 *                    no plaintext is returned */
BM_EXTERN int bm_secret_get(bm_buf *out, bm_fs *fs, const char *project, const char *env, const char *name,
			    const char *identities, bm_secret_info *info) BM_WARN_UNUSED;
BM_EXTERN void bm_secret_info_dispose(bm_secret_info *info);

/* One secret opened by bm_secret_get_all: either a value, or why it could not be opened. */
typedef struct {
	bm_secret_info info;
	bm_buf value;         /* plaintext when error == 0 */
	int error;            /* 0, or the BM_E* code (BM_ENORECIPIENT when not a recipient) */
	char *message;        /* the error message when error != 0 */
} bm_secret_value;

typedef struct {
	bm_secret_value *items;
	size_t count;
	size_t nopened;       /* entries with error == 0 */
	size_t nskipped;      /* entries with error != 0 */
} bm_secret_values;
#define BM_SECRET_VALUES_INIT { NULL, 0, 0, 0 }

/* Every current secret of `project` in `env` the identities can open (for config resolve
 * --secrets): each entry has its value or, when it could not be opened (not a recipient,
 * tampered), its error; one bad secret never hides the others. Fails as a whole only on
 * errors that are not about one secret (no such env, out of memory). Wipes values in
 * bm_secret_values_dispose. */
BM_EXTERN int bm_secret_get_all(bm_secret_values *out, bm_fs *fs, const char *project, const char *env,
				const char *identities);
BM_EXTERN void bm_secret_values_dispose(bm_secret_values *v);

/* Encrypt `len` bytes of `plain` to the env's recipients plus the admins and add it as the
 * next version of the secret. BM_ENOTFOUND when the env or the project does not exist; BM_ENORECIPIENT when
 * there is nobody to encrypt to; BM_ETOOBIG over BM_SECRET_MAX_SIZE. */
BM_EXTERN int bm_secret_set(uint64_t *out_seq, bm_store *store, const char *project, const char *env,
			    const char *name, const void *plain, size_t len, const bm_write_options *opts);

/* Add a tombstone version. The old ciphertexts stay in history. BM_ENOTFOUND when there is
 * no current value. */
BM_EXTERN int bm_secret_rm(uint64_t *out_seq, bm_store *store, const char *project, const char *env,
			   const char *name, const bm_write_options *opts);

/* Re-encrypt every current secret of `env` (all projects) to the env's current recipients
 * plus admins, all in one commit. Needs identities that open every one of them (else
 * BM_ENORECIPIENT naming the first that does not open, and nothing is written). With
 * `only_stale`, secrets already encrypted to the current set are left alone. `out_count`
 * (may be NULL) gets the number re-encrypted. */
BM_EXTERN int bm_secret_rekey(size_t *out_count, bm_store *store, const char *env, const char *identities,
			      int only_stale, const bm_write_options *opts);

#ifdef __cplusplus
}
#endif
#endif
