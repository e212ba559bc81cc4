/* cmd_recipients.c: `bootmeta recipients add|list|rm`: who can read an environment's
 * secrets (age X25519 recipients per env, plus repo admins who read every env). */
#include <string.h>

#include "cli.h"
#include "cli_env.h"

static const char usage[] =
	"usage: bootmeta recipients add ENV AGE-RECIPIENT [--comment TEXT]\n"
	"       bootmeta recipients add ENV --me [-i IDENTITY] [--comment TEXT]\n"
	"       bootmeta recipients add --admin AGE-RECIPIENT [--comment TEXT]\n"
	"       bootmeta recipients list ENV [--at REV]\n"
	"       bootmeta recipients list --admin [--at REV]\n"
	"       bootmeta recipients rm ENV AGE-RECIPIENT | --admin AGE-RECIPIENT\n\n"
	"A secret of ENV is encrypted to ENV's own recipients plus the repo admins; nothing is\n"
	"inherited from a parent env, so dev/alice's secrets are alice's (and the admins'). Each\n"
	"change is a new record (envs/ENV/recipients/<seq>.pb, keys/admins/<seq>.pb); the current\n"
	"set is the fold of that log.\n\n"
	"  --me       the recipient of your own identity (--identity, $BOOTMETA_IDENTITY or\n"
	"             ~/.config/bootmeta/identity)\n"
	"  --comment  whose key it is, e.g. \"alice laptop\"\n\n"
	"Existing secrets are not re-encrypted by a change: run `bootmeta secret rekey ENV`. After\n"
	"rm, the removed key can still decrypt every old ciphertext in git history: rotate the\n"
	"secrets it could read.\n";

enum { OPT_ADMIN = 256, OPT_COMMENT, OPT_AT, OPT_ME };
static const cli_opt long_opts[] = {
	{ OPT_ADMIN, "admin", 0, 0 },
	{ OPT_COMMENT, "comment", 0, 1 },
	{ OPT_AT, "at", 0, 1 },
	{ OPT_ME, "me", 0, 0 },
	{ 'i', "identity", 'i', 1 },
	CLI_OPT_END,
};

static void print_list(const bm_recipient_list *l, const char *role)
{
	size_t i;
	for (i = 0; i < l->count; i++) {
		char when[32];
		cli_time_fmt(when, sizeof(when), l->items[i].time_ms);
		printf("%-62s %-6s %-20s %-30s %s\n", cli_esc(l->items[i].recipient), role, when, cli_esc(l->items[i].actor),
		       cli_esc(l->items[i].comment));
	}
}

static void json_list(const bm_recipient_list *l)
{
	size_t i;
	putchar('[');
	for (i = 0; i < l->count; i++) {
		char when[32];
		cli_time_fmt(when, sizeof(when), l->items[i].time_ms);
		printf("%s{\"recipient\":\"%s\",\"seq\":\"%llu\",\"time\":\"%s\",\"actor\":", i ? "," : "",
		       l->items[i].recipient, (unsigned long long)l->items[i].seq, when);
		cli_json_str(stdout, l->items[i].actor);
		printf(",\"comment\":");
		cli_json_str(stdout, l->items[i].comment);
		putchar('}');
	}
	putchar(']');
}

static int recipients_list(bm_cli *cli, const char *env, const char *at)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_recipient_list own = BM_RECIPIENT_LIST_INIT, admins = BM_RECIPIENT_LIST_INIT;
	bm_oid commit;
	int rc = BM_EXIT_FAIL;

	if (cli_open(&s, cli) < 0 || (at && bm_store_resolve(&commit, s, at) < 0) ||
	    bm_store_fs(&fs, s, at ? &commit : NULL) < 0 || (env && bm_recipients_list(&own, fs, env) < 0) ||
	    bm_recipients_list(&admins, fs, NULL) < 0) {
		rc = cli_fail(cli, "recipients list");
		goto done;
	}
	if (cli->json) {
		printf("{\"env\":");
		cli_json_str(stdout, env ? env : "");
		printf(",\"recipients\":");
		json_list(&own);
		printf(",\"admins\":");
		json_list(&admins);
		printf("}\n");
	} else {
		printf("%-62s %-6s %-20s %-30s %s\n", "RECIPIENT", "ROLE", "ADDED", "BY", "COMMENT");
		print_list(&own, env ? "env" : "");
		print_list(&admins, "admin");
		if (env && !own.count && !admins.count)
			fprintf(stderr, "bootmeta: %s has no recipients yet: `bootmeta recipients add %s age1...`\n", env, env);
	}
	rc = BM_EXIT_OK;
