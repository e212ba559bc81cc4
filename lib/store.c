/* store.c: the meta repo on libgit2. Open/init/clone, the tree view of a commit, and the
 * write path: transactions that only add files, built into trees in memory along the
 * changed paths, committed, made durable with one sync for the objects and one for the ref,
 * and published with compare-and-swap on refs/heads/main (re-run on conflict). On a clone
 * the compare-and-swap is the push: a local-path remote is updated directly (objects
 * copied, its main swapped under the same lock; libgit2's local transport push is not a
 * CAS) unless it has receive hooks, then through `git push` with a lease; a network remote
 * through git's push protocol, which refuses a ref that moved. */
#define _GNU_SOURCE
#include "fs.h"
#include "knownhosts.h"
#include "net.h"
#include "optcheck.h"
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <spawn.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>
#include <git2/sys/refs.h>
#include <git2/sys/repository.h>
#include <sodium.h>

#include "bootmeta/sign.h"
#include "store_int.h"
#include "bootmeta/record.h"
#include "bootmeta/text.h"

#define MAIN_REF "refs/heads/main"
#define ORIGIN_REF "refs/remotes/origin/main"
#define FORMAT_PATH ".bootmeta/format"

/* The objects of a store's last writes kept for the next ones: the last RECENT_WRITES
 * writes, up to RECENT_MAX_BYTES in all (the oldest go first). A batch of 64 promotes to 64
 * channels makes about 3 MiB, and the next batch's promotes are to channels written one to
 * a few batches before. */
#define RECENT_WRITES 4
#define RECENT_MAX_BYTES ((size_t)16 << 20)

struct bm_store {
	git_repository *repo;
	char *path;     /* the repo folder (bare: the repo itself) */
	char *remote_url; /* origin's URL, NULL when none */
	int remote_is_local;
	bm_sshsig_key *signing_key; /* loaded on the first write when configured */
	int signing_checked;
	/* from bm_store_open_options: the caller's policy, never the environment's */
	char *signing_key_path, *allowed_signers, *actor;
	char *ssh_key, *ssh_known_hosts; /* for ssh remotes */
	int require_signed;
	bm_push_cb push_cb;
	void *push_payload;
	/* packs: writes made (every PACK_CHECK_EVERY-th, the first included, bounds the pack
	 * count), and how many new commits reads and writes saw since the object database was
	 * last opened afresh (libgit2 never forgets a pack that was removed) */
	unsigned long writes, seen;
	bm_oid last_seen;
	int in_write; /* inside bm_store_write: the database is the write's, never renewed */
	/* the objects of this store's last writes that reached a pack (objbufs, newest first;
	 * NULL where none): the next write reads them from memory. Its base is most often the
	 * last write's commit, whose trees along the changed paths (a channel's bucket: 40 KiB)
	 * would otherwise be read back from a pack the object database has not loaded yet,
	 * which costs a rescan of the pack folder and an inflate (perf, 1-client promotes: 20%
	 * of serve's CPU). */
	git_odb_backend *recent[RECENT_WRITES];
	time_t last_sweep; /* of the packs merges retired (bm__pack_compact) */
};

#define PACK_CHECK_EVERY 4
#define ODB_RENEW_AFTER 256
static void note_seen(bm_store *s, const bm_oid *commit);

/* ---- errors from libgit2 ---- */

/* A libgit2 failure as a bootmeta error: `code`, or BM_ENOMEM when libgit2 ran out of memory
 * (whatever it returned: under memory pressure it can answer "not found"). */
static int git_fail(int code, const char *what)
{
	const git_error *e = git_error_last();
	if (e && e->klass == GIT_ERROR_NOMEMORY)
		code = BM_ENOMEM;
	const char *m = e && e->message ? e->message : NULL, *q;
	/* libgit2 says "failed to lock file 'X' for writing: " with no reason: say what it is */
	if (m && !strncmp(m, "failed to lock file '", 21) && (q = strchr(m + 21, '\'')))
		return bm_error_set(code, "%s: the lock file %.*s exists: a git or bootmeta process is "
					  "writing there, or one was killed; if none is running, remove that file",
				    what, (int)(q - m - 21), m + 21);
	return bm_error_set(code, "%s: %s", what, m ? m : "libgit2 error");
}

void bm_oid_fmt(char out[BM_OID_HEXSZ + 1], const bm_oid *oid)
{
	bm_hex_encode(out, oid->id, 20);
}

int bm_oid_parse(bm_oid *out, const char *hex)
{
	if (!hex || strlen(hex) != BM_OID_HEXSZ)
		return bm_error_set(BM_EINVALID, "\"%s\" is not a 40-digit commit hash", hex ? hex : "");
	return bm_hex_decode(out->id, 20, hex);
}

int bm_oid_equal(const bm_oid *a, const bm_oid *b)
{
	return !memcmp(a->id, b->id, 20);
}

static void to_git(git_oid *g, const bm_oid *o) { memcpy(g->id, o->id, 20); }
static void from_git(bm_oid *o, const git_oid *g) { memcpy(o->id, g->id, 20); }

const char *bm_store_path(bm_store *store) { return store->path; }
int bm_store_has_remote(bm_store *store) { return store->remote_url != NULL; }
const char *bm_store_remote_url(bm_store *store) { return store->remote_url; }

void bm_store_on_push(bm_store *store, bm_push_cb cb, void *payload)
{
	store->push_cb = cb;
	store->push_payload = payload;
}

void bm_store_free(bm_store *store)
{
	size_t i;
	if (!store)
		return;
	git_repository_free(store->repo);
	for (i = 0; i < RECENT_WRITES; i++)
		if (store->recent[i])
			store->recent[i]->free(store->recent[i]);
	bm_sshsig_key_free(store->signing_key);
	free(store->signing_key_path);
	free(store->allowed_signers);
	free(store->actor);
	free(store->ssh_key);
	free(store->ssh_known_hosts);
	free(store->path);
	free(store->remote_url);
	free(store);
}

static int is_local_url(const char *url)
{
	if (!strncmp(url, "file://", 7))
		return 1;
	if (strstr(url, "://"))
		return 0;
	/* scp-like host:path is remote; a path with no ':' before the first '/' is local */
	return strchr(url, ':') == NULL || (strchr(url, '/') && strchr(url, '/') < strchr(url, ':'));
}

static const char *local_path_of(const char *url)
{
	return strncmp(url, "file://", 7) ? url : url + 7;
}

int bm_store_tip(bm_oid *out, bm_store *store)
{
	git_oid oid;
	int rc = git_reference_name_to_id(&oid, store->repo, MAIN_REF);
	if (rc == GIT_ENOTFOUND)
		return bm_error_set(BM_ENOTFOUND, "%s has no main branch yet", store->path);
	if (rc < 0)
		return git_fail(BM_EIO, "reading refs/heads/main");
	from_git(out, &oid);
	return 0;
}

int bm_store_resolve(bm_oid *out, bm_store *store, const char *rev)
{
	git_object *obj = NULL, *commit = NULL;
	int rc;
	if ((rc = git_revparse_single(&obj, store->repo, rev)) < 0) {
		if (rc == GIT_ENOTFOUND || rc == GIT_EAMBIGUOUS || rc == GIT_EINVALIDSPEC) {
			bm_error_set(rc == GIT_EAMBIGUOUS ? BM_EINVALID : BM_ENOTFOUND, "\"%s\" does not name a meta commit%s",
				     rev, rc == GIT_EAMBIGUOUS ? " (ambiguous: give more digits)" : "");
			return bm_error_set_about(BM_ABOUT_REVISION, rev);
		}
		return git_fail(BM_ERROR, rev);
	}
	rc = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0)
		return bm_error_set(BM_EINVALID, "\"%s\" is not a commit", rev);
	from_git(out, git_object_id(commit));
	git_object_free(commit);
	return 0;
}

/* ---- tree view ---- */

typedef struct {
	bm_fs base;
	git_repository *repo;
	git_tree *root; /* NULL: empty repo */
} tree_fs;

static int tree_read_blob(bm_buf *out, git_repository *repo, git_tree *root, const char *path)
{
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int rc, error = 0;
	if (!root || (rc = git_tree_entry_bypath(&e, root, path)) == GIT_ENOTFOUND)
		return bm_error_set(BM_ENOTFOUND, "%s: no such record", path);
	if (rc < 0)
		return git_fail(BM_EIO, path);
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		error = bm_error_set(BM_ENOTFOUND, "%s is a folder, not a record", path);
		goto done;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
		error = git_fail(BM_ECORRUPT, path);
		goto done;
	}
	error = bm_buf_put(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
done:
	git_blob_free(blob);
	git_tree_entry_free(e);
	return error;
}

static int tree_subtree(git_tree **out, git_repository *repo, git_tree *root, const char *dir)
{
	git_tree_entry *e = NULL;
	int rc;
	*out = NULL;
	if (!root)
		return bm_error_set(BM_ENOTFOUND, "%s: no such folder", dir);
	if (!*dir)
		return git_tree_dup(out, root) < 0 ? git_fail(BM_ERROR, "tree") : 0;
	if ((rc = git_tree_entry_bypath(&e, root, dir)) == GIT_ENOTFOUND)
		return bm_error_set(BM_ENOTFOUND, "%s: no such folder", dir);
	if (rc < 0)
		return git_fail(BM_EIO, dir);
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		git_tree_entry_free(e);
		return bm_error_set(BM_ENOTFOUND, "%s is a file, not a folder", dir);
	}
	rc = git_tree_lookup(out, repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	return rc < 0 ? git_fail(BM_ECORRUPT, dir) : 0;
}

/* The folder `dir` of `root` (a trailing '/' allowed), as tree_subtree. */
static int tree_folder(git_tree **out, git_repository *repo, git_tree *root, const char *dir)
{
	char clean[4096];
	size_t dl = strlen(dir);
	*out = NULL;
	if (dl >= sizeof(clean))
		return bm_error_set(BM_EINVALID, "path too long");
	memcpy(clean, dir, dl + 1);
	while (dl && clean[dl - 1] == '/')
		clean[--dl] = '\0';
	return tree_subtree(out, repo, root, clean);
}

/* The name of the last entry of folder `dir` of `root` (a folder's with '/'): git keeps
 * tree entries sorted by name, sub-trees compared as "name/", so it is the last of a bytewise
 * sorted listing. */
static int tree_last(bm_buf *name, git_repository *repo, git_tree *root, const char *dir)
{
	git_tree *sub = NULL;
	const git_tree_entry *e;
	int error;
	if ((error = tree_folder(&sub, repo, root, dir)) < 0)
		return error;
	if (!(e = git_tree_entry_byindex(sub, git_tree_entrycount(sub) - 1)))
		error = bm_error_set(BM_ENOTFOUND, "%s: empty folder", dir);
	else if (!(error = bm_buf_puts(name, git_tree_entry_name(e))) && git_tree_entry_type(e) == GIT_OBJECT_TREE)
		error = bm_buf_putc(name, '/');
	git_tree_free(sub);
	return error;
}

/* bm__fs_each over a git tree: git keeps the entries in the order of a sorted listing (a
 * sub-tree compared as "name/"). */
static int tree_each(git_repository *repo, git_tree *root, const char *dir,
		     int (*cb)(const char *name, int is_dir, void *payload), void *payload)
{
	git_tree *t = NULL;
	size_t i, n;
	int error;
	if ((error = tree_folder(&t, repo, root, dir)) < 0)
		return error;
	n = git_tree_entrycount(t);
	for (i = 0; i < n && !error; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		error = cb(git_tree_entry_name(e), git_tree_entry_type(e) == GIT_OBJECT_TREE, payload);
	}
	git_tree_free(t);
	return error;
}

static int list_add(const char *name, int is_dir, void *payload)
{
	bm_strlist *out = payload;
	bm_buf b = BM_BUF_INIT;
	int error;
	if (!is_dir)
		return bm_strlist_add(out, name);
	if ((error = bm_buf_printf(&b, "%s/", name)) == 0)
		error = bm_strlist_add(out, b.ptr);
	bm_buf_dispose(&b);
	return error;
}

static int tree_list_into(bm_strlist *out, git_repository *repo, git_tree *root, const char *dir)
{
	return tree_each(repo, root, dir, list_add, out);
}

static int tree_exists_in(git_tree *root, const char *path)
{
	git_tree_entry *e = NULL;
	int rc;
	if (!root)
		return 0;
	if (!*path)
		return 2;
	if (git_tree_entry_bypath(&e, root, path) < 0) {
		git_error_clear();
		return 0;
	}
	rc = git_tree_entry_type(e) == GIT_OBJECT_TREE ? 2 : 1;
	git_tree_entry_free(e);
	return rc;
}

static int tfs_read(bm_buf *out, bm_fs *fs, const char *path)
{
	tree_fs *t = (tree_fs *)fs;
	return tree_read_blob(out, t->repo, t->root, path);
}

static int tfs_list(bm_strlist *out, bm_fs *fs, const char *dir)
{
	tree_fs *t = (tree_fs *)fs;
	return tree_list_into(out, t->repo, t->root, dir);
}

static int tfs_exists(bm_fs *fs, const char *path)
{
	return tree_exists_in(((tree_fs *)fs)->root, path);
}

static void tfs_free(bm_fs *fs)
{
	tree_fs *t = (tree_fs *)fs;
	git_tree_free(t->root);
	free(t);
}

static int tfs_last(bm_buf *name, bm_fs *fs, const char *dir)
{
	tree_fs *t = (tree_fs *)fs;
	return tree_last(name, t->repo, t->root, dir);
}

static int tfs_each(bm_fs *fs, const char *dir, int (*cb)(const char *name, int is_dir, void *payload),
		    void *payload, int *declined)
{
	tree_fs *t = (tree_fs *)fs;
	(void)declined;
	return tree_each(t->repo, t->root, dir, cb, payload);
}

static int tfs_sub(bm_fs **out, bm_fs *fs, const char *dir);
static const bm_fs_ops tree_ops = { tfs_read, tfs_list, tfs_exists, tfs_free, tfs_last, tfs_sub, tfs_each };

