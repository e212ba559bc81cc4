/* test_utf8.c: the one UTF-8 validator (bm_utf8_valid, bm_utf8_char) against the edges of
 * Unicode's table 3-7: overlongs, surrogates, code points past U+10FFFF, truncated and
 * stray bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bootmeta/utf8.h"

#define VALID(s) assert_int_equal(bm_utf8_valid(s, sizeof(s) - 1), 1)
#define INVALID(s) assert_int_equal(bm_utf8_valid(s, sizeof(s) - 1), 0)

static void test_well_formed(void **state)
{
	(void)state;
	VALID("");
	VALID("plain ascii");
	VALID("\x7f");
	VALID("\xc2\x80");             /* U+0080, the first two-byte */
	VALID("\xdf\xbf");             /* U+07FF */
	VALID("\xe0\xa0\x80");         /* U+0800, the first three-byte */
	VALID("\xed\x9f\xbf");         /* U+D7FF, just below the surrogates */
	VALID("\xee\x80\x80");         /* U+E000, just above them */
	VALID("\xef\xbf\xbf");         /* U+FFFF */
	VALID("\xf0\x90\x80\x80");     /* U+10000, the first four-byte */
	VALID("\xf4\x8f\xbf\xbf");     /* U+10FFFF, the last code point */
	VALID("gr\xc3\xbc\xc3\x9f dich \xe2\x82\xac \xf0\x9f\x98\x80");
	/* NUL is a code point; C-string callers refuse it themselves */
	assert_int_equal(bm_utf8_valid("a\0b", 3), 1);
}

static void test_overlong(void **state)
{
	(void)state;
	INVALID("\xc0\x80");           /* NUL in two bytes */
	INVALID("\xc0\xaf");           /* '/' in two bytes */
	INVALID("\xc1\xbf");           /* U+007F in two bytes */
	INVALID("\xe0\x80\xaf");       /* '/' in three bytes */
	INVALID("\xe0\x9f\xbf");       /* U+07FF in three bytes */
	INVALID("\xf0\x80\x80\xaf");   /* '/' in four bytes */
	INVALID("\xf0\x8f\xbf\xbf");   /* U+FFFF in four bytes */
}

static void test_surrogates(void **state)
{
	(void)state;
	INVALID("\xed\xa0\x80");       /* U+D800 */
	INVALID("\xed\xad\xbf");       /* U+DB7F */
	INVALID("\xed\xb0\x80");       /* U+DC00 */
	INVALID("\xed\xbf\xbf");       /* U+DFFF */
	INVALID("\xed\xa0\xbd\xed\xb8\x80"); /* a CESU-8 pair for U+1F600 */
}

static void test_past_max(void **state)
{
	(void)state;
	INVALID("\xf4\x90\x80\x80");   /* U+110000 */
	INVALID("\xf7\xbf\xbf\xbf");   /* U+1FFFFF */
	INVALID("\xf8\x88\x80\x80\x80"); /* five-byte form */
	INVALID("\xfc\x84\x80\x80\x80\x80"); /* six-byte form */
	INVALID("\xfe");
	INVALID("\xff");
}

static void test_truncated_and_stray(void **state)
{
	(void)state;
	INVALID("\xc3");               /* lead byte at the end */
	INVALID("\xe2\x82");           /* three-byte cut after two */
	INVALID("\xf0\x9f\x98");       /* four-byte cut after three */
	INVALID("\xe2\x82x");          /* continuation replaced by ASCII */
	INVALID("\x80");               /* stray continuation byte */
	INVALID("a\xbf" "b");
	/* a valid sequence that `len` cuts is truncated too */
	assert_int_equal(bm_utf8_valid("\xe2\x82\xac", 2), 0);
}

static void test_char(void **state)
{
	uint32_t cp = 0;
	(void)state;
	assert_int_equal(bm_utf8_char(&cp, "A", 1), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(bm_utf8_char(&cp, "\xe2\x82\xac!", 4), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(bm_utf8_char(&cp, "\xf4\x8f\xbf\xbf", 4), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(bm_utf8_char(&cp, "\xe2\x82\xac", 2), 0);
	assert_int_equal(bm_utf8_char(&cp, "\xed\xa0\x80", 3), 0);
	assert_int_equal(bm_utf8_char(&cp, "", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_past_max),
		cmocka_unit_test(test_truncated_and_stray),
		cmocka_unit_test(test_char),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
