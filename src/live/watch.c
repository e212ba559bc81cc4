/* watch.c: `bootmeta watch`: follow a serve's event stream (SSE) and print one event per
 * line. Reconnects with Last-Event-ID after a broken connection (bounded backoff), so no
 * event is missed; a 410 (the commit is not in main's history any more) ends it with the
 * advice to re-read the state. */
#include "live.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char watch_usage[] =
	"usage: bootmeta watch [--server URL] [PREFIX] [--since COMMIT] [--count N] [--json]\n\n"
	"Print the changes a bootmeta serve announces under PREFIX (a path in the meta repo, e.g.\n"
	"projects/acme/server/), one line per meta commit: the commit and the changed paths, or\n"
	"with --json the whole event (commit, previous, paths, records). --server defaults to\n"
	"$BOOTMETA_SERVER, else http://127.0.0.1:8420. --since COMMIT starts after that commit\n"
	"(every change since it is printed first). --count N exits after N events. A broken\n"
	"connection is resumed where it stopped.\n";

typedef struct {
	bm_cli *cli;
	bm_buf line, data, event, id;
	char last_id[64];
	long count, seen;
	int gone;
} watch_ctx;

static void emit(watch_ctx *w)
{
	json_t *j;
	if (!w->data.size)
		return;
	if (w->event.size && !strcmp(w->event.ptr, "commit")) {
		if (w->cli->json) {
			fwrite(w->data.ptr, 1, w->data.size, stdout);
			fputc('\n', stdout);
		} else if ((j = json_loadb(w->data.ptr, w->data.size, 0, NULL))) {
			json_t *paths = json_object_get(j, "paths");
			size_t i;
			printf("%.12s", json_string_value(json_object_get(j, "commit")) ? json_string_value(json_object_get(j, "commit")) : "?");
			for (i = 0; i < json_array_size(paths); i++)
				printf(" %s", cli_esc(json_string_value(json_array_get(paths, i))));
			printf("\n");
			json_decref(j);
		}
		fflush(stdout);
		w->seen++;
	} else if (w->event.size && !strcmp(w->event.ptr, "dropped")) {
		fprintf(stderr, "bootmeta: watch: the server dropped the stream (too slow); resuming\n");
	}
}

static size_t on_data(char *p, size_t size, size_t n, void *payload)
{
	watch_ctx *w = payload;
	size_t len = size * n, i;
	for (i = 0; i < len; i++) {
		if (p[i] != '\n') {
			if (p[i] != '\r')
				bm_buf_putc(&w->line, p[i]);
			continue;
		}
		if (!w->line.size) {
			/* a blank line ends an event */
			emit(w);
			if (w->id.size && w->id.size < sizeof(w->last_id))
				memcpy(w->last_id, w->id.ptr, w->id.size + 1);
			bm_buf_clear(&w->data);
			bm_buf_clear(&w->event);
			if (w->count && w->seen >= w->count)
				return 0; /* done: abort the transfer */
			continue;
		}
		if (!strncmp(w->line.ptr, "data: ", 6)) {
			if (w->data.size)
				bm_buf_putc(&w->data, '\n');
			bm_buf_puts(&w->data, w->line.ptr + 6);
		} else if (!strncmp(w->line.ptr, "event: ", 7)) {
			bm_buf_clear(&w->event);
			bm_buf_puts(&w->event, w->line.ptr + 7);
		} else if (!strncmp(w->line.ptr, "id: ", 4)) {
			bm_buf_clear(&w->id);
			bm_buf_puts(&w->id, w->line.ptr + 4);
		}
		bm_buf_clear(&w->line);
	}
	return len;
}

int live_watch(bm_cli *cli, int argc, char **argv)
{
	enum { O_SERVER = 256, O_SINCE, O_COUNT };
	static const cli_opt opts[] = {
		{ O_SERVER, "server", 0, 1 }, { O_SINCE, "since", 0, 1 }, { O_COUNT, "count", 0, 1 }, CLI_OPT_END,
	};
	watch_ctx w;
	cli_args a;
	const char *server = getenv("BOOTMETA_SERVER"), *prefix = "";
	char *esc = NULL;
	bm_buf url = BM_BUF_INIT;
	int c, rc = BM_EXIT_FAIL, backoff = 1;
	CURL *h = NULL;

	memset(&w, 0, sizeof(w));
	w.cli = cli;
	cli_args_init(&a, cli, argc, argv, opts, watch_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case O_SERVER: server = a.value; break;
		case O_SINCE:
			if (strlen(a.value) != 40 || strspn(a.value, "0123456789abcdef") != 40)
				return cli_args_fail(&a, "--since: give a full meta commit (40 hex digits)");
			snprintf(w.last_id, sizeof(w.last_id), "%s", a.value);
			break;
		case O_COUNT:
			w.count = strtol(a.value, NULL, 10);
			if (w.count <= 0)
				return cli_args_fail(&a, "--count: give a positive number");
			break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos > 1)
		return cli_args_fail(&a, "watch takes one PREFIX");
	if (a.npos == 1)
		prefix = a.pos[0];
	if (!server || !*server)
		server = "http://127.0.0.1:8420";
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(h = curl_easy_init())) {
		fprintf(stderr, "bootmeta: watch: cannot start libcurl\n");
		return BM_EXIT_FAIL;
	}
	esc = curl_easy_escape(h, prefix, 0);
	for (;;) {
		struct curl_slist *hd = NULL;
		char hdr[128];
		long status = 0;
		CURLcode cc;
		bm_buf_clear(&url);
		bm_buf_printf(&url, "%s/v1/watch?prefix=%s", server, esc ? esc : "");
		hd = curl_slist_append(hd, "Accept: text/event-stream");
		if (w.last_id[0]) {
			snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s", w.last_id);
			hd = curl_slist_append(hd, hdr);
		}
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url.ptr);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &w);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
		/* the server sends a keep-alive every 15 s: 45 s of silence is a dead connection */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 45L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		bm_buf_clear(&w.line);
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(hd);
		if (w.count && w.seen >= w.count) {
			rc = BM_EXIT_OK;
			break;
		}
		if (status == 410) {
			fprintf(stderr, "bootmeta: watch: %s is not in the history of main any more: re-read the state, "
					"then watch from the commit you read\n", w.last_id);
			break;
		}
		if (status >= 400 && status != 503) {
			fprintf(stderr, "bootmeta: watch: %s answered %ld\n", server, status);
			break;
		}
		fprintf(stderr, "bootmeta: watch: %s: %s; reconnecting in %d s\n", server,
			cc != CURLE_OK ? curl_easy_strerror(cc) : "the stream ended", backoff);
		sleep((unsigned)backoff);
		if (backoff < 30)
			backoff *= 2;
	}
	curl_free(esc);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	bm_buf_dispose(&url);
	bm_buf_dispose(&w.line);
	bm_buf_dispose(&w.data);
	bm_buf_dispose(&w.event);
	bm_buf_dispose(&w.id);
	return rc;
}