/* A view rooted at a folder's own tree: reads below it start there, not at the root. */
static int tfs_sub(bm_fs **out, bm_fs *fs, const char *dir)
{
	tree_fs *t = (tree_fs *)fs, *s;
	git_tree *sub = NULL;
	int error;
	*out = NULL;
	if ((error = tree_subtree(&sub, t->repo, t->root, dir)) < 0)
		return error;
	if (!(s = calloc(1, sizeof(*s)))) {
		git_tree_free(sub);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	s->base.ops = &tree_ops;
	s->base.commit = fs->commit;
	s->base.has_commit = fs->has_commit;
	s->repo = t->repo;
	s->root = sub;
	*out = &s->base;
	return 0;
}

static int commit_tree(git_tree **out, git_repository *repo, const bm_oid *commit)
{
	git_oid g;
	git_commit *c = NULL;
	int rc;
	to_git(&g, commit);
	if (git_commit_lookup(&c, repo, &g) < 0)
		return git_fail(BM_ENOTFOUND, "looking up the meta commit");
	rc = git_commit_tree(out, c);
	git_commit_free(c);
	return rc < 0 ? git_fail(BM_ECORRUPT, "reading the commit's tree") : 0;
}

int bm_store_fs(bm_fs **out, bm_store *store, const bm_oid *commit)
{
	tree_fs *t;
	bm_oid tip;
	int error;
	*out = NULL;
	if (!commit) {
		if ((error = bm_store_tip(&tip, store)) < 0)
			return error;
		commit = &tip;
	}
	if (!(t = calloc(1, sizeof(*t))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	t->base.ops = &tree_ops;
	t->repo = store->repo;
	t->base.commit = *commit;
	t->base.has_commit = 1;
	note_seen(store, commit);
	if ((error = commit_tree(&t->root, store->repo, commit)) < 0) {
		free(t);
		return error;
	}
	*out = &t->base;
	return 0;
}

/* ---- open / init ---- */

static int check_format(bm_store *s)
{
	bm_fs *fs = NULL;
	bm_oid tip;
	bm_buf buf = BM_BUF_INIT;
	int error, version;
	char *end;

	if ((error = bm_store_tip(&tip, s)) < 0) {
		if (error == BM_ENOTFOUND) {
			bm_error_set(BM_EFORMAT, "%s is a git repo but not a bootmeta meta repo (no main branch)", s->path);
			error = bm_error_set_about(BM_ABOUT_REPO, s->path);
		}
		goto done;
	}
	if ((error = bm_store_fs(&fs, s, &tip)) < 0) {
		char hex[BM_OID_HEXSZ + 1], why[512];
		if (error == BM_ENOMEM) /* not a verdict on the repo */
			goto done;
		bm_oid_fmt(hex, &tip);
		snprintf(why, sizeof(why), "%s", bm_error_last() ? bm_error_last() : "");
		/* the branch is there; what it points at is not */
		error = bm_error_set(BM_ECORRUPT, "%s: main points at commit %.12s, which is missing or damaged "
						  "in the object store (%s); objects were deleted under it (e.g. `git "
						  "prune --expire=now` beside a writer) or the copy is damaged: run "
						  "`git -C %s fsck`, and restore from a clone or move main back to an "
						  "intact commit", s->path, hex, why, s->path);
		goto done;
	}
	if ((error = bm_fs_read(&buf, fs, FORMAT_PATH)) < 0) {
		if (error != BM_ENOTFOUND) /* out of memory, a read error: not a verdict on the repo */
			goto done;
		bm_error_set(BM_EFORMAT, "%s is a git repo but not a bootmeta meta repo (no %s on main)", s->path,
			     FORMAT_PATH);
		error = bm_error_set_about(BM_ABOUT_REPO, s->path);
		goto done;
	}
	version = (int)strtol(buf.ptr, &end, 10);
	if (end == buf.ptr || version < 1) {
		error = bm_error_set(BM_EFORMAT, "%s: %s is not a format number", s->path, FORMAT_PATH);
		goto done;
	}
	if (version > BM_FORMAT_VERSION)
		error = bm_error_set(BM_EFORMAT, "%s uses meta repo format %d, newer than this bootmeta (%s) "
						 "understands (%d); upgrade bootmeta", s->path, version, BM_VERSION,
				     BM_FORMAT_VERSION);
done:
	bm_buf_dispose(&buf);
	bm_fs_free(fs);
	return error;
}

static int check_reftable(const char *path)
{
	git_config *cfg = NULL;
	bm_buf p = BM_BUF_INIT;
	int i, found = 0;
	for (i = 0; i < 2 && !found; i++) {
		bm_buf_clear(&p);
		if (bm_buf_printf(&p, i == 0 ? "%s/config" : "%s/.git/config", path) < 0)
			break;
		if (access(p.ptr, R_OK) == 0 && git_config_open_ondisk(&cfg, p.ptr) == 0) {
			git_buf v = { 0 };
			if (git_config_get_string_buf(&v, cfg, "extensions.refstorage") == 0 &&
			    strcmp(v.ptr, "files"))
				found = 1;
			git_buf_dispose(&v);
			git_config_free(cfg);
			cfg = NULL;
		}
		git_error_clear();
	}
	bm_buf_dispose(&p);
	if (found)
		return bm_error_set(BM_EFORMAT, "%s uses the reftable ref storage, which libgit2 cannot read; "
						 "convert it with `git refs migrate --ref-format=files` or clone it", path);
	return 0;
}

/* libgit2 refuses a repo another user owns (git's safe.directory rule) and, in 1.5, says
 * only "not found" or nothing: find the repo folder it would have opened and say so. */
static int check_owner(const char *path)
{
	char dir[4096], cand[4200], real[4300];
	struct stat st;
	int depth;
	uid_t me = geteuid();
	if (!getcwd(dir, sizeof(dir)))
		return 0;
	if (path && snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return 0;
	for (depth = 0; depth < 64; depth++) {
		const char *found = NULL;
		snprintf(cand, sizeof(cand), "%s/.git", dir);
		if (stat(cand, &st) == 0)
			found = cand;
		else {
			char head[4300], objs[4300];
			struct stat a, b;
			snprintf(head, sizeof(head), "%s/HEAD", dir);
			snprintf(objs, sizeof(objs), "%s/objects", dir);
			if (stat(head, &a) == 0 && stat(objs, &b) == 0 && S_ISDIR(b.st_mode) && stat(dir, &st) == 0)
				found = dir;
		}
		if (found) {
			if (st.st_uid != me) {
				struct passwd *pw = getpwuid(st.st_uid);
				int maj = 0, min = 0, rev = 0;
				if (!realpath(found == cand ? dir : found, real))
					snprintf(real, sizeof(real), "%s", found == cand ? dir : found);
				git_libgit2_version(&maj, &min, &rev);
				return bm_error_set(BM_EPERM, "%s is owned by %s (uid %u), not by you (uid %u), and git and "
							      "libgit2 refuse a repo another user owns. If you trust it, "
							      "run `git config --global --add safe.directory %s`%s, or "
							      "run bootmeta as its owner",
						    real, pw && pw->pw_name ? pw->pw_name : "another user", (unsigned)st.st_uid,
						    (unsigned)me, real,
						    maj == 1 && min <= 5 ? " (name the folder: this libgit2 ignores "
									   "safe.directory=*)" : "");
			}
			return 0;
		}
		if (path)
			return 0; /* --repo names the repo itself: no search */
		{
			char *slash = strrchr(dir, '/');
			if (!slash || slash == dir)
				return 0;
			*slash = '\0';
		}
	}
	return 0;
}

/* origin, for a fetch or a push: an anonymous remote of the URL read at open, with the
 * refspecs given at each call. Not git_remote_lookup: libgit2 1.5 leaks the pcre2 match data
 * of every config regex lookup that does not match (~20 KiB each, 20 of them per lookup),
 * which a long-running server that fetches every few seconds cannot afford. So is
 * git_remote_create_anonymous (it looks up insteadOf rules). */
static int origin_remote(git_remote **out, bm_store *s)
{
	if (!s->remote_url) {
		git_error_set_str(GIT_ERROR_INVALID, "the repo has no remote origin");
		return -1;
	}
	git_remote_create_options o = GIT_REMOTE_CREATE_OPTIONS_INIT;
	o.repository = s->repo;
	/* no url.<base>.insteadOf rewriting: its lookup is one of those regexes; the URL was
	 * read from the config as it is */
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, s->remote_url, &o);
}

static int load_remote(bm_store *s)
{
	git_remote *r = NULL;
	int rc = git_remote_lookup(&r, s->repo, "origin");
	const git_error *e = git_error_last();
	if (rc == GIT_ENOTFOUND && !(e && e->klass == GIT_ERROR_NOMEMORY)) {
		git_error_clear();
		return 0;
	}
	if (rc < 0) /* not "no remote": writes would not be pushed */
		return git_fail(BM_ERROR, "reading the remote origin");
	if (git_remote_url(r) && !(s->remote_url = strdup(git_remote_url(r)))) {
		git_remote_free(r);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	git_remote_free(r);
	if (s->remote_url)
		s->remote_is_local = is_local_url(s->remote_url);
	return 0;
}

static int store_new(bm_store **out, git_repository *repo)
{
	bm_store *s = calloc(1, sizeof(*s));
	const char *p;
	size_t n;
	if (!s) {
		git_repository_free(repo);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	s->repo = repo;
	p = git_repository_is_bare(repo) ? git_repository_path(repo) : git_repository_workdir(repo);
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	if (!(s->path = strndup(p, n))) {
		bm_store_free(s);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

static int cache_path_for(bm_buf *out, const char *url, const char *cache_dir)
{
	unsigned char h[32];
	char hex[65];
	crypto_hash_sha256(h, (const unsigned char *)url, strlen(url));
	bm_hex_encode(hex, h, 8);
	if (!cache_dir || !*cache_dir)
		return bm_error_set(BM_EINVALID, "no cache folder to keep a clone of %s in; pass a local path",
				    url);
	return bm_buf_printf(out, "%s/%s.git", cache_dir, hex);
}

/* Take the caller's policy from `opts` (copied: the caller's strings need not outlive it). */
static int store_apply_options(bm_store *s, const bm_store_open_options *opts)
{
	if (!opts)
		return 0;
	if ((opts->signing_key && !(s->signing_key_path = strdup(opts->signing_key))) ||
	    (opts->allowed_signers && !(s->allowed_signers = strdup(opts->allowed_signers))) ||
	    (opts->actor && !(s->actor = strdup(opts->actor))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	s->require_signed = opts->require_signed != 0;
	if (opts->version >= 2 &&
	    ((opts->ssh_key && !(s->ssh_key = strdup(opts->ssh_key))) ||
	     (opts->ssh_known_hosts && !(s->ssh_known_hosts = strdup(opts->ssh_known_hosts)))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	return 0;
}

static int mkdirs(const char *path)
{
	char tmp[4096];
	size_t i, n = strlen(path);
	if (n >= sizeof(tmp))
		return bm_error_set(BM_EINVALID, "path too long");
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];
			tmp[i] = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return bm_error_set(BM_EIO, "%s: cannot create folder: %s", tmp, strerror(errno));
			tmp[i] = c;
		}
	}
	return 0;
}

static int recover_on_open(git_repository *repo);

static int looks_like_url(const char *s)
{
	return strstr(s, "://") != NULL && strncmp(s, "file://", 7) != 0;
}

int bm_store_open(bm_store **out, const char *path)
{
	return bm_store_open_ext(out, path, NULL);
}

int bm_store_open_ext(bm_store **out, const char *path, const bm_store_open_options *opts)
{
	git_repository *repo = NULL;
	bm_store *s = NULL;
	int rc, error;

	*out = NULL;
	if ((error = BM_OPTS_CHECK(opts, BM_STORE_OPEN_OPTIONS_VERSION, "bm_store_open_options")) < 0)
		return error;
	if (path && !*path)
		path = NULL;
	if (path && (looks_like_url(path) || (!is_local_url(path)))) {
		/* a remote meta repo: keep a local clone in the cache and read that */
		bm_buf cache = BM_BUF_INIT;
		if ((error = cache_path_for(&cache, path, opts ? opts->cache_dir : NULL)) < 0)
			return error;
		if (access(cache.ptr, F_OK) == 0) {
			error = bm_store_open_ext(out, cache.ptr, opts);
			if (!error)
				error = bm_store_pull(NULL, *out);
		} else {
			char *slash = strrchr(cache.ptr, '/');
			*slash = '\0';
			error = mkdirs(cache.ptr);
			*slash = '/';
			if (!error)
				error = bm_store_clone_ext(out, path, cache.ptr, opts);
		}
		bm_buf_dispose(&cache);
		if (error < 0) {
			bm_store_free(*out);
			*out = NULL;
		}
		return error;
	}
	if (path && !strncmp(path, "file://", 7))
		path += 7;
	if (path) {
		if (access(path, F_OK) < 0) {
			bm_error_set(BM_ENOTFOUND, "%s: no such meta repo", path);
			return bm_error_set_about(BM_ABOUT_REPO, path);
		}
		rc = git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	} else {
		rc = git_repository_open_ext(&repo, ".", 0, NULL);
	}
	if (rc < 0) {
		const char *where = path ? path : "the current folder";
		const git_error *ge = git_error_last();
		char why[512];
		if (ge && ge->klass == GIT_ERROR_NOMEMORY)
			return git_fail(BM_ENOMEM, where);
		snprintf(why, sizeof(why), "%s", ge && ge->message ? ge->message : "");
		if ((error = check_reftable(path ? path : ".")) < 0 || (error = check_owner(path)) < 0)
			return error;
		if (rc == GIT_ENOTFOUND) {
			bm_error_set(BM_ENOTFOUND, "%s is not in a meta repo", where);
			return bm_error_set_about(BM_ABOUT_REPO, path);
		}
		return bm_error_set(BM_EFORMAT, "%s: cannot open it as a git repo: %s", where,
				    *why ? why : "libgit2 gave no reason");
	}
	if ((error = recover_on_open(repo)) < 0) {
		git_repository_free(repo);
		return error;
	}
	if ((error = store_new(&s, repo)) < 0)
		return error;
	if ((error = load_remote(s)) < 0 || (error = check_format(s)) < 0 || (error = store_apply_options(s, opts)) < 0) {
		bm_store_free(s);
		return error;
	}
	*out = s;
	return 0;
}

/* ---- durability ----
 *
 * One device flush per transaction (as git's core.fsyncMethod=batch): each new object file
 * is written out to the device without a cache flush (sync_file_range), then the ref is
 * replaced through a lock file that is written out the same way, renamed, and the ref
 * folder fsync'd. That fsync commits the file-system journal up to the rename (so every
 * object's folder entry, which came earlier, too) and flushes the device cache once. Data
 * reached the device before the rename entered the journal, so no journal commit, ours or
 * a periodic one, can make the ref durable ahead of the objects it names.
 *
 * This relies on a journaling file system that commits metadata in order: it is used on
 * xfs and on ext3/ext4 with a journal (journaled() below), and every object and folder is
 * fsync'd on any other file system (ext4 without a journal writes a new file's inode only
 * on its own fsync or at writeback, so the ref could reach the disk before the pack it
 * names). `git config bootmeta.fsyncMethod full` or `batch` decides instead (`auto`: the
 * default; any other value: full). */

static int fsync_path(const char *path, int dir)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0)), error = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : bm_error_set(BM_EIO, "open %s: %s", path, strerror(errno));
	if (fsync(fd) < 0)
		error = bm_error_set(BM_EIO, "fsync %s: %s", path, strerror(errno));
	close(fd);
	return error;
}

/* 1 when the file system of `dir` journals its metadata in order: xfs, or ext3/ext4 whose
 * block device has a jbd2 journal (/proc/fs/jbd2/<device>-<inode>). Kept per device. */
static int journaled(const char *dir)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct {
		dev_t dev;
		int ok;
	} seen[16];
	static size_t nseen;
	struct statfs sf;
	struct stat st;
	char path[64], link[PATH_MAX];
	const char *name;
	size_t i, len;
	ssize_t n;
	int ok = 0;

	if (stat(dir, &st) < 0)
		return 0;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nseen; i++)
		if (seen[i].dev == st.st_dev) {
			ok = seen[i].ok;
			pthread_mutex_unlock(&lock);
			return ok;
		}
	pthread_mutex_unlock(&lock);
	if (statfs(dir, &sf) < 0)
		return 0;
	if (sf.f_type == XFS_SUPER_MAGIC) {
		ok = 1;
	} else if (sf.f_type == EXT4_SUPER_MAGIC) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
		if ((n = readlink(path, link, sizeof(link) - 1)) > 0) {
			DIR *d;
			struct dirent *e;
			link[n] = '\0';
			name = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
			len = strlen(name);
			if ((d = opendir("/proc/fs/jbd2"))) {
				while (!ok && (e = readdir(d)))
					ok = !strncmp(e->d_name, name, len) && e->d_name[len] == '-';
				closedir(d);
			}
		}
	}
	pthread_mutex_lock(&lock);
	if (nseen < sizeof(seen) / sizeof(seen[0])) {
		seen[nseen].dev = st.st_dev;
		seen[nseen++].ok = ok;
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

static int full_fsync_wanted(git_repository *repo)
{
	git_config *cfg = NULL;
	git_buf v = { 0 };
	int full = -1;
	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&v, cfg, "bootmeta.fsyncmethod") == 0)
		full = !strcmp(v.ptr, "batch") ? 0 : !strcmp(v.ptr, "auto") ? -1 : 1; /* a typo: the safe one */
	git_buf_dispose(&v);
	git_config_free(cfg);
	git_error_clear();
	return full >= 0 ? full : !journaled(git_repository_path(repo));
}

static int sync_objects(git_repository *repo, const git_oid *oids, size_t n)
{
	const char *gitdir = git_repository_path(repo);
	char path[4096], hex[GIT_OID_HEXSZ + 1];
	int fd, full = full_fsync_wanted(repo), error = 0, pass;
	size_t i;

	/* pass 0 starts write-out of every object at once, pass 1 waits for each */
	for (pass = full ? 1 : 0; pass < 2 && !error; pass++) {
		for (i = 0; i < n && !error; i++) {
			git_oid_tostr(hex, sizeof(hex), &oids[i]);
			snprintf(path, sizeof(path), "%sobjects/%.2s/%s", gitdir, hex, hex + 2);
			if (full) {
				if ((error = fsync_path(path, 0)) == 0) {
					snprintf(path, sizeof(path), "%sobjects/%.2s", gitdir, hex);
					error = fsync_path(path, 1);
				}
				continue;
			}
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && errno == ENOENT)
				continue; /* packed, or not a loose object of ours: nothing to write out */
			if (fd < 0) {
				error = bm_error_set(BM_EIO, "writing out %s: %s", path, strerror(errno));
				continue;
			}
			if (sync_file_range(fd, 0, 0, pass == 0 ? SYNC_FILE_RANGE_WRITE
								: SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
									  SYNC_FILE_RANGE_WAIT_AFTER) < 0 &&
			    errno != ENOSYS)
				error = bm_error_set(BM_EIO, "writing out %s: %s", path, strerror(errno));
			close(fd);
		}
	}
	return error;
}

/* ---- ref locks ----
 *
 * Every ref bootmeta moves (main; origin/main on a clone; a path remote's main) is moved
 * here: under the repo's writer flock (bootmeta-ref.lock, which dies with its process)
 * bootmeta takes git's own lock file REF.lock with O_EXCL, as git does, so git processes
 * are excluded too; writes the new value into it and renames it over the ref.
 *
 * A writer killed while it holds REF.lock would leave it behind, and git (and libgit2)
 * then refuse every update of that ref until someone removes it. So while a bootmeta
 * writer holds a lock file it keeps that file's identity (device, inode, change time) in
 * bootmeta-ref.lock and clears it when done. Whoever next takes the flock (any write, and
 * any bootmeta command that opens the repo, without waiting) and finds such a record
 * knows its writer died (it no longer holds the flock) and removes the lock files it names
 * if they are still the same files: at once, so git is not blocked either. A lock file no
 * record names is a git process's (or one killed before it recorded it); a writer removes
 * it once it is LOCK_STALE_SECS old (git holds a ref lock for milliseconds). */

#define LOCK_STALE_SECS 2
#define WRITER_LOCK "bootmeta-ref.lock"

typedef struct {
	int fd;
	git_repository *repo;
} writer_lock;

static int lock_error(const char *lockpath, const char *why)
{
	return bm_error_set(BM_EIO, "cannot take the lock %s (%s); if no git or bootmeta process is "
				    "writing to this repo, remove that file", lockpath, why);
}

/* Remove the lock files named in the record of a dead writer (we hold the flock). */
static void recover_dead_writer(int fd, const char *gitdir)
{
	char rec[4096], path[4096];
	ssize_t n = pread(fd, rec, sizeof(rec) - 1, 0);
	char *line, *save = NULL;
	if (n <= 0)
		return;
	rec[n] = '\0';
	for (line = strtok_r(rec, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long dev, ino;
		long long cs, cns;
		int off = 0;
		struct stat st;
		if (sscanf(line, "%llu %llu %lld %lld %n", &dev, &ino, &cs, &cns, &off) != 4 || !off ||
		    strstr(line + off, "..") || line[off] == '/')
			continue;
		snprintf(path, sizeof(path), "%s%s", gitdir, line + off);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (unsigned long long)st.st_dev == dev &&
		    (unsigned long long)st.st_ino == ino && (long long)st.st_ctim.tv_sec == cs &&
		    (long long)st.st_ctim.tv_nsec == cns)
			unlink(path);
	}
	if (ftruncate(fd, 0) < 0) {
		/* read-only: the next writer retries */
	}
}

static int writer_lock_take(writer_lock *wl, git_repository *repo)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s" WRITER_LOCK, git_repository_path(repo));
	wl->repo = repo;
	wl->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (wl->fd < 0)
		return bm_error_set(BM_EIO, "cannot open the writers' lock %s: %s", path, strerror(errno));
	while (flock(wl->fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(wl->fd);
			wl->fd = -1;
			return bm_error_set(BM_EIO, "cannot lock %s: %s", path, strerror(e));
		}
	}
	recover_dead_writer(wl->fd, git_repository_path(repo));
	return 0;
}

