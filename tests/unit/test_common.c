/* test_common.c: errors, buffers, string lists, hex and name validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bootmeta.h"

static void test_buf(void **state)
{
	bm_buf b = BM_BUF_INIT;
	int i;
	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(bm_buf_printf(&b, "%d,", i), 0);
	assert_true(b.size > 1000);
	assert_memory_equal(b.ptr, "0,1,2,", 6);
	assert_int_equal(b.ptr[b.size], '\0');
	bm_buf_dispose(&b);
	assert_null(b.ptr);
}

static void test_error(void **state)
{
	(void)state;
	assert_int_equal(bm_error_set(BM_ENOTFOUND, "no %s", "thing"), BM_ENOTFOUND);
	assert_string_equal(bm_error_last(), "no thing");
	assert_int_equal(bm_error_prefix(BM_EINVALID, "ctx"), BM_EINVALID);
	assert_string_equal(bm_error_last(), "ctx: no thing");
	assert_int_equal(bm_error_last_code(), BM_EINVALID);
}

/* An error can say what it is about (for callers' hints); a new error forgets it, a prefix
 * keeps it; the library says it where a subject is missing. */
static void test_error_about(void **state)
{
	const char *name = NULL;
	bm_fs *fs = NULL;
	Bootmeta__V1__Project *p = NULL;
	(void)state;
	bm_error_set(BM_ENOTFOUND, "no project \"x\"");
	assert_int_equal(bm_error_set_about(BM_ABOUT_PROJECT, "x"), BM_ENOTFOUND);
	assert_int_equal(bm_error_last_about(&name), BM_ABOUT_PROJECT);
	assert_string_equal(name, "x");
	bm_error_prefix(BM_ENOTFOUND, "ctx");
	assert_int_equal(bm_error_last_about(NULL), BM_ABOUT_PROJECT);
	bm_error_set(BM_EINVALID, "other");
	assert_int_equal(bm_error_last_about(&name), BM_ABOUT_NONE);
	bm_error_set_about(BM_ABOUT_PROJECT, "x");
	bm_error_clear();
	assert_int_equal(bm_error_last_about(NULL), BM_ABOUT_NONE);

	/* the message states the fact only; the subject carries what a hint needs */
	assert_int_equal(bm_fs_mem(&fs), 0);
	assert_int_equal(bm_project_get(&p, fs, "app/server"), BM_ENOTFOUND);
	assert_null(strstr(bm_error_last(), "bootmeta "));
	assert_int_equal(bm_error_last_about(&name), BM_ABOUT_PROJECT);
	assert_string_equal(name, "app/server");
	bm_fs_free(fs);
}

static void test_hex(void **state)
{
	unsigned char raw[4] = { 0xde, 0xad, 0xbe, 0xef }, back[4];
	char hex[9];
	(void)state;
	bm_hex_encode(hex, raw, 4);
	assert_string_equal(hex, "deadbeef");
	assert_int_equal(bm_hex_decode(back, 4, "DEADbeef"), 0);
	assert_memory_equal(raw, back, 4);
	assert_int_equal(bm_hex_decode(back, 4, "deadbeeg"), BM_EINVALID);
	assert_int_equal(bm_hex_decode(back, 4, "dead"), BM_EINVALID);
}

static void test_names(void **state)
{
	char longname[300];
	(void)state;
	assert_int_equal(bm_name_validate("maintemplatev2/server", BM_NAME_PROJECT), 0);
	assert_int_equal(bm_name_validate("a/../b", BM_NAME_PROJECT), BM_EINVALID);
	assert_int_equal(bm_name_validate("..", BM_NAME_PROJECT), BM_EINVALID);
	assert_int_equal(bm_name_validate("/abs", BM_NAME_PROJECT), BM_EINVALID);
	assert_int_equal(bm_name_validate("a//b", BM_NAME_PROJECT), BM_EINVALID);
	assert_int_equal(bm_name_validate("a/", BM_NAME_PROJECT), BM_EINVALID);
	assert_int_equal(bm_name_validate("a\nb", BM_NAME_PROJECT), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "control character"));
	assert_int_equal(bm_name_validate("", BM_NAME_CHANNEL), BM_EINVALID);
	assert_int_equal(bm_name_validate("stable", BM_NAME_CHANNEL), 0);
	assert_int_equal(bm_name_validate("st/able", BM_NAME_CHANNEL), BM_EINVALID);
	assert_int_equal(bm_name_validate("v1.2.3+build", BM_NAME_RELEASE), 0);
	assert_int_equal(bm_name_validate("dev/alice", BM_NAME_ENV), 0);
	assert_int_equal(bm_name_validate("Alice", BM_NAME_USER), BM_EINVALID);
	assert_int_equal(bm_name_validate("x.lock", BM_NAME_CHANNEL), BM_EINVALID);
	assert_int_equal(bm_name_validate("a/releases", BM_NAME_PROJECT), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "reserved"));
	assert_int_equal(bm_name_validate("prod/secrets", BM_NAME_ENV), BM_EINVALID);
	/* git refuses "git~1" as a tree entry (.git on NTFS) */
	assert_int_equal(bm_name_validate("example.com/GIT~1/x", BM_NAME_MODULE), BM_EINVALID);
	assert_int_equal(bm_name_validate("example.com/git~1..", BM_NAME_MODULE), BM_EINVALID);
	assert_int_equal(bm_name_validate("example.com/git~12", BM_NAME_MODULE), 0);
	/* a refused name shows every byte outside printable ASCII as \xNN */
	assert_int_equal(bm_name_validate("caf\xc3\xa9\xff", BM_NAME_PROJECT), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "project name \"caf\\xc3\\xa9\\xff\" contains '\\xc3'"));
	assert_int_equal(bm_name_validate("a\x1b[2J/../b", BM_NAME_PROJECT), BM_EINVALID);
	assert_null(strchr(bm_error_last(), 0x1b));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(bm_name_validate(longname, BM_NAME_PROJECT), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "over the limit"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_error_about),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
