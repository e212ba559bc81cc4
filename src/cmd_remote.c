/* cmd_remote.c: `bootmeta clone URL DIR`, `bootmeta pull`, `bootmeta push`. */
#include <string.h>

#include "cli.h"

static const char clone_usage[] =
	"usage: bootmeta clone URL DIR\n\n"
	"Clone the meta repo at URL (a bare repo path, file://, ssh or https) into a new bare repo\n"
	"DIR. Writes made with --repo DIR push to URL with compare-and-swap; when the remote moved\n"
	"they fetch, re-run on the new tip and push again.\n";
static const char pull_usage[] =
	"usage: bootmeta pull\n\nFetch the remote meta repo and move the local main to its tip.\n";
static const char push_usage[] =
	"usage: bootmeta push\n\nPush local meta commits to the remote (writes push as they are made;\n"
	"this is for commits made while the remote could not be reached).\n";

int cmd_clone(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_oid tip;
	char hex[BM_OID_HEXSZ + 1];

	if (cli_wants_help(argc, argv)) {
		fputs(clone_usage, stdout);
		return BM_EXIT_OK;
	}
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

int cmd_pull(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_oid before, after;
	char a[BM_OID_HEXSZ + 1], b[BM_OID_HEXSZ + 1];
	int had;

	if (cli_wants_help(argc, argv)) {
		fputs(pull_usage, stdout);
		return BM_EXIT_OK;
	}
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

int cmd_push(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_oid tip;
	char hex[BM_OID_HEXSZ + 1];

	if (cli_wants_help(argc, argv)) {
		fputs(push_usage, stdout);
		return BM_EXIT_OK;
	}
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
