/* agent_main.c: bootmeta-agent, the program behind `bootmeta agent` (agent.c). It is its own
 * program so an agent, which runs on every host for as long as the host runs, maps only
 * what following a channel needs: libbootmeta (libgit2 for --repo) and libc; not
 * libmicrohttpd/gnutls, nats.c or libcurl, whose pages were most of its resident memory
 * when it ran in bootmeta-live. Transfers that need libcurl (downloads, https://) run in a
 * short-lived `bootmeta-live agent-io` (agent_http.h); `bootmeta agent --nats` runs the
 * agent in bootmeta-live, which has nats.c. */
#include <stdlib.h>
#include <string.h>

#include "agent_http.h"
#include "cli.h"
#include "cli_env.h"
#include "live.h"

int main(int argc, char **argv)
{
	bm_cli cli;
	bm_global_options g = BM_GLOBAL_OPTIONS_INIT;
	int i, rc;

	memset(&cli, 0, sizeof(cli));
	/* the global options `bootmeta` passes on (cli_run_live) */
	i = cli_live_globals(&cli, argc, argv);
	/* `bootmeta-agent agent ARGS` (as bootmeta runs it) or `bootmeta-agent ARGS` */
	if (i < argc && !strcmp(argv[i], "agent"))
		i++;
	argv[i - 1] = (char *)"agent";
	cli_env_defaults(&cli);
	cli.group = "agent";
	cli.flags = CLI_STORE | CLI_WRITES; /* --repo, or --server */
	g.net_setup = BM_NET_SETUP_ON_DEMAND;
	g.ca_file = getenv("SSL_CERT_FILE");
	g.ca_dir = getenv("SSL_CERT_DIR");
	agent_http_set_ca(g.ca_file, g.ca_dir);
	if (!cli_wants_help(argc - i + 1, argv + i - 1) && bm_global_init_opts(&g) < 0) {
		fprintf(stderr, "bootmeta: %s\n", bm_error_last());
		return BM_EXIT_FAIL;
	}
	rc = live_agent(&cli, argc - i + 1, argv + i - 1);
	cli_say_pushed(&cli);
	bm_global_shutdown();
	return rc;
}
