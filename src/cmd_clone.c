/* cmd_clone.c: `bootmeta clone URL DIR`: clone a meta repo from a git remote. */
#include <string.h>

#include "cli.h"
#include "cli_env.h"

static const char clone_usage[] =
	"usage: bootmeta clone URL DIR\n\n"
	"Clone the meta repo at URL (a bare repo path, file://, ssh or https) into a new bare repo\n"
	"DIR. The remote stays the primary copy: every write made with --repo DIR is pushed to URL\n"
	"with compare-and-swap before it counts (bootmeta says \"pushed to origin (URL)\" on\n"
	"stderr), and when the remote moved it fetches, re-runs on the new tip and pushes again.\n"
	"A path remote's receive hooks run as for git push (through git). For a copy of its own\n"
	"that writes never leave, use `bootmeta init` instead.\n";

int cmd_clone(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_store_open_options o;
	bm_buf cache = BM_BUF_INIT;
	bm_oid tip;
	char hex[BM_OID_HEXSZ + 1];
	int rc;

	if (cli_operands(cli, &argc, argv, clone_usage, &rc))
		return rc;
	if (argc != 3)
		return cli_usage(clone_usage, "clone takes URL and DIR");
	cli_progress(cli, "cloning %s into %s", argv[1], argv[2]);
	cli_env_store_options(&o, &cache, cli);
	rc = bm_store_clone_ext(&s, argv[1], argv[2], &o);
	bm_buf_dispose(&cache);
	if (rc < 0 || bm_store_tip(&tip, s) < 0) {
		bm_store_free(s);
		return cli_fail(cli, "clone");
	}
	bm_oid_fmt(hex, &tip);
	if (cli->json) {
		printf("{\"path\":");
		cli_json_str(stdout, bm_store_path(s));
		printf(",\"url\":");
		cli_json_str(stdout, argv[1]);
		printf(",\"metaCommit\":\"%s\",\"remote\":", hex);
		cli_json_str(stdout, argv[1]);
		printf("}\n");
	} else {
		printf("cloned %s into %s (main at %.12s)\n", argv[1], bm_store_path(s), hex);
		printf("every write made with --repo %s is pushed to %s first: the remote is the primary copy\n",
		       bm_store_path(s), argv[1]);
	}
	bm_store_free(s);
	return BM_EXIT_OK;
}
