/* doctor.c: check a meta repo for damage and move main back along its reflog (doctor.h).
 *
 * Phase 1 reads git directly (the repo may be too broken for bm_store_open): main, every
 * object it reaches, and the repair plan. Phase 2 opens the store on a complete tip and
 * checks every record and every sequence log through bm_fs, with the checks writes use
 * (seqlog.h). */
#include "bootmeta/doctor.h"
#include "bootmeta/record.h"
#include "seqlog.h"
#include "store_int.h"
#include "optcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>
#include <git2.h>

#include "bootmeta/v1/core.pb-c.h"
#include "bootmeta/v1/config.pb-c.h"
#include "bootmeta/v1/flags.pb-c.h"
#include "bootmeta/v1/secret.pb-c.h"
#include "bootmeta/v1/instance.pb-c.h"

#define MAIN_REF "refs/heads/main"
#define MAX_MISSING_REPORTED 20
#define MAX_LOST_LISTED 1000

const char *bm_doctor_kind_name(bm_doctor_kind kind)
{
	switch (kind) {
	case BM_DOCTOR_NO_MAIN: return "noMain";
	case BM_DOCTOR_MISSING_OBJECT: return "missingObject";
	case BM_DOCTOR_BAD_RECORD: return "badRecord";
	case BM_DOCTOR_LOG_GAP: return "logGap";
	case BM_DOCTOR_FORMAT: return "format";
	case BM_DOCTOR_NO_REFLOG: return "noReflog";
	}
	return "unknown";
}

void bm_doctor_report_dispose(bm_doctor_report *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->nproblems; i++) {
		free(r->problems[i].path);
		free(r->problems[i].message);
	}
	free(r->problems);
	for (i = 0; i < r->nlost; i++) {
		free(r->lost[i].summary);
		bm_strlist_dispose(&r->lost[i].added);
	}
	free(r->lost);
	free(r->path);
	free(r->plan_summary);
	free(r->lost_ref);
	memset(r, 0, sizeof(*r));
}

static int problem(bm_doctor_report *r, bm_doctor_kind kind, const char *path, const char *fmt, ...)
	BM_PRINTF(4, 5);
static int problem(bm_doctor_report *r, bm_doctor_kind kind, const char *path, const char *fmt, ...)
{
	bm_doctor_problem *p;
	bm_buf msg = BM_BUF_INIT;
	va_list ap;
	int error;
	va_start(ap, fmt);
	error = bm_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (error < 0)
		return error;
	if (!(p = realloc(r->problems, (r->nproblems + 1) * sizeof(*p)))) {
		bm_buf_dispose(&msg);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	r->problems = p;
	p += r->nproblems;
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->message = bm_buf_detach(&msg);
	p->path = strdup(path ? path : "");
	if (!p->message || !p->path) {
		free(p->message);
		free(p->path);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	r->nproblems++;
	return 0;
}

/* A problem that is the last library error: its message, code and subject. */
static int problem_from_error(bm_doctor_report *r, bm_doctor_kind kind, const char *path)
{
	const char *name;
	bm_error_about about = bm_error_last_about(&name);
	char saved[sizeof(r->problems->about_name)];
	int code = bm_error_last_code(), error;
	snprintf(saved, sizeof(saved), "%s", name ? name : "");
	if ((error = problem(r, kind, path, "%s", bm_error_last())) < 0)
		return error;
	r->problems[r->nproblems - 1].code = code;
	r->problems[r->nproblems - 1].about = about;
	memcpy(r->problems[r->nproblems - 1].about_name, saved, sizeof(saved));
	return error;
}

static void hex(char out[GIT_OID_HEXSZ + 1], const git_oid *o)
{
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, o);
}

/* ---- a set of object ids (open addressing; the zero id marks a free slot) ---- */

typedef struct {
	git_oid *v;
	size_t n, cap;
} oidset;

static size_t oid_hash(const git_oid *o)
{
	size_t h;
	memcpy(&h, o->id, sizeof(h));
	return h;
}

static int oidset_has(const oidset *s, const git_oid *o)
{
	size_t i;
	if (!s->cap)
		return 0;
	for (i = oid_hash(o) & (s->cap - 1); !git_oid_is_zero(&s->v[i]); i = (i + 1) & (s->cap - 1))
		if (git_oid_equal(&s->v[i], o))
			return 1;
	return 0;
}

static int oidset_add(oidset *s, const git_oid *o)
{
	size_t i;
	if (git_oid_is_zero(o) || oidset_has(s, o))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		oidset bigger = { NULL, 0, s->cap ? s->cap * 2 : 1024 };
		if (!(bigger.v = calloc(bigger.cap, sizeof(*bigger.v))))
			return bm_error_set(BM_ENOMEM, "out of memory");
		for (i = 0; i < s->cap; i++)
			if (!git_oid_is_zero(&s->v[i]))
				oidset_add(&bigger, &s->v[i]);
		free(s->v);
		*s = bigger;
	}
	for (i = oid_hash(o) & (s->cap - 1); !git_oid_is_zero(&s->v[i]); i = (i + 1) & (s->cap - 1))
		;
	git_oid_cpy(&s->v[i], o);
	s->n++;
	return 1;
}

