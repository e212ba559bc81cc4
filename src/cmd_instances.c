/* cmd_instances.c: `bootmeta instances ENV [--project P]`: who runs what, since when,
 * healthy or not (the newest report of every instance of an env). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: bootmeta instances ENV [--project PROJECT]\n\n"
	"The newest report of every instance of ENV (of PROJECT only, with --project): the\n"
	"release it runs or is moving to, its state (downloading, installed, healthy, failed,\n"
	"rolled-back), since when (the first report of that state and release), and the error it\n"
	"reported. Instances report with `bootmeta instance report` (or through serve); a report\n"
	"is written only when the state, release or error changes, so SINCE is not a heartbeat.\n"
	"An instance log that cannot be read is named on stderr (--json: an {\"path\",\"error\",\n"
	"\"code\"} item in its place), the others are listed, and the exit code is 1.\n";

#define NCOLS 6

/* The first line of an error text, for a table cell. */
static const char *first_line(char *buf, size_t size, const char *s)
{
	size_t n = strcspn(s, "\r\n");
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

int cmd_instances(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'p', "project", 0, 1 },
		CLI_OPT_END,
	};
	static const char *const head[NCOLS] = { "INSTANCE", "PROJECT", "RELEASE", "STATE", "SINCE", "ERROR" };
	bm_instance_status *l = NULL;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf out = BM_BUF_INIT;
	bm_strlist cells = BM_STRLIST_INIT;
	const char *project = NULL;
	size_t n = 0, i, j, width[NCOLS];
	cli_args a;
	int c, rc = BM_EXIT_FAIL, bad = 0;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'p': project = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(usage, "instances takes one ENV");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_instance_list(&l, &n, fs, a.pos[0], project) < 0) {
		rc = cli_fail(cli, "instances");
		goto done;
	}
	if (cli->json)
		bm_buf_putc(&out, '[');
	for (i = 0; i < NCOLS; i++)
		width[i] = strlen(head[i]);
	for (i = 0; i < n; i++) {
		const Bootmeta__V1__InstanceReport *r = l[i].report;
		char since[40], err[200];
		const char *row[NCOLS];
		if (!r) {
			bad = 1;
			bm_error_set(l[i].error, "%s", l[i].message ? l[i].message : "cannot be read");
			if (cli->json)
				cli_json_error_item(&out, out.size > 1, l[i].path);
			else
				cli_fail(cli, "instances");
			continue;
		}
		if (cli->json) {
			if (out.size > 1)
				bm_buf_putc(&out, ',');
			if (cli_record_json(&out, r, 0) < 0) {
				rc = cli_fail(cli, "instances");
				goto done;
			}
			continue;
		}
		cli_time_fmt(since, sizeof(since), l[i].since_ms);
		row[0] = r->instance;
		row[1] = r->project;
		row[2] = r->release;
		row[3] = r->state;
		row[4] = since;
		row[5] = first_line(err, sizeof(err), r->error);
		for (j = 0; j < NCOLS; j++) {
			const char *cell = cli_esc(row[j]);
			if (bm_strlist_add(&cells, cell) < 0) {
				rc = cli_error(cli, BM_ENOMEM, "out of memory");
				goto done;
			}
			if (strlen(cell) > width[j])
				width[j] = strlen(cell);
		}
	}
	if (cli->json) {
		bm_buf_putc(&out, ']');
		cli_put(&out);
	} else if (cells.count) {
		for (j = 0; j + 1 < NCOLS; j++)
			printf("%-*s  ", (int)width[j], head[j]);
		printf("%s\n", head[NCOLS - 1]);
		for (i = 0; i < cells.count; i++) {
			j = i % NCOLS;
			if (j + 1 < NCOLS)
				printf("%-*s  ", (int)width[j], cells.items[i]);
			else
				printf("%s\n", cells.items[i]);
		}
	} else if (!bad) {
		printf("no instance of %s%s%s has reported yet (`bootmeta instance report`)\n", cli_esc(a.pos[0]),
		       project ? " runs " : "", project ? cli_esc(project) : "");
	}
	rc = bad ? BM_EXIT_FAIL : BM_EXIT_OK;
done:
	bm_strlist_dispose(&cells);
	bm_buf_dispose(&out);
	bm_instance_list_free(l, n);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
