/* cmd_ls.c: `bootmeta ls [PATH]`: list the files of the meta repo. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char ls_usage[] =
	"usage: bootmeta ls [PATH] [-r] [--at COMMIT]\n\n"
	"List a folder of the meta repo (default: the top); sub-folders end with '/'. -r lists\n"
	"every file below PATH.\n";

static int ls_walk(bm_cli *cli, bm_fs *fs, const char *dir, int recursive, bm_buf *json, size_t *n)
{
	bm_strlist l = BM_STRLIST_INIT;
	size_t i;
	int error;
	if ((error = bm_fs_list(&l, fs, dir)) < 0)
		goto done;
	for (i = 0; i < l.count && !error; i++) {
		const char *name = l.items[i];
		size_t len = strlen(name);
		int is_dir = len && name[len - 1] == '/';
		bm_buf full = BM_BUF_INIT;
		error = *dir ? bm_buf_printf(&full, "%s/%.*s", dir, (int)(len - (size_t)is_dir), name)
			     : bm_buf_printf(&full, "%.*s", (int)(len - (size_t)is_dir), name);
		if (!error && (!recursive || !is_dir)) {
			if (cli->json) {
				bm_buf_puts(json, (*n)++ ? ",{\"path\":" : "{\"path\":");
				cli_json_buf_str(json, full.ptr);
				bm_buf_printf(json, ",\"type\":\"%s\"}", is_dir ? "dir" : "file");
			} else {
				printf("%s%s\n", cli_esc(recursive ? full.ptr : name), recursive && is_dir ? "/" : "");
				(*n)++;
			}
		}
		if (!error && recursive && is_dir)
			error = ls_walk(cli, fs, full.ptr, recursive, json, n);
		bm_buf_dispose(&full);
	}
done:
	bm_strlist_dispose(&l);
	return error;
}

int cmd_ls(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'r', "recursive", 'r', 0 },
		{ 'a', "at", 0, 1 },
		CLI_OPT_END,
	};
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf json = BM_BUF_INIT, dir = BM_BUF_INIT;
	const char *at = NULL;
	size_t n = 0;
	cli_args a;
	int c, recursive = 0, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, ls_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'r': recursive = 1; break;
		case 'a': at = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos > 1)
		return cli_usage(ls_usage, "ls takes at most one PATH");
	bm_buf_puts(&dir, a.npos == 1 ? a.pos[0] : "");
	while (dir.size && dir.ptr[dir.size - 1] == '/')
		dir.ptr[--dir.size] = '\0';
	if (cli_open_fs(&s, &fs, cli, at) < 0) {
		rc = cli_fail(cli, "ls");
		goto done;
	}
	if (dir.size && bm_fs_exists(fs, dir.ptr) == 1) {
		/* a file: list just it, as ls does */
		if (cli->json) {
			bm_buf_puts(&json, "[{\"path\":");
			cli_json_buf_str(&json, dir.ptr);
			bm_buf_puts(&json, ",\"type\":\"file\"}]");
			cli_put(&json);
		} else {
			printf("%s\n", cli_esc(dir.ptr));
		}
		rc = BM_EXIT_OK;
		goto done;
	}
	if (cli->json)
		bm_buf_putc(&json, '[');
	if (ls_walk(cli, fs, dir.ptr, recursive, &json, &n) < 0) {
		rc = cli_fail(cli, "ls");
		goto done;
	}
	if (cli->json) {
		bm_buf_putc(&json, ']');
		cli_put(&json);
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&json);
	bm_buf_dispose(&dir);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
