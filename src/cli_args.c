/* cli_args.c: the one option parser of the `bootmeta` program (cli.h has the rules). */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

/* Options every command takes after its name, as well as before it (main.c). */
enum { G_HELP = -100, G_JSON, G_REQSIGNED, G_REPO };
static const cli_opt global_opts[] = {
	{ G_HELP, "help", 'h', 0 },
	{ G_JSON, "json", 0, 0 },
	{ G_REQSIGNED, "require-signed", 0, 0 },
	{ G_REPO, "repo", 0, 1 },
	CLI_OPT_END,
};

void cli_args_init(cli_args *a, bm_cli *cli, int argc, char **argv, const cli_opt *opts, const char *usage)
{
	memset(a, 0, sizeof(*a));
	a->cli = cli;
	a->argc = argc;
	a->argv = argv;
	a->opts = opts;
	a->usage = usage;
	a->i = 1;
	a->pos = argv + 1;
}

/* "bootmeta: CMD: <message>" ("bootmeta: CMD <message>" when `fmt` begins with a space) and the
 * usage, on stderr. CMD is the command and subcommand ("channel get"); none for main.c. */
static int usage_error(cli_args *a, const char *fmt, ...) BM_PRINTF(2, 3);
static int usage_error(cli_args *a, const char *fmt, ...)
{
	va_list ap;
	fputs("bootmeta:", stderr);
	if (a->argv[0] && !(a->flags & CLI_ARGS_GLOBAL)) {
		if (a->cli && a->cli->group && strcmp(a->cli->group, a->argv[0]))
			fprintf(stderr, " %s", a->cli->group);
		fprintf(stderr, " %s%s", a->argv[0], *fmt == ' ' ? "" : ":");
	}
	if (*fmt != ' ')
		fputc(' ', stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (a->usage)
		fputs(a->usage, stderr);
	return CLI_ARGS_USAGE;
}

static int allowed(const cli_args *a, int id)
{
	const int *p;
	if (!a->allowed)
		return 1;
	for (p = a->allowed; *p; p++)
		if (*p == id)
			return 1;
	return 0;
}

static const cli_opt *find_short(const cli_opt *t, char c)
{
	for (; t && t->id; t++)
		if (t->short_name == c)
			return t;
	return NULL;
}

/* The entry named `name` (`len` bytes): an exact match, else the one option `name` is a prefix of
 * (getopt's abbreviations, which scripts may use). *ambiguous when two or more options share
 * the prefix. */
static const cli_opt *find_long(const cli_opt *const *tables, size_t ntables, const char *name, size_t len,
				int *ambiguous)
{
	const cli_opt *prefix = NULL, *t;
	size_t k;
	*ambiguous = 0;
	for (k = 0; k < ntables; k++)
		for (t = tables[k]; t && t->id; t++)
			if (t->name && strlen(t->name) == len && !strncmp(t->name, name, len))
				return t;
	for (k = 0; k < ntables; k++)
		for (t = tables[k]; t && t->id; t++)
			if (t->name && !strncmp(t->name, name, len)) {
				if (prefix && prefix->id != t->id)
					*ambiguous = 1;
				prefix = t;
			}
	return *ambiguous ? NULL : prefix;
}

/* An option the caller's table or the global table has; handles the global ones. Returns the id
 * to give the caller, 0 when handled here (go on), or a negative CLI_ARGS_*. */
static int take(cli_args *a, const cli_opt *o)
{
	if (o->id == G_HELP) {
		if (a->usage)
			fputs(a->usage, stdout);
		return CLI_ARGS_HELP;
	}
	if (o->id == G_JSON) {
		if (a->cli && !(a->cli->flags & CLI_JSON))
			return usage_error(a, "--json: this command has no JSON output");
		if (a->cli)
			a->cli->json = 1;
		return 0;
	}
	if (o->id == G_REQSIGNED) {
		if (a->cli)
			a->cli->require_signed = 1;
		return 0;
	}
	if (o->id == G_REPO) {
		/* as before the command (`bootmeta --repo PATH CMD`), for a command that reads one */
		if (a->cli && !(a->cli->flags & CLI_STORE))
			return usage_error(a, "--repo: this command does not read a meta repo");
		if (a->cli)
			a->cli->repo = a->value;
		return 0;
	}
	if (!allowed(a, o->id)) {
		if (o->name)
			return usage_error(a, " does not take --%s", o->name);
		return usage_error(a, " does not take -%c", o->short_name);
	}
	return o->id;
}

static void operand(cli_args *a, char *arg)
{
	a->pos[a->npos++] = arg;
}

int cli_args_next(cli_args *a)
{
	const cli_opt *tables[2];
	size_t ntables = 0;
	int rc;

	tables[ntables++] = a->opts;
	if (!(a->flags & CLI_ARGS_GLOBAL))
		tables[ntables++] = global_opts;
	a->value = NULL;
	for (;;) {
		const cli_opt *o = NULL;
		char *arg;

		if (a->cluster && *a->cluster) {
			/* the rest of a cluster of short options: -ao FILE, -n5 */
			char c = *a->cluster++;
			size_t k;
			for (k = 0; k < ntables && !o; k++)
				o = find_short(tables[k], c);
			a->spelled[0] = '-';
			a->spelled[1] = c;
			a->spelled[2] = '\0';
			if (!o)
				return usage_error(a, "unknown option '-%c'", c);
			if (o->has_value) {
				if (*a->cluster) {
					a->value = a->cluster;
				} else if (a->i < a->argc) {
					a->value = a->argv[a->i++];
				} else {
					return usage_error(a, "option '-%c' needs a value", c);
				}
				a->cluster = NULL;
			}
			if ((rc = take(a, o)) != 0)
				return rc;
			continue;
		}
		a->cluster = NULL;
		if (a->i >= a->argc)
			break;
		arg = a->argv[a->i++];
		if (a->ended || arg[0] != '-' || !arg[1]) {
			/* an operand (a lone "-" is one: stdin) */
			if (a->flags & CLI_ARGS_STOP) {
				a->i--;
				break;
			}
			operand(a, arg);
			continue;
		}
		if (!strcmp(arg, "--")) {
			a->ended = 1;
			if (a->flags & CLI_ARGS_STOP)
				break;
			continue;
		}
		if (arg[1] != '-') {
			a->cluster = arg + 1;
			continue;
		}
		{
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			int ambiguous;
			o = find_long(tables, ntables, name, len, &ambiguous);
			if (ambiguous)
				return usage_error(a, "option '--%.*s' is ambiguous", (int)len, name);
			if (!o)
				return usage_error(a, "unknown option '--%.*s'", (int)len, name);
			snprintf(a->spelled, sizeof(a->spelled), "--%s", o->name);
			if (o->has_value) {
				if (eq)
					a->value = eq + 1;
				else if (a->i < a->argc)
					a->value = a->argv[a->i++];
				else
					return usage_error(a, "option '--%s' needs a value", o->name);
			} else if (eq) {
				return usage_error(a, "option '--%s' takes no value", o->name);
			}
		}
		if ((rc = take(a, o)) != 0)
			return rc;
	}
	/* the operands, NULL-terminated like argv */
	if (!(a->flags & CLI_ARGS_STOP) && a->npos < a->argc)
		a->pos[a->npos] = NULL;
	return 0;
}

int cli_operands(bm_cli *cli, int *argc, char **argv, const char *usage, int *rc)
{
	static const cli_opt none[] = { CLI_OPT_END };
	cli_args a;
	int c;
	cli_args_init(&a, cli, *argc, argv, none, usage);
	if ((c = cli_args_next(&a)) < 0) {
		*rc = CLI_ARGS_EXIT(c);
		return 1;
	}
	*argc = 1 + a.npos;
	return 0;
}

int cli_args_fail(cli_args *a, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	usage_error(a, "%s", msg);
	return BM_EXIT_USAGE;
}
