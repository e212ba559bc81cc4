/* cmd_imports.c: `bootmeta imports PROJECT RELEASE`: which modules a release imports. */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"

enum { OPT_AT = 256 };

static const char imports_usage[] =
	"usage: bootmeta imports PROJECT RELEASE [--json]\n\n"
	"The modules RELEASE of PROJECT imports, with their versions (release add --import/--go-mod).\n";

int cmd_imports(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ OPT_AT, "at", 0, 1 },
		CLI_OPT_END,
	};
	struct {
		const char *at;
	} o = { 0 };
	cli_args args;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_module_refs r = { NULL, 0 };
	size_t i;
	int c, rc;

	cli_args_init(&args, cli, argc, argv, opts, imports_usage);
	while ((c = cli_args_next(&args)) > 0) {
		switch (c) {
		case OPT_AT: o.at = args.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (args.npos != 2)
		return cli_usage(imports_usage, "imports needs PROJECT RELEASE");
	if (cli_open_fs(&s, &fs, cli, o.at) < 0 || cli_need_project_env(fs, args.pos[0], NULL) < 0 ||
	    bm_release_imports(&r, fs, args.pos[0], args.pos[1]) < 0) {
		rc = cli_fail(cli, "imports");
		goto done;
	}
	if (cli->json) {
		json_t *a = json_array();
		for (i = 0; i < r.count; i++) {
			json_t *e = json_object();
			json_object_set_new(e, "module", cli_jstr(r.items[i].module));
			json_object_set_new(e, "version", cli_jstr(r.items[i].version));
			json_object_set_new(e, "indirect", json_boolean(r.items[i].indirect));
			json_array_append_new(a, e);
		}
		rc = cli_json_print(a);
		goto done;
	}
	if (!r.count)
		printf("%s %s records no imports\n", args.pos[0], args.pos[1]);
	for (i = 0; i < r.count; i++)
		printf("%s %s%s\n", cli_esc(r.items[i].module), cli_esc(r.items[i].version), r.items[i].indirect ? " // indirect" : "");
	rc = BM_EXIT_OK;
done:
	bm_module_refs_dispose(&r);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
