/* cmd_dependents.c: `bootmeta dependents MODULE`: which releases (and channels) import a module. */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"

enum { OPT_VERSION = 256, OPT_AT };

static const char dependents_usage[] =
	"usage: bootmeta dependents MODULE [--version V] [--json]\n\n"
	"Every release that imports MODULE (at version V), and the channels that run it now. A tree\n"
	"lookup in the reverse index modules/MODULE/+by/, written with each release.\n";

static void bad_ref(const char *path, const char *error, void *payload)
{
	(void)payload;
	fprintf(stderr, "bootmeta: dependents: skipping %s: %s\n", path, error);
}

int cmd_dependents(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ OPT_VERSION, "version", 0, 1 },
		{ OPT_AT, "at", 0, 1 },
		CLI_OPT_END,
	};
	struct {
		const char *version, *at;
	} o = { 0 };
	cli_args args;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_module_refs r = { NULL, 0 };
	size_t i, j;
	int c, rc;

	cli_args_init(&args, cli, argc, argv, opts, dependents_usage);
	while ((c = cli_args_next(&args)) > 0) {
		switch (c) {
		case OPT_VERSION: o.version = args.value; break;
		case OPT_AT: o.at = args.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (args.npos != 1)
		return cli_usage(dependents_usage, "dependents needs one MODULE");
	if (cli_open_fs(&s, &fs, cli, o.at) < 0 || bm_dependents(&r, fs, args.pos[0], o.version, bad_ref, NULL) < 0) {
		rc = cli_fail(cli, "dependents");
		goto done;
	}
	if (cli->json) {
		json_t *a = json_array();
		for (i = 0; i < r.count; i++) {
			json_t *e = json_object(), *ch = json_array();
			json_object_set_new(e, "module", cli_jstr(r.items[i].module));
			json_object_set_new(e, "version", cli_jstr(r.items[i].version));
			json_object_set_new(e, "indirect", json_boolean(r.items[i].indirect));
			json_object_set_new(e, "project", cli_jstr(r.items[i].project));
			json_object_set_new(e, "release", cli_jstr(r.items[i].release));
			for (j = 0; j < r.items[i].channels.count; j++)
				json_array_append_new(ch, cli_jstr(r.items[i].channels.items[j]));
			json_object_set_new(e, "channels", ch);
			json_array_append_new(a, e);
		}
		rc = cli_json_print(a);
		goto done;
	}
	if (!r.count) {
		printf("no release imports %s%s%s\n", args.pos[0], o.version ? "@" : "", o.version ? o.version : "");
		rc = BM_EXIT_OK;
		goto done;
	}
	printf("%-30s %-24s %-20s %s\n", "PROJECT", "RELEASE", "VERSION", "CHANNELS NOW");
	for (i = 0; i < r.count; i++) {
		printf("%-30s %-24s %-20s ", cli_esc(r.items[i].project), cli_esc(r.items[i].release), cli_esc(r.items[i].version));
		for (j = 0; j < r.items[i].channels.count; j++)
			printf("%s%s", j ? "," : "", cli_esc(r.items[i].channels.items[j]));
		printf("%s\n", r.items[i].channels.count ? "" : "-");
	}
	rc = BM_EXIT_OK;
done:
	bm_module_refs_dispose(&r);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
