/* serve_upstream.c: the meta repo on a git server (--upstream URL). serve keeps a local
 * clone (--repo PATH, made on the first start); its writes push to the upstream with the
 * store's compare-and-swap (on a conflict the store fetches and re-runs the batch); commits
 * others pushed come in by a fetch on a notice (a push webhook, NATS) or every
 * --upstream-poll seconds, and the hub announces them like serve's own. */
#include "serve.h"

#include <string.h>
#include <time.h>

static void *upstream_main(void *arg)
{
	serve *s = arg;
	int64_t last_err_log = 0;
	for (;;) {
		struct timespec ts;
		bm_oid before, after;
		int had, error;
		pthread_mutex_lock(&s->ulock);
		if (!s->ukick && !atomic_load(&s->stopping)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += s->upstream_poll;
			pthread_cond_timedwait(&s->ucond, &s->ulock, &ts);
		}
		s->ukick = 0;
		pthread_mutex_unlock(&s->ulock);
		if (atomic_load(&s->stopping))
			break;
		had = bm_store_tip(&before, s->ustore) == 0;
		bm_error_clear();
		if ((error = bm_store_pull(&after, s->ustore)) < 0) {
			atomic_fetch_add(&s->m.upstream_errors, 1);
			if (serve_mono_us() - last_err_log > 60 * 1000000LL) {
				serve_log("warn", "upstream-fetch", "url=%s error=\"%s\"", s->upstream, bm_error_last());
				last_err_log = serve_mono_us();
			}
			bm_error_clear();
			continue;
		}
		atomic_fetch_add(&s->m.upstream_fetches, 1);
		if (!had || !bm_oid_equal(&before, &after)) {
			char hex[BM_OID_HEXSZ + 1];
			bm_oid_fmt(hex, &after);
			serve_log("info", "upstream-fetch", "url=%s main=%s", s->upstream, hex);
			serve_hub_kick(s);
		}
	}
	return NULL;
}

void serve_upstream_fetch_soon(serve *s)
{
	if (!s->upstream) {
		serve_hub_kick(s);
		return;
	}
	pthread_mutex_lock(&s->ulock);
	s->ukick = 1;
	pthread_cond_signal(&s->ucond);
	pthread_mutex_unlock(&s->ulock);
}

int serve_upstream_start(serve *s)
{
	pthread_mutex_init(&s->ulock, NULL);
	pthread_cond_init(&s->ucond, NULL);
	if (pthread_create(&s->uthread, NULL, upstream_main, s) != 0) {
		serve_log("error", "start", "error=\"cannot start the upstream thread\"");
		return -1;
	}
	return 0;
}

void serve_upstream_stop(serve *s)
{
	pthread_mutex_lock(&s->ulock);
	s->ukick = 1;
	pthread_cond_signal(&s->ucond);
	pthread_mutex_unlock(&s->ulock);
	pthread_join(s->uthread, NULL);
}
