/* cmd_hook.c: `bootmeta hook add|list|rm`: webhook subscriptions, the URLs `bootmeta serve`
 * POSTs its change events to (include/bootmeta/webhook.h). */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"
#include "cli_hint.h"
#include "serve_hook.h"

static const char hook_usage[] =
	"usage: bootmeta hook add URL --secret-file FILE --recipient AGE_PUB [--recipient ...]\n"
	"                         [--prefix PREFIX] [--description TEXT] [--json]\n"
	"       bootmeta hook list [--all] [--json]\n"
	"       bootmeta hook rm ID [--json]\n\n"
	"Webhook subscriptions: on each new meta commit that changes a path under PREFIX (none:\n"
	"any), `bootmeta serve` POSTs the event a watcher gets to URL, signed with the secret\n"
	"(X-Hub-Signature-256: sha256=HMAC). The secret (FILE, mode 0600, one trailing new line\n"
	"dropped) is stored age-encrypted to the recipients, serve's public key (the recipient of\n"
	"serve --identity), never plain in git. Records are never rewritten: rm adds a removal\n"
	"record; list --all shows removed subscriptions too. See bootmeta-hook(1).\n";

static json_t *hook_json(const bm_webhook_item *it)
{
	const Bootmeta__V1__Webhook *h = it->hook;
	json_t *o = json_object(), *r = json_array();
	size_t i;
	char path[64];
	json_object_set_new(o, "id", cli_jstr(h->id));
	json_object_set_new(o, "url", cli_jstr(h->url));
	json_object_set_new(o, "prefix", cli_jstr(h->prefix));
	for (i = 0; i < h->n_recipients; i++)
		json_array_append_new(r, cli_jstr(h->recipients[i]));
	json_object_set_new(o, "recipients", r);
	json_object_set_new(o, "description", cli_jstr(h->description));
	json_object_set_new(o, "timeMs", cli_jint64(h->time_ms));
	json_object_set_new(o, "actor", cli_jstr(h->actor));
	snprintf(path, sizeof(path), "hooks/%s/hook.pb", h->id);
	json_object_set_new(o, "path", cli_jstr(path));
	json_object_set_new(o, "removed", json_boolean(it->removal != NULL));
	if (it->removal) {
		json_object_set_new(o, "removedMs", cli_jint64(it->removal->time_ms));
		json_object_set_new(o, "removedBy", cli_jstr(it->removal->actor));
	}
	return o;
}

static int hook_add(bm_cli *cli, int argc, char **argv)
{
	enum { O_PREFIX = 256, O_SECRET, O_RECIPIENT, O_DESC };
	static const cli_opt opts[] = {
		{ O_PREFIX, "prefix", 0, 1 },
		{ O_SECRET, "secret-file", 0, 1 },
		{ O_RECIPIENT, "recipient", 'r', 1 },
		{ O_DESC, "description", 0, 1 },
		CLI_OPT_END,
	};
	bm_webhook_add_spec spec = BM_WEBHOOK_ADD_SPEC_INIT;
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	Bootmeta__V1__Webhook *h = NULL;
	bm_strlist rcpt = BM_STRLIST_INIT;
	bm_buf secret = BM_BUF_INIT, err = BM_BUF_INIT;
	const char *secret_file = NULL;
	bm_store *s = NULL;
	bm_oid commit;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, hook_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case O_PREFIX: spec.prefix = a.value; break;
		case O_SECRET: secret_file = a.value; break;
		case O_RECIPIENT:
			if (bm_strlist_add(&rcpt, a.value) < 0) {
				rc = cli_fail(cli, "hook add");
				goto done;
			}
			break;
		case O_DESC: spec.description = a.value; break;
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos != 1) {
		rc = cli_usage(hook_usage, "hook add takes one URL");
		goto done;
	}
	if (!secret_file) {
		rc = cli_usage(hook_usage, "hook add needs --secret-file FILE (the secret deliveries are signed with)");
		goto done;
	}
	if (!rcpt.count) {
		rc = cli_usage(hook_usage, "hook add needs --recipient AGE_PUB: serve's public key (`bootmeta age "
					   "keygen -y` of its identity), to encrypt the secret to");
		goto done;
	}
	spec.url = a.pos[0];
	spec.recipients = (const char *const *)rcpt.items;
	spec.nrecipients = rcpt.count;
	if ((c = serve_hook_secret_load(&secret, secret_file, &err)) < 0) {
		rc = cli_error(cli, c, "hook add: %s", err.ptr ? err.ptr : "cannot read the secret file");
		goto done;
	}
	spec.secret = secret.ptr;
	spec.secret_len = secret.size;
	if (bm_webhook_check(&spec) < 0 || cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "hook add");
		goto done;
	}
	cli_write_options(&w, cli);
	if (bm_webhook_add(&h, &commit, s, &spec, &w) < 0) {
		rc = cli_fail(cli, "hook add");
		goto done;
	}
	if (cli->json) {
		bm_webhook_item it = { h, NULL };
		json_t *o = hook_json(&it);
		json_object_set_new(o, "metaCommit", cli_joid(&commit, 1));
		cli_json_print(o);
	} else {
		char hex[BM_OID_HEXSZ + 1];
		bm_oid_fmt(hex, &commit);
		printf("hook %s added: POST %s for changes under %s (meta commit %.12s)\n", h->id, cli_esc(h->url),
		       *h->prefix ? cli_esc(h->prefix) : "(everything)", hex);
	}
	rc = BM_EXIT_OK;
