/* serve_watch.c: the follower side of `bootmeta serve`. The hub thread looks at main after
 * every commit the writer makes (and every --poll-ms, for commits made by anyone else) and
 * turns each new commit into an event: the commit, the previous one, the paths it changed
 * and, for a watcher's prefix, the changed records themselves. Watchers are Server-Sent
 * Event streams (`id:` is the commit; Last-Event-ID resumes) and long polls (?wait=30s).
 * A watcher that resumes from a commit gets every change since then (from the ring of the
 * last SERVE_RING events, or one combined event computed from git), or 410 when that
 * commit is not in main's history: never a silent gap. A stream that does not read is
 * dropped once --watch-buffer bytes wait for it. */
#include "serve.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WALK_MAX 1000         /* commits turned into events one by one; past it: one event */
#define KEEPALIVE_US (15 * 1000000LL)
#define SERVE_HINTS 64        /* the writer's last commits whose paths the hub is told */
#define SERVE_POLL_EVENTS_MAX 256 /* events in one long-poll answer */

/* What one commit of the writer added (bm_txn_file_*): a write only adds files, so these
 * are exactly the paths a diff of the two trees would list, in the same order once sorted. */
typedef struct serve_hint {
	bm_oid prev, next;
	int has_prev, used;
	bm_strlist paths;
} serve_hint;

typedef struct serve_event {
	bm_oid prev, next;
	int has_prev;
	bm_strlist paths;
	int truncated;
} serve_event;

struct serve_watcher {
	serve_watcher *next, *prev;
	serve *s;
	struct MHD_Connection *conn;
	char *prefix;
	int sse, linked, suspended, closed, ready;
	int full;           /* long poll: the answer holds all it may; `last` stays where it ends */
	int failed;         /* long poll: an event could not be read, and it holds none: 503 */
	bm_oid held;        /* long poll: the last event it holds */
	bm_buf out;         /* SSE: bytes not sent yet; long poll: the events so far */
	size_t off, nevents;
	int64_t deadline_us, last_us;
	bm_oid last;
};

static void link_watcher(serve *s, serve_watcher *w)
{
	w->next = s->watchers;
	w->prev = NULL;
	if (s->watchers)
		s->watchers->prev = w;
	s->watchers = w;
	w->linked = 1;
	if (w->sse)
		atomic_fetch_add(&s->m.watchers, 1);
	else
		atomic_fetch_add(&s->m.longpolls, 1);
}

static void unlink_watcher(serve *s, serve_watcher *w)
{
	if (!w->linked)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		s->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->linked = 0;
	if (w->sse)
		atomic_fetch_sub(&s->m.watchers, 1);
	else
		atomic_fetch_sub(&s->m.longpolls, 1);
}

static void watcher_free(serve_watcher *w)
{
	if (!w)
		return;
	free(w->prefix);
	bm_buf_dispose(&w->out);
	free(w);
}

static void wake(serve_watcher *w)
{
	if (w->suspended) {
		w->suspended = 0;
		MHD_resume_connection(w->conn);
	}
}

/* ---- events ---- */

static int under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return !n || !strncmp(path, prefix, n);
}

/* {"commit", "previous", "prefix", "paths": [ -- the start both renderings share */
static void event_head(bm_buf *out, const bm_oid *prev, const bm_oid *next, const char *prefix)
{
	char hex[BM_OID_HEXSZ + 1];
	bm_oid_fmt(hex, next);
	bm_buf_printf(out, "{\"commit\":\"%s\",\"previous\":", hex);
	if (prev) {
		bm_oid_fmt(hex, prev);
		bm_buf_printf(out, "\"%s\"", hex);
	} else {
		bm_buf_puts(out, "null");
	}
	bm_buf_puts(out, ",\"prefix\":");
	bm_json_escape(out, prefix);
	bm_buf_puts(out, ",\"paths\":[");
}

