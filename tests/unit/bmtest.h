/* bmtest.h: what the unit suites that work on real meta repos share (bmtest.c): one temp
 * folder per suite, repos made in it, the projects, releases and envs a suite seeds, and
 * the check that a refused call left main where it was. Include after <cmocka.h>. */
#ifndef BM_TEST_H
#define BM_TEST_H

#include <stddef.h>

#include "bootmeta.h"

#define BMT_ACTOR "Test <test@example.com>"
#define BMT_URL "https://git.example.com/app.git"

extern char bmt_dir[256]; /* the suite's temp folder, made by bmt_setup */

/* mkdtemp /tmp/bm-test-SUITE-XXXXXX, then bm_global_init; 0 or its error. */
int bmt_setup(const char *suite);
/* Remove the folder, bm_global_shutdown; 0 or system()'s status. */
int bmt_teardown(void);
/* cmocka group fixtures named setup and teardown for a suite with nothing else to set up. */
#define BMT_FIXTURES(suite)                                            \
	static int setup(void **state)                                 \
	{                                                              \
		(void)state;                                           \
		return bmt_setup(suite);                               \
	}                                                              \
	static int teardown(void **state)                              \
	{                                                              \
		(void)state;                                           \
		return bmt_teardown();                                 \
	}

/* bmt_dir/NAME into out[n]. */
void bmt_path(char *out, size_t n, const char *name);
/* A new meta repo at bmt_dir/NAME, or the one there, opened with `actor` (NULL: BMT_ACTOR;
 * the library reads no $BOOTMETA_ACTOR). */
bm_store *bmt_init(const char *name, const char *actor);
bm_store *bmt_open(const char *name, const char *actor);
/* Add project P (its one source BMT_URL when `with_source`), a release of it with one
 * source BMT_URL@COMMIT, an env with its default parent. */
void bmt_project(bm_store *s, const char *project, int with_source);
void bmt_release(bm_store *s, const char *project, const char *commit);
void bmt_env(bm_store *s, const char *env);
/* Write one file in one commit (`w` may be NULL); the write's result. */
int bmt_write_file(bm_store *s, const char *path, const void *data, size_t len, const bm_write_options *w);

/* The last call failed with `code`, its message holds `needle`, and main did not move. */
#define assert_refused(rc, code, needle, store, tip)                                   \
	do {                                                                            \
		bm_oid now_;                                                            \
		int rc_ = (rc);                                                         \
		if (rc_ != (code) || !strstr(bm_error_last(), needle))                  \
			fail_msg("got %d \"%s\", want %d with \"%s\"", rc_, bm_error_last(), \
				 (code), needle);                                       \
		assert_int_equal(bm_store_tip(&now_, store), 0);                        \
		assert_true(bm_oid_equal(&now_, tip));                                  \
	} while (0)

#endif
