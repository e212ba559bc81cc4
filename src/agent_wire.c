/* agent_wire.c: URL, HTTP answer and /metrics request parsing for bootmeta-agent (see
 * agent_wire.h). Every input is bounded; nothing here allocates but `body`. */
#include "agent_wire.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int agent_url_parse(agent_url *u, const char *url)
{
	const char *p, *host, *hend, *port = NULL, *pend;
	size_t n;
	memset(u, 0, sizeof(*u));
	if (!strncmp(url, "http://", 7)) {
		p = url + 7;
	} else if (!strncmp(url, "https://", 8)) {
		p = url + 8;
		u->tls = 1;
	} else {
		return bm_error_set(BM_EINVALID, "%.200s: not an http:// or https:// URL", url);
	}
	host = p;
	if (*p == '[') {
		host = ++p;
		while (*p && *p != ']')
			p++;
		if (*p != ']')
			return bm_error_set(BM_EINVALID, "%.200s: an IPv6 address without its ']'", url);
		hend = p++;
	} else {
		while (*p && *p != ':' && *p != '/' && *p != '?' && *p != '#' && *p != '@')
			p++;
		hend = p;
	}
	if (*p == '@')
		return bm_error_set(BM_EINVALID, "%.200s: user names in URLs are not taken", url);
	if (*p == ':') {
		port = ++p;
		while (is_digit(*p))
			p++;
	}
	pend = p;
	n = (size_t)(hend - host);
	if (!n || n >= sizeof(u->host))
		return bm_error_set(BM_EINVALID, "%.200s: no host, or a host too long", url);
	memcpy(u->host, host, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u->host[i] <= ' ' || u->host[i] == '\x7f')
			return bm_error_set(BM_EINVALID, "%.200s: a control character or space in the host", url);
	if (port) {
		long v;
		n = (size_t)(pend - port);
		if (!n || n > 5)
			return bm_error_set(BM_EINVALID, "%.200s: a bad port", url);
		memcpy(u->port, port, n);
		v = strtol(u->port, NULL, 10);
		if (v < 1 || v > 65535)
			return bm_error_set(BM_EINVALID, "%.200s: port %s is out of range", url, u->port);
	} else {
		memcpy(u->port, u->tls ? "443" : "80", u->tls ? 4 : 3);
	}
	if (*p && *p != '/' && *p != '?')
		return bm_error_set(BM_EINVALID, "%.200s: a bad port or host", url);
	if (*p == '#')
		return bm_error_set(BM_EINVALID, "%.200s: a fragment", url);
	n = strcspn(p, "#");
	if (n + 2 > sizeof(u->target))
		return bm_error_set(BM_EINVALID, "%.200s: the path is too long", url);
	if (*p != '/')
		u->target[0] = '/';
	memcpy(u->target + (*p != '/'), p, n);
	for (char *c = u->target; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '\x7f')
			return bm_error_set(BM_EINVALID, "%.200s: a control character or space in the path", url);
	return 0;
}