int serve_event_json(bm_buf *out, bm_store *st, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths,
		     const char *prefix)
{
	bm_fs *fs = NULL;
	size_t i, n = 0, nrec = 0;
	int truncated = 0, error = 0, ex;

	event_head(out, prev, next, prefix);
	for (i = 0; i < paths->count; i++) {
		if (!under(paths->items[i], prefix))
			continue;
		if (n++)
			bm_buf_putc(out, ',');
		bm_json_escape(out, paths->items[i]);
	}
	bm_buf_puts(out, "],\"records\":{");
	if ((error = bm_store_fs(&fs, st, next)) < 0)
		goto done;
	for (i = 0; i < paths->count; i++) {
		size_t mark;
		if (!under(paths->items[i], prefix))
			continue;
		if (nrec >= SERVE_EVENT_RECORDS) {
			truncated = 1;
			break;
		}
		if (nrec++)
			bm_buf_putc(out, ',');
		bm_json_escape(out, paths->items[i]);
		bm_buf_putc(out, ':');
		mark = out->size;
		if ((ex = bm_fs_exists(fs, paths->items[i])) < 0) {
			error = ex; /* a read error is not "gone" */
			goto done;
		}
		if (ex == 1 && serve_record_json(out, fs, paths->items[i]) == 0)
			continue;
		if (ex == 1 && (bm_error_last_code() == BM_ENOMEM || bm_error_last_code() == BM_EIO)) {
			error = bm_error_last_code();
			goto done;
		}
		/* gone, or not a record bootmeta knows: null (read it with git) */
		out->size = mark;
		out->ptr[mark] = '\0';
		bm_buf_puts(out, "null");
		bm_error_clear();
	}
	bm_buf_printf(out, "},\"truncated\":%s}", truncated ? "true" : "false");
done:
	bm_fs_free(fs);
	return error;
}

int serve_event_json_paths(bm_buf *out, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths, const char *prefix,
		       size_t max)
{
	size_t i, np = strlen(prefix);
	bm_buf_clear(out);
	event_head(out, prev, next, prefix);
	for (i = 0; i < paths->count; i++) {
		size_t mark = out->size;
		if (strncmp(paths->items[i], prefix, np))
			continue;
		if (mark && out->ptr[mark - 1] != '[')
			bm_buf_putc(out, ',');
		bm_json_escape(out, paths->items[i]);
		if (out->size + 64 > max) {
			out->size = mark;
			out->ptr[mark] = '\0';
			break;
		}
	}
	return bm_buf_puts(out, "],\"records\":{},\"truncated\":true}");
}

static int event_matches(const serve_event *e, const char *prefix)
{
	size_t i;
	if (!*prefix)
		return 1;
	for (i = 0; i < e->paths.count; i++)
		if (under(e->paths.items[i], prefix))
			return 1;
	return 0;
}

/* A commit with nothing for `w` (hub lock held): its position moves past it, unless its
 * long-poll answer is full (the next poll starts at the last event it holds). */
static void pass(serve_watcher *w, const bm_oid *next)
{
	if (!w->full)
		w->last = *next;
}

/* The event before `next` could not be read for `w` (hub lock held). Never skipped: the
 * answer ends before it (a stream ends; it resumes from the last id it got), and the next
 * try reads it again. */
static void not_read(serve *s, serve_watcher *w, const bm_oid *next)
{
	char hex[BM_OID_HEXSZ + 1];
	bm_oid_fmt(hex, next);
	serve_log("warn", "event", "commit=%s prefix=\"%s\" error=\"%s\"", hex, w->prefix, bm_error_last());
	atomic_fetch_add(&s->m.watch_errors, 1);
	if (w->sse) {
		w->closed = 1;
		bm_buf_puts(&w->out, "event: error\ndata: {\"error\":\"serve could not read the next event; "
				     "reconnect with Last-Event-ID\"}\n\n");
	} else {
		w->full = 1;
		w->failed = !w->nevents;
		w->ready = 1;
	}
	bm_error_clear();
	wake(w);
}

/* Add one event to a watcher (hub lock held). A long poll collects every event until it is
 * answered, up to --watch-buffer bytes: `last`, the answer's metaCommit, is the last event
 * it holds, so the next poll from there misses none. */
