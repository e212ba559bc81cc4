/* cmd_serve_token.c: `bootmeta serve token add|rm|list`: the bearer tokens `bootmeta serve
 * --tokens FILE` takes (the file and the scopes: src/serve_token.h, bootmeta-serve(1) TOKENS).
 * add prints the new token once and stores only its sha256; every change rewrites FILE
 * atomically (mode 0600) under FILE.lock, so two runs at once never lose a line. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "cli.h"
#include "serve_token.h"

#define USAGE(prog)                                                                                             \
	"usage: " prog " add NAME --scope VERB:PATTERN [--scope VERB:PATTERN]... --tokens FILE\n"               \
	"       " prog " rm NAME --tokens FILE\n"                                                                \
	"       " prog " list --tokens FILE [--json]\n\n"                                                        \
	"Bearer tokens for the writes of `bootmeta serve --tokens FILE`. add makes a random token, prints\n"     \
	"it once on stdout and stores only its sha256 in FILE with its scopes; rm revokes a token (serve\n"     \
	"reads FILE again on its next request, no restart); list shows names and scopes.\n\n"                   \
	"A scope is VERB:PATTERN: promote, release, binary, log with a project pattern (promote:acme/*);\n"     \
	"config and flag with PROJECT[@ENV] (config:acme/*@prod); report with an env (report:prod);\n"         \
	"hook with a prefix; *:* for every write. In a pattern * matches anything, '/' included.\n"
static const char usage_serve[] = USAGE("bootmeta serve token");
/* until `bootmeta serve` dispatches here, the command is `bootmeta serve-token` (main.c) */
static const char usage_dash[] = USAGE("bootmeta serve-token");
static const char *usage = usage_serve;

enum { OPT_SCOPE = 256, OPT_TOKENS };
static const cli_opt opts[] = {
	{ OPT_SCOPE, "scope", 0, 1 },
	{ OPT_TOKENS, "tokens", 0, 1 },
	CLI_OPT_END,
};

typedef struct {
	bm_strlist scopes;
	const char *file;
	char **pos;
	int npos;
} topts;

static int parse(topts *o, bm_cli *cli, int argc, char **argv, int takes_scope)
{
	cli_args a;
	int c;
	memset(o, 0, sizeof(*o));
	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_SCOPE:
			if (!takes_scope)
				return cli_args_fail(&a, "--scope goes with add only");
			bm_strlist_add(&o->scopes, a.value);
			break;
		case OPT_TOKENS: o->file = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (!o->file)
		return cli_usage(usage, "%s needs --tokens FILE (the file `bootmeta serve --tokens FILE` reads)", argv[0]);
	o->pos = a.pos;
	o->npos = a.npos;
	return -1;
}

/* Take FILE.lock (flock: released when this process ends, also killed), waiting up to 10 s. */
static int lock_file(int *fd, bm_cli *cli, const char *file)
{
	bm_buf path = BM_BUF_INIT;
	int i, rc = 0;

	bm_buf_printf(&path, "%s.lock", file);
	*fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		rc = cli_error(cli, BM_EIO, "cannot open %s: %s", path.ptr, strerror(errno));
		goto done;
	}
	for (i = 0; i < 100; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
			goto done;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&ts, NULL);
	}
	rc = cli_error(cli, BM_EIO, "cannot lock %s: %s", path.ptr,
		       errno == EWOULDBLOCK ? "another `serve token` holds it (waited 10 s)" : strerror(errno));
	close(*fd);
	*fd = -1;
done:
	bm_buf_dispose(&path);
	return rc;
}

/* The text of FILE (empty when it does not exist and `may_be_missing`), refusing a file
 * others may write, as serve does. */
static int read_file(bm_buf *text, int *exists, bm_cli *cli, const char *file, int may_be_missing)
{
	struct stat st;
	*exists = 0;
	if (stat(file, &st) < 0) {
		if (errno == ENOENT && may_be_missing)
			return 0;
		return cli_error(cli, errno == ENOENT ? BM_ENOTFOUND : BM_EIO, "token file %s: %s", file, strerror(errno));
	}
	if (st.st_mode & 022)
		return cli_error(cli, BM_EPERM, "token file %s may be written by group or others (mode %04o); chmod 600 it",
				 file, (unsigned)(st.st_mode & 07777));
	if (bm_file_read(text, file, SERVE_TOKEN_FILE_MAX + 1) < 0)
		return cli_fail(cli, "serve token");
	*exists = 1;
	return 0;
}

