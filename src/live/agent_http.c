/* agent_http.c: bootmeta-agent's HTTP client without libcurl (http://, and https:// over
 * mbedTLS, which libgit2 maps anyway), and the helper that runs the transfers which need
 * libcurl (agent_http.h). */
#include "agent_http.h"
#include "agent_wire.h"
#include "serve_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int64_t ms_now(void)
{
	return serve_mono_us() / 1000;
}

static void (*wait_fn)(void *);
static void *wait_arg;

void agent_http_on_wait(void (*fn)(void *), void *arg)
{
	wait_fn = fn;
	wait_arg = arg;
}

/* the time to the next poll's end, at most 200 ms; the wait callback first */
static int left_ms(int64_t end)
{
	int64_t l;
	if (wait_fn)
		wait_fn(wait_arg);
	l = end - ms_now();
	return l <= 0 ? 0 : l > 200 ? 200 : (int)l;
}

/* connect to one of the host's addresses before `end` */
static int dial(int *out, const agent_url *u, int64_t end, volatile int *stop)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, err = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0)
		return bm_error_set(BM_EREMOTE, "%s: %s", u->host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd p = { fd, POLLOUT, 0 };
			socklen_t sl = sizeof(err);
			err = ETIMEDOUT;
			while (!*stop && ms_now() < end) {
				if (poll(&p, 1, left_ms(end)) > 0) {
					if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
						err = errno;
					break;
				}
			}
			if (!err)
				break;
		} else {
			err = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return bm_error_set(BM_EREMOTE, "connect to %s port %s: %s", u->host, u->port,
				    *stop ? "stopped" : strerror(err ? err : ETIMEDOUT));
	*out = fd;
	return 0;
}

static int send_all(int fd, const char *p, size_t n, int64_t end, volatile int *stop)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return bm_error_set(BM_EREMOTE, "send: %s", strerror(errno));
		{
			struct pollfd pf = { fd, POLLOUT, 0 };
			if (*stop || ms_now() >= end)
				return bm_error_set(BM_EREMOTE, "send: %s", *stop ? "stopped" : "timed out");
			poll(&pf, 1, left_ms(end));
		}
	}
	return 0;
}

/* ---- TLS (https:// to a host name) ---- */

/* The CA certificates and the TLS settings, made at the first https:// request and kept:
 * SSL_CERT_FILE and SSL_CERT_DIR when set (as libcurl's helper takes them), else the first
 * system bundle of TLS_CA_BUNDLES that is there. A setup that failed is tried again at the
 * next request (a CA file being replaced, say). */
static struct {
	int ready;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_ssl_config conf;
} tls;

/* Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine */
static const char *const TLS_CA_BUNDLES[] = { "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
					      "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem" };
#define TLS_CA_SAID "SSL_CERT_FILE, else /etc/ssl/certs/ca-certificates.crt or the system's bundle"

static void tls_free(void)
{
	mbedtls_ssl_config_free(&tls.conf);
	mbedtls_x509_crt_free(&tls.ca);
	mbedtls_ctr_drbg_free(&tls.drbg);
	mbedtls_entropy_free(&tls.entropy);
	tls.ready = 0;
}

static const char *ca_file, *ca_dir;

void agent_http_set_ca(const char *file, const char *dir)
{
	ca_file = file && *file ? file : NULL;
	ca_dir = dir && *dir ? dir : NULL;
}