static void oidset_dispose(oidset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- are all objects of a history present? ---- */

typedef struct {
	git_repository *repo;
	git_odb *odb;
	oidset ok_trees;        /* trees whose whole subtree is present (shared by every walk) */
	bm_doctor_report *report; /* NULL: stop at the first missing object, report nothing */
	size_t nmissing;
} walker;

static int missing(walker *w, const char *what, const git_oid *oid, const git_oid *commit, const char *path)
{
	char o[GIT_OID_HEXSZ + 1], c[GIT_OID_HEXSZ + 1];
	w->nmissing++;
	if (!w->report || w->nmissing > MAX_MISSING_REPORTED)
		return 0;
	hex(o, oid);
	hex(c, commit);
	return problem(w->report, BM_DOCTOR_MISSING_OBJECT, *path ? path : "/",
		       "%s %s (%s of commit %s) is missing from the object store (deleted by `git prune` or `git gc "
		       "--prune=now` run beside a writer?)", what, o, *path ? path : "the root tree", c);
}

/* 1 when tree `oid` and everything below it is present, 0 when not, < 0 on error. */
static int tree_complete(walker *w, const git_oid *oid, const git_oid *commit, bm_buf *path)
{
	git_tree *t = NULL;
	size_t i, n, at = path->size;
	int ok = 1, rc, error;

	if (oidset_has(&w->ok_trees, oid))
		return 1;
	if (git_tree_lookup(&t, w->repo, oid) < 0) {
		git_error_clear();
		return (error = missing(w, "tree", oid, commit, path->ptr ? path->ptr : "")) < 0 ? error : 0;
	}
	n = git_tree_entrycount(t);
	for (i = 0; i < n && (ok || w->report); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		path->size = at;
		if (path->ptr)
			path->ptr[at] = '\0';
		if ((error = bm_buf_printf(path, "%s%s", at ? "/" : "", git_tree_entry_name(e))) < 0)
			goto fail;
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			if ((rc = tree_complete(w, git_tree_entry_id(e), commit, path)) < 0) {
				error = rc;
				goto fail;
			}
			ok &= rc;
		} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB && !git_odb_exists(w->odb, git_tree_entry_id(e))) {
			if ((error = missing(w, "blob", git_tree_entry_id(e), commit, path->ptr)) < 0)
				goto fail;
			ok = 0;
		}
	}
	path->size = at;
	if (path->ptr)
		path->ptr[at] = '\0';
	git_tree_free(t);
	if (ok && (error = oidset_add(&w->ok_trees, oid)) < 0)
		return error;
	return ok;
fail:
	git_tree_free(t);
	return error;
}

