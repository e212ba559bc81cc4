/* store.c: the meta repo on libgit2. Open/init/clone, the tree view of a commit, and the
 * write path: transactions that only add files, built into trees in memory along the
 * changed paths, committed, made durable with one sync for the objects and one for the ref,
 * and published with compare-and-swap on refs/heads/main (re-run on conflict). On a clone
 * the compare-and-swap is the push: a local-path remote is updated directly with
 * git_reference_create_matching (libgit2's local transport push is not a CAS), a network
 * remote through git's push protocol, which refuses a ref that moved. */
#define _GNU_SOURCE
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>
#include <git2/sys/refs.h>
#include <sodium.h>

#include "bootmeta/sign.h"
#include "bootmeta/record.h"
#include "bootmeta/text.h"

#define MAIN_REF "refs/heads/main"
#define ORIGIN_REF "refs/remotes/origin/main"
#define FORMAT_PATH ".bootmeta/format"

struct bm_store {
	git_repository *repo;
	char *path;     /* the repo folder (bare: the repo itself) */
	char *remote_url; /* origin's URL, NULL when none */
	int remote_is_local;
	bm_sshsig_key *signing_key; /* loaded on the first write when configured */
	int signing_checked;
};

/* ---- errors from libgit2 ---- */

/* A libgit2 failure as a bootmeta error: `code`, or BM_ENOMEM when libgit2 ran out of memory
 * (whatever it returned: under memory pressure it can answer "not found"). */
