/* diff.c: what changed between two commits of the meta repo (bootmeta/diff.h), for the
 * server's watch events and compare-and-swap checks. Reads through libgit2; writes
 * nothing. */
#include "bootmeta/diff.h"
#include "store_int.h"

#include <string.h>

static int gfail(int code, const char *what)
{
	const git_error *e = git_error_last();
	if (e && e->klass == GIT_ERROR_NOMEMORY)
		return bm_error_set(BM_ENOMEM, "%s: out of memory", what);
	return bm_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static void to_git(git_oid *g, const bm_oid *o)
{
	memcpy(g->id, o->id, 20);
}

static void from_git(bm_oid *o, const git_oid *g)
{
	memcpy(o->id, g->id, 20);
}

/* The tree of `commit` (NULL: the tip; *out NULL when the repo has no commit yet). */
static int commit_tree(git_tree **out, git_repository *repo, const bm_oid *commit)
{
	git_commit *c = NULL;
	git_oid id;
	int rc;
	*out = NULL;
	if (commit)
		to_git(&id, commit);
	else if ((rc = git_reference_name_to_id(&id, repo, "refs/heads/main")) < 0)
		return rc == GIT_ENOTFOUND ? 0 : gfail(BM_ERROR, "reading refs/heads/main");
	if ((rc = git_commit_lookup(&c, repo, &id)) < 0) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &id);
		return rc == GIT_ENOTFOUND ? bm_error_set(BM_ENOTFOUND, "commit %s is not in the meta repo", hex)
					   : gfail(BM_ERROR, "reading a commit");
	}
	rc = git_commit_tree(out, c);
	git_commit_free(c);
	return rc < 0 ? gfail(BM_ERROR, "reading a commit's tree") : 0;
}

