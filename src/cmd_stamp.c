/* cmd_stamp.c: `bootmeta stamp PROJECT RELEASE`: the build stamp a binary compiles in. */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"

enum { OPT_FORMAT = 256, OPT_AT };

static const char stamp_usage[] =
	"usage: bootmeta stamp PROJECT RELEASE [--format c|go-ldflags|json] [--at COMMIT]\n\n"
	"The build stamp of RELEASE: project, release, version, every source repo and commit, and the\n"
	"meta commit (the tip, or --at). c: a header defining bootmeta_stamp[]; go-ldflags: -X flags\n"
	"for `go build -ldflags`; json: the fields. `bootmeta trace BINARY` reads it back.\n";

int cmd_stamp(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ OPT_FORMAT, "format", 0, 1 },
		{ OPT_AT, "at", 0, 1 },
		CLI_OPT_END,
	};
	struct {
		const char *format, *at;
	} o = { 0 };
	cli_args args;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_stamp *st = NULL;
	bm_stamp_format f = BM_STAMP_FORMAT_JSON;
	bm_buf b = BM_BUF_INIT;
	int c, rc;

	cli_args_init(&args, cli, argc, argv, opts, stamp_usage);
	while ((c = cli_args_next(&args)) > 0) {
		switch (c) {
		case OPT_FORMAT: o.format = args.value; break;
		case OPT_AT: o.at = args.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (args.npos != 2)
		return cli_usage(stamp_usage, "stamp needs PROJECT RELEASE");
	if (bm_stamp_format_from_str(&f, o.format ? o.format : cli->json ? "json" : "c") < 0)
		return cli_usage(stamp_usage, "%s", bm_error_last());
	if (cli_open_fs(&s, &fs, cli, o.at) < 0 || cli_need_project_env(fs, args.pos[0], NULL) < 0 ||
	    bm_stamp_for_release(&st, fs, args.pos[0], args.pos[1]) < 0 ||
	    bm_stamp_emit(&b, st, f) < 0) {
		rc = cli_fail(cli, "stamp");
		goto done;
	}
	fwrite(b.ptr, 1, b.size, stdout);
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&b);
	bm_stamp_free(st);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