static int write_file(bm_cli *cli, const char *file, const bm_buf *text)
{
	serve_token_list check = SERVE_TOKEN_LIST_INIT;
	bm_buf err = BM_BUF_INIT;
	int rc = 0;
	/* what is written must load as serve will load it */
	if (serve_token_file_parse(&check, text->ptr ? text->ptr : "", text->size, file, &err) < 0)
		rc = cli_error(cli, BM_EINVALID, "%s", err.ptr);
	else if (bm_file_write_atomic(file, text->ptr ? text->ptr : "", text->size, 0600) < 0)
		rc = cli_fail(cli, "serve token");
	serve_token_list_dispose(&check);
	bm_buf_dispose(&err);
	return rc;
}

static int token_add(bm_cli *cli, int argc, char **argv)
{
	topts o;
	serve_token_list list = SERVE_TOKEN_LIST_INIT;
	bm_buf text = BM_BUF_INIT, line = BM_BUF_INIT, err = BM_BUF_INIT, out = BM_BUF_INIT;
	char token[SERVE_TOKEN_LEN + 1], hex[65];
	unsigned char hash[32];
	size_t i;
	int rc, lockfd = -1, exists;

	if ((rc = parse(&o, cli, argc, argv, 1)) >= 0)
		goto done;
	if (o.npos != 1) {
		rc = cli_usage(usage, "add takes one NAME");
		goto done;
	}
	if (!o.scopes.count) {
		rc = cli_usage(usage, "add needs at least one --scope VERB:PATTERN (e.g. --scope promote:acme/*)");
		goto done;
	}
	/* check name and scopes before touching anything */
	memset(hash, 0, sizeof(hash));
	if (serve_token_line(&line, o.pos[0], hash, (const char *const *)o.scopes.items, o.scopes.count, &err) < 0) {
		rc = cli_error(cli, BM_EINVALID, "%s", err.ptr);
		goto done;
	}
	if ((rc = lock_file(&lockfd, cli, o.file)) || (rc = read_file(&text, &exists, cli, o.file, 1)))
		goto done;
	if (exists && serve_token_file_parse(&list, text.ptr ? text.ptr : "", text.size, o.file, &err) < 0) {
		rc = cli_error(cli, BM_EINVALID, "%s", err.ptr);
		goto done;
	}
	for (i = 0; i < list.count; i++)
		if (!strcmp(list.items[i].name, o.pos[0])) {
			rc = cli_error(cli, BM_EEXISTS, "token %s is in %s already; `%s rm %s` first to replace it", o.pos[0],
				       o.file, usage == usage_dash ? "bootmeta serve-token" : "bootmeta serve token", o.pos[0]);
			goto done;
		}
	if (serve_token_generate(token, hash) < 0) {
		rc = cli_error(cli, BM_ERROR, "could not make a random token");
		goto done;
	}
	if (!exists)
		bm_buf_puts(&text, SERVE_TOKEN_FILE_HEADER);
	else if (text.size && text.ptr[text.size - 1] != '\n')
		bm_buf_putc(&text, '\n');
	bm_buf_clear(&line);
	if (serve_token_line(&line, o.pos[0], hash, (const char *const *)o.scopes.items, o.scopes.count, &err) < 0 ||
	    bm_buf_put(&text, line.ptr, line.size) < 0) {
		rc = cli_error(cli, BM_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = write_file(cli, o.file, &text)))
		goto done;
	bm_hex_encode(hex, hash, 32);
	if (cli->json) {
		bm_buf_puts(&out, "{\"name\":");
		cli_json_buf_str(&out, o.pos[0]);
		bm_buf_printf(&out, ",\"token\":\"%s\",\"sha256\":\"%s\",\"scopes\":[", token, hex);
		for (i = 0; i < o.scopes.count; i++) {
			if (i)
				bm_buf_putc(&out, ',');
			cli_json_buf_str(&out, o.scopes.items[i]);
		}
		bm_buf_puts(&out, "]}");
		cli_put(&out);
	} else {
		printf("%s\n", token);
	}
	cli_progress(cli, "token %s added to %s; it is shown only now: keep it in a secret store", o.pos[0], o.file);
	rc = BM_EXIT_OK;
done:
	sodium_memzero(token, sizeof(token));
	if (lockfd >= 0)
		close(lockfd);
	serve_token_list_dispose(&list);
	bm_strlist_dispose(&o.scopes);
	bm_buf_dispose(&text);
	bm_buf_dispose(&line);
	bm_buf_dispose(&err);
	bm_buf_dispose(&out);
	return rc;
}

