/* serve.h: the parts of `bootmeta serve` (src/live/serve_*.c). Built on libbootmeta's public
 * API only, like any outside program.
 *
 * Threads: libmicrohttpd's pool answers requests (reads run there, each thread with its
 * own bm_store); one writer thread takes queued writes in batches and makes one meta
 * commit per batch (group commit); one hub thread turns each new commit on main, from the
 * writer or from anyone else, into events for watchers; a ticker ends long polls and
 * keeps idle event streams alive. */
#ifndef BM_SERVE_H
#define BM_SERVE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bootmeta.h"
#include "serve_log.h"
#include "serve_route.h"

#define SERVE_RING 1024          /* commits the hub remembers for watchers that resume */
#define SERVE_EVENT_RECORDS 256  /* records carried in one event; past it: "truncated" */
#define SERVE_WATCH_BUF (1u << 20) /* default --watch-buffer: bytes queued for one stream before it is dropped */

typedef struct serve serve;
typedef struct serve_job serve_job;

/* Called by the hub thread for every new commit on main, in order, just before the watchers get
 * it: `prev` NULL when unknown (main moved to another history); `truncated`: `paths` holds
 * only the first SERVE_CHANGED_MAX of the commit's paths. Must not block long: queue the
 * work (NATS publishing, webhook deliveries) and return. */
typedef void (*serve_commit_hook)(serve *s, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths,
				  int truncated, void *payload);
#define SERVE_HOOKS_MAX 4
typedef struct serve_watcher serve_watcher;

/* ---- logs and clocks: serve_log.h ---- */

/* ---- metrics ---- */
typedef struct {
	atomic_ullong req_by_class[6]; /* 1xx..5xx by hundreds; [0]: others */
	atomic_ullong reads, writes_ok, writes_failed, writes_replayed, commits, batch_writes;
	atomic_ullong commit_us_total, commit_us_max;
	atomic_ullong batch_hist[8];   /* batch sizes 1, 2-3, 4-7, ... 128+ */
	atomic_ullong watch_events, watch_dropped, watch_errors;
	atomic_ullong auth_401, auth_403, body_413, body_400;
	atomic_uint watchers, longpolls;
	atomic_ullong upstream_fetches, upstream_errors, header_timeouts;
	atomic_ullong route_hits[32];  /* by route id (serve_http.c) */
} serve_metrics;

/* ---- the server ---- */
struct serve {
	/* options */
	const char *repo, *listen, *tokens_file, *state_dir, *tls_cert, *tls_key;
	char host[64];
	unsigned port;
	int open_writes;           /* --open-writes: writes without tokens (local dev only) */
	size_t batch_max, queue_max, body_max;
	unsigned conn_limit, conn_timeout, threads, header_timeout;
	unsigned poll_ms;          /* how often the hub looks at main for writes made elsewhere */
	size_t watch_buf;          /* --watch-buffer */
	bm_minisign_seckey *ts_key; /* --timestamp-key: signs each binary answer's freshness */

	struct MHD_Daemon *mhd;
	struct serve_tokens *tokens; /* --tokens: serve_token.h */
	serve_metrics m;
	atomic_int stopping;

	/* writer (serve_write.c) */
	bm_store *wstore;
	pthread_t writer;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	serve_job *qhead, *qtail;
	size_t qlen;
	/* the idempotency keys answered lately (key hash -> answer), also rebuilt from the
	 * commit trailers at start */
	struct serve_idem *idem;
	size_t nidem, idem_cap;

	/* hub (serve_watch.c) */
	bm_store *hstore;
	pthread_t hub, ticker;
	pthread_mutex_t hlock;
	pthread_cond_t hcond;
	int hub_kick;
	bm_oid tip;                /* the last commit the hub has turned into events */
	int has_tip;
	struct serve_event *ring;  /* SERVE_RING, oldest at ring_start */
	struct serve_hint *hints;  /* SERVE_HINTS: what the writer's commits changed */
	size_t hint_next;
	size_t ring_start, ring_len;
	uint64_t ring_seq;         /* events ever added */
	serve_watcher *watchers;
	/* upstream (serve_upstream.c) */
	const char *upstream;
	unsigned upstream_poll;    /* seconds */
	bm_store *ustore;
	pthread_t uthread;
	pthread_mutex_t ulock;
	pthread_cond_t ucond;
	int ukick;

