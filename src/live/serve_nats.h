/* serve_nats.h: `bootmeta serve --nats URL`, the NATS side of serve (serve_nats.c):
 * every new meta commit published on bootmeta.commit and on a subject per changed prefix
 * (src/serve_nats_msg.h has the mapping), into a JetStream stream when the server has
 * JetStream; writes taken as request-reply on bootmeta.write.<kind>. NATS being down never
 * stops serve: the client reconnects and the commits made meanwhile are published then. */
#ifndef BM_SERVE_NATS_H
#define BM_SERVE_NATS_H

#include "serve.h"

#include <nats/nats.h>

typedef struct {
	const char *url;      /* nats://127.0.0.1:4222 (a comma-separated list of servers) */
	const char *stream;   /* the JetStream stream; NULL: no JetStream (plain publishes) */
	unsigned inflight;    /* write requests at once; over it: 503 */
	int64_t max_age_s;    /* a stream serve creates keeps messages this long */
	int64_t max_bytes;    /* and at most this many bytes */
} serve_nats_options;

/* Connect (in the background when the server is not up yet), register the commit hook and
 * start the publisher; after serve_writer_start, before serve_hub_start. -1 on a bad URL
 * or no memory (logged). */
int serve_nats_start(serve *s, const serve_nats_options *opts);
/* With --upstream, after serve_upstream_start: a commit another serve publishes on
 * bootmeta.commit makes this one fetch the upstream at once (serve_upstream_fetch_soon).
 * -1 when the subscription fails (logged). */
int serve_nats_notices(serve *s);
/* Take no more write requests (before serve_writer_stop: the queued ones are answered). */
void serve_nats_quiesce(serve *s);
/* After serve_hub_stop: send the answers and the commits not yet published (bounded),
 * close the connection, free it all. */
void serve_nats_stop(serve *s);
/* The NATS part of /metrics (nothing without --nats). */
void serve_nats_metrics(serve *s, bm_buf *out);

/* The options of a client that follows serve's notices (agent --nats, follow --nats),
 * named `name`: reconnects forever, 1 s apart, a 5 s connect timeout, and the first connect
 * tried in the background: nats.c's connect with retries and no connected callback waits
 * until NATS answers (forever, deaf to SIGTERM). `connected` (NULL: nothing) is called when
 * that background connect succeeds. */
natsStatus serve_nats_client_options(natsOptions **out, const char *url, const char *name,
				     natsConnectionHandler connected, void *closure);

#endif
