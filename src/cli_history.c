/* cli_history.c: see cli_history.h. */
#include <stdarg.h>
#include <stdio.h>

#include "cli_history.h"

int cli_history_bad(cli_history *h, const char *path)
{
	bm_buf line = BM_BUF_INIT;
	int rc;
	h->bad = 1;
	if (!h->cli->json) {
		cli_fail(h->cli, h->what);
		return 0;
	}
	if ((rc = cli_json_error_item(&line, 0, path)) == 0)
		rc = bm_strlist_add(&h->lines, line.ptr);
	bm_buf_dispose(&line);
	return rc;
}

int cli_history_add(cli_history *h, const void *record, const char *fmt, ...)
{
	bm_buf line = BM_BUF_INIT;
	int rc;
	if (h->cli->json) {
		rc = cli_record_json(&line, record, 0);
	} else {
		va_list ap;
		va_start(ap, fmt);
		rc = bm_buf_vprintf(&line, fmt, ap);
		va_end(ap);
	}
	if (!rc)
		rc = bm_strlist_add(&h->lines, line.ptr ? line.ptr : "");
	bm_buf_dispose(&line);
	return rc;
}

int cli_history_print(const cli_history *h, size_t limit, const char *header)
{
	size_t i, shown = 0;
	if (h->cli->json)
		fputc('[', stdout);
	else
		printf("%s\n", header);
	for (i = h->lines.count; i-- > 0 && (!limit || shown < limit); shown++)
		if (h->cli->json)
			printf("%s%s", shown ? "," : "", h->lines.items[i]);
		else
			printf("%s\n", h->lines.items[i]);
	if (h->cli->json)
		fputs("]\n", stdout);
	return h->bad ? BM_EXIT_FAIL : BM_EXIT_OK;
}

void cli_history_dispose(cli_history *h)
{
	bm_strlist_dispose(&h->lines);
}
