/* instance.c: instance reports, envs/<env>/instances/<id>/<project>/+reports/<bucket>/<seq>.pb
 * (bootmeta/instance.h): one append-only log per instance and project, written only when
 * the state, release or error changes. Builds on meta.c (projects, releases), env.c and
 * the log check of seqlog.c; trace.c reads it. */
#include "bootmeta/instance.h"
#include "bootmeta/env.h"
#include "bootmeta/names.h"
#include "bootmeta/record.h"
#include "bootmeta/text.h"
#include "meta_int.h"
#include "optcheck.h"
#include "recio.h"
#include "seqlog.h"

#include <stdlib.h>
#include <string.h>

#define REPORTS "+reports"
#define PROJECT_DEPTH_MAX 8 /* a project name has at most 8 parts (names.c) */

/* ---- states ---- */

static const char *const state_names[] = {
	[BM_INSTANCE_DOWNLOADING] = "downloading",
	[BM_INSTANCE_INSTALLED] = "installed",
	[BM_INSTANCE_HEALTHY] = "healthy",
	[BM_INSTANCE_FAILED] = "failed",
	[BM_INSTANCE_ROLLED_BACK] = "rolled-back",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *bm_instance_state_str(bm_instance_state state)
{
	return (unsigned)state < N_STATES ? state_names[state] : NULL;
}

int bm_instance_state_parse(bm_instance_state *out, const char *s)
{
	size_t i;
	for (i = 1; s && i < N_STATES; i++)
		if (!strcmp(s, state_names[i])) {
			*out = (bm_instance_state)i;
			return 0;
		}
	if (!s || !*s)
		return bm_error_set(BM_EINVALID, "missing instance state (one of downloading, installed, healthy, "
				    "failed, rolled-back)");
	if (bm_text_check(s, strlen(s), BM_TEXT_LINE, 64, "the instance state") < 0)
		return BM_EINVALID;
	return bm_error_set(BM_EINVALID, "instance state \"%s\" is not one of downloading, installed, healthy, "
			    "failed, rolled-back", s);
}

/* ---- paths ---- */

int bm_path_instance(bm_buf *out, const char *env, const char *instance)
{
	int error;
	if ((error = bm_env_name_validate(env)) < 0 || (error = bm_name_validate(instance, BM_NAME_INSTANCE)) < 0)
		return error;
	bm_buf_clear(out);
	return bm_buf_printf(out, "envs/%s/instances/%s", env, instance);
}

int bm_path_instance_log(bm_buf *out, const char *env, const char *instance, const char *project)
{
	int error;
	if ((error = bm_project_name_check(project)) < 0 || (error = bm_path_instance(out, env, instance)) < 0)
		return error;
	return bm_buf_printf(out, "/%s/" REPORTS, project);
}

int bm_path_instance_report(bm_buf *out, const char *env, const char *instance, const char *project, uint64_t seq)
{
	int error;
	if (seq < 1 || seq > BM__LOG_SEQ_MAX)
		return bm_error_set(BM_EINVALID, "instance report sequence number %llu is out of range",
				    (unsigned long long)seq);
	if ((error = bm_path_instance_log(out, env, instance, project)) < 0)
		return error;
	return bm_buf_printf(out, "/%07llu/%010llu.pb", (unsigned long long)(seq / BM__LOG_BUCKET),
			     (unsigned long long)seq);
}

/* ---- checks ---- */

static int opt_text(const char *s, bm_text_kind kind, size_t max, const char *what)
{
	return s ? bm_text_check(s, strlen(s), kind, max, what) : 0;
}

/* os/arch: nothing, or a token (shown escaped when it is not even text) */
static int opt_token(const char *s, const char *what, const char *example)
{
	int error;
	if (!s || !*s)
		return 0;
	if ((error = bm_text_check(s, strlen(s), BM_TEXT_LINE, 64, what)) < 0)
		return error;
	return bm__token_check(s, what, example);
}

int bm_instance_report_check(const bm_instance_report_spec *spec)
{
	int error;
	if (!spec)
		return bm_error_set(BM_EINVALID, "no instance report given");
	if ((error = BM_OPTS_CHECK(spec, BM_INSTANCE_REPORT_SPEC_VERSION, "bm_instance_report_spec")) < 0)
		return error;
	if ((error = bm_env_name_validate(spec->env)) < 0 ||
	    (error = bm_name_validate(spec->instance, BM_NAME_INSTANCE)) < 0 ||
	    (error = bm_project_name_check(spec->project)) < 0 ||
	    (error = bm_name_validate(spec->release, BM_NAME_RELEASE)) < 0)
		return error;
	if (!bm_instance_state_str(spec->state))
		return bm_error_set(BM_EINVALID, "instance state %d is not one of downloading, installed, healthy, "
				    "failed, rolled-back", (int)spec->state);
	if (spec->acted_on && *spec->acted_on) {
		if (bm_text_check(spec->acted_on, strlen(spec->acted_on), BM_TEXT_LINE, 128,
				  "the meta commit acted on") < 0)
			return BM_EINVALID;
		if ((error = bm_commit_hash_check(spec->acted_on)) < 0)
			return bm_error_prefix(error, "the meta commit acted on");
	}
	if ((error = opt_text(spec->error, BM_TEXT_LINES, BM_INSTANCE_ERROR_MAX, "the error text")) < 0 ||
	    (error = opt_token(spec->os, "os", "linux")) < 0 || (error = opt_token(spec->arch, "arch", "amd64")) < 0 ||
	    (error = opt_text(spec->agent_version, BM_TEXT_LINE, BM_INSTANCE_AGENT_VERSION_MAX, "the agent version")) < 0)
		return error;
	return 0;
}

/* The record at `path` is entry `seq` of the log of this env, instance and project. */
static int entry_check(const Bootmeta__V1__InstanceReport *r, const char *path, const char *env,
		       const char *instance, const char *project, uint64_t seq)
{
	if (r->seq != seq || strcmp(r->env, env) || strcmp(r->instance, instance) || strcmp(r->project, project))
		return bm_error_set(BM_ECORRUPT, "%s holds report %llu of instance %s/%s of %s, not of this path; the "
				    "file was planted or moved (see `git log -- %s`)", path, (unsigned long long)r->seq,
				    r->env, r->instance, r->project, path);
	return 0;
}

static int env_must_exist(bm_fs *fs, const char *env)
{
	int rc = bm_env_exists(fs, env);
	if (rc < 0)
		return rc;
	if (!rc) {
		bm_error_set(BM_ENOTFOUND, "no environment \"%s\"", env);
		return bm_error_set_about(BM_ABOUT_ENV, env);
	}
	return 0;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- writing ---- */

int bm_instance_report_txn(Bootmeta__V1__InstanceReport **out, bm_txn *txn, const bm_instance_report_spec *spec)
{
	Bootmeta__V1__InstanceReport r = BOOTMETA__V1__INSTANCE_REPORT__INIT, *prev;
	bm__log_tail tail = BM__LOG_TAIL_INIT;
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT, packed = BM_BUF_INIT;
	char commit[65];
	bm_fs *fs = bm_txn_fs(txn);
	size_t i;
	int error;

	if (out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	if ((error = bm_instance_report_check(spec)) < 0 || (error = bm__actor_check(txn)) < 0 ||
	    (error = env_must_exist(fs, spec->env)) < 0 ||
	    (error = bm__release_must_exist(fs, spec->project, spec->release)) < 0 ||
	    (error = bm_path_instance_log(&dir, spec->env, spec->instance, spec->project)) < 0)
		goto done;
	/* build only on a sound log (seqlog.h): no gap, the newest entry decodes and is the one
	 * its path says */
	if ((error = bm__log_tail_read(&tail, fs, dir.ptr, &bootmeta__v1__instance_report__descriptor,
				       BM__LOG_BUCKETED)) < 0)
		goto done;
	prev = (Bootmeta__V1__InstanceReport *)tail.record;
	if (prev && (error = entry_check(prev, tail.path.ptr, spec->env, spec->instance, spec->project, tail.last)) < 0)
		goto done;
	if (prev && !strcmp(prev->state, bm_instance_state_str(spec->state)) && !strcmp(prev->release, spec->release) &&
	    !strcmp(prev->error, or_empty(spec->error))) {
		/* no change: no heartbeat records; the caller gets the newest entry */
		if (out && ((error = bm__rec_pack(&packed, &prev->base)) < 0 ||
			    (error = bm__unpack_out((void **)out, &bootmeta__v1__instance_report__descriptor, &packed)) < 0))
			goto done;
		error = 1;
		goto done;
	}
	commit[0] = '\0';
	if (spec->acted_on && *spec->acted_on) {
		for (i = 0; spec->acted_on[i] && i < 64; i++) {
			char ch = spec->acted_on[i];
			commit[i] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
		}
		commit[i] = '\0';
	}
	if ((error = bm_path_instance_report(&path, spec->env, spec->instance, spec->project, tail.last + 1)) < 0)
		goto done;
	r.seq = tail.last + 1;
	r.env = (char *)spec->env;
	r.instance = (char *)spec->instance;
	r.project = (char *)spec->project;
	r.release = (char *)spec->release;
	r.acted_on = commit;
	r.state = (char *)bm_instance_state_str(spec->state);
	r.error = (char *)or_empty(spec->error);
	r.os = (char *)or_empty(spec->os);
	r.arch = (char *)or_empty(spec->arch);
	r.agent_version = (char *)or_empty(spec->agent_version);
	r.time_ms = bm_txn_time_ms(txn);
	r.actor = (char *)bm_txn_actor(txn);
	r.since_ms = r.time_ms;
	if (prev && !strcmp(prev->state, r.state) && !strcmp(prev->release, r.release))
		r.since_ms = prev->since_ms ? prev->since_ms : prev->time_ms;
	if ((error = bm__rec_pack(&packed, &r.base)) < 0 || (error = bm_txn_add(txn, path.ptr, packed.ptr, packed.size)) < 0)
		goto done;
	error = bm__unpack_out((void **)out, &bootmeta__v1__instance_report__descriptor, &packed);
done:
	if (error < 0 && out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	bm__log_tail_dispose(&tail);
	bm_buf_dispose(&packed);
	bm_buf_dispose(&path);
	bm_buf_dispose(&dir);
	return error;
}

typedef struct {
	const bm_instance_report_spec *spec;
	Bootmeta__V1__InstanceReport *rec;
	int unchanged;
} report_ctx;

static int report_txn(bm_txn *txn, void *payload)
{
	report_ctx *c = payload;
	int error = bm_instance_report_txn(&c->rec, txn, c->spec);
	c->unchanged = error == 1;
	if (error == 0)
		error = bm_txn_message(txn, "instance report %s %s %s: %s %s", c->spec->env, c->spec->instance,
				       c->spec->project, bm_instance_state_str(c->spec->state), c->spec->release);
	return error;
}

int bm_instance_report(Bootmeta__V1__InstanceReport **out, bm_oid *out_commit, bm_store *store,
		       const bm_instance_report_spec *spec, const bm_write_options *wopts)
{
	report_ctx c = { spec, NULL, 0 };
	bm_write_options w;
	int error;

	if (out)
		*out = NULL;
	if ((error = bm_instance_report_check(spec)) < 0)
		return error;
	bm__write_opts(&w, wopts);
	if ((error = bm_store_write(out_commit, store, report_txn, &c, &w)) == 0 && c.unchanged)
		error = 1;
	if (error >= 0 && out)
		*out = c.rec;
	else
		bm_meta_free(c.rec);
	return error;
}

/* ---- reading ---- */

/* The newest entry of the log at `dir` without listing it: the last bucket's last name (O(1)
 * on a git tree). 0 with *out NULL when the log has no entry. `path` gets the entry's file. */
static int newest_read(Bootmeta__V1__InstanceReport **out, bm_buf *path, bm_fs *fs, const char *dir,
		       const char *env, const char *instance, const char *project)
{
	bm_buf name = BM_BUF_INIT;
	long long bucket;
	uint64_t seq;
	int error;

	*out = NULL;
	bm_buf_clear(path);
	if ((error = bm_fs_last(&name, fs, dir)) < 0) {
		if (error == BM_ENOTFOUND) {
			bm_error_clear();
			error = 0;
		}
		goto done;
	}
	if ((bucket = bm__log_bucket_of(name.ptr)) < 0) {
		bm_error_set(BM_ECORRUPT, "%s/%s is not a bucket of the instance log %s (buckets are "
			     "<7-digit seq/1000>/); restore the log from history", dir, name.ptr, dir);
		error = bm_error_set_about(BM_ABOUT_DAMAGED_LOG, NULL);
		goto done;
	}
	if ((error = bm_buf_printf(path, "%s/%s", dir, name.ptr)) < 0 || (error = bm_fs_last(&name, fs, path->ptr)) < 0)
		goto done;
	if (!(seq = bm__log_entry_seq(name.ptr)) || seq / BM__LOG_BUCKET != (uint64_t)bucket) {
		bm_error_set(BM_ECORRUPT, "%s%s is not an entry of the instance log %s (entries are "
			     "<10-digit seq>.pb in bucket seq/1000); restore the log from history", path->ptr,
			     name.ptr, dir);
		error = bm_error_set_about(BM_ABOUT_DAMAGED_LOG, NULL);
		goto done;
	}
	if ((error = bm_buf_puts(path, name.ptr)) < 0 ||
	    (error = bm__rec_read((ProtobufCMessage **)out, fs, path->ptr, &bootmeta__v1__instance_report__descriptor)) < 0)
		goto done;
	error = entry_check(*out, path->ptr, env, instance, project, seq);
done:
	if (error < 0) {
		bm_meta_free(*out);
		*out = NULL;
	}
	bm_buf_dispose(&name);
	return error;
}

int bm_instance_current(Bootmeta__V1__InstanceReport **out, bm_fs *fs, const char *env, const char *instance,
			const char *project)
{
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT;
	int error;

	*out = NULL;
	if ((error = bm_path_instance_log(&dir, env, instance, project)) < 0 ||
	    (error = newest_read(out, &path, fs, dir.ptr, env, instance, project)) < 0)
		goto done;
	if (!*out) {
		if ((error = env_must_exist(fs, env)) == 0)
			error = bm_error_set(BM_ENOTFOUND, "instance %s of env %s has reported nothing for %s", instance,
					     env, project);
	}
done:
	bm_buf_dispose(&path);
	bm_buf_dispose(&dir);
	return error;
}

typedef struct {
	bm_instance_status *items;
	size_t count, alloc;
} status_list;

static void status_dispose(bm_instance_status *s)
{
	free(s->env);
	free(s->instance);
	free(s->project);
	free(s->path);
	free(s->message);
	bm_meta_free(s->report);
}

void bm_instance_list_free(bm_instance_status *items, size_t count)
{
	size_t i;
	if (!items)
		return;
	for (i = 0; i < count; i++)
		status_dispose(&items[i]);
	free(items);
}

/* Add the newest entry of the log of `project` of `instance` (a damaged log is an item with
 * its error, the listing goes on; out of memory ends it). */
static int status_add(status_list *l, bm_fs *fs, const char *env, const char *instance, const char *project)
{
	bm_instance_status *s;
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT;
	int error, rc;

	if (l->count == l->alloc) {
		size_t n = l->alloc ? l->alloc * 2 : 16;
		bm_instance_status *g = realloc(l->items, n * sizeof(*g));
		if (!g)
			return bm_error_set(BM_ENOMEM, "out of memory");
		l->items = g;
		l->alloc = n;
	}
	s = &l->items[l->count];
	memset(s, 0, sizeof(*s));
	if ((error = bm_path_instance_log(&dir, env, instance, project)) < 0)
		goto done;
	rc = newest_read(&s->report, &path, fs, dir.ptr, env, instance, project);
	if (rc == BM_ENOMEM) {
		error = rc;
		goto done;
	}
	if (rc == 0 && !s->report)
		goto done; /* a folder with no entry yet: nothing to show */
	if ((error = bm__strdup(&s->env, env)) < 0 || (error = bm__strdup(&s->instance, instance)) < 0 ||
	    (error = bm__strdup(&s->project, project)) < 0 ||
	    (error = bm__strdup(&s->path, path.size > 3 && !strcmp(path.ptr + path.size - 3, ".pb") ? path.ptr
										      : dir.ptr)) < 0)
		goto done;
	if (rc < 0) {
		s->error = rc;
		if ((error = bm__strdup(&s->message, bm_error_last())) < 0)
			goto done;
		bm_error_clear();
	} else {
		s->since_ms = s->report->since_ms ? s->report->since_ms : s->report->time_ms;
	}
	l->count++;
	s = NULL;
done:
	if (s)
		status_dispose(s);
	bm_buf_dispose(&path);
	bm_buf_dispose(&dir);
	return error;
}

/* The projects under an instance's folder: every folder `<project>/` that holds "+reports/"
 * (a project may have parts: a/b/+reports), walked to the depth a project name can have. */
static int projects_walk(status_list *l, bm_fs *fs, const char *env, const char *instance, const char *base,
			 const char *rel, unsigned depth)
{
	bm_strlist names = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT, sub = BM_BUF_INIT;
	size_t i;
	int error;

	if ((error = bm_buf_printf(&dir, "%s%s%s", base, *rel ? "/" : "", rel)) < 0 ||
	    (error = bm_fs_list_or_empty(&names, fs, dir.ptr)) < 0)
		goto done;
	for (i = 0; i < names.count && !error; i++) {
		const char *n = names.items[i];
		size_t len = strlen(n);
		if (!len || n[len - 1] != '/')
			continue; /* a stray file: not a project */
		if (!strcmp(n, REPORTS "/")) {
			if (*rel && bm_project_name_check(rel) == 0)
				error = status_add(l, fs, env, instance, rel);
			bm_error_clear();
			continue;
		}
		if (depth >= PROJECT_DEPTH_MAX)
			continue;
		bm_buf_clear(&sub);
		if ((error = bm_buf_printf(&sub, "%s%s%.*s", rel, *rel ? "/" : "", (int)(len - 1), n)) == 0)
			error = projects_walk(l, fs, env, instance, base, sub.ptr, depth + 1);
	}
done:
	bm_strlist_dispose(&names);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&sub);
	return error;
}

static int status_cmp(const void *a, const void *b)
{
	const bm_instance_status *x = a, *y = b;
	int c = strcmp(x->instance, y->instance);
	return c ? c : strcmp(x->project, y->project);
}

int bm_instance_list(bm_instance_status **out, size_t *count, bm_fs *fs, const char *env, const char *project)
{
	status_list l = { NULL, 0, 0 };
	bm_strlist ids = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT, base = BM_BUF_INIT;
	size_t i;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = bm_env_name_validate(env)) < 0 || (project && (error = bm_project_name_check(project)) < 0) ||
	    (error = env_must_exist(fs, env)) < 0 || (project && (error = bm__project_must_exist(fs, project)) < 0) ||
	    (error = bm_buf_printf(&dir, "envs/%s/instances", env)) < 0 ||
	    (error = bm_fs_list_or_empty(&ids, fs, dir.ptr)) < 0)
		goto done;
	for (i = 0; i < ids.count && !error; i++) {
		char *id = ids.items[i];
		size_t len = strlen(id);
		if (!len || id[len - 1] != '/')
			continue;
		id[len - 1] = '\0';
		if (bm_name_validate(id, BM_NAME_INSTANCE) < 0) {
			bm_error_clear(); /* not an instance folder bootmeta wrote */
			continue;
		}
		if (project) {
			error = status_add(&l, fs, env, id, project);
			continue;
		}
		bm_buf_clear(&base);
		if ((error = bm_buf_printf(&base, "%s/%s", dir.ptr, id)) == 0)
			error = projects_walk(&l, fs, env, id, base.ptr, "", 0);
	}
	if (error < 0)
		goto done;
	if (l.count)
		qsort(l.items, l.count, sizeof(*l.items), status_cmp);
	*out = l.items;
	*count = l.count;
	l.items = NULL;
	l.count = 0;
done:
	bm_instance_list_free(l.items, l.count);
	bm_strlist_dispose(&ids);
	bm_buf_dispose(&base);
	bm_buf_dispose(&dir);
	return error;
}

typedef struct {
	const char *env, *instance, *project;
	bm_instance_report_cb cb;
	void *payload;
} history_walk;

static int history_entry(const char *path, uint64_t seq, ProtobufCMessage *rec, int rc, void *payload)
{
	history_walk *h = payload;
	const Bootmeta__V1__InstanceReport *r = (const Bootmeta__V1__InstanceReport *)rec;
	if (!rc)
		rc = entry_check(r, path, h->env, h->instance, h->project, seq);
	return h->cb(path, rc ? NULL : r, rc, h->payload);
}

int bm_instance_history(bm_fs *fs, const char *env, const char *instance, const char *project, uint64_t from_seq,
			bm_instance_report_cb cb, void *payload)
{
	history_walk h = { env, instance, project, cb, payload };
	bm_buf dir = BM_BUF_INIT;
	int error, missing = 0;

	if ((error = bm_path_instance_log(&dir, env, instance, project)) < 0 || (error = env_must_exist(fs, env)) < 0)
		goto done;
	error = bm__log_walk(&missing, fs, dir.ptr, from_seq, &bootmeta__v1__instance_report__descriptor, history_entry,
			     &h);
	if (!error && missing)
		error = bm_error_set(BM_ENOTFOUND, "instance %s of env %s has reported nothing for %s", instance, env,
				     project);
done:
	bm_buf_dispose(&dir);
	return error;
}
