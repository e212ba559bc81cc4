/* cmd_clone.c: `bootmeta clone URL DIR`: clone a meta repo from a git remote. */
#include <string.h>

#include "cli.h"

static const char clone_usage[] =
	"usage: bootmeta clone URL DIR\n\n"
	"Clone the meta repo at URL (a bare repo path, file://, ssh or https) into a new bare repo\n"
	"DIR. Writes made with --repo DIR push to URL with compare-and-swap; when the remote moved\n"
	"they fetch, re-run on the new tip and push again.\n";

int cmd_clone(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_oid tip;
	char hex[BM_OID_HEXSZ + 1];
	int rc;

	if (cli_operands(cli, &argc, argv, clone_usage, &rc))
		return rc;
	if (argc != 3)
		return cli_usage(clone_usage, "clone takes URL and DIR");
	cli_progress(cli, "cloning %s into %s", argv[1], argv[2]);
	if (bm_store_clone(&s, argv[1], argv[2]) < 0 || bm_store_tip(&tip, s) < 0) {
		bm_store_free(s);
		return cli_fail(cli, "clone");
	}
	bm_oid_fmt(hex, &tip);
	if (cli->json) {
		printf("{\"path\":");
		cli_json_str(stdout, bm_store_path(s));
		printf(",\"url\":");
		cli_json_str(stdout, argv[1]);
		printf(",\"metaCommit\":\"%s\"}\n", hex);
	} else {
		printf("cloned %s into %s (main at %.12s)\n", argv[1], bm_store_path(s), hex);
	}
	bm_store_free(s);
	return BM_EXIT_OK;
}
