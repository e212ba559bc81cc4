/* cmd_doctor.c: `bootmeta doctor [--repair]`: check a meta repo for damage (a missing branch
 * or object, records that do not decode, logs with gaps) and move main back along its reflog
 * after `git prune` deleted objects under a writer (bm_doctor). */
#include <string.h>

#include "cli.h"
#include "cli_hint.h"

static const char usage[] =
	"usage: bootmeta doctor [--repair]\n\n"
	"Check the meta repo: that main exists and every object it reaches is in the object store\n"
	"(a missing object is told apart from a missing branch), that every record decodes as the\n"
	"kind its path says and a log entry is the entry its name says, and that every log\n"
	"(channels, config values, flags, recipients, admins, secret versions) runs 1, 2, 3 ...\n"
	"with no gap. Each problem is printed with its path. Exit 0 when the repo is sound, 1\n"
	"when a problem remains.\n\n"
	"When main is missing or reaches missing objects (`git prune --expire=now` or `git gc\n"
	"--prune=now` run beside a writer deletes objects not referenced yet), doctor names the\n"
	"newest entry of main's reflog whose objects are all present and what moving main back\n"
	"there loses: the commits after it and the records they added.\n\n"
	"  --repair   move main back to that entry. The old tip is kept under\n"
	"             refs/bootmeta/lost/<UTC time> (when its commit object is there), main\n"
	"             moves with a reflog entry, and nothing is ever deleted. Re-add what was\n"
	"             lost with the commands that made it.\n";

/* A problem's message with the CLI's advice where the library's names none of its commands. */
static const char *problem_text(const bm_doctor_problem *p)
{
	static char text[2048];
	snprintf(text, sizeof(text), "%s%s", p->message,
		 p->kind == BM_DOCTOR_NO_REFLOG ? " (bootmeta init does)" : "");
	if (p->about != BM_ABOUT_NONE) /* a library error: its hint, as any command shows it */
		cli_hint_add(text, sizeof(text), p->code, p->about, p->about_name);
	return text;
}

static void print_json(const bm_doctor_report *r)
{
	char hex[BM_OID_HEXSZ + 1];
	size_t i, j;

	printf("{\"repo\":");
	cli_json_str(stdout, r->path);
	if (r->has_main) {
		bm_oid_fmt(hex, &r->main);
		printf(",\"main\":\"%s\"", hex);
	} else {
		printf(",\"main\":null");
	}
	printf(",\"clean\":%s,\"problems\":[", r->nproblems ? "false" : "true");
	for (i = 0; i < r->nproblems; i++) {
		printf("%s{\"kind\":\"%s\",\"path\":", i ? "," : "", bm_doctor_kind_name(r->problems[i].kind));
		cli_json_str(stdout, r->problems[i].path);
		printf(",\"message\":");
		cli_json_str(stdout, problem_text(&r->problems[i]));
		printf("}");
	}
	printf("],\"recordsChecked\":%s,\"records\":\"%llu\",\"logs\":\"%llu\"", r->checked_records ? "true" : "false",
	       (unsigned long long)r->records, (unsigned long long)r->logs);
	if (!r->has_plan) {
		printf(",\"repair\":null}\n");
		return;
	}
	bm_oid_fmt(hex, &r->plan_to);
	printf(",\"repair\":{\"to\":\"%s\",\"reflogEntry\":\"main@{%zu}\",\"summary\":", hex, r->plan_index);
	cli_json_str(stdout, r->plan_summary ? r->plan_summary : "");
	printf(",\"applied\":%s,\"lostRef\":", r->repaired ? "true" : "false");
	if (r->lost_ref)
		cli_json_str(stdout, r->lost_ref);
	else
		printf("null");
	printf(",\"lost\":[");
	for (i = 0; i < r->nlost; i++) {
		const bm_doctor_lost *l = &r->lost[i];
		bm_oid_fmt(hex, &l->commit);
		printf("%s{\"commit\":\"%s\",\"missing\":%s,\"summary\":", i ? "," : "", hex, l->missing ? "true" : "false");
		cli_json_str(stdout, l->summary ? l->summary : "");
		printf(",\"added\":");
		if (l->added_unknown) {
			printf("null");
		} else {
			printf("[");
			for (j = 0; j < l->added.count; j++) {
				if (j)
					printf(",");
				cli_json_str(stdout, l->added.items[j]);
			}
			printf("]");
		}
		printf("}");
	}
	printf("],\"lostTruncated\":%s}}\n", r->lost_truncated ? "true" : "false");
}

