/* meta.c: the core records as operations (projects, releases, binaries; channels in
 * channel.c, trace in trace.c, signed binaries in trust.c).
 * Each write validates its input before any path is built, then runs one transaction that
 * checks its references on the tree it runs on (so a re-run after a conflict sees the new
 * state: a promotion picks the next free sequence number), and adds record files only. */
#define _GNU_SOURCE
#include "bootmeta/meta.h"
#include "bootmeta/names.h"
#include "bootmeta/record.h"
#include "meta_int.h"
#include "optcheck.h"
#include "bootmeta/text.h"
#include "bootmeta/buildinfo.h"
#include "bootmeta/utf8.h"
#include "recio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>
#include <sodium.h>

void bm_meta_free(void *record)
{
	if (record)
		protobuf_c_message_free_unpacked((ProtobufCMessage *)record, NULL);
}

/* ---- checks of values that are not names ---- */

/* Free text (a note, a reason, a description): one line, bounded (bootmeta/text.h). */
int bm__text_check(const char *s, const char *what)
{
	char the[64];
	snprintf(the, sizeof(the), "the %s", what);
	return s ? bm_text_check(s, strlen(s), BM_TEXT_LINE, BM_META_TEXT_MAX, the) : 0;
}

int bm__token_check(const char *s, const char *what, const char *example)
{
	const char *p;
	if (!s || !*s)
		return bm_error_set(BM_EINVALID, "missing %s (e.g. %s)", what, example);
	if (strlen(s) > 32)
		return bm_error_set(BM_EINVALID, "%s \"%.40s...\" is over 32 characters", what, s);
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return bm_error_set(BM_EINVALID, "%s \"%s\" may only hold a-z, 0-9 and . _ - (e.g. %s)", what,
					    s, example);
	return 0;
}

/* The authority of a scheme URL holds a password: "https://user:secret@host/...". */
static int url_has_password(const char *url, const char **auth_start, const char **at)
{
	const char *s = strstr(url, "://"), *end, *a;
	if (!s)
		return 0;
	s += 3;
	end = s + strcspn(s, "/?#");
	for (a = end; a > s; a--)
		if (a[-1] == '@')
			break;
	if (a == s)
		return 0;
	*auth_start = s;
	*at = a - 1;
	return memchr(s, ':', (size_t)(a - 1 - s)) != NULL;
}

static int url_check(const char *url, const char *what)
{
	const char *p, *s, *at;
	if (!url || !*url)
		return bm_error_set(BM_EINVALID, "empty %s", what);
	if (strlen(url) > BM_META_URL_MAX)
		return bm_error_set(BM_EINVALID, "%s is %zu characters long, over the limit of %d", what, strlen(url),
				    BM_META_URL_MAX);
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return bm_error_set(BM_EINVALID, "%s \"%s\" contains a space or control character (0x%02x) at "
							 "offset %zu", what, url, (unsigned char)*p, (size_t)(p - url));
	if (!bm_utf8_valid(url, strlen(url)))
		return bm_error_set(BM_EINVALID, "%s is not valid UTF-8", what);
	if (url_has_password(url, &s, &at))
		return bm_error_set(BM_EINVALID, "%s carries a password (user:password@); leave credentials out "
						 "of the meta repo", what);
	return 0;
}

int bm_commit_hash_check(const char *commit)
{
	size_t i, n = commit ? strlen(commit) : 0;
	if (n != 40 && n != 64)
		return bm_error_set(BM_EINVALID, "commit \"%s\" is not a full commit hash (40 or 64 hex digits, "
						 "have %zu); give the whole hash, e.g. from `git rev-parse HEAD`",
				    commit ? commit : "", n);
	for (i = 0; i < n; i++)
		if (!((commit[i] >= '0' && commit[i] <= '9') || (commit[i] >= 'a' && commit[i] <= 'f') ||
		      (commit[i] >= 'A' && commit[i] <= 'F')))
			return bm_error_set(BM_EINVALID, "commit \"%s\" has a non-hex character '%c' at offset %zu",
					    commit, commit[i], i);
	return 0;
}

int bm_sha256_check(const char *sha256)
{
	size_t i, n = sha256 ? strlen(sha256) : 0;
	if (n != 64)
		return bm_error_set(BM_EINVALID, "\"%s\" is not a sha256 (64 lower-case hex digits)", sha256 ? sha256 : "");
	for (i = 0; i < n; i++)
		if (!((sha256[i] >= '0' && sha256[i] <= '9') || (sha256[i] >= 'a' && sha256[i] <= 'f')))
			return bm_error_set(BM_EINVALID, "\"%s\" is not a sha256 (64 lower-case hex digits)", sha256);
	return 0;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
}

int bm_project_name_check(const char *project)
{
	/* names.c also refuses the layout's folder keywords ("releases", "channels" ...) */
	return bm_name_validate(project, BM_NAME_PROJECT);
}

/* ---- paths ---- */

int bm_path_project(bm_buf *out, const char *project)
{
	int error;
	if ((error = bm_project_name_check(project)) < 0)
		return error;
	bm_buf_clear(out);
	return bm_buf_printf(out, "projects/%s/project.pb", project);
}

