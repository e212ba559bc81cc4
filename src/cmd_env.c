/* cmd_env.c: `bootmeta env add|list|show`: environments. */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"
#include "cli_hint.h"

static const char env_usage[] =
	"usage: bootmeta env add NAME [--parent ENV] [--description TEXT]\n"
	"       bootmeta env list [--json]\n"
	"       bootmeta env show [NAME] [--json]\n\n"
	"Environments (prod, stage, dev, dev/alice). A nested env's parent defaults to its folder\n"
	"(dev/alice -> dev, prod/eu -> prod); --parent names another (\"\" for none). The parent must\n"
	"exist and the chain of parents may not loop. The effective config of an env is its\n"
	"parent's with its own values on top (bootmeta config resolve). Env records are never\n"
	"rewritten. show without NAME shows the env in use (--env, $BOOTMETA_ENV, `dev use`).\n";

static int env_add(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'p', "parent", 'p', 1 },
		{ 'd', "description", 'd', 1 },
		CLI_OPT_END,
	};
	bm_env_add_options o = BM_ENV_ADD_OPTIONS_INIT;
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	bm_store *s = NULL;
	bm_oid commit;
	cli_args a;
	int c, rc;
	cli_args_init(&a, cli, argc, argv, opts, env_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'p': o.parent = a.value; break;
		case 'd': o.description = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(env_usage, "env add takes one NAME");
	if (bm_env_name_validate(a.pos[0]) < 0 || (o.parent && *o.parent && bm_env_name_validate(o.parent) < 0))
		return cli_fail(cli, "env add");
	if (cli_open(&s, cli) < 0)
		return cli_fail(cli, "env add");
	cli_write_options(&w, cli);
	if (bm_env_add(&commit, s, a.pos[0], &o, &w) < 0)
		rc = cli_fail(cli, "env add");
	else {
		cli_env_added(cli, a.pos[0], &commit);
		rc = BM_EXIT_OK;
	}
	bm_store_free(s);
	return rc;
}

static int env_list(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_strlist l = BM_STRLIST_INIT;
	json_t *arr = NULL;
	size_t i;
	int rc = BM_EXIT_FAIL;

	if (cli_operands(cli, &argc, argv, env_usage, &rc))
		return rc;
	if (argc > 1)
		return cli_usage(env_usage, "env list takes no arguments");
	if (cli_open(&s, cli) < 0 || bm_store_fs(&fs, s, NULL) < 0 || bm_env_list(&l, fs) < 0) {
		rc = cli_fail(cli, "env list");
		goto done;
	}
	if (cli->json)
		arr = json_array();
	else if (l.count)
		printf("%-24s %-16s %-20s %s\n", "ENV", "PARENT", "CREATED", "BY");
	for (i = 0; i < l.count; i++) {
		bm_env *e = NULL;
		char t[40];
		if (bm_env_read(&e, fs, l.items[i]) < 0) {
			/* report and keep going */
			fprintf(stderr, "bootmeta: env list: %s\n", cli_error_text());
			continue;
		}
		cli_time_fmt(t, sizeof(t), e->created_ms);
		if (arr) {
			json_t *o = json_object();
			json_object_set_new(o, "name", cli_jstr(e->name));
			json_object_set_new(o, "parent", cli_jstr(e->parent));
			json_object_set_new(o, "createdMs", cli_jint64(e->created_ms));
			json_object_set_new(o, "actor", cli_jstr(e->actor));
			json_object_set_new(o, "description", cli_jstr(e->description));
			json_array_append_new(arr, o);
		} else {
			printf("%-24s %-16s %-20s %s\n", cli_esc(e->name), cli_esc(*e->parent ? e->parent : "-"), t, cli_esc(e->actor));
		}
		bm_env_free(e);
	}
	if (arr)
		cli_json_print(arr);
	else if (!l.count)
		printf("no environments yet; add one with `bootmeta env add prod`\n");
	rc = BM_EXIT_OK;
done:
	bm_strlist_dispose(&l);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int env_show(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_env *e = NULL;
	bm_strlist chain = BM_STRLIST_INIT;
	bm_buf name = BM_BUF_INIT;
	size_t i;
	int rc = BM_EXIT_FAIL;
	char t[40];

	if (cli_operands(cli, &argc, argv, env_usage, &rc))
		return rc;
	if (argc > 2)
		return cli_usage(env_usage, "env show takes at most one NAME");
	if (argc == 2 ? bm_buf_puts(&name, argv[1]) < 0 : cli_env_resolve(cli, &name, NULL) < 0) {
		rc = cli_fail(cli, "env show");
		goto done;
	}
	if (cli_open(&s, cli) < 0 || bm_store_fs(&fs, s, NULL) < 0 || bm_env_read(&e, fs, name.ptr) < 0 ||
	    bm_env_chain(&chain, fs, name.ptr) < 0) {
		rc = cli_fail(cli, "env show");
		goto done;
	}
	cli_time_fmt(t, sizeof(t), e->created_ms);
	if (cli->json) {
		json_t *o = json_object(), *a = json_array();
		json_object_set_new(o, "name", cli_jstr(e->name));
		json_object_set_new(o, "parent", cli_jstr(e->parent));
		json_object_set_new(o, "createdMs", cli_jint64(e->created_ms));
		json_object_set_new(o, "actor", cli_jstr(e->actor));
		json_object_set_new(o, "description", cli_jstr(e->description));
		for (i = 0; i < chain.count; i++)
			json_array_append_new(a, cli_jstr(chain.items[i]));
		json_object_set_new(o, "chain", a);
		json_object_set_new(o, "metaCommit", cli_joid(bm_fs_commit(fs), bm_fs_commit(fs) != NULL));
		cli_json_print(o);
	} else {
		printf("env:         %s\n", cli_esc(e->name));
		printf("parent:      %s\n", cli_esc(*e->parent ? e->parent : "(none: a root env)"));
		printf("chain:       ");
		for (i = 0; i < chain.count; i++)
			printf("%s%s", i ? " -> " : "", cli_esc(chain.items[i]));
		printf("\ncreated:     %s by %s\n", t, cli_esc(e->actor));
		if (*e->description)
			printf("description: %s\n", cli_esc(e->description));
	}
	rc = BM_EXIT_OK;
done:
	bm_env_free(e);
	bm_strlist_dispose(&chain);
	bm_buf_dispose(&name);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

int cmd_env(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "add", NULL, env_add, CLI_WRITES, NULL },
		{ "list", "ls", env_list, 0, NULL },
		{ "show", NULL, env_show, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, env_usage, argc, argv);
}
