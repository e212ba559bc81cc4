/* cmd_push.c: `bootmeta push`: push local meta commits. */
#include <string.h>

#include "cli.h"

static const char push_usage[] =
	"usage: bootmeta push\n\nPush local meta commits to the remote (writes push as they are made;\n"
	"this is for commits made while the remote could not be reached).\n";

int cmd_push(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_oid tip;
	char hex[BM_OID_HEXSZ + 1];
	int rc;

	if (cli_operands(cli, &argc, argv, push_usage, &rc))
		return rc;
	if (argc != 1)
		return cli_usage(push_usage, "push takes no arguments");
	if (cli_open(&s, cli) < 0)
		return cli_fail(cli, "push");
	cli_progress(cli, "pushing %s", bm_store_path(s));
	if (bm_store_push(s) < 0 || bm_store_tip(&tip, s) < 0) {
		bm_store_free(s);
		return cli_fail(cli, "push");
	}
	bm_oid_fmt(hex, &tip);
	if (cli->json)
		printf("{\"metaCommit\":\"%s\"}\n", hex);
	else
		printf("remote main is %.12s\n", hex);
	bm_store_free(s);
	return BM_EXIT_OK;
}
