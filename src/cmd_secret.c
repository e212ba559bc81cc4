/* cmd_secret.c: `bootmeta secret set|get|list|history|rm|rekey`: age-encrypted secrets per
 * environment. Plaintext comes from a file or stdin (never argv), lives in sodium_malloc'ed
 * memory while the command runs, and goes only to stdout or the -o file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>

#include "cli_cfg.h"
#include "cli_env.h"

static const char usage[] =
	"usage: bootmeta secret set PROJECT ENV NAME [FILE|-]\n"
	"       bootmeta secret get PROJECT ENV NAME [-o FILE] [--at REV]\n"
	"       bootmeta secret list PROJECT ENV [--at REV] [--removed]\n"
	"       bootmeta secret list --all ENV [--at REV]\n"
	"       bootmeta secret history PROJECT ENV NAME [--at REV]\n"
	"       bootmeta secret rm PROJECT ENV NAME\n"
	"       bootmeta secret rekey ENV [--stale]\n"
	"       (get, rekey: -i/--identity FILE)\n\n"
	"Secrets are age-encrypted files in the meta repo, at\n"
	"envs/ENV/secrets/PROJECT/NAME/<seq>.age (+ <seq>.pb: who, when, to whom). A secret of ENV\n"
	"is encrypted to ENV's recipients plus the repo admins (`bootmeta recipients`); a\n"
	"dev/USER env's secrets to that developer's recipients plus the admins.\n\n"
	"  set      read the value from FILE, or stdin when FILE is - or absent (from a terminal:\n"
	"           one hidden line). Stored byte for byte: `printf %s VALUE |` adds no newline.\n"
	"           The value is never taken from the command line.\n"
	"  get      decrypt the current value to stdout, or to FILE (created mode 0600); with\n"
	"           --require-signed, only when the commits that added it are signed by an\n"
	"           allowed signer (age itself does not say who encrypted a file)\n"
	"  list     names, sequence, who, when, recipients count; never a value\n"
	"  history  every version of one secret\n"
	"  rm       add a tombstone in a new commit. The old ciphertexts STAY in git history and\n"
	"           every past recipient can still decrypt them: a leaked value must be rotated\n"
	"           at its source, not just removed.\n"
	"  rekey    after `recipients add|rm`, re-encrypt every current secret of ENV to the\n"
	"           current recipients, in one commit (--stale: only those out of date). Needs an\n"
	"           identity that opens all of them. A removed recipient can still read what\n"
	"           history holds: rotate what it could read.\n\n"
	"The identity (age secret key) is --identity FILE, else $BOOTMETA_IDENTITY, else\n"
	"~/.config/bootmeta/identity (made by `bootmeta key gen --age`); it must not be readable\n"
	"by group or others. `--json` gives JSON on every read.\n";

/* ---- plaintext in locked, wiped memory ---- */

typedef struct {
	unsigned char *ptr; /* sodium_malloc'ed; sodium_free wipes it */
	size_t len, cap;
} secbuf;

static int secbuf_reserve(secbuf *b, size_t need)
{
	unsigned char *p;
	size_t cap = b->cap ? b->cap : 4096;
	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (!(p = sodium_malloc(cap)))
		return -1;
	if (b->len)
		memcpy(p, b->ptr, b->len);
	sodium_free(b->ptr);
	b->ptr = p;
	b->cap = cap;
	return 0;
}

static void secbuf_free(secbuf *b)
{
	sodium_free(b->ptr);
	memset(b, 0, sizeof(*b));
}

/* One line from the terminal with echo off. */
static int read_tty_line(secbuf *b, int fd)
{
	struct termios old, quiet;
	int restore = 0, rc = 0;
	unsigned char c;

	fputs("secret value (input hidden, ends at Enter): ", stderr);
	fflush(stderr);
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSANOW, &quiet) == 0; /* keep typed-ahead input */
	}
	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		if (b->len >= BM_SECRET_MAX_SIZE || secbuf_reserve(b, b->len + 1) < 0) {
			rc = -1;
			break;
		}
		b->ptr[b->len++] = c;
	}
	c = 0;
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
	return rc;
}