int bm_path_release(bm_buf *out, const char *project, const char *release)
{
	int error;
	if ((error = bm_project_name_check(project)) < 0 || (error = bm_name_validate(release, BM_NAME_RELEASE)) < 0)
		return error;
	bm_buf_clear(out);
	return bm_buf_printf(out, "projects/%s/releases/%s.pb", project, release);
}

int bm_path_binary(bm_buf *out, const char *sha256)
{
	int error;
	if ((error = bm_sha256_check(sha256)) < 0)
		return error;
	bm_buf_clear(out);
	return bm_buf_printf(out, "binaries/%.2s/%s.pb", sha256, sha256);
}

/* ---- reading records ---- */

/* Turn the bytes a write committed into the caller's copy of the record. */
int bm__unpack_out(void **out, const ProtobufCMessageDescriptor *d, const bm_buf *packed)
{
	if (!out)
		return 0;
	*out = protobuf_c_message_unpack(d, NULL, packed->size, (const uint8_t *)packed->ptr);
	return *out ? 0 : bm_error_set(BM_ENOMEM, "out of memory");
}

int bm__actor_check(bm_txn *txn)
{
	if (bm_actor_check(bm_txn_actor(txn)) < 0)
		return bm_error_set_about(BM_ABOUT_ACTOR, NULL);
	return 0;
}

int bm__project_must_exist(bm_fs *fs, const char *project)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm_path_project(&p, project)) == 0 && bm_fs_exists(fs, p.ptr) != 1) {
		bm_error_set(BM_ENOTFOUND, "no project \"%s\" in the meta repo", project);
		error = bm_error_set_about(BM_ABOUT_PROJECT, project);
	}
	bm_buf_dispose(&p);
	return error;
}

int bm__release_must_exist(bm_fs *fs, const char *project, const char *release)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm__project_must_exist(fs, project)) < 0)
		return error;
	if ((error = bm_path_release(&p, project, release)) == 0 && bm_fs_exists(fs, p.ptr) != 1) {
		bm_error_set(BM_ENOTFOUND, "no release \"%s\" of project %s", release, project);
		error = bm_error_set_about(BM_ABOUT_RELEASE, project);
	}
	bm_buf_dispose(&p);
	return error;
}

void bm__write_opts(bm_write_options *w, const bm_write_options *given)
{
	bm_write_options init = BM_WRITE_OPTIONS_INIT;
	*w = given ? *given : init;
}

/* ---- projects ---- */

typedef struct {
	const char *name;
	const bm_project_options *o;
	bm_buf packed;
} project_ctx;

static int project_txn(bm_txn *txn, void *payload)
{
	project_ctx *c = payload;
	Bootmeta__V1__Project p = BOOTMETA__V1__PROJECT__INIT;
	bm_buf path = BM_BUF_INIT;
	int error;

	if ((error = bm__actor_check(txn)) < 0 || (error = bm_path_project(&path, c->name)) < 0)
		goto done;
	if (bm_fs_exists(bm_txn_fs(txn), path.ptr)) {
		bm_error_set(BM_EEXISTS, "project %s already exists; projects are never rewritten", c->name);
		error = bm_error_set_about(BM_ABOUT_PROJECT, c->name);
		goto done;
	}
	p.name = (char *)c->name;
	p.n_sources = c->o->nsources;
	p.sources = (char **)c->o->sources;
	p.n_owners = c->o->nowners;
	p.owners = (char **)c->o->owners;
	p.description = (char *)(c->o->description ? c->o->description : "");
	p.created_ms = bm_txn_time_ms(txn);
	p.actor = (char *)bm_txn_actor(txn);
	if ((error = bm__rec_pack(&c->packed, &p.base)) < 0 || (error = bm_txn_add(txn, path.ptr, c->packed.ptr, c->packed.size)) < 0)
		goto done;
	error = bm_txn_message(txn, "project add %s", c->name);
done:
	bm_buf_dispose(&path);
	return error;
}

int bm_project_add(Bootmeta__V1__Project **out, bm_oid *out_commit, bm_store *store, const char *name,
		   const bm_project_options *opts)
{
	bm_project_options defaults = BM_PROJECT_OPTIONS_INIT;
	project_ctx c = { name, NULL, BM_BUF_INIT };
	bm_write_options w;
	size_t i;
	int error;

	if (out)
		*out = NULL;
	c.o = opts ? opts : &defaults;
	if (c.o->version != BM_PROJECT_OPTIONS_VERSION)
		return bm_error_set(BM_EINVALID, "bm_project_options version %u not supported", c.o->version);
	if ((error = bm_project_name_check(name)) < 0)
		return error;
	if (c.o->nsources > BM_META_MAX_SOURCES)
		return bm_error_set(BM_EINVALID, "%zu sources, over the limit of %d", c.o->nsources, BM_META_MAX_SOURCES);
	for (i = 0; i < c.o->nsources; i++)
		if ((error = url_check(c.o->sources[i], "source URL")) < 0)
			return error;
	for (i = 0; i < c.o->nowners; i++)
		if ((error = bm__text_check(c.o->owners[i], "owner")) < 0)
			return error;
	if ((error = bm__text_check(c.o->description, "description")) < 0)
		return error;
	bm__write_opts(&w, c.o->write);
	if ((error = bm_store_write(out_commit, store, project_txn, &c, &w)) == 0)
		error = bm__unpack_out((void **)out, &bootmeta__v1__project__descriptor, &c.packed);
	bm_buf_dispose(&c.packed);
	return error;
}

