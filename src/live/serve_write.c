/* serve_write.c: the writes of `bootmeta serve`. Requests are checked on the HTTP thread
 * (route, token, body), queued, and taken by one writer thread in batches: every request of
 * a batch runs its library `_txn` operation inside ONE bm_store_write, so a batch is one
 * meta commit and one fsync (group commit). A request whose own checks fail (a bad release,
 * an If-Match that no longer holds) fails alone: the batch is run again without it. Each
 * request is answered only once its commit is durable, with the commit and its record.
 *
 * Idempotency-Key: the key's hash (with the token's name) goes into the commit message as a
 * trailer `Bootmeta-Request: <hash> <kind> <seq> <path>`; a request with a key already
 * answered gets the first answer again, also after a restart (the trailers of the last
 * commits are read at start). */
#include "serve.h"
#include "serve_ops.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IDEM_CAP 16384        /* answered keys remembered */
#define IDEM_BUCKETS 32768
#define IDEM_SCAN_COMMITS 10000 /* commits read at start for their trailers */
#define IDEM_KEY_MAX 255

typedef struct serve_idem {
	unsigned char hash[32];
	bm_oid commit;
	char kind[16];
	uint64_t seq;
	char *path;
	int used;
	int next;       /* chain in the bucket; -1 ends */
	int inflight;   /* queued, not answered yet */
} serve_idem;

static int idem_heads[IDEM_BUCKETS];
static size_t idem_ring;  /* the next slot to reuse */

static unsigned bucket_of(const unsigned char h[32])
{
	return ((unsigned)h[0] | (unsigned)h[1] << 8 | (unsigned)h[2] << 16) % IDEM_BUCKETS;
}

static serve_idem *idem_find(serve *s, const unsigned char h[32])
{
	int i;
	for (i = idem_heads[bucket_of(h)]; i >= 0; i = s->idem[i].next)
		if (!memcmp(s->idem[i].hash, h, 32))
			return &s->idem[i];
	return NULL;
}

static void idem_unlink(serve *s, int idx)
{
	int *pp = &idem_heads[bucket_of(s->idem[idx].hash)];
	while (*pp >= 0 && *pp != idx)
		pp = &s->idem[*pp].next;
	if (*pp == idx)
		*pp = s->idem[idx].next;
}

/* A slot for `h` (the oldest answered one is reused); NULL when every slot is in flight. */
static serve_idem *idem_add(serve *s, const unsigned char h[32])
{
	size_t tries;
	for (tries = 0; tries < IDEM_CAP; tries++) {
		int idx = (int)(idem_ring++ % IDEM_CAP);
		serve_idem *e = &s->idem[idx];
		if (e->used && e->inflight)
			continue;
		if (e->used)
			idem_unlink(s, idx);
		free(e->path);
		memset(e, 0, sizeof(*e));
		memcpy(e->hash, h, 32);
		e->used = 1;
		e->next = idem_heads[bucket_of(h)];
		idem_heads[bucket_of(h)] = idx;
		return e;
	}
	return NULL;
}

static void hex32(char out[65], const unsigned char h[32])
{
	static const char x[] = "0123456789abcdef";
	int i;
	for (i = 0; i < 32; i++) {
		out[2 * i] = x[h[i] >> 4];
		out[2 * i + 1] = x[h[i] & 15];
	}
	out[64] = '\0';
}

static int unhex32(unsigned char h[32], const char *s)
{
	size_t len = 0;
	return sodium_hex2bin(h, 32, s, 64, NULL, &len, NULL) == 0 && len == 32 ? 0 : -1;
}

/* ---- jobs ---- */

struct serve_job {
	serve_job *next;
	const serve_op *op;
	void *req;              /* the op's parsed request */
	char *actor;
	char *target;           /* the path If-Match compares, or NULL */
	bm_oid if_match;
	int has_if_match;
	unsigned char idem[32];
	int has_idem;
	serve_idem *idem_slot;
	/* the outcome */
	int failed;
	serve_result res;
	serve_answer ans;
	serve_job_done_fn done;
	void *payload;
};

static void job_free(serve_job *j)
{
	if (!j)
		return;
	if (j->op && j->req)
		j->op->dispose(j->req);
	serve_result_dispose(&j->res);
	serve_answer_dispose(&j->ans);
	free(j->actor);
	free(j->target);
	free(j);
}