/* The value of header `name` in the head [h, end) (lines after the status line), or NULL. */
static const char *header(size_t *vlen, const char *h, const char *end, const char *name)
{
	size_t nl = strlen(name);
	while (h < end) {
		const char *eol = memchr(h, '\n', (size_t)(end - h));
		const char *line_end = eol ? eol : end;
		if ((size_t)(line_end - h) > nl && !strncasecmp(h, name, nl) && h[nl] == ':') {
			const char *v = h + nl + 1, *ve = line_end;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		h = eol ? eol + 1 : end;
	}
	return NULL;
}

static int dechunk(bm_buf *body, const char *p, const char *end, size_t max)
{
	for (;;) {
		unsigned long long n = 0;
		int digits = 0;
		while (p < end) {
			char c = *p;
			int d = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
			if (d < 0)
				break;
			if (n > (1ULL << 40))
				return bm_error_set(BM_EREMOTE, "a chunk size too big");
			n = n * 16 + (unsigned)d;
			digits++;
			p++;
		}
		if (!digits)
			return bm_error_set(BM_EREMOTE, "a bad chunk size");
		/* chunk extensions, then CRLF */
		while (p < end && *p != '\n')
			p++;
		if (p >= end)
			return bm_error_set(BM_EREMOTE, "the answer was cut short (in a chunk size)");
		p++;
		if (!n)
			return 0; /* trailers are not read */
		if ((unsigned long long)(end - p) < n)
			return bm_error_set(BM_EREMOTE, "the answer was cut short (in a chunk)");
		if (body->size + n > max)
			return bm_error_set(BM_EREMOTE, "the answer is over %zu bytes", max);
		if (bm_buf_put(body, p, (size_t)n) < 0)
			return -1;
		p += n;
		if (p < end && *p == '\r')
			p++;
		if (p >= end || *p != '\n')
			return bm_error_set(BM_EREMOTE, "a chunk without its CRLF");
		p++;
	}
}

int agent_http_answer(long *status, bm_buf *body, const char *buf, size_t len, size_t max)
{
	const char *end = buf + len, *head_end = NULL, *p, *v;
	size_t i, vlen;
	long st;
	*status = 0;
	bm_buf_clear(body);
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) || !is_digit(buf[7]) || buf[8] != ' ' || !is_digit(buf[9]) ||
	    !is_digit(buf[10]) || !is_digit(buf[11]) || (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n'))
		return bm_error_set(BM_EREMOTE, "the answer is not HTTP/1.x");
	st = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (st < 100)
		return bm_error_set(BM_EREMOTE, "the answer has status %ld", st);
	for (i = 12; i + 1 < len; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n') {
			head_end = buf + i + 2;
			break;
		}
		if (buf[i] == '\n' && buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') {
			head_end = buf + i + 3;
			break;
		}
	}
	if (!head_end)
		return bm_error_set(BM_EREMOTE, "the answer's head was cut short");
	p = memchr(buf, '\n', len);
	p = p ? p + 1 : head_end;
	if (st >= 100 && st < 200)
		return bm_error_set(BM_EREMOTE, "an interim answer (%ld) where a final one was expected", st);
	*status = st;
	if ((v = header(&vlen, p, head_end, "Transfer-Encoding")) && vlen >= 7 && !strncasecmp(v + vlen - 7, "chunked", 7))
		return dechunk(body, head_end, end, max);
	if ((v = header(&vlen, p, head_end, "Content-Length"))) {
		unsigned long long n = 0;
		if (!vlen || vlen > 15)
			return bm_error_set(BM_EREMOTE, "a bad Content-Length");
		for (i = 0; i < vlen; i++) {
			if (!is_digit(v[i]))
				return bm_error_set(BM_EREMOTE, "a bad Content-Length");
			n = n * 10 + (unsigned)(v[i] - '0');
		}
		if (n > max)
			return bm_error_set(BM_EREMOTE, "the answer is over %zu bytes", max);
		if ((unsigned long long)(end - head_end) < n)
			return bm_error_set(BM_EREMOTE, "the answer was cut short (%zu of %llu bytes)", (size_t)(end - head_end), n);
		return bm_buf_put(body, head_end, (size_t)n) < 0 ? -1 : 0;
	}
	if ((size_t)(end - head_end) > max)
		return bm_error_set(BM_EREMOTE, "the answer is over %zu bytes", max);
	return bm_buf_put(body, head_end, (size_t)(end - head_end)) < 0 ? -1 : 0;
}

int agent_metrics_request(char path[256], int *head, const char *buf, size_t len)
{
	const char *eol, *sp1, *sp2, *t, *q;
	size_t i, tlen;
	int done = 0;
	path[0] = '\0';
	*head = 0;
	for (i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n'))) {
			done = 1;
			break;
		}
	}
	eol = memchr(buf, '\n', len);
	if (!done)
		return len >= AGENT_METRICS_HEAD_MAX ? (eol ? 431 : 414) : 0;
	/* METHOD SP TARGET SP HTTP/1.x CRLF */
	if (!(sp1 = memchr(buf, ' ', (size_t)(eol - buf))))
		return 400;
	if (sp1 == buf)
		return 400;
	for (t = buf; t < sp1; t++)
		if (*t < 'A' || *t > 'Z')
			return 400;
	t = sp1 + 1;
	if (!(sp2 = memchr(t, ' ', (size_t)(eol - t))))
		return 400;
	tlen = (size_t)(sp2 - t);
	if (!tlen || *t != '/')
		return 400;
	for (q = t; q < sp2; q++)
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f)
			return 400;
	q = sp2 + 1;
	{
		size_t vlen = (size_t)(eol - q);
		if (vlen && q[vlen - 1] == '\r')
			vlen--;
		if (vlen != 8 || memcmp(q, "HTTP/", 5) || !is_digit(q[5]) || q[6] != '.' || !is_digit(q[7]))
			return 400;
		if (q[5] != '1')
			return 505;
	}
	if ((q = memchr(t, '?', tlen)))
		tlen = (size_t)(q - t);
	if (tlen >= 256)
		return 414;
	memcpy(path, t, tlen);
	path[tlen] = '\0';
	if ((size_t)(sp1 - buf) == 4 && !memcmp(buf, "HEAD", 4))
		*head = 1;
	else if ((size_t)(sp1 - buf) != 3 || memcmp(buf, "GET", 3))
		return 405;
	return 200;
}
