/* test_store.c: the store's write and read paths: transactions, compare-and-swap replay,
 * append-only adds, format checks and the file-system views. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmtest.h"

static int setup(void **state)
{
	(void)state;
	setenv("BOOTMETA_ACTOR", BMT_ACTOR, 1); /* which the library must not read */
	return bmt_setup("store");
}

static int teardown(void **state)
{
	(void)state;
	return bmt_teardown();
}

typedef struct {
	const char *path;
	const char *data;
	bm_store *other; /* when set: the first attempt lets another writer move main first */
	int runs;
} add_ctx;

static int add_one(bm_txn *txn, void *payload)
{
	add_ctx *c = payload;
	c->runs++;
	if (c->other && bm_txn_attempt(txn) == 1) {
		add_ctx inner = { "other/file", "x", NULL, 0 };
		assert_int_equal(bm_store_write(NULL, c->other, add_one, &inner, NULL), 0);
	}
	bm_txn_message(txn, "add %s", c->path);
	return bm_txn_add(txn, c->path, c->data, strlen(c->data));
}

static void test_init_write_read(void **state)
{
	char p[512];
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf b = BM_BUF_INIT;
	bm_strlist l = BM_STRLIST_INIT;
	bm_oid c1, tip;
	/* a record path takes a record: a Project named "hello" */
	add_ctx ctx = { "projects/a/b/project.pb", "\n\x05hello", NULL, 0 };
	(void)state;

	bmt_path(p, sizeof(p), "r1");
	assert_int_equal(bm_store_init(&s, p), 0);
	assert_int_equal(bm_store_write(&c1, s, add_one, &ctx, NULL), 0);
	assert_int_equal(bm_store_tip(&tip, s), 0);
	assert_true(bm_oid_equal(&c1, &tip));
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_fs_read(&b, fs, "projects/a/b/project.pb"), 0);
	assert_string_equal(b.ptr, "\n\x05hello");
	assert_int_equal(bm_fs_read(&b, fs, "projects/nope.pb"), BM_ENOTFOUND);
	assert_int_equal(bm_fs_list(&l, fs, "projects/a"), 0);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0], "b/");
	assert_int_equal(bm_fs_exists(fs, "projects/a"), 2);
	assert_int_equal(bm_fs_exists(fs, "projects/a/b/project.pb"), 1);
	assert_int_equal(bm_fs_exists(fs, "nothing"), 0);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&b);
	bm_fs_free(fs);

	/* append-only: the same path again is refused and nothing is committed */
	ctx.data = "other";
	assert_int_equal(bm_store_write(NULL, s, add_one, &ctx, NULL), BM_EEXISTS);
	assert_int_equal(bm_store_tip(&tip, s), 0);
	assert_true(bm_oid_equal(&c1, &tip));
	/* a file under a record, and bad paths */
	ctx.path = "projects/a/b/project.pb/x";
	assert_int_equal(bm_store_write(NULL, s, add_one, &ctx, NULL), BM_EEXISTS);
	ctx.path = "../escape";
	assert_int_equal(bm_store_write(NULL, s, add_one, &ctx, NULL), BM_EINVALID);
	ctx.path = "/abs";
	assert_int_equal(bm_store_write(NULL, s, add_one, &ctx, NULL), BM_EINVALID);
	ctx.path = "a/.git/x";
	assert_int_equal(bm_store_write(NULL, s, add_one, &ctx, NULL), BM_EINVALID);
	assert_int_equal(bm_store_tip(&tip, s), 0);
	assert_true(bm_oid_equal(&c1, &tip));
	bm_store_free(s);
}

static void test_conflict_replays(void **state)
{
	char p[512];
	bm_store *s = NULL, *s2 = NULL;
	bm_fs *fs = NULL;
	add_ctx ctx = { "mine", "1", NULL, 0 };
	(void)state;

	bmt_path(p, sizeof(p), "r2");
	assert_int_equal(bm_store_init(&s, p), 0);
	assert_int_equal(bm_store_open(&s2, p), 0);
	ctx.other = s2;
	assert_int_equal(bm_store_write(NULL, s, add_one, &ctx, NULL), 0);
	assert_int_equal(ctx.runs, 2); /* ran again on the moved tip */
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_fs_exists(fs, "mine"), 1);
	assert_int_equal(bm_fs_exists(fs, "other/file"), 1);
	bm_fs_free(fs);
	bm_store_free(s2);
	bm_store_free(s);
}

