/* cmd_channel.c: `bootmeta channel promote|rollback|unpin|get|history|list`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_history.h"
#include "cli_trust.h"

static const char usage[] =
	"usage: bootmeta channel promote PROJECT CHANNEL RELEASE [--reason TEXT] [--force]\n"
	"       bootmeta channel rollback PROJECT CHANNEL [--to RELEASE] --reason TEXT\n"
	"       bootmeta channel unpin PROJECT CHANNEL --reason TEXT\n"
	"       bootmeta channel get PROJECT CHANNEL [--at COMMIT] [--require-signed]\n"
	"       bootmeta channel history PROJECT CHANNEL [-n|--limit N] [--require-signed]\n"
	"       bootmeta channel list PROJECT\n\n"
	"A channel (stable, beta ...) is a log of promotions: entry 1, 2, 3 ... with no gaps.\n"
	"get prints the current release, its sequence number, who promoted it and when, and the\n"
	"meta commit it was read at; history prints the log, newest first.\n\n"
	"rollback pins the channel at RELEASE (default: the release before the current one):\n"
	"followers go there, and promote refuses until unpin releases the pin (or --force, which\n"
	"the entry records).\n\n"
	"With --require-signed (or git config bootmeta.requireSigned, $BOOTMETA_REQUIRE_SIGNED=1),\n"
	"get, history and list refuse an entry whose meta commit is not signed by an allowed signer\n"
	"($BOOTMETA_ALLOWED_SIGNERS or git config bootmeta.allowedSignersFile, git's format).\n";

static int print_entry_json(bm_cli *cli, const Bootmeta__V1__ChannelEntry *e, const bm_oid *commit, const char *what)
{
	bm_buf out = BM_BUF_INIT;
	int rc = BM_EXIT_OK;
	if (cli_record_json_at(&out, e, commit) < 0)
		rc = cli_fail(cli, what);
	else
		cli_put(&out);
	bm_buf_dispose(&out);
	return rc;
}

/* promote, rollback and unpin: one entry added, printed the same way */
static int channel_entry_cmd(bm_cli *cli, int argc, char **argv, Bootmeta__V1__ChannelAction action)
{
	static const cli_opt opts[] = {
		{ 'r', "reason", 0, 1 },
		{ 'f', "force", 0, 0 },
		{ 't', "to", 0, 1 },
		CLI_OPT_END,
	};
	const char *name = action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK ? "channel rollback" :
			   action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_UNPIN ? "channel unpin" : "channel promote";
	const char *to = NULL;
	int npos = action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE ? 3 : 2;
	int force = 0, r;
	bm_promote_options po = BM_PROMOTE_OPTIONS_INIT;
	bm_write_options w;
	Bootmeta__V1__ChannelEntry *e = NULL;
	bm_store *s = NULL;
	bm_oid mc;
	char hex[BM_OID_HEXSZ + 1];
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'r': po.reason = a.value; break;
		case 'f':
			if (action != BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE)
				return cli_usage(usage, "--force is an option of channel promote");
			force = 1;
			break;
		case 't':
			if (action != BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK)
				return cli_usage(usage, "--to is an option of channel rollback");
			to = a.value;
			break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != npos)
		return cli_usage(usage, npos == 3 ? "channel promote takes PROJECT, CHANNEL and RELEASE"
						  : "this command takes PROJECT and CHANNEL");
	if (action != BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE && (!po.reason || !*po.reason))
		return cli_usage(usage, "a rollback or unpin needs --reason TEXT: it is what the next person who wants "
					"to promote reads");
	po.force = force;
	cli_write_options(&w, cli);
	po.write = &w;
	if (bm_project_name_check(a.pos[0]) < 0 || bm_name_validate(a.pos[1], BM_NAME_CHANNEL) < 0 ||
	    (npos == 3 && bm_name_validate(a.pos[2], BM_NAME_RELEASE) < 0) ||
	    (to && bm_name_validate(to, BM_NAME_RELEASE) < 0) || cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, name);
		goto done;
	}
	if (action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE) {
		cli_progress(cli, "promoting %s of %s to %s", a.pos[2], a.pos[0], a.pos[1]);
		r = bm_channel_promote(&e, &mc, s, a.pos[0], a.pos[1], a.pos[2], &po);
	} else if (action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK) {
		r = bm_channel_rollback(&e, &mc, s, a.pos[0], a.pos[1], to, &po);
	} else {
		r = bm_channel_unpin(&e, &mc, s, a.pos[0], a.pos[1], &po);
	}
	if (r < 0) {
		rc = cli_fail(cli, name);
		goto done;
	}
	if (cli->json) {
		rc = print_entry_json(cli, e, &mc, name);
		goto done;
	}
	if (action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_UNPIN)
		printf("%s %s #%llu: unpinned at %s (meta commit %s)\n", cli_esc(e->project), cli_esc(e->channel),
		       (unsigned long long)e->seq, cli_esc(e->release), cli_short(hex, &mc));
	else
		printf("%s %s #%llu: %s%s%s%s (meta commit %s)\n", cli_esc(e->project), cli_esc(e->channel),
		       (unsigned long long)e->seq, cli_esc(e->release), *e->previous_release ? ", was " : "",
		       cli_esc(e->previous_release), e->pinned ? "; pinned by this rollback" : e->forced ? "; forced over a pin" : "",
		       cli_short(hex, &mc));
	rc = BM_EXIT_OK;