void serve_job_take(serve_job *job, serve_answer *a)
{
	*a = job->ans;
	memset(&job->ans, 0, sizeof(job->ans));
	job_free(job);
}

void serve_result_dispose(serve_result *r)
{
	bm_strlist_dispose(&r->paths);
	bm_buf_dispose(&r->record);
	bm_buf_dispose(&r->summary);
	free(r->errmsg);
	memset(r, 0, sizeof(*r));
}

/* The answer to a committed request: {"metaCommit","kind","path","paths","seq","record"} */
static void answer_ok(serve_answer *a, const char *kind, const bm_oid *commit, const serve_result *r, int replayed)
{
	size_t i;
	serve_answer_init(a);
	bm_oid_fmt(a->etag, commit);
	bm_buf_printf(&a->body, "{\"metaCommit\":\"%s\",\"kind\":\"%s\"", a->etag, kind);
	if (r->paths.count) {
		bm_buf_puts(&a->body, ",\"path\":");
		bm_json_escape(&a->body, r->paths.items[0]);
	}
	bm_buf_puts(&a->body, ",\"paths\":[");
	for (i = 0; i < r->paths.count; i++) {
		if (i)
			bm_buf_putc(&a->body, ',');
		bm_json_escape(&a->body, r->paths.items[i]);
	}
	bm_buf_putc(&a->body, ']');
	if (r->seq)
		bm_buf_printf(&a->body, ",\"seq\":\"%llu\"", (unsigned long long)r->seq);
	if (r->unchanged)
		bm_buf_puts(&a->body, ",\"unchanged\":true");
	if (replayed)
		bm_buf_puts(&a->body, ",\"replayed\":true");
	if (r->record.size) {
		bm_buf_puts(&a->body, ",\"record\":");
		bm_buf_put(&a->body, r->record.ptr, r->record.size);
	}
	bm_buf_puts(&a->body, "}\n");
}

/* ---- routes (serve_route.c) ---- */

static const serve_op *route(const char *method, const char *url, serve_params *pp)
{
	const char *kind = serve_route_write(method, url, pp);
	return kind ? serve_op_find(kind) : NULL;
}

int serve_is_write(const char *method, const char *url)
{
	serve_params pp;
	const serve_op *op;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		/* a GET of a write-only route (promote, reports, log) is a 405, not a 404 */
		op = route("POST", url, &pp);
		if (op)
			serve_params_dispose(&pp);
		return op && op->write_only_route;
	}
	op = route(method, url, &pp);
	if (op)
		serve_params_dispose(&pp);
	return op != NULL;
}

/* ---- submit (HTTP thread) ---- */

const char *serve_rq_header(const serve_rq *r, const char *name)
{
	if (r->conn)
		return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
	if (!strcasecmp(name, "Authorization"))
		return r->authorization;
	if (!strcasecmp(name, "If-Match"))
		return r->if_match;
	if (!strcasecmp(name, "Idempotency-Key"))
		return r->idempotency_key;
	return NULL;
}

#define hdr serve_rq_header

static int parse_if_match(bm_oid *out, const char *v)
{
	char hex[BM_OID_HEXSZ + 1];
	size_t n;
	while (*v == ' ')
		v++;
	if (!strncmp(v, "W/", 2))
		v += 2;
	if (*v == '"')
		v++;
	n = strcspn(v, "\"");
	if (n != BM_OID_HEXSZ)
		return -1;
	memcpy(hex, v, n);
	hex[n] = '\0';
	return bm_oid_parse(out, hex);
}

static void replay(serve *s, serve_idem *e, serve_answer *a)
{
	serve_result r;
	bm_store *st = serve_thread_store(s);
	bm_fs *fs = NULL;
	memset(&r, 0, sizeof(r));
	r.seq = e->seq;
	if (e->path && e->path[0]) {
		bm_strlist_add(&r.paths, e->path);
		if (st && bm_store_fs(&fs, st, &e->commit) == 0 && serve_record_json(&r.record, fs, e->path) < 0) {
			bm_buf_clear(&r.record);
			bm_error_clear();
		}
	}
	answer_ok(a, e->kind, &e->commit, &r, 1);
	bm_fs_free(fs);
	serve_result_dispose(&r);
}