static void test_open_errors(void **state)
{
	char p[512], cmd[1200];
	bm_store *s = NULL;
	(void)state;

	bmt_path(p, sizeof(p), "missing");
	assert_int_equal(bm_store_open(&s, p), BM_ENOTFOUND);
	assert_int_equal(bm_error_last_about(NULL), BM_ABOUT_REPO); /* the CLI's hint names `bootmeta init` */

	/* a plain git repo is not a meta repo */
	bmt_path(p, sizeof(p), "plain");
	snprintf(cmd, sizeof(cmd), "git init -q --bare %s", p);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bm_store_open(&s, p), BM_EFORMAT);
	assert_non_null(strstr(bm_error_last(), "not a bootmeta meta repo"));

	/* a newer format is refused */
	bmt_path(p, sizeof(p), "newer");
	assert_int_equal(bm_store_init(&s, p), 0);
	bm_store_free(s);
	snprintf(cmd, sizeof(cmd),
		 "set -e; d=$(mktemp -d); git clone -q %s $d/w 2>/dev/null; cd $d/w; echo 99 > .bootmeta/format; "
		 "git -c user.name=t -c user.email=t@t commit -qam newer; git push -q origin HEAD:main; rm -rf $d", p);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bm_store_open(&s, p), BM_EFORMAT);
	assert_non_null(strstr(bm_error_last(), "upgrade bootmeta"));

	/* init refuses a folder that is not empty */
	bmt_path(p, sizeof(p), "plain");
	assert_int_equal(bm_store_init(&s, p), BM_EEXISTS);
}

static void test_clone_push(void **state)
{
	char p[512], c1p[512], c2p[512];
	bm_store *s = NULL, *c1 = NULL, *c2 = NULL;
	bm_fs *fs = NULL;
	add_ctx a = { "from-c1", "1", NULL, 0 }, b = { "from-c2", "2", NULL, 0 };
	(void)state;

	bmt_path(p, sizeof(p), "origin");
	bmt_path(c1p, sizeof(c1p), "clone1");
	bmt_path(c2p, sizeof(c2p), "clone2");
	assert_int_equal(bm_store_init(&s, p), 0);
	assert_int_equal(bm_store_clone(&c1, p, c1p), 0);
	assert_int_equal(bm_store_clone(&c2, p, c2p), 0);
	assert_true(bm_store_has_remote(c1));
	assert_int_equal(bm_store_write(NULL, c1, add_one, &a, NULL), 0);
	/* c2 is stale: its push is refused, it fetches, replays and pushes again */
	assert_int_equal(bm_store_write(NULL, c2, add_one, &b, NULL), 0);
	assert_int_equal(b.runs, 2);
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_fs_exists(fs, "from-c1"), 1);
	assert_int_equal(bm_fs_exists(fs, "from-c2"), 1);
	bm_fs_free(fs);
	assert_int_equal(bm_store_pull(NULL, c1), 0);
	assert_int_equal(bm_store_fs(&fs, c1, NULL), 0);
	assert_int_equal(bm_fs_exists(fs, "from-c2"), 1);
	bm_fs_free(fs);
	bm_store_free(c1);
	bm_store_free(c2);
	bm_store_free(s);
}

static int count_cb(const bm_commit_info *info, void *payload)
{
	(void)info;
	(*(int *)payload)++;
	return 0;
}

static void test_log_and_mem_fs(void **state)
{
	char p[512];
	bm_store *s = NULL;
	bm_fs *m = NULL;
	bm_strlist l = BM_STRLIST_INIT;
	bm_buf b = BM_BUF_INIT;
	add_ctx a = { "x/one", "1", NULL, 0 }, c = { "y/two", "2", NULL, 0 };
	int n = 0;
	(void)state;

	bmt_path(p, sizeof(p), "log");
	assert_int_equal(bm_store_init(&s, p), 0);
	assert_int_equal(bm_store_write(NULL, s, add_one, &a, NULL), 0);
	assert_int_equal(bm_store_write(NULL, s, add_one, &c, NULL), 0);
	assert_int_equal(bm_store_log(s, "x/one", 0, count_cb, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(bm_store_log(s, NULL, 0, count_cb, &n), 0);
	assert_int_equal(n, 3);
	bm_store_free(s);

	assert_int_equal(bm_fs_mem(&m), 0);
	assert_int_equal(bm_fs_mem_put(m, "a/b/c", "z", 1), 0);
	assert_int_equal(bm_fs_mem_put(m, "a/d", "w", 1), 0);
	assert_int_equal(bm_fs_list(&l, m, "a"), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0], "b/");
	assert_string_equal(l.items[1], "d");
	assert_int_equal(bm_fs_read(&b, m, "a/b/c"), 0);
	assert_string_equal(b.ptr, "z");
	assert_int_equal(bm_fs_list(&l, m, "nope"), BM_ENOTFOUND);
	bm_buf_dispose(&b);
	bm_strlist_dispose(&l);
	bm_fs_free(m);
}

/* git config in `repo` (a fresh store handle reads it). */
static void git_config_set(const char *repo, const char *key, const char *value)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "git --git-dir='%s' config %s %s", repo, key, value);
	assert_int_equal(system(cmd), 0);
}