static int token_rm(bm_cli *cli, int argc, char **argv)
{
	topts o;
	bm_buf text = BM_BUF_INIT, rest = BM_BUF_INIT;
	int rc, lockfd = -1, exists;

	if ((rc = parse(&o, cli, argc, argv, 0)) >= 0)
		goto done;
	if (o.npos != 1) {
		rc = cli_usage(usage, "rm takes one NAME");
		goto done;
	}
	if ((rc = lock_file(&lockfd, cli, o.file)) || (rc = read_file(&text, &exists, cli, o.file, 0)))
		goto done;
	if ((rc = serve_token_file_without(&rest, text.ptr ? text.ptr : "", text.size, o.pos[0])) < 0) {
		rc = rc == BM_ENOTFOUND ? cli_error(cli, BM_ENOTFOUND, "no token %s in %s", cli_esc(o.pos[0]), o.file)
					: cli_error(cli, rc, "out of memory");
		goto done;
	}
	if ((rc = write_file(cli, o.file, &rest)))
		goto done;
	cli_progress(cli, "token %s removed from %s: serve refuses it from its next request", o.pos[0], o.file);
	rc = BM_EXIT_OK;
done:
	if (lockfd >= 0)
		close(lockfd);
	bm_strlist_dispose(&o.scopes);
	bm_buf_dispose(&text);
	bm_buf_dispose(&rest);
	return rc;
}

static int token_list(bm_cli *cli, int argc, char **argv)
{
	topts o;
	serve_token_list list = SERVE_TOKEN_LIST_INIT;
	bm_buf text = BM_BUF_INIT, err = BM_BUF_INIT, out = BM_BUF_INIT;
	char hex[65];
	size_t i, j;
	int rc, exists;

	if ((rc = parse(&o, cli, argc, argv, 0)) >= 0)
		goto done;
	if (o.npos != 0) {
		rc = cli_usage(usage, "list takes no NAME");
		goto done;
	}
	if ((rc = read_file(&text, &exists, cli, o.file, 0)))
		goto done;
	if (serve_token_file_parse(&list, text.ptr ? text.ptr : "", text.size, o.file, &err) < 0) {
		rc = cli_error(cli, BM_EINVALID, "%s", err.ptr);
		goto done;
	}
	if (cli->json) {
		bm_buf_putc(&out, '[');
		for (i = 0; i < list.count; i++) {
			bm_hex_encode(hex, list.items[i].hash, 32);
			bm_buf_puts(&out, i ? ",{\"name\":" : "{\"name\":");
			cli_json_buf_str(&out, list.items[i].name);
			bm_buf_printf(&out, ",\"sha256\":\"%s\",\"scopes\":[", hex);
			for (j = 0; j < list.items[i].scopes.count; j++) {
				if (j)
					bm_buf_putc(&out, ',');
				cli_json_buf_str(&out, list.items[i].scopes.items[j]);
			}
			bm_buf_puts(&out, "]}");
		}
		bm_buf_putc(&out, ']');
		cli_put(&out);
	} else if (!list.count) {
		printf("no tokens in %s; add one with `bootmeta serve token add NAME --scope VERB:PATTERN --tokens %s`\n",
		       cli_esc(o.file), cli_esc(o.file));
	} else {
		printf("%-24s %s\n", "TOKEN", "SCOPES");
		for (i = 0; i < list.count; i++) {
			printf("%-24s", list.items[i].name);
			for (j = 0; j < list.items[i].scopes.count; j++)
				printf(" %s", list.items[i].scopes.items[j]);
			putchar('\n');
		}
	}
	rc = BM_EXIT_OK;
done:
	serve_token_list_dispose(&list);
	bm_strlist_dispose(&o.scopes);
	bm_buf_dispose(&text);
	bm_buf_dispose(&err);
	bm_buf_dispose(&out);
	return rc;
}

int cmd_serve_token(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "add", NULL, token_add, 0, NULL },
		{ "rm", "remove", token_rm, 0, NULL },
		{ "list", "ls", token_list, 0, NULL },
	};
	usage = strcmp(argv[0], "serve-token") ? usage_serve : usage_dash;
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
