/* cmd_dev.c: `bootmeta dev init|use|current`: developer overlays of dev. */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"

static const char dev_usage[] =
	"usage: bootmeta dev init USER [--description TEXT]\n"
	"       bootmeta dev use ENV|USER [--clear]\n"
	"       bootmeta dev current [--json]\n\n"
	"Developer overlays. `dev init USER` adds env dev/USER with parent dev (adding dev too, in the\n"
	"same commit, when the meta repo has none). `dev use dev/USER` (or just USER) writes\n"
	"" BM_ENV_LOCAL_FILE " at the top of the current source checkout and adds it to the checkout's\n"
	".gitignore: bootmeta commands run in that checkout then use that env when neither --env\n"
	"nor $BOOTMETA_ENV is given. The env must exist. `dev use --clear` removes the file.\n"
	"`dev current` prints the env in use and where it came from.\n";

static int dev_init(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'd', "description", 'd', 1 },
		CLI_OPT_END,
	};
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	bm_store *s = NULL;
	bm_oid commit;
	bm_buf name = BM_BUF_INIT;
	const char *desc = NULL;
	cli_args a;
	int c, rc;
	cli_args_init(&a, cli, argc, argv, opts, dev_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'd': desc = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(dev_usage, "dev init takes one USER");
	if (bm_name_validate(a.pos[0], BM_NAME_USER) < 0 || bm_buf_printf(&name, "dev/%s", a.pos[0]) < 0 ||
	    bm_env_name_validate(name.ptr) < 0) {
		bm_buf_dispose(&name);
		return cli_fail(cli, "dev init");
	}
	if (cli_open(&s, cli) < 0) {
		bm_buf_dispose(&name);
		return cli_fail(cli, "dev init");
	}
	cli_write_options(&w, cli);
	if (bm_dev_init(&commit, s, a.pos[0], desc, &w) < 0) {
		rc = cli_fail(cli, "dev init");
	} else {
		cli_env_added(cli, name.ptr, &commit);
		if (!cli->json)
			printf("next: bootmeta dev use %s   (in your source checkout)\n", name.ptr);
		rc = BM_EXIT_OK;
	}
	bm_buf_dispose(&name);
	bm_store_free(s);
	return rc;
}

static int dev_use(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'c', "clear", 0, 0 },
		CLI_OPT_END,
	};
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf name = BM_BUF_INIT, file = BM_BUF_INIT;
	cli_args a;
	int c, clear = 0, rc = BM_EXIT_FAIL;
	cli_args_init(&a, cli, argc, argv, opts, dev_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'c': clear = 1; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (clear) {
		if (a.npos != 0)
			return cli_usage(dev_usage, "dev use --clear takes no ENV");
		if (bm_checkout_env_write(&file, NULL, NULL) < 0) {
			rc = cli_fail(cli, "dev use --clear");
			goto done;
		}
		if (!cli->quiet)
			printf("removed %s\n", file.ptr);
		rc = BM_EXIT_OK;
		goto done;
	}
	if (a.npos != 1)
		return cli_usage(dev_usage, "dev use takes one ENV (dev/USER) or USER");
	if (cli_open(&s, cli) < 0 || bm_store_fs(&fs, s, NULL) < 0) {
		rc = cli_fail(cli, "dev use");
		goto done;
	}
	/* USER alone means dev/USER when that env exists */
	if (!strchr(a.pos[0], '/') && bm_name_validate(a.pos[0], BM_NAME_USER) == 0) {
		bm_buf_printf(&name, "dev/%s", a.pos[0]);
		if (bm_env_exists(fs, name.ptr) != 1) {
			bm_buf_clear(&name);
			bm_buf_puts(&name, a.pos[0]);
		}
	} else {
		bm_buf_puts(&name, a.pos[0]);
	}
	bm_error_clear();
	if (bm_env_name_validate(name.ptr) < 0) {
		rc = cli_fail(cli, "dev use");
		goto done;
	}
	if (bm_env_exists(fs, name.ptr) != 1) {
		if (!strchr(a.pos[0], '/') && bm_name_validate(a.pos[0], BM_NAME_USER) == 0)
			rc = cli_error(cli, BM_ENOTFOUND, "dev use: neither environment dev/%s nor %s exists in the meta repo; "
				       "create yours with `bootmeta dev init %s`", a.pos[0], a.pos[0], a.pos[0]);
		else
			rc = cli_error(cli, BM_ENOTFOUND, "dev use: environment \"%s\" does not exist in the meta repo; create it "
				       "with `bootmeta env add %s`%s", name.ptr, name.ptr,
				       !strncmp(name.ptr, "dev/", 4) ? " or `bootmeta dev init USER`" : "");
		goto done;
	}
	if (bm_checkout_env_write(&file, NULL, name.ptr) < 0) {
		rc = cli_fail(cli, "dev use");
		goto done;
	}
	if (cli->json) {
		json_t *o = json_object();
		json_object_set_new(o, "env", cli_jstr(name.ptr));
		json_object_set_new(o, "file", cli_jstr(file.ptr));
		cli_json_print(o);
	} else {
		printf("this checkout now uses environment %s (%s; ignored by git)\n", name.ptr, file.ptr);
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&name);
	bm_buf_dispose(&file);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int dev_current(bm_cli *cli, int argc, char **argv)
{
	bm_buf name = BM_BUF_INIT;
	const char *source = NULL;
	int rc;
	if (cli_operands(cli, &argc, argv, dev_usage, &rc))
		return rc;
	if (argc > 1)
		return cli_usage(dev_usage, "dev current takes no arguments");
	if (cli_env_resolve(cli, &name, &source) < 0) {
		rc = cli_fail(cli, "dev current");
	} else if (cli->json) {
		json_t *o = json_object();
		json_object_set_new(o, "env", cli_jstr(name.ptr));
		json_object_set_new(o, "source", cli_jstr(source));
		rc = cli_json_print(o);
	} else {
		printf("%s\t(from %s)\n", name.ptr, source);
		rc = BM_EXIT_OK;
	}
	bm_buf_dispose(&name);
	return rc;
}

int cmd_dev(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "init", NULL, dev_init, CLI_STORE | CLI_WRITES, NULL },
		{ "use", NULL, dev_use, CLI_STORE, NULL },
		{ "current", NULL, dev_current, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, dev_usage, argc, argv);
}
