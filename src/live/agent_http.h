/* agent_http.h: how bootmeta-agent talks to the network without mapping libcurl (its pages
 * were most of the agent's resident memory): http:// and https:// requests to serve on a
 * socket of its own (agent_http.c; TLS by mbedTLS, the CAs of SSL_CERT_FILE / SSL_CERT_DIR,
 * else Debian's bundle); https:// to an IP address (mbedTLS 2.28 does not check IP names)
 * and artifact downloads run in a short-lived `bootmeta-live agent-io` next to this program
 * (agent_io.c), which has libcurl and libbootmeta-net, and exits when the transfer is done. */
#ifndef BM_LIVE_AGENT_HTTP_H
#define BM_LIVE_AGENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "bootmeta.h"

/* GET (body NULL) or POST (JSON body) `url`, with "Authorization: Bearer TOKEN" when token
 * is not NULL; the status in *status and at most `max` bytes of answer in `out`. `stop` is
 * polled (SIGTERM). 0, or BM_EREMOTE / BM_EINVALID with the cause. */
int agent_http(long *status, bm_buf *out, const char *url, const char *body, const char *token, int64_t timeout_ms,
	       size_t max, volatile int *stop);

/* Run `bootmeta-live agent-io ARGS...` (args NULL-terminated) with `in` on its stdin; its
 * stdout in `out`. 0 when it exited 0; else -1 with the last line it wrote on stderr as the
 * error. Killed when *stop is set or after timeout_ms. */
int agent_io_run(bm_buf *out, const char *const *args, const void *in, size_t in_len, int64_t timeout_ms,
		 volatile int *stop);

/* The CA certificates https:// is checked against (SSL_CERT_FILE and SSL_CERT_DIR, which
 * the program reads): a PEM file and a folder, either NULL; neither: the system's bundle. */
void agent_http_set_ca(const char *file, const char *dir);

/* While set, `fn(arg)` is called about every 200 ms while a call of this file waits on the
 * network or a helper (the agent supervises its app meanwhile); NULL unsets it. */
void agent_http_on_wait(void (*fn)(void *), void *arg);

#endif
