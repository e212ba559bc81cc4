/* cmd_pin.c: `bootmeta pin PROJECT --channel C`: the version of a project on a channel, for
 * builds. */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"

enum { OPT_CHANNEL = 256, OPT_FORMAT, OPT_MODULE, OPT_AT };

static const char pin_usage[] =
	"usage: bootmeta pin PROJECT --channel C [--format plain|go|json] [--module PATH] [--at COMMIT]\n\n"
	"The release of PROJECT on channel C, as the version another module builds against. plain:\n"
	"the release id; go: MODULE@COMMIT for `go get` (MODULE from the project's first source URL\n"
	"plus the project's folder, or --module); json: the fields.\n";

/* github.com/acme/repo from https://github.com/acme/repo.git, git@github.com:acme/repo.git,
 * ssh://git@github.com/acme/repo; then the project's folder below the repo, when the
 * project's first part is the repo's name. */
static int go_module_of(bm_buf *out, const char *url, const char *project)
{
	const char *p = url, *slash, *first_end;
	size_t n;
	char *q;
	bm_buf_clear(out);
	if (strstr(p, "://"))
		p = strstr(p, "://") + 3;
	if ((q = strchr(p, '@')) != NULL && (!strchr(p, '/') || q < strchr(p, '/')))
		p = q + 1;
	if (bm_buf_puts(out, p) < 0)
		return BM_ENOMEM;
	if ((q = strchr(out->ptr, ':')) != NULL && (!strchr(out->ptr, '/') || q < strchr(out->ptr, '/')))
		*q = '/'; /* scp-like host:path */
	out->size = strlen(out->ptr);
	while (out->size && out->ptr[out->size - 1] == '/')
		out->ptr[--out->size] = '\0';
	if (out->size > 4 && !strcmp(out->ptr + out->size - 4, ".git"))
		out->ptr[out->size -= 4] = '\0';
	slash = strrchr(out->ptr, '/');
	first_end = strchr(project, '/');
	n = first_end ? (size_t)(first_end - project) : strlen(project);
	if (slash && first_end && strlen(slash + 1) == n && !strncmp(slash + 1, project, n))
		return bm_buf_puts(out, first_end);
	return 0;
}

int cmd_pin(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ OPT_CHANNEL, "channel", 0, 1 },
		{ OPT_FORMAT, "format", 0, 1 },
		{ OPT_MODULE, "module", 0, 1 },
		{ OPT_AT, "at", 0, 1 },
		CLI_OPT_END,
	};
	struct {
		const char *channel, *format, *module, *at;
	} o = { 0 };
	cli_args args;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_stamp *st = NULL;
	bm_buf rel = BM_BUF_INIT, mod = BM_BUF_INIT;
	uint64_t seq = 0;
	const char *fmt;
	int c, rc;

	cli_args_init(&args, cli, argc, argv, opts, pin_usage);
	while ((c = cli_args_next(&args)) > 0) {
		switch (c) {
		case OPT_CHANNEL: o.channel = args.value; break;
		case OPT_FORMAT: o.format = args.value; break;
		case OPT_MODULE: o.module = args.value; break;
		case OPT_AT: o.at = args.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (args.npos != 1 || !o.channel)
		return cli_usage(pin_usage, "pin needs PROJECT --channel C");
	fmt = o.format ? o.format : cli->json ? "json" : "plain";
	if (strcmp(fmt, "plain") && strcmp(fmt, "go") && strcmp(fmt, "json"))
		return cli_usage(pin_usage, "unknown --format %s (plain, go or json)", fmt);
	if (cli_open_fs(&s, &fs, cli, o.at) < 0 || cli_need_project_env(fs, args.pos[0], NULL) < 0 ||
	    bm_channel_release(&rel, &seq, fs, args.pos[0], o.channel) < 0 ||
	    bm_stamp_for_release(&st, fs, args.pos[0], rel.ptr) < 0) {
		rc = cli_fail(cli, "pin");
		goto done;
	}
	if (o.module)
		bm_buf_puts(&mod, o.module);
	else if (st->source_count)
		go_module_of(&mod, st->sources[0].url, args.pos[0]);
	if (!strcmp(fmt, "go")) {
		if (!st->source_count || !mod.size) {
			rc = cli_error(cli, BM_ENOTFOUND, "pin: release %s of %s has no source to take a Go module and commit from; "
				       "pass --module", rel.ptr, args.pos[0]);
			goto done;
		}
		printf("%s@%s\n", mod.ptr, st->sources[0].commit);
	} else if (!strcmp(fmt, "json")) {
		json_t *j = json_object();
		json_object_set_new(j, "project", cli_jstr(args.pos[0]));
		json_object_set_new(j, "channel", cli_jstr(o.channel));
		json_object_set_new(j, "release", cli_jstr(rel.ptr));
		json_object_set_new(j, "seq", cli_juint64(seq));
		json_object_set_new(j, "version", cli_jstr(st->version));
		json_object_set_new(j, "module", mod.size ? cli_jstr(mod.ptr) : json_null());
		json_object_set_new(j, "commit", st->source_count ? cli_jstr(st->sources[0].commit) : json_null());
		json_object_set_new(j, "metaCommit", cli_jstr(st->meta_commit));
		cli_json_print(j);
	} else {
		printf("%s\n", rel.ptr);
	}
	rc = BM_EXIT_OK;
done:
	bm_stamp_free(st);
	bm_buf_dispose(&rel);
	bm_buf_dispose(&mod);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
