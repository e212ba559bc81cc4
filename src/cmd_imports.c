/* cmd_imports.c: `bootmeta imports PROJECT RELEASE`: which modules a release imports. The option
 * parser below is shared with dependents, pin and stamp. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli_imports.h"

static const char imports_usage[] =
	"usage: bootmeta imports PROJECT RELEASE [--json]\n\n"
	"The modules RELEASE of PROJECT imports, with their versions (release add --import/--go-mod).\n";

static const struct option opts[] = {
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "module", required_argument, NULL, OPT_MODULE },
	{ "at", required_argument, NULL, OPT_AT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* 1: help printed, -1: usage error, 0: parsed. */
int cli_imports_parse(cli_iopts *o, int argc, char **argv, const char *usage, const int *allowed)
{
	int c;
	memset(o, 0, sizeof(*o));
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const int *a;
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		for (a = allowed; *a && *a != c; a++)
			;
		if (!*a) {
			cli_usage(usage, c == '?' ? NULL : "unexpected option");
			return -1;
		}
		switch (c) {
		case OPT_VERSION: o->version = optarg; break;
		case OPT_CHANNEL: o->channel = optarg; break;
		case OPT_FORMAT: o->format = optarg; break;
		case OPT_MODULE: o->module = optarg; break;
		case OPT_AT: o->at = optarg; break;
		}
	}
	o->pos = argv + optind;
	o->npos = argc - optind;
	return 0;
}

int cmd_imports(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_module_refs r = { NULL, 0 };
	cli_iopts o;
	size_t i;
	int rc;

	PARSE(imports_usage, OPT_AT, 0);
	if (o.npos != 2)
		return cli_usage(imports_usage, "imports needs PROJECT RELEASE");
	if (cli_open_fs(&s, &fs, cli, o.at) < 0 || cli_need_project_env(fs, o.pos[0], NULL) < 0 ||
	    bm_release_imports(&r, fs, o.pos[0], o.pos[1]) < 0) {
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
		printf("%s %s records no imports\n", o.pos[0], o.pos[1]);
	for (i = 0; i < r.count; i++)
		printf("%s %s%s\n", cli_esc(r.items[i].module), cli_esc(r.items[i].version), r.items[i].indirect ? " // indirect" : "");
	rc = BM_EXIT_OK;
done:
	bm_module_refs_dispose(&r);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
