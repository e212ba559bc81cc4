/* serve_nats.c: the NATS side of `bootmeta serve` (serve_nats.h), on nats.c.
 *
 * Publishing: the hub calls hook() for every new commit on main; it only copies the commit
 * into a bounded queue. The publisher thread (with a store of its own) turns each into the
 * event JSON the watchers get (serve_event_json): the whole event on bootmeta.commit, and for
 * each changed prefix the event of that prefix on its subject (serve_nats_subject). With
 * JetStream the messages go into the stream (created when missing) with Nats-Msg-Id =
 * commit[:subject], so a retry is stored once. `last` is the newest commit published: while
 * NATS is away (or the queue overflows) nothing is lost, only a gap is noted, and once the
 * connection is back the commits from `last` to the newest are read from git and published
 * one by one (past WALK_MAX, as one combined event).
 *
 * Writes: a queue subscription on bootmeta.write.* (group "bootmeta-serve", so several serve
 * processes share the requests). The message becomes the HTTP write it stands for
 * (serve_nats_write_parse) and goes through serve_write_submit like any other; its answer
 * (the same JSON HTTP gives) is published on the reply subject by the replier thread. */
#include "serve_nats.h"
#include "serve_nats_msg.h"

#include <errno.h>
#include <nats/nats.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PUB_QUEUE_MAX 4096    /* commits waiting for the publisher; past it: a gap */
#define WALK_MAX 1000         /* commits of a gap published one by one */
#define SUBJECTS_MAX 1024     /* prefix subjects of one commit; past it only bootmeta.commit */
#define JS_WAIT_MS 2000       /* for a JetStream publish acknowledgement */
#define STOP_WAIT_US (3 * 1000000LL)
#define WRITE_SUBJECT "bootmeta.write.*"
#define WRITE_PREFIX "bootmeta.write."
#define QUEUE_GROUP "bootmeta-serve"

typedef struct pub_item {
	struct pub_item *next;
	uint64_t seq;            /* the hook's count: a higher one is a newer commit */
	bm_oid prev, next_commit;
	int has_prev;
	bm_strlist paths;
} pub_item;

struct serve_nats;
/* one write request that went to the writer */
typedef struct {
	struct serve_nats *n;
	char *reply;
	char kind[32];
	int64_t t0;
} wctx;

typedef struct reply_item {
	struct reply_item *next;
	serve_job *job;
	wctx *c;
} reply_item;

typedef struct serve_nats {
	serve *s;
	serve_nats_options o;
	char *url, *stream;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *wsub, *nsub;
	bm_store *st;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* publisher (under lock) */
	pthread_t pub;
	int pub_started, stop;
	pub_item *qhead, *qtail;
	size_t qlen;
	uint64_t hook_seq;
	int behind;              /* commits after `last` up to `want` are not published yet */
	bm_oid want;
	uint64_t want_seq;
	int need_setup;          /* (re)connected: look at JetStream again */
	int js_checked_last;     /* the stream's last commit was read once */
	/* publisher only */
	bm_oid last;
	int has_last;
	atomic_int js_on;

	/* replier (under lock) */
	pthread_t rep;
	int rep_started, rep_stop;
	reply_item *rhead, *rtail;
	pthread_cond_t rcond;

	/* metrics */
	atomic_int connected;
	atomic_uint inflight;
	atomic_ullong published, publish_errors, commits_published, gaps, dropped, reconnects, disconnects;
	atomic_ullong wreq, wreq_refused, wreq_busy, notices;
	atomic_ullong pub_us_total, pub_us_max;
} serve_nats;

/* ---- connection events ---- */

