/* cli.c: helpers every command shares: opening the store, errors, usage, progress,
 * time formatting. */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_env.h"
#include "cli_hint.h"

/* The remote the last write of this process went to (said once, when the command ends). */
static char *cli_pushed_url;

static void cli_note_push(const char *url, const bm_oid *commit, void *payload)
{
	(void)commit;
	(void)payload;
	if (!cli_pushed_url && url)
		cli_pushed_url = strdup(url);
}

int cli_open(bm_store **out, bm_cli *cli)
{
	bm_store_open_options o;
	bm_buf cache = BM_BUF_INIT;
	int error;
	*out = NULL;
	if (!(cli->flags & CLI_STORE))
		return bm_error_set(BM_ERROR, "internal error: %s opens the meta repo but its command table entry "
				    "lacks CLI_STORE", cli->group ? cli->group : "this command");
	cli_env_store_options(&o, &cache, cli);
	error = bm_store_open_ext(out, cli->repo, &o);
	bm_buf_dispose(&cache);
	if (!error)
		bm_store_on_push(*out, cli_note_push, NULL);
	return error;
}

const char *cli_pushed_to(void)
{
	return cli_pushed_url;
}

void cli_say_pushed(bm_cli *cli)
{
	if (!cli_pushed_url || cli->quiet)
		return;
	if (cli->json) {
		fputs("{\"pushedTo\":", stderr);
		cli_json_str(stderr, cli_pushed_url);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "bootmeta: pushed to origin (%s)\n", cli_pushed_url);
	}
	free(cli_pushed_url);
	cli_pushed_url = NULL;
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
	const char *msg = cli_error_text();
	if (!msg || !*msg)
		msg = "unknown error";
	if (cli && cli->json) {
		fputs("{\"error\":", stderr);
		cli_json_str(stderr, msg);
		fprintf(stderr, ",\"code\":\"%s\"}\n", bm_error_name(bm_error_last_code()));
	} else if (what && *what) {
		fprintf(stderr, "bootmeta: %s: %s\n", what, cli_esc(msg));
	} else {
		fprintf(stderr, "bootmeta: %s\n", cli_esc(msg));
	}
	return BM_EXIT_FAIL;
}

int cli_error(bm_cli *cli, int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli && cli->json) {
		fputs("{\"error\":", stderr);
		cli_json_str(stderr, msg);
		fprintf(stderr, ",\"code\":\"%s\"}\n", bm_error_name(code));
	} else {
		fprintf(stderr, "bootmeta: %s\n", cli_esc(msg));
	}
	return BM_EXIT_FAIL;
}

int cli_run_sub(bm_cli *cli, const cli_command *subs, size_t n, const char *usage, int argc, char **argv)
{
	static const cli_opt none[] = { CLI_OPT_END };
	cli_args a;
	const char *name;
	size_t i;
	int rc;

	cli_args_init(&a, cli, argc, argv, none, usage);
	a.flags = CLI_ARGS_STOP;
	if ((rc = cli_args_next(&a)) < 0)
		return CLI_ARGS_EXIT(rc);
	if (a.i >= argc)
		return cli_usage(usage, "%s needs a subcommand", argv[0]);
	name = argv[a.i];
	if (!strcmp(name, "help")) {
		fputs(usage, stdout);
		return BM_EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(name, subs[i].name) && (!subs[i].alias || strcmp(name, subs[i].alias)))
			continue;
		cli->flags |= subs[i].flags;
		return subs[i].fn(cli, argc - a.i, argv + a.i);
	}
	return cli_usage(usage, "unknown %s command '%s'", argv[0], name);
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
	char line[2048], *p, *nl;
	if (cli->quiet || cli->json)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* a progress line names files and records: each of its lines is shown escaped */
	for (p = line; p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		fprintf(stderr, "%s\n", cli_esc(p));
	}
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

int cli_json_buf_str(bm_buf *b, const char *s)
{
	return bm_json_escape(b, s ? s : "");
}

int cli_open_fs(bm_store **store, bm_fs **fs, bm_cli *cli, const char *rev)
{
	bm_oid at;
	int error;
	*fs = NULL;
	if ((error = cli_open(store, cli)) < 0)
		return error;
	if (rev && (error = bm_store_resolve(&at, *store, rev)) < 0)
		return error;
	return bm_store_fs(fs, *store, rev ? &at : NULL);
}

void cli_write_options(bm_write_options *w, bm_cli *cli)
{
	bm_write_options init = BM_WRITE_OPTIONS_INIT;
	assert(cli->flags & CLI_WRITES); /* the command table says which commands write */
	*w = init;
	w->actor = cli->actor;
}