done:
	bm_meta_free(e);
	bm_store_free(s);
	return rc;
}

static int channel_promote(bm_cli *cli, int argc, char **argv)
{
	return channel_entry_cmd(cli, argc, argv, BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE);
}

static int channel_rollback(bm_cli *cli, int argc, char **argv)
{
	return channel_entry_cmd(cli, argc, argv, BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK);
}

static int channel_unpin(bm_cli *cli, int argc, char **argv)
{
	return channel_entry_cmd(cli, argc, argv, BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_UNPIN);
}

static int channel_get(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'a', "at", 0, 1 },
		CLI_OPT_END,
	};
	Bootmeta__V1__ChannelEntry *e = NULL;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	const char *at = NULL;
	char hex[BM_OID_HEXSZ + 1], when[40];
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'a': at = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 2)
		return cli_usage(usage, "channel get takes PROJECT and CHANNEL");
	if (cli_open_fs(&s, &fs, cli, at) < 0 || bm_channel_current(&e, fs, a.pos[0], a.pos[1]) < 0 ||
	    cli_check_signed_entry(cli, s, fs, e) < 0) {
		rc = cli_fail(cli, "channel get");
		goto done;
	}
	if (cli->json) {
		rc = print_entry_json(cli, e, bm_fs_commit(fs), "channel get");
		goto done;
	}
	cli_time_fmt(when, sizeof(when), e->time_ms);
	bm_oid_fmt(hex, bm_fs_commit(fs));
	printf("project   %s\nchannel   %s\nrelease   %s\nseq       %llu\n", cli_esc(e->project), cli_esc(e->channel), cli_esc(e->release),
	       (unsigned long long)e->seq);
	if (*e->previous_release)
		printf("previous  %s\n", cli_esc(e->previous_release));
	printf("promoted  %s by %s\n", when, cli_esc(e->actor));
	if (*e->reason)
		printf("reason    %s\n", cli_esc(e->reason));
	if (e->pinned)
		printf("pinned    yes, by this rollback: promote refuses until `bootmeta channel unpin`\n");
	else if (e->action != BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE || e->forced)
		printf("action    %s%s\n", bm_channel_action_name(e->action), e->forced ? " (forced over a pin)" : "");
	printf("meta      %s\n", hex);
	rc = BM_EXIT_OK;
done:
	bm_meta_free(e);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

typedef struct {
	cli_history h;
	bm_store *store;  /* for --require-signed */
	bm_fs *fs;
} history_ctx;