static void kick(serve_nats *n)
{
	pthread_mutex_lock(&n->lock);
	n->need_setup = 1;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

static void url_of(natsConnection *nc, char *buf, size_t len)
{
	if (natsConnection_GetConnectedUrl(nc, buf, len) != NATS_OK || !buf[0])
		snprintf(buf, len, "-");
}

static void on_connected(natsConnection *nc, void *closure)
{
	serve_nats *n = closure;
	char u[256];
	url_of(nc, u, sizeof(u));
	atomic_store(&n->connected, 1);
	serve_log("info", "nats-connected", "url=%s", u);
	kick(n);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	serve_nats *n = closure;
	char u[256];
	url_of(nc, u, sizeof(u));
	atomic_store(&n->connected, 1);
	atomic_fetch_add(&n->reconnects, 1);
	serve_log("info", "nats-reconnected", "url=%s", u);
	kick(n);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	serve_nats *n = closure;
	(void)nc;
	atomic_store(&n->connected, 0);
	atomic_fetch_add(&n->disconnects, 1);
	serve_log("warn", "nats-disconnected", "what=\"reconnecting; commits are published when it is back\"");
}

static void on_closed(natsConnection *nc, void *closure)
{
	serve_nats *n = closure;
	(void)nc;
	atomic_store(&n->connected, 0);
	serve_log("info", "nats-closed", NULL);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
	(void)nc;
	(void)sub;
	(void)closure;
	serve_log("warn", "nats-error", "error=\"%s\"", natsStatus_GetText(err));
}

/* ---- the commit hook (hub thread): queue, never block ---- */

static void hook(serve *s, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths, int truncated,
		 void *payload)
{
	serve_nats *n = payload;
	pub_item *it = calloc(1, sizeof(*it));
	size_t i;
	(void)s;
	(void)truncated; /* subjects come from the paths listed, as for a commit read from git */
	if (it) {
		it->next_commit = *next;
		if (prev) {
			it->prev = *prev;
			it->has_prev = 1;
		}
		for (i = 0; i < paths->count; i++)
			if (bm_strlist_add(&it->paths, paths->items[i]) < 0) {
				bm_strlist_dispose(&it->paths);
				free(it);
				it = NULL;
				break;
			}
	}
	pthread_mutex_lock(&n->lock);
	n->hook_seq++;
	if (it)
		it->seq = n->hook_seq;
	if (!it || n->qlen >= PUB_QUEUE_MAX) {
		/* published later from git */
		n->behind = 1;
		n->want = *next;
		n->want_seq = n->hook_seq;
		atomic_fetch_add(&n->dropped, 1);
		if (it) {
			bm_strlist_dispose(&it->paths);
			free(it);
		}
	} else {
		if (n->qtail)
			n->qtail->next = it;
		else
			n->qhead = it;
		n->qtail = it;
		n->qlen++;
	}
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

static void item_free(pub_item *it)
{
	if (!it)
		return;
	bm_strlist_dispose(&it->paths);
	free(it);
}

/* ---- publishing (publisher thread) ---- */

static int send_msg(serve_nats *n, const char *subject, const char *msgid, const bm_oid *prev, const bm_oid *next,
		    const bm_buf *data)
{
	natsMsg *m = NULL;
	natsStatus st;
	char hex[BM_OID_HEXSZ + 1];
	int64_t t0 = serve_mono_us(), us;
	unsigned long long mx;

	if ((st = natsMsg_Create(&m, subject, NULL, data->ptr, (int)data->size)) != NATS_OK)
		goto fail;
	bm_oid_fmt(hex, next);
	if ((st = natsMsgHeader_Set(m, "Bootmeta-Commit", hex)) != NATS_OK)
		goto fail;
	if (prev) {
		bm_oid_fmt(hex, prev);
		if ((st = natsMsgHeader_Set(m, "Bootmeta-Previous", hex)) != NATS_OK)
			goto fail;
	}
	if (n->js_on) {
		jsPubOptions po;
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		jsPubOptions_Init(&po);
		po.MaxWait = JS_WAIT_MS;
		po.MsgId = msgid;
		st = js_PublishMsg(&pa, n->js, m, &po, &jerr);
		jsPubAck_Destroy(pa);
		if (st == NATS_NO_RESPONDERS) {
			/* no stream and no subscriber took it: nobody missed it; look at the stream again */
			serve_log("warn", "nats-publish", "subject=%s jetstream=%s what=\"no stream took it; looking again\"",
				  subject, n->stream);
			pthread_mutex_lock(&n->lock);
			n->need_setup = 1;
			pthread_mutex_unlock(&n->lock);
		} else if (st != NATS_OK) {
			serve_log("warn", "nats-publish", "subject=%s jetstream=%s error=\"%s\" code=%d", subject, n->stream,
				  natsStatus_GetText(st), (int)jerr);
			goto fail_logged;
		}
	} else {
		if ((st = natsMsgHeader_Set(m, "Nats-Msg-Id", msgid)) != NATS_OK ||
		    (st = natsConnection_PublishMsg(n->nc, m)) != NATS_OK)
			goto fail;
	}
	natsMsg_Destroy(m);
	atomic_fetch_add(&n->published, 1);
	us = serve_mono_us() - t0;
	atomic_fetch_add(&n->pub_us_total, (unsigned long long)us);
	mx = atomic_load(&n->pub_us_max);
	while ((unsigned long long)us > mx && !atomic_compare_exchange_weak(&n->pub_us_max, &mx, (unsigned long long)us))
		;
	return 0;
fail:
	serve_log("warn", "nats-publish", "subject=%s error=\"%s\"", subject, natsStatus_GetText(st));
fail_logged:
	natsMsg_Destroy(m);
	atomic_fetch_add(&n->publish_errors, 1);
	return -1;
}

static int event_of(serve_nats *n, bm_buf *out, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths,
		    const char *prefix)
{
	size_t max = (size_t)natsConnection_GetMaxPayload(n->nc);
	bm_buf_clear(out);
	if (serve_event_json(out, n->st, prev, next, paths, prefix) < 0) {
		serve_log("warn", "nats-event", "error=\"%s\"", bm_error_last());
		bm_error_clear();
		return -1;
	}
	/* the headers take a few hundred bytes */
	if (max > 1024 && out->size > max - 1024)
		return serve_event_json_paths(out, prev, next, paths, prefix, max - 1024);
	return 0;
}

/* One commit: bootmeta.commit, then each prefix subject. 0, or -1 (not published). */
static int publish_commit(serve_nats *n, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths)
{
	bm_buf ev = BM_BUF_INIT, subj = BM_BUF_INIT, pre = BM_BUF_INIT, id = BM_BUF_INIT;
	bm_strlist subjects = BM_STRLIST_INIT, prefixes = BM_STRLIST_INIT;
	char hex[BM_OID_HEXSZ + 1];
	size_t i, k;
	int rc = -1;

	bm_oid_fmt(hex, next);
	if (event_of(n, &ev, prev, next, paths, "") < 0 || send_msg(n, "bootmeta.commit", hex, prev, next, &ev) < 0)
		goto done;
	for (i = 0; i < paths->count; i++) {
		int r = serve_nats_subject(&subj, &pre, paths->items[i]);
		if (r != 0)
			continue;
		for (k = subjects.count; k-- > 0;)
			if (!strcmp(subjects.items[k], subj.ptr))
				break;
		if (k != (size_t)-1)
			continue;
		if (subjects.count >= SUBJECTS_MAX)
			break;
		if (bm_strlist_add(&subjects, subj.ptr) < 0 || bm_strlist_add(&prefixes, pre.ptr) < 0)
			goto done;
	}
	for (i = 0; i < subjects.count; i++) {
		bm_buf_clear(&id);
		bm_buf_printf(&id, "%s:%s", hex, subjects.items[i] + strlen(SERVE_NATS_SUBJECT_ROOT));
		if (event_of(n, &ev, prev, next, paths, prefixes.items[i]) < 0 ||
		    send_msg(n, subjects.items[i], id.ptr, prev, next, &ev) < 0)
			goto done;
	}
	if (!n->js_on && natsConnection_FlushTimeout(n->nc, JS_WAIT_MS) != NATS_OK) {
		atomic_fetch_add(&n->publish_errors, 1);
		goto done;
	}
	atomic_fetch_add(&n->commits_published, 1);
	n->last = *next;
	n->has_last = 1;
	rc = 0;
done:
	bm_buf_dispose(&ev);
	bm_buf_dispose(&subj);
	bm_buf_dispose(&pre);
	bm_buf_dispose(&id);
	bm_strlist_dispose(&subjects);
	bm_strlist_dispose(&prefixes);
	return rc;
}

static int publish_changed(serve_nats *n, const bm_oid *prev, const bm_oid *next)
{
	bm_strlist paths = BM_STRLIST_INIT;
	int error = bm_store_changed(&paths, n->st, prev, next, NULL, SERVE_CHANGED_MAX), rc;
	if (error < 0 && error != BM_ETOOBIG) {
		serve_log("warn", "nats-event", "error=\"%s\"", bm_error_last());
		bm_error_clear();
		bm_strlist_dispose(&paths);
		return -1;
	}
	bm_error_clear();
	rc = publish_commit(n, prev, next, &paths);
	bm_strlist_dispose(&paths);
	return rc;
}

/* Publish what is between `last` and `target` from git: each commit on the first-parent
 * line, or one combined event when there are more than WALK_MAX, or one event from nothing
 * when main moved to another history. 0 when `last` is `target` (or newer) afterwards. */
static int publish_gap(serve_nats *n, const bm_oid *target)
{
	bm_oid *chain = NULL, c;
	size_t len = 0, i;
	int anc = 0, rc = -1;
	char a[BM_OID_HEXSZ + 1], b[BM_OID_HEXSZ + 1];

	if (!n->has_last)
		return publish_changed(n, NULL, target);
	if (bm_oid_equal(&n->last, target))
		return 0;
	if (bm_store_is_ancestor(&anc, n->st, target, &n->last) == 0 && anc)
		return 0; /* already published */
	bm_error_clear();
	bm_oid_fmt(a, &n->last);
	bm_oid_fmt(b, target);
	if (bm_store_is_ancestor(&anc, n->st, &n->last, target) < 0 || !anc) {
		bm_error_clear();
		serve_log("warn", "nats-gap", "from=%s to=%s what=\"not a descendant: one event from nothing\"", a, b);
		atomic_fetch_add(&n->gaps, 1);
		return publish_changed(n, NULL, target);
	}
	if (!(chain = malloc(WALK_MAX * sizeof(*chain))))
		return -1;
	c = *target;
	while (len < WALK_MAX && !bm_oid_equal(&c, &n->last)) {
		chain[len++] = c;
		if (bm_store_parent(&c, n->st, &c) < 0) {
			bm_error_clear();
			break;
		}
	}
	atomic_fetch_add(&n->gaps, 1);
	if (!bm_oid_equal(&c, &n->last)) {
		serve_log("info", "nats-gap", "from=%s to=%s commits=%d+ what=\"one combined event\"", a, b, WALK_MAX);
		rc = publish_changed(n, &n->last, target);
		goto done;
	}
	serve_log("info", "nats-gap", "from=%s to=%s commits=%zu", a, b, len);
	for (i = len; i-- > 0;) {
		bm_oid prev = n->last;
		if (publish_changed(n, &prev, &chain[i]) < 0)
			goto done;
	}
	rc = 0;
done:
	free(chain);
	return rc;
}

/* 1 when the stream's subjects take bootmeta.commit and bootmeta.change.> */
static int covers(const jsStreamInfo *si, const char *stream)
{
	int i, commit = 0, change = 0;
	if (!si->Config)
		return 0;
	for (i = 0; i < si->Config->SubjectsLen; i++) {
		const char *x = si->Config->Subjects[i];
		if (!strcmp(x, ">") || !strcmp(x, "bootmeta.>")) {
			commit = change = 1;
			serve_log("warn", "nats-jetstream", "stream=%s subject=\"%s\" what=\"it also takes the write requests on "
				  "bootmeta.write.*, and answers them before serve does; give it bootmeta.commit and "
				  "bootmeta.change.> only\"", stream, x);
		}
		else if (!strcmp(x, "bootmeta.commit"))
			commit = 1;
		else if (!strcmp(x, SERVE_NATS_SUBJECT_ROOT ">"))
			change = 1;
	}
	return commit && change;
}

/* (Re)connected: find or create the stream. */
static void setup_js(serve_nats *n)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus st;

	n->js_on = 0;
	if (!n->stream)
		return;
	if (!n->js) {
		jsOptions jo;
		jsOptions_Init(&jo);
		jo.Wait = JS_WAIT_MS;
		if ((st = natsConnection_JetStream(&n->js, n->nc, &jo)) != NATS_OK) {
			serve_log("warn", "nats-jetstream", "error=\"%s\"", natsStatus_GetText(st));
			return;
		}
	}
	st = js_GetStreamInfo(&si, n->js, n->stream, NULL, &jerr);
	if (st == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		jsStreamConfig cfg;
		const char *subjects[] = { "bootmeta.commit", SERVE_NATS_SUBJECT_ROOT ">" };
		jsStreamConfig_Init(&cfg);
		cfg.Name = n->stream;
		cfg.Description = "bootmeta serve: meta commits (bootmeta.commit) and changes by prefix (bootmeta.change.>)";
		cfg.Subjects = subjects;
		cfg.SubjectsLen = 2;
		cfg.Storage = js_FileStorage;
		cfg.MaxAge = n->o.max_age_s * 1000000000LL;
		cfg.MaxBytes = n->o.max_bytes;
		cfg.Duplicates = 3600LL * 1000000000LL; /* a retried publish is stored once within an hour */
		jerr = 0;
		st = js_AddStream(&si, n->js, &cfg, NULL, &jerr);
		if (st == NATS_OK)
			serve_log("info", "nats-jetstream", "stream=%s created=yes max_age_s=%lld max_bytes=%lld", n->stream,
				  (long long)n->o.max_age_s, (long long)n->o.max_bytes);
	} else if (st == NATS_OK && !covers(si, n->stream)) {
		/* a stream of that name that does not take our subjects: every publish would wait
		 * for an acknowledgement that never comes */
		serve_log("error", "nats-jetstream",
			  "stream=%s what=\"its subjects do not take bootmeta.commit and bootmeta.change.>: plain publishes, "
			  "no replay\"",
			  n->stream);
		jsStreamInfo_Destroy(si);
		return;
	} else if (st == NATS_OK) {
		serve_log("info", "nats-jetstream", "stream=%s created=no messages=%llu", n->stream,
			  (unsigned long long)si->State.Msgs);
	}
	jsStreamInfo_Destroy(si);
	if (st != NATS_OK) {
		serve_log("warn", "nats-jetstream", "stream=%s error=\"%s\" code=%d what=\"plain publishes, no replay%s\"",
			  n->stream, natsStatus_GetText(st), (int)jerr,
			  st == NATS_NO_RESPONDERS ? " (JetStream is off: start nats-server with -js for a stream "
						     "subscribers can replay)"
						   : "");
		return;
	}
	n->js_on = 1;
	if (!n->js_checked_last) {
		/* what a previous serve published last: the commits after it were missed while
		 * serve was down, publish them too */
		natsMsg *m = NULL;
		const char *v = NULL;
		bm_oid c;
		int anc = 0;
		n->js_checked_last = 1;
		jerr = 0;
		if (js_GetLastMsg(&m, n->js, n->stream, "bootmeta.commit", NULL, &jerr) == NATS_OK &&
		    natsMsgHeader_Get(m, "Bootmeta-Commit", &v) == NATS_OK && v && bm_oid_parse(&c, v) == 0 && n->has_last &&
		    !bm_oid_equal(&c, &n->last) && bm_store_is_ancestor(&anc, n->st, &c, &n->last) == 0 && anc) {
			pthread_mutex_lock(&n->lock);
			if (!n->behind) {
				n->want = n->last;
				n->want_seq = 0;
				n->behind = 1;
			}
			pthread_mutex_unlock(&n->lock);
			n->last = c;
			serve_log("info", "nats-resume", "stream=%s last_published=%s", n->stream, v);
		}
		bm_error_clear();
		natsMsg_Destroy(m);
	}
}

/* (lock held) the gap now ends at `c` unless it ends at a newer commit already */
static void behind_to(serve_nats *n, const bm_oid *c, uint64_t seq)
{
	if (!n->behind || seq > n->want_seq) {
		n->want = *c;
		n->want_seq = seq;
	}
	n->behind = 1;
}

static void mark_behind(serve_nats *n, const bm_oid *c, uint64_t seq)
{
	pthread_mutex_lock(&n->lock);
	behind_to(n, c, seq);
	pthread_mutex_unlock(&n->lock);
}

static void *pub_main(void *arg)
{
	serve_nats *n = arg;
	int64_t stop_deadline = 0;
	for (;;) {
		pub_item *it = NULL;
		int setup = 0, gap = 0, conn, rc = 0;
		bm_oid target;
		uint64_t target_seq = 0;

		pthread_mutex_lock(&n->lock);
		for (;;) {
			conn = atomic_load(&n->connected);
			/* nothing can go out: keep only where the gap ends */
			while (!conn && n->qhead) {
				it = n->qhead;
				n->qhead = it->next;
				n->qlen--;
				behind_to(n, &it->next_commit, it->seq);
				item_free(it);
				it = NULL;
			}
			if (!n->qhead)
				n->qtail = NULL;
			if (n->stop || (conn && (n->need_setup || n->behind || n->qhead)))
				break;
			{
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += 1;
				pthread_cond_timedwait(&n->cond, &n->lock, &ts);
			}
		}
		if (n->stop) {
			/* at the stop: what is queued still goes out while connected, for a bounded time */
			if (!stop_deadline)
				stop_deadline = serve_mono_us() + STOP_WAIT_US;
			if (!conn || (!n->qhead && !n->behind) || serve_mono_us() > stop_deadline) {
				pthread_mutex_unlock(&n->lock);
				break;
			}
		}
		if (n->need_setup) {
			setup = 1;
			n->need_setup = 0;
		} else if (n->qhead) {
			it = n->qhead;
			n->qhead = it->next;
			if (!n->qhead)
				n->qtail = NULL;
			n->qlen--;
		} else if (n->behind) {
			gap = 1;
			target = n->want;
			target_seq = n->want_seq;
			n->behind = 0;
		}
		pthread_mutex_unlock(&n->lock);

		if (setup) {
			setup_js(n);
		} else if (gap) {
			if ((rc = publish_gap(n, &target)) < 0)
				mark_behind(n, &target, target_seq);
		} else if (it) {
			if (!it->has_prev || !n->has_last || bm_oid_equal(&it->prev, &n->last))
				rc = publish_commit(n, it->has_prev ? &it->prev : NULL, &it->next_commit, &it->paths);
			else
				rc = publish_gap(n, &it->next_commit); /* something before it is missing */
			if (rc < 0)
				mark_behind(n, &it->next_commit, it->seq);
			item_free(it);
		}
		if (rc < 0 && atomic_load(&n->connected)) {
			/* failed while connected (a slow JetStream ...): retry, but not in a tight loop */
			struct timespec d = { 0, 200 * 1000000L };
			nanosleep(&d, NULL);
		}
	}
	return NULL;
}

/* ---- write requests ---- */

static void send_reply(serve_nats *n, const char *reply, serve_answer *a)
{
	natsMsg *m = NULL;
	char status[16];
	int i;
	if (natsMsg_Create(&m, reply, NULL, a->body.ptr ? a->body.ptr : "", (int)a->body.size) != NATS_OK) {
		serve_log("warn", "nats-reply", "error=\"out of memory\"");
		return;
	}
	snprintf(status, sizeof(status), "%u", a->status);
	natsMsgHeader_Set(m, "Bootmeta-Status", status);
	if (a->etag[0])
		natsMsgHeader_Set(m, "Bootmeta-Commit", a->etag);
	for (i = 0; i < a->nhdr && i < 4; i++)
		natsMsgHeader_Set(m, a->hdr_name[i], a->hdr_value[i]);
	if (natsConnection_PublishMsg(n->nc, m) != NATS_OK)
		serve_log("warn", "nats-reply", "error=\"%s\"", nats_GetLastError(NULL));
	natsMsg_Destroy(m);
}

static void log_write(const char *kind, serve_answer *a, int64_t t0)
{
	serve_log("info", "nats-write", "kind=%.32s status=%u commit=%s dur_ms=%.3f", kind, a->status,
		  a->etag[0] ? a->etag : "-", (double)(serve_mono_us() - t0) / 1000.0);
}

/* writer thread: hand the finished job to the replier */
static void job_done(serve_job *job, void *payload)
{
	wctx *c = payload;
	serve_nats *n = c->n;
	reply_item *r = calloc(1, sizeof(*r));
	if (!r) {
		/* no memory for the hand-over: answer here */
		serve_answer a;
		serve_job_take(job, &a);
		send_reply(n, c->reply, &a);
		serve_answer_dispose(&a);
		atomic_fetch_sub(&n->inflight, 1);
		free(c->reply);
		free(c);
		return;
	}
	r->job = job;
	r->c = c;
	pthread_mutex_lock(&n->lock);
	if (n->rtail)
		n->rtail->next = r;
	else
		n->rhead = r;
	n->rtail = r;
	pthread_cond_signal(&n->rcond);
	pthread_mutex_unlock(&n->lock);
}

static void *rep_main(void *arg)
{
	serve_nats *n = arg;
	for (;;) {
		reply_item *r;
		wctx *c;
		serve_answer a;
		pthread_mutex_lock(&n->lock);
		while (!n->rhead && !n->rep_stop)
			pthread_cond_wait(&n->rcond, &n->lock);
		if (!(r = n->rhead)) {
			pthread_mutex_unlock(&n->lock);
			break;
		}
		n->rhead = r->next;
		if (!n->rhead)
			n->rtail = NULL;
		pthread_mutex_unlock(&n->lock);
		c = r->c;
		serve_job_take(r->job, &a);
		send_reply(n, c->reply, &a);
		log_write(c->kind, &a, c->t0);
		serve_answer_dispose(&a);
		atomic_fetch_sub(&n->inflight, 1);
		free(c->reply);
		free(c);
		free(r);
	}
	return NULL;
}

/* nats.c's delivery thread: check, submit, answer at once or when the writer is done */
static void on_write(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	serve_nats *n = closure;
	serve *s = n->s;
	const char *subject = natsMsg_GetSubject(msg), *reply = natsMsg_GetReply(msg);
	const char *kind = subject + strlen(WRITE_PREFIX);
	const char *data = natsMsg_GetData(msg);
	size_t len = (size_t)natsMsg_GetDataLength(msg);
	bm_buf url = BM_BUF_INIT, body = BM_BUF_INIT, err = BM_BUF_INIT;
	serve_answer a;
	serve_rq r;
	serve_job *job = NULL;
	wctx *c = NULL;
	int64_t t0 = serve_mono_us();
	int error;
	(void)nc;
	(void)sub;

	atomic_fetch_add(&n->wreq, 1);
	serve_answer_init(&a);
	if (!reply || !*reply) {
		/* nobody to tell the outcome: not taken */
		atomic_fetch_add(&n->wreq_refused, 1);
		serve_log("warn", "nats-write", "subject=%.80s what=\"no reply subject: use a request (request-reply)\"", subject);
		goto done;
	}
	if (strncmp(subject, WRITE_PREFIX, strlen(WRITE_PREFIX))) {
		serve_answer_error(&a, 404, 0, "no write subject %.80s", subject);
		goto answer;
	}
	if (atomic_fetch_add(&n->inflight, 1) >= n->o.inflight) {
		atomic_fetch_sub(&n->inflight, 1);
		atomic_fetch_add(&n->wreq_busy, 1);
		serve_answer_error(&a, 503, 0, "too many NATS write requests in flight (--nats-inflight %u); retry later",
				   n->o.inflight);
		serve_answer_header(&a, "Retry-After", "1");
		goto answer;
	}
	if (len > s->body_max) {
		atomic_fetch_add(&s->m.body_413, 1);
		serve_answer_error(&a, 413, BM_ETOOBIG, "the body is %zu bytes, over the bound of %zu (--body-max)", len,
				   s->body_max);
		goto answer_inflight;
	}
	if ((error = serve_nats_write_parse(&url, &body, kind, data ? data : "", len, &err)) < 0) {
		if (error == BM_EINVALID)
			atomic_fetch_add(&s->m.body_400, 1);
		serve_answer_error(&a, error == BM_ENOTFOUND ? 404 : error == BM_ENOMEM ? 500 : 400, error, "%s",
				   err.ptr ? err.ptr : "bad request");
		goto answer_inflight;
	}
	memset(&r, 0, sizeof(r));
	r.url = url.ptr;
	r.method = !strcmp(kind, "hook-rm") ? "DELETE" : "POST";
	r.conn = NULL;
	natsMsgHeader_Get(msg, "Authorization", &r.authorization);
	natsMsgHeader_Get(msg, "If-Match", &r.if_match);
	natsMsgHeader_Get(msg, "Nats-Msg-Id", &r.idempotency_key);
	if (!(c = calloc(1, sizeof(*c))) || !(c->reply = strdup(reply))) {
		free(c);
		c = NULL;
		serve_answer_error(&a, 500, BM_ENOMEM, "out of memory");
		goto answer_inflight;
	}
	c->n = n;
	c->t0 = t0;
	snprintf(c->kind, sizeof(c->kind), "%s", kind);
	if (serve_write_submit(s, &r, body.ptr ? body.ptr : "", body.size, &a, &job, job_done, c) == 1) {
		/* queued: job_done answers (c belongs to it now) */
		c = NULL;
		goto done;
	}
answer_inflight:
	atomic_fetch_sub(&n->inflight, 1);
answer:
	if (a.status >= 400)
		atomic_fetch_add(&n->wreq_refused, 1);
	send_reply(n, reply, &a);
	log_write(kind, &a, t0);
done:
	if (c) {
		free(c->reply);
		free(c);
	}
	serve_answer_dispose(&a);
	bm_buf_dispose(&url);
	bm_buf_dispose(&body);
	bm_buf_dispose(&err);
	natsMsg_Destroy(msg);
}

/* ---- notices: another serve published a commit on bootmeta.commit ---- */

static void on_notice(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	serve_nats *n = closure;
	(void)nc;
	(void)sub;
	/* no echo: this is another process's commit; with --upstream, fetch it now rather than
	 * at the next poll */
	atomic_fetch_add(&n->notices, 1);
	serve_upstream_fetch_soon(n->s);
	natsMsg_Destroy(msg);
}

int serve_nats_notices(serve *s)
{
	serve_nats *n = s->nats;
	natsStatus st;
	if (!n)
		return 0;
	if ((st = natsConnection_Subscribe(&n->nsub, n->nc, "bootmeta.commit", on_notice, n)) != NATS_OK) {
		serve_log("error", "nats", "subject=bootmeta.commit error=\"%s\"", natsStatus_GetText(st));
		return -1;
	}
	serve_log("info", "nats-notices", "what=\"a commit another serve publishes on bootmeta.commit fetches the upstream\"");
	return 0;
}

/* ---- start and stop ---- */

int serve_nats_start(serve *s, const serve_nats_options *o)
{
	serve_nats *n = calloc(1, sizeof(*n));
	natsStatus st;
	bm_oid tip;

	if (!n) {
		serve_log("error", "nats", "error=\"out of memory\"");
		return -1;
	}
	n->s = s;
	n->o = *o;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	pthread_cond_init(&n->rcond, NULL);
	s->nats = n;
	if (!(n->url = strdup(o->url)) || (o->stream && !(n->stream = strdup(o->stream))))
		goto fail_mem;
	if (bm_store_open(&n->st, s->repo) < 0) {
		serve_log("error", "nats", "repo=%s error=\"%s\"", s->repo, bm_error_last());
		return -1;
	}
	/* publishing starts after the tip at start (and, with JetStream, after what the stream
	 * holds last: setup_js) */
	if (bm_store_tip(&tip, n->st) == 0) {
		n->last = tip;
		n->has_last = 1;
	}
	bm_error_clear();
	if ((st = natsOptions_Create(&n->opts)) != NATS_OK || (st = natsOptions_SetURL(n->opts, n->url)) != NATS_OK ||
	    (st = natsOptions_SetName(n->opts, "bootmeta-serve")) != NATS_OK ||
	    (st = natsOptions_SetAllowReconnect(n->opts, true)) != NATS_OK ||
	    (st = natsOptions_SetMaxReconnect(n->opts, -1)) != NATS_OK ||
	    (st = natsOptions_SetReconnectWait(n->opts, 500)) != NATS_OK ||
	    (st = natsOptions_SetReconnectJitter(n->opts, 100, 1000)) != NATS_OK ||
	    (st = natsOptions_SetReconnectBufSize(n->opts, 8 * 1024 * 1024)) != NATS_OK ||
	    (st = natsOptions_SetTimeout(n->opts, 2000)) != NATS_OK ||
	    (st = natsOptions_SetPingInterval(n->opts, 10000)) != NATS_OK ||
	    (st = natsOptions_SetMaxPingsOut(n->opts, 2)) != NATS_OK ||
	    (st = natsOptions_SetNoEcho(n->opts, true)) != NATS_OK ||
	    (st = natsOptions_SetRetryOnFailedConnect(n->opts, true, on_connected, n)) != NATS_OK ||
	    (st = natsOptions_SetDisconnectedCB(n->opts, on_disconnected, n)) != NATS_OK ||
	    (st = natsOptions_SetReconnectedCB(n->opts, on_reconnected, n)) != NATS_OK ||
	    (st = natsOptions_SetClosedCB(n->opts, on_closed, n)) != NATS_OK ||
	    (st = natsOptions_SetErrorHandler(n->opts, on_error, n)) != NATS_OK) {
		serve_log("error", "nats", "url=%s error=\"%s\"", n->url, natsStatus_GetText(st));
		return -1;
	}
	st = natsConnection_Connect(&n->nc, n->opts);
	if (st == NATS_OK) {
		on_connected(n->nc, n);
	} else if (st == NATS_NOT_YET_CONNECTED) {
		serve_log("warn", "nats-connecting", "url=%s what=\"not up yet; serve goes on, and connects when it is\"",
			  n->url);
	} else {
		serve_log("error", "nats", "url=%s error=\"%s\"", n->url, natsStatus_GetText(st));
		return -1;
	}
	if ((st = natsConnection_QueueSubscribe(&n->wsub, n->nc, WRITE_SUBJECT, QUEUE_GROUP, on_write, n)) != NATS_OK ||
	    (st = natsSubscription_SetPendingLimits(n->wsub, 65536, 64 * 1024 * 1024)) != NATS_OK) {
		serve_log("error", "nats", "subject=%s error=\"%s\"", WRITE_SUBJECT, natsStatus_GetText(st));
		return -1;
	}
	if (serve_add_commit_hook(s, hook, n) < 0) {
		serve_log("error", "nats", "error=\"no room for the commit hook\"");
		return -1;
	}
	if (pthread_create(&n->pub, NULL, pub_main, n) != 0)
		goto fail_thread;
	n->pub_started = 1;
	if (pthread_create(&n->rep, NULL, rep_main, n) != 0)
		goto fail_thread;
	n->rep_started = 1;
	serve_log("info", "nats", "url=%s stream=%s writes=%s inflight=%u", n->url, n->stream ? n->stream : "off",
		  WRITE_SUBJECT, n->o.inflight);
	return 0;
fail_thread:
	serve_log("error", "nats", "error=\"cannot start a thread\"");
	return -1;
fail_mem:
	serve_log("error", "nats", "error=\"out of memory\"");
	return -1;
}

void serve_nats_quiesce(serve *s)
{
	serve_nats *n = s->nats;
	if (!n || !n->wsub)
		return;
	/* no new requests; the ones being handled go on (serve_write_submit answers 503 now) */
	natsSubscription_Unsubscribe(n->wsub);
	if (n->nsub)
		natsSubscription_Unsubscribe(n->nsub);
}

void serve_nats_stop(serve *s)
{
	serve_nats *n = s->nats;
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = 1;
	n->rep_stop = 1;
	pthread_cond_broadcast(&n->cond);
	pthread_cond_broadcast(&n->rcond);
	pthread_mutex_unlock(&n->lock);
	if (n->rep_started)
		pthread_join(n->rep, NULL);
	if (n->pub_started)
		pthread_join(n->pub, NULL);
	if (n->nc) {
		natsConnection_FlushTimeout(n->nc, 1000);
		natsConnection_Close(n->nc);
	}
	natsSubscription_Destroy(n->wsub);
	natsSubscription_Destroy(n->nsub);
	jsCtx_Destroy(n->js);
	natsConnection_Destroy(n->nc);
	natsOptions_Destroy(n->opts);
	nats_CloseAndWait(2000);
	while (n->qhead) {
		pub_item *it = n->qhead;
		n->qhead = it->next;
		item_free(it);
	}
	bm_store_free(n->st);
	free(n->url);
	free(n->stream);
	s->nats = NULL;
	free(n);
}

/* ---- /metrics ---- */

void serve_nats_metrics(serve *s, bm_buf *out)
{
	serve_nats *n = s->nats;
	size_t q;
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	q = n->qlen;
	pthread_mutex_unlock(&n->lock);
	bm_buf_printf(out,
		      "# HELP bootmeta_nats_connected 1 while serve is connected to NATS.\n"
		      "# TYPE bootmeta_nats_connected gauge\nbootmeta_nats_connected %d\n"
		      "# HELP bootmeta_nats_jetstream 1 while commits go into the JetStream stream.\n"
		      "# TYPE bootmeta_nats_jetstream gauge\nbootmeta_nats_jetstream %d\n"
		      "# HELP bootmeta_nats_published_total Messages published (bootmeta.commit and bootmeta.change.*).\n"
		      "# TYPE bootmeta_nats_published_total counter\nbootmeta_nats_published_total %llu\n"
		      "# HELP bootmeta_nats_commits_published_total Meta commits published.\n"
		      "# TYPE bootmeta_nats_commits_published_total counter\nbootmeta_nats_commits_published_total %llu\n"
		      "# HELP bootmeta_nats_publish_errors_total Publishes that failed (retried from git later).\n"
		      "# TYPE bootmeta_nats_publish_errors_total counter\nbootmeta_nats_publish_errors_total %llu\n"
		      "# HELP bootmeta_nats_publish_seconds Time to publish one message (with JetStream: until acknowledged).\n"
		      "# TYPE bootmeta_nats_publish_seconds summary\nbootmeta_nats_publish_seconds_sum %.6f\n"
		      "bootmeta_nats_publish_seconds_count %llu\n"
		      "# HELP bootmeta_nats_publish_seconds_max The longest publish so far.\n"
		      "# TYPE bootmeta_nats_publish_seconds_max gauge\nbootmeta_nats_publish_seconds_max %.6f\n"
		      "# HELP bootmeta_nats_gaps_total Spans of commits published from git after NATS was away.\n"
		      "# TYPE bootmeta_nats_gaps_total counter\nbootmeta_nats_gaps_total %llu\n"
		      "# HELP bootmeta_nats_publish_queue Commits waiting for the publisher.\n"
		      "# TYPE bootmeta_nats_publish_queue gauge\nbootmeta_nats_publish_queue %zu\n"
		      "# HELP bootmeta_nats_reconnects_total Reconnections to NATS.\n"
		      "# TYPE bootmeta_nats_reconnects_total counter\nbootmeta_nats_reconnects_total %llu\n"
		      "# HELP bootmeta_nats_disconnects_total Losses of the NATS connection.\n"
		      "# TYPE bootmeta_nats_disconnects_total counter\nbootmeta_nats_disconnects_total %llu\n"
		      "# HELP bootmeta_nats_write_requests_total Write requests on bootmeta.write.*.\n"
		      "# TYPE bootmeta_nats_write_requests_total counter\nbootmeta_nats_write_requests_total %llu\n"
		      "# HELP bootmeta_nats_write_refused_total NATS write requests answered at once with an error, by reason.\n"
		      "# TYPE bootmeta_nats_write_refused_total counter\n"
		      "bootmeta_nats_write_refused_total{reason=\"request\"} %llu\n"
		      "bootmeta_nats_write_refused_total{reason=\"busy\"} %llu\n"
		      "# HELP bootmeta_nats_notices_total Commits other serves announced on bootmeta.commit (--upstream).\n"
		      "# TYPE bootmeta_nats_notices_total counter\nbootmeta_nats_notices_total %llu\n"
		      "# HELP bootmeta_nats_write_inflight NATS write requests being handled.\n"
		      "# TYPE bootmeta_nats_write_inflight gauge\nbootmeta_nats_write_inflight %u\n",
		      atomic_load(&n->connected), atomic_load(&n->connected) && n->js_on,
		      (unsigned long long)atomic_load(&n->published), (unsigned long long)atomic_load(&n->commits_published),
		      (unsigned long long)atomic_load(&n->publish_errors), (double)atomic_load(&n->pub_us_total) / 1e6,
		      (unsigned long long)atomic_load(&n->published), (double)atomic_load(&n->pub_us_max) / 1e6,
		      (unsigned long long)atomic_load(&n->gaps), q, (unsigned long long)atomic_load(&n->reconnects),
		      (unsigned long long)atomic_load(&n->disconnects), (unsigned long long)atomic_load(&n->wreq),
		      (unsigned long long)atomic_load(&n->wreq_refused), (unsigned long long)atomic_load(&n->wreq_busy),
		      (unsigned long long)atomic_load(&n->notices), atomic_load(&n->inflight));
}

static void no_callback(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
}

natsStatus serve_nats_client_options(natsOptions **out, const char *url, const char *name,
				     natsConnectionHandler connected, void *closure)
{
	natsOptions *o = NULL;
	natsStatus st;
	if ((st = natsOptions_Create(&o)) != NATS_OK || (st = natsOptions_SetURL(o, url)) != NATS_OK ||
	    (st = natsOptions_SetName(o, name)) != NATS_OK || (st = natsOptions_SetAllowReconnect(o, true)) != NATS_OK ||
	    (st = natsOptions_SetMaxReconnect(o, -1)) != NATS_OK || (st = natsOptions_SetReconnectWait(o, 1000)) != NATS_OK ||
	    (st = natsOptions_SetTimeout(o, 5000)) != NATS_OK ||
	    (st = natsOptions_SetRetryOnFailedConnect(o, true, connected ? connected : no_callback, closure)) != NATS_OK) {
		natsOptions_Destroy(o);
		o = NULL;
	}
	*out = o;
	return st;
}
