/* bootmeta/store.h: the meta repo. Opening, creating and cloning a store; reading the tree
 * of one commit through a small file-system view (bm_fs); writing through transactions
 * that only ever add files, committed with compare-and-swap on refs/heads/main and re-run
 * on conflict; durable (fsync'd) when bm_store_write returns.
 *
 * All git work goes through libgit2; the git program is never run. */
#ifndef BOOTMETA_STORE_H
#define BOOTMETA_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bm_store bm_store;
typedef struct bm_txn bm_txn;
typedef struct bm_fs bm_fs;

/* A git object id (SHA-1). */
typedef struct {
	unsigned char id[20];
} bm_oid;
#define BM_OID_HEXSZ 40

BM_EXTERN void bm_oid_fmt(char out[BM_OID_HEXSZ + 1], const bm_oid *oid);
BM_EXTERN int bm_oid_parse(bm_oid *out, const char *hex);
BM_EXTERN int bm_oid_equal(const bm_oid *a, const bm_oid *b);

/* Create a new bare meta repo at `path` (which must not exist or be an empty folder), with a
 * first commit holding `.bootmeta/format`. */
BM_EXTERN int bm_store_init(bm_store **out, const char *path);

/* The caller's policy for a store. The library reads no environment variable: a program
 * that wants $BOOTMETA_* to count (the CLI does, see bootmeta(1)) reads them itself and
 * passes the values here. Every field may be NULL/0. */
typedef struct {
	unsigned int version;
	/* where clones of remote meta repos are kept (<cache_dir>/<hash>.git); NULL: opening a
	 * URL is BM_EINVALID */
	const char *cache_dir;
	/* SSH private key that signs every meta commit written; NULL: git config
	 * bootmeta.signingKey */
	const char *signing_key;
	/* allowed-signers file bm_store_verify_path uses when given none; NULL: git config
	 * bootmeta.allowedSignersFile, then gpg.ssh.allowedSignersFile */
	const char *allowed_signers;
	/* the actor of writes whose bm_write_options name none; NULL: git's user.name and
	 * user.email, else user@host */
	const char *actor;
	/* 1: require signed meta commits (bm_store_require_signed). It can only add to git
	 * config bootmeta.requireSigned: a requirement set in either place holds. */
	int require_signed;
	/* -- version 2 (a version 1 struct is still accepted; these then count as NULL) -- */
	/* ssh remotes: the OpenSSH private key (unencrypted; its public half is read from
	 * `<ssh_key>.pub` when that exists) to log in with; NULL: the keys of the running
	 * ssh-agent (libssh2 finds it through $SSH_AUTH_SOCK). The user is the URL's, else the
	 * OS user. */
	const char *ssh_key;
	/* ssh remotes: the known_hosts file (OpenSSH format; plain and hashed host names) the
	 * server's host key must be in. An unknown host or a changed key is refused
	 * (BM_EVERIFY, about BM_ABOUT_SSH_HOST_UNKNOWN / _CHANGED); NULL refuses every ssh
	 * remote. The library never looks for ~/.ssh/known_hosts itself: the CLI passes it. */
	const char *ssh_known_hosts;
} bm_store_open_options;
#define BM_STORE_OPEN_OPTIONS_VERSION 2
#define BM_STORE_OPEN_OPTIONS_INIT { BM_STORE_OPEN_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, NULL, NULL }

/* Open a meta repo. `path` may be a repo path or a URL (cloned into opts->cache_dir, then
 * pulled on each open); NULL or "" means the repo found upward from the current folder as
 * git finds one. BM_EFORMAT when the repo is not a meta repo, uses reftable, or has a
 * format newer than BM_FORMAT_VERSION; BM_ENOTFOUND when none is found. */
BM_EXTERN int bm_store_open_ext(bm_store **out, const char *path, const bm_store_open_options *opts);
/* bm_store_open_ext with no options. */
BM_EXTERN int bm_store_open(bm_store **out, const char *path);
/* bm_store_init with the first commit's actor and the store's policy from `opts` (may be
 * NULL). */
BM_EXTERN int bm_store_init_ext(bm_store **out, const char *path, const bm_store_open_options *opts);

/* Clone the meta repo at `url` (a path, file://, ssh or https) into a new bare repo at
 * `path`. Writes to a clone push to `url` with compare-and-swap (see bm_store_write). */
BM_EXTERN int bm_store_clone(bm_store **out, const char *url, const char *path);
/* bm_store_clone with the store's policy from `opts` (may be NULL), which the clone itself
 * already uses: an ssh remote needs its ssh_key and ssh_known_hosts. */
BM_EXTERN int bm_store_clone_ext(bm_store **out, const char *url, const char *path,
				 const bm_store_open_options *opts);
/* Fetch the remote and move the local main to its tip (local main only ever follows the
 * remote: writes are pushed as they are made). `new_tip` may be NULL. */