done:
	bm_record_free(h ? &h->base : NULL);
	bm_strlist_dispose(&rcpt);
	bm_buf_dispose_secret(&secret);
	bm_buf_dispose(&err);
	bm_store_free(s);
	return rc;
}

static int hook_list(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'a', "all", 'a', 0 },
		CLI_OPT_END,
	};
	bm_webhook_item *items = NULL;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	size_t i, n = 0;
	cli_args a;
	int c, all = 0, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, hook_usage);
	while ((c = cli_args_next(&a)) > 0)
		if (c == 'a')
			all = 1;
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos)
		return cli_usage(hook_usage, "hook list takes no operands");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_webhook_list(&items, &n, fs, all) < 0) {
		rc = cli_fail(cli, "hook list");
		goto done;
	}
	if (cli->json) {
		json_t *arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, hook_json(&items[i]));
		cli_json_print(arr);
	} else if (!n) {
		printf("no webhooks%s; add one with `bootmeta hook add URL --secret-file FILE --recipient AGE_PUB`\n",
		       all ? "" : " (--all shows removed ones)");
	} else {
		printf("%-16s %-20s %-24s %s\n", "ID", "ADDED", "PREFIX", "URL");
		for (i = 0; i < n; i++) {
			const Bootmeta__V1__Webhook *h = items[i].hook;
			char t[40];
			cli_time_fmt(t, sizeof(t), h->time_ms);
			printf("%-16s %-20s %-24s %s%s\n", cli_esc(h->id), t, *h->prefix ? cli_esc(h->prefix) : "(all)",
			       cli_esc(h->url), items[i].removal ? " (removed)" : "");
		}
	}
	rc = BM_EXIT_OK;
done:
	bm_webhook_list_free(items, n);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int hook_rm(bm_cli *cli, int argc, char **argv)
{
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	Bootmeta__V1__Webhook *r = NULL;
	bm_store *s = NULL;
	bm_oid commit;
	int rc = BM_EXIT_FAIL;

	if (cli_operands(cli, &argc, argv, hook_usage, &rc))
		return rc;
	if (argc != 2)
		return cli_usage(hook_usage, "hook rm takes one ID");
	if (bm_webhook_id_validate(argv[1]) < 0 || cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "hook rm");
		goto done;
	}
	cli_write_options(&w, cli);
	if (bm_webhook_remove(&r, &commit, s, argv[1], &w) < 0) {
		rc = cli_fail(cli, "hook rm");
		goto done;
	}
	if (cli->json) {
		json_t *o = json_object();
		char path[64];
		snprintf(path, sizeof(path), "hooks/%s/removed.pb", r->id);
		json_object_set_new(o, "id", cli_jstr(r->id));
		json_object_set_new(o, "removed", json_true());
		json_object_set_new(o, "path", cli_jstr(path));
		json_object_set_new(o, "metaCommit", cli_joid(&commit, 1));
		cli_json_print(o);
	} else {
		char hex[BM_OID_HEXSZ + 1];
		bm_oid_fmt(hex, &commit);
		printf("hook %s removed (meta commit %.12s); serve stops delivering to it\n", r->id, hex);
	}
	rc = BM_EXIT_OK;
done:
	bm_record_free(r ? &r->base : NULL);
	bm_store_free(s);
	return rc;
}

int cmd_hook(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "add", NULL, hook_add, CLI_WRITES, NULL },
		{ "list", "ls", hook_list, 0, NULL },
		{ "rm", "remove", hook_rm, CLI_WRITES, NULL },
	};
	return CLI_RUN_SUB(cli, subs, hook_usage, argc, argv);
}