static int read_value(bm_cli *cli, secbuf *b, const char *file)
{
	int fd = 0, rc = 0;
	if (file && strcmp(file, "-")) {
		/* a stream is fine (--file <(pass show x)); the read below is bounded */
		if (bm_file_open_read(&fd, file, BM_FILE_STREAM) < 0)
			return cli_error(cli, bm_error_last_code(), "secret set: %s (the value is read from a FILE, a pipe or stdin, "
					 "never from the command line)", bm_error_last());
	} else if (isatty(0)) {
		if (read_tty_line(b, 0) < 0)
			return cli_error(cli, BM_ETOOBIG, "secret set: the value is over %d bytes", BM_SECRET_MAX_SIZE);
		return 0;
	}
	for (;;) {
		ssize_t n;
		if (secbuf_reserve(b, b->len + 4096) < 0) {
			rc = cli_error(cli, BM_ENOMEM, "secret set: out of (locked) memory");
			break;
		}
		n = read(fd, b->ptr + b->len, b->cap - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cli_error(cli, BM_EIO, "secret set: read %s: %s", file ? file : "stdin", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		if (b->len > BM_SECRET_MAX_SIZE) {
			rc = cli_error(cli, BM_ETOOBIG, "secret set: the value is over %d bytes; keep large files in an "
				       "artifact store and their key here", BM_SECRET_MAX_SIZE);
			break;
		}
	}
	if (fd > 0)
		close(fd);
	return rc;
}

/* ---- helpers ---- */

static int open_fs(bm_fs **fs, bm_store **s, bm_cli *cli, const char *at)
{
	bm_oid commit;
	if (cli_open(s, cli) < 0)
		return -1;
	if (at && bm_store_resolve(&commit, *s, at) < 0)
		return -1;
	return bm_store_fs(fs, *s, at ? &commit : NULL);
}

/* With --require-signed (or the repo's bootmeta.requireSigned): the commits that added the
 * current version's ciphertext and record must be signed by an allowed signer, checked
 * before anything is decrypted. age does not authenticate who encrypted a file; this does. */
static int verify_signed(bm_cli *cli, bm_store *s, bm_fs *fs, const char *project, const char *env,
			 const char *name)
{
	bm_secret_infos l = BM_SECRET_INFOS_INIT;
	size_t i;
	int error = 0;

	if (!cli->require_signed && !bm_store_require_signed(s))
		return 0;
	if (bm_secret_list(&l, fs, project, env, 0) < 0)
		return 0; /* bm_secret_get says what is wrong */
	for (i = 0; i < l.count && !error; i++) {
		char rec[1100];
		size_t n = strlen(l.items[i].path);
		if (strcmp(l.items[i].name, name))
			continue;
		snprintf(rec, sizeof(rec), "%.*s.pb", (int)(n - 4), l.items[i].path);
		if ((error = bm_store_verify_path(NULL, NULL, s, l.items[i].path, bm_fs_commit(fs), NULL)) == 0)
			error = bm_store_verify_path(NULL, NULL, s, rec, bm_fs_commit(fs), NULL);
		if (error < 0)
			bm_error_prefix(error, "--require-signed: %s", l.items[i].path);
	}
	bm_secret_infos_dispose(&l);
	return error;
}

static int load_identity(bm_buf *ident, bm_buf *used, bm_cli *cli)
{
	bm_buf def = BM_BUF_INIT;
	int error = bm_secret_identity_load(ident, used, cli_env_identity(cli, &def));
	bm_buf_dispose(&def);
	return error;
}

/* After "not a recipient": say which identity was used and its recipient, so the user can
 * hand it to someone who can add it. */
static void hint_identity(bm_cli *cli, const char *identities, const char *path)
{
	bm_buf r = BM_BUF_INIT;

	if (cli->json)
		return;
	if (bm_secret_identity_recipient(&r, identities) == 0)
		fprintf(stderr, "bootmeta: your identity %s is recipient %s\n", path, r.ptr);
	bm_buf_dispose(&r);
}

static void write_opts(bm_write_options *o, bm_cli *cli)
{
	cli_write_options(o, cli);
}

static const char *op_str(bm_secret_op op)
{
	switch (op) {
	case BM_SECRET_SET: return "set";
	case BM_SECRET_REMOVE: return "rm";
	case BM_SECRET_REKEY: return "rekey";
	}
	return "?";
}

static void json_info(const bm_secret_info *s, const char *env)
{
	char when[32];
	cli_time_fmt(when, sizeof(when), s->time_ms);
	printf("{\"project\":");
	cli_json_str(stdout, s->project);
	printf(",\"env\":");
	cli_json_str(stdout, env);
	printf(",\"name\":");
	cli_json_str(stdout, s->name);
	printf(",\"seq\":\"%llu\",\"op\":\"%s\",\"time\":\"%s\",\"timeMs\":\"%lld\",\"actor\":", (unsigned long long)s->seq,
	       op_str(s->op), when, (long long)s->time_ms);
	cli_json_str(stdout, s->actor);
	printf(",\"recipients\":%zu,\"stale\":%s,\"path\":", s->nrecipients, s->stale ? "true" : "false");
	cli_json_str(stdout, s->path);
	putchar('}');
}

/* ---- subcommands ---- */

enum { OPT_AT = 256, OPT_ALL, OPT_REMOVED, OPT_STALE };
static const cli_opt long_opts[] = {
	{ 'o', "output", 'o', 1 },
	{ OPT_AT, "at", 0, 1 },
	{ OPT_ALL, "all", 0, 0 },
	{ OPT_REMOVED, "removed", 0, 0 },
	{ OPT_STALE, "stale", 0, 0 },
	{ 'i', "identity", 'i', 1 },
	CLI_OPT_END,
};

typedef struct {
	const char *output, *at, *identity;
	int all, removed, stale;
	int nargs;
	char **args;
} secret_args;

/* 0: parsed; 1: the command is done (--help, or a usage error) with its exit code in *rc */
static int parse(secret_args *sa, bm_cli *cli, int argc, char **argv, int *rc)
{
	cli_args a;
	int c;
	memset(sa, 0, sizeof(*sa));
	cli_args_init(&a, cli, argc, argv, long_opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'o': sa->output = a.value; break;
		case 'i': sa->identity = a.value; break;
		case OPT_AT: sa->at = a.value; break;
		case OPT_ALL: sa->all = 1; break;
		case OPT_REMOVED: sa->removed = 1; break;
		case OPT_STALE: sa->stale = 1; break;
		}
	}
	if (c < 0) {
		*rc = CLI_ARGS_EXIT(c);
		return 1;
	}
	sa->nargs = a.npos;
	sa->args = a.pos;
	return 0;
}

static int secret_set(bm_cli *cli, secret_args *a)
{
	bm_store *s = NULL;
	bm_write_options o;
	secbuf value = { NULL, 0, 0 };
	uint64_t seq = 0;
	int rc;

	if (a->nargs < 3 || a->nargs > 4)
		return cli_usage(usage, "secret set takes PROJECT ENV NAME [FILE|-] (the value never goes on the "
			"command line)");
	if (a->output || a->at || a->all || a->removed || a->stale)
		return cli_usage(usage, "secret set takes no -o, --at, --all, --removed or --stale");
	if ((rc = read_value(cli, &value, a->nargs == 4 ? a->args[3] : NULL)) != 0)
		goto done;
	if (cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "secret set");
		goto done;
	}
	write_opts(&o, cli);
	if (bm_secret_set(&seq, s, a->args[0], a->args[1], a->args[2], value.ptr ? value.ptr : (unsigned char *)"",
			  value.len, &o) < 0) {
		rc = cli_fail(cli, "secret set");
		goto done;
	}
	if (cli->json)
		printf("{\"project\":\"%s\",\"env\":\"%s\",\"name\":\"%s\",\"seq\":\"%llu\",\"size\":\"%zu\"}\n", a->args[0],
		       a->args[1], a->args[2], (unsigned long long)seq, value.len);
	else
		cli_progress(cli, "secret %s of %s in %s set (seq %llu, %zu bytes)", a->args[2], a->args[0], a->args[1],
			     (unsigned long long)seq, value.len);
	rc = BM_EXIT_OK;
done:
	secbuf_free(&value);
	bm_store_free(s);
	return rc;
}