static void writer_lock_release(writer_lock *wl)
{
	if (wl->fd >= 0)
		close(wl->fd);
	wl->fd = -1;
}

/* Any bootmeta process that opens a repo clears a dead writer's lock files, without
 * waiting for a live writer (which clears its own). Silent: a repo we cannot write to is
 * left as it is. */
static int recover_on_open(git_repository *repo)
{
	char path[4096];
	struct stat st;
	int fd;
	snprintf(path, sizeof(path), "%s" WRITER_LOCK, git_repository_path(repo));
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		/* none yet, or a reader who may not write here: nothing to recover */
		if (errno == ENOENT || errno == EACCES || errno == EPERM || errno == EROFS)
			return 0;
		return bm_error_set(BM_EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
		recover_dead_writer(fd, git_repository_path(repo));
	close(fd);
	return 0;
}

/* Take REF.lock for `refname` (O_EXCL, as git does); its fd, or an error. A lock file that
 * stays for LOCK_STALE_SECS while we hold the writers' flock is a dead process's. */
static int take_git_lock(const char *lockpath)
{
	int tries, fd;
	struct stat st;
	for (tries = 0; tries < 150; tries++) {
		fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			return fd;
		if (errno == ENOENT) {
			/* the ref's folder is missing (refs/remotes/origin/ on a fresh clone) */
			char dir[4300], *slash;
			snprintf(dir, sizeof(dir), "%s", lockpath);
			if ((slash = strrchr(dir, '/')))
				*slash = '\0';
			if (mkdirs(dir) < 0)
				return bm_error_prefix(BM_EIO, "cannot take the lock %s", lockpath);
			continue;
		}
		if (errno != EEXIST)
			return lock_error(lockpath, strerror(errno));
		if (stat(lockpath, &st) == 0 && time(NULL) - st.st_mtime >= LOCK_STALE_SECS) {
			if (unlink(lockpath) < 0 && errno != ENOENT)
				return lock_error(lockpath, "it was left by a process that is gone, and cannot be removed");
		} else {
			usleep(20000);
		}
	}
	return lock_error(lockpath, "another process holds it and did not release it within 3 s");
}

/* 1 unless core.logAllRefUpdates is set to false: a meta repo keeps a reflog for main even
 * when bare (git keeps none for a bare repo by default), so that `bootmeta doctor --repair`
 * can move main back after `git prune` deleted objects a writer had not referenced yet. */
static int reflog_wanted(git_repository *repo)
{
	git_config *cfg = NULL;
	git_buf v = { 0 };
	int want = 1;
	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&v, cfg, "core.logallrefupdates") == 0)
		want = strcasecmp(v.ptr, "false") && strcasecmp(v.ptr, "no") && strcasecmp(v.ptr, "off") &&
		       strcmp(v.ptr, "0");
	git_buf_dispose(&v);
	git_config_free(cfg);
	git_error_clear();
	return want;
}

/* Who moved a ref, when and why, for its reflog entry (NULL members: bootmeta, now, a
 * generic message). */
typedef struct {
	const char *who;
	int64_t time_ms;
	const char *msg;
} ref_note;
#define NOTE(m) (&(const ref_note){ NULL, 0, (m) })

/* Append "<old> <new> <who> <time> +0000\t<msg>" to logs/<refname>, as git writes a reflog
 * entry (before the ref itself moves). `who` is "Name <email>" or a bare name; control
 * characters in it and in the message's first line become spaces. */
static int reflog_append(git_repository *repo, const char *refname, const git_oid *old, const git_oid *next,
			 const ref_note *note)
{
	const char *gitdir = git_repository_path(repo);
	const char *who = note && note->who && *note->who ? note->who : "bootmeta";
	const char *msg = note && note->msg ? note->msg : "bootmeta: update";
	int64_t time_ms = note && note->time_ms ? note->time_ms : (int64_t)time(NULL) * 1000;
	char path[4200], ohex[GIT_OID_HEXSZ + 1], nhex[GIT_OID_HEXSZ + 1], *slash;
	bm_buf line = BM_BUF_INIT;
	size_t i, start;
	int fd, error = 0;

	if (old)
		git_oid_tostr(ohex, sizeof(ohex), old);
	else
		memset(ohex, '0', GIT_OID_HEXSZ), ohex[GIT_OID_HEXSZ] = '\0';
	git_oid_tostr(nhex, sizeof(nhex), next);
	if ((error = bm_buf_printf(&line, "%s %s ", ohex, nhex)) < 0)
		goto done;
	start = line.size;
	if ((error = bm_buf_puts(&line, who)) < 0)
		goto done;
	if (!strchr(who, '<') && (error = bm_buf_puts(&line, " <>")) < 0)
		goto done;
	if ((error = bm_buf_printf(&line, " %lld +0000\t", (long long)(time_ms / 1000))) < 0)
		goto done;
	for (i = 0; msg[i] && msg[i] != '\n'; i++)
		if ((error = bm_buf_putc(&line, msg[i])) < 0)
			goto done;
	if ((error = bm_buf_putc(&line, '\n')) < 0)
		goto done;
	for (i = start; i < line.size - 1; i++)
		if ((unsigned char)line.ptr[i] < 0x20 || line.ptr[i] == 0x7f)
			line.ptr[i] = ' ';
	/* mkdir -p the folders of logs/<refname>, when the log is not there yet */
	snprintf(path, sizeof(path), "%slogs/%s", gitdir, refname);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0)
		goto have_fd;
	if (errno != ENOENT) {
		error = bm_error_set(BM_EIO, "%s: %s (the reflog of %s; check the folder's owner and permissions)",
				     path, strerror(errno), refname);
		goto done;
	}
	for (slash = path + strlen(gitdir); (slash = strchr(slash + 1, '/'));) {
		*slash = '\0';
		if (mkdir(path, 0777) < 0 && errno != EEXIST) {
			error = bm_error_set(BM_EIO, "%s: %s (the reflog's folder; check its owner and permissions)",
					     path, strerror(errno));
			goto done;
		}
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		error = bm_error_set(BM_EIO, "%s: %s (the reflog of %s; check the folder's owner and permissions)",
				     path, strerror(errno), refname);
		goto done;
	}
have_fd:
	if (write(fd, line.ptr, line.size) != (ssize_t)line.size)
		error = bm_error_set(BM_EIO, "writing %s: %s", path, strerror(errno));
	close(fd);
done:
	bm_buf_dispose(&line);
	return error;
}

/* Move `refname` of the repo held by `wl` to `next`, durably. With `check`, only from
 * `expected` (NULL: the ref must not exist): BM_ECONFLICT when it moved. */
static int ref_set_locked(writer_lock *wl, const char *refname, const git_oid *next, int check,
			  const git_oid *expected, const ref_note *note)
{
	git_repository *repo = wl->repo;
	const char *gitdir = git_repository_path(repo);
	char refpath[4096], lockpath[4200], dirpath[4096], line[GIT_OID_HEXSZ + 2], rec[4400];
	git_oid cur;
	struct stat st;
	int fd = -1, rc, error = 0, full = full_fsync_wanted(repo), n, locked = 0;
	char *slash;

	snprintf(refpath, sizeof(refpath), "%s%s", gitdir, refname);
	snprintf(lockpath, sizeof(lockpath), "%s.lock", refpath);
	snprintf(dirpath, sizeof(dirpath), "%s", refpath);
	if ((slash = strrchr(dirpath, '/')))
		*slash = '\0';
	if ((fd = take_git_lock(lockpath)) < 0)
		return fd;
	locked = 1;
	if (check) {
		/* under git's lock, so a git receive-pack cannot move the ref in between */
		rc = git_reference_name_to_id(&cur, repo, refname);
		git_error_clear();
		if (expected ? (rc < 0 || !git_oid_equal(&cur, expected)) : rc == 0) {
			error = BM_ECONFLICT;
			goto done;
		}
	}
	git_oid_tostr(line, sizeof(line), next);
	line[GIT_OID_HEXSZ] = '\n';
	if (write(fd, line, GIT_OID_HEXSZ + 1) != GIT_OID_HEXSZ + 1) {
		error = bm_error_set(BM_EIO, "writing %s: %s", lockpath, strerror(errno));
		goto done;
	}
	/* the record that lets the next writer remove this lock at once if we die now */
	if (fstat(fd, &st) == 0) {
		n = snprintf(rec, sizeof(rec), "%llu %llu %lld %lld %s.lock\n", (unsigned long long)st.st_dev,
			     (unsigned long long)st.st_ino, (long long)st.st_ctim.tv_sec,
			     (long long)st.st_ctim.tv_nsec, refname);
		if (n > 0 && (size_t)n < sizeof(rec) && pwrite(wl->fd, rec, (size_t)n, 0) != n) {
			/* the disk refuses a small write: stop before the ref moves */
			error = bm_error_set(BM_EIO, "writing the lock record %s" WRITER_LOCK ": %s", gitdir,
					     strerror(errno));
			goto done;
		}
	}
	if (full ? fsync(fd) < 0
		 : (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
						    SYNC_FILE_RANGE_WAIT_AFTER) < 0 && errno != ENOSYS)) {
		error = bm_error_set(BM_EIO, "writing out %s: %s", lockpath, strerror(errno));
		goto done;
	}
	close(fd);
	fd = -1;
	if (reflog_wanted(repo)) { /* the entry goes in before the ref moves, as git does */
		const git_oid *old = expected;
		if (!check)
			old = git_reference_name_to_id(&cur, repo, refname) == 0 ? &cur : NULL;
		git_error_clear();
		if ((error = reflog_append(repo, refname, old, next, note)) < 0) {
			unlink(lockpath);
			goto done;
		}
	}
	if (rename(lockpath, refpath) < 0) {
		error = bm_error_set(BM_EIO, "renaming %s: %s", lockpath, strerror(errno));
		unlink(lockpath);
		goto done;
	}
	locked = 0;
	/* the ref has moved: a failure now cannot be undone, only reported */
	if ((error = fsync_path(dirpath, 1)) < 0)
		error = bm_error_prefix(BM_EIO, "%s moved to the new commit, but it is not known to be durable",
					strcmp(refname, MAIN_REF) ? refname : "main");
