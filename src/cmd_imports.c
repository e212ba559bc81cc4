/* cmd_imports.c: `bootmeta imports`, `dependents`, `pin` and `stamp`: which modules a release
 * imports, which releases (and channels) import a module, the version of a project on a
 * channel for builds, and the stamp a build compiles in. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"

static const char imports_usage[] =
	"usage: bootmeta imports PROJECT RELEASE [--json]\n\n"
	"The modules RELEASE of PROJECT imports, with their versions (release add --import/--go-mod).\n";
static const char dependents_usage[] =
	"usage: bootmeta dependents MODULE [--version V] [--json]\n\n"
	"Every release that imports MODULE (at version V), and the channels that run it now. A tree\n"
	"lookup in the reverse index modules/MODULE/+by/, written with each release.\n";
static const char pin_usage[] =
	"usage: bootmeta pin PROJECT --channel C [--format plain|go|json] [--module PATH] [--at COMMIT]\n\n"
	"The release of PROJECT on channel C, as the version another module builds against. plain:\n"
	"the release id; go: MODULE@COMMIT for `go get` (MODULE from the project's first source URL\n"
	"plus the project's folder, or --module); json: the fields.\n";
static const char stamp_usage[] =
	"usage: bootmeta stamp PROJECT RELEASE [--format c|go-ldflags|json] [--at COMMIT]\n\n"
	"The build stamp of RELEASE: project, release, version, every source repo and commit, and the\n"
	"meta commit (the tip, or --at). c: a header defining bootmeta_stamp[]; go-ldflags: -X flags\n"
	"for `go build -ldflags`; json: the fields. `bootmeta trace BINARY` reads it back.\n";

enum { OPT_VERSION = 256, OPT_CHANNEL, OPT_FORMAT, OPT_MODULE, OPT_AT };

static const struct option opts[] = {
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "module", required_argument, NULL, OPT_MODULE },
	{ "at", required_argument, NULL, OPT_AT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *version, *channel, *format, *module, *at;
	char **pos;
	int npos;
} iopts;

/* 1: help printed, -1: usage error, 0: parsed. */
static int parse(iopts *o, int argc, char **argv, const char *usage, const int *allowed)
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

static int open_fs(bm_store **s, bm_fs **fs, bm_cli *cli, const char *at)
{
	bm_oid oid;
	if (cli_open(s, cli) < 0)
		return -1;
	if (at && bm_store_resolve(&oid, *s, at) < 0)
		return -1;
	return bm_store_fs(fs, *s, at ? &oid : NULL);
}

#define PARSE(usage, ...)                                                        \
	do {                                                                     \
		static const int allowed_[] = { __VA_ARGS__ };                   \
		int prc_;                                                        \
		argc = cli_take_json(cli, argc, argv);                           \
		if ((prc_ = parse(&o, argc, argv, usage, allowed_)) != 0)        \
			return prc_ > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;            \
	} while (0)

int cmd_imports(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_module_refs r = { NULL, 0 };
	iopts o;
	size_t i;
	int rc;

	PARSE(imports_usage, OPT_AT, 0);
	if (o.npos != 2)
		return cli_usage(imports_usage, "imports needs PROJECT RELEASE");
	if (open_fs(&s, &fs, cli, o.at) < 0 || cli_need_project_env(fs, o.pos[0], NULL) < 0 ||
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
		printf("%s %s%s\n", r.items[i].module, r.items[i].version, r.items[i].indirect ? " // indirect" : "");
	rc = BM_EXIT_OK;
done:
	bm_module_refs_dispose(&r);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static void bad_ref(const char *path, const char *error, void *payload)
{
	(void)payload;
	fprintf(stderr, "bootmeta: dependents: skipping %s: %s\n", path, error);
}

int cmd_dependents(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_module_refs r = { NULL, 0 };
	iopts o;
	size_t i, j;
	int rc;

	PARSE(dependents_usage, OPT_VERSION, OPT_AT, 0);
	if (o.npos != 1)
		return cli_usage(dependents_usage, "dependents needs one MODULE");
	if (open_fs(&s, &fs, cli, o.at) < 0 || bm_dependents(&r, fs, o.pos[0], o.version, bad_ref, NULL) < 0) {
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
		printf("no release imports %s%s%s\n", o.pos[0], o.version ? "@" : "", o.version ? o.version : "");
		rc = BM_EXIT_OK;
		goto done;
	}
	printf("%-30s %-24s %-20s %s\n", "PROJECT", "RELEASE", "VERSION", "CHANNELS NOW");
	for (i = 0; i < r.count; i++) {
		printf("%-30s %-24s %-20s ", r.items[i].project, r.items[i].release, r.items[i].version);
		for (j = 0; j < r.items[i].channels.count; j++)
			printf("%s%s", j ? "," : "", r.items[i].channels.items[j]);
		printf("%s\n", r.items[i].channels.count ? "" : "-");
	}
	rc = BM_EXIT_OK;
done:
	bm_module_refs_dispose(&r);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

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
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_stamp *st = NULL;
	bm_buf rel = BM_BUF_INIT, mod = BM_BUF_INIT;
	uint64_t seq = 0;
	iopts o;
	const char *fmt;
	int rc;

	PARSE(pin_usage, OPT_CHANNEL, OPT_FORMAT, OPT_MODULE, OPT_AT, 0);
	if (o.npos != 1 || !o.channel)
		return cli_usage(pin_usage, "pin needs PROJECT --channel C");
	fmt = o.format ? o.format : cli->json ? "json" : "plain";
	if (strcmp(fmt, "plain") && strcmp(fmt, "go") && strcmp(fmt, "json"))
		return cli_usage(pin_usage, "unknown --format %s (plain, go or json)", fmt);
	if (open_fs(&s, &fs, cli, o.at) < 0 || cli_need_project_env(fs, o.pos[0], NULL) < 0 ||
	    bm_channel_release(&rel, &seq, fs, o.pos[0], o.channel) < 0 ||
	    bm_stamp_for_release(&st, fs, o.pos[0], rel.ptr) < 0) {
		rc = cli_fail(cli, "pin");
		goto done;
	}
	if (o.module)
		bm_buf_puts(&mod, o.module);
	else if (st->source_count)
		go_module_of(&mod, st->sources[0].url, o.pos[0]);
	if (!strcmp(fmt, "go")) {
		if (!st->source_count || !mod.size) {
			rc = cli_error(cli, "pin: release %s of %s has no source to take a Go module and commit from; "
				       "pass --module", rel.ptr, o.pos[0]);
			goto done;
		}
		printf("%s@%s\n", mod.ptr, st->sources[0].commit);
	} else if (!strcmp(fmt, "json")) {
		json_t *j = json_object();
		json_object_set_new(j, "project", cli_jstr(o.pos[0]));
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

int cmd_stamp(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_stamp *st = NULL;
	bm_stamp_format f = BM_STAMP_FORMAT_JSON;
	bm_buf b = BM_BUF_INIT;
	iopts o;
	int rc;

	PARSE(stamp_usage, OPT_FORMAT, OPT_AT, 0);
	if (o.npos != 2)
		return cli_usage(stamp_usage, "stamp needs PROJECT RELEASE");
	if (bm_stamp_format_from_str(&f, o.format ? o.format : cli->json ? "json" : "c") < 0)
		return cli_usage(stamp_usage, "%s", bm_error_last());
	if (open_fs(&s, &fs, cli, o.at) < 0 || cli_need_project_env(fs, o.pos[0], NULL) < 0 ||
	    bm_stamp_for_release(&st, fs, o.pos[0], o.pos[1]) < 0 ||
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