int serve_write_submit(serve *s, const serve_rq *r, const char *body, size_t len, serve_answer *a, serve_job **out,
		       serve_job_done_fn done, void *payload)
{
	serve_params pp;
	const serve_op *op;
	serve_job *j = NULL;
	bm_buf err = BM_BUF_INIT, actor = BM_BUF_INIT;
	const char *key, *im;
	int rc = 0;

	*out = NULL;
	if (!(op = route(r->method, r->url, &pp))) {
		serve_answer_error(a, 404, 0, "no write route %s %s; the routes are in doc/http-api.md", r->method, r->url);
		return 0;
	}
	if (!(j = calloc(1, sizeof(*j)))) {
		serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
		goto done;
	}
	j->op = op;
	if ((rc = op->parse(&j->req, &pp, body, len, &err)) < 0) {
		rc = 0;
		atomic_fetch_add(&s->m.body_400, 1);
		serve_answer_error(a, 400, BM_EINVALID, "%s", err.ptr ? err.ptr : "the request body is not valid");
		goto done;
	}
	if (op->scope && op->scope(s, j->req, a) < 0)
		goto done;
	/* who: a token whose scope covers this write (its target comes from the parsed body) */
	if (serve_auth(s, r, op, j->req, &actor, a) < 0)
		goto done;
	if (op->prepare && op->prepare(s, j->req, a) < 0)
		goto done;
	j->actor = actor.ptr;
	actor.ptr = NULL;
	if ((im = hdr(r, "If-Match"))) {
		if (parse_if_match(&j->if_match, im) < 0) {
			serve_answer_error(a, 400, BM_EINVALID, "If-Match: give the meta commit as \"<40 hex digits>\" (an ETag)");
			goto done;
		}
		j->has_if_match = op->target != NULL; /* kinds without a target ignore it */
		if (op->target && op->target(&j->target, j->req) < 0) {
			serve_answer_error(a, 400, BM_EINVALID, "If-Match: %s", bm_error_last());
			goto done;
		}
	}
	if ((key = hdr(r, "Idempotency-Key"))) {
		crypto_hash_sha256_state h;
		size_t kl = strlen(key);
		if (kl == 0 || kl > IDEM_KEY_MAX) {
			serve_answer_error(a, 400, BM_EINVALID, "Idempotency-Key: 1 to %d characters", IDEM_KEY_MAX);
			goto done;
		}
		crypto_hash_sha256_init(&h);
		crypto_hash_sha256_update(&h, (const unsigned char *)j->actor, strlen(j->actor) + 1);
		crypto_hash_sha256_update(&h, (const unsigned char *)key, kl);
		crypto_hash_sha256_final(&h, j->idem);
		j->has_idem = 1;
	}
	j->done = done;
	j->payload = payload;

	pthread_mutex_lock(&s->qlock);
	if (j->has_idem) {
		serve_idem *e = idem_find(s, j->idem);
		if (e && e->inflight) {
			pthread_mutex_unlock(&s->qlock);
			serve_answer_error(a, 409, BM_ECONFLICT, "a request with this Idempotency-Key is being committed; "
							     "retry it in a moment to get its answer");
			goto done;
		}
		if (e) {
			serve_idem copy = *e;
			copy.path = e->path ? strdup(e->path) : NULL;
			pthread_mutex_unlock(&s->qlock);
			atomic_fetch_add(&s->m.writes_replayed, 1);
			replay(s, &copy, a);
			free(copy.path);
			goto done;
		}
		if (!(j->idem_slot = idem_add(s, j->idem))) {
			pthread_mutex_unlock(&s->qlock);
			serve_answer_error(a, 503, 0, "too many requests with Idempotency-Key in flight; retry later");
			goto done;
		}
		j->idem_slot->inflight = 1;
	}
	if (atomic_load(&s->stopping) || s->qlen >= s->queue_max) {
		if (j->idem_slot) {
			idem_unlink(s, (int)(j->idem_slot - s->idem));
			j->idem_slot->used = 0;
		}
		pthread_mutex_unlock(&s->qlock);
		serve_answer_error(a, 503, 0, atomic_load(&s->stopping) ? "serve is stopping; retry later"
									: "the write queue is full (--queue-max); retry later");
		serve_answer_header(a, "Retry-After", "1");
		goto done;
	}
	if (s->qtail)
		s->qtail->next = j;
	else
		s->qhead = j;
	s->qtail = j;
	s->qlen++;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	*out = j;
	j = NULL;
	rc = 1;
done:
	job_free(j);
	serve_params_dispose(&pp);
	bm_buf_dispose(&err);
	bm_buf_dispose(&actor);
	return rc;
}

