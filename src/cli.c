/* cli.c: helpers every command shares: opening the store, errors, usage, progress,
 * time formatting. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_open(bm_store **out, bm_cli *cli)
{
	return bm_store_open(out, cli->repo);
}

void cli_json_str(FILE *f, const char *s)
{
	bm_buf b = BM_BUF_INIT;
	if (bm_json_escape(&b, s ? s : "") == 0)
		fwrite(b.ptr, 1, b.size, f);
	else
		fputs("\"\"", f);
	bm_buf_dispose(&b);
}

int cli_fail(bm_cli *cli, const char *what)
{
	const char *msg = bm_error_last();
	if (!msg || !*msg)
		msg = "unknown error";
	if (cli && cli->json) {
		fputs("{\"error\":", stderr);
		cli_json_str(stderr, msg);
		fprintf(stderr, ",\"code\":\"%s\"}\n", bm_error_name(bm_error_last_code()));
	} else if (what && *what) {
		fprintf(stderr, "bootmeta: %s: %s\n", what, msg);
	} else {
		fprintf(stderr, "bootmeta: %s\n", msg);
	}
	return BM_EXIT_FAIL;
}

int cli_error(bm_cli *cli, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli && cli->json) {
		fputs("{\"error\":", stderr);
		cli_json_str(stderr, msg);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "bootmeta: %s\n", msg);
	}
	return BM_EXIT_FAIL;
}

int cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	if (fmt) {
		fputs("bootmeta: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fputs(usage, stderr);
	return BM_EXIT_USAGE;
}

void cli_progress(bm_cli *cli, const char *fmt, ...)
{
	va_list ap;
	if (cli->quiet || cli->json)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_wants_help(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

void cli_time_fmt(char *out, size_t outlen, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
