/* cli_net.c: transfer options and progress for the commands that move artifacts. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_net.h"
#include "cli_env.h"

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

int cli_transfer_s3_secret(cli_transfer *t, bm_fs *fs, const char *project, const char *spec, const char *endpoint_flag)
{
	bm_buf env = BM_BUF_INIT, ident = BM_BUF_INIT, used = BM_BUF_INIT, def = BM_BUF_INIT;
	const char *slash = strrchr(spec, '/');
	char *p, *line, *eq;
	int error;

	if (!slash || slash == spec || !slash[1])
		return bm_error_set(BM_EINVALID, "--s3-secret %s: give ENV/NAME (a secret of the project in an env)", spec);
	if ((error = bm_buf_put(&env, spec, (size_t)(slash - spec))) < 0 ||
	    (error = bm_secret_identity_load(&ident, &used, cli_env_identity(t->cli, &def))) < 0)
		goto done;
	bm_buf_dispose_secret(&t->secret);
	if ((error = bm_secret_get(&t->secret, fs, project, env.ptr, slash + 1, ident.ptr, NULL)) < 0) {
		bm_error_prefix(error, "--s3-secret %s: ", spec);
		goto done;
	}
	for (p = t->secret.ptr; p && *p; p = line) {
		char *end = strchr(p, '\n');
		line = end ? end + 1 : NULL;
		if (end)
			*end = '\0';
		if (end > p && end[-1] == '\r')
			end[-1] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (!(eq = strchr(p, '='))) {
			error = bm_error_set(BM_EINVALID, "--s3-secret %s: a line is not KEY=VALUE", spec);
			goto done;
		}
		*eq++ = '\0';
		if (!strcmp(p, "AWS_ACCESS_KEY_ID"))
			t->o.access_key_id = eq;
		else if (!strcmp(p, "AWS_SECRET_ACCESS_KEY"))
			t->o.secret_access_key = eq;
		else if (!strcmp(p, "AWS_SESSION_TOKEN"))
			t->o.session_token = eq;
		else if (!strcmp(p, "AWS_REGION"))
			t->o.s3_region = eq;
		else if (!strcmp(p, "BOOTMETA_S3_ENDPOINT"))
			t->o.s3_endpoint = endpoint_flag ? endpoint_flag : eq;
		else {
			error = bm_error_set(BM_EINVALID, "--s3-secret %s: key %.64s is not one of AWS_ACCESS_KEY_ID, "
					     "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, BOOTMETA_S3_ENDPOINT", spec, p);
			goto done;
		}
	}
	error = 0;
done:
	bm_buf_dispose(&env);
	bm_buf_dispose_secret(&ident);
	bm_buf_dispose(&used);
	bm_buf_dispose(&def);
	return error;
}

void cli_transfer_dispose(cli_transfer *t)
{
	cli_transfer_end(t);
	bm_buf_dispose_secret(&t->secret);
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
