/* cmd_pull.c: `bootmeta pull`: fetch the remote meta repo. */
#include <string.h>

#include "cli.h"

static const char pull_usage[] =
	"usage: bootmeta pull\n\nFetch the remote meta repo and move the local main to its tip.\n";

int cmd_pull(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_oid before, after;
	char a[BM_OID_HEXSZ + 1], b[BM_OID_HEXSZ + 1];
	int had, rc;

	if (cli_operands(cli, &argc, argv, pull_usage, &rc))
		return rc;
	if (argc != 1)
		return cli_usage(pull_usage, "pull takes no arguments");
	if (cli_open(&s, cli) < 0)
		return cli_fail(cli, "pull");
	had = bm_store_tip(&before, s) == 0;
	cli_progress(cli, "fetching the remote of %s", bm_store_path(s));
	if (bm_store_pull(&after, s) < 0) {
		bm_store_free(s);
		return cli_fail(cli, "pull");
	}
	bm_oid_fmt(b, &after);
	if (cli->json)
		printf("{\"metaCommit\":\"%s\",\"changed\":%s}\n", b, had && bm_oid_equal(&before, &after) ? "false" : "true");
	else if (had && bm_oid_equal(&before, &after))
		printf("already up to date (%.12s)\n", b);
	else
		printf("main %.12s -> %.12s\n", had ? (bm_oid_fmt(a, &before), a) : "(none)", b);
	bm_store_free(s);
	return BM_EXIT_OK;
}
