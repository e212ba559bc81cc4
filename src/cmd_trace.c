/* cmd_trace.c: `bootmeta trace FILE|SHA256|RELEASE`: from a binary back to every source. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_trust.h"

static const char usage[] =
	"usage: bootmeta trace FILE|SHA256|RELEASE [--project PROJECT] [--require-signed]\n\n"
	"From a binary file (hashed here), the sha256 of a recorded binary, or a release id (of\n"
	"every project that has it, or of --project), back to the project, the release, every\n"
	"source repo with its commit, the channels that point at that release now, and the\n"
	"instances whose newest report names it (env/id, state, since when; `bootmeta instances`).\n\n"
	"A FILE that was never added is read for what it carries itself: a bootmeta build stamp\n"
	"(`bootmeta stamp`) and the build information Go embeds in every binary (module, version,\n"
	"dependencies, vcs.revision). A stamp that is truncated or forged is an error.\n\n"
	"For a recorded binary, who signed it: key id, trusted comment, and whether the key is\n"
	"trusted (pinned keys file, else keys/signers; see `bootmeta binary verify --help`).\n"
	"With --require-signed, a channel entry whose meta commit is not signed is refused.\n";

/* What a file that is not recorded in the meta repo says about itself. */
typedef struct {
	char sha256[65];
	uint64_t size;
	bm_stamp *stamp;
	bm_gobuildinfo *go;
	bm_trace *repo; /* the stamped release as the meta repo knows it, when it does */
} embedded;

static void embedded_free(embedded *e)
{
	bm_stamp_free(e->stamp);
	bm_gobuildinfo_free(e->go);
	bm_trace_free(e->repo);
}

/* 0 with at least one of stamp/go found; BM_ENOTFOUND when the file carries neither;
 * BM_ECORRUPT for a damaged stamp. */
static int embedded_read(embedded *e, bm_fs *fs, const char *path)
{
	int error;
	if ((error = bm_file_sha256(e->sha256, &e->size, path)) < 0)
		return error;
	error = bm_stamp_find_file(&e->stamp, path);
	if (error < 0 && error != BM_ENOTFOUND)
		return bm_error_prefix(error, "%s carries a bootmeta stamp that does not verify", path);
	error = bm_gobuildinfo_read(&e->go, path);
	if (error < 0 && error != BM_ENOTFOUND && error != BM_EUNSUPPORTED && error != BM_EINVALID)
		return error;
	if (!e->stamp && !e->go)
		return bm_error_set(BM_ENOTFOUND, "%s (sha256 %s) is not a binary recorded in the meta repo, and "
						  "carries no bootmeta stamp and no Go build information", path, e->sha256);
	bm_error_clear();
	if (e->stamp && bm_trace_run(&e->repo, fs, e->stamp->release, e->stamp->project) < 0) {
		e->repo = NULL; /* the stamp names a release this meta repo does not have: still report it */
		bm_error_clear();
	}
	return 0;
}

static int go_json(bm_buf *out, const bm_gobuildinfo *g)
{
	size_t i;
	int error = bm_buf_puts(out, "{\"goVersion\":");
	if (!error) error = bm_json_escape(out, g->go_version ? g->go_version : "");
	if (!error) error = bm_buf_puts(out, ",\"path\":");
	if (!error) error = bm_json_escape(out, g->path ? g->path : "");
	if (!error) error = bm_buf_puts(out, ",\"main\":{\"path\":");
	if (!error) error = bm_json_escape(out, g->main.path ? g->main.path : "");
	if (!error) error = bm_buf_puts(out, ",\"version\":");
	if (!error) error = bm_json_escape(out, g->main.version ? g->main.version : "");
	if (!error) error = bm_buf_puts(out, ",\"sum\":");
	if (!error) error = bm_json_escape(out, g->main.sum ? g->main.sum : "");
	if (!error) error = bm_buf_puts(out, "},\"deps\":[");
	for (i = 0; !error && i < g->dep_count; i++) {
		const bm_gomodule *d = &g->deps[i];
		error = bm_buf_printf(out, "%s{\"path\":", i ? "," : "");
		if (!error) error = bm_json_escape(out, d->path ? d->path : "");
		if (!error) error = bm_buf_puts(out, ",\"version\":");
		if (!error) error = bm_json_escape(out, d->version ? d->version : "");
		if (!error && d->replace) {
			error = bm_buf_puts(out, ",\"replace\":{\"path\":");
			if (!error) error = bm_json_escape(out, d->replace->path ? d->replace->path : "");
			if (!error) error = bm_buf_puts(out, ",\"version\":");
			if (!error) error = bm_json_escape(out, d->replace->version ? d->replace->version : "");
			if (!error) error = bm_buf_putc(out, '}');
		}
		if (!error) error = bm_buf_putc(out, '}');
	}
	if (!error) error = bm_buf_puts(out, "],\"settings\":{");
	for (i = 0; !error && i < g->setting_count; i++) {
		if (i) error = bm_buf_putc(out, ',');
		if (!error) error = bm_json_escape(out, g->settings[i].key);
		if (!error) error = bm_buf_putc(out, ':');
		if (!error) error = bm_json_escape(out, g->settings[i].value ? g->settings[i].value : "");
	}
	return error ? error : bm_buf_puts(out, "}}");
}