done:
	bm_recipient_list_dispose(&own);
	bm_recipient_list_dispose(&admins);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int recipients_change(bm_cli *cli, int remove, const char *env, const char *recipient, int me,
			     const char *comment)
{
	bm_store *s = NULL;
	bm_write_options o = BM_WRITE_OPTIONS_INIT;
	bm_buf ident = BM_BUF_INIT, mine = BM_BUF_INIT;
	const char *what = remove ? "recipients rm" : "recipients add";
	uint64_t seq = 0;
	int rc = BM_EXIT_FAIL, error;

	cli_write_options(&o, cli);
	if (me) {
		bm_buf def = BM_BUF_INIT;
		error = bm_secret_identity_load(&ident, NULL, cli_env_identity(cli, &def));
		bm_buf_dispose(&def);
		if (error < 0 ||
		    bm_secret_identity_recipient(&mine, ident.ptr) < 0) {
			rc = cli_fail(cli, what);
			goto done;
		}
		recipient = mine.ptr;
	}
	if (cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, what);
		goto done;
	}
	error = remove ? bm_recipients_rm(&seq, s, env, recipient, comment, &o)
		       : bm_recipients_add(&seq, s, env, recipient, comment, &o);
	if (error < 0) {
		rc = cli_fail(cli, what);
		goto done;
	}
	if (cli->json) {
		printf("{\"env\":");
		cli_json_str(stdout, env ? env : "");
		printf(",\"admin\":%s,\"recipient\":\"%s\",\"op\":\"%s\",\"seq\":\"%llu\"}\n", env ? "false" : "true",
		       recipient, remove ? "rm" : "add", (unsigned long long)seq);
	} else {
		cli_progress(cli, "%s %s %s%s", remove ? "removed" : "added", recipient, remove ? "from " : "to ",
			     env ? env : "the repo admins");
		if (remove)
			cli_progress(cli, "next: `bootmeta secret rekey %s`, and rotate the secrets this key could read: "
				     "git history keeps ciphertexts it can still open", env ? env : "ENV");
		else
			cli_progress(cli, "next: `bootmeta secret rekey %s` so existing secrets open for it too",
				     env ? env : "ENV");
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose_secret(&ident);
	bm_buf_dispose(&mine);
	bm_store_free(s);
	return rc;
}

/* add, rm and list (argv[0]) share their options */
static int recipients_sub(bm_cli *cli, int argc, char **argv)
{
	const char *sub = argv[0], *comment = NULL, *at = NULL, *env = NULL, *recipient = NULL;
	cli_args a;
	int c, admin = 0, me = 0, nargs;
	char **args;

	cli_args_init(&a, cli, argc, argv, long_opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_ADMIN: admin = 1; break;
		case OPT_COMMENT: comment = a.value; break;
		case OPT_AT: at = a.value; break;
		case OPT_ME: me = 1; break;
		case 'i': cli->identity = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	nargs = a.npos;
	args = a.pos;
	if (!strcmp(sub, "list") || !strcmp(sub, "ls")) {
		if (admin ? nargs != 0 : nargs != 1)
			return cli_usage(usage, "recipients list takes ENV, or --admin");
		if (comment || me)
			return cli_usage(usage, "recipients list takes no --comment or --me");
		return recipients_list(cli, admin ? NULL : args[0], at);
	}
	if (at)
		return cli_usage(usage, "--at is for list");
	if (admin && nargs == 1 - me) {
		recipient = me ? NULL : args[0];
	} else if (!admin && nargs == 2 - me) {
		env = args[0];
		recipient = me ? NULL : args[1];
	} else {
		return cli_usage(usage, "recipients %s takes ENV AGE-RECIPIENT (or --me), or --admin AGE-RECIPIENT", sub);
	}
	return recipients_change(cli, !strcmp(sub, "rm"), env, recipient, me, comment);
}

int cmd_recipients(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "add", NULL, recipients_sub, CLI_WRITES, NULL },
		{ "rm", NULL, recipients_sub, CLI_WRITES, NULL },
		{ "list", "ls", recipients_sub, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
