/* serve_http.c: the HTTP side of `bootmeta serve` on libmicrohttpd: a pool of event-loop
 * threads (epoll), bounded connections and request bodies, connection timeouts against
 * slow clients; requests routed to reads (answered on the pool thread), writes (queued for
 * the writer, the connection suspended until its commit is durable) and watches (suspended
 * long polls, event streams). One log line per request. */
#include "serve.h"
#include "serve_nats.h"
#include "serve_hook.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

enum { C_NEW, C_BODY, C_WRITE, C_POLL, C_DONE };

typedef struct {
	serve *s;
	int state;
	struct MHD_Connection *conn;
	bm_buf body;
	int too_big;
	serve_job *job;
	atomic_int job_done;
	serve_watcher *w;
	int64_t start_us;
	int is_write;
	size_t body_limit;
} conn_ctx;

/* ---- a deadline for a request's headers (slow clients) ----
 * MHD's --conn-timeout is an idle timeout: a client that sends one byte every few seconds
 * never trips it. Every connection is tracked from its start; one whose request headers are
 * not complete --header-timeout seconds after it started (or after its last request ended)
 * is shut down by the ticker. */
typedef struct conn_track {
	struct conn_track *next, *prev;
	int fd;
	int in_request;
	int64_t since_us;
} conn_track;

static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;
static conn_track *tracks;

static void on_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			   enum MHD_ConnectionNotificationCode code)
{
	conn_track *t;
	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(t = calloc(1, sizeof(*t))))
			return;
		t->fd = ci->connect_fd;
		t->since_us = serve_mono_us();
		pthread_mutex_lock(&track_lock);
		t->next = tracks;
		if (tracks)
			tracks->prev = t;
		tracks = t;
		pthread_mutex_unlock(&track_lock);
		*socket_context = t;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && (t = *socket_context)) {
		pthread_mutex_lock(&track_lock);
		if (t->prev)
			t->prev->next = t->next;
		else
			tracks = t->next;
		if (t->next)
			t->next->prev = t->prev;
		pthread_mutex_unlock(&track_lock);
		free(t);
		*socket_context = NULL;
	}
}

static void track_request(struct MHD_Connection *conn, int in_request)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn_track *t = ci ? ci->socket_context : NULL;
	if (!t)
		return;
	pthread_mutex_lock(&track_lock);
	t->in_request = in_request;
	t->since_us = serve_mono_us();
	pthread_mutex_unlock(&track_lock);
}

void serve_http_tick(serve *s)
{
	int64_t now = serve_mono_us(), limit = (int64_t)s->header_timeout * 1000000;
	conn_track *t;
	pthread_mutex_lock(&track_lock);
	for (t = tracks; t; t = t->next)
		if (!t->in_request && t->fd >= 0 && now - t->since_us > limit) {
			shutdown(t->fd, SHUT_RDWR); /* MHD sees the end and closes it */
			t->fd = -1;
			atomic_fetch_add(&s->m.header_timeouts, 1);
		}
	pthread_mutex_unlock(&track_lock);
}

static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void store_free(void *p)
{
	bm_store_free(p);
}

static void store_key_make(void)
{
	pthread_key_create(&store_key, store_free);
}

bm_store *serve_thread_store(serve *s)
{
	bm_store *st;
	pthread_once(&store_once, store_key_make);
	if ((st = pthread_getspecific(store_key)))
		return st;
	if (bm_store_open(&st, s->repo) < 0) {
		serve_log("error", "open", "repo=%s error=\"%s\"", s->repo, bm_error_last());
		return NULL;
	}
	pthread_setspecific(store_key, st);
	return st;
}

void serve_answer_init(serve_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->status = 200;
	a->ctype = "application/json";
}

void serve_answer_dispose(serve_answer *a)
{
	bm_buf_dispose(&a->body);
}

void serve_answer_header(serve_answer *a, const char *name, const char *value)
{
	if (a->nhdr < 4) {
		a->hdr_name[a->nhdr] = name;
		a->hdr_value[a->nhdr] = value;
		a->nhdr++;
	}
}

unsigned serve_status_of(int code)
{
	switch (code) {
	case BM_ENOTFOUND: return 404;
	case BM_EEXISTS: return 409;
	case BM_EINVALID: return 400;
	case BM_ECONFLICT: return 409;
	case BM_ETOOBIG: return 413;
	case BM_EVERIFY: return 422;
	case BM_EPERM: return 403;
	case BM_ECORRUPT: return 500;
	case BM_EREMOTE: return 502;
	case BM_EUNSUPPORTED: return 415;
	default: return 500;
	}
}

