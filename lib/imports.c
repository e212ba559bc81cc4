/* imports.c: module imports of releases, and the reverse index modules/<module>/+by/... that
 * dependents reads with a tree lookup. Reads releases and channel entries at the layout of
 * DESIGN.md: projects/<p>/releases/<id>.pb, projects/<p>/channels/<c>/<seq/1000>/<seq>.pb. */
#include "bootmeta/imports.h"
#include "error_int.h"
#include "bootmeta/names.h"
#include "recio.h"

#include <stdlib.h>
#include <string.h>

#include "bootmeta/v1/core.pb-c.h"

int bm_import_parse(bm_buf *module, bm_buf *version, const char *spec)
{
	const char *at = spec ? strrchr(spec, '@') : NULL;
	const char *p;
	int error;
	if (!at || at == spec || !at[1])
		return bm_error_set(BM_EINVALID, "import \"%s\" is not MODULE@VERSION (e.g. github.com/acme/lib@v1.4.2)",
				    spec ? spec : "");
	bm_buf_clear(module);
	bm_buf_clear(version);
	if ((error = bm_buf_put(module, spec, (size_t)(at - spec))) < 0 || (error = bm_buf_puts(version, at + 1)) < 0)
		return error;
	if ((error = bm_name_validate(module->ptr, BM_NAME_MODULE)) < 0)
		return bm_error_prefix(error, "import \"%s\"", spec);
	if (strlen(version->ptr) > 256)
		return bm_error_set(BM_EINVALID, "import \"%s\": the version is over 256 characters", spec);
	for (p = version->ptr; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return bm_error_set(BM_EINVALID, "import \"%s\": the version has a space, quote or control "
					    "character", spec);
	return 0;
}

int bm_module_index_path(bm_buf *out, const char *module, const char *project, const char *release)
{
	int error;
	if ((error = bm_name_validate(module, BM_NAME_MODULE)) < 0 ||
	    (error = bm_name_validate(project, BM_NAME_PROJECT)) < 0 ||
	    (error = bm_name_validate(release, BM_NAME_RELEASE)) < 0)
		return error;
	bm_buf_clear(out);
	return bm_buf_printf(out, "modules/%s/+by/%s/%s.pb", module, project, release);
}

int bm_module_index_add_txn(bm_txn *txn, const char *project, const char *release, const bm_module_import *imports,
			    size_t n)
{
	bm_buf path = BM_BUF_INIT;
	size_t i, j;
	int error = 0;

	if (n > BM_IMPORTS_MAX)
		return bm_error_set(BM_ETOOBIG, "%zu imports, over the limit of %d", n, BM_IMPORTS_MAX);
	for (i = 0; i < n; i++) {
		if ((error = bm_module_index_path(&path, imports[i].module, project, release)) < 0)
			goto done;
		for (j = 0; j < i; j++)
			if (!strcmp(imports[j].module, imports[i].module)) {
				error = bm_error_set(BM_EINVALID, "module %s is imported twice", imports[i].module);
				goto done;
			}
	}
	for (i = 0; i < n; i++) {
		Bootmeta__V1__ModuleRef r = BOOTMETA__V1__MODULE_REF__INIT;
		r.module = (char *)imports[i].module;
		r.version = (char *)(imports[i].version ? imports[i].version : "");
		r.project = (char *)project;
		r.release = (char *)release;
		r.indirect = imports[i].indirect;
		if ((error = bm_module_index_path(&path, imports[i].module, project, release)) < 0 ||
		    (error = bm__rec_add(txn, path.ptr, &r.base)) < 0)
			goto done;
	}
done:
	bm_buf_dispose(&path);
	return error;
}

void bm_module_refs_dispose(bm_module_refs *refs)
{
	size_t i;
	if (!refs)
		return;
	for (i = 0; i < refs->count; i++) {
		free(refs->items[i].module);
		free(refs->items[i].version);
		free(refs->items[i].project);
		free(refs->items[i].release);
		bm_strlist_dispose(&refs->items[i].channels);
	}
	free(refs->items);
	memset(refs, 0, sizeof(*refs));
}

static int refs_push(bm_module_refs *r, const char *module, const char *version, const char *project,
		     const char *release, int indirect)
{
	bm_module_ref *p = realloc(r->items, (r->count + 1) * sizeof(*p)), *e;
	int error;
	if (!p)
		return bm_error_set(BM_ENOMEM, "out of memory");
	r->items = p;
	e = &r->items[r->count];
	memset(e, 0, sizeof(*e));
	r->count++;
	e->indirect = indirect;
	if ((error = bm__strdup(&e->module, module)) < 0 || (error = bm__strdup(&e->version, version)) < 0 ||
	    (error = bm__strdup(&e->project, project)) < 0 || (error = bm__strdup(&e->release, release)) < 0)
		return error;
	return 0;
}

int bm_release_imports(bm_module_refs *out, bm_fs *fs, const char *project, const char *release)
{
	Bootmeta__V1__Release *r = NULL;
	bm_buf path = BM_BUF_INIT;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = bm_name_validate(project, BM_NAME_PROJECT)) < 0 ||
	    (error = bm_name_validate(release, BM_NAME_RELEASE)) < 0)
		return error;
	if ((error = bm_buf_printf(&path, "projects/%s/releases/%s.pb", project, release)) < 0)
		goto done;
	error = bm__rec_read((ProtobufCMessage **)&r, fs, path.ptr, &bootmeta__v1__release__descriptor);
	if (error == BM_ENOTFOUND) {
		bm_error_set(BM_ENOTFOUND, "%s has no release %s", project, release);
		error = bm_error_set_about(BM_ABOUT_RELEASE_ID, project);
	}
	if (error < 0)
		goto done;
	for (i = 0; i < r->n_imports; i++)
		if ((error = refs_push(out, r->imports[i]->module, r->imports[i]->version, project, release,
				       r->imports[i]->indirect)) < 0)
			goto done;
