/* bench_config.c: `config resolve` in-process. Builds a meta repo with a 3-layer env chain
 * (base <- base/team <- base/team/alice) and 500 keys (500 in base, 100 overridden in team,
 * 20 in alice), then times bm_config_resolve on the open store, warm, with and without the
 * provenance commits. Prints "name value unit" lines.
 *
 *   bench_config --repo DIR [--keys 500] [--iters 2000]   (DIR must not exist; kept) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootmeta.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add_project(bm_txn *txn, void *payload)
{
	(void)payload;
	return bm_txn_add(txn, "projects/bench/server/project.pb", "", 0);
}

static int die(const char *what)
{
	fprintf(stderr, "bench_config: %s: %s\n", what, bm_error_last());
	return 1;
}

static int set_keys(bm_store *s, const char *env, size_t from, size_t n, const char *tag)
{
	bm_config_assign *a = calloc(n, sizeof(*a));
	char (*keys)[32] = calloc(n, sizeof(*keys));
	char (*vals)[64] = calloc(n, sizeof(*vals));
	bm_config_changes ch;
	size_t i;
	int rc;
	if (!a || !keys || !vals)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "KEY_%04zu", from + i);
		snprintf(vals[i], sizeof(vals[i]), "%s-value-%zu", tag, from + i);
		a[i].key = keys[i];
		a[i].type = BM_CONFIG_STRING;
		a[i].value = vals[i];
	}
	rc = bm_config_write(&ch, s, "bench/server", env, a, n, NULL, NULL);
	bm_config_changes_dispose(&ch);
	free(a);
	free(keys);
	free(vals);
	return rc;
}

int main(int argc, char **argv)
{
	const char *repo = NULL;
	size_t nkeys = 500, iters = 2000, i;
	bm_store *s = NULL;
	bm_env_add_options eo = BM_ENV_ADD_OPTIONS_INIT;
	bm_config_resolve_options ro = BM_CONFIG_RESOLVE_OPTIONS_INIT;
	bm_config *c = NULL;
	double t0, t;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--repo") && a + 1 < argc)
			repo = argv[++a];
		else if (!strcmp(argv[a], "--keys") && a + 1 < argc)
			nkeys = strtoul(argv[++a], NULL, 10);
		else if (!strcmp(argv[a], "--iters") && a + 1 < argc)
			iters = strtoul(argv[++a], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_config --repo DIR [--keys N] [--iters N]\n");
			return 2;
		}
	}
	if (!repo || nkeys < 100 || !iters) {
		fprintf(stderr, "usage: bench_config --repo DIR [--keys N>=100] [--iters N]\n");
		return 2;
	}
	setenv("BOOTMETA_ACTOR", "Bench <bench@example.com>", 0);
	if (bm_global_init() < 0)
		return die("init");
	if (bm_store_init(&s, repo) < 0)
		return die("store init");
	if (bm_store_write(NULL, s, add_project, NULL, NULL) < 0)
		return die("project");
	if (bm_env_add(NULL, s, "base", &eo, NULL) < 0 || bm_env_add(NULL, s, "base/team", &eo, NULL) < 0 ||
	    bm_env_add(NULL, s, "base/team/alice", &eo, NULL) < 0)
		return die("envs");
	if (set_keys(s, "base", 0, nkeys, "base") < 0 || set_keys(s, "base/team", 0, nkeys / 5, "team") < 0 ||
	    set_keys(s, "base/team/alice", 0, nkeys / 25, "alice") < 0)
		return die("config set");
	/* some history: 50 single-key changes in the leaf */
	for (i = 0; i < 50; i++)
		if (set_keys(s, "base/team/alice", i % 20, 1, i % 2 ? "x" : "y") < 0)
			return die("config set");

	/* warm up, check */
	if (bm_config_resolve(&c, s, "bench/server", "base/team/alice", NULL) < 0)
		return die("resolve");
	if (c->count != nkeys || strncmp(bm_config_get(c, "KEY_0000")->env, "base/team/alice", 15)) {
		fprintf(stderr, "bench_config: resolve gave %zu keys\n", c->count);
		return 1;
	}
	bm_config_free(c);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		if (bm_config_resolve(&c, s, "bench/server", "base/team/alice", NULL) < 0)
			return die("resolve");
		bm_config_free(c);
	}
	t = (now_s() - t0) / (double)iters;
	printf("resolve_3_layers_%zu_keys %.1f us\n", nkeys, t * 1e6);

	ro.with_commits = 1;
	t0 = now_s();
	for (i = 0; i < iters / 20 + 1; i++) {
		if (bm_config_resolve(&c, s, "bench/server", "base/team/alice", &ro) < 0)
			return die("resolve with commits");
		bm_config_free(c);
	}
	t = (now_s() - t0) / (double)(iters / 20 + 1);
	printf("resolve_with_commits %.1f us\n", t * 1e6);

	/* a cold process's work: open the store, then resolve once */
	t0 = now_s();
	for (i = 0; i < iters / 20 + 1; i++) {
		bm_store *s2 = NULL;
		if (bm_store_open(&s2, repo) < 0 || bm_config_resolve(&c, s2, "bench/server", "base/team/alice", NULL) < 0)
			return die("open+resolve");
		bm_config_free(c);
		bm_store_free(s2);
	}
	t = (now_s() - t0) / (double)(iters / 20 + 1);
	printf("open_and_resolve %.1f us\n", t * 1e6);
	bm_store_free(s);
	bm_global_shutdown();
	return 0;
}
