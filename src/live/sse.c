/* sse.c: serve's event stream, client side (sse.h), on libcurl. */
#include "sse.h"
#include "bootmeta.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	bm_buf line, data, event, id;
	char *last_id;
	live_sse_event_fn on_event;
	live_sse_tick_fn on_tick;
	void *payload;
	int stopped;
	time_t last_tick;
} sse_ctx;

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	sse_ctx *c = arg;
	size_t len = size * n, i;
	for (i = 0; i < len; i++) {
		if (p[i] != '\n') {
			if (p[i] != '\r')
				bm_buf_putc(&c->line, p[i]);
			continue;
		}
		if (!c->line.size) {
			/* a blank line ends an event */
			if (c->data.size || c->event.size) {
				if (c->id.size && c->id.size < 64)
					memcpy(c->last_id, c->id.ptr, c->id.size + 1);
				if (c->on_event(c->event.ptr ? c->event.ptr : "message", c->id.ptr ? c->id.ptr : "",
						c->data.ptr ? c->data.ptr : "", c->data.size, c->payload)) {
					c->stopped = 1;
					return 0; /* abort the transfer */
				}
			}
			bm_buf_clear(&c->data);
			bm_buf_clear(&c->event);
			bm_buf_clear(&c->id);
			continue;
		}
		if (!strncmp(c->line.ptr, "data: ", 6)) {
			if (c->data.size)
				bm_buf_putc(&c->data, '\n');
			bm_buf_puts(&c->data, c->line.ptr + 6);
		} else if (!strncmp(c->line.ptr, "event: ", 7)) {
			bm_buf_clear(&c->event);
			bm_buf_puts(&c->event, c->line.ptr + 7);
		} else if (!strncmp(c->line.ptr, "id: ", 4)) {
			bm_buf_clear(&c->id);
			bm_buf_puts(&c->id, c->line.ptr + 4);
		}
		bm_buf_clear(&c->line);
	}
	return len;
}

static int tick(sse_ctx *c)
{
	time_t now = time(NULL);
	if (now == c->last_tick || !c->on_tick)
		return 0;
	c->last_tick = now;
	if (c->on_tick(c->payload)) {
		c->stopped = 1;
		return 1;
	}
	return 0;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t d, curl_off_t e)
{
	(void)a;
	(void)b;
	(void)d;
	(void)e;
	return tick(arg);
}

int live_sse_follow(const char *server, const char *prefix, char last_id[64], live_sse_event_fn on_event,
		    live_sse_tick_fn on_tick, void *payload, const char *who)
{
	sse_ctx c;
	CURL *h;
	char *esc;
	bm_buf url = BM_BUF_INIT;
	int rc = -1, backoff = 1;

	memset(&c, 0, sizeof(c));
	c.last_id = last_id;
	c.on_event = on_event;
	c.on_tick = on_tick;
	c.payload = payload;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(h = curl_easy_init()))
		return -1;
	esc = curl_easy_escape(h, prefix ? prefix : "", 0);
	for (;;) {
		struct curl_slist *hd = NULL;
		char hdr[128];
		long status = 0;
		CURLcode cc;
		bm_buf_clear(&url);
		bm_buf_printf(&url, "%s/v1/watch?prefix=%s", server, esc ? esc : "");
		hd = curl_slist_append(hd, "Accept: text/event-stream");
		if (last_id[0]) {
			snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s", last_id);
			hd = curl_slist_append(hd, hdr);
		}
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url.ptr);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, &c);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
		/* the server sends a keep-alive every 15 s: 45 s of silence is a dead connection */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 45L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		bm_buf_clear(&c.line);
		bm_buf_clear(&c.data);
		bm_buf_clear(&c.event);
		bm_buf_clear(&c.id);
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(hd);
		if (c.stopped) {
			rc = 0;
			break;
		}
		if (status >= 400 && status != 503) {
			rc = (int)status;
			break;
		}
		if (status == 200)
			backoff = 1; /* it was up: start the backoff again */
		fprintf(stderr, "bootmeta: %s: %s: %s; reconnecting in %d s\n", who, server,
			cc != CURLE_OK ? curl_easy_strerror(cc) : "the stream ended", backoff);
		for (int i = 0; i < backoff * 10 && !c.stopped; i++) {
			struct timespec d = { 0, 100 * 1000000L };
			nanosleep(&d, NULL);
			tick(&c);
		}
		if (c.stopped) {
			rc = 0;
			break;
		}
		if (backoff < 30)
			backoff *= 2;
	}
	curl_free(esc);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	bm_buf_dispose(&url);
	bm_buf_dispose(&c.line);
	bm_buf_dispose(&c.data);
	bm_buf_dispose(&c.event);
	bm_buf_dispose(&c.id);
	return rc;
}
