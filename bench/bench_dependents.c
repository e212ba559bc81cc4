/* bench_dependents.c: `dependents MODULE` in-process on a meta repo with 10,000 releases
 * (100 projects x 100 releases, each importing 5 of 50 modules, so a module has ~1,000
 * importers; 2 channels per project), built in a few large commits. Times bm_dependents on
 * the open store, warm. Prints "name value unit" lines.
 *
 *   bench_dependents --repo DIR [--projects 100] [--releases 100] [--iters 200] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootmeta.h"
#include "bootmeta/v1/core.pb-c.h"

static size_t nproj = 100, nrel = 100;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add_pb(bm_txn *txn, const char *path, const ProtobufCMessage *m)
{
	bm_buf b = BM_BUF_INIT;
	int error = bm_record_encode(&b, m);
	if (!error)
		error = bm_txn_add(txn, path, b.ptr ? b.ptr : "", b.size);
	bm_buf_dispose(&b);
	return error;
}

/* One commit per project: its project record, releases, index records and channels. */
static int fill(bm_txn *txn, void *payload)
{
	size_t p = *(size_t *)payload, r, k;
	char path[512], project[64], id[32], mod[64], ver[32], commit[41];
	int error;
	snprintf(project, sizeof(project), "org%02zu/svc", p);
	snprintf(path, sizeof(path), "projects/%s/project.pb", project);
	if ((error = bm_txn_add(txn, path, "", 0)) < 0)
		return error;
	for (r = 0; r < nrel; r++) {
		Bootmeta__V1__Release rel = BOOTMETA__V1__RELEASE__INIT;
		Bootmeta__V1__Source src = BOOTMETA__V1__SOURCE__INIT, *srcs[1] = { &src };
		Bootmeta__V1__ModuleImport imps[5], *ip[5];
		bm_module_import mi[5];
		char mods[5][64], vers[5][32];
		snprintf(id, sizeof(id), "r%04zu", r);
		memset(commit, 'a' + (int)(r % 6), 40);
		commit[40] = '\0';
		src.url = (char *)"https://example.com/org.git";
		src.commit = commit;
		rel.project = project;
		rel.id = id;
		rel.sources = srcs;
		rel.n_sources = 1;
		for (k = 0; k < 5; k++) {
			snprintf(mods[k], sizeof(mods[k]), "example.com/lib%02zu", (p * 7 + r * 3 + k * 11) % 50);
			snprintf(vers[k], sizeof(vers[k]), "v1.%zu.0", r % 10);
			bootmeta__v1__module_import__init(&imps[k]);
			imps[k].module = mods[k];
			imps[k].version = vers[k];
			ip[k] = &imps[k];
			mi[k].module = mods[k];
			mi[k].version = vers[k];
			mi[k].indirect = 0;
		}
		rel.imports = ip;
		rel.n_imports = 5;
		snprintf(path, sizeof(path), "projects/%s/releases/%s.pb", project, id);
		if ((error = add_pb(txn, path, &rel.base)) < 0)
			return error;
		if ((error = bm_module_index_add_txn(txn, project, id, mi, 5)) < 0)
			return error;
	}
	for (k = 0; k < 2; k++) {
		Bootmeta__V1__ChannelEntry e = BOOTMETA__V1__CHANNEL_ENTRY__INIT;
		snprintf(id, sizeof(id), "r%04zu", nrel - 1 - k);
		e.seq = 1;
		e.project = project;
		e.channel = (char *)(k ? "beta" : "stable");
		e.release = id;
		snprintf(path, sizeof(path), "projects/%s/channels/%s/0000000/0000000001.pb", project, e.channel);
		if ((error = add_pb(txn, path, &e.base)) < 0)
			return error;
	}
	(void)mod;
	(void)ver;
	return 0;
}

static int die(const char *what)
{
	fprintf(stderr, "bench_dependents: %s: %s\n", what, bm_error_last());
	return 1;
}

int main(int argc, char **argv)
{
	const char *repo = NULL;
	size_t iters = 200, i, total = 0;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_module_refs refs;
	double t0, t;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--repo") && a + 1 < argc)
			repo = argv[++a];
		else if (!strcmp(argv[a], "--projects") && a + 1 < argc)
			nproj = strtoul(argv[++a], NULL, 10);
		else if (!strcmp(argv[a], "--releases") && a + 1 < argc)
			nrel = strtoul(argv[++a], NULL, 10);
		else if (!strcmp(argv[a], "--iters") && a + 1 < argc)
			iters = strtoul(argv[++a], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_dependents --repo DIR [--projects N] [--releases N] [--iters N]\n");
			return 2;
		}
	}
	if (!repo || !nproj || nproj > 100 || !nrel || nrel > 10000 || !iters)
		return 2;
	setenv("BOOTMETA_ACTOR", "Bench <bench@example.com>", 0);
	if (bm_global_init() < 0 || bm_store_init(&s, repo) < 0)
		return die("init");
	t0 = now_s();
	for (i = 0; i < nproj; i++)
		if (bm_store_write(NULL, s, fill, &i, NULL) < 0)
			return die("fill");
	fprintf(stderr, "bench_dependents: %zu releases written in %.1f s\n", nproj * nrel, now_s() - t0);
	if (bm_store_fs(&fs, s, NULL) < 0)
		return die("fs");
	if (bm_dependents(&refs, fs, "example.com/lib07", NULL, NULL, NULL) < 0)
		return die("dependents");
	printf("releases %zu\nimporters_of_one_module %zu\n", nproj * nrel, refs.count);
	bm_module_refs_dispose(&refs);
	t0 = now_s();
	for (i = 0; i < iters; i++) {
		if (bm_dependents(&refs, fs, "example.com/lib07", NULL, NULL, NULL) < 0)
			return die("dependents");
		total += refs.count;
		bm_module_refs_dispose(&refs);
	}
	t = (now_s() - t0) / (double)iters;
	printf("dependents_all_versions %.2f ms\n", t * 1e3);
	t0 = now_s();
	for (i = 0; i < iters; i++) {
		if (bm_dependents(&refs, fs, "example.com/lib07", "v1.3.0", NULL, NULL) < 0)
			return die("dependents");
		total += refs.count;
		bm_module_refs_dispose(&refs);
	}
	t = (now_s() - t0) / (double)iters;
	printf("dependents_one_version %.2f ms\n", t * 1e3);
	bm_fs_free(fs);
	bm_store_free(s);
	bm_global_shutdown();
	return total ? 0 : 1;
}
