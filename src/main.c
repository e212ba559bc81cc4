/* main.c: the `bootmeta` program: global options and the dispatch table. Each command
 * lives in its own src/cmd_*.c file. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_env.h"

/* Commands are declared weak so that the table can name every command of the product while
 * the command files land one by one; a missing one says so instead of failing to link. */
#define CMD(name) int cmd_##name(bm_cli *cli, int argc, char **argv) __attribute__((weak));
CMD(init) CMD(project) CMD(release) CMD(binary) CMD(channel) CMD(trace) CMD(show) CMD(ls)
CMD(log) CMD(clone) CMD(pull) CMD(push) CMD(age) CMD(key) CMD(secret) CMD(recipients)
CMD(env) CMD(dev) CMD(config) CMD(flag) CMD(imports) CMD(dependents) CMD(pin) CMD(stamp)
CMD(doctor)
#undef CMD

static const struct command {
	const char *name;
	bm_cmd_fn fnv; /* NULL while the (weak) command is not linked in */
	const char *summary;
} commands[] = {
#define C(n, s) { #n, cmd_##n, s }
	C(init, "create a new meta repo"),
	C(project, "add, list and show projects"),
	C(release, "record releases and the source commits they were built from"),
	C(binary, "record binaries (sha256, size, os/arch) and show them"),
	C(channel, "promote releases to channels; read a channel and its history"),
	C(trace, "from a binary, sha256 or release back to every source repo"),
	C(show, "decode any record to JSON"),
	C(ls, "list the files of the meta repo"),
	C(log, "meta history of a path; generator log records"),
	C(clone, "clone a meta repo from a git remote"),
	C(pull, "fetch the remote meta repo"),
	C(push, "push local meta commits"),
	C(age, "age encryption: keygen, encrypt, decrypt"),
	C(key, "make and trust keys; sign and verify files and meta commits"),
	C(secret, "age-encrypted secrets per environment"),
	C(recipients, "who can read an environment's secrets"),
	C(env, "environments"),
	C(dev, "developer overlays of dev"),
	C(config, "runtime config per project and environment"),
	C(flag, "feature flags per channel"),
	C(imports, "modules a release imports"),
	C(dependents, "releases that import a module"),
	C(pin, "the version of a project on a channel, for builds"),
	C(stamp, "build stamps a binary compiles in"),
	C(doctor, "check the meta repo for damage; move main back after git prune"),
#undef C
};

static void usage(FILE *f)
{
	size_t i;
	fprintf(f, "usage: bootmeta [--repo PATH|URL] [--json] [--actor NAME] [--env ENV]\n"
		   "                [--identity FILE] [--require-signed] [--quiet] COMMAND [ARGS]\n\n"
		   "Deployment metadata kept in git.\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].fnv)
			fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`bootmeta COMMAND --help` shows a command's usage. Exit codes: 0 ok, 1 failure,\n"
		   "2 usage. The meta repo is --repo, else $BOOTMETA_REPO, else found upward from the\n"
		   "current folder. See bootmeta(1).\n");
}

int main(int argc, char **argv)
{
	bm_cli cli;
	size_t i;
	int c;
	enum { OPT_REPO = 256, OPT_ACTOR, OPT_ENV, OPT_IDENTITY, OPT_JSON, OPT_REQSIGNED, OPT_VERSION };
	static const struct option opts[] = {
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "actor", required_argument, NULL, OPT_ACTOR },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "identity", required_argument, NULL, OPT_IDENTITY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "require-signed", no_argument, NULL, OPT_REQSIGNED },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};

	memset(&cli, 0, sizeof(cli));
	/* '+': stop at the first non-option, the command name */
	while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_REPO: cli.repo = optarg; break;
		case OPT_ACTOR: cli.actor = optarg; break;
		case OPT_ENV: cli.env = optarg; break;
		case OPT_IDENTITY: cli.identity = optarg; break;
		case OPT_JSON: cli.json = 1; break;
		case OPT_REQSIGNED: cli.require_signed = 1; break;
		case 'q': cli.quiet = 1; break;
		case 'h': usage(stdout); return BM_EXIT_OK;
		case OPT_VERSION: printf("bootmeta %s (repo format %d)\n", BM_VERSION, BM_FORMAT_VERSION); return 0;
		default: usage(stderr); return BM_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return BM_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout);
		return BM_EXIT_OK;
	}
	if (!strcmp(argv[optind], "version")) {
		printf("bootmeta %s (repo format %d)\n", BM_VERSION, BM_FORMAT_VERSION);
		return BM_EXIT_OK;
	}
	cli_env_defaults(&cli);

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		if (!commands[i].fnv) {
			fprintf(stderr, "bootmeta: '%s' is not built into this bootmeta yet\n", commands[i].name);
			return BM_EXIT_FAIL;
		}
		{
			int rc, sub_argc = argc - optind, j, k;
			char **sub_argv = argv + optind;

			/* --json and --require-signed are global, but users put them after the
			 * command too (`channel get P C --json`): take them from anywhere before "--" */
			for (j = 1, k = 1; j < sub_argc; j++) {
				if (!strcmp(sub_argv[j], "--")) {
					while (j < sub_argc)
						sub_argv[k++] = sub_argv[j++];
					break;
				}
				if (!strcmp(sub_argv[j], "--json"))
					cli.json = 1;
				else if (!strcmp(sub_argv[j], "--require-signed"))
					cli.require_signed = 1;
				else
					sub_argv[k++] = sub_argv[j];
			}
			sub_argc = k;
			sub_argv[sub_argc] = NULL;

			/* --help needs no libraries started. TLS and SSH are set up only when a
			 * remote needs them; SSL_CERT_FILE / SSL_CERT_DIR name the CAs to trust. */
			bm_global_options gopts = BM_GLOBAL_OPTIONS_INIT;
			gopts.net_setup = BM_NET_SETUP_ON_DEMAND;
			gopts.ca_file = getenv("SSL_CERT_FILE");
			gopts.ca_dir = getenv("SSL_CERT_DIR");
			if (!cli_wants_help(sub_argc, sub_argv) && bm_global_init_opts(&gopts) < 0) {
				fprintf(stderr, "bootmeta: %s\n", bm_error_last());
				return BM_EXIT_FAIL;
			}
			optind = 0; /* glibc: full getopt re-initialisation for the subcommand */
			rc = commands[i].fnv(&cli, sub_argc, sub_argv);
			bm_global_shutdown();
			return rc;
		}
	}
	fprintf(stderr, "bootmeta: '%s' is not a bootmeta command; see 'bootmeta --help'\n", argv[optind]);
	return BM_EXIT_USAGE;
}
