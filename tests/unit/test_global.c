/* test_global.c: bm_global_init_opts: versioned options checked, reference counting, the
 * first call's options kept; the object cache's limit set and read back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bootmeta.h"

static void test_options_checked(void **state)
{
	bm_global_options o = BM_GLOBAL_OPTIONS_INIT;
	(void)state;
	o.version = BM_GLOBAL_OPTIONS_VERSION + 1;
	assert_int_equal(bm_global_init_opts(&o), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "version"));
	o.version = 0;
	assert_int_equal(bm_global_init_opts(&o), BM_EINVALID);
	o.version = BM_GLOBAL_OPTIONS_VERSION;
	o.net_setup = (bm_net_setup)7;
	assert_int_equal(bm_global_init_opts(&o), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "net_setup"));
}

static void test_refcount(void **state)
{
	bm_global_options o = BM_GLOBAL_OPTIONS_INIT;
	bm_store *s = NULL;
	(void)state;
	o.net_setup = BM_NET_SETUP_ON_DEMAND;
	o.ca_file = "/nonexistent/ca.pem";
	o.ca_dir = "/nonexistent/certs";
	assert_int_equal(bm_global_init_opts(&o), 0);
	/* a second call counts; its options are ignored */
	assert_int_equal(bm_global_init(), 0);
	bm_global_shutdown();
	/* still initialised: the library works */
	assert_true(bm_store_open(&s, "/nonexistent/meta.git") < 0);
	bm_store_free(s);
	bm_global_shutdown();
	/* and again from scratch (the CA names of the first round are freed, not reused) */
	assert_int_equal(bm_global_init(), 0);
	bm_global_shutdown();
}

static void test_cache_limit(void **state)
{
	size_t used = 1, max = 0;
	(void)state;
	assert_int_equal(bm_global_init(), 0);
	assert_int_equal(bm_global_cache_limit(0), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "object cache limit"));
	assert_int_equal(bm_global_cache_limit((size_t)1 << 20), 0);
	assert_int_equal(bm_global_cache_usage(&used, &max), 0);
	assert_int_equal(max, (size_t)1 << 20);
	assert_true(used <= max);
	assert_int_equal(bm_global_cache_limit((size_t)256 << 20), 0); /* libgit2's default back */
	assert_int_equal(bm_global_cache_usage(&used, &max), 0);
	assert_int_equal(max, (size_t)256 << 20);
	bm_global_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_checked),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_cache_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
