/* cmd_init.c: `bootmeta init [PATH]`: a new bare meta repo with .bootmeta/format. */
#include <string.h>

#include "cli.h"
#include "cli_env.h"

static const char usage[] =
	"usage: bootmeta init [PATH]\n\n"
	"Create a new bare meta repo at PATH (default: the current folder, which must be empty),\n"
	"with a first commit holding .bootmeta/format. It is a primary copy: it has no remote, and\n"
	"writes made with --repo PATH stay in it. Share it like any git repo; writers elsewhere use\n"
	"`bootmeta clone`, and every write on a clone is pushed here first, with compare-and-swap.\n"
	"(Any meta repo with a remote named origin, a `git clone --bare` of one too, pushes each\n"
	"write to origin; bootmeta then says \"pushed to origin (URL)\" on stderr.)\n";

int cmd_init(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_oid tip;
	char hex[BM_OID_HEXSZ + 1];
	const char *path;
	int rc;

	if (cli_operands(cli, &argc, argv, usage, &rc))
		return rc;
	if (argc > 2)
		return cli_usage(usage, "init takes at most one PATH");
	path = argc == 2 ? argv[1] : (cli->repo ? cli->repo : ".");
	{
		bm_store_open_options o;
		bm_buf cache = BM_BUF_INIT;
		int error;
		cli_env_store_options(&o, &cache, cli);
		error = bm_store_init_ext(&s, path, &o);
		bm_buf_dispose(&cache);
		if (error < 0)
			return cli_fail(cli, "init");
	}
	if (bm_store_tip(&tip, s) < 0) {
		bm_store_free(s);
		return cli_fail(cli, "init");
	}
	bm_oid_fmt(hex, &tip);
	if (cli->json) {
		printf("{\"path\":");
		cli_json_str(stdout, bm_store_path(s));
		printf(",\"metaCommit\":\"%s\",\"format\":%d,\"remote\":null}\n", hex, BM_FORMAT_VERSION);
	} else {
		printf("initialised meta repo %s (format %d, commit %.12s)\n", bm_store_path(s), BM_FORMAT_VERSION, hex);
		printf("it is a primary copy: no remote, writes made here stay here\n");
		printf("next: bootmeta --repo %s project add NAME --source URL\n", bm_store_path(s));
	}
	bm_store_free(s);
	return BM_EXIT_OK;
}
