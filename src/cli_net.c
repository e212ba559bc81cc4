/* cli_net.c: transfer options and progress for the commands that move artifacts. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_net.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int on_progress(void *payload, const char *url, uint64_t done, uint64_t total)
{
	cli_transfer *t = payload;
	uint64_t now = mono_ms();
	if (now - t->last_ms < 100 && !(total && done == total))
		return 0;
	t->last_ms = now;
	if (total)
		fprintf(stderr, "\r\033[Kbootmeta: %s %s: %.1f of %.1f MiB (%u%%)", t->what, cli_esc(url), done / 1048576.0,
			total / 1048576.0, (unsigned)(done * 100 / total));
	else
		fprintf(stderr, "\r\033[Kbootmeta: %s %s: %.1f MiB", t->what, cli_esc(url), done / 1048576.0);
	t->shown = 1;
	return 0;
}

void cli_transfer_init(cli_transfer *t, bm_cli *cli, const char *what, const char *s3_endpoint, unsigned int deadline_ms,
		       unsigned int retries)
{
	bm_transfer_options o = BM_TRANSFER_OPTIONS_INIT;
	memset(t, 0, sizeof(*t));
	t->cli = cli;
	t->what = what;
	o.s3_endpoint = s3_endpoint ? s3_endpoint : env("BOOTMETA_S3_ENDPOINT");
	o.s3_region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	o.access_key_id = env("AWS_ACCESS_KEY_ID");
	o.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
	o.session_token = env("AWS_SESSION_TOKEN");
	o.ca_file = env("SSL_CERT_FILE");
	o.ca_dir = env("SSL_CERT_DIR");
	o.deadline_ms = deadline_ms;
	o.retries = retries;
	t->tty = !cli->quiet && !cli->json && isatty(2);
	if (t->tty) {
		o.progress = on_progress;
		o.progress_payload = t;
	}
	t->o = o;
}

void cli_transfer_end(cli_transfer *t)
{
	if (t->shown)
		fputs("\r\033[K", stderr);
	t->shown = 0;
}

int cli_duration_ms(unsigned int *out, const char *s)
{
	char *end;
	double v, mul = 1000;
	if (!s || !*s)
		return -1;
	v = strtod(s, &end);
	if (end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "s") || !*end)
		mul = 1000;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else
		return -1;
	v *= mul;
	if (v < 1 || v > 7 * 86400000.0)
		return -1;
	*out = (unsigned int)v;
	return 0;
}
