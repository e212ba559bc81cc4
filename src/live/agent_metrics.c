/* agent_metrics.c: GET /metrics of bootmeta agent (agent_metrics.h). Not libmicrohttpd: it
 * and the gnutls it links would add about 2 MiB of resident pages to every agent for one
 * page a scraper reads every few seconds; this listener is a blocking socket in a thread
 * of its own, with bounded requests (agent_metrics_request, fuzz_agent_wire) and 1 s
 * timeouts. */
#include "agent_metrics.h"
#include "agent_wire.h"
#include "serve_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

void agent_metrics_init(agent_metrics *m, const agent_config *c, const char *id, volatile int *stop)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	m->c = c;
	m->id = id;
	m->fd = -1;
	m->stop = stop;
}

void agent_metrics_add(agent_metrics *m, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&m->mu);
	*counter += n;
	pthread_mutex_unlock(&m->mu);
}

void agent_metrics_state(agent_metrics *m, const char *state)
{
	pthread_mutex_lock(&m->mu);
	snprintf(m->state, sizeof(m->state), "%s", state);
	pthread_mutex_unlock(&m->mu);
}

void agent_metrics_committed(agent_metrics *m, const char *release)
{
	pthread_mutex_lock(&m->mu);
	snprintf(m->committed, sizeof(m->committed), "%s", release);
	pthread_mutex_unlock(&m->mu);
}

void agent_metrics_read(agent_metrics *m, uint64_t seq)
{
	pthread_mutex_lock(&m->mu);
	m->seq = seq;
	m->meta_read_ms = serve_now_ms();
	m->rounds++;
	pthread_mutex_unlock(&m->mu);
}

/* a label value: \ " and newline escaped */
static void label(bm_buf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			bm_buf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			bm_buf_puts(out, "\\n");
		else
			bm_buf_put(out, v, 1);
	}
}