static int history_cb(const char *path, const Bootmeta__V1__ChannelEntry *e, int error, void *payload)
{
	history_ctx *c = payload;
	char when[40];
	/* a damaged entry, or one not from a signed commit: named in its place, not shown */
	if (error < 0 || cli_check_signed_entry(c->h.cli, c->store, c->fs, e) < 0)
		return cli_history_bad(&c->h, path);
	cli_time_fmt(when, sizeof(when), e->time_ms);
	return cli_history_add(&c->h, e, "%-6llu %-42s %-20s %s%s%s%s", (unsigned long long)e->seq, cli_esc(e->release),
			       when, cli_esc(e->actor), e->pinned ? "  [rollback, pinned]" :
			       e->action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_UNPIN ? "  [unpin]" :
			       e->forced ? "  [forced over a pin]" : "",
			       *e->reason ? "  " : "", cli_esc(e->reason));
}

static int channel_history(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		CLI_OPT_LIMIT,
		CLI_OPT_END,
	};
	history_ctx h = { CLI_HISTORY_INIT(cli, "channel history"), NULL, NULL };
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	char head[128];
	size_t limit = 0;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case CLI_OPT_LIMIT_ID:
			if (cli_take_limit(&limit, &a) != BM_EXIT_OK)
				return BM_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 2)
		return cli_usage(usage, "channel history takes PROJECT and CHANNEL");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0) {
		rc = cli_fail(cli, "channel history");
		goto done;
	}
	h.store = s;
	h.fs = fs;
	if (bm_channel_history(fs, a.pos[0], a.pos[1], 0, history_cb, &h) < 0) {
		rc = cli_fail(cli, "channel history");
		goto done;
	}
	snprintf(head, sizeof(head), "%-6s %-42s %-20s %s", "SEQ", "RELEASE", "PROMOTED", "BY  REASON");
	rc = cli_history_print(&h.h, limit, head);
done:
	cli_history_dispose(&h.h);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int channel_list(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_strlist names = BM_STRLIST_INIT;
	bm_buf out = BM_BUF_INIT;
	size_t i;
	int rc = BM_EXIT_FAIL, bad = 0;

	if (cli_operands(cli, &argc, argv, usage, &rc))
		return rc;
	if (argc != 2)
		return cli_usage(usage, "channel list takes one PROJECT");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_channel_list(&names, fs, argv[1]) < 0) {
		rc = cli_fail(cli, "channel list");
		goto done;
	}
	if (cli->json)
		bm_buf_putc(&out, '[');
	else if (names.count)
		printf("%-20s %-42s %-6s %s\n", "CHANNEL", "RELEASE", "SEQ", "PROMOTED");
	for (i = 0; i < names.count; i++) {
		Bootmeta__V1__ChannelEntry *e = NULL;
		char when[40];
		if (bm_channel_current(&e, fs, argv[1], names.items[i]) < 0 || cli_check_signed_entry(cli, s, fs, e) < 0) {
			bad = 1;
			if (cli->json) {
				bm_buf p = BM_BUF_INIT;
				bm_path_channel(&p, argv[1], names.items[i]);
				cli_json_error_item(&out, out.size > 1, p.ptr);
				bm_buf_dispose(&p);
			} else {
				cli_fail(cli, "channel list");
			}
			bm_meta_free(e);
			continue;
		}
		if (cli->json) {
			if (out.size > 1)
				bm_buf_putc(&out, ',');
			cli_record_json(&out, e, 0);
		} else {
			cli_time_fmt(when, sizeof(when), e->time_ms);
			printf("%-20s %-42s %-6llu %s\n", cli_esc(e->channel), cli_esc(e->release), (unsigned long long)e->seq, when);
		}
		bm_meta_free(e);
	}
	if (cli->json) {
		bm_buf_putc(&out, ']');
		cli_put(&out);
	} else if (!names.count) {
		printf("no channels of %s yet; promote a release with `bootmeta channel promote`\n", argv[1]);
	}
	rc = bad ? BM_EXIT_FAIL : BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_strlist_dispose(&names);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

int cmd_channel(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "promote", NULL, channel_promote, CLI_WRITES, NULL },
		{ "rollback", NULL, channel_rollback, CLI_WRITES, NULL },
		{ "unpin", NULL, channel_unpin, CLI_WRITES, NULL },
		{ "get", NULL, channel_get, 0, NULL },
		{ "history", NULL, channel_history, 0, NULL },
		{ "list", NULL, channel_list, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