static int tls_setup(void)
{
	const char *file = ca_file, *dir = ca_dir;
	char e[200];
	int r, error = 0;
	size_t i;
	if (tls.ready)
		return 0;
	mbedtls_entropy_init(&tls.entropy);
	mbedtls_ctr_drbg_init(&tls.drbg);
	mbedtls_x509_crt_init(&tls.ca);
	mbedtls_ssl_config_init(&tls.conf);
	if ((r = mbedtls_ctr_drbg_seed(&tls.drbg, mbedtls_entropy_func, &tls.entropy,
				       (const unsigned char *)"bootmeta-agent", 14)) != 0) {
		mbedtls_strerror(r, e, sizeof(e));
		error = bm_error_set(BM_EREMOTE, "TLS: cannot seed the random generator: %s", e);
		goto done;
	}
	for (i = 0; !file && !dir && i < sizeof(TLS_CA_BUNDLES) / sizeof(TLS_CA_BUNDLES[0]); i++)
		if (access(TLS_CA_BUNDLES[i], R_OK) == 0)
			file = TLS_CA_BUNDLES[i];
	/* > 0: that many certificates did not parse (the others are taken, as libcurl does) */
	if (file && (r = mbedtls_x509_crt_parse_file(&tls.ca, file)) < 0 && !dir) {
		mbedtls_strerror(r, e, sizeof(e));
		error = bm_error_set(BM_EREMOTE, "TLS: the CA certificates %s: %s (set SSL_CERT_FILE to a PEM file of the "
						 "CAs to trust)", file, e);
		goto done;
	}
	if (dir)
		(void)mbedtls_x509_crt_parse_path(&tls.ca, dir); /* what parses is taken; none: below */
	if (!tls.ca.version) {
		error = bm_error_set(BM_EREMOTE, "TLS: no CA certificate to check servers with: %s%s%s (set SSL_CERT_FILE "
						 "to a PEM file of the CAs to trust)", file ? file : "", file && dir ? ", " : "",
				     dir ? dir : file ? "" : "no system bundle found");
		goto done;
	}
	if ((r = mbedtls_ssl_config_defaults(&tls.conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					     MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		mbedtls_strerror(r, e, sizeof(e));
		error = bm_error_set(BM_EREMOTE, "TLS: %s", e);
		goto done;
	}
	mbedtls_ssl_conf_min_version(&tls.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3); /* 1.2 */
	mbedtls_ssl_conf_authmode(&tls.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&tls.conf, &tls.ca, NULL);
	mbedtls_ssl_conf_rng(&tls.conf, mbedtls_ctr_drbg_random, &tls.drbg);
	tls.ready = 1;
done:
	if (error < 0)
		tls_free();
	return error;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t w = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
	if (w >= 0)
		return (int)w;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_WRITE
									  : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t r = recv(*(int *)ctx, buf, len, 0);
	if (r >= 0)
		return (int)r;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ
		       : errno == ECONNRESET				   ? MBEDTLS_ERR_NET_CONN_RESET
									   : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* A connection: the socket, and its TLS session for https://. */
typedef struct {
	int fd;
	int tls;
	mbedtls_ssl_context ssl;
	const char *host;
} conn;

/* wait until fd is ready for `events`, or fail at `end` or on *stop (what: for the message) */
static int conn_wait(const conn *c, short events, const char *what, int64_t end, volatile int *stop)
{
	struct pollfd pf = { c->fd, events, 0 };
	if (*stop || ms_now() >= end) /* what NULL: the answer's wait, said as "timed out" alone */
		return bm_error_set(BM_EREMOTE, "%s%s%s", what ? what : "", what ? ": " : "", *stop ? "stopped" : "timed out");
	poll(&pf, 1, left_ms(end));
	return 0;
}

static int tls_fail(const conn *c, const char *what, int r)
{
	char e[200], info[300] = "";
	if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
		size_t n;
		mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
		for (n = strlen(info); n && (info[n - 1] == '\n' || info[n - 1] == ' '); n--)
			info[n - 1] = '\0';
		for (n = 0; info[n]; n++)
			if (info[n] == '\n')
				info[n] = ';';
		return bm_error_set(BM_EREMOTE, "TLS: the certificate of %s is not trusted: %s (the CAs this agent "
				    "trusts: " TLS_CA_SAID ")", c->host, info);
	}
	mbedtls_strerror(r, e, sizeof(e));
	return bm_error_set(BM_EREMOTE, "TLS %s with %s: %s", what, c->host, e);
}

static int conn_tls_start(conn *c, int64_t end, volatile int *stop)
{
	int r, error;
	if ((error = tls_setup()) < 0)
		return error;
	mbedtls_ssl_init(&c->ssl);
	c->tls = 1;
	if ((r = mbedtls_ssl_setup(&c->ssl, &tls.conf)) != 0 || (r = mbedtls_ssl_set_hostname(&c->ssl, c->host)) != 0)
		return tls_fail(c, "setup", r);
	mbedtls_ssl_set_bio(&c->ssl, &c->fd, bio_send, bio_recv, NULL);
	while ((r = mbedtls_ssl_handshake(&c->ssl)) != 0) {
		if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
			return tls_fail(c, "handshake", r);
		if ((error = conn_wait(c, r == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT, "TLS handshake", end,
				       stop)) < 0)
			return error;
	}
	return 0;
}

static int conn_write_all(conn *c, const char *p, size_t n, int64_t end, volatile int *stop)
{
	int error;
	if (!c->tls)
		return send_all(c->fd, p, n, end, stop);
	while (n) {
		int w = mbedtls_ssl_write(&c->ssl, (const unsigned char *)p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w != MBEDTLS_ERR_SSL_WANT_READ && w != MBEDTLS_ERR_SSL_WANT_WRITE)
			return tls_fail(c, "send", w);
		if ((error = conn_wait(c, w == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT, "send", end, stop)) < 0)
			return error;
	}
	return 0;
}

/* > 0 bytes read, 0 at the end of the answer (the peer closed), < 0 an error (set) */
static ssize_t conn_read(conn *c, char *buf, size_t n, int64_t end, volatile int *stop)
{
	int error;
	for (;;) {
		short ev = POLLIN;
		if (c->tls) {
			int r = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf, n);
			if (r >= 0)
				return r;
			/* the end: said by the peer, or the connection closed without close_notify (the
			 * answer's framing, Content-Length or chunked, then tells one cut short) */
			if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF)
				return 0;
			if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
				return tls_fail(c, "recv", r);
			if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
				ev = POLLOUT;
		} else {
			ssize_t r = recv(c->fd, buf, n, 0);
			if (r >= 0)
				return r;
			if (errno != EAGAIN && errno != EINTR)
				return bm_error_set(BM_EREMOTE, "recv: %s", strerror(errno));
		}
		if ((error = conn_wait(c, ev, NULL, end, stop)) < 0)
			return error;
	}
}