static int require_signed_of(const char *repo, int opened_with)
{
	bm_store_open_options so = BM_STORE_OPEN_OPTIONS_INIT;
	bm_store *s = NULL;
	int v;
	so.require_signed = opened_with;
	assert_int_equal(bm_store_open_ext(&s, repo, &so), 0);
	v = bm_store_require_signed(s);
	bm_store_free(s);
	return v;
}

/* The library takes its policy from its caller, never from the environment: $BOOTMETA_*
 * changes nothing, and a signed-commit requirement set anywhere holds (OR). */
static void test_policy_not_from_env(void **state)
{
	static const char *const lowering[] = { "0", "yes", "false", "", "no" };
	char p[512], cwd[4096];
	bm_store *s = NULL;
	bm_buf a = BM_BUF_INIT;
	add_ctx ctx = { "projects/p/q/project.pb", "\n\x05hello", NULL, 0 };
	size_t i;
	(void)state;

	bmt_path(p, sizeof(p), "policy");
	assert_int_equal(bm_store_init(&s, p), 0);
	bm_store_free(s);

	/* the environment neither raises nor lowers the requirement */
	setenv("BOOTMETA_REQUIRE_SIGNED", "1", 1);
	assert_int_equal(require_signed_of(p, 0), 0);
	git_config_set(p, "bootmeta.requireSigned", "true");
	for (i = 0; i < sizeof(lowering) / sizeof(lowering[0]); i++) {
		setenv("BOOTMETA_REQUIRE_SIGNED", lowering[i], 1);
		assert_int_equal(require_signed_of(p, 0), 1);
	}
	unsetenv("BOOTMETA_REQUIRE_SIGNED");
	/* git config false does not lower the opener's requirement, nor the reverse */
	assert_int_equal(require_signed_of(p, 1), 1);
	git_config_set(p, "bootmeta.requireSigned", "false");
	assert_int_equal(require_signed_of(p, 1), 1);
	assert_int_equal(require_signed_of(p, 0), 0);

	/* $BOOTMETA_ACTOR is not the default actor; a given one wins */
	setenv("BOOTMETA_ACTOR", "Env <env@example.com>", 1);
	assert_int_equal(bm_actor_default(&a, NULL), 0);
	assert_string_not_equal(a.ptr, "Env <env@example.com>");
	assert_int_equal(bm_actor_default(&a, "Flag <flag@example.com>"), 0);
	assert_string_equal(a.ptr, "Flag <flag@example.com>");

	/* $BOOTMETA_SIGNING_KEY is not loaded (a missing key would fail the write) */
	setenv("BOOTMETA_SIGNING_KEY", "/nonexistent/signing_key", 1);
	assert_int_equal(bm_store_open(&s, p), 0);
	assert_int_equal(bm_store_write(NULL, s, add_one, &ctx, NULL), 0);
	bm_store_free(s);
	unsetenv("BOOTMETA_SIGNING_KEY");

	/* $BOOTMETA_REPO does not pick the repo: NULL means discovery from the current folder */
	setenv("BOOTMETA_REPO", p, 1);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(bm_store_open(&s, NULL), BM_ENOTFOUND);
	assert_int_equal(chdir(cwd), 0);
	unsetenv("BOOTMETA_REPO");
	unsetenv("BOOTMETA_ACTOR");
	setenv("BOOTMETA_ACTOR", "Test <test@example.com>", 1); /* as setup left it */
	bm_buf_dispose(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_write_read),
		cmocka_unit_test(test_conflict_replays),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_clone_push),
		cmocka_unit_test(test_log_and_mem_fs),
		cmocka_unit_test(test_policy_not_from_env),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
