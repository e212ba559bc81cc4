/* stamp_tool.c: a small driver of the build stamp, go.mod and Go build info functions for
 * the e2e tests, until the CLI grows `bootmeta stamp` and `bootmeta trace`.
 *
 *   stamp_tool emit c|go-ldflags|json PROJECT RELEASE META_COMMIT [-v VERSION] [URL@COMMIT...]
 *   stamp_tool find FILE          print the stamp found in FILE as key: value lines
 *   stamp_tool gobuildinfo FILE   print what `go version -m FILE` prints
 *   stamp_tool gomod FILE         print module, go, toolchain and requires
 *
 * Exit 0 ok, 1 failure (message on stderr: "stamp_tool: <code name>: <message>"), 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

static int fail(void)
{
	fprintf(stderr, "stamp_tool: %s: %s\n", bm_error_name(bm_error_last_code()), bm_error_last());
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: stamp_tool emit c|go-ldflags|json PROJECT RELEASE META_COMMIT [-v VERSION] [URL@COMMIT...]\n"
			"       stamp_tool find FILE | gobuildinfo FILE | gomod FILE\n");
	return 2;
}

static int cmd_emit(int argc, char **argv)
{
	bm_stamp st;
	bm_stamp_format fmt;
	bm_buf out = BM_BUF_INIT;
	int i, rc = 1;

	if (argc < 5)
		return usage();
	memset(&st, 0, sizeof(st));
	if (bm_stamp_format_from_str(&fmt, argv[1]) < 0)
		return fail();
	st.project = argv[2];
	st.release = argv[3];
	st.meta_commit = argv[4];
	if (!(st.sources = calloc((size_t)argc, sizeof(*st.sources))))
		return 1;
	for (i = 5; i < argc; i++) {
		char *at;
		if (strcmp(argv[i], "-v") == 0 && i + 1 < argc) {
			st.version = argv[++i];
			continue;
		}
		if (!(at = strrchr(argv[i], '@'))) {
			free(st.sources);
			return usage();
		}
		*at = '\0';
		st.sources[st.source_count].url = argv[i];
		st.sources[st.source_count].commit = at + 1;
		st.source_count++;
	}
	if (bm_stamp_emit(&out, &st, fmt) < 0) {
		rc = fail();
		goto done;
	}
	fwrite(out.ptr, 1, out.size, stdout);
	rc = 0;
done:
	free(st.sources);
	bm_buf_dispose(&out);
	return rc;
}

static int cmd_find(const char *path)
{
	bm_stamp *st;
	size_t i;
	if (bm_stamp_find_file(&st, path) < 0)
		return fail();
	printf("offset: %llu\nproject: %s\nrelease: %s\nversion: %s\nmeta_commit: %s\n",
	       (unsigned long long)st->offset, st->project, st->release, st->version ? st->version : "",
	       st->meta_commit);
	for (i = 0; i < st->source_count; i++)
		printf("source: %s %s\n", st->sources[i].url, st->sources[i].commit);
	bm_stamp_free(st);
	return 0;
}

static int cmd_gobuildinfo(const char *path)
{
	bm_gobuildinfo *bi;
	bm_buf out = BM_BUF_INIT;
	if (bm_gobuildinfo_read(&bi, path) < 0)
		return fail();
	printf("%s: %s\n", path, bi->go_version);
	if (bm_gobuildinfo_format(&out, bi) < 0) {
		bm_gobuildinfo_free(bi);
		return fail();
	}
	if (out.size)
		fwrite(out.ptr, 1, out.size, stdout);
	bm_buf_dispose(&out);
	bm_gobuildinfo_free(bi);
	return 0;
}

static int cmd_gomod(const char *path)
{
	bm_buf text = BM_BUF_INIT;
	bm_gomod *mod;
	size_t i;
	if (bm_file_read(&text, path, BM_GOMOD_MAX_SIZE) < 0)
		return fail();
	if (bm_gomod_parse(&mod, text.ptr ? text.ptr : "", text.size) < 0) {
		bm_buf_dispose(&text);
		return fail();
	}
	printf("module %s\n", mod->module);
	if (mod->go_version)
		printf("go %s\n", mod->go_version);
	if (mod->toolchain)
		printf("toolchain %s\n", mod->toolchain);
	for (i = 0; i < mod->require_count; i++)
		printf("require %s %s%s\n", mod->requires[i].module, mod->requires[i].version,
		       mod->requires[i].indirect ? " indirect" : "");
	bm_gomod_free(mod);
	bm_buf_dispose(&text);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;
	if (argc < 3)
		return usage();
	if (bm_global_init() < 0)
		return fail();
	if (strcmp(argv[1], "emit") == 0)
		rc = cmd_emit(argc - 1, argv + 1);
	else if (strcmp(argv[1], "find") == 0 && argc == 3)
		rc = cmd_find(argv[2]);
	else if (strcmp(argv[1], "gobuildinfo") == 0 && argc == 3)
		rc = cmd_gobuildinfo(argv[2]);
	else if (strcmp(argv[1], "gomod") == 0 && argc == 3)
		rc = cmd_gomod(argv[2]);
	else
		rc = usage();
	bm_global_shutdown();
	return rc;
}