	/* registered before serve_hub_start */
	serve_commit_hook hooks[SERVE_HOOKS_MAX];
	void *hook_payloads[SERVE_HOOKS_MAX];
	int nhooks;

	struct serve_nats *nats;   /* --nats (serve_nats.c); NULL without */
	/* webhooks (serve_hooks_in.c, serve_hooks_out.c) */
	const char *webhook_secret_file, *identity_file;
	unsigned hook_attempts, hook_backoff_ms, hook_timeout_ms;
	unsigned hooks_max;        /* --hooks-max: live subscriptions POST /v1/hooks may make */
	struct serve_hooks_in *hin;
	struct serve_hooks_out *hout;
	/* the recipients ("age1...") of --identity: POST /v1/hooks encrypts secrets to them
	 * (serve_hooks_recipients fills it before any thread starts; read-only after) */
	bm_strlist hook_recipients;
};

/* Register a hook (before serve_hub_start). -1 when SERVE_HOOKS_MAX are registered. */
int serve_add_commit_hook(serve *s, serve_commit_hook fn, void *payload);

/* ---- HTTP (serve_http.c) ---- */
int serve_http_start(serve *s);
void serve_http_stop(serve *s);
/* Shut down connections whose request headers are late (--header-timeout); the ticker calls
 * it about once a second. */
void serve_http_tick(serve *s);
/* The per-thread store of an MHD worker (opened on first use). NULL on error (logged). */
bm_store *serve_thread_store(serve *s);

/* An answer: status, content type, body (taken over), extra headers. */
typedef struct {
	unsigned status;
	const char *ctype;
	bm_buf body;
	char etag[BM_OID_HEXSZ + 1]; /* "" when none */
	const char *hdr_name[4], *hdr_value[4];
	char hdr_store[2][128];
	int nhdr;
} serve_answer;
void serve_answer_init(serve_answer *a);
void serve_answer_dispose(serve_answer *a);
/* A JSON error {"error","code","status"}: `code` is a bm_ error code or 0. */
void serve_answer_error(serve_answer *a, unsigned status, int code, const char *fmt, ...) BM_PRINTF(4, 5);
/* The HTTP status for a library error code. */
unsigned serve_status_of(int code);
void serve_answer_header(serve_answer *a, const char *name, const char *value);

/* ---- reads (serve_read.c) ---- */
typedef struct {
	const char *url;        /* decoded path */
	const char *method;
	struct MHD_Connection *conn; /* NULL for a request that did not come over HTTP (NATS) */
	int want_proto;         /* Accept: application/x-protobuf */
	/* without a connection: the headers a write reads (NULL: absent) */
	const char *authorization, *if_match, *idempotency_key;
} serve_rq;
/* A request header: from the connection, or the fields above when there is none. */
const char *serve_rq_header(const serve_rq *r, const char *name);
/* Answers GET routes; returns 0 when it answered, 1 when the route is not a read. */
int serve_read(serve *s, const serve_rq *r, serve_answer *a);
/* The JSON of the record at `path` of `fs` (a record type bootmeta knows), into `out`. */
int serve_record_json(bm_buf *out, bm_fs *fs, const char *path);

/* ---- writes (serve_write.c) ---- */
int serve_writer_start(serve *s);
void serve_writer_stop(serve *s);
/* Handle a write request (HTTP, or any other transport with r->conn NULL): returns 0 when
 * it answered at once in `a` (an error, a replay), 1 when the job was queued (`*job` set);
 * `done` is then called once from the writer thread when the answer is ready: take it with
 * serve_job_take (from any thread). */