static int trace_json(bm_buf *out, const bm_trace *t);

static int embedded_json(bm_buf *out, const embedded *e)
{
	bm_buf stamp = BM_BUF_INIT;
	int error = bm_buf_printf(out, "{\"sha256\":\"%s\",\"size\":\"%llu\",\"recorded\":false", e->sha256,
				  (unsigned long long)e->size);
	if (!error && e->stamp) {
		error = bm_stamp_emit(&stamp, e->stamp, BM_STAMP_FORMAT_JSON);
		while (!error && stamp.size && (stamp.ptr[stamp.size - 1] == '\n' || stamp.ptr[stamp.size - 1] == ' '))
			stamp.ptr[--stamp.size] = '\0';
		if (!error) error = bm_buf_puts(out, ",\"stamp\":");
		if (!error) error = bm_buf_put(out, stamp.ptr, stamp.size);
	}
	if (!error && e->repo) {
		error = bm_buf_puts(out, ",\"metaRepo\":");
		if (!error) error = trace_json(out, e->repo);
	}
	if (!error && e->go) {
		error = bm_buf_puts(out, ",\"goBuildInfo\":");
		if (!error) error = go_json(out, e->go);
	}
	bm_buf_dispose(&stamp);
	return error ? error : bm_buf_putc(out, '}');
}

static void trace_text(const bm_trace *t);

static void embedded_text(const embedded *e, const char *path)
{
	size_t i;
	printf("file      %s (sha256 %s, %llu bytes; not recorded in the meta repo)\n", cli_esc(path), cli_esc(e->sha256),
	       (unsigned long long)e->size);
	if (e->stamp) {
		printf("stamp     bootmeta build stamp\n");
		printf("project   %s\nrelease   %s%s%s%s\n", cli_esc(e->stamp->project), cli_esc(e->stamp->release),
		       e->stamp->version ? " (" : "", cli_esc(e->stamp->version ? e->stamp->version : ""),
		       e->stamp->version ? ")" : "");
		for (i = 0; i < e->stamp->source_count; i++)
			printf("source    %s @ %s\n", cli_esc(e->stamp->sources[i].url), cli_esc(e->stamp->sources[i].commit));
		printf("built at  meta commit %s\n", cli_esc(e->stamp->meta_commit));
		if (e->repo) {
			printf("\nthe meta repo now:\n");
			trace_text(e->repo);
		} else {
			printf("          (this meta repo has no release %s of %s)\n", cli_esc(e->stamp->release), cli_esc(e->stamp->project));
		}
	}
	if (e->go) {
		const char *rev = bm_gobuildinfo_setting(e->go, "vcs.revision");
		const char *when = bm_gobuildinfo_setting(e->go, "vcs.time");
		const char *mod = bm_gobuildinfo_setting(e->go, "vcs.modified");
		const char *vcs = bm_gobuildinfo_setting(e->go, "vcs");
		if (e->stamp)
			printf("\n");
		printf("go        %s\n", cli_esc(e->go->go_version ? e->go->go_version : "?"));
		printf("path      %s\n", cli_esc(e->go->path ? e->go->path : "?"));
		if (e->go->main.path && *e->go->main.path)
			printf("module    %s %s\n", cli_esc(e->go->main.path), cli_esc(e->go->main.version ? e->go->main.version : ""));
		else
			printf("module    (none recorded: built in GOPATH mode or from a file list)\n");
		if (rev)
			printf("vcs       %s %s%s%s%s\n", cli_esc(vcs ? vcs : ""), rev, when ? " at " : "", cli_esc(when ? when : ""),
			       cli_esc(mod && !strcmp(mod, "true") ? " (modified)" : ""));
		else
			printf("vcs       (no vcs.revision recorded: built outside a checkout or with -buildvcs=false)\n");
		for (i = 0; i < e->go->dep_count; i++)
			printf("dep       %s %s%s%s\n", cli_esc(e->go->deps[i].path), cli_esc(e->go->deps[i].version ? e->go->deps[i].version : ""),
			       e->go->deps[i].replace ? " => " : "",
			       cli_esc(e->go->deps[i].replace && e->go->deps[i].replace->path ? e->go->deps[i].replace->path : ""));
	}
}

