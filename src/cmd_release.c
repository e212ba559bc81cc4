/* cmd_release.c: `bootmeta release add|list|show`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: bootmeta release add PROJECT (--source URL@COMMIT | --source-dir DIR)...\n"
	"                            [--id ID] [--version V] [--note TEXT] [--allow-dirty]\n"
	"                            [--import MODULE@VERSION]... [--go-mod FILE]\n"
	"       bootmeta release list PROJECT\n"
	"       bootmeta release show PROJECT ID\n\n"
	"A release records EVERY source repo it was built from, each at a full commit hash.\n"
	"--source-dir reads a local checkout's origin URL and HEAD (refusing uncommitted changes\n"
	"to tracked files unless --allow-dirty). The id defaults to the first source's commit.\n"
	"--import (repeatable) and --go-mod (the require lines of a go.mod, `// indirect` kept) record\n"
	"the modules the release imports; `bootmeta dependents MODULE` finds them.\n";

static int release_add(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_SRC = 256, OPT_DIR, OPT_ID, OPT_VERSION, OPT_NOTE, OPT_DIRTY, OPT_IMPORT, OPT_GOMOD };
	static const cli_opt opts[] = {
		{ OPT_SRC, "source", 0, 1 },
		{ OPT_DIR, "source-dir", 0, 1 },
		{ OPT_ID, "id", 0, 1 },
		{ OPT_VERSION, "version", 0, 1 },
		{ OPT_NOTE, "note", 0, 1 },
		{ OPT_DIRTY, "allow-dirty", 0, 0 },
		{ OPT_IMPORT, "import", 0, 1 },
		{ OPT_GOMOD, "go-mod", 0, 1 },
		CLI_OPT_END,
	};
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_write_options w;
	bm_source *sources = NULL;
	bm_strlist urls = BM_STRLIST_INIT, commits = BM_STRLIST_INIT;
	bm_buf url = BM_BUF_INIT, commit = BM_BUF_INIT, out = BM_BUF_INIT;
	Bootmeta__V1__Release *r = NULL;
	bm_store *s = NULL;
	bm_oid mc;
	char hex[BM_OID_HEXSZ + 1];
	size_t n = 0, i;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;
	/* imports: --import strings and go.mod requires, kept alive until the write */
	bm_strlist imods = BM_STRLIST_INIT, ivers = BM_STRLIST_INIT;
	bm_module_import *imports = NULL;
	bm_gomod *gomod = NULL;
	size_t nimp = 0, gbase = 0;

	if (!(sources = calloc((size_t)argc + 1, sizeof(*sources))))
		return cli_error(cli, BM_ENOMEM, "out of memory");
	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_SRC:
			/* parsed now so a bad --source is a usage-level error before the repo is opened */
			if (bm_source_parse(&url, &commit, a.value) < 0) {
				rc = cli_fail(cli, "release add");
				goto done;
			}
			bm_strlist_add(&urls, url.ptr);
			bm_strlist_add(&commits, commit.ptr);
			/* the strings stay put when the lists grow */
			sources[n].url = urls.items[urls.count - 1];
			sources[n].commit = commits.items[commits.count - 1];
			n++;
			break;
		case OPT_DIR: sources[n].dir = a.value; n++; break;
		case OPT_ID: ro.id = a.value; break;
		case OPT_VERSION: ro.release_version = a.value; break;
		case OPT_NOTE: ro.note = a.value; break;
		case OPT_DIRTY: ro.allow_dirty = 1; break;
		case OPT_IMPORT:
			if (bm_import_parse(&url, &commit, a.value) < 0) {
				rc = cli_fail(cli, "release add");
				goto done;
			}
			bm_strlist_add(&imods, url.ptr);
			bm_strlist_add(&ivers, commit.ptr);
			break;
		case OPT_GOMOD: {
			bm_buf text = BM_BUF_INIT;
			size_t k;
			if (gomod) {
				rc = cli_usage(usage, "--go-mod is given once");
				goto done;
			}
			if (bm_file_read(&text, a.value, BM_GOMOD_MAX_SIZE) < 0 ||
			    bm_gomod_parse(&gomod, text.ptr ? text.ptr : "", text.size) < 0) {
				bm_buf_dispose(&text);
				rc = cli_fail(cli, "release add --go-mod");
				goto done;
			}
			bm_buf_dispose(&text);
			gbase = imods.count;
			for (k = 0; k < gomod->require_count; k++) {
				bm_strlist_add(&imods, gomod->requires[k].module);
				bm_strlist_add(&ivers, gomod->requires[k].version);
			}
			break;
		}
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos != 1) {
		rc = cli_usage(usage, "release add takes one PROJECT");
		goto done;
	}
	if (n == 0) {
		rc = cli_usage(usage, "release add needs --source URL@COMMIT or --source-dir DIR for every repo "
				      "the release was built from");
		goto done;
	}
	ro.sources = sources;
	ro.nsources = n;
	if (imods.count) {
		size_t k;
		nimp = imods.count;
		if (!(imports = calloc(nimp, sizeof(*imports)))) {
			rc = cli_error(cli, BM_ENOMEM, "out of memory");
			goto done;
		}
		for (k = 0; k < nimp; k++) {
			imports[k].module = imods.items[k];
			imports[k].version = ivers.items[k];
		}
		for (k = 0; gomod && k < gomod->require_count; k++)
			imports[gbase + k].indirect = gomod->requires[k].indirect;
		ro.imports = imports;
		ro.nimports = nimp;
	}
	cli_write_options(&w, cli);
	ro.write = &w;
	if (bm_project_name_check(a.pos[0]) < 0 || cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "release add");
		goto done;
	}
	cli_progress(cli, "recording a release of %s from %zu source%s", a.pos[0], n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		if (sources[i].dir && !*sources[i].dir) { /* the flag is the CLI's to name */
			bm_error_set(BM_EINVALID, "empty --source-dir");
			rc = cli_fail(cli, "release add");
			goto done;
		}
	if (bm_release_add(&r, &mc, s, a.pos[0], &ro) < 0) {
		rc = cli_fail(cli, "release add");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, r, &mc) < 0) {
			rc = cli_fail(cli, "release add");
			goto done;
		}
		cli_put(&out);
	} else {
		printf("added release %s of %s (meta commit %s)\n", cli_esc(r->id), cli_esc(r->project), cli_short(hex, &mc));
		for (i = 0; i < r->n_sources; i++)
			printf("  source %s @ %s\n", cli_esc(r->sources[i]->url), cli_esc(r->sources[i]->commit));
		for (i = 0; i < r->n_imports; i++)
			printf("  import %s@%s%s\n", cli_esc(r->imports[i]->module), cli_esc(r->imports[i]->version),
			       r->imports[i]->indirect ? " (indirect)" : "");
	}
	rc = BM_EXIT_OK;