typedef void (*serve_job_done_fn)(serve_job *job, void *payload);
int serve_write_submit(serve *s, const serve_rq *r, const char *body, size_t len, serve_answer *a,
		       serve_job **job, serve_job_done_fn done, void *payload);
/* The answer of a finished job (moved into `a`), then the job is freed. */
void serve_job_take(serve_job *job, serve_answer *a);
/* 1: the URL/method is a write route */
int serve_is_write(const char *method, const char *url);

/* ---- watch (serve_watch.c) ---- */
int serve_hub_start(serve *s);
void serve_hub_stop(serve *s);
void serve_hub_free(serve *s);
/* Wake the hub: main moved (the writer calls it after each commit). */
void serve_hub_kick(serve *s);
/* The writer made `next` on `prev` (NULL: none) adding `files`: the hub takes these paths
 * for that commit's event instead of diffing the two trees. */
void serve_hub_hint(serve *s, const bm_oid *prev, const bm_oid *next, const bm_strlist *files);
/* GET /v1/watch: 0 answered now, 1 long-poll registered (connection suspended; the hub
 * resumes it), 2 an event stream response was queued in `*resp` */
int serve_watch_begin(serve *s, const serve_rq *r, serve_answer *a, serve_watcher **w,
		      struct MHD_Response **resp);
/* After resume: the long-poll answer. */
void serve_watch_take(serve *s, serve_watcher *w, serve_answer *a);
/* The connection of a long-poll watcher ended (completed or dropped). */
void serve_watch_end(serve *s, serve_watcher *w);
/* The event JSON of one commit (or a span of commits) for a prefix. */
#define SERVE_CHANGED_MAX 10000 /* paths listed in one event (watch, webhook, NATS) */
/* The paths prev..next changed that start with `prefix` (those among the first
 * SERVE_CHANGED_MAX of its folder: more is no error), into `out` (added to): for an event
 * whose list of all paths was cut at SERVE_CHANGED_MAX. */
int serve_paths_under(bm_strlist *out, bm_store *st, const bm_oid *prev, const bm_oid *next, const char *prefix);

/* The same event without its records ("records": {}, "truncated": true: read them by path),
 * its paths cut to fit `max` bytes (SIZE_MAX: all): for an event over NATS' max_payload, or
 * whose records cannot be read. */
int serve_event_json_paths(bm_buf *out, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths,
			   const char *prefix, size_t max);
int serve_event_json(bm_buf *out, bm_store *st, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths,
		     const char *prefix);

/* ---- upstream (serve_upstream.c) ---- */
/* Someone says main moved on the upstream (a push webhook, a NATS notice): fetch it soon
 * and let the hub announce what came in. Without --upstream: look at the local main now. */
void serve_upstream_fetch_soon(serve *s);
int serve_upstream_start(serve *s);
void serve_upstream_stop(serve *s);

/* ---- webhooks (serve_hooks_in.c: in, start/stop, routes; serve_hooks_out.c: out) ---- */
/* Load --webhook-secret-file and --identity, read the subscriptions, start the delivery
 * threads and register the commit hook (before serve_hub_start). -1 on an error (logged). */
int serve_hooks_start(serve *s);
void serve_hooks_stop(serve *s);
/* 1 when `url` is under /v1/hooks/ (its body may be up to SERVE_HOOK_BODY_MAX). */
int serve_hooks_route(const char *url);
/* Answer a /v1/hooks/ route: 0 answered, 1 not one of them. */
int serve_hooks_http(serve *s, const serve_rq *r, const char *body, size_t len, serve_answer *a);
void serve_hooks_metrics(serve *s, bm_buf *out);
int serve_hooks_out_start(serve *s);
/* s->hook_recipients from --identity (none without); -1 on an error (logged). */
int serve_hooks_recipients(serve *s);
void serve_hooks_out_stop(serve *s);
int serve_hooks_out_http(serve *s, const serve_rq *r, serve_answer *a);
void serve_hooks_out_metrics(serve *s, bm_buf *out);

/* ---- metrics text ---- */
int serve_metrics_text(serve *s, bm_buf *out);

#endif
