/* trace.c: from a binary (a file or its sha256) or a release id back to the release, its
 * sources, the channels that point at it now and the instances that run it. Reads meta.c's
 * records, channel.c's entries and instance.c's reports; nothing calls back into it. */
#include "bootmeta/trace.h"
#include "bootmeta/channel.h"
#include "bootmeta/env.h"
#include "bootmeta/instance.h"
#include "bootmeta/names.h"
#include "meta_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void bm_trace_free(bm_trace *t)
{
	size_t i, j;
	if (!t)
		return;
	for (i = 0; i < t->nreleases; i++) {
		bm_meta_free(t->releases[i].release);
		for (j = 0; j < t->releases[i].nchannels; j++)
			bm_meta_free(t->releases[i].channels[j]);
		free(t->releases[i].channels);
		for (j = 0; j < t->releases[i].ninstances; j++)
			bm_meta_free(t->releases[i].instances[j]);
		free(t->releases[i].instances);
	}
	free(t->releases);
	bm_meta_free(t->binary);
	free(t);
}

/* The instances of every env whose newest report for `project` names `release`. */
static int trace_instances(bm_trace_release *tr, bm_fs *fs, const char *project, const char *release)
{
	bm_strlist envs = BM_STRLIST_INIT;
	size_t i, j;
	int error;

	if ((error = bm_env_list(&envs, fs)) < 0)
		return error;
	for (i = 0; i < envs.count && !error; i++) {
		bm_instance_status *l = NULL;
		size_t n = 0;
		if ((error = bm_instance_list(&l, &n, fs, envs.items[i], project)) < 0) {
			if (error == BM_ENOMEM)
				break;
			bm_error_clear(); /* an env whose record is damaged runs nothing we can show */
			error = 0;
			continue;
		}
		for (j = 0; j < n && !error; j++) {
			Bootmeta__V1__InstanceReport **g;
			if (!l[j].report || strcmp(l[j].report->release, release))
				continue;
			if (!(g = realloc(tr->instances, (tr->ninstances + 1) * sizeof(*g)))) {
				error = bm_error_set(BM_ENOMEM, "out of memory");
				break;
			}
			tr->instances = g;
			tr->instances[tr->ninstances++] = l[j].report;
			l[j].report = NULL;
		}
		bm_instance_list_free(l, n);
	}
	bm_strlist_dispose(&envs);
	return error;
}

/* Add `release` of `project` to the trace with the channels that point at it now and the
 * instances that run it. */
static int trace_add_release(bm_trace *t, bm_fs *fs, const char *project, const char *release)
{
	bm_trace_release *tr, *grown;
	bm_strlist channels = BM_STRLIST_INIT;
	size_t i;
	int error;

	if (!(grown = realloc(t->releases, (t->nreleases + 1) * sizeof(*grown))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	t->releases = grown;
	tr = &t->releases[t->nreleases];
	memset(tr, 0, sizeof(*tr));
	if ((error = bm_release_get(&tr->release, fs, project, release)) < 0)
		return error;
	t->nreleases++;
	if ((error = bm_channel_list(&channels, fs, project)) < 0)
		goto done;
	for (i = 0; i < channels.count; i++) {
		Bootmeta__V1__ChannelEntry *e = NULL, **g;
		if (bm_channel_current(&e, fs, project, channels.items[i]) < 0) {
			bm_error_clear(); /* an empty or damaged channel points at nothing */
			continue;
		}
		if (strcmp(e->release, release)) {
			bm_meta_free(e);
			continue;
		}
		if (!(g = realloc(tr->channels, (tr->nchannels + 1) * sizeof(*g)))) {
			bm_meta_free(e);
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		tr->channels = g;
		tr->channels[tr->nchannels++] = e;
	}
	error = trace_instances(tr, fs, project, release);
done:
	bm_strlist_dispose(&channels);
	return error;
}

static int is_hex64(const char *s)
{
	size_t i;
	if (strlen(s) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int trace_binary(bm_trace *t, bm_fs *fs, const char *sha256)
{
	int error;
	if ((error = bm_binary_get(&t->binary, fs, sha256)) < 0)
		return error;
	memcpy(t->sha256, sha256, 65);
	return trace_add_release(t, fs, t->binary->project, t->binary->release);
}

int bm_trace_run(bm_trace **out, bm_fs *fs, const char *what, const char *project)
{
	bm_trace *t;
	struct stat st;
	bm_strlist projects = BM_STRLIST_INIT;
	bm_buf p = BM_BUF_INIT;
	size_t i;
	int error = 0;

	*out = NULL;
	if (!what || !*what)
		return bm_error_set(BM_EINVALID, "trace needs a FILE, a SHA256 or a RELEASE id");
	if (project && (error = bm_project_name_check(project)) < 0)
		return error;
	if (!(t = calloc(1, sizeof(*t))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if (bm_fs_commit(fs)) {
		t->commit = *bm_fs_commit(fs);
		t->has_commit = 1;
	}

	if ((stat(what, &st) == 0 && !S_ISDIR(st.st_mode)) || strchr(what, '/')) {
		char hex[65];
		uint64_t size;
		if ((error = bm_file_sha256(hex, &size, what)) < 0)
			goto done;
		if ((error = trace_binary(t, fs, hex)) == BM_ENOTFOUND && !t->binary) {
			bm_error_set(BM_ENOTFOUND, "%s (sha256 %s, %llu bytes) is not a binary recorded in the meta repo",
				     what, hex, (unsigned long long)size);
			error = bm_error_set_about(BM_ABOUT_BINARY, hex);
		}
		goto done;
	}
	if (is_hex64(what)) {
		char lowered[65];
		size_t k;
		for (k = 0; k < 65; k++)
			lowered[k] = (char)(what[k] >= 'A' && what[k] <= 'F' ? what[k] - 'A' + 'a' : what[k]);
		error = trace_binary(t, fs, lowered);
		if (error != BM_ENOTFOUND || t->binary)
			goto done;
		bm_error_clear();
		error = 0;
	}
	if (bm_name_validate(what, BM_NAME_RELEASE) < 0) {
		error = bm_error_set(BM_ENOTFOUND, "\"%s\" is not a file, a recorded sha256 or a release id", what);
		goto done;
	}
	if (project) {
		if ((error = bm__project_must_exist(fs, project)) < 0 || (error = bm__release_must_exist(fs, project, what)) < 0)
			goto done;
		error = trace_add_release(t, fs, project, what);
		goto done;
	}
	if ((error = bm_project_list(&projects, fs)) < 0)
		goto done;
	for (i = 0; i < projects.count && !error; i++) {
		bm_buf_clear(&p);
		if ((error = bm_path_release(&p, projects.items[i], what)) < 0)
			break;
		if (bm_fs_exists(fs, p.ptr) == 1)
			error = trace_add_release(t, fs, projects.items[i], what);
	}
	if (!error && t->nreleases == 0) {
		bm_error_set(BM_ENOTFOUND, "\"%s\" is not a file here, a recorded sha256, or a release id of any project",
			     what);
		error = bm_error_set_about(BM_ABOUT_TRACE, what);
	}
done:
	bm_buf_dispose(&p);
	bm_strlist_dispose(&projects);
	if (error < 0)
		bm_trace_free(t);
	else
		*out = t;
	return error;
}