static int trace_json(bm_buf *out, const bm_trace *t)
{
	char hex[BM_OID_HEXSZ + 1];
	size_t i, j;
	int error = bm_buf_putc(out, '{');
	if (!error && t->binary) {
		error = bm_buf_printf(out, "\"sha256\":\"%s\",\"binary\":", t->sha256);
		if (!error)
			error = cli_record_json(out, t->binary, 0);
		if (!error)
			error = bm_buf_putc(out, ',');
	}
	if (!error)
		error = bm_buf_puts(out, "\"releases\":[");
	for (i = 0; !error && i < t->nreleases; i++) {
		error = bm_buf_printf(out, "%s{\"release\":", i ? "," : "");
		if (!error)
			error = cli_record_json(out, t->releases[i].release, 0);
		if (!error)
			error = bm_buf_puts(out, ",\"channels\":[");
		for (j = 0; !error && j < t->releases[i].nchannels; j++) {
			if (j)
				error = bm_buf_putc(out, ',');
			if (!error)
				error = cli_record_json(out, t->releases[i].channels[j], 0);
		}
		if (!error)
			error = bm_buf_puts(out, "],\"instances\":[");
		for (j = 0; !error && j < t->releases[i].ninstances; j++) {
			if (j)
				error = bm_buf_putc(out, ',');
			if (!error)
				error = cli_record_json(out, t->releases[i].instances[j], 0);
		}
		if (!error)
			error = bm_buf_puts(out, "]}");
	}
	if (!error)
		error = bm_buf_putc(out, ']');
	if (!error && t->has_commit) {
		bm_oid_fmt(hex, &t->commit);
		error = bm_buf_printf(out, ",\"metaCommit\":\"%s\"", hex);
	}
	return error ? error : bm_buf_putc(out, '}');
}

static void trace_text(const bm_trace *t)
{
	char hex[BM_OID_HEXSZ + 1];
	size_t i, j;
	if (t->binary)
		printf("binary    %s (%llu bytes, %s/%s)\n", cli_esc(t->sha256), (unsigned long long)t->binary->size,
		       cli_esc(t->binary->os), cli_esc(t->binary->arch));
	for (i = 0; i < t->nreleases; i++) {
		const Bootmeta__V1__Release *r = t->releases[i].release;
		if (i)
			printf("\n");
		printf("project   %s\nrelease   %s%s%s%s\n", cli_esc(r->project), cli_esc(r->id), *r->version ? " (" : "", cli_esc(r->version),
		       *r->version ? ")" : "");
		for (j = 0; j < r->n_sources; j++)
			printf("source    %s @ %s\n", cli_esc(r->sources[j]->url), cli_esc(r->sources[j]->commit));
		if (!t->releases[i].nchannels)
			printf("channels  (none points at this release now)\n");
		for (j = 0; j < t->releases[i].nchannels; j++)
			printf("channel   %s (#%llu)\n", cli_esc(t->releases[i].channels[j]->channel),
			       (unsigned long long)t->releases[i].channels[j]->seq);
		if (!t->releases[i].ninstances)
			printf("instances (no instance reports this release)\n");
		for (j = 0; j < t->releases[i].ninstances; j++) {
			const Bootmeta__V1__InstanceReport *in = t->releases[i].instances[j];
			char since[40];
			cli_time_fmt(since, sizeof(since), in->since_ms ? in->since_ms : in->time_ms);
			printf("instance  %s/%s %s since %s\n", cli_esc(in->env), cli_esc(in->instance), cli_esc(in->state), since);
		}
	}
	if (t->has_commit) {
		bm_oid_fmt(hex, &t->commit);
		printf("meta      %s\n", hex);
	}
}