int bm_project_get(Bootmeta__V1__Project **out, bm_fs *fs, const char *name)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	*out = NULL;
	if ((error = bm_path_project(&p, name)) < 0)
		goto done;
	if (bm_fs_exists(fs, p.ptr) != 1) {
		bm_error_set(BM_ENOTFOUND, "no project \"%s\" in the meta repo", name);
		error = bm_error_set_about(BM_ABOUT_PROJECT, name);
		goto done;
	}
	error = bm__rec_read((ProtobufCMessage **)out, fs, p.ptr, &bootmeta__v1__project__descriptor);
done:
	bm_buf_dispose(&p);
	return error;
}

static int project_walk(bm_strlist *out, bm_fs *fs, const char *dir, const char *name, int depth)
{
	bm_strlist l = BM_STRLIST_INIT;
	size_t i;
	int error, is_project = 0;

	if ((error = bm_fs_list(&l, fs, dir)) < 0)
		goto done;
	for (i = 0; i < l.count; i++)
		if (!strcmp(l.items[i], "project.pb"))
			is_project = 1;
	if (is_project && *name && (error = bm_strlist_add(out, name)) < 0)
		goto done;
	if (depth >= 8)
		goto done;
	for (i = 0; i < l.count && !error; i++) {
		size_t n = strlen(l.items[i]);
		bm_buf sub = BM_BUF_INIT, subname = BM_BUF_INIT;
		if (n < 2 || l.items[i][n - 1] != '/')
			continue;
		if (is_project && (!strcmp(l.items[i], "releases/") || !strcmp(l.items[i], "channels/")))
			continue;
		error = bm_buf_printf(&sub, "%s/%.*s", dir, (int)(n - 1), l.items[i]);
		if (!error)
			error = *name ? bm_buf_printf(&subname, "%s/%.*s", name, (int)(n - 1), l.items[i])
				      : bm_buf_printf(&subname, "%.*s", (int)(n - 1), l.items[i]);
		if (!error)
			error = project_walk(out, fs, sub.ptr, subname.ptr, depth + 1);
		bm_buf_dispose(&sub);
		bm_buf_dispose(&subname);
	}
done:
	bm_strlist_dispose(&l);
	return error;
}

int bm_project_list(bm_strlist *out, bm_fs *fs)
{
	int error;
	if (bm_fs_exists(fs, "projects") != 2)
		return 0;
	if ((error = project_walk(out, fs, "projects", "", 0)) == 0)
		bm_strlist_sort(out);
	return error;
}

/* ---- releases ---- */

int bm_source_parse(bm_buf *url, bm_buf *commit, const char *spec)
{
	const char *at = spec ? strrchr(spec, '@') : NULL;
	int error;
	if (!at || at == spec || !at[1]) {
		/* "git@host:repo" without a commit has an '@' too: the commit must look like one */
		return bm_error_set(BM_EINVALID, "source \"%s\" is not URL@COMMIT; give the source repo and the full "
						 "commit hash it was built from, e.g. https://git.example.com/app.git@$(git "
						 "rev-parse HEAD)", spec ? spec : "");
	}
	bm_buf_clear(url);
	bm_buf_clear(commit);
	if ((error = bm_buf_put(url, spec, (size_t)(at - spec))) < 0 || (error = bm_buf_puts(commit, at + 1)) < 0)
		return error;
	if ((error = bm_commit_hash_check(commit->ptr)) < 0) {
		if (strlen(at + 1) != 40 && strlen(at + 1) != 64 && strchr(at + 1, ':'))
			return bm_error_set(BM_EINVALID, "source \"%s\" is not URL@COMMIT (no commit after the last "
							 "'@'); append @<full commit hash>", spec);
		return bm_error_prefix(error, "source \"%s\"", spec);
	}
	lower(commit->ptr);
	if ((error = url_check(url->ptr, "source URL")) < 0)
		return error;
	return 0;
}

/* Drop "user[:password]@" from a scheme URL: CI checkouts often carry a token there. */
static int url_strip_userinfo(bm_buf *out, const char *url)
{
	const char *s = strstr(url, "://"), *end, *a;
	bm_buf_clear(out);
	if (s) {
		s += 3;
		end = s + strcspn(s, "/?#");
		for (a = end; a > s; a--)
			if (a[-1] == '@')
				break;
		if (a > s) {
			int error = bm_buf_put(out, url, (size_t)(s - url));
			return error < 0 ? error : bm_buf_puts(out, a);
		}
	}
	return bm_buf_puts(out, url);
}