static int secret_get(bm_cli *cli, secret_args *a)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf ident = BM_BUF_INIT, used = BM_BUF_INIT, value = BM_BUF_INIT;
	bm_secret_info info;
	int rc = BM_EXIT_FAIL, fd = -1;

	memset(&info, 0, sizeof(info));
	if (a->nargs != 3)
		return cli_usage(usage, "secret get takes PROJECT ENV NAME");
	if (open_fs(&fs, &s, cli, a->at) < 0) {
		rc = cli_fail(cli, "secret get");
		goto done;
	}
	if (verify_signed(cli, s, fs, a->args[0], a->args[1], a->args[2]) < 0 || load_identity(&ident, &used, cli) < 0) {
		rc = cli_fail(cli, "secret get");
		goto done;
	}
	if (bm_secret_get(&value, fs, a->args[0], a->args[1], a->args[2], ident.ptr, &info) < 0) {
		int code = bm_error_last_code();
		rc = cli_fail(cli, "secret get");
		if (code == BM_ENORECIPIENT)
			hint_identity(cli, ident.ptr, used.ptr);
		goto done;
	}
	if (a->output) {
		fd = open(a->output, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || fchmod(fd, 0600) < 0 || cli_write_all(fd, value.ptr, value.size) < 0 || fsync(fd) < 0) {
			rc = cli_error(cli, BM_EIO, "secret get: cannot write %s: %s", a->output, strerror(errno));
			goto done;
		}
		if (cli->json) {
			json_info(&info, a->args[1]);
			putchar('\n');
		}
	} else if (cli->json) {
		printf("{\"info\":");
		json_info(&info, a->args[1]);
		if (!memchr(value.ptr, '\0', value.size) && bm_utf8_valid(value.ptr, value.size)) {
			printf(",\"value\":");
			cli_json_str(stdout, value.ptr);
		} else {
			size_t blen = sodium_base64_encoded_len(value.size, sodium_base64_VARIANT_ORIGINAL);
			char *b64 = sodium_malloc(blen);
			if (!b64) {
				rc = cli_error(cli, BM_ENOMEM, "secret get: out of memory");
				goto done;
			}
			sodium_bin2base64(b64, blen, (const unsigned char *)value.ptr, value.size,
					  sodium_base64_VARIANT_ORIGINAL);
			printf(",\"valueBase64\":\"%s\"", b64);
			sodium_free(b64);
		}
		printf("}\n");
	} else {
		fflush(stdout);
		if (cli_write_all(1, value.ptr, value.size) < 0) {
			rc = cli_error(cli, BM_EIO, "secret get: cannot write to stdout: %s", strerror(errno));
			goto done;
		}
	}
	rc = BM_EXIT_OK;