static const char *code_name(int code)
{
	switch (code) {
	case BM_ENOTFOUND: return "not-found";
	case BM_EEXISTS: return "exists";
	case BM_EINVALID: return "invalid";
	case BM_ECONFLICT: return "conflict";
	case BM_EFORMAT: return "format";
	case BM_ECORRUPT: return "corrupt";
	case BM_ENORECIPIENT: return "no-recipient";
	case BM_EVERIFY: return "verify";
	case BM_EIO: return "io";
	case BM_ENOMEM: return "no-memory";
	case BM_ETOOBIG: return "too-big";
	case BM_EPERM: return "permission";
	case BM_EREMOTE: return "remote";
	case BM_EUNSUPPORTED: return "unsupported";
	default: return "error";
	}
}

void serve_answer_error(serve_answer *a, unsigned status, int code, const char *fmt, ...)
{
	bm_buf msg = BM_BUF_INIT;
	va_list ap;
	char tmp[1024];
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	bm_buf_puts(&msg, tmp);
	a->status = status;
	a->ctype = "application/json";
	bm_buf_clear(&a->body);
	bm_buf_puts(&a->body, "{\"error\":");
	bm_json_escape(&a->body, msg.ptr ? msg.ptr : "");
	bm_buf_printf(&a->body, ",\"code\":\"%s\",\"status\":%u}\n", code ? code_name(code) : "http", status);
	bm_buf_dispose(&msg);
}

/* ---- routes ---- */

static void count_class(serve *s, unsigned status)
{
	unsigned k = status / 100;
	atomic_fetch_add(&s->m.req_by_class[k >= 1 && k <= 5 ? k : 0], 1);
}

static enum MHD_Result send_answer(serve *s, conn_ctx *c, const char *method, const char *url, serve_answer *a)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char etag[BM_OID_HEXSZ + 3];
	int i;

	r = MHD_create_response_from_buffer(a->body.size, a->body.ptr ? a->body.ptr : (char *)"",
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", a->ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (a->etag[0]) {
		snprintf(etag, sizeof(etag), "\"%s\"", a->etag);
		MHD_add_response_header(r, "ETag", etag);
		MHD_add_response_header(r, "X-Bootmeta-Commit", a->etag);
	}
	for (i = 0; i < a->nhdr; i++)
		MHD_add_response_header(r, a->hdr_name[i], a->hdr_value[i]);
	ret = MHD_queue_response(c->conn, a->status, r);
	MHD_destroy_response(r);
	count_class(s, a->status);
	serve_log("info", "request", "method=%s path=\"%.200s\" status=%u bytes=%zu dur_ms=%.3f%s%s", method, url,
		  a->status, a->body.size, (double)(serve_mono_us() - c->start_us) / 1000.0, a->etag[0] ? " commit=" : "",
		  a->etag[0] ? a->etag : "");
	serve_answer_dispose(a);
	return ret;
}

static void job_done(serve_job *job, void *payload)
{
	conn_ctx *c = payload;
	(void)job;
	atomic_store(&c->job_done, 1);
	MHD_resume_connection(c->conn);
}

