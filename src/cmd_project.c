/* cmd_project.c: `bootmeta project add|list|show`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: bootmeta project add NAME [--source URL]... [--owner WHO]... [--description TEXT]\n"
	"       bootmeta project list\n"
	"       bootmeta project show NAME\n\n"
	"A project is one deployable thing: the source repo name plus the folder of its main,\n"
	"e.g. maintemplatev2/server. --source names its source repos (the first is its own).\n"
	"list and show read; add --json prints the new record.\n";

static int project_add(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 's', "source", 0, 1 },
		{ 'o', "owner", 0, 1 },
		{ 'd', "description", 0, 1 },
		CLI_OPT_END,
	};
	bm_project_options po = BM_PROJECT_OPTIONS_INIT;
	bm_write_options w;
	bm_strlist sources = BM_STRLIST_INIT, owners = BM_STRLIST_INIT;
	Bootmeta__V1__Project *p = NULL;
	bm_store *s = NULL;
	bm_oid commit;
	bm_buf out = BM_BUF_INIT;
	char hex[BM_OID_HEXSZ + 1];
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 's': bm_strlist_add(&sources, a.value); break;
		case 'o': bm_strlist_add(&owners, a.value); break;
		case 'd': po.description = a.value; break;
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos != 1) {
		rc = cli_usage(usage, "project add takes one NAME");
		goto done;
	}
	po.sources = (const char *const *)sources.items;
	po.nsources = sources.count;
	po.owners = (const char *const *)owners.items;
	po.nowners = owners.count;
	cli_write_options(&w, cli);
	po.write = &w;
	if (bm_project_name_check(a.pos[0]) < 0) {
		rc = cli_fail(cli, "project add");
		goto done;
	}
	if (cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "project add");
		goto done;
	}
	cli_progress(cli, "adding project %s to %s", a.pos[0], bm_store_path(s));
	if (bm_project_add(&p, &commit, s, a.pos[0], &po) < 0) {
		rc = cli_fail(cli, "project add");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, p, &commit) < 0) {
			rc = cli_fail(cli, "project add");
			goto done;
		}
		cli_put(&out);
	} else {
		printf("added project %s (meta commit %s)\n", cli_esc(p->name), cli_short(hex, &commit));
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_meta_free(p);
	bm_store_free(s);
	bm_strlist_dispose(&sources);
	bm_strlist_dispose(&owners);
	return rc;
}

static int project_list(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_strlist names = BM_STRLIST_INIT;
	bm_buf out = BM_BUF_INIT;
	size_t i;
	int rc = BM_EXIT_FAIL, bad = 0;

	if (cli_operands(cli, &argc, argv, usage, &rc))
		return rc;
	if (argc != 1)
		return cli_usage(usage, "project list takes no arguments");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_project_list(&names, fs) < 0) {
		rc = cli_fail(cli, "project list");
		goto done;
	}
	if (cli->json)
		bm_buf_putc(&out, '[');
	else if (names.count)
		printf("%-40s %-8s %s\n", "PROJECT", "SOURCES", "FIRST SOURCE");
	for (i = 0; i < names.count; i++) {
		Bootmeta__V1__Project *p = NULL;
		if (bm_project_get(&p, fs, names.items[i]) < 0) {
			bad = 1;
			if (cli->json) {
				bm_buf path = BM_BUF_INIT;
				bm_path_project(&path, names.items[i]);
				cli_json_error_item(&out, out.size > 1, path.ptr);
				bm_buf_dispose(&path);
			} else {
				cli_fail(cli, "project list");
			}
			continue;
		}
		if (cli->json) {
			if (out.size > 1)
				bm_buf_putc(&out, ',');
			cli_record_json(&out, p, 0);
		} else {
			printf("%-40s %-8zu %s\n", cli_esc(p->name), p->n_sources, cli_esc(p->n_sources ? p->sources[0] : "-"));
		}
		bm_meta_free(p);
	}
	if (cli->json) {
		bm_buf_putc(&out, ']');
		cli_put(&out);
	} else if (!names.count) {
		printf("no projects yet; add one with `bootmeta project add NAME --source URL`\n");
	}
	rc = bad ? BM_EXIT_FAIL : BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_strlist_dispose(&names);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int project_show(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	Bootmeta__V1__Project *p = NULL;
	bm_buf out = BM_BUF_INIT;
	char when[40];
	size_t i;
	int rc = BM_EXIT_FAIL;

	if (cli_operands(cli, &argc, argv, usage, &rc))
		return rc;
	if (argc != 2)
		return cli_usage(usage, "project show takes one NAME");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_project_get(&p, fs, argv[1]) < 0) {
		rc = cli_fail(cli, "project show");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, p, bm_fs_commit(fs)) < 0) {
			rc = cli_fail(cli, "project show");
			goto done;
		}
		cli_put(&out);
	} else {
		cli_time_fmt(when, sizeof(when), p->created_ms);
		printf("project      %s\n", cli_esc(p->name));
		for (i = 0; i < p->n_sources; i++)
			printf("source       %s\n", cli_esc(p->sources[i]));
		for (i = 0; i < p->n_owners; i++)
			printf("owner        %s\n", cli_esc(p->owners[i]));
		if (*p->description)
			printf("description  %s\n", cli_esc(p->description));
		printf("created      %s by %s\n", when, cli_esc(p->actor));
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_meta_free(p);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

int cmd_project(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "add", NULL, project_add, CLI_WRITES, NULL },
		{ "list", NULL, project_list, 0, NULL },
		{ "show", NULL, project_show, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
