/* cmd_log.c: `bootmeta log [PATH] [-n|--limit N]`: the meta history of a path. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_cfg.h"

static const char usage[] =
	"usage: bootmeta log [PATH] [-n|--limit N]\n\n"
	"The meta commits that changed PATH (a record file or a folder; default: the whole repo),\n"
	"newest first: commit hash, when, who, what. -n N shows the last N only.\n\n"
	"Generator logs: `bootmeta log add --kind KIND --message TEXT ...`, and the listing\n"
	"`bootmeta log [entries] --kind/--project/--env/--since/--until` (see `bootmeta log add --help`).\n";

typedef struct {
	bm_cli *cli;
	size_t n;
} log_ctx;

static int log_cb(const bm_commit_info *info, void *payload)
{
	log_ctx *c = payload;
	char hex[BM_OID_HEXSZ + 1], when[40];
	bm_oid_fmt(hex, &info->commit);
	cli_time_fmt(when, sizeof(when), info->time * 1000);
	if (c->cli->json) {
		printf("%s{\"commit\":\"%s\",\"author\":", c->n ? "," : "", hex);
		cli_json_str(stdout, info->author);
		printf(",\"time\":\"%s\",\"summary\":", when);
		cli_json_str(stdout, info->summary);
		fputc('}', stdout);
	} else {
		printf("%.12s  %s  %-32s  %s\n", hex, when, cli_esc(info->author), cli_esc(info->summary));
	}
	c->n++;
	return 0;
}

int cmd_log(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		CLI_OPT_LIMIT,
		CLI_OPT_END,
	};
	bm_store *s = NULL;
	log_ctx ctx = { cli, 0 };
	size_t limit = 0;
	const char *path = NULL;
	cli_args a;
	int c, rc;

	/* `log add`, `log entries` and the filters --kind/--project/--env/--since/--until are the
	 * generator log (cmd_log_entries.c) */
	if ((rc = cli_log_dispatch(cli, argc, argv)) >= 0)
		return rc;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case CLI_OPT_LIMIT_ID:
			if (cli_take_limit(&limit, &a) != BM_EXIT_OK)
				return BM_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos > 1)
		return cli_usage(usage, "log takes at most one PATH");
	if (a.npos == 1)
		path = a.pos[0];
	if (cli_open(&s, cli) < 0)
		return cli_fail(cli, "log");
	if (cli->json)
		fputc('[', stdout);
	rc = bm_store_log(s, path, limit, log_cb, &ctx);
	if (cli->json)
		fputs("]\n", stdout);
	bm_store_free(s);
	if (rc < 0)
		return cli_fail(cli, "log");
	if (!ctx.n && !cli->json && path)
		fprintf(stderr, "bootmeta: log: no meta commit touched %s\n", path);
	return BM_EXIT_OK;
}