/* ---- the writer ---- */

typedef struct {
	serve *s;
	serve_job **jobs;
	size_t n;
	serve_job *failed;      /* the job whose own check failed this run */
	int failed_code;
	bm_strlist touched;     /* If-Match targets written earlier in this batch */
	bm_strlist files;       /* what the last run added, for the hub */
	bm_oid base;
	int has_base;
} batch;

static int target_moved(int *moved, batch *b, bm_txn *txn, serve_job *j)
{
	bm_oid then, now;
	int e1, e2;
	size_t i;
	*moved = 0;
	for (i = 0; i < b->touched.count; i++)
		if (!strcmp(b->touched.items[i], j->target)) {
			*moved = 1;
			return 0;
		}
	e1 = bm_store_path_id(&then, b->s->wstore, &j->if_match, j->target);
	if (e1 < 0 && e1 != BM_ENOTFOUND)
		return e1;
	e2 = bm_txn_base(txn) ? bm_store_path_id(&now, b->s->wstore, bm_txn_base(txn), j->target) : BM_ENOTFOUND;
	if (e2 < 0 && e2 != BM_ENOTFOUND)
		return e2;
	bm_error_clear();
	*moved = (e1 == 0) != (e2 == 0) || (e1 == 0 && !bm_oid_equal(&then, &now));
	return 0;
}

static int batch_txn(bm_txn *txn, void *payload)
{
	batch *b = payload;
	bm_buf msg = BM_BUF_INIT;
	size_t i, nw = 0;
	int error = 0, rc = 0;

	bm_strlist_dispose(&b->touched);
	for (i = 0; i < b->n; i++) {
		serve_job *j = b->jobs[i];
		if (j->failed)
			continue;
		serve_result_dispose(&j->res);
		if (j->has_if_match) {
			int moved;
			bm_oid probe;
			if (bm_store_path_id(&probe, b->s->wstore, &j->if_match, "") < 0) {
				error = bm_error_set(BM_EINVALID, "If-Match: commit is not in the meta repo");
				j->res.status = 412;
			} else if ((error = target_moved(&moved, b, txn, j)) == 0 && moved) {
				error = bm_error_set(BM_ECONFLICT, "If-Match: %s changed after that commit; read it again",
						     j->target);
				j->res.status = 412;
			}
			if (error < 0) {
				b->failed = j;
				b->failed_code = error;
				goto done;
			}
		}
		if ((error = bm_txn_set_actor(txn, j->actor)) < 0 || (rc = j->op->apply(txn, j->req, &j->res)) < 0) {
			b->failed = j;
			b->failed_code = error < 0 ? error : rc;
			error = b->failed_code;
			goto done;
		}
		if (j->target)
			bm_strlist_add(&b->touched, j->target);
		if (!j->res.unchanged)
			nw++;
	}
	bm_txn_set_actor(txn, NULL);
	/* the message: one line for one write; a count and a line each for a batch; then the
	 * trailers of requests with an Idempotency-Key */
	if (b->n == 1 || nw <= 1) {
		for (i = 0; i < b->n; i++)
			if (!b->jobs[i]->failed && !b->jobs[i]->res.unchanged) {
				bm_buf_printf(&msg, "%s", b->jobs[i]->res.summary.ptr ? b->jobs[i]->res.summary.ptr : "serve write");
				break;
			}
		if (!msg.size)
			bm_buf_puts(&msg, "serve: no change");
		bm_buf_puts(&msg, "\n");
	} else {
		bm_buf_printf(&msg, "serve: %zu writes\n\n", nw);
		for (i = 0; i < b->n; i++)
			if (!b->jobs[i]->failed && !b->jobs[i]->res.unchanged)
				bm_buf_printf(&msg, "%s (%s)\n", b->jobs[i]->res.summary.ptr ? b->jobs[i]->res.summary.ptr : "write",
					      b->jobs[i]->actor);
	}
	{
		int first = 1;
		for (i = 0; i < b->n; i++) {
			serve_job *j = b->jobs[i];
			char hx[65];
			if (j->failed || !j->has_idem)
				continue;
			hex32(hx, j->idem);
			bm_buf_printf(&msg, "%sBootmeta-Request: %s %s %llu %s\n", first ? "\n" : "", hx, j->op->name,
				      (unsigned long long)j->res.seq, j->res.paths.count ? j->res.paths.items[0] : "-");
			first = 0;
		}
	}
	error = bm_txn_message(txn, "%s", msg.ptr);
	/* the paths this commit adds: the hub's event needs no diff */
	bm_strlist_dispose(&b->files);
	for (i = 0; !error && i < bm_txn_file_count(txn); i++)
		error = bm_strlist_add(&b->files, bm_txn_file_path(txn, i));
	if ((b->has_base = bm_txn_base(txn) != NULL))
		b->base = *bm_txn_base(txn);
done:
	bm_buf_dispose(&msg);
	return error;
}