done:
	if (fd >= 0)
		close(fd);
	bm_secret_info_dispose(&info);
	bm_buf_dispose_secret(&value);
	bm_buf_dispose_secret(&ident);
	bm_buf_dispose(&used);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static void print_infos(bm_cli *cli, const bm_secret_infos *l, const char *env, int with_project)
{
	size_t i;
	if (cli->json) {
		printf("[");
		for (i = 0; i < l->count; i++) {
			if (i)
				putchar(',');
			json_info(&l->items[i], env);
		}
		printf("]\n");
		return;
	}
	if (with_project)
		printf("%-24s ", "PROJECT");
	printf("%-28s %-10s %-6s %-20s %-30s %s\n", "NAME", "SEQ", "OP", "UPDATED", "BY", "RECIPIENTS");
	for (i = 0; i < l->count; i++) {
		const bm_secret_info *s = &l->items[i];
		char when[32];
		cli_time_fmt(when, sizeof(when), s->time_ms);
		if (with_project)
			printf("%-24s ", cli_esc(s->project));
		printf("%-28s %-10llu %-6s %-20s %-30s %zu%s\n", cli_esc(s->name), (unsigned long long)s->seq, op_str(s->op),
		       when, cli_esc(s->actor), s->nrecipients, s->stale ? " (stale: run `bootmeta secret rekey`)" : "");
	}
}

static int secret_list(bm_cli *cli, secret_args *a)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_secret_infos l = BM_SECRET_INFOS_INIT;
	const char *project, *env;
	int rc = BM_EXIT_FAIL;

	if (a->all ? a->nargs != 1 : a->nargs != 2)
		return cli_usage(usage, "secret list takes PROJECT ENV, or --all ENV");
	project = a->all ? NULL : a->args[0];
	env = a->all ? a->args[0] : a->args[1];
	if (open_fs(&fs, &s, cli, a->at) < 0 || bm_secret_list(&l, fs, project, env, a->removed) < 0 ||
	    /* nothing listed for a project the repo does not have: say so (secrets kept for a
	     * project added later, or never, are still listed) */
	    (!l.count && project && cli_need_project_env(fs, project, NULL) < 0)) {
		rc = cli_fail(cli, "secret list");
		goto done;
	}
	print_infos(cli, &l, env, a->all);
	rc = BM_EXIT_OK;
