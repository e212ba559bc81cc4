/* main.c: the `bootmeta` program: global options and the dispatch table (cli.h says what
 * the properties mean). Each command lives in its own src/cmd_*.c file. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_env.h"

static const char usage_head[] =
	"usage: bootmeta [--repo PATH|URL] [--json] [--actor NAME] [--env ENV]\n"
	"                [--identity FILE] [--require-signed] [--quiet] COMMAND [ARGS]\n\n"
	"Deployment metadata kept in git.\n\ncommands:\n";
static const char usage_tail[] =
	"\n`bootmeta COMMAND --help` shows a command's usage. Exit codes: 0 ok, 1 failure,\n"
	"2 usage. The meta repo is --repo, else $BOOTMETA_REPO, else found upward from the\n"
	"current folder. See bootmeta(1).\n";

/* The commands. A command missing from the build fails to link. */
#define S CLI_STORE
#define W CLI_WRITES
#define J CLI_JSON
static const cli_command commands[] = {
	{ "init", NULL, cmd_init, W | J, "create a new meta repo" },
	{ "project", NULL, cmd_project, S | J, "add, list and show projects" },
	{ "release", NULL, cmd_release, S | J, "record releases and the source commits they were built from" },
	{ "binary", NULL, cmd_binary, S | J, "record binaries (sha256, size, os/arch), upload and show them" },
	{ "fetch", NULL, cmd_fetch, S | J, "download a binary from its recorded URLs and verify it" },
	{ "channel", NULL, cmd_channel, S | J, "promote releases to channels; read a channel and its history" },
	{ "trace", NULL, cmd_trace, S | J, "from a binary, sha256 or release back to every source repo" },
	{ "instances", NULL, cmd_instances, S | J, "who runs what in an env, since when, healthy or not" },
	{ "instance", NULL, cmd_instance, S | J, "report an instance's state; its report history" },
	{ "show", NULL, cmd_show, S | J, "decode any record to JSON" },
	{ "ls", NULL, cmd_ls, S | J, "list the files of the meta repo" },
	{ "log", NULL, cmd_log, S | J, "meta history of a path; generator log records" },
	{ "clone", NULL, cmd_clone, J, "clone a meta repo from a git remote" },
	{ "pull", NULL, cmd_pull, S | J, "fetch the remote meta repo" },
	{ "push", NULL, cmd_push, S | J, "push local meta commits" },
	{ "age", NULL, cmd_age, 0, "age encryption: keygen, encrypt, decrypt" },
	{ "key", NULL, cmd_key, J, "make and trust keys; sign and verify files and meta commits" },
	{ "secret", NULL, cmd_secret, S | J, "age-encrypted secrets per environment" },
	{ "recipients", NULL, cmd_recipients, S | J, "who can read an environment's secrets" },
	{ "env", NULL, cmd_env, S | J, "environments" },
	{ "dev", NULL, cmd_dev, J, "developer overlays of dev" },
	{ "config", NULL, cmd_config, S | J, "runtime config per project and environment" },
	{ "flag", NULL, cmd_flag, S | J, "feature flags per channel" },
	{ "imports", NULL, cmd_imports, S | J, "modules a release imports" },
	{ "dependents", NULL, cmd_dependents, S | J, "releases that import a module" },
	{ "pin", NULL, cmd_pin, S | J, "the version of a project on a channel, for builds" },
	{ "stamp", NULL, cmd_stamp, S | J, "build stamps a binary compiles in" },
	{ "doctor", NULL, cmd_doctor, S | J, "check the meta repo for damage; move main back after git prune" },
	{ "serve", NULL, cmd_serve, J, "the live meta server: HTTP API, watch, group-committed writes" },
	{ "watch", NULL, cmd_watch, J, "print the changes a bootmeta serve announces" },
	{ "follow", NULL, cmd_follow, 0, "keep a clone of the meta repo current from a serve's notices" },
	{ "agent", NULL, cmd_agent, CLI_WRITES, "keep this host on what a channel says: install, verify, health-gate, roll back" },
	{ "hook", NULL, cmd_hook, S | J, "webhook subscriptions: where serve POSTs its change events" },
};
#undef S
#undef W
#undef J

