/* sse.h: the client side of serve's event stream (GET /v1/watch as Server-Sent Events), for
 * `bootmeta watch` and `bootmeta follow`: one connection at a time, resumed with
 * Last-Event-ID after a break (backoff 1 to 30 s), a dead connection noticed within 45 s
 * (the server sends a keep-alive every 15 s). */
#ifndef BM_LIVE_SSE_H
#define BM_LIVE_SSE_H

#include <stddef.h>

/* One event: its `event:` name ("ready", "commit", "dropped"), `id:` and `data:`. Return
 * non-zero to stop following (live_sse_follow returns 0). */
typedef int (*live_sse_event_fn)(const char *event, const char *id, const char *data, size_t len, void *payload);
/* Called about once a second, also while reconnecting. Non-zero stops (returns 0). */
typedef int (*live_sse_tick_fn)(void *payload);

/* Follow `server`'s stream under `prefix` from `last_id` (a commit, or "" for now), which
 * is kept current (the id of the last event handed over). Returns 0 when a callback
 * stopped it, 410 when the server says the commit is not in main's history, another HTTP
 * status >= 400 (but 503) the server answered, or -1 when libcurl cannot start. Breaks of
 * the connection are said on stderr as "bootmeta: WHO: ...". */
int live_sse_follow(const char *server, const char *prefix, char last_id[64], live_sse_event_fn on_event,
		    live_sse_tick_fn on_tick, void *payload, const char *who);

#endif