static int http_direct(long *status, bm_buf *out, const agent_url *u, const char *body, const char *token,
		       int64_t timeout_ms, size_t max, volatile int *stop)
{
	int64_t end = ms_now() + timeout_ms;
	bm_buf req = BM_BUF_INIT, in = BM_BUF_INIT;
	conn c;
	int error;
	int v6 = strchr(u->host, ':') != NULL;
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	c.host = u->host;
	bm_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: bootmeta-agent/" BM_VERSION
		      "\r\nAccept: application/json\r\nConnection: close\r\n",
		      body ? "POST" : "GET", u->target, v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
	if (token && body)
		bm_buf_printf(&req, "Authorization: Bearer %s\r\n", token);
	if (body)
		bm_buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
	else
		bm_buf_puts(&req, "\r\n");
	if (!req.ptr) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = dial(&c.fd, u, end, stop)) < 0 || (u->tls && (error = conn_tls_start(&c, end, stop)) < 0) ||
	    (error = conn_write_all(&c, req.ptr, req.size, end, stop)) < 0)
		goto done;
	for (;;) {
		char chunk[16384];
		ssize_t r = conn_read(&c, chunk, sizeof(chunk), end, stop);
		if (r < 0) {
			error = (int)r;
			goto done;
		}
		if (r == 0)
			break;
		if (in.size + (size_t)r > max + 65536) {
			error = bm_error_set(BM_EREMOTE, "the answer is over %zu bytes", max);
			goto done;
		}
		if ((error = bm_buf_put(&in, chunk, (size_t)r)) < 0)
			goto done;
	}
	error = agent_http_answer(status, out, in.ptr ? in.ptr : "", in.size, max);
done:
	if (c.tls) {
		if (!error)
			mbedtls_ssl_close_notify(&c.ssl); /* best effort: the answer is in */
		mbedtls_ssl_free(&c.ssl);
	}
	if (c.fd >= 0)
		close(c.fd);
	bm_buf_dispose(&req);
	bm_buf_dispose(&in);
	return error;
}

/* https: `bootmeta-live agent-io http GET|POST URL TIMEOUT_MS MAX`; stdin: the token's line,
 * then the body; stdout: the status's line, then the answer */
static int http_helper(long *status, bm_buf *out, const char *url, const char *body, const char *token,
		       int64_t timeout_ms, size_t max, volatile int *stop)
{
	char tms[32], mx[32];
	const char *args[] = { "http", body ? "POST" : "GET", url, tms, mx, NULL };
	bm_buf in = BM_BUF_INIT, got = BM_BUF_INIT;
	const char *nl;
	int error;
	snprintf(tms, sizeof(tms), "%lld", (long long)timeout_ms);
	snprintf(mx, sizeof(mx), "%zu", max);
	bm_buf_printf(&in, "%s\n%s", token ? token : "", body ? body : "");
	if ((error = agent_io_run(&got, args, in.ptr, in.size, timeout_ms + 5000, stop)) < 0)
		goto done;
	if (!got.ptr || !(nl = memchr(got.ptr, '\n', got.size))) {
		error = bm_error_set(BM_EREMOTE, "%s: no answer from bootmeta-live agent-io", url);
		goto done;
	}
	*status = strtol(got.ptr, NULL, 10);
	bm_buf_clear(out);
	error = bm_buf_put(out, nl + 1, got.size - (size_t)(nl + 1 - got.ptr));
done:
	bm_buf_dispose(&in);
	bm_buf_dispose(&got);
	return error;
}