done:
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	if (error < 0)
		bm_module_refs_dispose(out);
	bm_buf_dispose(&path);
	return error;
}

int bm_channel_release(bm_buf *release, uint64_t *seq, bm_fs *fs, const char *project, const char *channel)
{
	bm_strlist l = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT;
	Bootmeta__V1__ChannelEntry *e = NULL;
	size_t i;
	int error;

	if ((error = bm_name_validate(project, BM_NAME_PROJECT)) < 0 ||
	    (error = bm_name_validate(channel, BM_NAME_CHANNEL)) < 0)
		return error;
	if ((error = bm_buf_printf(&dir, "projects/%s/channels/%s", project, channel)) < 0)
		goto done;
	/* the last bucket folder, then its last entry */
	if ((error = bm_fs_list(&l, fs, dir.ptr)) < 0)
		goto missing;
	for (i = l.count; i > 0 && l.items[i - 1][strlen(l.items[i - 1]) - 1] != '/'; i--)
		;
	if (!i)
		goto missing;
	if ((error = bm_buf_printf(&dir, "/%.*s", (int)strlen(l.items[i - 1]) - 1, l.items[i - 1])) < 0)
		goto done;
	bm_strlist_dispose(&l);
	if ((error = bm_fs_list(&l, fs, dir.ptr)) < 0 || !bm__last_pb(&l))
		goto missing;
	if ((error = bm_buf_printf(&dir, "/%s", bm__last_pb(&l))) < 0)
		goto done;
	if ((error = bm__rec_read((ProtobufCMessage **)&e, fs, dir.ptr, &bootmeta__v1__channel_entry__descriptor)) < 0)
		goto done;
	if (release) {
		bm_buf_clear(release);
		if ((error = bm_buf_puts(release, e->release)) < 0)
			goto done;
	}
	if (seq)
		*seq = e->seq;
	error = 0;
	goto done;
missing:
	bm_error_set(BM_ENOTFOUND, "%s has nothing on channel %s yet", project, channel);
	error = bm__about_words(BM_ABOUT_CHANNEL_RELEASE, project, channel, NULL);
done:
	if (e)
		protobuf_c_message_free_unpacked(&e->base, NULL);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&dir);
	return error;
}

typedef struct {
	bm_fs *fs;
	const char *module, *version;
	bm_module_refs *out;
	void (*bad)(const char *path, const char *error, void *payload);
	void *payload;
} walk_ctx;

/* Every record below `dir` (project folders nest). */
static int walk(walk_ctx *w, const char *dir, unsigned int depth)
{
	bm_strlist l = BM_STRLIST_INIT;
	bm_buf path = BM_BUF_INIT;
	size_t i;
	int error;

	if (depth > 10)
		return 0;
	if ((error = bm_fs_list(&l, w->fs, dir)) < 0)
		goto done;
	for (i = 0; i < l.count; i++) {
		size_t n = strlen(l.items[i]);
		Bootmeta__V1__ModuleRef *r = NULL;
		bm_buf_clear(&path);
		if (l.items[i][n - 1] == '/') {
			if ((error = bm_buf_printf(&path, "%s/%.*s", dir, (int)n - 1, l.items[i])) < 0 ||
			    (error = walk(w, path.ptr, depth + 1)) < 0)
				goto done;
			continue;
		}
		if (n < 4 || strcmp(l.items[i] + n - 3, ".pb"))
			continue;
		if ((error = bm_buf_printf(&path, "%s/%s", dir, l.items[i])) < 0)
			goto done;
		error = bm__rec_read((ProtobufCMessage **)&r, w->fs, path.ptr, &bootmeta__v1__module_ref__descriptor);
		if (error == BM_ECORRUPT || (!error && strcmp(r->module, w->module))) {
			if (w->bad)
				w->bad(path.ptr, error ? bm_error_last() : "names another module", w->payload);
			bm_error_clear();
			if (r)
				protobuf_c_message_free_unpacked(&r->base, NULL);
			error = 0;
			continue;
		}
		if (error < 0)
			goto done;
		if (!w->version || !strcmp(w->version, r->version))
			error = refs_push(w->out, r->module, r->version, r->project, r->release, r->indirect);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (error < 0)
			goto done;
	}
done:
	bm_strlist_dispose(&l);
	bm_buf_dispose(&path);
	return error;
}