done:
	free(imports);
	bm_gomod_free(gomod);
	bm_strlist_dispose(&imods);
	bm_strlist_dispose(&ivers);
	bm_meta_free(r);
	bm_store_free(s);
	bm_buf_dispose(&url);
	bm_buf_dispose(&commit);
	bm_buf_dispose(&out);
	bm_strlist_dispose(&urls);
	bm_strlist_dispose(&commits);
	free(sources);
	return rc;
}

static int release_list(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_strlist ids = BM_STRLIST_INIT;
	bm_buf out = BM_BUF_INIT;
	size_t i;
	int rc = BM_EXIT_FAIL, bad = 0;

	if (cli_operands(cli, &argc, argv, usage, &rc))
		return rc;
	if (argc != 2)
		return cli_usage(usage, "release list takes one PROJECT");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_release_list(&ids, fs, argv[1]) < 0) {
		rc = cli_fail(cli, "release list");
		goto done;
	}
	if (cli->json)
		bm_buf_putc(&out, '[');
	else if (ids.count)
		printf("%-42s %-12s %-20s %-7s %s\n", "RELEASE", "VERSION", "CREATED", "SOURCES", "BY");
	for (i = 0; i < ids.count; i++) {
		Bootmeta__V1__Release *r = NULL;
		char when[40];
		if (bm_release_get(&r, fs, argv[1], ids.items[i]) < 0) {
			bad = 1;
			if (cli->json) {
				bm_buf p = BM_BUF_INIT;
				bm_path_release(&p, argv[1], ids.items[i]);
				cli_json_error_item(&out, out.size > 1, p.ptr);
				bm_buf_dispose(&p);
			} else {
				cli_fail(cli, "release list");
			}
			continue;
		}
		if (cli->json) {
			if (out.size > 1)
				bm_buf_putc(&out, ',');
			cli_record_json(&out, r, 0);
		} else {
			cli_time_fmt(when, sizeof(when), r->created_ms);
			printf("%-42s %-12s %-20s %-7zu %s\n", cli_esc(r->id), cli_esc(*r->version ? r->version : "-"), when, r->n_sources,
			       cli_esc(r->actor));
		}
		bm_meta_free(r);
	}
	if (cli->json) {
		bm_buf_putc(&out, ']');
		cli_put(&out);
	} else if (!ids.count) {
		printf("no releases of %s yet\n", argv[1]);
	}
	rc = bad ? BM_EXIT_FAIL : BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_strlist_dispose(&ids);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int release_show(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	Bootmeta__V1__Release *r = NULL;
	bm_buf out = BM_BUF_INIT;
	char when[40];
	size_t i;
	int rc = BM_EXIT_FAIL;

	if (cli_operands(cli, &argc, argv, usage, &rc))
		return rc;
	if (argc != 3)
		return cli_usage(usage, "release show takes PROJECT and ID");
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_release_get(&r, fs, argv[1], argv[2]) < 0) {
		rc = cli_fail(cli, "release show");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, r, bm_fs_commit(fs)) < 0) {
			rc = cli_fail(cli, "release show");
			goto done;
		}
		cli_put(&out);
	} else {
		cli_time_fmt(when, sizeof(when), r->created_ms);
		printf("project   %s\nrelease   %s\n", cli_esc(r->project), cli_esc(r->id));
		if (*r->version)
			printf("version   %s\n", cli_esc(r->version));
		for (i = 0; i < r->n_sources; i++)
			printf("source    %s @ %s\n", cli_esc(r->sources[i]->url), cli_esc(r->sources[i]->commit));
		for (i = 0; i < r->n_imports; i++)
			printf("import    %s@%s%s\n", cli_esc(r->imports[i]->module), cli_esc(r->imports[i]->version),
			       r->imports[i]->indirect ? " (indirect)" : "");
		if (*r->note)
			printf("note      %s\n", cli_esc(r->note));
		printf("created   %s by %s\n", when, cli_esc(r->actor));
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_meta_free(r);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

int cmd_release(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "add", NULL, release_add, CLI_WRITES, NULL },
		{ "list", NULL, release_list, 0, NULL },
		{ "show", NULL, release_show, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
