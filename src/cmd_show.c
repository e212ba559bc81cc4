/* cmd_show.c: `bootmeta show PATH[@COMMIT]...` (any record decoded to JSON by its path's
 * type) and `bootmeta ls [PATH]`. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char show_usage[] =
	"usage: bootmeta show PATH[@COMMIT]...\n\n"
	"Decode record files of the meta repo to JSON, each by the type its path says (a release\n"
	"under projects/*/releases/, a binary under binaries/ ...), at the tip or at COMMIT.\n"
	"Text files are printed as they are. A file that does not decode is reported and the\n"
	"others are still shown (exit 1 at the end).\n";
static const char ls_usage[] =
	"usage: bootmeta ls [PATH] [-r] [--at COMMIT]\n\n"
	"List a folder of the meta repo (default: the top); sub-folders end with '/'. -r lists\n"
	"every file below PATH.\n";

static int show_one(bm_cli *cli, bm_store *s, const char *spec)
{
	bm_buf path = BM_BUF_INIT, data = BM_BUF_INIT, out = BM_BUF_INIT;
	const char *at = strrchr(spec, '@');
	bm_fs *fs = NULL;
	bm_oid commit;
	int error = 0, kind;

	if ((error = bm_buf_put(&path, spec, at ? (size_t)(at - spec) : strlen(spec))) < 0)
		goto done;
	while (path.size && path.ptr[path.size - 1] == '/')
		path.ptr[--path.size] = '\0';
	if (at && (error = bm_store_resolve(&commit, s, at + 1)) < 0)
		goto done;
	if ((error = bm_store_fs(&fs, s, at ? &commit : NULL)) < 0)
		goto done;
	kind = path.size ? bm_fs_exists(fs, path.ptr) : 2;
	if (kind == 2) {
		error = bm_error_set(BM_EINVALID, "%s is a folder; list it with `bootmeta ls %s`", path.ptr, path.ptr);
		goto done;
	}
	if ((error = bm_fs_read(&data, fs, path.ptr)) < 0)
		goto done;
	{
		const ProtobufCMessageDescriptor *d = NULL;
		ProtobufCMessage *m = NULL;
		switch (bm_record_kind_for_path(path.ptr, &d)) {
		case BM_FILE_RECORD:
			if ((error = bm_record_decode(&m, d, data.ptr, data.size)) < 0) {
				error = bm_error_prefix(error, "%s", path.ptr);
				goto done;
			}
			error = cli_record_json(&out, m, !cli->json);
			bm_record_free(m);
			if (error < 0)
				goto done;
			cli_put(&out);
			goto done;
		case BM_FILE_TEXT:
			if (cli->json) {
				bm_buf_puts(&out, "{\"path\":");
				cli_json_buf_str(&out, path.ptr);
				bm_buf_puts(&out, ",\"text\":");
				cli_json_buf_str(&out, data.ptr);
				bm_buf_putc(&out, '}');
				cli_put(&out);
			} else {
				fwrite(data.ptr, 1, data.size, stdout);
				if (data.size && data.ptr[data.size - 1] != '\n')
					fputc('\n', stdout);
			}
			goto done;
		case BM_FILE_AGE:
			if (cli->json) {
				bm_buf_puts(&out, "{\"path\":");
				cli_json_buf_str(&out, path.ptr);
				bm_buf_printf(&out, ",\"kind\":\"age\",\"size\":\"%zu\"}", data.size);
				cli_put(&out);
			} else {
				printf("%s: age-encrypted secret, %zu bytes; read it with `bootmeta secret get`\n", path.ptr,
				       data.size);
			}
			goto done;
		default:
			error = bm_error_set(BM_EUNSUPPORTED, "%s is not a file bootmeta knows the type of; read it with "
							      "`git show main:%s`", path.ptr, path.ptr);
			goto done;
		}
	}
done:
	bm_buf_dispose(&out);
	bm_buf_dispose(&data);
	bm_buf_dispose(&path);
	bm_fs_free(fs);
	return error;
}

int cmd_show(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	int i, bad = 0;

	if (cli_wants_help(argc, argv)) {
		fputs(show_usage, stdout);
		return BM_EXIT_OK;
	}
	if (argc < 2)
		return cli_usage(show_usage, "show takes a PATH");
	if (cli_open(&s, cli) < 0)
		return cli_fail(cli, "show");
	for (i = 1; i < argc; i++) {
		if (show_one(cli, s, argv[i]) < 0) {
			cli_fail(cli, "show");
			bad = 1;
		}
	}
	bm_store_free(s);
	return bad ? BM_EXIT_FAIL : BM_EXIT_OK;
}

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
				printf("%s%s\n", recursive ? full.ptr : name, recursive && is_dir ? "/" : "");
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
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "at", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf json = BM_BUF_INIT, dir = BM_BUF_INIT;
	const char *at = NULL;
	size_t n = 0;
	int c, recursive = 0, rc = BM_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "hr", opts, NULL)) != -1) {
		switch (c) {
		case 'r': recursive = 1; break;
		case 'a': at = optarg; break;
		case 'h': fputs(ls_usage, stdout); return BM_EXIT_OK;
		default: return cli_usage(ls_usage, NULL);
		}
	}
	if (argc - optind > 1)
		return cli_usage(ls_usage, "ls takes at most one PATH");
	bm_buf_puts(&dir, argc - optind == 1 ? argv[optind] : "");
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
			printf("%s\n", dir.ptr);
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