int agent_http(long *status, bm_buf *out, const char *url, const char *body, const char *token, int64_t timeout_ms,
	       size_t max, volatile int *stop)
{
	agent_url u;
	int error;
	*status = 0;
	if (agent_url_parse(&u, url) < 0)
		return -1;
	/* https:// to an IP address goes through libcurl: mbedTLS 2.28 checks a certificate's
	 * DNS names only, not its IP addresses */
	{
		unsigned char a[16];
		if (u.tls && (inet_pton(AF_INET, u.host, a) == 1 || inet_pton(AF_INET6, u.host, a) == 1))
			error = http_helper(status, out, url, body, token, timeout_ms, max, stop);
		else
			error = http_direct(status, out, &u, body, token, timeout_ms, max, stop);
	}
	return error < 0 ? bm_error_prefix(BM_EREMOTE, "%s", url) : 0;
}

int agent_io_run(bm_buf *out, const char *const *args, const void *in, size_t in_len, int64_t timeout_ms,
		 volatile int *stop)
{
	char self[PATH_MAX], path[PATH_MAX + 32], *slash, err_last[600] = "";
	const char *argv[16];
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	bm_buf err = BM_BUF_INIT;
	int64_t end = ms_now() + timeout_ms;
	int k = 0, status = 0, error = 0, killed = 0;
	pid_t pid;
	size_t i;

	if (n <= 0 || !(slash = memrchr(self, '/', (size_t)n)))
		return bm_error_set(BM_EIO, "cannot find this program's folder (/proc/self/exe)");
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/bootmeta-live", self);
	argv[k++] = path;
	argv[k++] = "agent-io";
	for (i = 0; args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
		error = bm_error_set(BM_EIO, "pipe: %s", strerror(errno));
		goto done;
	}
	if ((pid = fork()) < 0) {
		error = bm_error_set(BM_EIO, "fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* a transfer does not outlive a killed agent */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0)
			_exit(127);
		execv(path, (char *const *)argv);
		dprintf(2, "cannot run %s: %s (it is installed next to bootmeta-agent)\n", path, strerror(errno));
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	/* the input is small (a record, a report): written whole before the helper answers */
	{
		const char *p = in;
		while (in_len) {
			ssize_t w = write(pin[1], p, in_len);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			in_len -= (size_t)w;
		}
		close(pin[1]);
		pin[1] = -1;
	}
	bm_buf_clear(out);
	for (;;) {
		struct pollfd pf[2] = { { pout[0], POLLIN, 0 }, { perr[0], POLLIN, 0 } };
		int open_fds = (pout[0] >= 0) + (perr[0] >= 0);
		if (!open_fds)
			break;
		if (!killed && (*stop || ms_now() >= end)) {
			kill(pid, *stop ? SIGTERM : SIGKILL);
			killed = 1;
		}
		if (wait_fn)
			wait_fn(wait_arg);
		if (poll(pf, 2, 200) <= 0)
			continue;
		for (int j = 0; j < 2; j++) {
			int *fd = j ? &perr[0] : &pout[0];
			char chunk[8192];
			ssize_t r;
			if (*fd < 0 || !(pf[j].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(*fd, chunk, sizeof(chunk));
			if (r > 0) {
				bm_buf *b = j ? &err : out;
				if (b->size + (size_t)r <= (64u << 20))
					bm_buf_put(b, chunk, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (err.ptr) {
		/* its last line says why */
		char *e = err.ptr, *line;
		size_t len = err.size;
		while (len && (e[len - 1] == '\n' || e[len - 1] == '\r'))
			e[--len] = '\0';
		line = memrchr(e, '\n', len);
		snprintf(err_last, sizeof(err_last), "%s", line ? line + 1 : e);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (killed)
			error = bm_error_set(BM_EREMOTE, "%s", *stop ? "stopped" : "timed out");
		else if (*err_last)
			error = bm_error_set(BM_EREMOTE, "%s", err_last);
		else if (WIFEXITED(status))
			error = bm_error_set(BM_EREMOTE, "bootmeta-live agent-io exited with status %d", WEXITSTATUS(status));
		else
			error = bm_error_set(BM_EREMOTE, "bootmeta-live agent-io was killed by signal %d", WTERMSIG(status));
	}
done:
	for (i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	bm_buf_dispose(&err);
	return error;
}