static int wants_proto(struct MHD_Connection *conn)
{
	const char *acc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	return acc && strstr(acc, "application/x-protobuf") != NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	serve *s = cls;
	conn_ctx *c = *con_cls;
	serve_answer a;
	serve_rq r;
	(void)version;

	if (!c) {
		const char *cl;
		if (!(c = calloc(1, sizeof(*c))))
			return MHD_NO;
		c->s = s;
		c->conn = conn;
		c->start_us = serve_mono_us();
		c->is_write = serve_is_write(method, url);
		/* webhook payloads are larger than write bodies (serve_hooks_in.c) */
		c->body_limit = !strcmp(url, "/v1/hooks/git") && s->body_max < SERVE_HOOK_BODY_MAX ? SERVE_HOOK_BODY_MAX : s->body_max;
		*con_cls = c;
		track_request(conn, 1);
		/* refuse a body that says it is too big before reading it */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > c->body_limit)
			c->too_big = 1;
		return MHD_YES;
	}
	serve_answer_init(&a);
	if (*upload_size) {
		if (!c->too_big && c->body.size + *upload_size <= c->body_limit)
			bm_buf_put(&c->body, upload, *upload_size);
		else
			c->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (c->state == C_WRITE) {
		if (!atomic_load(&c->job_done))
			return MHD_YES; /* woken early: keep waiting */
		serve_job_take(c->job, &a);
		c->job = NULL;
		c->state = C_DONE;
		return send_answer(s, c, method, url, &a);
	}
	if (c->state == C_POLL) {
		serve_watch_take(s, c->w, &a);
		c->state = C_DONE;
		return send_answer(s, c, method, url, &a);
	}
	if (c->state == C_DONE)
		return MHD_NO;

	memset(&r, 0, sizeof(r));
	r.url = url;
	r.method = method;
	r.conn = conn;
	r.want_proto = wants_proto(conn);
	if (c->too_big) {
		atomic_fetch_add(&s->m.body_413, 1);
		serve_answer_error(&a, 413, BM_ETOOBIG, "the request body is over %zu bytes (--body-max)", c->body_limit);
		return send_answer(s, c, method, url, &a);
	}
	if (!serve_path_ok(url)) {
		serve_answer_error(&a, 400, BM_EINVALID, "the path may not hold \".\" or \"..\" parts, \"//\" or control "
							 "characters");
		return send_answer(s, c, method, url, &a);
	}
	if (!strcmp(url, "/healthz") && !strcmp(method, "GET")) {
		bm_buf_puts(&a.body, atomic_load(&s->stopping) ? "{\"status\":\"stopping\"}\n" : "{\"status\":\"ok\"}\n");
		if (atomic_load(&s->stopping))
			a.status = 503;
		return send_answer(s, c, method, url, &a);
	}
	if (!strcmp(url, "/metrics") && !strcmp(method, "GET")) {
		a.ctype = "text/plain; version=0.0.4";
		serve_metrics_text(s, &a.body);
		return send_answer(s, c, method, url, &a);
	}
	/* POST /v1/hooks and DELETE /v1/hooks/{id} are writes; the other /v1/hooks/ routes are
	 * serve_hooks_http's */
	if (serve_hooks_route(url) && !c->is_write &&
	    serve_hooks_http(s, &r, c->body.ptr ? c->body.ptr : "", c->body.size, &a) == 0)
		return send_answer(s, c, method, url, &a);
	if (c->is_write) {
		int rc;
		if (!strcmp(method, "POST") || !strcmp(method, "PUT") || (!strcmp(method, "DELETE") && serve_hooks_route(url))) {
			if (atomic_load(&s->stopping)) {
				serve_answer_error(&a, 503, 0, "serve is stopping; retry against another server or later");
				return send_answer(s, c, method, url, &a);
			}
			/* suspended before it is queued: the writer may finish first */
			MHD_suspend_connection(conn);
			rc = serve_write_submit(s, &r, c->body.ptr ? c->body.ptr : "", c->body.size, &a, &c->job, job_done, c);
			if (rc == 1) {
				c->state = C_WRITE;
				return MHD_YES;
			}
			MHD_resume_connection(conn);
			return send_answer(s, c, method, url, &a);
		}
		serve_answer_error(&a, 405, 0, "%s takes POST", url);
		serve_answer_header(&a, "Allow", "POST");
		return send_answer(s, c, method, url, &a);
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		serve_answer_error(&a, 405, 0, "%s takes GET", url);
		serve_answer_header(&a, "Allow", "GET, HEAD");
		return send_answer(s, c, method, url, &a);
	}
	if (!strcmp(url, "/v1/watch")) {
		struct MHD_Response *resp = NULL;
		int rc = serve_watch_begin(s, &r, &a, &c->w, &resp);
		if (rc == 1) {
			c->state = C_POLL;
			return MHD_YES;
		}
		if (rc == 2) {
			enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
			MHD_destroy_response(resp);
			c->state = C_DONE;
			count_class(s, 200);
			serve_log("info", "watch", "path=\"%.200s\" mode=sse", url);
			return ret;
		}
		return send_answer(s, c, method, url, &a);
	}
	if (serve_read(s, &r, &a) == 1)
		serve_answer_error(&a, 404, 0, "no route %s %s; the routes are in doc/http-api.md", method, url);
	atomic_fetch_add(&s->m.reads, 1);
	return send_answer(s, c, method, url, &a);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	serve *s = cls;
	conn_ctx *c = *con_cls;
	(void)toe;
	if (!c)
		return;
	track_request(conn, 0);
	if (c->w)
		serve_watch_end(s, c->w);
	if (c->job) {
		/* the client went away while its write was queued: the write still happens */
		serve_answer a;
		serve_answer_init(&a);
		if (atomic_load(&c->job_done))
			serve_job_take(c->job, &a);
		serve_answer_dispose(&a);
	}
	bm_buf_dispose(&c->body);
	free(c);
	*con_cls = NULL;
}