static int git_fail(int code, const char *what)
{
	const git_error *e = git_error_last();
	if (e && e->klass == GIT_ERROR_NOMEMORY)
		code = BM_ENOMEM;
	return bm_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
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

void bm_store_free(bm_store *store)
{
	if (!store)
		return;
	git_repository_free(store->repo);
	bm_sshsig_key_free(store->signing_key);
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
		if (rc == GIT_ENOTFOUND || rc == GIT_EAMBIGUOUS || rc == GIT_EINVALIDSPEC)
			return bm_error_set(rc == GIT_EAMBIGUOUS ? BM_EINVALID : BM_ENOTFOUND,
					    "\"%s\" does not name a meta commit%s; see `bootmeta log`", rev,
					    rc == GIT_EAMBIGUOUS ? " (ambiguous: give more digits)" : "");
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

static int tree_list_into(bm_strlist *out, git_repository *repo, git_tree *root, const char *dir)
{
	git_tree *t = NULL;
	size_t i, n;
	int error;
	char clean[4096];
	size_t dl = strlen(dir);
	if (dl >= sizeof(clean))
		return bm_error_set(BM_EINVALID, "path too long");
	memcpy(clean, dir, dl + 1);
	while (dl && clean[dl - 1] == '/')
		clean[--dl] = '\0';
	if ((error = tree_subtree(&t, repo, root, clean)) < 0)
		return error;
	n = git_tree_entrycount(t);
	for (i = 0; i < n && !error; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			bm_buf b = BM_BUF_INIT;
			error = bm_buf_printf(&b, "%s/", git_tree_entry_name(e));
			if (!error)
				error = bm_strlist_add(out, b.ptr);
			bm_buf_dispose(&b);
		} else {
			error = bm_strlist_add(out, git_tree_entry_name(e));
		}
	}
	git_tree_free(t);
	return error;
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

/* git keeps tree entries sorted by name, sub-trees compared as "name/": the last entry is
 * the last of a bytewise sorted listing */
static int tfs_last(bm_buf *name, bm_fs *fs, const char *dir)
{
	tree_fs *t = (tree_fs *)fs;
	git_tree *sub = NULL;
	const git_tree_entry *e;
	char clean[4096];
	size_t dl = strlen(dir);
	int error;
	if (dl >= sizeof(clean))
		return bm_error_set(BM_EINVALID, "path too long");
	memcpy(clean, dir, dl + 1);
	while (dl && clean[dl - 1] == '/')
		clean[--dl] = '\0';
	if ((error = tree_subtree(&sub, t->repo, t->root, clean)) < 0)
		return error;
	if (!(e = git_tree_entry_byindex(sub, git_tree_entrycount(sub) - 1)))
		error = bm_error_set(BM_ENOTFOUND, "%s: empty folder", dir);
	else if (!(error = bm_buf_puts(name, git_tree_entry_name(e))) && git_tree_entry_type(e) == GIT_OBJECT_TREE)
		error = bm_buf_putc(name, '/');
	git_tree_free(sub);
	return error;
}


static int tfs_sub(bm_fs **out, bm_fs *fs, const char *dir);
static const bm_fs_ops tree_ops = { tfs_read, tfs_list, tfs_exists, tfs_free, tfs_last, tfs_sub };

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
	bm_buf buf = BM_BUF_INIT;
	int error, version;
	char *end;

	if ((error = bm_store_fs(&fs, s, NULL)) < 0) {
		if (error == BM_ENOTFOUND)
			error = bm_error_set(BM_EFORMAT, "%s is a git repo but not a bootmeta meta repo (no main "
							 "branch); use --repo, or create one with `bootmeta init PATH`",
					     s->path);
		goto done;
	}
	if ((error = bm_fs_read(&buf, fs, FORMAT_PATH)) < 0) {
		if (error != BM_ENOTFOUND) /* out of memory, a read error: not a verdict on the repo */
			goto done;
		error = bm_error_set(BM_EFORMAT, "%s is a git repo but not a bootmeta meta repo (no %s on main); "
						 "use --repo, or create one with `bootmeta init PATH`", s->path, FORMAT_PATH);
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

static int cache_path_for(bm_buf *out, const char *url)
{
	unsigned char h[32];
	char hex[65];
	const char *base = getenv("XDG_CACHE_HOME");
	crypto_hash_sha256(h, (const unsigned char *)url, strlen(url));
	bm_hex_encode(hex, h, 8);
	if (base && *base)
		return bm_buf_printf(out, "%s/bootmeta/repos/%s.git", base, hex);
	if (!getenv("HOME"))
		return bm_error_set(BM_EINVALID, "no HOME to keep a clone of %s in; pass a local path", url);
	return bm_buf_printf(out, "%s/.cache/bootmeta/repos/%s.git", getenv("HOME"), hex);
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

static int looks_like_url(const char *s)
{
	return strstr(s, "://") != NULL && strncmp(s, "file://", 7) != 0;
}

int bm_store_open(bm_store **out, const char *path)
{
	git_repository *repo = NULL;
	bm_store *s = NULL;
	int rc, error;
	const char *start = path;

	*out = NULL;
	if (!path) {
		path = getenv("BOOTMETA_REPO");
		if (path && !*path)
			path = NULL;
	}
	if (path && (looks_like_url(path) || (!is_local_url(path)))) {
		/* a remote meta repo: keep a local clone in the cache and read that */
		bm_buf cache = BM_BUF_INIT;
		if ((error = cache_path_for(&cache, path)) < 0)
			return error;
		if (access(cache.ptr, F_OK) == 0) {
			error = bm_store_open(out, cache.ptr);
			if (!error)
				error = bm_store_pull(NULL, *out);
		} else {
			char *slash = strrchr(cache.ptr, '/');
			*slash = '\0';
			error = mkdirs(cache.ptr);
			*slash = '/';
			if (!error)
				error = bm_store_clone(out, path, cache.ptr);
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
		if (access(path, F_OK) < 0)
			return bm_error_set(BM_ENOTFOUND, "%s: no such meta repo; create one with `bootmeta init %s`",
					    path, path);
		rc = git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	} else {
		rc = git_repository_open_ext(&repo, ".", 0, NULL);
	}
	if (rc < 0) {
		const char *where = path ? path : "the current folder";
		const git_error *e = git_error_last();
		char why[512];
		if (e && e->klass == GIT_ERROR_NOMEMORY)
			return git_fail(BM_ENOMEM, where);
		/* keep libgit2's message: check_reftable clears it */
		snprintf(why, sizeof(why), "%s", e && e->message ? e->message : "libgit2 error");
		if ((error = check_reftable(path ? path : ".")) < 0)
			return error;
		if (rc == GIT_ENOTFOUND)
			return bm_error_set(BM_ENOTFOUND, "%s is not in a meta repo; pass --repo PATH, set "
							  "BOOTMETA_REPO, or create one with `bootmeta init PATH`", where);
		return bm_error_set(BM_EFORMAT, "%s: %s", where, why);
	}
	(void)start;
	if ((error = store_new(&s, repo)) < 0)
		return error;
	if ((error = load_remote(s)) < 0 || (error = check_format(s)) < 0) {
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
 * This relies on a journaling file system that commits metadata in order (ext4, xfs).
 * `git config bootmeta.fsyncMethod full` fsyncs every object and folder instead. */

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

static int full_fsync_wanted(git_repository *repo)
{
	git_config *cfg = NULL;
	git_buf v = { 0 };
	int full = 0;
	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&v, cfg, "bootmeta.fsyncmethod") == 0)
		full = !strcmp(v.ptr, "full");
	git_buf_dispose(&v);
	git_config_free(cfg);
	git_error_clear();
	return full;
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

/* Writers serialise only the ref update, with an flock that dies with its process, so a
 * main.lock left by a writer killed at the wrong moment can be recognised as stale. */
static int ref_lock(git_repository *repo)
{
	char path[4096];
	int fd;
	snprintf(path, sizeof(path), "%sbootmeta-ref.lock", git_repository_path(repo));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return bm_error_set(BM_EIO, "%s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return bm_error_set(BM_EIO, "lock %s: %s", path, strerror(errno));
		}
	}
	return fd;
}

/* Take refs/heads/main.lock the way git does (O_EXCL), so a git process on the same repo
 * is excluded too. We hold the writers' flock, so a lock file no bootmeta writer owns and
 * that is a few seconds old was left by a killed process. */
static int take_git_lock(const char *lockpath)
{
	int tries, fd;
	struct stat st;
	for (tries = 0; tries < 100; tries++) {
		fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return bm_error_set(BM_EIO, "%s: %s", lockpath, strerror(errno));
		if (stat(lockpath, &st) == 0 && time(NULL) - st.st_mtime >= 2)
			unlink(lockpath);
		else
			usleep(20000);
	}
	return bm_error_set(BM_EIO, "%s is held by another process; if no git or bootmeta process is "
				    "running on this repo, remove it", lockpath);
}

/* Move main of `repo` from `expected` (NULL: must not exist) to `next`, durably.
 * BM_ECONFLICT when main moved. */
static int ref_cas(git_repository *repo, const git_oid *next, const git_oid *expected, const char *msg)
{
	const char *gitdir = git_repository_path(repo);
	char refpath[4096], lockpath[4200], dirpath[4096], line[GIT_OID_HEXSZ + 2];
	git_oid cur;
	int lock, fd = -1, rc, error = 0, full = full_fsync_wanted(repo), locked = 0;
	(void)msg;

	snprintf(refpath, sizeof(refpath), "%s" MAIN_REF, gitdir);
	snprintf(lockpath, sizeof(lockpath), "%s.lock", refpath);
	snprintf(dirpath, sizeof(dirpath), "%srefs/heads", gitdir);
	if ((lock = ref_lock(repo)) < 0)
		return lock;
	rc = git_reference_name_to_id(&cur, repo, MAIN_REF);
	git_error_clear();
	if (expected ? (rc < 0 || !git_oid_equal(&cur, expected)) : rc == 0) {
		error = BM_ECONFLICT;
		goto done;
	}
	if ((fd = take_git_lock(lockpath)) < 0) {
		error = fd;
		goto done;
	}
	locked = 1;
	git_oid_tostr(line, sizeof(line), next);
	line[GIT_OID_HEXSZ] = '\n';
	if (write(fd, line, GIT_OID_HEXSZ + 1) != GIT_OID_HEXSZ + 1) {
		error = bm_error_set(BM_EIO, "writing %s: %s", lockpath, strerror(errno));
		goto done;
	}
	if (full ? fsync(fd) < 0
		 : (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
						    SYNC_FILE_RANGE_WAIT_AFTER) < 0 && errno != ENOSYS)) {
		error = bm_error_set(BM_EIO, "writing out %s: %s", lockpath, strerror(errno));
		goto done;
	}
	close(fd);
	fd = -1;
	if (rename(lockpath, refpath) < 0) {
		error = bm_error_set(BM_EIO, "renaming %s: %s", lockpath, strerror(errno));
		goto done;
	}
	locked = 0;
	/* main has moved: a failure now cannot be undone, only reported */
	if ((error = fsync_path(dirpath, 1)) < 0)
		error = bm_error_prefix(BM_EIO, "main moved to the new commit, but it is not known to be durable");
done:
	if (fd >= 0)
		close(fd);
	if (locked)
		unlink(lockpath);
	close(lock);
	return error;
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
	const char *actor;
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
	bm_strlist base = BM_STRLIST_INIT;

	error = tree_list_into(&base, t->store->repo, t->base_tree, dir);
	if (error == 0)
		found_base = 1;
	else if (error != BM_ENOTFOUND)
		goto done;
	for (i = 0; i < base.count; i++)
		if ((error = bm_strlist_add(out, base.items[i])) < 0)
			goto done;
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
	bm_strlist_dispose(&base);
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

static const bm_fs_ops txn_fs_ops = { txn_fs_read, txn_fs_list, txn_fs_exists, NULL };

bm_fs *bm_txn_fs(bm_txn *txn) { return &txn->fsv; }
const bm_oid *bm_txn_base(bm_txn *txn) { return txn->has_base ? &txn->base : NULL; }
const char *bm_txn_actor(bm_txn *txn) { return txn->actor; }
int64_t bm_txn_time_ms(bm_txn *txn) { return txn->time_ms; }
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

int bm_txn_add(bm_txn *txn, const char *path, const void *data, size_t len)
{
	pending_file *f;
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
}

static void txn_dispose(bm_txn *t)
{
	txn_reset(t);
	free(t->files);
	free(t->written);
	bm_buf_dispose(&t->message);
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

	if ((error = make_signature(&sig, t->actor, t->time_ms)) < 0)
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

/* Set when an https remote is about to be used; read by the CLI's lazy CA loader
 * (src/tls_lazy.c). Exported for that purpose only. */
BM_EXTERN int bm__tls_certs_wanted;
int bm__tls_certs_wanted;

static void tls_prepare(const char *url)
{
	const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");
	if (bm__tls_certs_wanted || !url || strncmp(url, "https://", 8))
		return;
	bm__tls_certs_wanted = 1;
	if (!file && !dir)
		file = "/etc/ssl/certs/ca-certificates.crt";
	if (git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, dir) < 0)
		git_error_clear(); /* libgit2 without TLS support, or no bundle: the https operation says so */
}

static int fetch_origin(bm_store *s)
{
	git_remote *r = NULL;
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	char *spec = "+refs/heads/main:" ORIGIN_REF;
	git_strarray specs = { &spec, 1 };
	int error = 0;

	if (git_remote_lookup(&r, s->repo, "origin") < 0)
		return git_fail(BM_EREMOTE, "no remote named origin");
	tls_prepare(git_remote_url(r));
	fo.update_fetchhead = 0;
	if (git_remote_fetch(r, &specs, &fo, NULL) < 0)
		error = git_fail(BM_EREMOTE, s->remote_url);
	git_remote_free(r);
	return error;
}

/* Local main follows origin/main after a fetch. */
static int follow_origin(bm_oid *tip, bm_store *s)
{
	git_oid o;
	git_reference *ref = NULL;
	int rc;
	if ((rc = git_reference_name_to_id(&o, s->repo, ORIGIN_REF)) < 0)
		return rc == GIT_ENOTFOUND ? bm_error_set(BM_EFORMAT, "the remote %s has no main branch; is it "
								    "a meta repo?", s->remote_url)
					   : git_fail(BM_EIO, ORIGIN_REF);
	if (git_reference_create(&ref, s->repo, MAIN_REF, &o, 1, "bootmeta: follow origin") < 0)
		return git_fail(BM_EIO, "moving main");
	git_reference_free(ref);
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

/* Push `next` (child of `expected`) to a remote that is a local path: copy the missing
 * objects, make them durable, then compare-and-swap the remote's main. */
static int push_local(bm_store *s, const git_oid *next, const git_oid *expected)
{
	git_repository *remote = NULL;
	git_revwalk *walk = NULL;
	copy_ctx c = { 0 };
	git_oid oid;
	int error = 0, had;

	if (git_repository_open_ext(&remote, local_path_of(s->remote_url), GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return git_fail(BM_EREMOTE, s->remote_url);
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
	if ((error = sync_objects(remote, c.copied, c.n)) < 0)
		goto done;
	error = ref_cas(remote, next, expected, "bootmeta: push");
done:
	free(c.copied);
	git_revwalk_free(walk);
	git_odb_free(c.src);
	git_odb_free(c.dst);
	git_repository_free(remote);
	return error;
}

typedef struct {
	int rejected;
	char msg[256];
} push_status;

static int push_update_cb(const char *refname, const char *status, void *data)
{
	push_status *ps = data;
	if (status) {
		ps->rejected = 1;
		snprintf(ps->msg, sizeof(ps->msg), "%s: %s", refname, status);
	}
	return 0;
}

/* Push through git's protocol (ssh, https, git://): receive-pack refuses the update when
 * the remote ref is no longer the old value we sent, which is our compare-and-swap. */
static int push_network(bm_store *s)
{
	git_remote *r = NULL;
	git_push_options po = GIT_PUSH_OPTIONS_INIT;
	push_status ps = { 0 };
	char *spec = "refs/heads/main:refs/heads/main";
	git_strarray specs = { &spec, 1 };
	int rc, error = 0;

	if (git_remote_lookup(&r, s->repo, "origin") < 0)
		return git_fail(BM_EREMOTE, "origin");
	tls_prepare(git_remote_url(r));
	po.callbacks.push_update_reference = push_update_cb;
	po.callbacks.payload = &ps;
	rc = git_remote_push(r, &specs, &po);
	if (rc == GIT_ENONFASTFORWARD || ps.rejected)
		error = BM_ECONFLICT;
	else if (rc < 0)
		error = git_fail(BM_EREMOTE, s->remote_url);
	git_remote_free(r);
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
	const char *env = getenv("BOOTMETA_SIGNING_KEY");
	int error = 0, found;
	if (s->signing_checked)
		return 0;
	if (env && *env)
		found = bm_buf_puts(&path, env) == 0;
	else if ((found = config_string(&path, s->repo, "bootmeta.signingkey")) < 0)
		return found;
	if (found && path.size) {
		if ((error = bm_sshsig_key_load(&s->signing_key, path.ptr)) < 0)
			error = bm_error_prefix(error, "loading the commit signing key %s (BOOTMETA_SIGNING_KEY or "
							"git config bootmeta.signingKey)", path.ptr);
	}
	bm_buf_dispose(&path);
	if (!error)
		s->signing_checked = 1;
	return error;
}

int bm_store_require_signed(bm_store *store)
{
	const char *env = getenv("BOOTMETA_REQUIRE_SIGNED");
	git_config *cfg = NULL;
	int v = 0;
	if (env && *env)
		return !strcmp(env, "1") || !strcmp(env, "true");
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
	const char *env = getenv("BOOTMETA_ALLOWED_SIGNERS");

	if ((error = bm_path_check(path)) < 0)
		return error;
	if (allowed_signers)
		error = bm_buf_puts(&signers_path, allowed_signers);
	else if (env && *env)
		error = bm_buf_puts(&signers_path, env);
	else if ((error = config_string(&signers_path, store->repo, "bootmeta.allowedsignersfile")) == 0)
		error = config_string(&signers_path, store->repo, "gpg.ssh.allowedsignersfile");
	if (error < 0)
		goto done;
	if (!signers_path.size) {
		error = bm_error_set(BM_ENOTFOUND, "signed meta commits are required but no allowed signers are "
						   "configured; set BOOTMETA_ALLOWED_SIGNERS or git config "
						   "bootmeta.allowedSignersFile to a file in git's allowed-signers format");
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

int bm_store_write(bm_oid *out_commit, bm_store *store, bm_txn_fn fn, void *payload, const bm_write_options *opts)
{
	bm_write_options defaults = BM_WRITE_OPTIONS_INIT, signed_opts;
	bm_txn t;
	bm_buf actor = BM_BUF_INIT;
	unsigned int max;
	int error = 0, remote;

	if (!opts)
		opts = &defaults;
	if (opts->version != BM_WRITE_OPTIONS_VERSION)
		return bm_error_set(BM_EINVALID, "bm_write_options version %u not supported", opts->version);
	max = opts->max_attempts ? opts->max_attempts : 1000;
	remote = store->remote_url && !opts->no_push;

	memset(&t, 0, sizeof(t));
	t.store = store;
	t.fsv.ops = &txn_fs_ops;
	if ((error = bm_actor_default(&actor, opts->actor)) < 0)
		return error;
	if ((error = bm_actor_check(actor.ptr)) < 0 ||
	    (opts->message && (error = bm_text_check(opts->message, strlen(opts->message), BM_TEXT_LINES, 0,
						     "the commit message")) < 0)) {
		bm_buf_dispose(&actor);
		return error;
	}
	t.actor = actor.ptr;
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

	for (t.attempt = 1; t.attempt <= max; t.attempt++) {
		git_oid root, commit, base_g;
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
			t.has_base = 1;
			if ((error = commit_tree(&t.base_tree, store->repo, &t.base)) < 0)
				goto done;
		} else if (error != BM_ENOTFOUND) {
			goto done;
		}
		error = 0;
		t.fsv.has_commit = t.has_base;
		t.fsv.commit = t.base;

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

		if (remote) {
			if (store->remote_is_local)
				error = push_local(store, &commit, t.has_base ? &base_g : NULL);
			else
				error = push_network(store);
			if (error == BM_ECONFLICT)
				goto retry;
			if (error < 0)
				goto done;
			/* acknowledged by the remote: local main and origin/main follow */
			{
				git_reference *ref = NULL;
				if (git_reference_create(&ref, store->repo, ORIGIN_REF, &commit, 1, "bootmeta: pushed") == 0)
					git_reference_free(ref);
				if (git_reference_create(&ref, store->repo, MAIN_REF, &commit, 1, "bootmeta: pushed") == 0)
					git_reference_free(ref);
				git_error_clear();
			}
		} else {
			/* cheap check before paying for the sync: has another writer moved main? */
			if (bm_store_tip(&tip, store) == 0 ? (!t.has_base || !bm_oid_equal(&tip, &t.base)) : t.has_base)
				goto retry;
			if ((error = sync_objects(store->repo, t.written, t.nwritten)) < 0)
				goto done;
			error = ref_cas(store->repo, &commit, t.has_base ? &base_g : NULL, t.message.size ? t.message.ptr : "bootmeta");
			if (error == BM_ECONFLICT)
				goto retry;
			if (error < 0)
				goto done;
		}
		if (out_commit)
			from_git(out_commit, &commit);
		goto done;
retry:
		error = 0;
		bm_error_clear();
		/* back off a little, randomised, so writers in lock step spread out */
		usleep((useconds_t)(randombytes_uniform(1000) * (t.attempt < 10 ? t.attempt : 10)));
	}
	error = bm_error_set(BM_ECONFLICT, "gave up after %u attempts: other writers kept moving main", max);
done:
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
	if ((error = bm_actor_default(&actor, NULL)) < 0 || (error = make_signature(&sig, actor.ptr, now_ms())) < 0)
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
	error = ref_cas(s->repo, &commit, NULL, "bootmeta: init");
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

int bm_store_init(bm_store **out, const char *path)
{
	git_repository *repo = NULL;
	git_repository_init_options io = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	bm_store *s = NULL;
	struct stat st;
	int error;

	*out = NULL;
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
	if ((error = write_initial(s)) < 0) {
		bm_store_free(s);
		return error;
	}
	*out = s;
	return 0;
}

int bm_store_clone(bm_store **out, const char *url, const char *path)
{
	git_repository *repo = NULL;
	git_clone_options co = GIT_CLONE_OPTIONS_INIT;
	bm_store *s = NULL;
	int error;

	*out = NULL;
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
	tls_prepare(url);
	if (git_clone(&repo, url, path, &co) < 0)
		return git_fail(BM_EREMOTE, url);
	if ((error = store_new(&s, repo)) < 0)
		return error;
	/* fetches keep a remote-tracking ref; main follows it */
	{
		git_config *cfg = NULL;
		if (git_repository_config(&cfg, repo) == 0) {
			git_config_set_string(cfg, "remote.origin.fetch", "+refs/heads/main:" ORIGIN_REF);
			git_config_free(cfg);
		}
		git_error_clear();
	}
	if ((error = load_remote(s)) < 0 || (error = fetch_origin(s)) < 0 || (error = check_format(s)) < 0) {
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
	    git_graph_descendant_of(store->repo, &local, &origin) == 1)
		return bm_error_set(BM_ECONFLICT, "local main has commits the remote does not have; run `bootmeta push` first");
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
	error = store->remote_is_local ? push_local(store, &local, has_origin ? &origin : NULL) : push_network(store);
	if (error == BM_ECONFLICT)
		return bm_error_set(BM_ECONFLICT, "the remote moved; run `bootmeta pull` and write again");
	if (error == 0) {
		git_reference *ref = NULL;
		if (git_reference_create(&ref, store->repo, ORIGIN_REF, &local, 1, "bootmeta: pushed") == 0)
			git_reference_free(ref);
		git_error_clear();
	}
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
	const char *env = getenv("BOOTMETA_ACTOR");
	git_config *cfg = NULL;
	int error = 0;

	bm_buf_clear(out);
	if (flag && *flag)
		return bm_buf_puts(out, flag);
	if (env && *env)
		return bm_buf_puts(out, env);
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
