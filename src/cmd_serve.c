/* cmd_serve.c: `bootmeta serve`, `watch` and `follow` run bootmeta-live (src/live/), the
 * program of the long-running side, found next to this one; `bootmeta agent` runs
 * bootmeta-agent (src/live/agent_main.c), or bootmeta-live with --nats. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const cli_net_api *cli_net;

static int run_prog(bm_cli *cli, const char *prog, const char *group, int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 32];
	char **args;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	int i, k = 0;

	if (n <= 0)
		return cli_error(cli, BM_EIO, "%s: cannot find this program's folder (/proc/self/exe)", argv[0]);
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return cli_error(cli, BM_EIO, "%s: cannot find this program's folder", argv[0]);
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/%s", self, prog);
	if (!(args = calloc((size_t)argc + 16, sizeof(char *))))
		return cli_error(cli, BM_ENOMEM, "out of memory");
	args[k++] = path;
	/* the global options bootmeta-live takes (src/live/live_main.c) */
	if (cli->repo) {
		args[k++] = (char *)"--repo";
		args[k++] = (char *)cli->repo;
	}
	if (cli->actor) {
		args[k++] = (char *)"--actor";
		args[k++] = (char *)cli->actor;
	}
	if (cli->json)
		args[k++] = (char *)"--json";
	if (cli->quiet)
		args[k++] = (char *)"--quiet";
	if (cli->require_signed)
		args[k++] = (char *)"--require-signed";
	if (group)
		args[k++] = (char *)group;
	for (i = 0; i < argc; i++)
		args[k++] = argv[i];
	if (cli->json && !strcmp(argv[0], "watch"))
		args[k++] = (char *)"--json";
	args[k] = NULL;
	fflush(stdout);
	execv(path, args);
	i = errno;
	free(args);
	return cli_error(cli, BM_EIO, "%s: cannot run %s: %s (it is installed next to bootmeta)", argv[0], path, strerror(i));
}

int cli_run_live(bm_cli *cli, const char *group, int argc, char **argv)
{
	return run_prog(cli, "bootmeta-live", group, argc, argv);
}

int cli_live_globals(bm_cli *cli, int argc, char **argv)
{
	int i = 1;
	for (;;) {
		if (i + 1 < argc && !strcmp(argv[i], "--repo")) {
			cli->repo = argv[++i];
		} else if (i + 1 < argc && !strcmp(argv[i], "--actor")) {
			cli->actor = argv[++i];
		} else if (i < argc && !strcmp(argv[i], "--json")) {
			cli->json = 1;
		} else if (i < argc && !strcmp(argv[i], "--quiet")) {
			cli->quiet = 1;
		} else if (i < argc && !strcmp(argv[i], "--require-signed")) {
			cli->require_signed = 1;
		} else {
			return i;
		}
		i++;
	}
}

char **cli_argv_copy(int argc, char **argv)
{
	char **c = calloc((size_t)argc + 1, sizeof(char *));
	if (c)
		memcpy(c, argv, (size_t)argc * sizeof(char *));
	return c;
}

static int run_live(bm_cli *cli, int argc, char **argv)
{
	return cli_run_live(cli, NULL, argc, argv);
}

int cmd_serve(bm_cli *cli, int argc, char **argv)
{
	/* `serve token ...` edits the token file here; serve itself runs in bootmeta-live */
	if (argc >= 2 && !strcmp(argv[1], "token"))
		return cmd_serve_token(cli, argc - 1, argv + 1);
	if (cli->json)
		return cli_usage("usage: bootmeta serve [OPTIONS] (see bootmeta serve --help)\n",
				 "--json: serve has no JSON output (serve token list has)");
	return run_live(cli, argc, argv);
}

int cmd_watch(bm_cli *cli, int argc, char **argv)
{
	return run_live(cli, argc, argv);
}

int cmd_follow(bm_cli *cli, int argc, char **argv)
{
	return run_live(cli, argc, argv);
}

int cmd_agent(bm_cli *cli, int argc, char **argv)
{
	/* bootmeta-agent has no NATS client (nats.c and its OpenSSL would double its memory):
	 * an agent that takes NATS notices runs in bootmeta-live */
	int i;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--nats") || !strncmp(argv[i], "--nats=", 7))
			return run_live(cli, argc, argv);
	return run_prog(cli, "bootmeta-agent", NULL, argc, argv);
}
