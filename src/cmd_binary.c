/* cmd_binary.c: `bootmeta binary add|show`. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: bootmeta binary add PROJECT RELEASE FILE --os OS --arch ARCH [--url URL]...\n"
	"       bootmeta binary show SHA256\n\n"
	"add hashes FILE (sha256 and size, streamed) and records it as built from RELEASE of\n"
	"PROJECT, under binaries/<sha256[0:2]>/<sha256>.pb. --url says where the artifact lives.\n"
	"A binary is recorded once; adding the same file again is refused.\n";

static int binary_add(bm_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "os", required_argument, NULL, 'o' },
		{ "arch", required_argument, NULL, 'a' },
		{ "url", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bm_binary_options bo = BM_BINARY_OPTIONS_INIT;
	bm_write_options w;
	bm_strlist urls = BM_STRLIST_INIT;
	Bootmeta__V1__Binary *b = NULL;
	bm_store *s = NULL;
	bm_buf out = BM_BUF_INIT;
	bm_oid mc;
	char hex[BM_OID_HEXSZ + 1];
	int c, rc = BM_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': bo.os = optarg; break;
		case 'a': bo.arch = optarg; break;
		case 'u': bm_strlist_add(&urls, optarg); break;
		case 'h': fputs(usage, stdout); rc = BM_EXIT_OK; goto done;
		default: rc = cli_usage(usage, NULL); goto done;
		}
	}
	if (argc - optind != 3) {
		rc = cli_usage(usage, "binary add takes PROJECT, RELEASE and FILE");
		goto done;
	}
	if (!bo.os || !bo.arch) {
		rc = cli_usage(usage, "binary add needs --os and --arch (e.g. --os linux --arch amd64)");
		goto done;
	}
	bo.urls = (const char *const *)urls.items;
	bo.nurls = urls.count;
	cli_write_options(&w, cli);
	bo.write = &w;
	if (bm_project_name_check(argv[optind]) < 0 || bm_name_validate(argv[optind + 1], BM_NAME_RELEASE) < 0 ||
	    cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "binary add");
		goto done;
	}
	cli_progress(cli, "hashing %s and recording it as %s %s", argv[optind + 2], argv[optind], argv[optind + 1]);
	if (bm_binary_add(&b, &mc, s, argv[optind], argv[optind + 1], argv[optind + 2], &bo) < 0) {
		rc = cli_fail(cli, "binary add");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, b, &mc) < 0) {
			rc = cli_fail(cli, "binary add");
			goto done;
		}
		cli_put(&out);
	} else {
		printf("added binary %s (%llu bytes, %s/%s) of %s %s (meta commit %s)\n", b->sha256,
		       (unsigned long long)b->size, b->os, b->arch, b->project, b->release, cli_short(hex, &mc));
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_meta_free(b);
	bm_store_free(s);
	bm_strlist_dispose(&urls);
	return rc;
}

static int binary_show(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	Bootmeta__V1__Binary *b = NULL;
	bm_buf out = BM_BUF_INIT;
	char when[40];
	size_t i;
	int rc = BM_EXIT_FAIL;

	if (argc != 2)
		return cli_usage(usage, "binary show takes one SHA256");
	if (bm_sha256_check(argv[1]) < 0 || cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_binary_get(&b, fs, argv[1]) < 0) {
		rc = cli_fail(cli, "binary show");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, b, bm_fs_commit(fs)) < 0) {
			rc = cli_fail(cli, "binary show");
			goto done;
		}
		cli_put(&out);
	} else {
		cli_time_fmt(when, sizeof(when), b->created_ms);
		printf("sha256    %s\nsize      %llu\nplatform  %s/%s\nproject   %s\nrelease   %s\n", b->sha256,
		       (unsigned long long)b->size, b->os, b->arch, b->project, b->release);
		for (i = 0; i < b->n_urls; i++)
			printf("url       %s\n", b->urls[i]);
		if (*b->signer_key_id)
			printf("signed by %s\n", b->signer_key_id);
		printf("created   %s by %s\n", when, b->actor);
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_meta_free(b);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

int cmd_binary(bm_cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(usage, NULL);
	if (cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return BM_EXIT_OK;
	}
	if (!strcmp(argv[1], "add"))
		return binary_add(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return binary_show(cli, argc - 1, argv + 1);
	return cli_usage(usage, "unknown binary command '%s'", argv[1]);
}