static void deliver(serve *s, serve_watcher *w, bm_store *st, const bm_oid *prev, const bm_oid *next,
		    const bm_strlist *paths)
{
	bm_buf ev = BM_BUF_INIT;
	char hex[BM_OID_HEXSZ + 1];
	if (w->full)
		return;
	if (w->closed) {
		w->last = *next;
		return;
	}
	if (!w->sse && w->nevents >= SERVE_POLL_EVENTS_MAX) {
		w->full = 1; /* the rest is for the next poll (not rendered: under the hub lock) */
		w->last = w->held;
		return;
	}
	if (serve_event_json(&ev, st, prev, next, paths, w->prefix) < 0) {
		bm_buf_dispose(&ev);
		not_read(s, w, next);
		return;
	}
	bm_oid_fmt(hex, next);
	w->last = *next;
	if (w->sse) {
		if (w->out.size - w->off + ev.size > s->watch_buf) {
			/* it does not read: end it; it resumes from the last id it got */
			w->closed = 1;
			atomic_fetch_add(&s->m.watch_dropped, 1);
			bm_buf_puts(&w->out, "event: dropped\ndata: {\"error\":\"this stream did not read its events; "
					     "reconnect with Last-Event-ID\"}\n\n");
			serve_log("warn", "watch-dropped", "prefix=\"%s\" queued=%zu", w->prefix, w->out.size - w->off);
		} else {
			bm_buf_printf(&w->out, "id: %s\nevent: commit\ndata: ", hex);
			bm_buf_put(&w->out, ev.ptr, ev.size);
			bm_buf_puts(&w->out, "\n\n");
			w->last_us = serve_mono_us();
		}
		wake(w);
	} else {
		/* bounded in bytes and in count: each event is rendered under the hub lock */
		if (w->nevents && w->out.size + 1 + ev.size > s->watch_buf) {
			w->full = 1; /* the rest is for the next poll */
			w->last = w->held;
			bm_buf_dispose(&ev);
			return;
		}
		w->held = *next;
		if (w->nevents++)
			bm_buf_putc(&w->out, ',');
		bm_buf_put(&w->out, ev.ptr, ev.size);
		w->ready = 1;
		wake(w);
	}
	atomic_fetch_add(&s->m.watch_events, 1);
	bm_buf_dispose(&ev);
}

static void ring_push(serve *s, serve_event *e)
{
	serve_event *slot;
	if (s->ring_len == SERVE_RING) {
		slot = &s->ring[s->ring_start];
		bm_strlist_dispose(&slot->paths);
		s->ring_start = (s->ring_start + 1) % SERVE_RING;
		s->ring_len--;
	}
	slot = &s->ring[(s->ring_start + s->ring_len) % SERVE_RING];
	*slot = *e;
	memset(e, 0, sizeof(*e));
	s->ring_len++;
	s->ring_seq++;
}

/* The ring index of the event whose commit is `c`; -1 when not in the ring. */
static long ring_find(serve *s, const bm_oid *c)
{
	size_t i;
	for (i = s->ring_len; i-- > 0;)
		if (bm_oid_equal(&s->ring[(s->ring_start + i) % SERVE_RING].next, c))
			return (long)i;
	return -1;
}

static serve_event *ring_at(serve *s, size_t i)
{
	return &s->ring[(s->ring_start + i) % SERVE_RING];
}

/* ---- the hub thread ---- */

void serve_hub_hint(serve *s, const bm_oid *prev, const bm_oid *next, const bm_strlist *files)
{
	serve_hint *h;
	size_t i;
	/* a batch that made no commit names no change: a hint of X after X would make X its
	 * own parent */
	if (!s->hints || files->count > SERVE_CHANGED_MAX || (prev && bm_oid_equal(prev, next)))
		return;
	pthread_mutex_lock(&s->hlock);
	h = &s->hints[s->hint_next++ % SERVE_HINTS];
	bm_strlist_dispose(&h->paths);
	h->used = 0;
	for (i = 0; i < files->count; i++)
		if (bm_strlist_add(&h->paths, files->items[i]) < 0) {
			bm_strlist_dispose(&h->paths);
			bm_error_clear();
			pthread_mutex_unlock(&s->hlock);
			return;
		}
	bm_strlist_sort(&h->paths);
	h->next = *next;
	h->has_prev = prev != NULL;
	if (prev)
		h->prev = *prev;
	h->used = 1;
	pthread_mutex_unlock(&s->hlock);
}