/* libmicrohttpd's logger: `fmt` is its own printf format */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* a client that went away (a watcher closing its stream, mostly) is not a fault */
	if (strstr(msg, "no longer available") || strstr(msg, "Connection reset") || strstr(msg, "Broken pipe"))
		serve_log("info", "client gone", "detail=\"%s\"", msg);
	else
		serve_log("warn", "http", "detail=\"%s\"", msg);
}

static int read_file(bm_buf *out, const char *path)
{
	FILE *f = fopen(path, "rb");
	char tmp[4096];
	size_t n;
	if (!f)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		bm_buf_put(out, tmp, n);
	fclose(f);
	return out->size ? 0 : -1;
}

int serve_http_start(serve *s)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	bm_buf cert = BM_BUF_INIT, key = BM_BUF_INIT;
	const union MHD_DaemonInfo *info;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, s->host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)s->port);
		sa = (const struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, s->host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)s->port);
		sa = (const struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else {
		serve_log("error", "listen", "addr=%s error=\"not an IP address (give 127.0.0.1 or ::1, not a name)\"",
			  s->host);
		return -1;
	}
	if (s->tls_cert) {
		if (read_file(&cert, s->tls_cert) < 0 || read_file(&key, s->tls_key) < 0) {
			serve_log("error", "tls", "cert=%s key=%s error=\"cannot read the certificate or key\"", s->tls_cert,
				  s->tls_key);
			bm_buf_dispose(&cert);
			bm_buf_dispose(&key);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	s->mhd = MHD_start_daemon(flags, (uint16_t)s->port, NULL, NULL, on_request, s,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, /* first: else MHD says so */
				  MHD_OPTION_SOCK_ADDR, sa,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->threads,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->conn_limit,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->conn_timeout,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)0,
				  MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_NOTIFY_CONNECTION, on_conn_notify, s,
				  s->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert.ptr,
				  MHD_OPTION_HTTPS_MEM_KEY, key.ptr,
				  MHD_OPTION_END);
	bm_buf_dispose(&cert);
	bm_buf_dispose(&key);
	if (!s->mhd) {
		serve_log("error", "listen", "addr=%s:%u error=\"%s\"", s->host, s->port,
			  errno ? strerror(errno) : "libmicrohttpd could not start");
		return -1;
	}
	if ((info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT)) && info->port)
		s->port = info->port;
	return 0;
}

void serve_http_stop(serve *s)
{
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	s->mhd = NULL;
}

/* ---- /metrics ---- */

