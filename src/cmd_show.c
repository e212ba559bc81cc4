/* cmd_show.c: `bootmeta show PATH[@COMMIT]...`: any record decoded to JSON by its path's
 * type. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char show_usage[] =
	"usage: bootmeta show PATH[@COMMIT]...\n\n"
	"Decode record files of the meta repo to JSON, each by the type its path says (a release\n"
	"under projects/*/releases/, a binary under binaries/ ...), at the tip or at COMMIT.\n"
	"Text files are printed as they are. A file that does not decode is reported and the\n"
	"others are still shown (exit 1 at the end). With --json and several PATHs the output is\n"
	"one JSON array, in the order given, a file that does not decode being\n"
	"{\"path\",\"error\",\"code\"} in its place.\n";

/* With `all` (--json and more than one PATH), the document is appended to it (an array
 * element) instead of printed. */
static void emit(bm_buf *all, bm_buf *out)
{
	if (!all) {
		cli_put(out);
		return;
	}
	if (all->size > 1)
		bm_buf_putc(all, ',');
	bm_buf_put(all, out->ptr, out->size);
}

static int show_one(bm_cli *cli, bm_store *s, const char *spec, bm_buf *all)
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
			emit(all, &out);
			goto done;
		case BM_FILE_TEXT:
			if (cli->json) {
				bm_buf_puts(&out, "{\"path\":");
				cli_json_buf_str(&out, path.ptr);
				bm_buf_puts(&out, ",\"text\":");
				cli_json_buf_str(&out, data.ptr);
				bm_buf_putc(&out, '}');
				emit(all, &out);
			} else {
				/* line by line, each escaped: a text file planted by another tool
				 * cannot rewrite the screen */
				char *p = data.ptr, *nl;
				for (; p && *p; p = nl ? nl + 1 : NULL) {
					if ((nl = strchr(p, '\n')))
						*nl = '\0';
					printf("%s\n", cli_esc(p));
				}
			}
			goto done;
		case BM_FILE_AGE:
			if (cli->json) {
				bm_buf_puts(&out, "{\"path\":");
				cli_json_buf_str(&out, path.ptr);
				bm_buf_printf(&out, ",\"kind\":\"age\",\"size\":\"%zu\"}", data.size);
				emit(all, &out);
			} else {
				printf("%s: age-encrypted secret, %zu bytes; read it with `bootmeta secret get`\n", cli_esc(path.ptr),
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
	bm_buf all = BM_BUF_INIT;
	int i, bad = 0, rc;

	if (cli_operands(cli, &argc, argv, show_usage, &rc))
		return rc;
	if (argc < 2)
		return cli_usage(show_usage, "show takes a PATH");
	if (cli_open(&s, cli) < 0)
		return cli_fail(cli, "show");
	/* several PATHs with --json: one document, an array in the order given; a file that
	 * does not decode is an element {"path","error","code"} in its place */
	if (cli->json && argc > 2)
		bm_buf_putc(&all, '[');
	for (i = 1; i < argc; i++) {
		if (show_one(cli, s, argv[i], all.ptr ? &all : NULL) < 0) {
			bad = 1;
			if (all.ptr)
				cli_json_error_item(&all, all.size > 1, argv[i]);
			else
				cli_fail(cli, "show");
		}
	}
	if (all.ptr) {
		bm_buf_putc(&all, ']');
		cli_put(&all);
		bm_buf_dispose(&all);
	}
	bm_store_free(s);
	return bad ? BM_EXIT_FAIL : BM_EXIT_OK;
}
