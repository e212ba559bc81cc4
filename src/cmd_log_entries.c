/* cmd_log_entries.c: generator log records: `bootmeta log add ...` and the listing
 * `bootmeta log [entries] --kind/--project/--env/--since/--until`. `bootmeta log [PATH]`
 * (the meta history of a path) is cmd_log.c's; cli_log_dispatch() tells the two apart. */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"

static const char usage[] =
	"usage: bootmeta log add --kind KIND [--project P] [--env E] --message TEXT [--attr K=V]...\n"
	"       bootmeta log [entries] [--kind KIND] [--project P] [--env E] [--since T] [--until T]\n"
	"                    [-n|--limit N] [--json]\n\n"
	"Generator logs: short records that generators, CI jobs and people append to the meta repo,\n"
	"one commit each, under log/<yyyy>/<mm>/<dd>/. KIND is lower-case (codegen, deploy, rotate).\n"
	"A message holds up to 16 KiB, an entry up to 64 attributes of up to 4 KiB (32 KiB in all).\n"
	"The listing is newest first; T is 2026-01-02, 2026-01-02T03:04:05Z, a duration back from\n"
	"now (90m, 2h, 7d) or milliseconds since the epoch; --since is inclusive, --until exclusive.\n"
	"`bootmeta log [PATH]` without these options is the meta history of PATH.\n";

enum { OPT_KIND = 256, OPT_PROJECT, OPT_ENV, OPT_MESSAGE, OPT_ATTR, OPT_SINCE, OPT_UNTIL };

static const cli_opt opts[] = {
	{ OPT_KIND, "kind", 0, 1 },
	{ OPT_PROJECT, "project", 0, 1 },
	{ OPT_ENV, "env", 0, 1 },
	{ OPT_MESSAGE, "message", 'm', 1 },
	{ OPT_ATTR, "attr", 0, 1 },
	{ OPT_SINCE, "since", 0, 1 },
	{ OPT_UNTIL, "until", 0, 1 },
	CLI_OPT_LIMIT,
	CLI_OPT_END,
};

static json_t *entry_json(const bm_log_entry *e)
{
	json_t *o = json_object(), *a = json_array();
	char t[40];
	size_t i;
	cli_time_fmt(t, sizeof(t), e->time_ms);
	json_object_set_new(o, "id", cli_jstr(e->id));
	json_object_set_new(o, "kind", cli_jstr(e->kind));
	json_object_set_new(o, "project", cli_jstr(e->project));
	json_object_set_new(o, "env", cli_jstr(e->env));
	json_object_set_new(o, "message", cli_jstr(e->message));
	for (i = 0; i < e->nattrs; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "key", cli_jstr(e->attrs[i].key));
		json_object_set_new(p, "value", cli_jstr(e->attrs[i].value));
		json_array_append_new(a, p);
	}
	json_object_set_new(o, "attrs", a);
	json_object_set_new(o, "timeMs", cli_jint64(e->time_ms));
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "actor", cli_jstr(e->actor));
	json_object_set_new(o, "path", cli_jstr(e->path));
	return o;
}

int cli_log_add(bm_cli *cli, int argc, char **argv)
{
	static const int add_opts[] = { OPT_KIND, OPT_PROJECT, OPT_ENV, OPT_MESSAGE, OPT_ATTR, 0 };
	bm_log_add_spec spec = BM_LOG_ADD_SPEC_INIT;
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	bm_store *s = NULL;
	bm_log_entry *e = NULL;
	char **keys = NULL, **vals = NULL;
	size_t n = 0;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	keys = calloc((size_t)argc + 1, sizeof(*keys));
	vals = calloc((size_t)argc + 1, sizeof(*vals));
	if (!keys || !vals) {
		rc = cli_error(cli, BM_ENOMEM, "out of memory");
		goto done;
	}
	cli_args_init(&a, cli, argc, argv, opts, usage);
	a.allowed = add_opts;
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_KIND: spec.kind = a.value; break;
		case OPT_PROJECT: spec.project = a.value; break;
		case OPT_ENV: spec.env = a.value; break;
		case OPT_MESSAGE: spec.message = a.value; break;
		case OPT_ATTR: {
			char *eq = strchr(a.value, '=');
			if (!eq) {
				rc = cli_usage(usage, "--attr takes KEY=VALUE (\"%s\")", a.value);
				goto done;
			}
			if (!(keys[n] = strndup(a.value, (size_t)(eq - a.value)))) {
				rc = cli_error(cli, BM_ENOMEM, "out of memory");
				goto done;
			}
			vals[n++] = eq + 1;
			break;
		}
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos != 0) {
		rc = cli_usage(usage, "log add takes no arguments besides its options (\"%s\")", a.pos[0]);
		goto done;
	}
	if (!spec.kind || !spec.message) {
		rc = cli_usage(usage, "log add needs --kind and --message");
		goto done;
	}
	spec.attr_keys = (const char *const *)keys;
	spec.attr_values = (const char *const *)vals;
	spec.nattrs = n;
	if (bm_log_check(&spec) < 0) {
		rc = cli_fail(cli, "log add");
		goto done;
	}
	cli_write_options(&w, cli);
	if (cli_open(&s, cli) < 0 || bm_log_add(&e, s, &spec, &w) < 0) {
		rc = cli_fail(cli, "log add");
		goto done;
	}
	if (cli->json)
		rc = cli_json_print(entry_json(e));
	else {
		printf("logged %s (%s)\n", cli_esc(e->id), cli_esc(e->path));
		rc = BM_EXIT_OK;
	}