int cli_record_json(bm_buf *out, const void *record, int pretty)
{
	bm_pbjson_options o = BM_PBJSON_OPTIONS_INIT;
	o.pretty = pretty;
	return bm_pbjson_write(out, (const ProtobufCMessage *)record, &o);
}

int cli_record_json_at(bm_buf *out, const void *record, const bm_oid *commit)
{
	char hex[BM_OID_HEXSZ + 1];
	size_t start = out->size;
	int error;
	if ((error = cli_record_json(out, record, 0)) < 0 || !commit)
		return error;
	bm_oid_fmt(hex, commit);
	/* "{...}" -> "{...,"metaCommit":"hex"}" (and "pushedTo":URL after a write that went to
	 * the remote) */
	out->size--;
	if ((error = bm_buf_printf(out, "%s\"metaCommit\":\"%s\"", out->size - start > 1 ? "," : "", hex)) < 0)
		return error;
	if (cli_pushed_url && ((error = bm_buf_puts(out, ",\"pushedTo\":")) < 0 ||
			       (error = cli_json_buf_str(out, cli_pushed_url)) < 0))
		return error;
	return bm_buf_putc(out, '}');
}

int cli_write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void cli_put(bm_buf *b)
{
	fwrite(b->ptr ? b->ptr : "", 1, b->size, stdout);
	fputc('\n', stdout);
}

int cli_parse_count(size_t *out, const char *s)
{
	char *end;
	unsigned long long v;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > 1000000000ull)
		return -1;
	*out = (size_t)v;
	return 0;
}

int cli_take_limit(size_t *out, cli_args *a)
{
	if (a->value && !strcmp(a->value, "0")) {
		*out = 0;
		return BM_EXIT_OK;
	}
	if (cli_parse_count(out, a->value) < 0)
		return cli_args_fail(a, "%s takes a positive count (or 0 for all), not '%s'", a->spelled,
				     a->value ? a->value : "");
	return BM_EXIT_OK;
}

const char *cli_short(char buf[BM_OID_HEXSZ + 1], const bm_oid *oid)
{
	bm_oid_fmt(buf, oid);
	buf[12] = '\0';
	return buf;
}

const char *cli_esc(const char *s)
{
	static bm_buf ring[16];
	static unsigned int next;
	bm_buf *b;
	if (!s)
		return "";
	b = &ring[next++ % 16];
	bm_buf_clear(b);
	if (bm_text_escape(b, s, strlen(s), 0) < 0 || !b->ptr)
		return "?";
	return b->ptr;
}

int cli_json_error_item(bm_buf *out, int comma, const char *path)
{
	char msg[1024];
	int code = bm_error_last_code(), error;
	snprintf(msg, sizeof(msg), "%s", cli_error_text()); /* with the hint, as the text output */
	if ((error = comma ? bm_buf_putc(out, ',') : 0) < 0 || (error = bm_buf_puts(out, "{\"path\":")) < 0 ||
	    (error = cli_json_buf_str(out, path ? path : "")) < 0 || (error = bm_buf_puts(out, ",\"error\":")) < 0 ||
	    (error = cli_json_buf_str(out, msg)) < 0)
		return error;
	return bm_buf_printf(out, ",\"code\":\"%s\"}", bm_error_name(code));
}

/* ---- temporary files removed when a signal ends the process ---- */

#define CLI_TMP_MAX 4
static const char *volatile cli_tmp[CLI_TMP_MAX];
static const int cli_tmp_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT };

static void cli_tmp_on_signal(int sig)
{
	size_t i;
	for (i = 0; i < CLI_TMP_MAX; i++)
		if (cli_tmp[i])
			unlink(cli_tmp[i]);
	/* the handler was reset to the default: re-raised, the signal ends the process once
	 * this returns, with the status the caller expects */
	raise(sig);
}

void cli_tmp_add(const char *path)
{
	static int installed;
	size_t i;
	if (!installed) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = cli_tmp_on_signal;
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < sizeof(cli_tmp_signals) / sizeof(cli_tmp_signals[0]); i++) {
			/* a signal the caller ignores (SIGINT in a background job) stays ignored */
			if (sigaction(cli_tmp_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
				continue;
			sigaction(cli_tmp_signals[i], &sa, NULL);
		}
		installed = 1;
	}
	for (i = 0; i < CLI_TMP_MAX; i++) {
		if (!cli_tmp[i]) {
			cli_tmp[i] = path;
			return;
		}
	}
}

void cli_tmp_forget(const char *path)
{
	size_t i;
	for (i = 0; i < CLI_TMP_MAX; i++)
		if (cli_tmp[i] == path)
			cli_tmp[i] = NULL;
}