int bm_dependents(bm_module_refs *out, bm_fs *fs, const char *module, const char *version,
		  void (*bad)(const char *path, const char *error, void *payload), void *payload)
{
	walk_ctx w = { fs, module, version, out, bad, payload };
	bm_buf dir = BM_BUF_INIT, rel = BM_BUF_INIT;
	bm_strlist chans = BM_STRLIST_INIT;
	size_t i, j, k;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = bm_name_validate(module, BM_NAME_MODULE)) < 0)
		return error;
	if ((error = bm_buf_printf(&dir, "modules/%s/+by", module)) < 0)
		goto done;
	if ((error = walk(&w, dir.ptr, 0)) < 0) {
		if (error == BM_ENOTFOUND) { /* nobody imports it */
			bm_error_clear();
			error = 0;
		}
		goto done;
	}
	/* channels: per project, each channel's current release */
	for (i = 0; i < out->count; i++) {
		if (i && !strcmp(out->items[i].project, out->items[i - 1].project))
			continue; /* done with this project (the walk lists a project's releases together) */
		bm_strlist_dispose(&chans);
		bm_buf_clear(&dir);
		if ((error = bm_buf_printf(&dir, "projects/%s/channels", out->items[i].project)) < 0)
			goto done;
		if (bm_fs_list(&chans, fs, dir.ptr) < 0) {
			bm_error_clear();
			continue;
		}
		for (j = 0; j < chans.count; j++) {
			size_t n = strlen(chans.items[j]);
			if (chans.items[j][n - 1] != '/')
				continue;
			chans.items[j][n - 1] = '\0';
			if (bm_channel_release(&rel, NULL, fs, out->items[i].project, chans.items[j]) < 0) {
				bm_error_clear();
				continue;
			}
			for (k = i; k < out->count && !strcmp(out->items[k].project, out->items[i].project); k++)
				if (!strcmp(out->items[k].release, rel.ptr) &&
				    (error = bm_strlist_add(&out->items[k].channels, chans.items[j])) < 0)
					goto done;
		}
	}
done:
	if (error < 0)
		bm_module_refs_dispose(out);
	bm_strlist_dispose(&chans);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&rel);
	return error;
}

int bm_stamp_for_release(bm_stamp **out, bm_fs *fs, const char *project, const char *release)
{
	Bootmeta__V1__Release *r = NULL;
	bm_stamp *st = NULL;
	bm_buf path = BM_BUF_INIT;
	char hex[BM_OID_HEXSZ + 1];
	size_t i;
	int error;

	*out = NULL;
	if ((error = bm_name_validate(project, BM_NAME_PROJECT)) < 0 ||
	    (error = bm_name_validate(release, BM_NAME_RELEASE)) < 0)
		return error;
	if (!bm_fs_commit(fs))
		return bm_error_set(BM_EINVALID, "a stamp names a meta commit: read the release from a store");
	if ((error = bm_buf_printf(&path, "projects/%s/releases/%s.pb", project, release)) < 0)
		goto done;
	error = bm__rec_read((ProtobufCMessage **)&r, fs, path.ptr, &bootmeta__v1__release__descriptor);
	if (error == BM_ENOTFOUND) {
		bm_error_set(BM_ENOTFOUND, "%s has no release %s", project, release);
		error = bm_error_set_about(BM_ABOUT_RELEASE_ID, project);
	}
	if (error < 0)
		goto done;
	if (!(st = calloc(1, sizeof(*st))) || (r->n_sources && !(st->sources = calloc(r->n_sources, sizeof(*st->sources))))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	bm_oid_fmt(hex, bm_fs_commit(fs));
	if ((error = bm__strdup(&st->project, project)) < 0 || (error = bm__strdup(&st->release, release)) < 0 ||
	    (error = bm__strdup(&st->version, r->version)) < 0 || (error = bm__strdup(&st->meta_commit, hex)) < 0)
		goto done;
	for (i = 0; i < r->n_sources; i++) {
		st->source_count++;
		if ((error = bm__strdup(&st->sources[i].url, r->sources[i]->url)) < 0 ||
		    (error = bm__strdup(&st->sources[i].commit, r->sources[i]->commit)) < 0)
			goto done;
	}
	*out = st;
	st = NULL;
done:
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	bm_stamp_free(st);
	bm_buf_dispose(&path);
	return error;
}
