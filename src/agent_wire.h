/* agent_wire.h: what bootmeta-agent reads from the network without libcurl (outside input:
 * fuzz_agent_wire): the URLs it talks to over plain HTTP, the answers of those servers, and
 * the requests its /metrics listener takes. */
#ifndef BM_AGENT_WIRE_H
#define BM_AGENT_WIRE_H

#include <stddef.h>

#include "bootmeta.h"

typedef struct {
	int tls;            /* https:// */
	char host[256];     /* without the brackets of an IPv6 literal */
	char port[8];
	char target[4096];  /* path and query, "/" at least */
} agent_url;

/* Split an http:// or https:// URL (no user info, no fragment). 0, or BM_EINVALID with a
 * message. */
int agent_url_parse(agent_url *u, const char *url);

/* An HTTP/1.x answer read to its end (the connection closed): the status in *status and the
 * body (Content-Length or chunked, else to the end) in `body`, at most `max` bytes. 0, or
 * BM_EREMOTE with a message (not HTTP, cut short, too big). */
int agent_http_answer(long *status, bm_buf *body, const char *buf, size_t len, size_t max);

/* The size of the request head the /metrics listener reads (request line and headers). */
#define AGENT_METRICS_HEAD_MAX 4096
/* The request head in buf (len bytes so far): 0 when it is not complete yet; else the HTTP
 * status to answer: 200 with the path (query cut) in `path`, or 400 (not HTTP), 405 (not
 * GET or HEAD; *head tells HEAD), 414 (path too long), 431 (head too big), 505 (not 1.x). */
int agent_metrics_request(char path[256], int *head, const char *buf, size_t len);

#endif