static void usage(FILE *f)
{
	size_t i;
	fputs(usage_head, f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs(usage_tail, f);
}

static void version(void)
{
	printf("bootmeta %s (repo format %d)\n", BM_VERSION, BM_FORMAT_VERSION);
}

int main(int argc, char **argv)
{
	enum { OPT_REPO = 256, OPT_ACTOR, OPT_ENV, OPT_IDENTITY, OPT_JSON, OPT_REQSIGNED, OPT_VERSION };
	static const cli_opt opts[] = {
		{ OPT_REPO, "repo", 0, 1 },
		{ OPT_ACTOR, "actor", 0, 1 },
		{ OPT_ENV, "env", 0, 1 },
		{ OPT_IDENTITY, "identity", 0, 1 },
		{ OPT_JSON, "json", 0, 0 },
		{ OPT_REQSIGNED, "require-signed", 0, 0 },
		{ 'q', "quiet", 'q', 0 },
		{ 'h', "help", 'h', 0 },
		{ OPT_VERSION, "version", 0, 0 },
		CLI_OPT_END,
	};
	const cli_command *cmd = NULL;
	bm_cli cli;
	cli_args a;
	size_t i;
	bm_global_options gopts = BM_GLOBAL_OPTIONS_INIT;
	int c, rc;

	memset(&cli, 0, sizeof(cli));
	cli_args_init(&a, NULL, argc, argv, opts, NULL);
	/* global options stop at the first operand: the command name */
	a.flags = CLI_ARGS_STOP | CLI_ARGS_GLOBAL;
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_REPO: cli.repo = a.value; break;
		case OPT_ACTOR: cli.actor = a.value; break;
		case OPT_ENV: cli.env = a.value; break;
		case OPT_IDENTITY: cli.identity = a.value; break;
		case OPT_JSON: cli.json = 1; break;
		case OPT_REQSIGNED: cli.require_signed = 1; break;
		case 'q': cli.quiet = 1; break;
		case 'h': usage(stdout); return BM_EXIT_OK;
		case OPT_VERSION: version(); return BM_EXIT_OK;
		}
	}
	if (c < 0) {
		usage(stderr);
		return BM_EXIT_USAGE;
	}
	if (a.i >= argc) {
		usage(stderr);
		return BM_EXIT_USAGE;
	}
	if (!strcmp(argv[a.i], "help")) {
		usage(stdout);
		return BM_EXIT_OK;
	}
	if (!strcmp(argv[a.i], "version")) {
		version();
		return BM_EXIT_OK;
	}
	cli_env_defaults(&cli);

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]) && !cmd; i++)
		if (!strcmp(argv[a.i], commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "bootmeta: '%s' is not a bootmeta command; see 'bootmeta --help'\n", argv[a.i]);
		return BM_EXIT_USAGE;
	}
	cli.group = cmd->name;
	cli.flags = cmd->flags;
	if (cli.json && !(cmd->flags & CLI_JSON)) {
		fprintf(stderr, "bootmeta: --json: %s has no JSON output\n", cmd->name);
		return BM_EXIT_USAGE;
	}
	/* --help needs no libraries started. TLS and SSH are set up only when a remote needs
	 * them; SSL_CERT_FILE / SSL_CERT_DIR name the CAs to trust. */
	gopts.net_setup = BM_NET_SETUP_ON_DEMAND;
	gopts.ca_file = getenv("SSL_CERT_FILE");
	gopts.ca_dir = getenv("SSL_CERT_DIR");
	if (!cli_wants_help(argc - a.i, argv + a.i) && bm_global_init_opts(&gopts) < 0) {
		fprintf(stderr, "bootmeta: %s\n", bm_error_last());
		return BM_EXIT_FAIL;
	}
	rc = cmd->fn(&cli, argc - a.i, argv + a.i);
	cli_say_pushed(&cli);
	bm_global_shutdown();
	return rc;
}