BM_EXTERN int bm_store_pull(bm_oid *new_tip, bm_store *store);
/* Push local main to the remote (after a write made with no_push). */
BM_EXTERN int bm_store_push(bm_store *store);
/* 1 when the store has a remote (`origin`) that writes push to. */
BM_EXTERN int bm_store_has_remote(bm_store *store);
/* origin's URL, or NULL when the store has no remote. */
BM_EXTERN const char *bm_store_remote_url(bm_store *store);
/* Called after each write on this handle that the remote acknowledged (the commit is on
 * the remote's main), with origin's URL: a write that also goes elsewhere can say so. */
typedef void (*bm_push_cb)(const char *url, const bm_oid *commit, void *payload);
BM_EXTERN void bm_store_on_push(bm_store *store, bm_push_cb cb, void *payload);

BM_EXTERN void bm_store_free(bm_store *store);
BM_EXTERN const char *bm_store_path(bm_store *store);

/* The commit refs/heads/main points at. */
BM_EXTERN int bm_store_tip(bm_oid *out, bm_store *store);
/* Resolve a revision (full or abbreviated hash, ref name, `main~3`) to a commit. */
BM_EXTERN int bm_store_resolve(bm_oid *out, bm_store *store, const char *rev);

/* A commit as `bootmeta log` shows it. */
typedef struct {
	bm_oid commit;
	char author[256];   /* "Name <email>" */
	int64_t time;       /* seconds since the epoch */
	int tz_offset;      /* minutes */
	char summary[512];  /* first line of the message */
} bm_commit_info;

typedef int (*bm_log_cb)(const bm_commit_info *info, void *payload);
/* Walk the history of `path` (NULL or "": the whole repo), newest first, calling `cb` for
 * each commit that changed it; stop after `limit` commits (0: no limit). A non-zero return
 * from `cb` stops the walk and is returned. */
BM_EXTERN int bm_store_log(bm_store *store, const char *path, size_t limit, bm_log_cb cb, void *payload);
/* The commit info of one commit. */
BM_EXTERN int bm_store_commit_info(bm_commit_info *out, bm_store *store, const bm_oid *commit);

/* ---- read path: one file-system view over a commit's tree, a folder or memory ---- */

/* A view of the tree of `commit` (NULL: the tip). */
BM_EXTERN int bm_store_fs(bm_fs **out, bm_store *store, const bm_oid *commit);
/* A view of a plain folder (a checkout, an unpacked export, a mounted volume). */
BM_EXTERN int bm_fs_dir(bm_fs **out, const char *folder);
/* An empty in-memory view for tests; fill it with bm_fs_mem_put. */
BM_EXTERN int bm_fs_mem(bm_fs **out);
BM_EXTERN int bm_fs_mem_put(bm_fs *fs, const char *path, const void *data, size_t len);
BM_EXTERN void bm_fs_free(bm_fs *fs);

/* Read a file (BM_ENOTFOUND when it does not exist). */
BM_EXTERN int bm_fs_read(bm_buf *out, bm_fs *fs, const char *path);
/* Entry names of a folder, sorted bytewise; sub-folders end with '/'. BM_ENOTFOUND when
 * there is no such folder. On an error `out` holds what it held before. */
BM_EXTERN int bm_fs_list(bm_strlist *out, bm_fs *fs, const char *dir);
/* bm_fs_list, but a folder that does not exist lists as empty (0, `out` untouched): record
 * folders appear with their first record, so "no folder" and "no records" are the same. */
BM_EXTERN int bm_fs_list_or_empty(bm_strlist *out, bm_fs *fs, const char *dir);
/* The last entry name of a folder in the order bm_fs_list gives (sub-folders end with '/'),
 * without listing it where the view can (a git tree is sorted: O(1) once read). This is how
 * the newest entry of a zero-padded log folder is found. BM_ENOTFOUND when there is no such
 * folder or it is empty. */
BM_EXTERN int bm_fs_last(bm_buf *name, bm_fs *fs, const char *dir);
/* 0: nothing there, 1: a file, 2: a folder. */
BM_EXTERN int bm_fs_exists(bm_fs *fs, const char *path);
/* The commit the view reads (NULL for a folder or memory view, or an empty repo). */
BM_EXTERN const bm_oid *bm_fs_commit(bm_fs *fs);

/* ---- write path ---- */

/* A transaction body: read through bm_txn_fs(txn), add files with bm_txn_add. Runs again
 * (from scratch, on the new tip) when another writer moved main first, so it must derive
 * everything from what it reads and must not have outside side effects. Return 0 to
 * commit, < 0 to abort (nothing is written); return 1 to end without committing. */
typedef int (*bm_txn_fn)(bm_txn *txn, void *payload);

/* Signs the raw commit content (for signed meta commits); fills `signature` with the
 * armored signature git stores in the `gpgsig` header. */
typedef int (*bm_sign_fn)(bm_buf *signature, const char *content, size_t len, void *payload);