done:
	if (fd >= 0)
		close(fd);
	if (locked)
		unlink(lockpath);
	if (ftruncate(wl->fd, 0) < 0) {
		/* a stale record names a lock file that is gone or new: recovery checks identity */
	}
	return error;
}

/* Temporary object files of a dead libgit2 writer (objects/tmp_object_git2_*, a fetch's
 * objects/pack/pack_git2_*) or bootmeta writer (objects/pack/tmp_bm_*) are removed by the next write once they are TMP_STALE_SECS
 * old: a live writer renames its file into place within milliseconds of creating it, but
 * such a file cannot tell which process made it, so only age proves it dead. git's own
 * temporary files (tmp_obj_*, tmp_pack_*) are left to git gc. */
#define TMP_STALE_SECS 3600

static void clean_tmp_dir(const char *dir, const char *prefix, time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t pl = strlen(prefix);
	char path[4096];
	struct stat st;
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, pl))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime >= TMP_STALE_SECS)
			unlink(path);
	}
	closedir(d);
}

static void clean_tmp_objects(git_repository *repo)
{
	char dir[4096];
	time_t now = time(NULL);
	snprintf(dir, sizeof(dir), "%sobjects", git_repository_path(repo));
	clean_tmp_dir(dir, "tmp_object_git2_", now);
	snprintf(dir, sizeof(dir), "%sobjects/pack", git_repository_path(repo));
	clean_tmp_dir(dir, "pack_git2_", now);
	clean_tmp_dir(dir, "tmp_bm_", now);
}

static int ref_set(git_repository *repo, const char *refname, const git_oid *next, int check, const git_oid *expected,
		   const ref_note *note)
{
	writer_lock wl;
	int error;
	if ((error = writer_lock_take(&wl, repo)) < 0)
		return error;
	error = ref_set_locked(&wl, refname, next, check, expected, note);
	writer_lock_release(&wl);
	return error;
}

/* Move main of `repo` from `expected` (NULL: must not exist) to `next`, durably, with a
 * reflog entry by `who` at `time_ms` saying `msg`. BM_ECONFLICT when main moved. */
static int ref_cas(git_repository *repo, const git_oid *next, const git_oid *expected, const char *who,
		   int64_t time_ms, const char *msg)
{
	ref_note note = { who, time_ms, msg };
	return ref_set(repo, MAIN_REF, next, 1, expected, &note);
}

int bm__ref_cas(git_repository *repo, const git_oid *next, const git_oid *expected, const char *who, int64_t time_ms,
		const char *msg)
{
	return ref_cas(repo, next, expected, who, time_ms, msg);
}

/* ---- transactions ---- */

typedef struct {
	char *path;
	git_oid blob;
} pending_file;

struct bm_txn {
	bm_store *store;
	bm_fs fsv;           /* the overlay view; its ops read base + pending */
	git_tree *base_tree; /* NULL when the repo is empty */
	bm_oid base;
	int has_base;
	pending_file *files;
	size_t nfiles, afiles;
	git_oid *written;    /* every object this attempt wrote, for the sync */
	size_t nwritten, awritten;
	bm_buf message;
	const char *actor;       /* the actor records name: write_actor, or bm_txn_set_actor's */
	const char *write_actor; /* the write's actor: the commit's author and the reflog's */
	bm_buf record_actor;     /* bm_txn_set_actor's copy */
	int64_t time_ms;
	unsigned int attempt;
};

static bm_txn *txn_of(bm_fs *fs)
{
	return (bm_txn *)((char *)fs - offsetof(bm_txn, fsv));
}

static pending_file *txn_find(bm_txn *t, const char *path)
{
	size_t i;
	for (i = 0; i < t->nfiles; i++)
		if (!strcmp(t->files[i].path, path))
			return &t->files[i];
	return NULL;
}

