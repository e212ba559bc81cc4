/* bmtest.c: the shared set-up of the unit suites (see bmtest.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmtest.h"

char bmt_dir[256];

int bmt_setup(const char *suite)
{
	snprintf(bmt_dir, sizeof(bmt_dir), "/tmp/bm-test-%s-XXXXXX", suite);
	assert_non_null(mkdtemp(bmt_dir));
	return bm_global_init();
}

int bmt_teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", bmt_dir);
	bm_global_shutdown();
	return system(cmd);
}

void bmt_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", bmt_dir, name);
}

static bm_store *store_of(const char *name, const char *actor, int create)
{
	char p[512];
	bm_store *s = NULL;
	bm_store_open_options so = BM_STORE_OPEN_OPTIONS_INIT;
	so.actor = actor ? actor : BMT_ACTOR;
	bmt_path(p, sizeof(p), name);
	assert_int_equal(create ? bm_store_init_ext(&s, p, &so) : bm_store_open_ext(&s, p, &so), 0);
	return s;
}

bm_store *bmt_init(const char *name, const char *actor)
{
	return store_of(name, actor, 1);
}

bm_store *bmt_open(const char *name, const char *actor)
{
	return store_of(name, actor, 0);
}

void bmt_project(bm_store *s, const char *project, int with_source)
{
	bm_project_options po = BM_PROJECT_OPTIONS_INIT;
	const char *srcs[] = { BMT_URL };
	if (with_source) {
		po.sources = srcs;
		po.nsources = 1;
	}
	assert_int_equal(bm_project_add(NULL, NULL, s, project, &po), 0);
}

void bmt_release(bm_store *s, const char *project, const char *commit)
{
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_source src[] = { { BMT_URL, commit, NULL } };
	ro.sources = src;
	ro.nsources = 1;
	assert_int_equal(bm_release_add(NULL, NULL, s, project, &ro), 0);
}

void bmt_env(bm_store *s, const char *env)
{
	assert_int_equal(bm_env_add(NULL, s, env, NULL, NULL), 0);
}

typedef struct {
	const char *path;
	const void *data;
	size_t len;
} one_file;

static int add_file(bm_txn *txn, void *payload)
{
	one_file *f = payload;
	return bm_txn_add(txn, f->path, f->data, f->len);
}

int bmt_write_file(bm_store *s, const char *path, const void *data, size_t len, const bm_write_options *w)
{
	one_file f = { path, data, len };
	return bm_store_write(NULL, s, add_file, &f, w);
}