int serve_metrics_text(serve *s, bm_buf *out)
{
	static const char *const le[] = { "1", "3", "7", "15", "31", "63", "127", "+Inf" };
	unsigned long long cum = 0, commits = atomic_load(&s->m.commits);
	int i;

	bm_buf_puts(out, "# HELP bootmeta_http_requests_total HTTP requests answered, by status class.\n"
			 "# TYPE bootmeta_http_requests_total counter\n");
	for (i = 1; i <= 5; i++)
		bm_buf_printf(out, "bootmeta_http_requests_total{code=\"%dxx\"} %llu\n", i,
			      (unsigned long long)atomic_load(&s->m.req_by_class[i]));
	bm_buf_printf(out,
		      "# HELP bootmeta_reads_total Read requests.\n# TYPE bootmeta_reads_total counter\n"
		      "bootmeta_reads_total %llu\n"
		      "# HELP bootmeta_writes_total Write requests, by result.\n# TYPE bootmeta_writes_total counter\n"
		      "bootmeta_writes_total{result=\"committed\"} %llu\n"
		      "bootmeta_writes_total{result=\"failed\"} %llu\n"
		      "bootmeta_writes_total{result=\"replayed\"} %llu\n"
		      "# HELP bootmeta_auth_refused_total Writes refused for their token.\n"
		      "# TYPE bootmeta_auth_refused_total counter\n"
		      "bootmeta_auth_refused_total{status=\"401\"} %llu\n"
		      "bootmeta_auth_refused_total{status=\"403\"} %llu\n"
		      "# HELP bootmeta_bad_requests_total Requests refused for their body.\n"
		      "# TYPE bootmeta_bad_requests_total counter\n"
		      "bootmeta_bad_requests_total{status=\"400\"} %llu\n"
		      "bootmeta_bad_requests_total{status=\"413\"} %llu\n",
		      (unsigned long long)atomic_load(&s->m.reads), (unsigned long long)atomic_load(&s->m.writes_ok),
		      (unsigned long long)atomic_load(&s->m.writes_failed),
		      (unsigned long long)atomic_load(&s->m.writes_replayed),
		      (unsigned long long)atomic_load(&s->m.auth_401), (unsigned long long)atomic_load(&s->m.auth_403),
		      (unsigned long long)atomic_load(&s->m.body_400), (unsigned long long)atomic_load(&s->m.body_413));
	bm_buf_printf(out,
		      "# HELP bootmeta_commit_seconds Time from a batch's start to its durable commit.\n"
		      "# TYPE bootmeta_commit_seconds summary\n"
		      "bootmeta_commit_seconds_sum %.6f\nbootmeta_commit_seconds_count %llu\n"
		      "# HELP bootmeta_commit_seconds_max The longest commit so far.\n"
		      "# TYPE bootmeta_commit_seconds_max gauge\nbootmeta_commit_seconds_max %.6f\n"
		      "# HELP bootmeta_batch_size Writes per meta commit.\n# TYPE bootmeta_batch_size histogram\n",
		      (double)atomic_load(&s->m.commit_us_total) / 1e6, commits,
		      (double)atomic_load(&s->m.commit_us_max) / 1e6);
	for (i = 0; i < 8; i++) {
		cum += atomic_load(&s->m.batch_hist[i]);
		bm_buf_printf(out, "bootmeta_batch_size_bucket{le=\"%s\"} %llu\n", le[i], cum);
	}
	bm_buf_printf(out,
		      "bootmeta_batch_size_sum %llu\nbootmeta_batch_size_count %llu\n"
		      "# HELP bootmeta_write_queue Writes waiting for the writer.\n# TYPE bootmeta_write_queue gauge\n"
		      "bootmeta_write_queue %zu\n"
		      "# HELP bootmeta_watchers Open event streams and long polls.\n# TYPE bootmeta_watchers gauge\n"
		      "bootmeta_watchers{mode=\"sse\"} %u\nbootmeta_watchers{mode=\"poll\"} %u\n"
		      "# HELP bootmeta_watch_events_total Events sent to watchers.\n"
		      "# TYPE bootmeta_watch_events_total counter\nbootmeta_watch_events_total %llu\n"
		      "# HELP bootmeta_watch_dropped_total Watchers dropped for not reading.\n"
		      "# TYPE bootmeta_watch_dropped_total counter\nbootmeta_watch_dropped_total %llu\n"
		      "# HELP bootmeta_watch_errors_total Events serve could not read: never skipped (answers end before "
		      "them, the hub tries again).\n"
		      "# TYPE bootmeta_watch_errors_total counter\nbootmeta_watch_errors_total %llu\n"
		      "# HELP bootmeta_upstream_fetches_total Fetches of the upstream (--upstream), by result.\n"
		      "# TYPE bootmeta_upstream_fetches_total counter\n"
		      "bootmeta_upstream_fetches_total{result=\"ok\"} %llu\n"
		      "bootmeta_upstream_fetches_total{result=\"error\"} %llu\n"
		      "# HELP bootmeta_header_timeouts_total Connections closed for headers not sent in time.\n"
		      "# TYPE bootmeta_header_timeouts_total counter\nbootmeta_header_timeouts_total %llu\n",
		      (unsigned long long)atomic_load(&s->m.batch_writes), commits, s->qlen,
		      atomic_load(&s->m.watchers), atomic_load(&s->m.longpolls),
		      (unsigned long long)atomic_load(&s->m.watch_events),
		      (unsigned long long)atomic_load(&s->m.watch_dropped),
		      (unsigned long long)atomic_load(&s->m.watch_errors),
		      (unsigned long long)atomic_load(&s->m.upstream_fetches),
		      (unsigned long long)atomic_load(&s->m.upstream_errors),
		      (unsigned long long)atomic_load(&s->m.header_timeouts));
	{
		size_t used = 0, max = 0;
		if (bm_global_cache_usage(&used, &max) == 0)
			bm_buf_printf(out,
				      "# HELP bootmeta_git_cache_bytes Bytes in libgit2's object cache.\n"
				      "# TYPE bootmeta_git_cache_bytes gauge\nbootmeta_git_cache_bytes %zu\n"
				      "# HELP bootmeta_git_cache_max_bytes Its limit (--cache-max).\n"
				      "# TYPE bootmeta_git_cache_max_bytes gauge\nbootmeta_git_cache_max_bytes %zu\n",
				      used, max);
		bm_error_clear();
	}
	serve_nats_metrics(s, out);
	serve_hooks_metrics(s, out);
	return 0;
}