static int txn_fs_read(bm_buf *out, bm_fs *fs, const char *path)
{
	bm_txn *t = txn_of(fs);
	pending_file *f = txn_find(t, path);
	if (f) {
		git_blob *b = NULL;
		int error;
		if (git_blob_lookup(&b, t->store->repo, &f->blob) < 0)
			return git_fail(BM_EIO, path);
		error = bm_buf_put(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
		git_blob_free(b);
		return error;
	}
	return tree_read_blob(out, t->store->repo, t->base_tree, path);
}

static int txn_fs_list(bm_strlist *out, bm_fs *fs, const char *dir)
{
	bm_txn *t = txn_of(fs);
	const char **paths;
	size_t i;
	int found_base = 0, found_new, error;

	/* the base's names straight into `out` (bm_fs_list drops them all if this fails) */
	error = tree_list_into(out, t->store->repo, t->base_tree, dir);
	if (error == 0)
		found_base = 1;
	else if (error != BM_ENOTFOUND)
		goto done;
	else
		bm_error_clear();
	if (!(paths = calloc(t->nfiles + 1, sizeof(char *)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < t->nfiles; i++)
		paths[i] = t->files[i].path;
	found_new = bm_fs_children(out, dir, paths, t->nfiles);
	free(paths);
	if (found_new < 0) {
		error = found_new;
		goto done;
	}
	/* bm_fs_children skips names already present, but base names came first */
	error = (found_base || found_new) ? 0 : bm_error_set(BM_ENOTFOUND, "%s: no such folder", dir);
done:
	return error;
}

static int txn_fs_exists(bm_fs *fs, const char *path)
{
	bm_txn *t = txn_of(fs);
	size_t i, pl = strlen(path);
	int rc = tree_exists_in(t->base_tree, path);
	if (rc)
		return rc;
	for (i = 0; i < t->nfiles; i++) {
		if (!strcmp(t->files[i].path, path))
			return 1;
		if (!strncmp(t->files[i].path, path, pl) && t->files[i].path[pl] == '/')
			return 2;
	}
	return 0;
}

/* 1 when a file the transaction added is below folder `dir` (a trailing '/' allowed) */
static int txn_touches(bm_txn *t, const char *dir)
{
	size_t i, dl = strlen(dir);
	while (dl && dir[dl - 1] == '/')
		dl--;
	for (i = 0; i < t->nfiles; i++)
		if (!dl || (!strncmp(t->files[i].path, dir, dl) && t->files[i].path[dl] == '/'))
			return 1;
	return 0;
}

/* A folder the transaction added nothing to reads as its base's tree (no listing); others
 * are listed (the base's and the added names merged). */
static int txn_fs_each(bm_fs *fs, const char *dir, int (*cb)(const char *name, int is_dir, void *payload),
		       void *payload, int *declined)
{
	bm_txn *t = txn_of(fs);
	if (txn_touches(t, dir)) {
		*declined = 1;
		return 0;
	}
	return tree_each(t->store->repo, t->base_tree, dir, cb, payload);
}

static int txn_fs_last(bm_buf *name, bm_fs *fs, const char *dir)
{
	bm_txn *t = txn_of(fs);
	bm_strlist l = BM_STRLIST_INIT;
	size_t i, best = 0;
	int error;
	if (!txn_touches(t, dir))
		return tree_last(name, t->store->repo, t->base_tree, dir);
	if ((error = txn_fs_list(&l, fs, dir)) == 0) {
		for (i = 1; i < l.count; i++)
			if (strcmp(l.items[i], l.items[best]) > 0)
				best = i;
		error = l.count ? bm_buf_puts(name, l.items[best]) : bm_error_set(BM_ENOTFOUND, "%s: empty folder", dir);
	}
	bm_strlist_dispose(&l);
	return error;
}

static const bm_fs_ops txn_fs_ops = { txn_fs_read, txn_fs_list, txn_fs_exists, NULL, txn_fs_last, NULL, txn_fs_each };

bm_fs *bm_txn_fs(bm_txn *txn) { return &txn->fsv; }
const bm_oid *bm_txn_base(bm_txn *txn) { return txn->has_base ? &txn->base : NULL; }
const char *bm_txn_actor(bm_txn *txn) { return txn->actor; }

int bm_txn_set_actor(bm_txn *txn, const char *actor)
{
	int error;
	if (!actor || !*actor) {
		txn->actor = txn->write_actor;
		return 0;
	}
	/* the check every write's actor passes (bm_store_write), before anything is kept */
	if ((error = bm_actor_check(actor)) < 0)
		return bm_error_set_about(BM_ABOUT_ACTOR, NULL);
	bm_buf_clear(&txn->record_actor);
	if ((error = bm_buf_puts(&txn->record_actor, actor)) < 0) {
		txn->actor = txn->write_actor;
		return error;
	}
	txn->actor = txn->record_actor.ptr;
	return 0;
}
int64_t bm_txn_time_ms(bm_txn *txn) { return txn->time_ms; }
size_t bm_txn_file_count(bm_txn *txn) { return txn->nfiles; }
const char *bm_txn_file_path(bm_txn *txn, size_t i) { return i < txn->nfiles ? txn->files[i].path : NULL; }
unsigned int bm_txn_attempt(bm_txn *txn) { return txn->attempt; }

int bm_txn_message(bm_txn *txn, const char *fmt, ...)
{
	va_list ap;
	int error;
	bm_buf_clear(&txn->message);
	va_start(ap, fmt);
	error = bm_buf_vprintf(&txn->message, fmt, ap);
	va_end(ap);
	return error;
}

static int txn_note_written(bm_txn *t, const git_oid *oid)
{
	if (t->nwritten == t->awritten) {
		size_t na = t->awritten ? t->awritten * 2 : 16;
		git_oid *p = realloc(t->written, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		t->written = p;
		t->awritten = na;
	}
	git_oid_cpy(&t->written[t->nwritten++], oid);
	return 0;
}

/* What a file must be to be added: a record decodes and its string fields are text by the
 * rule of bootmeta/text.h; a text file is valid UTF-8 lines. */
static int txn_check_content(const char *path, const void *data, size_t len)
{
	const ProtobufCMessageDescriptor *type = NULL;
	int error = 0;
	switch (bm_record_kind_for_path(path, &type)) {
	case BM_FILE_RECORD:
		error = bm_record_check_write(type, data, len);
		break;
	case BM_FILE_TEXT:
		error = bm_text_check(data, len, BM_TEXT_LINES, 0, "the text");
		break;
	default:
		break;
	}
	return error < 0 ? bm_error_prefix(error, "refusing to write %s", path) : 0;
}

int bm__txn_check_add(bm_txn *txn, const char *path, const void *data, size_t len)
{
	const char *slash;
	char prefix[4096];
	int error;

	if ((error = bm_path_check(path)) < 0)
		return error;
	if (strlen(path) >= sizeof(prefix))
		return bm_error_set(BM_EINVALID, "path too long");
	if (txn_fs_exists(&txn->fsv, path))
		return bm_error_set(BM_EEXISTS, "%s already exists; records are never rewritten", path);
	/* the one gate every record passes on its way in: text a reader's screen can trust */
	if ((error = txn_check_content(path, data, len)) < 0)
		return error;
	/* no part of the path may be a file already */
	for (slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		memcpy(prefix, path, (size_t)(slash - path));
		prefix[slash - path] = '\0';
		if (txn_fs_exists(&txn->fsv, prefix) == 1)
			return bm_error_set(BM_EEXISTS, "%s is a record, so %s cannot be added under it", prefix, path);
	}
	return 0;
}

int bm_txn_add(bm_txn *txn, const char *path, const void *data, size_t len)
{
	pending_file *f;
	int error;

	if ((error = bm__txn_check_add(txn, path, data, len)) < 0)
		return error;
	if (txn->nfiles == txn->afiles) {
		size_t na = txn->afiles ? txn->afiles * 2 : 8;
		pending_file *p = realloc(txn->files, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		txn->files = p;
		txn->afiles = na;
	}
	f = &txn->files[txn->nfiles];
	if (git_blob_create_from_buffer(&f->blob, txn->store->repo, data, len) < 0)
		return git_fail(BM_EIO, "writing a blob");
	if (!(f->path = strdup(path)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	txn->nfiles++;
	return txn_note_written(txn, &f->blob);
}

static void txn_reset(bm_txn *t)
{
	size_t i;
	for (i = 0; i < t->nfiles; i++)
		free(t->files[i].path);
	t->nfiles = 0;
	t->nwritten = 0;
	git_tree_free(t->base_tree);
	t->base_tree = NULL;
	t->has_base = 0;
	t->actor = t->write_actor; /* a re-run starts with the write's actor */
}

static void txn_dispose(bm_txn *t)
{
	txn_reset(t);
	free(t->files);
	free(t->written);
	bm_buf_dispose(&t->message);
	bm_buf_dispose(&t->record_actor);
}

static int64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Build the tree for `dir` (prefix of pending paths, "" for the root) from the base tree at
 * that folder plus the pending files under it; only folders on changed paths are rebuilt. */
static int build_tree(git_oid *out, bm_txn *t, const git_tree *base, const char *dir)
{
	git_treebuilder *tb = NULL;
	bm_strlist subdirs = BM_STRLIST_INIT;
	size_t i, dl = strlen(dir);
	int error = 0;

	if (git_treebuilder_new(&tb, t->store->repo, base) < 0)
		return git_fail(BM_ERROR, "tree builder");
	for (i = 0; i < t->nfiles; i++) {
		const char *p = t->files[i].path, *rest, *slash;
		if (dl && (strncmp(p, dir, dl) || p[dl] != '/'))
			continue;
		rest = dl ? p + dl + 1 : p;
		slash = strchr(rest, '/');
		if (!slash) {
			if (git_treebuilder_insert(NULL, tb, rest, &t->files[i].blob, GIT_FILEMODE_BLOB) < 0) {
				error = git_fail(BM_ERROR, p);
				goto done;
			}
		} else {
			size_t j, n = (size_t)(slash - rest);
			for (j = 0; j < subdirs.count; j++)
				if (strlen(subdirs.items[j]) == n && !strncmp(subdirs.items[j], rest, n))
					break;
			if (j == subdirs.count && (error = bm_strlist_addn(&subdirs, rest, n)) < 0)
				goto done;
		}
	}
	for (i = 0; i < subdirs.count; i++) {
		const git_tree_entry *e = base ? git_tree_entry_byname(base, subdirs.items[i]) : NULL;
		git_tree *sub = NULL;
		git_oid sub_oid;
		bm_buf child = BM_BUF_INIT;
		if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
		    git_tree_lookup(&sub, t->store->repo, git_tree_entry_id(e)) < 0) {
			error = git_fail(BM_ECORRUPT, subdirs.items[i]);
			goto done;
		}
		error = dl ? bm_buf_printf(&child, "%s/%s", dir, subdirs.items[i])
			   : bm_buf_puts(&child, subdirs.items[i]);
		if (!error)
			error = build_tree(&sub_oid, t, sub, child.ptr);
		git_tree_free(sub);
		bm_buf_dispose(&child);
		if (error < 0)
			goto done;
		if (git_treebuilder_insert(NULL, tb, subdirs.items[i], &sub_oid, GIT_FILEMODE_TREE) < 0) {
			error = git_fail(BM_ERROR, subdirs.items[i]);
			goto done;
		}
	}
	if (git_treebuilder_write(out, tb) < 0) {
		error = git_fail(BM_EIO, "writing a tree");
		goto done;
	}
	error = txn_note_written(t, out);
done:
	bm_strlist_dispose(&subdirs);
	git_treebuilder_free(tb);
	return error;
}

static int make_signature(git_signature **out, const char *actor, int64_t time_ms)
{
	char name[BM_ACTOR_MAX + 1], email[BM_ACTOR_MAX + 1];
	const char *lt, *gt;
	int error;
	/* what git writes into the author and committer lines: checked, or the commit would
	 * fail `git fsck` (a new line in a name starts a forged header) */
	if ((error = bm_actor_check(actor)) < 0)
		return error;
	lt = strchr(actor, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt) {
		size_t n = (size_t)(lt - actor);
		while (n && actor[n - 1] == ' ')
			n--;
		snprintf(name, sizeof(name), "%.*s", (int)n, actor);
		snprintf(email, sizeof(email), "%.*s", (int)(gt - lt - 1), lt + 1);
	} else {
		snprintf(name, sizeof(name), "%s", actor);
		snprintf(email, sizeof(email), "%s", actor);
	}
	if (!*name)
		snprintf(name, sizeof(name), "%s", email[0] ? email : "bootmeta");
	if (git_signature_new(out, name, email, (git_time_t)(time_ms / 1000), 0) < 0)
		return git_fail(BM_EINVALID, "actor");
	return 0;
}

static int create_commit(git_oid *out, bm_txn *t, const git_oid *tree_oid, const bm_write_options *opts)
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_buf content = { 0 };
	bm_buf signature = BM_BUF_INIT;
	const git_commit *parents[1];
	const char *msg = t->message.size ? t->message.ptr : (opts->message ? opts->message : "bootmeta write");
	bm_buf fullmsg = BM_BUF_INIT;
	int error = 0;

	if ((error = make_signature(&sig, t->write_actor, t->time_ms)) < 0)
		goto done;
	if (git_tree_lookup(&tree, t->store->repo, tree_oid) < 0) {
		error = git_fail(BM_EIO, "tree");
		goto done;
	}
	if (t->has_base) {
		git_oid b;
		to_git(&b, &t->base);
		if (git_commit_lookup(&parent, t->store->repo, &b) < 0) {
			error = git_fail(BM_EIO, "parent commit");
			goto done;
		}
		parents[0] = parent;
	}
	if ((error = bm_text_check(msg, strlen(msg), BM_TEXT_LINES, 0, "the commit message")) < 0 ||
	    (error = bm_buf_puts(&fullmsg, msg)) < 0 ||
	    (fullmsg.size && fullmsg.ptr[fullmsg.size - 1] != '\n' && (error = bm_buf_putc(&fullmsg, '\n')) < 0))
		goto done;
	if (git_commit_create_buffer(&content, t->store->repo, sig, sig, NULL, fullmsg.ptr, tree,
				     t->has_base ? 1 : 0, parents) < 0) {
		error = git_fail(BM_ERROR, "commit");
		goto done;
	}
	if (opts->sign) {
		if ((error = opts->sign(&signature, content.ptr, content.size, opts->sign_payload)) < 0)
			goto done;
		if (git_commit_create_with_signature(out, t->store->repo, content.ptr, signature.ptr, "gpgsig") < 0) {
			error = git_fail(BM_ERROR, "signed commit");
			goto done;
		}
	} else if (git_odb_hash(out, content.ptr, content.size, GIT_OBJECT_COMMIT) < 0 ||
		   ({
			   git_odb *odb = NULL;
			   int rc = git_repository_odb(&odb, t->store->repo);
			   if (!rc)
				   rc = git_odb_write(out, odb, content.ptr, content.size, GIT_OBJECT_COMMIT);
			   git_odb_free(odb);
			   rc;
		   }) < 0) {
		error = git_fail(BM_EIO, "writing the commit");
		goto done;
	}
	error = txn_note_written(t, out);
done:
	bm_buf_dispose(&fullmsg);
	bm_buf_dispose(&signature);
	git_buf_dispose(&content);
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	return error;
}

/* ---- remote: fetch, object copy, push ---- */

typedef struct {
	int rejected;
	char msg[256];
} push_status;

/* What the network callbacks of one fetch, push or clone know and found. */
typedef struct {
	const char *url, *ssh_key, *known_hosts;
	unsigned int tries;  /* credentials asked for so far */
	int agent;           /* the ssh-agent was asked for a key */
	int code;            /* set when a callback refused: the bm error it set stands */
	push_status *ps;
} net_ctx;

/* The port of an ssh URL (ssh://[user@]host[:port]/..., or scp-like host:path: 22). */
static int ssh_url_port(const char *url)
{
	const char *p = strstr(url, "://"), *end;
	long port;
	if (!p)
		return 22;
	p += 3;
	end = p + strcspn(p, "/");
	{
		const char *at = memchr(p, '@', (size_t)(end - p));
		if (at)
			p = at + 1;
	}
	if (*p == '[' && (p = memchr(p, ']', (size_t)(end - p))) == NULL)
		return 22;
	if ((p = memchr(p, ':', (size_t)(end - p))) == NULL)
		return 22;
	port = strtol(p + 1, NULL, 10);
	return port > 0 && port < 65536 ? (int)port : 22;
}

/* libgit2 asks for the user name (no user in the URL: the OS user, as ssh does), then for
 * a key: the caller's key file, else the ssh-agent's keys. Asked again, the server refused
 * what it got: say so and stop rather than loop. */
static int net_credentials(git_credential **out, const char *url, const char *user, unsigned int allowed, void *payload)
{
	net_ctx *c = payload;
	const char *who = user;
	struct passwd *pw = NULL;

	if (!who || !*who) {
		pw = getpwuid(geteuid());
		who = pw ? pw->pw_name : NULL;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME) {
		if (!who)
			return c->code = bm_error_set(BM_EREMOTE, "%s: no user name in the URL and none for this OS "
						      "user; put it in the URL (ssh://USER@HOST/PATH)", c->url);
		return git_credential_username_new(out, who) < 0 ? -1 : 0;
	}
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
		return GIT_PASSTHROUGH; /* http(s) user and password: none to give */
	if (c->tries++) {
		if (c->ssh_key)
			return c->code = bm_error_set(BM_EREMOTE, "%s: the ssh server refused the key %s for user %s; "
						      "nothing was fetched or pushed", c->url, c->ssh_key, who);
		return c->code = bm_error_set(BM_EREMOTE, "%s: the ssh server refused user %s: no ssh key was given "
					      "and the ssh-agent ($SSH_AUTH_SOCK) has none it takes, or there is no "
					      "agent; nothing was fetched or pushed", c->url, who);
	}
	if (c->ssh_key) {
		bm_buf pub = BM_BUF_INIT;
		int rc;
		if (access(c->ssh_key, R_OK) != 0)
			return c->code = bm_error_set(BM_EIO, "%s: cannot read the ssh key %s: %s", c->url, c->ssh_key,
						      strerror(errno));
		if (bm_buf_printf(&pub, "%s.pub", c->ssh_key) < 0)
			return c->code = BM_ENOMEM;
		rc = git_credential_ssh_key_new(out, who, access(pub.ptr, R_OK) == 0 ? pub.ptr : NULL, c->ssh_key, NULL);
		bm_buf_dispose(&pub);
		return rc < 0 ? -1 : 0;
	}
	c->agent = 1;
	return git_credential_ssh_key_from_agent(out, who) < 0 ? -1 : 0;
}

/* ssh host keys are checked here against the caller's known_hosts file (libgit2 1.5's own
 * check reads $HOME's, which a library must not choose); TLS certificates stay libgit2's. */
static int net_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	net_ctx *c = payload;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	int error;
	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	if (!c->known_hosts)
		return c->code = bm_error_set(BM_EVERIFY, "%s: no known_hosts file to check the ssh server's host key "
					      "against; refused", c->url);
	if (!(hk->type & GIT_CERT_SSH_RAW) || !hk->hostkey)
		return c->code = bm_error_set(BM_EVERIFY, "%s: libgit2 gave no host key to check; refused", c->url);
	error = bm__known_hosts_check(c->known_hosts, host, ssh_url_port(c->url), (const unsigned char *)hk->hostkey,
				      hk->hostkey_len);
	if (error < 0)
		return c->code = error;
	return 0;
}

static int push_update_cb(const char *refname, const char *status, void *data);

static void net_setup(git_remote_callbacks *cb, net_ctx *c, bm_store *s, const char *url)
{
	c->url = url;
	if (s) {
		c->ssh_key = s->ssh_key;
		c->known_hosts = s->ssh_known_hosts;
	}
	if (c->ssh_key && !*c->ssh_key)
		c->ssh_key = NULL; /* "": the agent, as NULL */
	if (c->known_hosts && !*c->known_hosts)
		c->known_hosts = NULL;
	cb->credentials = net_credentials;
	cb->certificate_check = net_certificate;
	if (c->ps)
		cb->push_update_reference = push_update_cb;
	cb->payload = c;
	bm__tls_prepare(url);
}

/* A failed network call: the callback's refusal when one refused, else libgit2's reason. */
static int net_fail(net_ctx *c, const char *what)
{
	const git_error *e = git_error_last();
	if (c->code)
		return c->code;
	if (c->agent && e && e->klass == GIT_ERROR_SSH && e->message && strstr(e->message, "authenticating"))
		return bm_error_set(BM_EREMOTE, "%s: no ssh key was given and the ssh-agent could not log in (%s); "
				    "nothing was fetched or pushed", what, e->message);
	return git_fail(BM_EREMOTE, what);
}

/* Fetch origin's main into the objects and move origin/main to it. The download is
 * libgit2's; the ref is moved by ref_set, so a fetch killed halfway leaves no lock that
 * blocks the next one. */
static int fetch_origin(bm_store *s)
{
	git_remote *r = NULL;
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	char *spec = "+refs/heads/main:" ORIGIN_REF;
	git_strarray specs = { &spec, 1 };
	const git_remote_head **heads = NULL;
	size_t nheads = 0, i;
	git_oid tip;
	net_ctx nc = { 0 };
	int error = 0, found = 0;

	if (origin_remote(&r, s) < 0)
		return git_fail(BM_EREMOTE, "no remote named origin");
	net_setup(&fo.callbacks, &nc, s, git_remote_url(r));
	fo.update_fetchhead = 0;
	if (git_remote_connect(r, GIT_DIRECTION_FETCH, &fo.callbacks, &fo.proxy_opts, &fo.custom_headers) < 0 ||
	    git_remote_ls(&heads, &nheads, r) < 0) {
		error = net_fail(&nc, s->remote_url);
		goto done;
	}
	for (i = 0; i < nheads && !found; i++) {
		if (!strcmp(heads[i]->name, MAIN_REF)) {
			git_oid_cpy(&tip, &heads[i]->oid);
			found = 1;
		}
	}
	if (!found)
		goto done; /* follow_origin says the remote has no main branch */
	if (git_remote_download(r, &specs, &fo) < 0) {
		error = net_fail(&nc, s->remote_url);
		goto done;
	}
	{
		git_odb *odb = NULL;
		int have = git_repository_odb(&odb, s->repo) == 0 && git_odb_exists(odb, &tip);
		git_odb_free(odb);
		if (!have) {
			error = bm_error_set(BM_EREMOTE, "%s: the fetch did not bring the remote's main (%.12s)",
					     s->remote_url, git_oid_tostr_s(&tip));
			goto done;
		}
	}
	{
		git_oid cur;
		if (git_reference_name_to_id(&cur, s->repo, ORIGIN_REF) == 0 && git_oid_equal(&cur, &tip))
			goto done; /* unchanged: no lock, no sync */
		git_error_clear();
	}
	error = ref_set(s->repo, ORIGIN_REF, &tip, 0, NULL, NOTE("bootmeta: fetch"));
done:
	git_remote_disconnect(r);
	git_remote_free(r);
	return error;
}

/* Local main follows origin/main after a fetch. */
static int follow_origin(bm_oid *tip, bm_store *s)
{
	git_oid o;
	int rc;
	if ((rc = git_reference_name_to_id(&o, s->repo, ORIGIN_REF)) < 0)
		return rc == GIT_ENOTFOUND ? bm_error_set(BM_EFORMAT, "the remote %s has no main branch; is it "
								    "a meta repo?", s->remote_url)
					   : git_fail(BM_EIO, ORIGIN_REF);
	{
		git_oid cur;
		int same = git_reference_name_to_id(&cur, s->repo, MAIN_REF) == 0 && git_oid_equal(&cur, &o);
		git_error_clear();
		if (!same && (rc = ref_set(s->repo, MAIN_REF, &o, 0, NULL, NOTE("bootmeta: follow origin"))) < 0)
			return bm_error_prefix(rc, "moving main to the remote's tip");
	}
	if (tip)
		from_git(tip, &o);
	return 0;
}

typedef struct {
	git_odb *src, *dst;
	git_oid *copied;
	size_t n, a;
} copy_ctx;

static int copy_object(copy_ctx *c, const git_oid *oid, int *had)
{
	git_odb_object *obj = NULL;
	git_oid w;
	int rc;
	*had = git_odb_exists(c->dst, oid);
	if (*had)
		return 0;
	if (git_odb_read(&obj, c->src, oid) < 0)
		return git_fail(BM_EIO, "reading an object to push");
	rc = git_odb_write(&w, c->dst, git_odb_object_data(obj), git_odb_object_size(obj), git_odb_object_type(obj));
	git_odb_object_free(obj);
	if (rc < 0)
		return git_fail(BM_EREMOTE, "writing an object to the remote");
	if (c->n == c->a) {
		size_t na = c->a ? c->a * 2 : 64;
		git_oid *p = realloc(c->copied, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		c->copied = p;
		c->a = na;
	}
	git_oid_cpy(&c->copied[c->n++], &w);
	return 0;
}

static int copy_tree(copy_ctx *c, git_repository *repo, const git_oid *tree_oid)
{
	git_tree *t = NULL;
	size_t i;
	int had, error;
	if ((error = copy_object(c, tree_oid, &had)) < 0 || had)
		return error; /* a tree the remote has is complete there */
	if (git_tree_lookup(&t, repo, tree_oid) < 0)
		return git_fail(BM_EIO, "tree");
	for (i = 0; i < git_tree_entrycount(t) && !error; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			error = copy_tree(c, repo, git_tree_entry_id(e));
		else
			error = copy_object(c, git_tree_entry_id(e), &had);
	}
	git_tree_free(t);
	return error;
}

/* ---- a path remote with hooks: through git's receive-pack ----
 *
 * Copying objects and swapping the ref ourselves skips the remote's receive hooks, which
 * git runs for a local path too. When the remote has any, the push goes through
 * `git push`, which runs receive-pack (and so the hooks) there; --force-with-lease with
 * the old tip keeps the compare-and-swap (receive-pack checks it under its ref lock). */

static int config_string(bm_buf *out, git_repository *repo, const char *name);

static const char *const receive_hooks[] = { "pre-receive", "update", "post-receive", "post-update",
					     "reference-transaction", "proc-receive", NULL };

/* The names of the receive hooks `remote` would run, comma-separated; 0 when none. */
static int remote_hooks(bm_buf *names, git_repository *remote)
{
	bm_buf dir = BM_BUF_INIT, f = BM_BUF_INIT;
	int error, i, found = 0;
	struct stat st;
	if ((error = config_string(&dir, remote, "core.hookspath")) < 0)
		goto done;
	if (!error || !dir.size) {
		bm_buf_clear(&dir);
		error = bm_buf_printf(&dir, "%shooks", git_repository_path(remote));
	} else if (dir.ptr[0] != '/') {
		error = 0;
		/* relative to where the hooks run: the repo folder of a bare repo */
		bm_buf rel = BM_BUF_INIT;
		if ((error = bm_buf_printf(&rel, "%s%s", git_repository_path(remote), dir.ptr)) == 0) {
			bm_buf_clear(&dir);
			error = bm_buf_puts(&dir, rel.ptr);
		}
		bm_buf_dispose(&rel);
	} else {
		error = 0;
	}
	for (i = 0; !error && receive_hooks[i]; i++) {
		bm_buf_clear(&f);
		if ((error = bm_buf_printf(&f, "%s/%s", dir.ptr, receive_hooks[i])) < 0)
			break;
		if (stat(f.ptr, &st) == 0 && S_ISREG(st.st_mode) && access(f.ptr, X_OK) == 0) {
			if ((names->size && (error = bm_buf_puts(names, ", ")) < 0) ||
			    (error = bm_buf_puts(names, receive_hooks[i])) < 0)
				break;
			found = 1;
		}
	}
done:
	bm_buf_dispose(&dir);
	bm_buf_dispose(&f);
	return error < 0 ? error : found;
}

extern char **environ;

/* Run git with `argv`; its stdout and stderr (each up to 64 KiB) into `out` and `err`.
 * The exit status, or -1 with errno when git could not be started. */
static int run_git(bm_buf *out, bm_buf *err, char *const argv[])
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status = -1, open_fds;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	struct pollfd pf[2];
	char chunk[4096];
	static const char *const drop[] = { "GIT_DIR=", "GIT_WORK_TREE=", "GIT_OBJECT_DIRECTORY=",
					    "GIT_ALTERNATE_OBJECT_DIRECTORIES=", "GIT_QUARANTINE_PATH=",
					    "GIT_INDEX_FILE=", "GIT_NAMESPACE=", NULL };
	char **env = NULL;
	size_t n = 0, i, j;

	for (i = 0; environ && environ[i]; i++)
		n++;
	if (!(env = calloc(n + 1, sizeof(*env)))) {
		errno = ENOMEM;
		return -1;
	}
	/* git's own variables from an enclosing git (bootmeta run from a hook) would point
	 * this git at the wrong repo */
	for (i = 0, n = 0; environ && environ[i]; i++) {
		for (j = 0; drop[j] && strncmp(environ[i], drop[j], strlen(drop[j])); j++)
			;
		if (!drop[j])
			env[n++] = environ[i];
	}
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		goto fail;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	errno = posix_spawnp(&pid, "git", &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (errno)
		goto fail;
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	pf[0].fd = po[0];
	pf[1].fd = pe[0];
	pf[0].events = pf[1].events = POLLIN;
	for (open_fds = 2; open_fds > 0;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			ssize_t got;
			bm_buf *b = i == 0 ? out : err;
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(pf[i].fd, chunk, sizeof(chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_fds--;
			} else if (b->size < 65536 && bm_buf_put(b, chunk, (size_t)got) < 0) {
				/* out of memory: the output is only for messages */
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	for (i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	free(env);
	return status;
fail:
	{
		int e = errno;
		for (i = 0; i < 2; i++) {
			if (po[i] >= 0)
				close(po[i]);
			if (pe[i] >= 0)
				close(pe[i]);
		}
		free(env);
		errno = e;
	}
	return -1;
}

/* The remote's own words from git push's stderr: the "remote: " lines (its hooks' output),
 * else the last lines, as one indented block. */
static int hook_output(bm_buf *out, const bm_buf *err)
{
	const char *p = err->ptr ? err->ptr : "", *nl;
	int any = 0, error = 0;
	for (; *p && !error; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (!strncmp(p, "remote: ", 8)) {
			error = bm_buf_printf(out, "\n  %.*s", (int)(nl - p - 8), p + 8);
			any = 1;
		}
	}
	if (!any && !error && err->size)
		error = bm_buf_printf(out, "\n  %.*s", (int)(err->size > 2000 ? 2000 : err->size), err->ptr);
	return error;
}

static int push_via_git(bm_store *s, git_repository *remote, const char *hooks, const git_oid *next,
			const git_oid *expected)
{
	char nhex[GIT_OID_HEXSZ + 1], ehex[GIT_OID_HEXSZ + 1] = "";
	bm_buf lease = BM_BUF_INIT, spec = BM_BUF_INIT, out = BM_BUF_INIT, err = BM_BUF_INIT, words = BM_BUF_INIT;
	const char *dest = git_repository_path(remote);
	int status, error = 0;
	const char *line;

	git_oid_tostr(nhex, sizeof(nhex), next);
	if (expected)
		git_oid_tostr(ehex, sizeof(ehex), expected);
	if ((error = bm_buf_printf(&lease, "--force-with-lease=" MAIN_REF ":%s", ehex)) < 0 ||
	    (error = bm_buf_printf(&spec, "%s:" MAIN_REF, nhex)) < 0)
		goto done;
	{
		char *argv[] = { "git", "--git-dir", (char *)git_repository_path(s->repo), "-c", "core.fsync=committed",
				 "push", "--porcelain", "--no-verify", lease.ptr, (char *)dest, spec.ptr, NULL };
		status = run_git(&out, &err, argv);
	}
	if (status < 0) {
		error = bm_error_set(BM_EREMOTE, "the remote %s has receive hooks (%s), which only git can run, and "
						 "git could not be started (%s); install git, or remove the hooks if "
						 "they are not wanted", s->remote_url, hooks, strerror(errno));
		goto done;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		goto done;
	/* porcelain: "!\tFROM:TO\t[rejected] (stale info)" or "[remote rejected] (... hook declined)" */
	line = out.ptr ? strstr(out.ptr, "!\t") : NULL;
	if (line && !strstr(line, "[remote rejected]") &&
	    (strstr(line, "stale info") || strstr(line, "fetch first") || strstr(line, "non-fast-forward"))) {
		error = BM_ECONFLICT;
		goto done;
	}
	/* receive-pack's own compare-and-swap under its ref lock: another writer got there first
	 * ("is at X but expected Y"), or holds the lock right now */
	if (line && strstr(line, "[remote rejected]") && err.ptr &&
	    (strstr(err.ptr, "but expected") || (strstr(err.ptr, "cannot lock ref") && strstr(err.ptr, "File exists")))) {
		error = BM_ECONFLICT;
		goto done;
	}
	if ((error = hook_output(&words, &err)) < 0)
		goto done;
	if (line && strstr(line, "[remote rejected]")) {
		const char *tab = strrchr(line, '\t'), *end = strchr(line, '\n');
		if (tab && end && tab < end)
			line = tab + 1;
		error = bm_error_set(BM_EREMOTE, "the remote %s refused the write: %.*s; nothing was written here or "
						 "there. The remote said:%s", s->remote_url,
				     end ? (int)(end - line) : (int)strlen(line), line, words.ptr ? words.ptr : "");
	} else {
		error = bm_error_set(BM_EREMOTE, "pushing to %s through git (it has receive hooks: %s) failed:%s",
				     s->remote_url, hooks, words.ptr ? words.ptr : " (no output)");
	}
done:
	bm_buf_dispose(&lease);
	bm_buf_dispose(&spec);
	bm_buf_dispose(&out);
	bm_buf_dispose(&err);
	bm_buf_dispose(&words);
	return error;
}

/* Push `next` (child of `expected`) to a remote that is a local path: copy the missing
 * objects, make them durable, then compare-and-swap the remote's main. */
static int push_local(bm_store *s, const git_oid *next, const git_oid *expected, const ref_note *note)
{
	git_repository *remote = NULL;
	git_revwalk *walk = NULL;
	copy_ctx c = { 0 };
	git_oid oid;
	int error = 0, had;

	if (git_repository_open_ext(&remote, local_path_of(s->remote_url), GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return git_fail(BM_EREMOTE, s->remote_url);
	{
		bm_buf hooks = BM_BUF_INIT;
		int has = remote_hooks(&hooks, remote);
		if (has > 0) {
			/* first what dead writers left is removed, under the remote's writers'
			 * flock, as for a push bootmeta makes itself */
			writer_lock wl;
			char lockpath[4096];
			struct stat st;
			if ((error = writer_lock_take(&wl, remote)) == 0) {
				snprintf(lockpath, sizeof(lockpath), "%s" MAIN_REF ".lock", git_repository_path(remote));
				if (stat(lockpath, &st) == 0 && time(NULL) - st.st_mtime >= LOCK_STALE_SECS)
					unlink(lockpath);
				/* not held across the push: a hook may itself run bootmeta on the remote */
				writer_lock_release(&wl);
				error = push_via_git(s, remote, hooks.ptr, next, expected);
			}
		}
		if (has != 0) {
			if (has < 0)
				error = has;
			bm_buf_dispose(&hooks);
			git_repository_free(remote);
			return error;
		}
	}
	if (git_repository_odb(&c.src, s->repo) < 0 || git_repository_odb(&c.dst, remote) < 0) {
		error = git_fail(BM_EIO, "object database");
		goto done;
	}
	if (git_revwalk_new(&walk, s->repo) < 0 || git_revwalk_push(walk, next) < 0 ||
	    (expected && git_revwalk_hide(walk, expected) < 0)) {
		error = git_fail(BM_EIO, "walking commits to push");
		goto done;
	}
	while (!error && git_revwalk_next(&oid, walk) == 0) {
		git_commit *cm = NULL;
		if (git_odb_exists(c.dst, &oid))
			continue;
		if (git_commit_lookup(&cm, s->repo, &oid) < 0) {
			error = git_fail(BM_EIO, "commit");
			break;
		}
		error = copy_tree(&c, s->repo, git_commit_tree_id(cm));
		git_commit_free(cm);
		if (!error)
			error = copy_object(&c, &oid, &had);
	}
	if (error < 0)
		goto done;
	clean_tmp_objects(remote);
	if ((error = sync_objects(remote, c.copied, c.n)) < 0)
		goto done;
	error = ref_set(remote, MAIN_REF, next, 1, expected, note);
done:
	free(c.copied);
	git_revwalk_free(walk);
	git_odb_free(c.src);
	git_odb_free(c.dst);
	git_repository_free(remote);
	return error;
}

static int push_update_cb(const char *refname, const char *status, void *data)
{
	push_status *ps = ((net_ctx *)data)->ps;
	if (status) {
		ps->rejected = 1;
		snprintf(ps->msg, sizeof(ps->msg), "%s: %s", refname, status);
	}
	return 0;
}

/* Push `commit` to the remote's main through git's protocol (ssh, https, git://):
 * receive-pack refuses the update when the remote ref is no longer the old value we sent,
 * which is our compare-and-swap. libgit2 pushes refs, not commits, and local main moves
 * only once the remote acknowledged, so the commit goes out through PUSH_REF. */
#define PUSH_REF "refs/bootmeta/push"

/* A failed push, said as what the server did: an http server that answers a push with 401
 * or 403 takes reads but no writes from us (git http-backend does so unless the repo has
 * http.receivepack=true or the web server authenticated the user). */
static int push_fail(bm_store *s, net_ctx *c)
{
	const git_error *e = git_error_last();
	const char *m = e && e->message ? e->message : "";
	if (c->code)
		return c->code;
	if (e && e->klass != GIT_ERROR_NOMEMORY && !strncmp(s->remote_url, "http", 4) && (strstr(m, "status code: 403") || strstr(m, "status code: 401") ||
						    strstr(m, "authentication required")))
		return bm_error_set(BM_EREMOTE, "%s: the server refused the push (HTTP %s): it serves this repo "
				    "but takes no writes from this client (git http-backend takes pushes only "
				    "with http.receivepack=true in the repo or from an authenticated user); "
				    "nothing was written", s->remote_url, strstr(m, "403") ? "403" : "401");
	return git_fail(BM_EREMOTE, s->remote_url);
}
static int push_network(bm_store *s, const git_oid *commit)
{
	git_remote *r = NULL;
	git_reference *tmp = NULL;
	git_push_options po = GIT_PUSH_OPTIONS_INIT;
	push_status ps = { 0 };
	net_ctx nc = { 0 };
	char *spec = PUSH_REF ":" MAIN_REF;
	git_strarray specs = { &spec, 1 };
	int rc, error = 0;

	if (git_reference_create(&tmp, s->repo, PUSH_REF, commit, 1, "bootmeta: push") < 0)
		return git_fail(BM_EIO, PUSH_REF);
	git_reference_free(tmp);
	if (origin_remote(&r, s) < 0) {
		error = git_fail(BM_EREMOTE, "origin");
		goto done;
	}
	nc.ps = &ps;
	net_setup(&po.callbacks, &nc, s, git_remote_url(r));
	rc = git_remote_push(r, &specs, &po);
	if (rc == GIT_ENONFASTFORWARD || ps.rejected)
		error = BM_ECONFLICT;
	else if (rc < 0)
		error = push_fail(s, &nc);
done:
	git_remote_free(r);
	if (git_reference_remove(s->repo, PUSH_REF) < 0)
		git_error_clear();
	return error;
}

/* ---- signing ---- */

static int path_id(git_oid *out, git_commit *c, const char *path);

/* A string from the repo's config (which includes the global and system files). */
static int config_string(bm_buf *out, git_repository *repo, const char *name)
{
	git_config *cfg = NULL;
	git_buf v = { 0 };
	int found = 0, error = 0;
	if (git_repository_config_snapshot(&cfg, repo) == 0 && git_config_get_string_buf(&v, cfg, name) == 0) {
		found = 1;
		error = bm_buf_puts(out, v.ptr);
	}
	git_buf_dispose(&v);
	git_config_free(cfg);
	git_error_clear();
	return error < 0 ? error : found;
}

static int load_signing_key(bm_store *s)
{
	bm_buf path = BM_BUF_INIT;
	int error = 0, found;
	if (s->signing_checked)
		return 0;
	if (s->signing_key_path && *s->signing_key_path)
		found = bm_buf_puts(&path, s->signing_key_path) == 0;
	else if ((found = config_string(&path, s->repo, "bootmeta.signingkey")) < 0)
		return found;
	if (found && path.size) {
		if ((error = bm_sshsig_key_load(&s->signing_key, path.ptr)) < 0)
			error = bm_error_prefix(error, "loading the commit signing key %s", path.ptr);
	}
	bm_buf_dispose(&path);
	if (!error)
		s->signing_checked = 1;
	return error;
}

int bm_store_require_signed(bm_store *store)
{
	git_config *cfg = NULL;
	int v = 0;
	/* a requirement set anywhere holds: the opener's and git config's are OR'd, and
	 * nothing here can turn the other off */
	if (store->require_signed)
		return 1;
	if (git_repository_config_snapshot(&cfg, store->repo) == 0 &&
	    git_config_get_bool(&v, cfg, "bootmeta.requiresigned") < 0)
		v = 0;
	git_config_free(cfg);
	git_error_clear();
	return v;
}

int bm_store_verify_path(bm_buf *principal, bm_oid *commit, bm_store *store, const char *path,
			 const bm_oid *at, const char *allowed_signers)
{
	bm_buf signers_path = BM_BUF_INIT, signers = BM_BUF_INIT, who = BM_BUF_INIT;
	git_revwalk *walk = NULL;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_oid oid, found;
	int error = 0, have = 0;
	const char *given = store->allowed_signers;

	if ((error = bm_path_check(path)) < 0)
		return error;
	if (allowed_signers)
		error = bm_buf_puts(&signers_path, allowed_signers);
	else if (given && *given)
		error = bm_buf_puts(&signers_path, given);
	else if ((error = config_string(&signers_path, store->repo, "bootmeta.allowedsignersfile")) == 0)
		error = config_string(&signers_path, store->repo, "gpg.ssh.allowedsignersfile");
	if (error < 0)
		goto done;
	if (!signers_path.size) {
		bm_error_set(BM_ENOTFOUND, "signed meta commits are required but no allowed signers are configured");
		error = bm_error_set_about(BM_ABOUT_ALLOWED_SIGNERS, NULL);
		goto done;
	}
	if ((error = bm_file_read(&signers, signers_path.ptr, 1 << 20)) < 0)
		goto done;

	/* the commit that last changed `path`, walking from `at` (or the tip) */
	if (git_revwalk_new(&walk, store->repo) < 0) {
		error = git_fail(BM_EIO, "walking history");
		goto done;
	}
	if (at) {
		git_oid g;
		to_git(&g, at);
		error = git_revwalk_push(walk, &g);
	} else {
		error = git_revwalk_push_ref(walk, MAIN_REF);
	}
	if (error < 0) {
		error = git_fail(BM_EIO, "walking history");
		goto done;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	while (!have && git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_oid a, b;
		int ha, hb = 0;
		if (git_commit_lookup(&c, store->repo, &oid) < 0)
			continue;
		ha = path_id(&a, c, path);
		if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0)
			hb = path_id(&b, parent, path);
		if (ha && (!hb || !git_oid_equal(&a, &b))) {
			git_oid_cpy(&found, &oid);
			have = 1;
		}
		git_commit_free(parent);
		git_commit_free(c);
	}
	if (!have) {
		error = bm_error_set(BM_ENOTFOUND, "%s: no commit added it", path);
		goto done;
	}
	if (git_repository_odb(&odb, store->repo) < 0 || git_odb_read(&obj, odb, &found) < 0) {
		error = git_fail(BM_EIO, "reading the commit");
		goto done;
	}
	error = bm_sshsig_verify_commit(git_odb_object_data(obj), git_odb_object_size(obj), signers.ptr, &who);
	if (error < 0) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &found);
		error = bm_error_prefix(BM_EVERIFY, "%s was written by meta commit %.12s, which is not signed by an "
						    "allowed signer (%s)", path, hex, signers_path.ptr);
		goto done;
	}
	if (principal && (error = bm_buf_puts(principal, who.ptr ? who.ptr : "")) < 0)
		goto done;
	if (commit)
		from_git(commit, &found);
done:
	git_odb_object_free(obj);
	git_odb_free(odb);
	git_revwalk_free(walk);
	bm_buf_dispose(&signers_path);
	bm_buf_dispose(&signers);
	bm_buf_dispose(&who);
	return error;
}

/* ---- the write loop ---- */

/* After the remote took `commit`: origin/main and main move to it, under one flock. */
/* ---- the objects of a write: in memory, then one pack ----
 *
 * While a write builds its blobs, trees and commit, the repository's object database is
 * swapped for one made of an in-memory backend (pack.c's objbuf, where every new object
 * goes) over a read-through backend (the real database). libgit2 then writes an object
 * with no system call (no freshen probe of the object folders, no pack-folder rescan on the
 * miss, no temporary file per object), and the write makes ONE pack + index of them before
 * the ref moves. */

typedef struct {
	git_odb *real, *tmp;
	git_odb_backend *buf;
	int active, flushed;
} write_odb;

static int write_odb_begin(write_odb *w, git_repository *repo, git_odb_backend *const *recent)
{
	git_odb *real2 = NULL;
	git_odb_backend *pt = NULL;
	int error = 0;

	memset(w, 0, sizeof(*w));
	if (git_repository_odb(&w->real, repo) < 0 || git_repository_odb(&real2, repo) < 0) {
		error = git_fail(BM_EIO, "the object database");
		goto fail;
	}
	if (git_odb_new(&w->tmp) < 0) {
		error = git_fail(BM_ENOMEM, "an object database");
		goto fail;
	}
	if ((error = bm__objbuf_new(&w->buf)) < 0)
		goto fail;
	if (git_odb_add_backend(w->tmp, w->buf, 2) < 0) {
		w->buf->free(w->buf);
		w->buf = NULL;
		error = git_fail(BM_ERROR, "an object database");
		goto fail;
	}
	bm__objbuf_ref(w->buf); /* kept past the database for the store's next writes */
	if ((error = bm__odb_passthrough_new(&pt, real2)) < 0)
		goto fail;
	real2 = NULL; /* pt owns it */
	if (git_odb_add_backend(w->tmp, pt, 1) < 0) {
		pt->free(pt);
		error = git_fail(BM_ERROR, "an object database");
		goto fail;
	}
	if (recent && recent[0]) {
		git_odb_backend *view = NULL;
		if ((error = bm__objbuf_view_new(&view, recent, RECENT_WRITES)) < 0)
			goto fail;
		if (git_odb_add_backend(w->tmp, view, 3) < 0) {
			view->free(view);
			error = git_fail(BM_ERROR, "an object database");
			goto fail;
		}
	}
	if (git_repository_set_odb(repo, w->tmp) < 0) {
		error = git_fail(BM_ERROR, "an object database");
		goto fail;
	}
	w->active = 1;
	return 0;
fail:
	git_odb_free(real2);
	git_odb_free(w->tmp);
	git_odb_free(w->real);
	if (w->buf)
		w->buf->free(w->buf); /* the reference taken above */
	memset(w, 0, sizeof(*w));
	return error;
}

/* The write's objects join `s->recent` (newest first) when they reached a pack, also when
 * the ref then did not move: they are in the repo all the same. Nothing is allocated here,
 * so a write's end cannot fail. */
static void write_odb_end(write_odb *w, bm_store *s)
{
	size_t i, total = 0;
	if (w->active)
		git_repository_set_odb(s->repo, w->real);
	git_odb_free(w->tmp); /* frees the backends but w->buf (its reference) and the recent
			       * ones (the store's) */
	git_odb_free(w->real);
	if (w->buf && w->flushed && bm__objbuf_bytes(w->buf) <= RECENT_MAX_BYTES) {
		if (s->recent[RECENT_WRITES - 1])
			s->recent[RECENT_WRITES - 1]->free(s->recent[RECENT_WRITES - 1]);
		memmove(s->recent + 1, s->recent, (RECENT_WRITES - 1) * sizeof(*s->recent));
		s->recent[0] = w->buf;
		w->buf = NULL;
		for (i = 0; i < RECENT_WRITES && s->recent[i]; i++) {
			total += bm__objbuf_bytes(s->recent[i]);
			if (total > RECENT_MAX_BYTES)
				break;
		}
		for (; i < RECENT_WRITES; i++) /* past the bound: the oldest go */
			if (s->recent[i]) {
				s->recent[i]->free(s->recent[i]);
				s->recent[i] = NULL;
			}
	}
	if (w->buf)
		w->buf->free(w->buf);
	memset(w, 0, sizeof(*w));
}

static int write_odb_flush(write_odb *w, git_repository *repo)
{
	char dir[4096];
	int error;
	snprintf(dir, sizeof(dir), "%sobjects/pack", git_repository_path(repo));
	if ((error = bm__pack_write_objbuf(w->buf, dir, full_fsync_wanted(repo))) == 0)
		w->flushed = 1;
	return error;
}

/* Open the object database afresh: libgit2 keeps every pack it ever loaded, also once the
 * pack bound (or git gc) removed it, and looks in each of them on a lookup. */
static void odb_renew(bm_store *s)
{
	git_odb *odb = NULL;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%sobjects", git_repository_path(s->repo));
	if (git_odb_open(&odb, dir) == 0)
		git_repository_set_odb(s->repo, odb);
	git_odb_free(odb);
	git_error_clear();
	s->seen = 0;
}

static void note_seen(bm_store *s, const bm_oid *commit)
{
	if (bm_oid_equal(commit, &s->last_seen))
		return;
	s->last_seen = *commit;
	if (++s->seen >= ODB_RENEW_AFTER && !s->in_write)
		odb_renew(s);
}

/* Before every PACK_CHECK_EVERY-th write of a store (its first included, so one-shot CLI
 * writes count too): old temporary files, and the pack bound. It runs before the write, so
 * a failure (out of memory, a disk that refuses to write) fails the write cleanly. */
static int before_write(bm_store *s)
{
	writer_lock wl;
	git_odb *odb = NULL;
	char dir[4096], retdir[4096];
	int error = 0, npacks;
	if (s->writes++ % PACK_CHECK_EVERY)
		return 0;
	clean_tmp_objects(s->repo);
	snprintf(dir, sizeof(dir), "%sobjects/pack", git_repository_path(s->repo));
	if ((error = bm__pack_count(&npacks, dir)) < 0 || npacks < BM_PACKS_PER_LEVEL)
		return error;
	if (git_repository_odb(&odb, s->repo) < 0)
		return git_fail(BM_EIO, "the object database");
	if ((error = writer_lock_take(&wl, s->repo)) == 0) {
		snprintf(retdir, sizeof(retdir), "%sbootmeta-merged", git_repository_path(s->repo));
		error = bm__pack_compact(odb, dir, retdir, full_fsync_wanted(s->repo), &s->last_sweep);
		writer_lock_release(&wl);
	}
	git_odb_free(odb);
	return error;
}

static void follow_pushed(bm_store *store, const git_oid *commit, const ref_note *note)
{
	writer_lock wl;
	if (writer_lock_take(&wl, store->repo) == 0) {
		if (ref_set_locked(&wl, ORIGIN_REF, commit, 0, NULL, NOTE("bootmeta: pushed")) == 0)
			ref_set_locked(&wl, MAIN_REF, commit, 0, NULL, note);
		writer_lock_release(&wl);
	}
	bm_error_clear();
	git_error_clear();
}

int bm_store_write(bm_oid *out_commit, bm_store *store, bm_txn_fn fn, void *payload, const bm_write_options *opts)
{
	bm_write_options defaults = BM_WRITE_OPTIONS_INIT, signed_opts;
	bm_txn t;
	bm_buf actor = BM_BUF_INIT;
	write_odb wodb;
	unsigned int max;
	int error = 0, remote;

	if (!opts)
		opts = &defaults;
	if (opts->version != BM_WRITE_OPTIONS_VERSION)
		return bm_error_set(BM_EINVALID, "bm_write_options version %u not supported", opts->version);
	max = opts->max_attempts ? opts->max_attempts : 1000;
	remote = store->remote_url && !opts->no_push;

	memset(&t, 0, sizeof(t));
	memset(&wodb, 0, sizeof(wodb));
	t.store = store;
	t.fsv.ops = &txn_fs_ops;
	if ((error = bm_actor_default(&actor, opts->actor && *opts->actor ? opts->actor : store->actor)) < 0)
		return error;
	if ((error = bm_actor_check(actor.ptr)) < 0 ||
	    (opts->message && (error = bm_text_check(opts->message, strlen(opts->message), BM_TEXT_LINES, 0,
						     "the commit message")) < 0)) {
		bm_buf_dispose(&actor);
		return error;
	}
	t.actor = t.write_actor = actor.ptr;
	if (!opts->sign) {
		if ((error = load_signing_key(store)) < 0) {
			bm_buf_dispose(&actor);
			return error;
		}
		if (store->signing_key) {
			signed_opts = *opts;
			signed_opts.sign = bm_sshsig_sign_commit;
			signed_opts.sign_payload = store->signing_key;
			opts = &signed_opts;
		}
	}

	if ((error = before_write(store)) < 0) {
		bm_buf_dispose(&actor);
		return error;
	}
	store->in_write = 1;
	for (t.attempt = 1; t.attempt <= max; t.attempt++) {
		git_oid root, commit, base_g;
		ref_note note;
		bm_oid tip;
		int rc;

		txn_reset(&t);
		bm_buf_clear(&t.message);
		t.time_ms = now_ms();
		if (remote && t.attempt > 1) {
			if ((error = fetch_origin(store)) < 0 || (error = follow_origin(NULL, store)) < 0)
				goto done;
		}
		error = bm_store_tip(&t.base, store);
		if (error == 0) {
			store->in_write = 0;
			note_seen(store, &t.base);
			store->in_write = 1;
			t.has_base = 1;
		} else if (error != BM_ENOTFOUND) {
			goto done;
		}
		error = 0;
		t.fsv.has_commit = t.has_base;
		t.fsv.commit = t.base;
		/* the base is read through the write's database: most often it is the commit of
		 * this store's last write, in memory there (store->recent) */
		if ((error = write_odb_begin(&wodb, store->repo, store->recent)) < 0 ||
		    (t.has_base && (error = commit_tree(&t.base_tree, store->repo, &t.base)) < 0))
			goto done;

		rc = fn(&t, payload);
		if (rc < 0) {
			error = rc;
			goto done;
		}
		if (rc == 1 || t.nfiles == 0) {
			if (out_commit && t.has_base)
				*out_commit = t.base;
			goto done;
		}
		if ((error = build_tree(&root, &t, t.base_tree, "")) < 0 ||
		    (error = create_commit(&commit, &t, &root, opts)) < 0)
			goto done;
		if (t.has_base)
			to_git(&base_g, &t.base);
		note.who = t.write_actor;
		note.time_ms = t.time_ms;
		note.msg = t.message.size ? t.message.ptr : "bootmeta";

		if (remote) {
			if ((error = write_odb_flush(&wodb, store->repo)) < 0)
				goto done;
			if (store->remote_is_local)
				error = push_local(store, &commit, t.has_base ? &base_g : NULL, &note);
			else
				error = push_network(store, &commit);
			if (error == BM_ECONFLICT)
				goto retry;
			if (error < 0)
				goto done;
			/* acknowledged by the remote: local main and origin/main follow (if that
			 * fails the write still stands; the next write fetches first) */
			follow_pushed(store, &commit, &note);
			if (store->push_cb) {
				bm_oid pushed;
				from_git(&pushed, &commit);
				store->push_cb(store->remote_url, &pushed, store->push_payload);
			}
		} else {
			/* cheap check before paying for the sync: has another writer moved main? */
			if (bm_store_tip(&tip, store) == 0 ? (!t.has_base || !bm_oid_equal(&tip, &t.base)) : t.has_base)
				goto retry;
			if ((error = write_odb_flush(&wodb, store->repo)) < 0)
				goto done;
			error = ref_cas(store->repo, &commit, t.has_base ? &base_g : NULL, note.who, note.time_ms, note.msg);
			if (error == BM_ECONFLICT)
				goto retry;
			if (error < 0)
				goto done;
		}
		if (out_commit)
			from_git(out_commit, &commit);
		goto done;
retry:
		write_odb_end(&wodb, store);
		error = 0;
		bm_error_clear();
		/* back off a little, randomised, so writers in lock step spread out */
		usleep((useconds_t)(randombytes_uniform(1000) * (t.attempt < 10 ? t.attempt : 10)));
	}
	error = bm_error_set(BM_ECONFLICT, "gave up after %u attempts: other writers kept moving main", max);
done:
	write_odb_end(&wodb, store);
	store->in_write = 0;
	txn_dispose(&t);
	bm_buf_dispose(&actor);
	return error;
}

/* ---- init, clone, pull, push ---- */

static int write_initial(bm_store *s)
{
	git_oid blob, tree, commit;
	git_treebuilder *root = NULL, *dot = NULL;
	git_signature *sig = NULL;
	git_tree *t = NULL;
	bm_buf actor = BM_BUF_INIT;
	char fmt[32];
	int error = 0;
	git_oid dot_oid;

	snprintf(fmt, sizeof(fmt), "%d\n", BM_FORMAT_VERSION);
	if (git_blob_create_from_buffer(&blob, s->repo, fmt, strlen(fmt)) < 0 ||
	    git_treebuilder_new(&dot, s->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, dot, "format", &blob, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&dot_oid, dot) < 0 || git_treebuilder_new(&root, s->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, root, ".bootmeta", &dot_oid, GIT_FILEMODE_TREE) < 0 ||
	    git_treebuilder_write(&tree, root) < 0 || git_tree_lookup(&t, s->repo, &tree) < 0) {
		error = git_fail(BM_EIO, "writing the first tree");
		goto done;
	}
	if ((error = bm_actor_default(&actor, s->actor)) < 0 || (error = make_signature(&sig, actor.ptr, now_ms())) < 0)
		goto done;
	if (git_commit_create(&commit, s->repo, NULL, sig, sig, NULL, "bootmeta: init meta repo\n", t, 0, NULL) < 0) {
		error = git_fail(BM_EIO, "writing the first commit");
		goto done;
	}
	{
		git_oid objs[4];
		objs[0] = blob;
		objs[1] = dot_oid;
		objs[2] = tree;
		objs[3] = commit;
		if ((error = sync_objects(s->repo, objs, 4)) < 0)
			goto done;
	}
	error = ref_cas(s->repo, &commit, NULL, actor.ptr, now_ms(), "bootmeta: init meta repo");
	if (error == BM_ECONFLICT)
		error = bm_error_set(BM_EEXISTS, "%s already has a main branch", s->path);
done:
	bm_buf_dispose(&actor);
	git_tree_free(t);
	git_signature_free(sig);
	git_treebuilder_free(root);
	git_treebuilder_free(dot);
	return error;
}

/* A bare repo keeps no reflog by default; a meta repo keeps one for every ref bootmeta or
 * libgit2 moves (bootmeta doctor --repair goes back along main's). */
static int keep_reflog(git_repository *repo)
{
	git_config *cfg = NULL;
	int error = 0;
	if (git_repository_config(&cfg, repo) < 0 || git_config_set_string(cfg, "core.logAllRefUpdates", "always") < 0)
		error = git_fail(BM_EIO, "setting core.logAllRefUpdates");
	git_config_free(cfg);
	return error;
}

int bm_store_init(bm_store **out, const char *path)
{
	return bm_store_init_ext(out, path, NULL);
}

int bm_store_init_ext(bm_store **out, const char *path, const bm_store_open_options *opts)
{
	git_repository *repo = NULL;
	git_repository_init_options io = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	bm_store *s = NULL;
	struct stat st;
	int error;

	*out = NULL;
	if ((error = BM_OPTS_CHECK(opts, BM_STORE_OPEN_OPTIONS_VERSION, "bm_store_open_options")) < 0)
		return error;
	if (!path || !*path)
		return bm_error_set(BM_EINVALID, "init needs a path for the new meta repo");
	if (stat(path, &st) == 0) {
		DIR *d;
		struct dirent *de;
		int empty = 1;
		if (!S_ISDIR(st.st_mode))
			return bm_error_set(BM_EEXISTS, "%s exists and is not a folder", path);
		if ((d = opendir(path))) {
			while ((de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					empty = 0;
			closedir(d);
		}
		if (!empty)
			return bm_error_set(BM_EEXISTS, "%s exists and is not empty; choose a new path", path);
	}
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	io.initial_head = "main";
	if (git_repository_init_ext(&repo, path, &io) < 0)
		return git_fail(BM_EIO, path);
	if ((error = store_new(&s, repo)) < 0)
		return error;
	if ((error = keep_reflog(repo)) < 0 || (error = store_apply_options(s, opts)) < 0 || (error = write_initial(s)) < 0) {
		bm_store_free(s);
		return error;
	}
	*out = s;
	return 0;
}

int bm_store_clone(bm_store **out, const char *url, const char *path)
{
	return bm_store_clone_ext(out, url, path, NULL);
}

int bm_store_clone_ext(bm_store **out, const char *url, const char *path, const bm_store_open_options *opts)
{
	git_repository *repo = NULL;
	git_clone_options co = GIT_CLONE_OPTIONS_INIT;
	bm_store *s = NULL;
	net_ctx nc = { 0 };
	int error, rc;

	*out = NULL;
	if ((error = BM_OPTS_CHECK(opts, BM_STORE_OPEN_OPTIONS_VERSION, "bm_store_open_options")) < 0)
		return error;
	if (access(path, F_OK) == 0)
		return bm_error_set(BM_EEXISTS, "%s already exists; choose a new folder for the clone", path);
	{
		/* a local path (or file:// URL) that is not there: say so, not what git would
		 * ("unsupported URL protocol") */
		const char *local = !strncmp(url, "file://", 7) ? url + 7 : url;
		const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
		int is_local;
		if (local != url)
			is_local = 1;
		else if (strstr(url, "://"))
			is_local = 0;
		else /* scp-like host:path has its ':' before any '/' */
			is_local = !colon || (slash && slash < colon);
		if (is_local && access(local, F_OK) != 0)
			return bm_error_set(BM_ENOTFOUND, "no meta repo at %s: no such file or folder", local);
	}
	co.bare = 1;
	co.checkout_branch = "main";
	/* a file:// URL is cloned like a path: objects hard-linked (copied across file
	 * systems), not packed by libgit2's local transport, which took 70 s for a 100,000-record
	 * repo that a path clones in 0.03 s (bench/b_follow.sh) */
	if (!strncmp(url, "file://", 7))
		co.local = GIT_CLONE_LOCAL;
	if (opts && opts->version >= 2) {
		nc.ssh_key = opts->ssh_key;
		nc.known_hosts = opts->ssh_known_hosts;
	}
	net_setup(&co.fetch_opts.callbacks, &nc, NULL, url);
	rc = git_clone(&repo, url, path, &co);
	if (rc < 0 && co.local == GIT_CLONE_LOCAL && access(path, F_OK) != 0) {
		/* a link refused (fs.protected_hardlinks: the packs are another user's): copy them
		 * (libgit2 removed what it had made) */
		git_error_clear();
		co.local = GIT_CLONE_LOCAL_NO_LINKS;
		rc = git_clone(&repo, url, path, &co);
	}
	if (rc < 0)
		return net_fail(&nc, url);
	if ((error = store_new(&s, repo)) < 0)
		return error;
	if ((error = store_apply_options(s, opts)) < 0) {
		bm_store_free(s);
		return error;
	}
	/* fetches keep a remote-tracking ref; main follows it */
	{
		git_config *cfg = NULL;
		if (git_repository_config(&cfg, repo) == 0) {
			git_config_set_string(cfg, "remote.origin.fetch", "+refs/heads/main:" ORIGIN_REF);
			git_config_free(cfg);
		}
		git_error_clear();
	}
	if ((error = keep_reflog(repo)) < 0 || (error = load_remote(s)) < 0 || (error = fetch_origin(s)) < 0 ||
	    (error = check_format(s)) < 0) {
		bm_store_free(s);
		return error;
	}
	*out = s;
	return 0;
}

int bm_store_pull(bm_oid *new_tip, bm_store *store)
{
	git_oid local, origin;
	int error;
	if (!store->remote_url)
		return bm_error_set(BM_EINVALID, "%s has no remote to pull from; it is the primary copy", store->path);
	if ((error = fetch_origin(store)) < 0)
		return error;
	if (git_reference_name_to_id(&local, store->repo, MAIN_REF) == 0 &&
	    git_reference_name_to_id(&origin, store->repo, ORIGIN_REF) == 0 && !git_oid_equal(&local, &origin) &&
	    git_graph_descendant_of(store->repo, &local, &origin) == 1) {
		bm_error_set(BM_ECONFLICT, "local main has commits the remote does not have");
		return bm_error_set_about(BM_ABOUT_UNPUSHED, NULL);
	}
	git_error_clear();
	if ((error = follow_origin(new_tip, store)) < 0)
		return error;
	return check_format(store);
}

int bm_store_push(bm_store *store)
{
	git_oid local, origin;
	int error, has_origin;
	if (!store->remote_url)
		return bm_error_set(BM_EINVALID, "%s has no remote to push to", store->path);
	if (git_reference_name_to_id(&local, store->repo, MAIN_REF) < 0)
		return git_fail(BM_EIO, MAIN_REF);
	has_origin = git_reference_name_to_id(&origin, store->repo, ORIGIN_REF) == 0;
	git_error_clear();
	if (has_origin && git_oid_equal(&local, &origin))
		return 0;
	if (store->remote_is_local) {
		bm_buf who = BM_BUF_INIT;
		ref_note note = { NULL, 0, "bootmeta: push" };
		if ((error = bm_actor_default(&who, NULL)) == 0) {
			note.who = who.ptr;
			error = push_local(store, &local, has_origin ? &origin : NULL, &note);
		}
		bm_buf_dispose(&who);
	} else {
		error = push_network(store, &local);
	}
	if (error == BM_ECONFLICT) {
		bm_error_set(BM_ECONFLICT, "the remote moved");
		return bm_error_set_about(BM_ABOUT_REMOTE_MOVED, NULL);
	}
	if (error == 0 && (error = ref_set(store->repo, ORIGIN_REF, &local, 0, NULL, NOTE("bootmeta: pushed"))) < 0)
		error = bm_error_prefix(error, "pushed, but recording it in " ORIGIN_REF);
	return error;
}

/* ---- history ---- */

static void fill_info(bm_commit_info *info, const git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	const char *msg = git_commit_summary((git_commit *)c);
	memset(info, 0, sizeof(*info));
	from_git(&info->commit, git_commit_id(c));
	snprintf(info->author, sizeof(info->author), "%s <%s>", a->name, a->email);
	info->time = a->when.time;
	info->tz_offset = a->when.offset;
	snprintf(info->summary, sizeof(info->summary), "%s", msg ? msg : "");
}

int bm_store_commit_info(bm_commit_info *out, bm_store *store, const bm_oid *commit)
{
	git_commit *c = NULL;
	git_oid g;
	to_git(&g, commit);
	if (git_commit_lookup(&c, store->repo, &g) < 0)
		return git_fail(BM_ENOTFOUND, "meta commit");
	fill_info(out, c);
	git_commit_free(c);
	return 0;
}

static int path_id(git_oid *out, git_commit *c, const char *path)
{
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	int rc;
	if (git_commit_tree(&t, c) < 0)
		return -1;
	rc = git_tree_entry_bypath(&e, t, path);
	if (rc == 0)
		git_oid_cpy(out, git_tree_entry_id(e));
	git_tree_entry_free(e);
	git_tree_free(t);
	git_error_clear();
	return rc == 0 ? 1 : 0;
}

int bm_store_log(bm_store *store, const char *path, size_t limit, bm_log_cb cb, void *payload)
{
	git_revwalk *walk = NULL;
	git_oid oid;
	size_t shown = 0;
	int error = 0;
	char clean[4096];

	if (path) {
		size_t n = strlen(path);
		if (n >= sizeof(clean))
			return bm_error_set(BM_EINVALID, "path too long");
		memcpy(clean, path, n + 1);
		while (n && clean[n - 1] == '/')
			clean[--n] = '\0';
		path = n ? clean : NULL;
		if (path && (error = bm_path_check(path)) < 0)
			return error;
	}
	if (git_revwalk_new(&walk, store->repo) < 0 || git_revwalk_push_ref(walk, MAIN_REF) < 0)
		return git_fail(BM_EIO, "walking history");
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	while (git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL, *parent = NULL;
		bm_commit_info info;
		int changed = 1;
		if (git_commit_lookup(&c, store->repo, &oid) < 0) {
			error = git_fail(BM_ECORRUPT, "commit");
			break;
		}
		if (path) {
			git_oid a, b;
			int ha = path_id(&a, c, path), hb = 0;
			if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0)
				hb = path_id(&b, parent, path);
			changed = ha != hb || (ha && !git_oid_equal(&a, &b));
			git_commit_free(parent);
		}
		if (changed) {
			fill_info(&info, c);
			error = cb(&info, payload);
			shown++;
		}
		git_commit_free(c);
		if (error || (limit && shown >= limit))
			break;
	}
	git_revwalk_free(walk);
	return error;
}

/* ---- actor ---- */

int bm_actor_default(bm_buf *out, const char *flag)
{
	git_config *cfg = NULL;
	int error = 0;

	bm_buf_clear(out);
	if (flag && *flag)
		return bm_buf_puts(out, flag);
	if (git_config_open_default(&cfg) == 0) {
		git_buf name = { 0 }, email = { 0 };
		int hn = git_config_get_string_buf(&name, cfg, "user.name") == 0;
		int he = git_config_get_string_buf(&email, cfg, "user.email") == 0;
		if (hn && he)
			error = bm_buf_printf(out, "%s <%s>", name.ptr, email.ptr);
		else if (hn)
			error = bm_buf_puts(out, name.ptr);
		else if (he)
			error = bm_buf_printf(out, "<%s>", email.ptr);
		git_buf_dispose(&name);
		git_buf_dispose(&email);
		git_config_free(cfg);
		git_error_clear();
		if (error || out->size)
			return error;
	}
	git_error_clear();
	{
		struct passwd *pw = getpwuid(getuid());
		char host[256] = "localhost";
		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		return bm_buf_printf(out, "%s <%s@%s>", pw && pw->pw_name ? pw->pw_name : "unknown",
				     pw && pw->pw_name ? pw->pw_name : "unknown", host);
	}
}

git_repository *bm__store_repo(bm_store *store)
{
	return store->repo;
}
