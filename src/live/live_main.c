/* live_main.c: bootmeta-live, the program behind `bootmeta serve`, `bootmeta watch`. It is
 * separate from `bootmeta` so the libraries of servers and clients (libmicrohttpd, nats.c,
 * libcurl) are loaded only by the commands that use them. */
#include <stdlib.h>
#include <string.h>

#include "agent_http.h"
#include "cli.h"
#include "cli_env.h"
#include "live.h"

static const char usage[] = "usage: bootmeta-live [--repo PATH] [--actor NAME] [--json] [--quiet] [--require-signed]\n"
			    "                     serve|watch|follow|agent|binary|fetch [ARGS]\n"
			    "(run through `bootmeta serve`, `watch`, `follow`, `agent`, `fetch`, `binary upload`; see bootmeta(1))\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		bm_cmd_fn fn;
		unsigned flags;
	} cmds[] = {
		{ "serve", live_serve, CLI_STORE | CLI_WRITES },
		{ "watch", live_watch, CLI_JSON },
		{ "follow", live_follow, 0 },
		{ "agent", live_agent, CLI_STORE | CLI_WRITES }, /* --repo, or --server */
		{ "agent-io", live_agent_io, 0 },
		/* the commands of bootmeta that move artifacts: their code is the CLI's, the
		 * transfers libbootmeta-net's (cli_net) */
		{ "binary", cmd_binary, CLI_STORE | CLI_JSON },
		{ "fetch", cmd_fetch, CLI_STORE | CLI_JSON },
	};
	static const cli_net_api net = { bm_artifact_upload, bm_artifact_fetch, bm_artifact_result_dispose };
	bm_cli cli;
	bm_global_options g = BM_GLOBAL_OPTIONS_INIT;
	int i, rc;
	size_t k;

	memset(&cli, 0, sizeof(cli));
	/* the global options `bootmeta` passes on (cli_run_live) */
	i = cli_live_globals(&cli, argc, argv);
	cli_net = &net;
	if (i >= argc) {
		fputs(usage, stderr);
		return BM_EXIT_USAGE;
	}
	cli_env_defaults(&cli);
	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (!strcmp(argv[i], cmds[k].name))
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0])) {
		fprintf(stderr, "bootmeta-live: '%s' is not a command\n%s", argv[i], usage);
		return BM_EXIT_USAGE;
	}
	cli.group = cmds[k].name;
	cli.flags = cmds[k].flags;
	g.net_setup = BM_NET_SETUP_ON_DEMAND;
	g.ca_file = getenv("SSL_CERT_FILE");
	g.ca_dir = getenv("SSL_CERT_DIR");
	agent_http_set_ca(g.ca_file, g.ca_dir); /* the agent's own TLS, as in bootmeta-agent */
	if (!cli_wants_help(argc - i, argv + i) && bm_global_init_opts(&g) < 0) {
		fprintf(stderr, "bootmeta: %s\n", bm_error_last());
		return BM_EXIT_FAIL;
	}
	rc = cmds[k].fn(&cli, argc - i, argv + i);
	cli_say_pushed(&cli);
	bm_global_shutdown();
	return rc;
}