/* 1 when every commit, tree and blob reachable from `tip` is present. */
static int history_complete(walker *w, const git_oid *tip)
{
	oidset seen = { 0 };
	git_oid *stack = NULL;
	size_t n = 0, cap = 0;
	bm_buf path = BM_BUF_INIT;
	int ok = 1, error = 0, rc;

	if (!(stack = malloc(64 * sizeof(*stack))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	cap = 64;
	git_oid_cpy(&stack[n++], tip);
	while (n && (ok || w->report)) {
		git_oid c = stack[--n];
		git_commit *cm = NULL;
		unsigned int i;
		if ((rc = oidset_add(&seen, &c)) <= 0) {
			if (rc < 0) {
				error = rc;
				goto done;
			}
			continue;
		}
		if (git_commit_lookup(&cm, w->repo, &c) < 0) {
			git_error_clear();
			ok = 0;
			if ((error = missing(w, "commit", &c, &c, "")) < 0)
				goto done;
			continue;
		}
		bm_buf_clear(&path);
		if ((rc = tree_complete(w, git_commit_tree_id(cm), &c, &path)) < 0) {
			git_commit_free(cm);
			error = rc;
			goto done;
		}
		ok &= rc;
		for (i = 0; i < git_commit_parentcount(cm); i++) {
			if (n == cap) {
				git_oid *more = realloc(stack, cap * 2 * sizeof(*stack));
				if (!more) {
					git_commit_free(cm);
					error = bm_error_set(BM_ENOMEM, "out of memory");
					goto done;
				}
				stack = more;
				cap *= 2;
			}
			git_oid_cpy(&stack[n++], git_commit_parent_id(cm, i));
		}
		git_commit_free(cm);
	}
done:
	free(stack);
	oidset_dispose(&seen);
	bm_buf_dispose(&path);
	return error < 0 ? error : ok;
}

/* ---- the repair plan ---- */

static void summary_of(char **out, const git_commit *c)
{
	const char *s = git_commit_summary((git_commit *)c);
	*out = strdup(s ? s : "");
}

/* The commits reachable from `tip` and not from `to` (which is complete), newest first as
 * found, with the files each added. */
static int plan_lost(bm_doctor_report *r, git_repository *repo, const git_oid *tip, const git_oid *to)
{
	oidset seen = { 0 };
	git_oid *stack = NULL;
	size_t n = 0, cap = 64;
	int error = 0, rc;

	if (!(stack = malloc(cap * sizeof(*stack))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	git_oid_cpy(&stack[n++], tip);
	while (n) {
		git_oid c = stack[--n];
		git_commit *cm = NULL, *parent = NULL;
		git_tree *tree = NULL, *ptree = NULL;
		git_diff *diff = NULL;
		bm_doctor_lost *l;
		unsigned int i;

		if ((rc = oidset_add(&seen, &c)) <= 0) {
			if (rc < 0) {
				error = rc;
				break;
			}
			continue;
		}
		if (git_oid_equal(&c, to))
			continue;
		if (r->nlost == MAX_LOST_LISTED) {
			r->lost_truncated = 1;
			break;
		}
		rc = git_commit_lookup(&cm, repo, &c);
		git_error_clear();
		if (rc == 0 && git_graph_descendant_of(repo, to, &c) == 1) {
			git_commit_free(cm);
			continue; /* an ancestor of `to`: kept */
		}
		git_error_clear();
		if (!(l = realloc(r->lost, (r->nlost + 1) * sizeof(*l)))) {
			git_commit_free(cm);
			error = bm_error_set(BM_ENOMEM, "out of memory");
			break;
		}
		r->lost = l;
		l += r->nlost++;
		memset(l, 0, sizeof(*l));
		memcpy(l->commit.id, c.id, 20);
		if (rc < 0) {
			l->missing = 1;
			l->added_unknown = 1;
			l->summary = strdup("");
			continue;
		}
		summary_of(&l->summary, cm);
		if (git_commit_tree(&tree, cm) < 0 ||
		    (git_commit_parentcount(cm) && (git_commit_parent(&parent, cm, 0) < 0 || git_commit_tree(&ptree, parent) < 0)) ||
		    git_diff_tree_to_tree(&diff, repo, ptree, tree, NULL) < 0) {
			l->added_unknown = 1;
		} else {
			size_t d;
			for (d = 0; d < git_diff_num_deltas(diff) && !error; d++) {
				const git_diff_delta *dd = git_diff_get_delta(diff, d);
				if (dd->status == GIT_DELTA_ADDED)
					error = bm_strlist_add(&l->added, dd->new_file.path);
			}
		}
		git_error_clear();
		git_diff_free(diff);
		git_tree_free(tree);
		git_tree_free(ptree);
		git_commit_free(parent);
		for (i = 0; i < git_commit_parentcount(cm) && !error; i++) {
			if (n == cap) {
				git_oid *more = realloc(stack, cap * 2 * sizeof(*stack));
				if (!more) {
					error = bm_error_set(BM_ENOMEM, "out of memory");
					break;
				}
				stack = more;
				cap *= 2;
			}
			git_oid_cpy(&stack[n++], git_commit_parent_id(cm, i));
		}
		git_commit_free(cm);
		if (error < 0)
			break;
	}
	free(stack);
	oidset_dispose(&seen);
	return error;
}

/* The newest reflog entry of main (other than the tip) whose history is complete. */
static int plan(bm_doctor_report *r, walker *w, const git_oid *tip)
{
	git_reflog *log = NULL;
	size_t i, n;
	int error = 0, rc;

	if (git_reflog_read(&log, w->repo, MAIN_REF) < 0) {
		error = bm_error_set(BM_EIO, "reading the reflog of main: %s",
				     git_error_last() ? git_error_last()->message : "unknown error");
		goto done;
	}
	n = git_reflog_entrycount(log);
	if (!n) {
		error = problem(r, BM_DOCTOR_NO_REFLOG, "logs/" MAIN_REF,
				"main has no reflog, so there is no earlier main to go back to; make a meta repo keep "
				"one with `git config core.logAllRefUpdates always`");
		goto done;
	}
	for (i = 0; i < n; i++) {
		const git_reflog_entry *e = git_reflog_entry_byindex(log, i);
		const git_oid *id = git_reflog_entry_id_new(e);
		bm_doctor_report *keep = w->report;
		git_commit *cm = NULL;
		if (git_oid_is_zero(id) || (tip && git_oid_equal(id, tip)))
			continue;
		w->report = NULL;
		w->nmissing = 0;
		rc = history_complete(w, id);
		w->report = keep;
		if (rc < 0) {
			error = rc;
			goto done;
		}
		if (!rc)
			continue;
		r->has_plan = 1;
		memcpy(r->plan_to.id, id->id, 20);
		r->plan_index = i;
		if (git_commit_lookup(&cm, w->repo, id) == 0)
			summary_of(&r->plan_summary, cm);
		git_commit_free(cm);
		if (tip)
			error = plan_lost(r, w->repo, tip, id);
		goto done;
	}
	error = problem(r, BM_DOCTOR_NO_REFLOG, "logs/" MAIN_REF,
			"no entry of main's reflog has all its objects, so there is no earlier main to go back to; "
			"restore the repo from a clone or a backup");
done:
	git_error_clear();
	git_reflog_free(log);
	return error;
}

static int apply(bm_doctor_report *r, git_repository *repo, git_odb *odb, const git_oid *tip,
		 const bm_doctor_options *o)
{
	git_oid to;
	bm_buf who = BM_BUF_INIT, msg = BM_BUF_INIT, name = BM_BUF_INIT;
	char t[GIT_OID_HEXSZ + 1];
	struct timeval tv;
	int error;

	gettimeofday(&tv, NULL);
	memcpy(to.id, r->plan_to.id, 20);
	if ((error = bm_actor_default(&who, o->actor)) < 0)
		goto done;
	if (tip && git_odb_exists(odb, tip)) {
		/* keep the old tip reachable: its objects that are left stay */
		char stamp[32];
		struct tm tm;
		git_reference *ref = NULL;
		int k;
		time_t secs = tv.tv_sec;
		gmtime_r(&secs, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		for (k = 0; k < 100; k++) {
			bm_buf_clear(&name);
			if ((error = bm_buf_printf(&name, "refs/bootmeta/lost/%s%s", stamp, k ? "-" : "")) < 0 ||
			    (k && (error = bm_buf_printf(&name, "%d", k)) < 0))
				goto done;
			if (git_reference_create(&ref, repo, name.ptr, tip, 0, "bootmeta doctor --repair: the old main") == 0)
				break;
			if (git_error_last() && git_error_last()->klass != GIT_ERROR_REFERENCE) {
				error = bm_error_set(BM_EIO, "keeping the old main as %s: %s", name.ptr,
						     git_error_last()->message);
				goto done;
			}
		}
		git_reference_free(ref);
		git_error_clear();
		if (k == 100) {
			error = bm_error_set(BM_EIO, "could not name a ref under refs/bootmeta/lost/ for the old main");
			goto done;
		}
		if (!(r->lost_ref = strdup(name.ptr))) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
	}
	hex(t, &to);
	if ((error = bm_buf_printf(&msg, "bootmeta doctor --repair: back to main@{%zu} %s", r->plan_index, t)) < 0)
		goto done;
	error = bm__ref_cas(repo, &to, tip, who.ptr, (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, msg.ptr);
	if (error == BM_ECONFLICT)
		error = bm_error_set(BM_ECONFLICT, "main moved while doctor ran (a writer is running?); run doctor again");
	if (error == 0)
		r->repaired = 1;
done:
	bm_buf_dispose(&who);
	bm_buf_dispose(&msg);
	bm_buf_dispose(&name);
	return error;
}

/* ---- phase 2: records and logs at a complete tip ---- */

typedef struct {
	bm_doctor_report *r;
	bm_fs *fs;
	bm_strlist logs; /* "<flag char><dir>", flag '0'+flags */
} rec_ctx;

static const ProtobufCMessageDescriptor *log_type(const ProtobufCMessageDescriptor *d, unsigned *flags)
{
	*flags = 0;
	if (d == &bootmeta__v1__channel_entry__descriptor || d == &bootmeta__v1__instance_report__descriptor) {
		*flags = BM__LOG_BUCKETED;
		return d;
	}
	if (d == &bootmeta__v1__secret_version__descriptor) {
		*flags = BM__LOG_SECRET;
		return d;
	}
	if (d == &bootmeta__v1__config_value__descriptor || d == &bootmeta__v1__flag__descriptor ||
	    d == &bootmeta__v1__recipient_change__descriptor)
		return d;
	return NULL;
}

static int note_log(rec_ctx *c, const char *path, unsigned flags)
{
	bm_buf dir = BM_BUF_INIT;
	const char *slash = strrchr(path, '/');
	int error;
	if (!slash)
		return 0;
	if ((error = bm_buf_printf(&dir, "%c%.*s", '0' + (int)flags, (int)(slash - path), path)) < 0)
		return error;
	if (flags & BM__LOG_BUCKETED) { /* the channel folder holds the buckets */
		char *b = strrchr(dir.ptr, '/');
		if (b && strlen(b + 1) == 7) {
			char name[9];
			snprintf(name, sizeof(name), "%s/", b + 1);
			if (bm__log_bucket_of(name) >= 0) {
				*b = '\0';
				dir.size = (size_t)(b - dir.ptr);
			}
		}
	}
	if (!c->logs.count || strcmp(c->logs.items[c->logs.count - 1], dir.ptr))
		error = bm_strlist_add(&c->logs, dir.ptr);
	bm_buf_dispose(&dir);
	return error;
}

static int check_record(rec_ctx *c, const char *path, const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = NULL;
	bm_buf data = BM_BUF_INIT;
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	unsigned flags;
	int error;

	c->r->records++;
	if ((error = bm_fs_read(&data, c->fs, path)) < 0) {
		error = problem(c->r, BM_DOCTOR_BAD_RECORD, path, "cannot be read: %s", bm_error_last());
		goto done;
	}
	if (bm_record_decode(&m, d, data.ptr ? data.ptr : "", data.size) < 0) {
		error = problem(c->r, BM_DOCTOR_BAD_RECORD, path, "does not decode as a %s record: %s; restore it from "
				"history (`git log --all -- %s`)", d->short_name, bm_error_last(), path);
		goto done;
	}
	if (!log_type(d, &flags))
		goto done;
	if ((error = note_log(c, path, flags)) < 0)
		goto done;
	if (bm__log_entry_seq(name) && bm__log_record_seq(m) != bm__log_entry_seq(name)) {
		error = problem(c->r, BM_DOCTOR_BAD_RECORD, path, "holds entry %llu of its log, not the entry %llu its name "
				"says: it was planted, copied or moved (see `git log --all -- %s`)",
				(unsigned long long)bm__log_record_seq(m), (unsigned long long)bm__log_entry_seq(name), path);
		goto done;
	}
	if (d == &bootmeta__v1__secret_version__descriptor &&
	    ((Bootmeta__V1__SecretVersion *)m)->op != BOOTMETA__V1__SECRET_OP__SECRET_OP_REMOVE) {
		bm_buf age = BM_BUF_INIT;
		if ((error = bm_buf_printf(&age, "%.*s.age", (int)(strlen(path) - 3), path)) == 0 &&
		    bm_fs_exists(c->fs, age.ptr) != 1)
			error = problem(c->r, BM_DOCTOR_BAD_RECORD, age.ptr, "is missing: the version record %s says it "
					"holds the ciphertext (see `git log --all -- %s`)", path, age.ptr);
		bm_buf_dispose(&age);
	}
done:
	bm_record_free(m);
	bm_buf_dispose(&data);
	return error;
}

static int walk(rec_ctx *c, const char *dir)
{
	bm_strlist l = BM_STRLIST_INIT;
	bm_buf path = BM_BUF_INIT;
	size_t i;
	int error;

	if ((error = bm_fs_list(&l, c->fs, dir)) < 0) {
		error = problem(c->r, BM_DOCTOR_MISSING_OBJECT, *dir ? dir : "/", "cannot be listed: %s", bm_error_last());
		goto done;
	}
	for (i = 0; i < l.count && !error; i++) {
		const char *n = l.items[i];
		size_t len = strlen(n);
		const ProtobufCMessageDescriptor *d;
		bm_buf_clear(&path);
		if ((error = bm_buf_printf(&path, "%s%s%.*s", dir, *dir ? "/" : "",
					   (int)(len && n[len - 1] == '/' ? len - 1 : len), n)) < 0)
			break;
		if (len && n[len - 1] == '/')
			error = walk(c, path.ptr);
		else if (bm_record_kind_for_path(path.ptr, &d) == BM_FILE_RECORD)
			error = check_record(c, path.ptr, d);
	}
done:
	bm_strlist_dispose(&l);
	bm_buf_dispose(&path);
	return error;
}

static int check_records(bm_doctor_report *r, const char *path)
{
	bm_store *store = NULL;
	rec_ctx c = { r, NULL, BM_STRLIST_INIT };
	size_t i;
	int error;

	if (bm_store_open(&store, path) < 0)
		return problem_from_error(r, BM_DOCTOR_FORMAT, path);
	if ((error = bm_store_fs(&c.fs, store, NULL)) < 0) {
		error = problem_from_error(r, BM_DOCTOR_FORMAT, path);
		goto done;
	}
	if ((error = walk(&c, "")) < 0)
		goto done;
	bm_strlist_sort(&c.logs);
	for (i = 0; i < c.logs.count && !error; i++) {
		uint64_t n;
		if (i && !strcmp(c.logs.items[i], c.logs.items[i - 1]))
			continue;
		r->logs++;
		if (bm__log_check_all(&n, c.fs, c.logs.items[i] + 1, (unsigned)(c.logs.items[i][0] - '0')) < 0)
			error = problem_from_error(r, BM_DOCTOR_LOG_GAP, c.logs.items[i] + 1);
	}
	r->checked_records = 1;
done:
	bm_strlist_dispose(&c.logs);
	bm_fs_free(c.fs);
	bm_store_free(store);
	return error;
}

int bm_doctor(bm_doctor_report *out, const char *path, const bm_doctor_options *opts)
{
	bm_doctor_options defaults = BM_DOCTOR_OPTIONS_INIT;
	git_repository *repo = NULL;
	git_reference *ref = NULL, *resolved = NULL;
	walker w;
	git_oid tip;
	int error = 0, rc, complete = 0;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	if ((error = BM_OPTS_CHECK(opts, BM_DOCTOR_OPTIONS_VERSION, "bm_doctor_options")) < 0)
		return error;
	if (!opts)
		opts = &defaults;
	if (path && !strncmp(path, "file://", 7))
		path += 7;
	if (path && strstr(path, "://"))
		return bm_error_set(BM_EINVALID, "%s: doctor checks a local meta repo; run it where the repo is", path);
	if (git_repository_open_ext(&repo, path ? path : ".", path ? GIT_REPOSITORY_OPEN_NO_SEARCH : 0, NULL) < 0) {
		bm_error_set(BM_ENOTFOUND, "%s is not a git repo (%s)", path ? path : "the current folder",
			     git_error_last() ? git_error_last()->message : "not found");
		error = bm_error_set_about(BM_ABOUT_GIT_REPO, path);
		goto done;
	}
	{
		const char *p = git_repository_is_bare(repo) ? git_repository_path(repo) : git_repository_workdir(repo);
		size_t n = strlen(p);
		if (!(out->path = strdup(p))) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		if (n > 1 && out->path[n - 1] == '/')
			out->path[n - 1] = '\0';
	}
	w.repo = repo;
	w.report = out;
	if (git_repository_odb(&w.odb, repo) < 0) {
		error = bm_error_set(BM_EIO, "%s: cannot open the object store", out->path);
		goto done;
	}

	rc = git_reference_lookup(&ref, repo, MAIN_REF);
	if (rc == 0 && git_reference_resolve(&resolved, ref) == 0) {
		git_oid_cpy(&tip, git_reference_target(resolved));
		out->has_main = 1;
		memcpy(out->main.id, tip.id, 20);
	} else if (rc == GIT_ENOTFOUND || rc == 0) {
		if ((error = problem(out, BM_DOCTOR_NO_MAIN, MAIN_REF, "the repo has no main branch%s",
				     rc == 0 ? " (main is a symbolic ref to nothing)" : "")) < 0)
			goto done;
	} else {
		error = problem(out, BM_DOCTOR_NO_MAIN, MAIN_REF, "main cannot be read: %s",
				git_error_last() ? git_error_last()->message : "unknown error");
		if (error < 0)
			goto done;
	}
	git_error_clear();
	if (out->has_main) {
		if (!git_odb_exists(w.odb, &tip)) {
			char t[GIT_OID_HEXSZ + 1];
			hex(t, &tip);
			if ((error = problem(out, BM_DOCTOR_MISSING_OBJECT, MAIN_REF,
					     "main points at commit %s, which is missing from the object store (the "
					     "branch is there, its commit is not: deleted by `git prune` or `git gc "
					     "--prune=now` run beside a writer?)", t)) < 0)
				goto done;
		} else {
			if ((rc = history_complete(&w, &tip)) < 0) {
				error = rc;
				goto done;
			}
			complete = rc;
			if (w.nmissing > MAX_MISSING_REPORTED &&
			    (error = problem(out, BM_DOCTOR_MISSING_OBJECT, "/", "and %zu more missing objects",
					     w.nmissing - MAX_MISSING_REPORTED)) < 0)
				goto done;
		}
	}
	if (!complete) {
		if ((error = plan(out, &w, out->has_main ? &tip : NULL)) < 0)
			goto done;
		if (opts->repair && out->has_plan) {
			size_t i;
			if ((error = apply(out, repo, w.odb, out->has_main ? &tip : NULL, opts)) < 0)
				goto done;
			/* what the repair fixed is no longer a problem */
			for (i = 0; i < out->nproblems; i++) {
				free(out->problems[i].path);
				free(out->problems[i].message);
			}
			out->nproblems = 0;
			complete = 1;
		}
	}
	if (complete)
		error = check_records(out, out->path);
done:
	git_reference_free(resolved);
	git_reference_free(ref);
	git_odb_free(w.odb);
	oidset_dispose(&w.ok_trees);
	git_repository_free(repo);
	return error;
}