static int git_error_to_bm(int code, const char *what)
{
	const git_error *e = git_error_last();
	return bm_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int bm_source_from_dir(bm_buf *url, bm_buf *commit, const char *dir, int allow_dirty)
{
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_status_list *st = NULL;
	git_oid head;
	char hex[GIT_OID_HEXSZ + 1];
	int error = 0, rc;

	bm_buf_clear(url);
	bm_buf_clear(commit);
	if (!dir || !*dir)
		return bm_error_set(BM_EINVALID, "the checkout folder of a source is empty");
	if ((rc = git_repository_open_ext(&repo, dir, 0, NULL)) < 0) {
		if (rc == GIT_ENOTFOUND) {
			bm_error_set(BM_ENOTFOUND, "%s is not in a git checkout", dir);
			error = bm_error_set_about(BM_ABOUT_SOURCE_DIR, dir);
		} else {
			error = git_error_to_bm(BM_EIO, dir);
		}
		goto done;
	}
	if ((rc = git_reference_name_to_id(&head, repo, "HEAD")) < 0) {
		error = bm_error_set(BM_EINVALID, "%s: HEAD has no commit yet; commit first", dir);
		goto done;
	}
	git_oid_tostr(hex, sizeof(hex), &head);
	if ((error = bm_buf_puts(commit, hex)) < 0)
		goto done;
	if (git_remote_lookup(&remote, repo, "origin") == 0 && git_remote_url(remote)) {
		error = url_strip_userinfo(url, git_remote_url(remote));
	} else {
		char real[PATH_MAX];
		const char *base = git_repository_workdir(repo) ? git_repository_workdir(repo) : git_repository_path(repo);
		size_t n;
		git_error_clear();
		if (!realpath(base, real)) {
			error = bm_error_set(BM_EIO, "%s: %s", base, strerror(errno));
			goto done;
		}
		n = strlen(real);
		while (n > 1 && real[n - 1] == '/')
			real[--n] = '\0';
		error = bm_buf_printf(url, "file://%s", real);
	}
	if (error < 0 || (error = url_check(url->ptr, "origin URL")) < 0)
		goto done;
	if (!allow_dirty && !git_repository_is_bare(repo)) {
		git_status_options so = GIT_STATUS_OPTIONS_INIT;
		so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
		so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES; /* tracked files only: build outputs are fine */
		if (git_status_list_new(&st, repo, &so) < 0) {
			error = git_error_to_bm(BM_EIO, dir);
			goto done;
		}
		if (git_status_list_entrycount(st) > 0) {
			const git_status_entry *e = git_status_byindex(st, 0);
			const char *p = e->head_to_index ? e->head_to_index->new_file.path
				      : e->index_to_workdir ? e->index_to_workdir->new_file.path : "?";
			bm_error_set(BM_EINVALID, "%s has uncommitted changes (%zu files, e.g. %s), so HEAD is not what "
						  "was built", dir, git_status_list_entrycount(st), p);
			error = bm_error_set_about(BM_ABOUT_DIRTY_SOURCE, dir);
			goto done;
		}
	}
done:
	git_status_list_free(st);
	git_remote_free(remote);
	git_repository_free(repo);
	return error;
}

/* The checks of a release's options that need no source read. */
static int release_opts_check(const char *project, const bm_release_options *opts)
{
	int error;
	if (!opts)
		return bm_error_set(BM_EINVALID, "bm_release_options missing: a release needs its sources");
	if ((error = BM_OPTS_CHECK(opts, BM_RELEASE_OPTIONS_VERSION, "bm_release_options")) < 0)
		return error;
	if ((error = bm_project_name_check(project)) < 0)
		return error;
	if (opts->nsources == 0)
		return bm_error_set(BM_EINVALID, "a release needs at least one source (a URL and commit, or a "
						 "checkout folder), one for every repo it was built from");
	if (opts->nsources > BM_META_MAX_SOURCES)
		return bm_error_set(BM_EINVALID, "%zu sources, over the limit of %d", opts->nsources, BM_META_MAX_SOURCES);
	if ((error = bm__text_check(opts->release_version, "version")) < 0 ||
	    (error = bm_stamp_version_check(opts->release_version)) < 0 || (error = bm__text_check(opts->note, "note")) < 0)
		return error;
	return 0;
}

/* Every source as URL and lower-case commit, each repo once; then the id and the imports.
 * A checkout folder (bm_source.dir) is read only when `allow_dir`. */
static int release_sources(bm_strlist *urls, bm_strlist *commits, const char **id, const bm_release_options *opts,
			   int allow_dir)
{
	bm_buf url = BM_BUF_INIT, commit = BM_BUF_INIT;
	size_t i, j;
	int error = 0;

	for (i = 0; i < opts->nsources; i++) {
		const bm_source *s = &opts->sources[i];
		if (s->dir && !allow_dir) {
			error = bm_error_set(BM_EINVALID, "source %zu is a checkout folder (%s); a transaction takes "
							  "sources as URL and commit", i + 1, s->dir);
			goto done;
		}
		if (s->dir) {
			if ((error = bm_source_from_dir(&url, &commit, s->dir, opts->allow_dirty)) < 0)
				goto done;
		} else {
			bm_buf_clear(&url);
			bm_buf_clear(&commit);
			if ((error = url_check(s->url, "source URL")) < 0 || (error = bm_commit_hash_check(s->commit)) < 0 ||
			    (error = bm_buf_puts(&url, s->url)) < 0 || (error = bm_buf_puts(&commit, s->commit)) < 0)
				goto done;
			lower(commit.ptr);
		}
		for (j = 0; j < urls->count; j++)
			if (!strcmp(urls->items[j], url.ptr)) {
				error = bm_error_set(BM_EINVALID, "source %s is given twice; a release names each source "
								  "repo once, at the commit it was built from", url.ptr);
				goto done;
			}
		if ((error = bm_strlist_add(urls, url.ptr)) < 0 || (error = bm_strlist_add(commits, commit.ptr)) < 0)
			goto done;
	}
	*id = opts->id ? opts->id : commits->items[0];
	if ((error = bm_name_validate(*id, BM_NAME_RELEASE)) < 0)
		goto done;
	if (opts->nimports > BM_IMPORTS_MAX) {
		error = bm_error_set(BM_ETOOBIG, "%zu imports, over the limit of %d", opts->nimports, BM_IMPORTS_MAX);
		goto done;
	}
	for (i = 0; i < opts->nimports; i++) {
		if ((error = bm_name_validate(opts->imports[i].module, BM_NAME_MODULE)) < 0 ||
		    (error = bm__text_check(opts->imports[i].version, "import version")) < 0)
			goto done;
		for (j = 0; j < i; j++)
			if (!strcmp(opts->imports[j].module, opts->imports[i].module)) {
				error = bm_error_set(BM_EINVALID, "module %s is imported twice", opts->imports[i].module);
				goto done;
			}
	}
done:
	bm_buf_dispose(&url);
	bm_buf_dispose(&commit);
	return error;
}

int bm_release_add_txn(Bootmeta__V1__Release **out, bm_txn *txn, const char *project, const bm_release_options *opts)
{
	Bootmeta__V1__Release r = BOOTMETA__V1__RELEASE__INIT;
	Bootmeta__V1__Source *srcs = NULL, **psrcs = NULL;
	Bootmeta__V1__ModuleImport *imps = NULL, **pimps = NULL;
	bm_strlist urls = BM_STRLIST_INIT, commits = BM_STRLIST_INIT;
	bm_buf path = BM_BUF_INIT, packed = BM_BUF_INIT;
	const char *id = NULL;
	size_t i;
	int error;

	if (out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	if ((error = release_opts_check(project, opts)) < 0 ||
	    (error = release_sources(&urls, &commits, &id, opts, 0)) < 0)
		goto done;
	if ((error = bm__actor_check(txn)) < 0 || (error = bm__project_must_exist(bm_txn_fs(txn), project)) < 0 ||
	    (error = bm_path_release(&path, project, id)) < 0)
		goto done;
	if (bm_fs_exists(bm_txn_fs(txn), path.ptr)) {
		bm_error_set(BM_EEXISTS, "release %s of project %s already exists; releases are never rewritten", id,
			     project);
		error = bm_error_set_about(BM_ABOUT_RELEASE, project);
		goto done;
	}
	srcs = calloc(urls.count, sizeof(*srcs));
	psrcs = calloc(urls.count, sizeof(*psrcs));
	if (!srcs || !psrcs) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < urls.count; i++) {
		Bootmeta__V1__Source s = BOOTMETA__V1__SOURCE__INIT;
		s.url = urls.items[i];
		s.commit = commits.items[i];
		srcs[i] = s;
		psrcs[i] = &srcs[i];
	}
	r.project = (char *)project;
	r.id = (char *)id;
	r.n_sources = urls.count;
	r.sources = psrcs;
	r.version = (char *)(opts->release_version ? opts->release_version : "");
	r.note = (char *)(opts->note ? opts->note : "");
	r.created_ms = bm_txn_time_ms(txn);
	r.actor = (char *)bm_txn_actor(txn);
	if (opts->nimports) {
		imps = calloc(opts->nimports, sizeof(*imps));
		pimps = calloc(opts->nimports, sizeof(*pimps));
		if (!imps || !pimps) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		for (i = 0; i < opts->nimports; i++) {
			bootmeta__v1__module_import__init(&imps[i]);
			imps[i].module = (char *)opts->imports[i].module;
			imps[i].version = (char *)(opts->imports[i].version ? opts->imports[i].version : "");
			imps[i].indirect = opts->imports[i].indirect;
			pimps[i] = &imps[i];
		}
		r.imports = pimps;
		r.n_imports = opts->nimports;
		/* the reverse index, in the same commit as the release */
		if ((error = bm_module_index_add_txn(txn, project, id, opts->imports, opts->nimports)) < 0)
			goto done;
	}
	if ((error = bm__rec_pack(&packed, &r.base)) < 0 || (error = bm_txn_add(txn, path.ptr, packed.ptr, packed.size)) < 0)
		goto done;
	error = bm__unpack_out((void **)out, &bootmeta__v1__release__descriptor, &packed);
done:
	free(srcs);
	free(psrcs);
	free(imps);
	free(pimps);
	bm_strlist_dispose(&urls);
	bm_strlist_dispose(&commits);
	bm_buf_dispose(&path);
	bm_buf_dispose(&packed);
	return error;
}

typedef struct {
	const char *project;
	const bm_release_options *o; /* sources as URL and commit */
	Bootmeta__V1__Release *rec;
} release_ctx;

static int release_fn(bm_txn *txn, void *payload)
{
	release_ctx *c = payload;
	int error = bm_release_add_txn(&c->rec, txn, c->project, c->o);
	if (!error)
		error = bm_txn_message(txn, "release add %s %s", c->project, c->rec->id);
	return error;
}

int bm_release_add(Bootmeta__V1__Release **out, bm_oid *out_commit, bm_store *store, const char *project,
		   const bm_release_options *opts)
{
	release_ctx c = { project, NULL, NULL };
	bm_release_options resolved;
	bm_source *srcs = NULL;
	bm_strlist urls = BM_STRLIST_INIT, commits = BM_STRLIST_INIT;
	bm_write_options w;
	const char *id;
	size_t i;
	int error;

	if (out)
		*out = NULL;
	/* every check (a checkout folder read once, here) before the transaction, which takes
	 * the sources as URL and commit */
	if ((error = release_opts_check(project, opts)) < 0 ||
	    (error = release_sources(&urls, &commits, &id, opts, 1)) < 0)
		goto done;
	if (!(srcs = calloc(urls.count, sizeof(*srcs)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < urls.count; i++) {
		srcs[i].url = urls.items[i];
		srcs[i].commit = commits.items[i];
	}
	resolved = *opts;
	resolved.sources = srcs;
	resolved.nsources = urls.count;
	resolved.id = id;
	c.o = &resolved;
	bm__write_opts(&w, opts->write);
	error = bm_store_write(out_commit, store, release_fn, &c, &w);
	if (!error && out) {
		*out = c.rec;
		c.rec = NULL;
	}
done:
	bm_meta_free(c.rec);
	free(srcs);
	bm_strlist_dispose(&urls);
	bm_strlist_dispose(&commits);
	return error;
}

int bm_release_get(Bootmeta__V1__Release **out, bm_fs *fs, const char *project, const char *release)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	*out = NULL;
	if ((error = bm_path_release(&p, project, release)) < 0)
		goto done;
	if (bm_fs_exists(fs, p.ptr) != 1) {
		error = bm__project_must_exist(fs, project);
		if (!error) {
			bm_error_set(BM_ENOTFOUND, "no release \"%s\" of project %s", release, project);
			error = bm_error_set_about(BM_ABOUT_RELEASE, project);
		}
		goto done;
	}
	error = bm__rec_read((ProtobufCMessage **)out, fs, p.ptr, &bootmeta__v1__release__descriptor);
done:
	bm_buf_dispose(&p);
	return error;
}

static int strip_suffix_into(bm_strlist *out, const bm_strlist *in, const char *suffix)
{
	size_t i, sl = strlen(suffix);
	int error = 0;
	for (i = 0; i < in->count && !error; i++) {
		size_t n = strlen(in->items[i]);
		if (n > sl && !strcmp(in->items[i] + n - sl, suffix))
			error = bm_strlist_addn(out, in->items[i], n - sl);
	}
	return error;
}

/* The entries of projects/<project>/<folder> with `suffix` stripped; none when the folder
 * does not exist yet. */
int bm__project_folder_list(bm_strlist *out, bm_fs *fs, const char *project, const char *folder,
			       const char *suffix)
{
	bm_buf p = BM_BUF_INIT;
	bm_strlist l = BM_STRLIST_INIT;
	int error;
	if ((error = bm__project_must_exist(fs, project)) < 0)
		return error;
	if ((error = bm_buf_printf(&p, "projects/%s/%s", project, folder)) < 0)
		goto done;
	if ((error = bm_fs_list_or_empty(&l, fs, p.ptr)) == 0)
		error = strip_suffix_into(out, &l, suffix);
done:
	bm_strlist_dispose(&l);
	bm_buf_dispose(&p);
	return error;
}

int bm_release_list(bm_strlist *out, bm_fs *fs, const char *project)
{
	return bm__project_folder_list(out, fs, project, "releases", ".pb");
}

/* ---- binaries ---- */

int bm_file_sha256(char hex[65], uint64_t *size, const char *path)
{
	crypto_hash_sha256_state st;
	unsigned char h[32];
	unsigned char *chunk = NULL;
	uint64_t total = 0;
	int fd, error = 0;

	hex[0] = '\0';
	if ((error = bm_file_open_read(&fd, path, 0)) < 0)
		return error;
	if (!(chunk = malloc(1 << 16))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	crypto_hash_sha256_init(&st);
	for (;;) {
		ssize_t n = read(fd, chunk, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = bm_error_set(BM_EIO, "%s: cannot read: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&st, chunk, (unsigned long long)n);
		total += (uint64_t)n;
	}
	crypto_hash_sha256_final(&st, h);
	bm_hex_encode(hex, h, 32);
	if (size)
		*size = total;
done:
	free(chunk);
	close(fd);
	return error;
}

static int binary_options_check(const bm_binary_options *o)
{
	size_t i;
	int error;
	if (o->version != BM_BINARY_OPTIONS_VERSION)
		return bm_error_set(BM_EINVALID, "bm_binary_options version %u not supported", o->version);
	if ((o->os && (error = bm__token_check(o->os, "os", "linux")) < 0) ||
	    (o->arch && (error = bm__token_check(o->arch, "arch", "amd64")) < 0))
		return error;
	if (o->nurls > BM_META_MAX_URLS)
		return bm_error_set(BM_EINVALID, "%zu URLs, over the limit of %d", o->nurls, BM_META_MAX_URLS);
	for (i = 0; i < o->nurls; i++)
		if ((error = url_check(o->urls[i], "binary URL")) < 0)
			return error;
	if (o->sign_key && o->signature)
		return bm_error_set(BM_EINVALID, "give a key to sign with or a signature made elsewhere, not both");
	return 0;
}

int bm__binary_check(const char *project, const char *release, const bm_binary_options *opts)
{
	int error;
	if ((error = bm_project_name_check(project)) < 0 || (error = bm_name_validate(release, BM_NAME_RELEASE)) < 0)
		return error;
	return binary_options_check(opts);
}

int bm__binary_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project, const char *release,
		   const char *sha256, uint64_t size, const bm_binary_options *o, const char *signature,
		   const char *signer_key_id)
{
	Bootmeta__V1__Binary b = BOOTMETA__V1__BINARY__INIT;
	bm_buf path = BM_BUF_INIT, old = BM_BUF_INIT, packed = BM_BUF_INIT;
	int error;

	if (out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	if ((error = bm__binary_check(project, release, o)) < 0 || (error = bm_sha256_check(sha256)) < 0)
		return error;
	if ((error = bm__actor_check(txn)) < 0 || (error = bm__release_must_exist(bm_txn_fs(txn), project, release)) < 0 ||
	    (error = bm_path_binary(&path, sha256)) < 0)
		goto done;
	if (bm_fs_exists(bm_txn_fs(txn), path.ptr)) {
		Bootmeta__V1__Binary *prev = NULL;
		if (bm_fs_read(&old, bm_txn_fs(txn), path.ptr) == 0 &&
		    bm__rec_decode((ProtobufCMessage **)&prev, &bootmeta__v1__binary__descriptor, old.ptr, old.size, path.ptr) == 0) {
			error = bm_error_set(BM_EEXISTS, "binary %s is already recorded (project %s, release %s, %s/%s); "
							 "a binary's record is never rewritten", sha256, prev->project,
					     prev->release, prev->os, prev->arch);
			bm_meta_free(prev);
		} else {
			error = bm_error_set(BM_EEXISTS, "binary %s is already recorded (%s)", sha256, path.ptr);
		}
		goto done;
	}
	b.sha256 = (char *)sha256;
	b.size = size;
	b.os = (char *)(o->os ? o->os : "");
	b.arch = (char *)(o->arch ? o->arch : "");
	b.project = (char *)project;
	b.release = (char *)release;
	b.n_urls = o->nurls;
	b.urls = (char **)o->urls;
	b.created_ms = bm_txn_time_ms(txn);
	b.actor = (char *)bm_txn_actor(txn);
	b.signature = (char *)(signature ? signature : "");
	b.signer_key_id = (char *)(signer_key_id ? signer_key_id : "");
	if ((error = bm__rec_pack(&packed, &b.base)) < 0 || (error = bm_txn_add(txn, path.ptr, packed.ptr, packed.size)) < 0)
		goto done;
	error = bm__unpack_out((void **)out, &bootmeta__v1__binary__descriptor, &packed);
done:
	bm_buf_dispose(&old);
	bm_buf_dispose(&path);
	bm_buf_dispose(&packed);
	return error;
}

int bm__binary_message(bm_txn *txn, const Bootmeta__V1__Binary *b)
{
	return bm_txn_message(txn, "binary add %.16s (%s %s %s/%s)", b->sha256, b->project, b->release, b->os, b->arch);
}

static int digest_check(const char *project, const char *release, const char *sha256, const bm_binary_options *o)
{
	int error;
	if ((error = bm_project_name_check(project)) < 0 || (error = bm_name_validate(release, BM_NAME_RELEASE)) < 0 ||
	    (error = bm_sha256_check(sha256)) < 0 || (error = binary_options_check(o)) < 0)
		return error;
	if (o->sign_key || o->signature)
		return bm_error_set(BM_EINVALID, "a signature needs the file itself (minisign signs its bytes): use "
						 "bm_binary_add, bm_binary_add_digest_signed_txn (a .minisig whose trusted "
						 "comment names the sha256), or sign later with bm_binary_sign");
	return 0;
}

int bm_binary_add_digest_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project, const char *release,
			     const char *sha256, uint64_t size, const bm_binary_options *opts)
{
	bm_binary_options defaults = BM_BINARY_OPTIONS_INIT;
	const bm_binary_options *o = opts ? opts : &defaults;
	int error;
	if (out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	if ((error = digest_check(project, release, sha256, o)) < 0)
		return error;
	return bm__binary_txn(out, txn, project, release, sha256, size, o, NULL, NULL);
}

typedef struct {
	const char *project, *release, *sha256;
	uint64_t size;
	const bm_binary_options *o;
	Bootmeta__V1__Binary *rec;
} digest_ctx;

static int digest_fn(bm_txn *txn, void *payload)
{
	digest_ctx *c = payload;
	int error = bm_binary_add_digest_txn(&c->rec, txn, c->project, c->release, c->sha256, c->size, c->o);
	return error ? error : bm__binary_message(txn, c->rec);
}

int bm_binary_add_digest(Bootmeta__V1__Binary **out, bm_oid *out_commit, bm_store *store, const char *project,
			 const char *release, const char *sha256, uint64_t size, const bm_binary_options *opts)
{
	bm_binary_options defaults = BM_BINARY_OPTIONS_INIT;
	digest_ctx c = { project, release, sha256, size, NULL, NULL };
	bm_write_options w;
	int error;

	if (out)
		*out = NULL;
	c.o = opts ? opts : &defaults;
	if ((error = digest_check(project, release, sha256, c.o)) < 0)
		return error;
	bm__write_opts(&w, c.o->write);
	error = bm_store_write(out_commit, store, digest_fn, &c, &w);
	if (!error && out) {
		*out = c.rec;
		c.rec = NULL;
	}
	bm_meta_free(c.rec);
	return error;
}

int bm_binary_get(Bootmeta__V1__Binary **out, bm_fs *fs, const char *sha256)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	*out = NULL;
	if ((error = bm_path_binary(&p, sha256)) < 0)
		goto done;
	if (bm_fs_exists(fs, p.ptr) != 1) {
		bm_error_set(BM_ENOTFOUND, "no binary with sha256 %s is recorded", sha256);
		error = bm_error_set_about(BM_ABOUT_BINARY, sha256);
		goto done;
	}
	error = bm__rec_read((ProtobufCMessage **)out, fs, p.ptr, &bootmeta__v1__binary__descriptor);
done:
	bm_buf_dispose(&p);
	return error;
}

int bm_binary_find(Bootmeta__V1__Binary **out, size_t *candidates, bm_fs *fs, const char *project,
		   const char *release, const char *os, const char *arch)
{
	bm_strlist top = BM_STRLIST_INIT, sub = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT, data = BM_BUF_INIT;
	size_t i, j, n = 0;
	int error;

	*out = NULL;
	if (candidates)
		*candidates = 0;
	if ((error = bm_project_name_check(project)) < 0 || (error = bm_name_validate(release, BM_NAME_RELEASE)) < 0)
		return error;
	if ((error = bm_fs_list_or_empty(&top, fs, "binaries")) < 0)
		goto done;
	/* bucket order, then file order: the same binary every time when several match */
	for (i = 0; i < top.count; i++) {
		if (strlen(top.items[i]) != 3 || top.items[i][2] != '/')
			continue;
		bm_buf_clear(&dir);
		bm_strlist_dispose(&sub);
		if ((error = bm_buf_printf(&dir, "binaries/%s", top.items[i])) < 0 || (error = bm_fs_list(&sub, fs, dir.ptr)) < 0)
			goto done;
		for (j = 0; j < sub.count; j++) {
			Bootmeta__V1__Binary *b = NULL;
			if (strlen(sub.items[j]) != 67 || strcmp(sub.items[j] + 64, ".pb"))
				continue;
			bm_buf_clear(&path);
			bm_buf_clear(&data);
			if ((error = bm_buf_printf(&path, "%s%s", dir.ptr, sub.items[j])) < 0)
				goto done;
			if (bm_fs_read(&data, fs, path.ptr) < 0 ||
			    bm_record_decode((ProtobufCMessage **)&b, &bootmeta__v1__binary__descriptor, data.ptr, data.size) < 0) {
				bm_error_clear(); /* a damaged record is offered to nobody */
				continue;
			}
			if (!strcmp(b->project, project) && !strcmp(b->release, release) && (!os || !strcmp(b->os, os)) &&
			    (!arch || !strcmp(b->arch, arch)) && !strncmp(sub.items[j], b->sha256, 64)) {
				n++;
				if (!*out) {
					*out = b;
					continue;
				}
			}
			bm_record_free(&b->base);
		}
	}
	if (candidates)
		*candidates = n;
	if (!*out)
		error = bm_error_set(BM_ENOTFOUND, "release %s of %s has no binary for %s/%s", release, project,
				     os ? os : "any os", arch ? arch : "any arch");
done:
	if (error < 0 && *out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	bm_buf_dispose(&data);
	bm_buf_dispose(&path);
	bm_buf_dispose(&dir);
	bm_strlist_dispose(&sub);
	bm_strlist_dispose(&top);
	return error;
}