static void print_text(const bm_doctor_report *r)
{
	char hex[BM_OID_HEXSZ + 1];
	size_t i, j;

	/* paths and summaries come from the repo: shown through the one display escape */
	for (i = 0; i < r->nproblems; i++)
		printf("problem: %s: %s\n", cli_esc(r->problems[i].path), cli_esc(problem_text(&r->problems[i])));
	if (r->has_plan) {
		bm_oid_fmt(hex, &r->plan_to);
		printf("%s main to main@{%zu} %.12s \"%s\"; %s %zu commit%s:\n",
		       r->repaired ? "repaired: moved" : "repair: would move", r->plan_index, hex, cli_esc(r->plan_summary),
		       r->repaired ? "lost" : "losing", r->nlost, r->nlost == 1 ? "" : "s");
		for (i = 0; i < r->nlost; i++) {
			const bm_doctor_lost *l = &r->lost[i];
			bm_oid_fmt(hex, &l->commit);
			printf("  lost commit %.12s ", hex);
			if (l->missing) {
				printf("(the commit object is missing)\n");
				continue;
			}
			printf("\"%s\"%s\n", cli_esc(l->summary),
			       l->added_unknown ? " (its trees are missing: the records it added are unknown)" : "");
			for (j = 0; j < l->added.count; j++)
				printf("    adds %s\n", cli_esc(l->added.items[j]));
		}
		if (r->lost_truncated)
			printf("  ... and more commits (only the first %zu are listed)\n", r->nlost);
		if (r->repaired && r->lost_ref)
			printf("the old main is kept as %s; delete it with `git update-ref -d %s` once you have what you "
			       "need (while it names missing objects, git gc stops with an error and deletes nothing)\n",
			       r->lost_ref, r->lost_ref);
		if (!r->repaired)
			printf("run `bootmeta doctor --repair` to move main back (nothing is deleted)\n");
	}
	if (r->checked_records)
		printf("%s: %llu records and %llu logs checked, %zu problem%s\n", r->path, (unsigned long long)r->records,
		       (unsigned long long)r->logs, r->nproblems, r->nproblems == 1 ? "" : "s");
	else
		printf("%s: records not checked (main is not complete), %zu problem%s\n", r->path, r->nproblems,
		       r->nproblems == 1 ? "" : "s");
}

int cmd_doctor(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'r', "repair", 0, 0 },
		CLI_OPT_END,
	};
	bm_doctor_options o = BM_DOCTOR_OPTIONS_INIT;
	bm_doctor_report r = BM_DOCTOR_REPORT_INIT;
	cli_args a;
	int c, rc;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'r': o.repair = 1; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 0)
		return cli_usage(usage, "doctor takes no arguments");
	o.actor = cli->actor;
	if (bm_doctor(&r, cli->repo, &o) < 0) {
		if (!cli->json && r.has_plan && !r.repaired)
			print_text(&r);
		bm_doctor_report_dispose(&r);
		return cli_fail(cli, "doctor");
	}
	if (cli->json)
		print_json(&r);
	else
		print_text(&r);
	rc = r.nproblems ? BM_EXIT_FAIL : BM_EXIT_OK;
	bm_doctor_report_dispose(&r);
	return rc;
}
