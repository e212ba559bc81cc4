/* watch.c: `bootmeta watch`: follow a serve's event stream (sse.c) and print one event per
 * line. A broken connection resumes with Last-Event-ID, so no event is missed; a 410 (the
 * commit is not in main's history any more) ends it with the advice to re-read the state. */
#include "live.h"
#include "sse.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
	long count, seen;
} watch_ctx;

static int on_event(const char *event, const char *id, const char *data, size_t len, void *payload)
{
	watch_ctx *w = payload;
	json_t *j;
	(void)id;
	if (!strcmp(event, "dropped")) {
		fprintf(stderr, "bootmeta: watch: the server dropped the stream (too slow); resuming\n");
		return 0;
	}
	if (strcmp(event, "commit"))
		return 0;
	if (w->cli->json) {
		fwrite(data, 1, len, stdout);
		fputc('\n', stdout);
	} else if ((j = json_loadb(data, len, 0, NULL))) {
		json_t *paths = json_object_get(j, "paths");
		const char *commit = json_string_value(json_object_get(j, "commit"));
		size_t i;
		printf("%s", commit ? commit : "?"); /* whole: it is what --since takes */
		for (i = 0; i < json_array_size(paths); i++)
			printf(" %s", cli_esc(json_string_value(json_array_get(paths, i))));
		printf("\n");
		json_decref(j);
	}
	fflush(stdout);
	w->seen++;
	return w->count && w->seen >= w->count;
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
	char last[64] = "";
	int c, rc;

	memset(&w, 0, sizeof(w));
	w.cli = cli;
	cli_args_init(&a, cli, argc, argv, opts, watch_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case O_SERVER: server = a.value; break;
		case O_SINCE:
			if (strlen(a.value) != 40 || strspn(a.value, "0123456789abcdef") != 40)
				return cli_args_fail(&a, "--since: give a full meta commit (40 hex digits)");
			snprintf(last, sizeof(last), "%s", a.value);
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
	rc = live_sse_follow(server, prefix, last, on_event, NULL, &w, "watch");
	if (rc == 0)
		return BM_EXIT_OK;
	if (rc == 410)
		fprintf(stderr, "bootmeta: watch: %s is not in the history of main any more: re-read the state, "
				"then watch from the commit you read\n", last);
	else if (rc > 0)
		fprintf(stderr, "bootmeta: watch: %s answered %d\n", server, rc);
	else
		fprintf(stderr, "bootmeta: watch: cannot start libcurl\n");
	return BM_EXIT_FAIL;
}