static void head(bm_buf *out, const char *name, const char *type, const char *help)
{
	bm_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int agent_metrics_render(bm_buf *out, agent_metrics *m)
{
	static const char *const states[] = { "downloading", "installed", "healthy", "failed", "rolled-back" };
	char cur[AGENT_NAME_MAX + 16] = "", link[4200], target[AGENT_NAME_MAX + 16];
	ssize_t n;
	long size_pages = 0, rss_pages = 0;
	size_t i;
	FILE *f;

	snprintf(link, sizeof(link), "%s/current", m->c->dir);
	if ((n = readlink(link, target, sizeof(target) - 1)) > 0) {
		target[n] = '\0';
		snprintf(cur, sizeof(cur), "%s", !strncmp(target, "releases/", 9) ? target + 9 : target);
	}
	if ((f = fopen("/proc/self/statm", "re"))) {
		if (fscanf(f, "%ld %ld", &size_pages, &rss_pages) != 2)
			rss_pages = 0;
		fclose(f);
	}
	pthread_mutex_lock(&m->mu);
	head(out, "bootmeta_agent_info", "gauge", "What this agent follows (always 1).");
	bm_buf_puts(out, "bootmeta_agent_info{project=\"");
	label(out, m->c->project);
	bm_buf_puts(out, "\",channel=\"");
	label(out, m->c->channel);
	bm_buf_puts(out, "\",env=\"");
	label(out, m->c->env);
	bm_buf_puts(out, "\",id=\"");
	label(out, m->id);
	bm_buf_puts(out, "\",version=\"" BM_VERSION "\"} 1\n");
	head(out, "bootmeta_agent_release_info", "gauge",
	     "The release DIR/current points at (installed) and the one last committed healthy (always 1).");
	bm_buf_puts(out, "bootmeta_agent_release_info{installed=\"");
	label(out, cur);
	bm_buf_puts(out, "\",committed=\"");
	label(out, m->committed);
	bm_buf_puts(out, "\"} 1\n");
	head(out, "bootmeta_agent_state", "gauge", "The state of the current attempt, as last reported (1: this one).");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		bm_buf_printf(out, "bootmeta_agent_state{state=\"%s\"} %d\n", states[i], !strcmp(m->state, states[i]));
	head(out, "bootmeta_agent_channel_seq", "gauge", "The number of the channel entry last read.");
	bm_buf_printf(out, "bootmeta_agent_channel_seq %llu\n", (unsigned long long)m->seq);
	head(out, "bootmeta_agent_rounds_total", "counter", "Reads of the channel that succeeded.");
	bm_buf_printf(out, "bootmeta_agent_rounds_total %llu\n", (unsigned long long)m->rounds);
	head(out, "bootmeta_agent_downloads_total", "counter", "Downloads of a release's binary, by result.");
	bm_buf_printf(out, "bootmeta_agent_downloads_total{result=\"ok\"} %llu\n", (unsigned long long)m->downloads_ok);
	bm_buf_printf(out, "bootmeta_agent_downloads_total{result=\"failed\"} %llu\n",
		      (unsigned long long)m->downloads_failed);
	head(out, "bootmeta_agent_download_bytes_total", "counter", "Bytes of the binaries downloaded and verified.");
	bm_buf_printf(out, "bootmeta_agent_download_bytes_total %llu\n", (unsigned long long)m->download_bytes);
	head(out, "bootmeta_agent_rollbacks_total", "counter", "Releases that failed their health gate and were rolled back.");
	bm_buf_printf(out, "bootmeta_agent_rollbacks_total %llu\n", (unsigned long long)m->rollbacks);
	head(out, "bootmeta_agent_reports_total", "counter", "Instance reports, by result.");
	bm_buf_printf(out, "bootmeta_agent_reports_total{result=\"sent\"} %llu\n", (unsigned long long)m->reports_sent);
	bm_buf_printf(out, "bootmeta_agent_reports_total{result=\"failed\"} %llu\n", (unsigned long long)m->reports_failed);
	head(out, "bootmeta_agent_last_meta_read_timestamp_seconds", "gauge",
	     "When the channel was last read successfully (unix seconds; 0 never).");
	bm_buf_printf(out, "bootmeta_agent_last_meta_read_timestamp_seconds %.3f\n", (double)m->meta_read_ms / 1000.0);
	head(out, "bootmeta_agent_meta_age_seconds", "gauge",
	     "Seconds since the channel was last read successfully (-1 never).");
	if (m->meta_read_ms)
		bm_buf_printf(out, "bootmeta_agent_meta_age_seconds %.3f\n",
			      (double)(serve_now_ms() - m->meta_read_ms) / 1000.0);
	else
		bm_buf_puts(out, "bootmeta_agent_meta_age_seconds -1\n");
	pthread_mutex_unlock(&m->mu);
	head(out, "process_resident_memory_bytes", "gauge", "Resident memory of the agent process.");
	bm_buf_printf(out, "process_resident_memory_bytes %lld\n", (long long)rss_pages * (long long)sysconf(_SC_PAGESIZE));
	return out->ptr ? 0 : bm_error_set(BM_ENOMEM, "out of memory");
}

static void answer(int fd, int status, const char *reason, const char *type, const bm_buf *body, int head_only)
{
	char h[256];
	int k = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, reason, type, body->size);
	if (send(fd, h, (size_t)k, MSG_NOSIGNAL) == k && !head_only && body->size)
		(void)!send(fd, body->ptr, body->size, MSG_NOSIGNAL);
}