static void finish(serve *s, serve_job *j)
{
	pthread_mutex_lock(&s->qlock);
	if (j->idem_slot) {
		if (j->failed) {
			idem_unlink(s, (int)(j->idem_slot - s->idem));
			j->idem_slot->used = 0;
		} else {
			bm_oid_parse(&j->idem_slot->commit, j->ans.etag);
			snprintf(j->idem_slot->kind, sizeof(j->idem_slot->kind), "%s", j->op->name);
			j->idem_slot->seq = j->res.seq;
			j->idem_slot->path = j->res.paths.count ? strdup(j->res.paths.items[0]) : NULL;
		}
		j->idem_slot->inflight = 0;
	}
	pthread_mutex_unlock(&s->qlock);
	j->done(j, j->payload);
}

static unsigned hist_bucket(size_t n)
{
	unsigned b = 0;
	while (b < 7 && n >= ((size_t)2 << b))
		b++;
	return b;
}

static void run_batch(serve *s, serve_job **jobs, size_t n)
{
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	batch b;
	bm_oid commit;
	int64_t t0 = serve_mono_us(), us;
	size_t i, left = n, ok = 0;
	int error = 0;
	char hex[BM_OID_HEXSZ + 1];

	memset(&b, 0, sizeof(b));
	b.s = s;
	b.jobs = jobs;
	b.n = n;
	w.actor = "bootmeta-serve";
	while (left) {
		b.failed = NULL;
		if ((error = bm_store_write(&commit, s->wstore, batch_txn, &b, &w)) == 0)
			break;
		if (!b.failed) {
			/* the write itself failed (disk, lock, remote): every request of the batch fails */
			for (i = 0; i < n; i++)
				if (!jobs[i]->failed) {
					jobs[i]->failed = 1;
					jobs[i]->res.code = error;
					jobs[i]->res.errmsg = strdup(bm_error_last());
				}
			serve_log("error", "commit", "batch=%zu error=\"%s\"", left, bm_error_last());
			left = 0;
			break;
		}
		b.failed->failed = 1;
		b.failed->res.code = b.failed_code;
		b.failed->res.errmsg = strdup(bm_error_last());
		left--;
	}
	bm_strlist_dispose(&b.touched);
	if (!error && left && b.files.count) /* a batch that committed nothing: refused there */
		serve_hub_hint(s, b.has_base ? &b.base : NULL, &commit, &b.files);
	bm_strlist_dispose(&b.files);
	us = serve_mono_us() - t0;
	for (i = 0; i < n; i++) {
		serve_job *j = jobs[i];
		if (j->failed) {
			unsigned st = j->res.status ? j->res.status : serve_status_of(j->res.code);
			serve_answer_init(&j->ans);
			serve_answer_error(&j->ans, st, j->res.code, "%s", j->res.errmsg ? j->res.errmsg : "the write failed");
			atomic_fetch_add(&s->m.writes_failed, 1);
		} else {
			answer_ok(&j->ans, j->op->name, &commit, &j->res, 0);
			ok++;
			atomic_fetch_add(&s->m.writes_ok, 1);
		}
	}
	if (ok) {
		unsigned long long prev;
		atomic_fetch_add(&s->m.commits, 1);
		atomic_fetch_add(&s->m.batch_writes, ok);
		atomic_fetch_add(&s->m.batch_hist[hist_bucket(ok)], 1);
		atomic_fetch_add(&s->m.commit_us_total, (unsigned long long)us);
		prev = atomic_load(&s->m.commit_us_max);
		while ((unsigned long long)us > prev && !atomic_compare_exchange_weak(&s->m.commit_us_max, &prev, (unsigned long long)us))
			;
		bm_oid_fmt(hex, &commit);
		serve_log("info", "commit", "commit=%s writes=%zu failed=%zu dur_ms=%.3f", hex, ok, n - ok, (double)us / 1000.0);
	}
	for (i = 0; i < n; i++)
		finish(s, jobs[i]);
	if (ok)
		serve_hub_kick(s);
}