typedef struct {
	unsigned int version;
	const char *message;  /* commit message; a transaction may set it with bm_txn_message */
	const char *actor;    /* "Name <email>" or a bare name; NULL: bm_actor_default() */
	unsigned int max_attempts; /* 0: 1000 */
	bm_sign_fn sign;
	void *sign_payload;
	int no_push;          /* on a clone: commit locally, do not push */
} bm_write_options;
#define BM_WRITE_OPTIONS_VERSION 1
#define BM_WRITE_OPTIONS_INIT { BM_WRITE_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, 0 }

/* Run `fn` as a transaction and commit what it added. Durable when this returns 0: the
 * objects and the ref are fsync'd (one sync for the objects of a transaction, then the ref).
 * On a clone, the commit is pushed; when the remote moved, it fetches, re-runs `fn` on the
 * new tip and pushes again. `out_commit` (may be NULL) gets the new commit; when `fn`
 * returned 1 or added nothing, no commit is made and `out_commit` gets the tip.
 * On an error main is where it was (objects written on the way are unreferenced, for
 * `git gc`), with one exception: when the sync of refs/heads fails after the ref was
 * replaced, main holds the new, complete commit but it may not survive a crash; the
 * BM_EIO message then begins "main moved to the new commit". */
BM_EXTERN int bm_store_write(bm_oid *out_commit, bm_store *store, bm_txn_fn fn, void *payload,
			     const bm_write_options *opts);

/* The view a transaction reads: the base commit's tree plus what it added so far. */
BM_EXTERN bm_fs *bm_txn_fs(bm_txn *txn);
/* Add a file. BM_EEXISTS when the path already exists (records are never rewritten);
 * BM_EINVALID for a path that is not a clean relative path. */
BM_EXTERN int bm_txn_add(bm_txn *txn, const char *path, const void *data, size_t len);
/* Set the commit message. */
BM_EXTERN int bm_txn_message(bm_txn *txn, const char *fmt, ...) BM_PRINTF(2, 3);
/* The commit the transaction runs on (NULL: none yet). */
BM_EXTERN const bm_oid *bm_txn_base(bm_txn *txn);
/* The actor records added now name: the write's actor ("Name <email>"), or the one
 * bm_txn_set_actor set. */
BM_EXTERN const char *bm_txn_actor(bm_txn *txn);
/* Name `actor` in the records added after this call (a server committing several callers'
 * requests in one write sets each request's actor before its _txn call). The commit's
 * author stays the write's actor. NULL or "": the write's actor again. BM_EINVALID (about
 * BM_ABOUT_ACTOR) for an actor bm_store_write would refuse; the actor is then unchanged.
 * Each attempt of the transaction starts with the write's actor. */
BM_EXTERN int bm_txn_set_actor(bm_txn *txn, const char *actor);
/* The time of this attempt (milliseconds since the epoch), the same for every record the
 * attempt writes. */
BM_EXTERN int64_t bm_txn_time_ms(bm_txn *txn);
/* Which attempt this is (1 for the first run). */
BM_EXTERN unsigned int bm_txn_attempt(bm_txn *txn);
/* The files this attempt has added so far: how many, and the path of the i-th in the
 * order added (NULL past the end; valid until the attempt ends). A server hands them to
 * its watchers instead of diffing the commit it made. */
BM_EXTERN size_t bm_txn_file_count(bm_txn *txn);
BM_EXTERN const char *bm_txn_file_path(bm_txn *txn, size_t i);

/* ---- signed meta commits ----
 *
 * Writes are signed with an Ed25519 SSH key, in the format `git verify-commit` checks with
 * gpg.format=ssh, when bm_write_options.sign is NULL and a key is configured:
 * bm_store_open_options.signing_key, else the repo's (or global) git config
 * `bootmeta.signingKey` (a path to an unencrypted OpenSSH private key). */

/* Verify the signature of the commit that last changed `path` (a record: the commit that
 * added it) against an allowed-signers file (git's format). `allowed_signers` NULL means
 * bm_store_open_options.allowed_signers, else git config `bootmeta.allowedSignersFile`, else
 * `gpg.ssh.allowedSignersFile`. On success `principal` (may be NULL) gets the signer and
 * `commit` (may be NULL) the commit. BM_EVERIFY when the commit is unsigned or not signed
 * by an allowed signer; BM_ENOTFOUND when there are no allowed signers configured. */
BM_EXTERN int bm_store_verify_path(bm_buf *principal, bm_oid *commit, bm_store *store, const char *path,
				   const bm_oid *at, const char *allowed_signers) BM_WARN_UNUSED;
/* 1 when readers of this repo must refuse unsigned records: git config
 * `bootmeta.requireSigned` is true, or the store was opened with require_signed. Either
 * one is enough; neither can turn the other off. */
BM_EXTERN int bm_store_require_signed(bm_store *store);

/* The default actor: `flag` when given (not NULL or ""), else git's user.name/user.email,
 * else the OS user at the host name. */
BM_EXTERN int bm_actor_default(bm_buf *out, const char *flag);

#ifdef __cplusplus
}
#endif
#endif