static void serve_one(agent_metrics *m, int fd)
{
	char buf[AGENT_METRICS_HEAD_MAX], path[256];
	struct timeval tv = { 1, 0 };
	size_t len = 0;
	int64_t end = serve_mono_us() / 1000 + 1000;
	int st = 0, head_only = 0;
	bm_buf body = BM_BUF_INIT;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len < sizeof(buf) && serve_mono_us() / 1000 < end) {
		ssize_t r = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		if ((st = agent_metrics_request(path, &head_only, buf, len)) != 0)
			break;
	}
	if (!st && len >= sizeof(buf))
		st = agent_metrics_request(path, &head_only, buf, len);
	if (!st) {
		/* the client went away or was too slow: nothing to answer */
	} else if (st == 200 && !strcmp(path, "/metrics")) {
		if (agent_metrics_render(&body, m) == 0)
			answer(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &body, head_only);
	} else {
		static const struct {
			int st;
			const char *reason;
		} r[] = { { 400, "Bad Request" }, { 405, "Method Not Allowed" }, { 414, "URI Too Long" },
			  { 431, "Request Header Fields Too Large" }, { 505, "HTTP Version Not Supported" } };
		const char *reason = st == 200 ? "Not Found" : "Bad Request";
		size_t i;
		for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
			if (r[i].st == st)
				reason = r[i].reason;
		bm_buf_printf(&body, "%s\n", st == 200 ? "not found: the agent serves GET /metrics" : reason);
		answer(fd, st == 200 ? 404 : st, reason,
		       "text/plain; charset=utf-8", &body, head_only);
	}
	bm_buf_dispose(&body);
}

static void *loop(void *arg)
{
	agent_metrics *m = arg;
	while (!*m->stop) {
		struct pollfd p = { m->fd, POLLIN, 0 };
		int c;
		if (poll(&p, 1, 200) <= 0)
			continue;
		if ((c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		serve_one(m, c);
		/* close after the client's unread bytes (a head too big): a reset would lose the
		 * answer; at most 64 KiB more, within the same 1 s timeouts */
		shutdown(c, SHUT_WR);
		{
			char sink[4096];
			size_t total = 0;
			ssize_t r;
			while (total < 65536 && (r = recv(c, sink, sizeof(sink), 0)) > 0)
				total += (size_t)r;
		}
		close(c);
	}
	return NULL;
}

int agent_metrics_start(agent_metrics *m, const char *addr)
{
	char host[256] = "127.0.0.1", port[16];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, rc;
	size_t hl;
	if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(port) || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return bm_error_set(BM_EINVALID, "--metrics-listen %s: give HOST:PORT (127.0.0.1:9420)", addr);
	snprintf(port, sizeof(port), "%s", colon + 1);
	hl = (size_t)(colon - addr);
	if (hl && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl) {
		if (hl >= sizeof(host))
			return bm_error_set(BM_EINVALID, "--metrics-listen %s: the host is too long", addr);
		memcpy(host, addr, hl);
		host[hl] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return bm_error_set(BM_EINVALID, "--metrics-listen %s:%s: %s", host, port, gai_strerror(rc));
	m->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(m->fd, res->ai_addr, res->ai_addrlen) < 0 || listen(m->fd, 16) < 0) {
		rc = errno;
		freeaddrinfo(res);
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		return bm_error_set(BM_EIO, "--metrics-listen %s:%s: %s", host, port, strerror(rc));
	}
	freeaddrinfo(res);
	if (getsockname(m->fd, (struct sockaddr *)&ss, &sl) == 0) {
		char h[INET6_ADDRSTRLEN] = "?";
		int p = 0;
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, h, sizeof(h));
			p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, h, sizeof(h));
			p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		serve_log("info", "metrics", "url=http://%s%s%s:%d/metrics", ss.ss_family == AF_INET6 ? "[" : "", h,
			  ss.ss_family == AF_INET6 ? "]" : "", p);
	}
	if ((rc = pthread_create(&m->thread, NULL, loop, m)) != 0) {
		close(m->fd);
		m->fd = -1;
		return bm_error_set(BM_EIO, "--metrics-listen: thread: %s", strerror(rc));
	}
	m->running = 1;
	return 0;
}

void agent_metrics_stop(agent_metrics *m)
{
	if (m->running)
		pthread_join(m->thread, NULL);
	m->running = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	pthread_mutex_destroy(&m->mu);
}