int bm_store_path_id(bm_oid *out, bm_store *store, const bm_oid *commit, const char *path)
{
	git_repository *repo = bm__store_repo(store);
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	size_t n = path ? strlen(path) : 0;
	int error, rc;
	char *p = NULL;

	memset(out, 0, sizeof(*out));
	if ((error = commit_tree(&t, repo, commit)) < 0)
		return error;
	if (!t)
		return bm_error_set(BM_ENOTFOUND, "the meta repo has no commit yet");
	if (n == 0) {
		from_git(out, git_tree_id(t));
		goto done;
	}
	if (!(p = strdup(path))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	while (n > 0 && p[n - 1] == '/')
		p[--n] = '\0';
	if ((rc = git_tree_entry_bypath(&e, t, p)) < 0)
		error = rc == GIT_ENOTFOUND ? bm_error_set(BM_ENOTFOUND, "%s: not in the meta repo", p)
					    : gfail(BM_ERROR, "reading a tree");
	else
		from_git(out, git_tree_entry_id(e));
done:
	git_tree_entry_free(e);
	git_tree_free(t);
	free(p);
	return error;
}

typedef struct {
	bm_strlist *out;
	const char *prefix;
	size_t plen, max, added;
	int error;
} changed_ctx;

static int under(const char *path, const char *prefix, size_t plen)
{
	if (plen == 0)
		return 1;
	if (strncmp(path, prefix, plen))
		return 0;
	/* "a/b" covers "a/b" and "a/b/..." but not "a/bc" */
	return path[plen] == '\0' || path[plen] == '/' || prefix[plen - 1] == '/';
}

static int on_delta(const git_diff_delta *d, float progress, void *payload)
{
	changed_ctx *c = payload;
	const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
	(void)progress;
	if (!path || !under(path, c->prefix, c->plen))
		return 0;
	if (c->max && c->added >= c->max) {
		c->error = bm_error_set(BM_ETOOBIG, "more than %zu paths changed", c->max);
		return GIT_EUSER;
	}
	if ((c->error = bm_strlist_add(c->out, path)) < 0)
		return GIT_EUSER;
	c->added++;
	return 0;
}

int bm_store_changed(bm_strlist *out, bm_store *store, const bm_oid *from, const bm_oid *to, const char *prefix,
		     size_t max)
{
	git_repository *repo = bm__store_repo(store);
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	changed_ctx c = { out, prefix ? prefix : "", 0, max, 0, 0 };
	char *pathspec = NULL;
	int error = 0, rc;

	c.plen = strlen(c.prefix);
	if (from && (error = commit_tree(&a, repo, from)) < 0)
		goto done;
	if ((error = commit_tree(&b, repo, to)) < 0)
		goto done;
	if (c.plen) {
		/* let libgit2 skip the trees outside the prefix: a literal pathspec of the folder */
		size_t n = c.plen;
		if (!(pathspec = strdup(c.prefix))) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		while (n > 0 && pathspec[n - 1] == '/')
			pathspec[--n] = '\0';
		if (n) {
			o.pathspec.strings = &pathspec;
			o.pathspec.count = 1;
			o.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
		}
	}
	if (git_diff_tree_to_tree(&diff, repo, a, b, &o) < 0) {
		error = gfail(BM_ERROR, "comparing two commits");
		goto done;
	}
	rc = git_diff_foreach(diff, on_delta, NULL, NULL, NULL, &c);
	if (rc == GIT_EUSER)
		error = c.error;
	else if (rc < 0)
		error = gfail(BM_ERROR, "comparing two commits");
	if (!error || error == BM_ETOOBIG)
		bm_strlist_sort(out);
done:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	free(pathspec);
	return error;
}

int bm_store_is_ancestor(int *out, bm_store *store, const bm_oid *ancestor, const bm_oid *commit)
{
	git_repository *repo = bm__store_repo(store);
	git_oid a, c;
	git_commit *probe = NULL;
	int rc;
	*out = 0;
	to_git(&a, ancestor);
	to_git(&c, commit);
	if (git_oid_equal(&a, &c)) {
		*out = 1;
		return 0;
	}
	if ((rc = git_commit_lookup(&probe, repo, &a)) < 0) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &a);
		return rc == GIT_ENOTFOUND ? bm_error_set(BM_ENOTFOUND, "commit %s is not in the meta repo", hex)
					   : gfail(BM_ERROR, "reading a commit");
	}
	git_commit_free(probe);
	if ((rc = git_graph_descendant_of(repo, &c, &a)) < 0)
		return gfail(BM_ERROR, "walking the history");
	*out = rc;
	return 0;
}

int bm_store_parent(bm_oid *out, bm_store *store, const bm_oid *commit)
{
	git_repository *repo = bm__store_repo(store);
	git_commit *c = NULL;
	git_oid id;
	int rc, error = 0;
	to_git(&id, commit);
	if ((rc = git_commit_lookup(&c, repo, &id)) < 0)
		return rc == GIT_ENOTFOUND ? bm_error_set(BM_ENOTFOUND, "not a commit of the meta repo")
					   : gfail(BM_ERROR, "reading a commit");
	if (git_commit_parentcount(c) == 0)
		error = bm_error_set(BM_ENOTFOUND, "the first commit has no parent");
	else
		from_git(out, git_commit_parent_id(c, 0));
	git_commit_free(c);
	return error;
}

int bm_store_commit_message(bm_buf *out, bm_store *store, const bm_oid *commit)
{
	git_repository *repo = bm__store_repo(store);
	git_commit *c = NULL;
	git_oid id;
	int rc, error;
	to_git(&id, commit);
	if ((rc = git_commit_lookup(&c, repo, &id)) < 0)
		return rc == GIT_ENOTFOUND ? bm_error_set(BM_ENOTFOUND, "not a commit of the meta repo")
					   : gfail(BM_ERROR, "reading a commit");
	bm_buf_clear(out);
	error = bm_buf_puts(out, git_commit_message(c) ? git_commit_message(c) : "");
	git_commit_free(c);
	return error;
}
