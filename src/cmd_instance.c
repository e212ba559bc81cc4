/* cmd_instance.c: `bootmeta instance report|history`: one instance's reports (the direct
 * path an agent without serve writes through). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_history.h"

static const char usage[] =
	"usage: bootmeta instance report ENV ID --project PROJECT --release RELEASE --state STATE\n"
	"                [--meta-commit COMMIT] [--error TEXT] [--os OS] [--arch ARCH]\n"
	"                [--agent-version VERSION]\n"
	"       bootmeta instance history ENV ID --project PROJECT [-n|--limit N]\n\n"
	"An instance (a host, a container; ID is host-name-like, lower case: web-1) reports its\n"
	"state for one project: downloading, installed, healthy, failed or rolled-back, the\n"
	"release it is about (for rolled-back: the release it went back to), the meta commit it\n"
	"acted on and the error, if any. The report is a record in envs/ENV/instances/ID/; it is\n"
	"written only when the state, release or error differs from the instance's last report\n"
	"(otherwise: \"unchanged\", no commit, exit 0), so an agent may report on every meta\n"
	"commit without filling the log. history prints the reports, newest first.\n";

static int instance_report(bm_cli *cli, int argc, char **argv)
{
	enum { O_PROJECT = 1, O_RELEASE, O_STATE, O_COMMIT, O_ERROR, O_OS, O_ARCH, O_AGENT };
	static const cli_opt opts[] = {
		{ O_PROJECT, "project", 0, 1 },
		{ O_RELEASE, "release", 0, 1 },
		{ O_STATE, "state", 0, 1 },
		{ O_COMMIT, "meta-commit", 0, 1 },
		{ O_ERROR, "error", 0, 1 },
		{ O_OS, "os", 0, 1 },
		{ O_ARCH, "arch", 0, 1 },
		{ O_AGENT, "agent-version", 0, 1 },
		CLI_OPT_END,
	};
	bm_instance_report_spec spec = BM_INSTANCE_REPORT_SPEC_INIT;
	Bootmeta__V1__InstanceReport *r = NULL;
	bm_write_options w;
	bm_store *s = NULL;
	bm_buf out = BM_BUF_INIT;
	const char *state = NULL;
	char hex[BM_OID_HEXSZ + 1], when[40];
	bm_oid mc;
	cli_args a;
	int c, rc = BM_EXIT_FAIL, written;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case O_PROJECT: spec.project = a.value; break;
		case O_RELEASE: spec.release = a.value; break;
		case O_STATE: state = a.value; break;
		case O_COMMIT: spec.acted_on = a.value; break;
		case O_ERROR: spec.error = a.value; break;
		case O_OS: spec.os = a.value; break;
		case O_ARCH: spec.arch = a.value; break;
		case O_AGENT: spec.agent_version = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 2)
		return cli_usage(usage, "instance report takes ENV and ID");
	if (!spec.project || !spec.release || !state)
		return cli_usage(usage, "instance report needs --project, --release and --state");
	spec.env = a.pos[0];
	spec.instance = a.pos[1];
	cli_write_options(&w, cli);
	if (bm_instance_state_parse(&spec.state, state) < 0 || bm_instance_report_check(&spec) < 0 ||
	    cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "instance report");
		goto done;
	}
	if ((written = bm_instance_report(&r, &mc, s, &spec, &w)) < 0) {
		rc = cli_fail(cli, "instance report");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, r, &mc) < 0 || (out.size--, bm_buf_printf(&out, ",\"unchanged\":%s}",
									 written == 1 ? "true" : "false")) < 0) {
			rc = cli_fail(cli, "instance report");
			goto done;
		}
		cli_put(&out);
	} else if (written == 1) {
		cli_time_fmt(when, sizeof(when), r->since_ms ? r->since_ms : r->time_ms);
		printf("%s/%s %s: unchanged, %s %s since %s (#%llu); nothing written\n", cli_esc(r->env), cli_esc(r->instance),
		       cli_esc(r->project), cli_esc(r->state), cli_esc(r->release), when, (unsigned long long)r->seq);
	} else {
		printf("%s/%s %s #%llu: %s %s (meta commit %s)\n", cli_esc(r->env), cli_esc(r->instance), cli_esc(r->project),
		       (unsigned long long)r->seq, cli_esc(r->state), cli_esc(r->release), cli_short(hex, &mc));
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_meta_free(r);
	bm_store_free(s);
	return rc;
}

static int history_cb(const char *path, const Bootmeta__V1__InstanceReport *r, int error, void *payload)
{
	cli_history *h = payload;
	char when[40];
	if (error < 0) /* a damaged report: named in its place, not shown; the others go on */
		return cli_history_bad(h, path);
	cli_time_fmt(when, sizeof(when), r->time_ms);
	return cli_history_add(h, r, "%-6llu %-12s %-20s %-20s %s%s%s", (unsigned long long)r->seq, cli_esc(r->state),
			       cli_esc(r->release), when, cli_esc(r->actor), *r->error ? "  " : "", cli_esc(r->error));
}

static int instance_history(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'p', "project", 0, 1 },
		CLI_OPT_LIMIT,
		CLI_OPT_END,
	};
	cli_history h = CLI_HISTORY_INIT(cli, "instance history");
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	const char *project = NULL;
	char head[128];
	size_t limit = 0;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'p': project = a.value; break;
		case CLI_OPT_LIMIT_ID:
			if (cli_take_limit(&limit, &a) != BM_EXIT_OK)
				return BM_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 2)
		return cli_usage(usage, "instance history takes ENV and ID");
	if (!project)
		return cli_usage(usage, "instance history needs --project");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_instance_history(fs, a.pos[0], a.pos[1], project, 0, history_cb, &h) < 0) {
		rc = cli_fail(cli, "instance history");
		goto done;
	}
	snprintf(head, sizeof(head), "%-6s %-12s %-20s %-20s %s", "SEQ", "STATE", "RELEASE", "REPORTED", "BY  ERROR");
	rc = cli_history_print(&h, limit, head);
done:
	cli_history_dispose(&h);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

int cmd_instance(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "report", NULL, instance_report, CLI_WRITES, NULL },
		{ "history", NULL, instance_history, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