static void *writer_main(void *arg)
{
	serve *s = arg;
	serve_job **jobs = calloc(s->batch_max, sizeof(*jobs));
	for (;;) {
		size_t n = 0;
		pthread_mutex_lock(&s->qlock);
		while (!s->qhead && !atomic_load(&s->stopping))
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (!s->qhead) {
			pthread_mutex_unlock(&s->qlock);
			break;
		}
		while (s->qhead && n < s->batch_max && jobs) {
			jobs[n++] = s->qhead;
			s->qhead = s->qhead->next;
			jobs[n - 1]->next = NULL;
		}
		if (!s->qhead)
			s->qtail = NULL;
		s->qlen -= n;
		pthread_mutex_unlock(&s->qlock);
		if (!jobs)
			break;
		run_batch(s, jobs, n);
	}
	free(jobs);
	return NULL;
}

/* ---- the trailers of the last commits: keys answered before a restart ---- */

typedef struct {
	serve *s;
	size_t found;
} scan_ctx;

static int scan_commit(const bm_commit_info *info, void *payload)
{
	scan_ctx *c = payload;
	bm_buf msg = BM_BUF_INIT;
	const char *p;
	if (bm_store_commit_message(&msg, c->s->wstore, &info->commit) < 0) {
		bm_error_clear();
		return 0;
	}
	for (p = msg.ptr; p && (p = strstr(p, "Bootmeta-Request: ")); p++) {
		char hx[65], kind[16], path[1024];
		unsigned long long seq;
		unsigned char h[32];
		serve_idem *e;
		if (p != msg.ptr && p[-1] != '\n')
			continue;
		if (sscanf(p + 18, "%64s %15s %llu %1023s", hx, kind, &seq, path) != 4 || unhex32(h, hx) < 0)
			continue;
		if (idem_find(c->s, h) || !(e = idem_add(c->s, h)))
			continue; /* newer commits come first: the first seen is the answer */
		e->commit = info->commit;
		snprintf(e->kind, sizeof(e->kind), "%s", kind);
		e->seq = seq;
		e->path = strcmp(path, "-") ? strdup(path) : NULL;
		c->found++;
	}
	bm_buf_dispose(&msg);
	return 0;
}

int serve_writer_start(serve *s)
{
	scan_ctx sc = { s, 0 };
	size_t i;
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	if (!(s->idem = calloc(IDEM_CAP, sizeof(*s->idem)))) {
		serve_log("error", "start", "error=\"out of memory\"");
		return -1;
	}
	for (i = 0; i < IDEM_BUCKETS; i++)
		idem_heads[i] = -1;
	if (bm_store_log(s->wstore, NULL, IDEM_SCAN_COMMITS, scan_commit, &sc) < 0) {
		serve_log("warn", "idempotency", "error=\"%s\"", bm_error_last());
		bm_error_clear();
	}
	if (sc.found)
		serve_log("info", "idempotency", "keys=%zu from=last-%d-commits", sc.found, IDEM_SCAN_COMMITS);
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		serve_log("error", "start", "error=\"cannot start the writer thread\"");
		return -1;
	}
	return 0;
}

void serve_writer_stop(serve *s)
{
	size_t i;
	pthread_mutex_lock(&s->qlock);
	pthread_cond_broadcast(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	pthread_join(s->writer, NULL);
	for (i = 0; s->idem && i < IDEM_CAP; i++)
		free(s->idem[i].path);
	free(s->idem);
	s->idem = NULL;
}