done:
	bm_secret_infos_dispose(&l);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int secret_history(bm_cli *cli, secret_args *a)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_secret_infos l = BM_SECRET_INFOS_INIT;
	int rc = BM_EXIT_FAIL;

	if (a->nargs != 3)
		return cli_usage(usage, "secret history takes PROJECT ENV NAME");
	if (open_fs(&fs, &s, cli, a->at) < 0 || bm_secret_history(&l, fs, a->args[0], a->args[1], a->args[2]) < 0) {
		rc = cli_fail(cli, "secret history");
		goto done;
	}
	print_infos(cli, &l, a->args[1], 0);
	rc = BM_EXIT_OK;
done:
	bm_secret_infos_dispose(&l);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int secret_rm(bm_cli *cli, secret_args *a)
{
	bm_store *s = NULL;
	bm_write_options o;
	uint64_t seq = 0;
	int rc = BM_EXIT_FAIL;

	if (a->nargs != 3)
		return cli_usage(usage, "secret rm takes PROJECT ENV NAME");
	write_opts(&o, cli);
	if (cli_open(&s, cli) < 0 || bm_secret_rm(&seq, s, a->args[0], a->args[1], a->args[2], &o) < 0) {
		rc = cli_fail(cli, "secret rm");
		goto done;
	}
	if (cli->json)
		printf("{\"project\":\"%s\",\"env\":\"%s\",\"name\":\"%s\",\"seq\":\"%llu\",\"op\":\"rm\"}\n", a->args[0],
		       a->args[1], a->args[2], (unsigned long long)seq);
	else
		cli_progress(cli, "secret %s of %s in %s removed (seq %llu). Its old ciphertexts stay in git history:\n"
			     "rotate the value at its source if it may have leaked.", a->args[2], a->args[0],
			     a->args[1], (unsigned long long)seq);
	rc = BM_EXIT_OK;
done:
	bm_store_free(s);
	return rc;
}

static int secret_rekey(bm_cli *cli, secret_args *a)
{
	bm_store *s = NULL;
	bm_write_options o;
	bm_buf ident = BM_BUF_INIT, used = BM_BUF_INIT;
	size_t n = 0;
	int rc = BM_EXIT_FAIL;

	if (a->nargs != 1)
		return cli_usage(usage, "secret rekey takes ENV");
	write_opts(&o, cli);
	if (cli_open(&s, cli) < 0 || load_identity(&ident, &used, cli) < 0) {
		rc = cli_fail(cli, "secret rekey");
		goto done;
	}
	if (bm_secret_rekey(&n, s, a->args[0], ident.ptr, a->stale, &o) < 0) {
		int code = bm_error_last_code();
		rc = cli_fail(cli, "secret rekey");
		if (code == BM_ENORECIPIENT)
			hint_identity(cli, ident.ptr, used.ptr);
		goto done;
	}
	if (cli->json)
		printf("{\"env\":\"%s\",\"rekeyed\":%zu}\n", a->args[0], n);
	else
		cli_progress(cli, "rekeyed %zu secret%s of %s", n, n == 1 ? "" : "s", a->args[0]);
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose_secret(&ident);
	bm_buf_dispose(&used);
	bm_store_free(s);
	return rc;
}

/* The subcommands share one parser: SUB(name) is the cli_command function of secret_name. */
#define SUB(name)                                                       \
	static int sub_##name(bm_cli *cli, int argc, char **argv)       \
	{                                                               \
		secret_args a;                                          \
		int rc;                                                 \
		if (parse(&a, cli, argc, argv, &rc))                    \
			return rc;                                      \
		if (a.identity)                                         \
			cli->identity = a.identity;                     \
		return secret_##name(cli, &a);                          \
	}
SUB(set) SUB(get) SUB(list) SUB(history) SUB(rm) SUB(rekey)
#undef SUB

int cmd_secret(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "set", NULL, sub_set, CLI_WRITES, NULL },
		{ "get", NULL, sub_get, 0, NULL },
		{ "list", "ls", sub_list, 0, NULL },
		{ "history", NULL, sub_history, 0, NULL },
		{ "rm", NULL, sub_rm, CLI_WRITES, NULL },
		{ "rekey", NULL, sub_rekey, CLI_WRITES, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