/* The hinted paths of the event e (moved into it): 1, else 0. */
static int take_hint(serve *s, serve_event *e)
{
	size_t i;
	int found = 0;
	pthread_mutex_lock(&s->hlock);
	for (i = 0; i < SERVE_HINTS && s->hints; i++) {
		serve_hint *h = &s->hints[i];
		if (h->used && bm_oid_equal(&h->next, &e->next) && h->has_prev == e->has_prev &&
		    (!e->has_prev || bm_oid_equal(&h->prev, &e->prev))) {
			e->paths = h->paths;
			memset(&h->paths, 0, sizeof(h->paths));
			h->used = 0;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&s->hlock);
	return found;
}

/* The parent the writer named for its own commit `c`, without reading git (a reader's
 * object database finds a commit that is in a pack newer than it has seen only after
 * rescanning the pack folder: a third of serve's CPU per commit went to the hub's and the
 * webhook dispatcher's looks): 1, else 0. */
static int hint_parent(serve *s, bm_oid *parent, const bm_oid *c)
{
	size_t i;
	int found = 0;
	pthread_mutex_lock(&s->hlock);
	for (i = 0; i < SERVE_HINTS && s->hints && !found; i++) {
		serve_hint *h = &s->hints[i];
		if (h->used && h->has_prev && bm_oid_equal(&h->next, c)) {
			*parent = h->prev;
			found = 1;
		}
	}
	pthread_mutex_unlock(&s->hlock);
	return found;
}

static int changed(serve_event *e, bm_store *st)
{
	int error = bm_store_changed(&e->paths, st, e->has_prev ? &e->prev : NULL, &e->next, NULL, SERVE_CHANGED_MAX);
	if (error == BM_ETOOBIG) {
		e->truncated = 1;
		bm_error_clear();
		error = 0;
	}
	return error;
}

/* `e` to `w` when it changed a path under w's prefix (hub lock held). An event whose paths
 * were cut at SERVE_CHANGED_MAX (a commit of more) may have changed the prefix past the
 * cut: its paths under the prefix are listed again from git (rare: under the lock). */
static void offer(serve *s, serve_watcher *w, bm_store *st, const serve_event *e)
{
	const bm_oid *prev = e->has_prev ? &e->prev : NULL;
	bm_strlist own = BM_STRLIST_INIT;
	int error;
	if (!e->truncated || !*w->prefix || w->full || w->closed) {
		if (event_matches(e, w->prefix))
			deliver(s, w, st, prev, &e->next, &e->paths);
		else
			pass(w, &e->next);
		return;
	}
	if ((error = serve_paths_under(&own, st, prev, &e->next, w->prefix)) < 0)
		not_read(s, w, &e->next);
	else if (own.count)
		deliver(s, w, st, prev, &e->next, &own);
	else
		pass(w, &e->next);
	bm_strlist_dispose(&own);
}

int serve_paths_under(bm_strlist *out, bm_store *st, const bm_oid *prev, const bm_oid *next, const char *prefix)
{
	/* git lists a folder (or one file): the prefix's folder, then its paths that start with
	 * the prefix ("projects/acme/ser" is a prefix of projects/acme/server/...) */
	const char *slash = strrchr(prefix, '/');
	bm_strlist all = BM_STRLIST_INIT;
	char *dir = NULL;
	size_t i;
	int error;
	if (slash && !(dir = strndup(prefix, (size_t)(slash - prefix + 1))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	error = bm_store_changed(&all, st, prev, next, dir, SERVE_CHANGED_MAX);
	if (error == BM_ETOOBIG) { /* the first SERVE_CHANGED_MAX of them: the event says truncated */
		bm_error_clear();
		error = 0;
	}
	for (i = 0; i < all.count && !error; i++)
		if (under(all.items[i], prefix))
			error = bm_strlist_add(out, all.items[i]);
	bm_strlist_dispose(&all);
	free(dir);
	return error;
}

static void publish(serve *s, serve_event *e)
{
	serve_watcher *w;
	int i;
	for (i = 0; i < s->nhooks; i++)
		s->hooks[i](s, e->has_prev ? &e->prev : NULL, &e->next, &e->paths, e->truncated, s->hook_payloads[i]);
	/* the watchers, the tip and the ring change together: a watcher that resumes sees the
	 * event either in the ring or delivered, never neither */
	pthread_mutex_lock(&s->hlock);
	for (w = s->watchers; w; w = w->next)
		offer(s, w, s->hstore, e);
	s->tip = e->next;
	s->has_tip = 1;
	ring_push(s, e);
	pthread_mutex_unlock(&s->hlock);
}

int serve_add_commit_hook(serve *s, serve_commit_hook fn, void *payload)
{
	if (s->nhooks >= SERVE_HOOKS_MAX)
		return -1;
	s->hooks[s->nhooks] = fn;
	s->hook_payloads[s->nhooks] = payload;
	s->nhooks++;
	return 0;
}

static void step(serve *s)
{
	bm_oid tip, c, chain[WALK_MAX];
	size_t n = 0, i;
	int error, anc = 0;

	if ((error = bm_store_tip(&tip, s->hstore)) < 0) {
		bm_error_clear();
		return;
	}
	if (s->has_tip && bm_oid_equal(&tip, &s->tip))
		return;
	/* the commits since the last one seen, newest first, by first parents (reaching it
	 * proves it an ancestor: no graph walk for the common case) */
	c = tip;
	while (n < WALK_MAX) {
		bm_oid p;
		chain[n++] = c;
		if (!hint_parent(s, &p, &c) && bm_store_parent(&p, s->hstore, &c) < 0) {
			bm_error_clear();
			break;
		}
		c = p;
		if (s->has_tip && bm_oid_equal(&c, &s->tip)) {
			anc = 1;
			break;
		}
	}
	if (s->has_tip && !anc && (error = bm_store_is_ancestor(&anc, s->hstore, &s->tip, &tip)) < 0 &&
	    error != BM_ENOTFOUND) {
		/* a read error is no verdict on the history: the next step looks again */
		serve_log("warn", "event", "what=\"is the last commit seen an ancestor of main\" error=\"%s\"",
			  bm_error_last());
		bm_error_clear();
		atomic_fetch_add(&s->m.watch_errors, 1);
		return;
	}
	if (s->has_tip && !anc) {
		/* main was moved to another history (an upstream reset): one event from nothing */
		serve_log("warn", "history", "what=\"main is not a descendant of the last commit seen; events restart\"");
		bm_error_clear();
		anc = 0;
	}
	if (!s->has_tip) {
		/* at start: no event, just where the streams begin */
		pthread_mutex_lock(&s->hlock);
		s->tip = tip;
		s->has_tip = 1;
		pthread_mutex_unlock(&s->hlock);
		return;
	}
	if (!anc || !bm_oid_equal(&c, &s->tip)) {
		/* the first look, or too many commits: one event for all of it */
		serve_event e;
		memset(&e, 0, sizeof(e));
		e.next = tip;
		if (anc) {
			e.prev = s->tip;
			e.has_prev = 1;
		}
		if (changed(&e, s->hstore) < 0) {
			/* no event without its paths (a watcher of a prefix would pass it): the next
			 * step tries again */
			serve_log("warn", "event", "error=\"%s\"", bm_error_last());
			bm_error_clear();
			atomic_fetch_add(&s->m.watch_errors, 1);
			bm_strlist_dispose(&e.paths);
			return;
		}
		publish(s, &e);
		bm_strlist_dispose(&e.paths);
		return;
	}
	/* each event's previous commit is the next older one of the walk, the oldest's the last
	 * commit seen: the walk proved that chain, no second look can disagree with it (s->tip
	 * is read without the lock: only this thread writes it) */
	for (i = n; i-- > 0;) {
		serve_event e;
		memset(&e, 0, sizeof(e));
		e.next = chain[i];
		e.prev = i + 1 < n ? chain[i + 1] : s->tip;
		e.has_prev = 1;
		if (!take_hint(s, &e) && changed(&e, s->hstore) < 0) {
			serve_log("warn", "event", "error=\"%s\"", bm_error_last());
			bm_error_clear();
			atomic_fetch_add(&s->m.watch_errors, 1);
			bm_strlist_dispose(&e.paths);
			return; /* this one and the rest at the next step, in order */
		}
		publish(s, &e);
		bm_strlist_dispose(&e.paths);
	}
}

static void *hub_main(void *arg)
{
	serve *s = arg;
	for (;;) {
		struct timespec ts;
		pthread_mutex_lock(&s->hlock);
		if (!s->hub_kick && !atomic_load(&s->stopping)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += s->poll_ms / 1000;
			ts.tv_nsec += (long)(s->poll_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->hcond, &s->hlock, &ts);
		}
		s->hub_kick = 0;
		pthread_mutex_unlock(&s->hlock);
		step(s);
		if (atomic_load(&s->stopping))
			break;
	}
	return NULL;
}

/* long-poll deadlines and keep-alives for quiet streams */
static void *ticker_main(void *arg)
{
	serve *s = arg;
	unsigned n = 0;
	while (!atomic_load(&s->stopping)) {
		struct timespec d = { 0, 100 * 1000000L };
		serve_watcher *w;
		int64_t now;
		nanosleep(&d, NULL);
		if (++n % 10 == 0)
			serve_http_tick(s);
		now = serve_mono_us();
		pthread_mutex_lock(&s->hlock);
		for (w = s->watchers; w; w = w->next) {
			if (!w->sse && !w->ready && now >= w->deadline_us) {
				w->ready = 1;
				wake(w);
			} else if (w->sse && !w->closed && now - w->last_us >= KEEPALIVE_US) {
				bm_buf_puts(&w->out, ": keep-alive\n\n");
				w->last_us = now;
				wake(w);
			}
		}
		pthread_mutex_unlock(&s->hlock);
	}
	return NULL;
}

void serve_hub_kick(serve *s)
{
	pthread_mutex_lock(&s->hlock);
	s->hub_kick = 1;
	pthread_cond_signal(&s->hcond);
	pthread_mutex_unlock(&s->hlock);
}

int serve_hub_start(serve *s)
{
	pthread_mutex_init(&s->hlock, NULL);
	pthread_cond_init(&s->hcond, NULL);
	if (!(s->ring = calloc(SERVE_RING, sizeof(*s->ring))) || !(s->hints = calloc(SERVE_HINTS, sizeof(*s->hints))))
		return -1;
	step(s); /* where events start */
	if (pthread_create(&s->hub, NULL, hub_main, s) != 0)
		return -1;
	if (pthread_create(&s->ticker, NULL, ticker_main, s) != 0)
		return -1;
	return 0;
}

void serve_hub_stop(serve *s)
{
	serve_watcher *w;
	size_t i;
	serve_hub_kick(s);
	pthread_join(s->hub, NULL);
	pthread_join(s->ticker, NULL);
	/* end every stream and long poll: their connections finish before the daemon stops */
	pthread_mutex_lock(&s->hlock);
	for (w = s->watchers; w; w = w->next) {
		w->closed = 1;
		w->ready = 1;
		wake(w);
	}
	pthread_mutex_unlock(&s->hlock);
	for (i = 0; i < 50; i++) {
		struct timespec d = { 0, 20 * 1000000L };
		int any;
		pthread_mutex_lock(&s->hlock);
		any = s->watchers != NULL;
		pthread_mutex_unlock(&s->hlock);
		if (!any)
			break;
		nanosleep(&d, NULL);
	}
}

void serve_hub_free(serve *s)
{
	size_t i;
	for (i = 0; s->ring && i < SERVE_RING; i++)
		bm_strlist_dispose(&s->ring[i].paths);
	free(s->ring);
	s->ring = NULL;
	for (i = 0; s->hints && i < SERVE_HINTS; i++)
		bm_strlist_dispose(&s->hints[i].paths);
	free(s->hints);
	s->hints = NULL;
}

/* ---- watch requests ---- */

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	serve_watcher *w = cls;
	serve *s = w->s;
	size_t n;
	(void)pos;
	pthread_mutex_lock(&s->hlock);
	if (w->off < w->out.size) {
		n = w->out.size - w->off;
		if (n > max)
			n = max;
		memcpy(buf, w->out.ptr + w->off, n);
		w->off += n;
		if (w->off == w->out.size) {
			bm_buf_clear(&w->out);
			w->off = 0;
		}
		pthread_mutex_unlock(&s->hlock);
		return (ssize_t)n;
	}
	if (w->closed || atomic_load(&s->stopping)) {
		pthread_mutex_unlock(&s->hlock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	w->suspended = 1;
	MHD_suspend_connection(w->conn);
	pthread_mutex_unlock(&s->hlock);
	return 0;
}

static void sse_free(void *cls)
{
	serve_watcher *w = cls;
	serve *s = w->s;
	pthread_mutex_lock(&s->hlock);
	unlink_watcher(s, w);
	pthread_mutex_unlock(&s->hlock);
	watcher_free(w);
}

static int parse_wait(int64_t *us, const char *v)
{
	char *end;
	double x = strtod(v, &end);
	if (end == v || x < 0 || x > 300)
		return -1;
	if (!strcmp(end, "ms"))
		x /= 1000.0;
	else if (*end && strcmp(end, "s"))
		return -1;
	*us = (int64_t)(x * 1e6);
	return 0;
}

/* The events after `since` up to the hub's tip for `w` (no lock held on entry): 0, or 410
 * in `a` when `since` is not in main's history. */
static int catch_up(serve *s, serve_watcher *w, const bm_oid *since, serve_answer *a)
{
	bm_store *st = serve_thread_store(s);
	bm_oid from = *since, upto;
	long i;
	int anc = 0, error;

	if (!st) {
		serve_answer_error(a, 503, 0, "the meta repo cannot be opened; see serve's log");
		return -1;
	}
	w->last = *since; /* not linked yet: no lock */
	for (;;) {
		pthread_mutex_lock(&s->hlock);
		upto = s->tip;
		if (bm_oid_equal(&from, &upto)) {
			pass(w, &upto);
			return 0; /* lock held: the caller links the watcher */
		}
		if ((i = ring_find(s, &from)) >= 0) {
			size_t k;
			for (k = (size_t)i + 1; k < s->ring_len; k++) {
				offer(s, w, st, ring_at(s, k));
			}
			pass(w, &s->tip);
			return 0;
		}
		pthread_mutex_unlock(&s->hlock);
		/* older than the ring: one event from git, from `since` to the hub's tip */
		if ((error = bm_store_is_ancestor(&anc, st, &from, &upto)) < 0 && error != BM_ENOTFOUND) {
			serve_log("warn", "event", "what=\"is since an ancestor of the tip\" error=\"%s\"", bm_error_last());
			bm_error_clear();
			atomic_fetch_add(&s->m.watch_errors, 1);
			serve_answer_error(a, 503, 0, "serve could not read the history since that commit; try again");
			serve_answer_header(a, "Retry-After", "1");
			return -1;
		}
		if (error < 0 || !anc) {
			char hex[BM_OID_HEXSZ + 1];
			bm_oid_fmt(hex, &from);
			bm_error_clear();
			serve_answer_error(a, 410, 0, "%s is not in the history of main: re-read the state (GET the records "
						      "you follow), then watch from the commit you read",
					   hex);
			bm_oid_fmt(a->etag, &upto);
			return -1;
		}
		{
			serve_event e;
			memset(&e, 0, sizeof(e));
			e.prev = from;
			e.has_prev = 1;
			e.next = upto;
			if ((error = bm_store_changed(&e.paths, st, &from, &upto, w->prefix, SERVE_CHANGED_MAX)) == BM_ETOOBIG) {
				e.truncated = 1;
			} else if (error < 0) {
				/* not "nothing changed": that would skip what did */
				char hex[BM_OID_HEXSZ + 1];
				bm_oid_fmt(hex, &from);
				serve_log("warn", "event", "since=%s prefix=\"%s\" error=\"%s\"", hex, w->prefix, bm_error_last());
				bm_error_clear();
				bm_strlist_dispose(&e.paths);
				atomic_fetch_add(&s->m.watch_errors, 1);
				serve_answer_error(a, 503, 0, "serve could not read the changes since that commit; try again");
				serve_answer_header(a, "Retry-After", "1");
				return -1;
			}
			bm_error_clear();
			pthread_mutex_lock(&s->hlock);
			if (e.paths.count)
				deliver(s, w, st, &from, &upto, &e.paths);
			pass(w, &upto);
			pthread_mutex_unlock(&s->hlock);
			bm_strlist_dispose(&e.paths);
		}
		from = upto; /* then what came after it, from the ring */
	}
}

int serve_watch_begin(serve *s, const serve_rq *r, serve_answer *a, serve_watcher **out, struct MHD_Response **resp)
{
	const char *prefix = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "prefix");
	const char *since = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "since");
	const char *wait = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "wait");
	const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
	const char *leid = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
	serve_watcher *w;
	bm_oid from;
	int64_t wait_us = 30 * 1000000LL;
	int sse;
	char hex[BM_OID_HEXSZ + 1];

	*out = NULL;
	*resp = NULL;
	sse = !wait && accept && strstr(accept, "text/event-stream");
	if (!sse && !wait && MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "stream"))
		sse = 1;
	if (wait && parse_wait(&wait_us, wait) < 0) {
		serve_answer_error(a, 400, BM_EINVALID, "wait=%s: give seconds up to 300 (30s, 2.5s, 500ms)", wait);
		return 0;
	}
	if (!since && leid)
		since = leid;
	if (prefix && (strstr(prefix, "..") || strchr(prefix, '\\') || prefix[0] == '/')) {
		serve_answer_error(a, 400, BM_EINVALID, "prefix=%s: a relative path in the meta repo (projects/acme/)", prefix);
		return 0;
	}
	for (const char *p = prefix; p && *p; p++)
		if ((unsigned char)*p < 0x20) {
			serve_answer_error(a, 400, BM_EINVALID, "prefix: control characters are not allowed");
			return 0;
		}
	if (since && bm_oid_parse(&from, since) < 0) {
		serve_answer_error(a, 400, BM_EINVALID, "since=%s: give a full meta commit (40 hex digits)", since);
		return 0;
	}
	if (!(w = calloc(1, sizeof(*w))) || !(w->prefix = strdup(prefix ? prefix : ""))) {
		free(w);
		serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
		return 0;
	}
	w->s = s;
	w->conn = r->conn;
	w->sse = sse;
	w->last_us = serve_mono_us();
	w->deadline_us = w->last_us + wait_us;
	if (since) {
		if (catch_up(s, w, &from, a) < 0) {
			watcher_free(w);
			return 0;
		}
		/* hub lock held */
	} else {
		pthread_mutex_lock(&s->hlock);
		w->last = s->tip;
		if (!sse) {
			/* no commit to start from: answer where the stream is now */
			pthread_mutex_unlock(&s->hlock);
			bm_oid_fmt(hex, &w->last);
			bm_buf_printf(&a->body, "{\"events\":[],\"metaCommit\":\"%s\"}\n", hex);
			memcpy(a->etag, hex, sizeof(hex));
			watcher_free(w);
			return 0;
		}
		bm_oid_fmt(hex, &w->last);
		bm_buf_printf(&w->out, "id: %s\nevent: ready\ndata: {\"metaCommit\":\"%s\"}\n\n", hex, hex);
	}
	if (!sse && w->ready) {
		/* events already: answer now */
		pthread_mutex_unlock(&s->hlock);
		serve_watch_take(s, w, a);
		watcher_free(w);
		return 0;
	}
	if (sse) {
		bm_buf_puts(&w->out, "retry: 1000\n\n");
		*resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, w, sse_free);
		if (!*resp) {
			pthread_mutex_unlock(&s->hlock);
			watcher_free(w);
			serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
			return 0;
		}
		MHD_add_response_header(*resp, "Content-Type", "text/event-stream");
		MHD_add_response_header(*resp, "Cache-Control", "no-store");
		MHD_add_response_header(*resp, "X-Accel-Buffering", "no");
		link_watcher(s, w);
		pthread_mutex_unlock(&s->hlock);
		return 2;
	}
	link_watcher(s, w);
	MHD_suspend_connection(r->conn);
	w->suspended = 1;
	pthread_mutex_unlock(&s->hlock);
	*out = w;
	return 1;
}

void serve_watch_take(serve *s, serve_watcher *w, serve_answer *a)
{
	char hex[BM_OID_HEXSZ + 1];
	pthread_mutex_lock(&s->hlock);
	unlink_watcher(s, w);
	bm_oid_fmt(hex, &w->last);
	if (w->failed) {
		/* its first event could not be read (serve's log says why): poll again from here */
		pthread_mutex_unlock(&s->hlock);
		serve_answer_error(a, 503, 0, "serve could not read the next event; poll again with the same since");
		serve_answer_header(a, "Retry-After", "1");
		return;
	}
	bm_buf_puts(&a->body, "{\"events\":[");
	if (w->out.size)
		bm_buf_put(&a->body, w->out.ptr, w->out.size);
	bm_buf_printf(&a->body, "],\"metaCommit\":\"%s\"}\n", hex);
	memcpy(a->etag, hex, sizeof(hex));
	bm_buf_clear(&w->out);
	pthread_mutex_unlock(&s->hlock);
}

void serve_watch_end(serve *s, serve_watcher *w)
{
	pthread_mutex_lock(&s->hlock);
	unlink_watcher(s, w);
	pthread_mutex_unlock(&s->hlock);
	watcher_free(w);
}
