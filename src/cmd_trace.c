/* cmd_trace.c: `bootmeta trace FILE|SHA256|RELEASE`: from a binary back to every source. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_trust.h"

static const char usage[] =
	"usage: bootmeta trace FILE|SHA256|RELEASE [--project PROJECT] [--require-signed]\n\n"
	"From a binary file (hashed here), the sha256 of a recorded binary, or a release id (of\n"
	"every project that has it, or of --project), back to the project, the release, every\n"
	"source repo with its commit, and the channels that point at that release now.\n"
	"For a binary, who signed it: key id, trusted comment, and whether the key is trusted\n"
	"(pinned keys file, else keys/signers; see `bootmeta binary verify --help`). With\n"
	"--require-signed, a channel entry whose meta commit is not signed is refused.\n";

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
		printf("binary    %s (%llu bytes, %s/%s)\n", t->sha256, (unsigned long long)t->binary->size,
		       t->binary->os, t->binary->arch);
	for (i = 0; i < t->nreleases; i++) {
		const Bootmeta__V1__Release *r = t->releases[i].release;
		if (i)
			printf("\n");
		printf("project   %s\nrelease   %s%s%s%s\n", r->project, r->id, *r->version ? " (" : "", r->version,
		       *r->version ? ")" : "");
		for (j = 0; j < r->n_sources; j++)
			printf("source    %s @ %s\n", r->sources[j]->url, r->sources[j]->commit);
		if (!t->releases[i].nchannels)
			printf("channels  (none points at this release now)\n");
		for (j = 0; j < t->releases[i].nchannels; j++)
			printf("channel   %s (#%llu)\n", t->releases[i].channels[j]->channel,
			       (unsigned long long)t->releases[i].channels[j]->seq);
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
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "require-signed", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_trace *t = NULL;
	bm_buf out = BM_BUF_INIT;
	const char *project = NULL;
	int c, rc = BM_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': project = optarg; break;
		case 'S': cli->require_signed = 1; break;
		case 'h': fputs(usage, stdout); return BM_EXIT_OK;
		default: return cli_usage(usage, NULL);
		}
	}
	if (argc - optind != 1)
		return cli_usage(usage, "trace takes one FILE, SHA256 or RELEASE");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_trace_run(&t, fs, argv[optind], project) < 0 ||
	    trace_require_signed(cli, s, fs, t) < 0) {
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