/* ---- who signed the binary, and --require-signed (src/cli_trust.c) ---- */

/* `out` holds the trace's JSON object: add "signers" before its closing brace. */
static int trace_signers_json(bm_buf *out, bm_cli *cli, bm_fs *fs, const bm_trace *t)
{
	bm_binary_sigs sigs = BM_BINARY_SIGS_INIT;
	int error;
	if (!t->binary)
		return 0;
	if ((error = cli_binary_signers(&sigs, cli, fs, t->binary)) == 0) {
		out->size--;
		if ((error = bm_buf_puts(out, ",\"signers\":")) == 0 && (error = cli_sigs_json(out, &sigs)) == 0)
			error = bm_buf_putc(out, '}');
	}
	bm_binary_sigs_dispose(&sigs);
	return error;
}

static int trace_signers_text(bm_cli *cli, bm_fs *fs, const bm_trace *t)
{
	bm_binary_sigs sigs = BM_BINARY_SIGS_INIT;
	int error;
	if (!t->binary)
		return 0;
	if ((error = cli_binary_signers(&sigs, cli, fs, t->binary)) == 0)
		cli_sigs_text(&sigs, "signed    ");
	bm_binary_sigs_dispose(&sigs);
	return error;
}

/* With --require-signed, every channel line must come from a signed meta commit. */
static int trace_require_signed(bm_cli *cli, bm_store *s, bm_fs *fs, const bm_trace *t)
{
	size_t i, j;
	int error = 0;
	for (i = 0; i < t->nreleases && !error; i++)
		for (j = 0; j < t->releases[i].nchannels && !error; j++)
			error = cli_check_signed_entry(cli, s, fs, t->releases[i].channels[j]);
	return error;
}

int cmd_trace(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'p', "project", 0, 1 },
		CLI_OPT_END,
	};
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_trace *t = NULL;
	bm_buf out = BM_BUF_INIT;
	const char *project = NULL;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'p': project = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(usage, "trace takes one FILE, SHA256 or RELEASE");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0) {
		rc = cli_fail(cli, "trace");
		goto done;
	}
	if (bm_trace_run(&t, fs, a.pos[0], project) < 0) {
		struct stat st;
		embedded e;
		if (bm_error_last_code() != BM_ENOTFOUND || stat(a.pos[0], &st) < 0 || !S_ISREG(st.st_mode)) {
			rc = cli_fail(cli, "trace");
			goto done;
		}
		memset(&e, 0, sizeof(e));
		if (embedded_read(&e, fs, a.pos[0]) < 0 || (e.repo && trace_require_signed(cli, s, fs, e.repo) < 0)) {
			rc = cli_fail(cli, "trace");
		} else if (cli->json) {
			rc = embedded_json(&out, &e) < 0 ? cli_fail(cli, "trace") : (cli_put(&out), BM_EXIT_OK);
		} else {
			embedded_text(&e, a.pos[0]);
			rc = BM_EXIT_OK;
		}
		embedded_free(&e);
		goto done;
	}
	if (trace_require_signed(cli, s, fs, t) < 0) {
		rc = cli_fail(cli, "trace");
		goto done;
	}
	if (cli->json) {
		if (trace_json(&out, t) < 0 || trace_signers_json(&out, cli, fs, t) < 0) {
			rc = cli_fail(cli, "trace");
			goto done;
		}
		cli_put(&out);
	} else {
		trace_text(t);
		if (trace_signers_text(cli, fs, t) < 0) {
			rc = cli_fail(cli, "trace");
			goto done;
		}
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_trace_free(t);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