done:
	if (keys)
		for (n = 0; keys[n]; n++)
			free(keys[n]);
	free(keys);
	free(vals);
	bm_log_entry_free(e);
	bm_store_free(s);
	return rc;
}

typedef struct {
	bm_cli *cli;
	json_t *arr;
	size_t n;
} list_ctx;

static int print_entry(const bm_log_entry *e, void *payload)
{
	list_ctx *c = payload;
	char t[40];
	size_t i;
	c->n++;
	if (c->arr) {
		json_array_append_new(c->arr, entry_json(e));
		return 0;
	}
	cli_time_fmt(t, sizeof(t), e->time_ms);
	printf("%s  %-10s %-20s %-10s ", t, cli_esc(e->kind), cli_esc(*e->project ? e->project : "-"), cli_esc(*e->env ? e->env : "-"));
	cli_cell(stdout, e->message, 200);
	printf("  (%s)\n", cli_esc(e->actor));
	for (i = 0; i < e->nattrs; i++) {
		printf("    %s=", cli_esc(e->attrs[i].key));
		cli_cell(stdout, e->attrs[i].value, 200);
		fputc('\n', stdout);
	}
	return 0;
}

static void print_bad(const char *path, const char *error, void *payload)
{
	(void)payload;
	fprintf(stderr, "bootmeta: log: skipping %s: %s\n", path, error);
}

int cli_log_entries(bm_cli *cli, int argc, char **argv)
{
	static const int list_opts[] = { OPT_KIND, OPT_PROJECT, OPT_ENV, OPT_SINCE, OPT_UNTIL, CLI_OPT_LIMIT_ID, 0 };
	bm_log_filter f = BM_LOG_FILTER_INIT;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	list_ctx lc;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	/* `log entries ...` and `log --kind ...` both land here */
	if (argc > 1 && !strcmp(argv[1], "entries")) {
		argc--;
		argv++;
	}
	cli_args_init(&a, cli, argc, argv, opts, usage);
	a.allowed = list_opts;
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_KIND: f.kind = a.value; break;
		case OPT_PROJECT: f.project = a.value; break;
		case OPT_ENV: f.env = a.value; break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (cli_time_parse(c == OPT_SINCE ? &f.since_ms : &f.until_ms, a.value) < 0)
				return cli_usage(usage, "%s", bm_error_last());
			break;
		case CLI_OPT_LIMIT_ID:
			if (cli_take_limit(&f.limit, &a) != BM_EXIT_OK)
				return BM_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 0)
		return cli_usage(usage, "the log listing takes no PATH (\"%s\"); `bootmeta log PATH` alone is the "
				 "meta history of a path", a.pos[0]);
	if (f.kind && bm_name_validate(f.kind, BM_NAME_KIND) < 0)
		return cli_fail(cli, "log");
	if (f.since_ms && f.until_ms && f.since_ms >= f.until_ms)
		return cli_usage(usage, "--since must be before --until");
	memset(&lc, 0, sizeof(lc));
	lc.cli = cli;
	if (cli->json)
		lc.arr = json_array();
	if (cli_open(&s, cli) < 0 || bm_store_fs(&fs, s, NULL) < 0 || bm_log_list(fs, &f, print_entry, print_bad, &lc) < 0) {
		rc = cli_fail(cli, "log");
		json_decref(lc.arr);
		goto done;
	}
	if (lc.arr)
		rc = cli_json_print(lc.arr);
	else {
		if (!lc.n)
			printf("no log entries match\n");
		rc = BM_EXIT_OK;
	}
done:
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

int cli_log_dispatch(bm_cli *cli, int argc, char **argv)
{
	static const char *const filters[] = { "--kind", "--project", "--env", "--since", "--until" };
	int i;
	size_t k;
	if (argc > 1 && !strcmp(argv[1], "add")) {
		cli->flags |= CLI_WRITES;
		return cli_log_add(cli, argc - 1, argv + 1);
	}
	if (argc > 1 && !strcmp(argv[1], "entries"))
		return cli_log_entries(cli, argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		for (k = 0; k < sizeof(filters) / sizeof(filters[0]); k++) {
			size_t n = strlen(filters[k]);
			if (!strncmp(argv[i], filters[k], n) && (argv[i][n] == '\0' || argv[i][n] == '='))
				return cli_log_entries(cli, argc, argv);
		}
	}
	return -1;
}
