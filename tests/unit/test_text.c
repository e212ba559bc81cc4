/* test_text.c: the one check of free text (bm_text_check), the actor rule, the display
 * escape, the record gate in bm_txn_add, and files that are not regular files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmtest.h"

BMT_FIXTURES("text")

static int check(const char *s, bm_text_kind kind)
{
	return bm_text_check(s, strlen(s), kind, 0, "the note");
}

static void test_text_check(void **state)
{
	char big[BM_TEXT_LINE_MAX + 2];
	(void)state;
	assert_int_equal(check("release 1.0 \xc3\xa9t\xc3\xa9 \xf0\x9f\x9a\x80", BM_TEXT_LINE), 0);
	assert_int_equal(bm_text_check(NULL, 0, BM_TEXT_LINE, 0, "x"), 0);
	assert_int_equal(check("", BM_TEXT_LINE), 0);

	assert_int_equal(check("ok\nparent 0000", BM_TEXT_LINE), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "the note holds a new line (\\x0a) at byte 2"));
	assert_int_equal(check("a\tb", BM_TEXT_LINE), BM_EINVALID);
	assert_int_equal(check("\x1b[2J", BM_TEXT_LINE), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "escape character (\\x1b) at byte 0"));
	assert_int_equal(check("\x7f", BM_TEXT_LINE), BM_EINVALID);
	/* C1 controls: U+009B is CSI on terminals that take 8-bit controls */
	assert_int_equal(check("x\xc2\x9b" "2J", BM_TEXT_LINE), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "C1 control"));
	assert_int_equal(check("\xc2\xa0", BM_TEXT_LINE), 0); /* U+00A0 is text */
	/* not UTF-8: a lone byte, an overlong form, a surrogate, past U+10FFFF, cut short */
	assert_int_equal(check("caf\xff", BM_TEXT_LINE), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "not valid UTF-8 (byte 3 is \\xff)"));
	assert_int_equal(check("\xc0\xaf", BM_TEXT_LINE), BM_EINVALID);
	assert_int_equal(check("\xed\xa0\x80", BM_TEXT_LINE), BM_EINVALID);
	assert_int_equal(check("\xf4\x90\x80\x80", BM_TEXT_LINE), BM_EINVALID);
	assert_int_equal(check("\xe2\x82", BM_TEXT_LINE), BM_EINVALID);
	/* a NUL inside the length */
	assert_int_equal(bm_text_check("a\0b", 3, BM_TEXT_LINES, 0, "v"), BM_EINVALID);

	/* lines: new line, tab and CR, nothing else */
	assert_int_equal(check("line 1\nline\t2\r\n", BM_TEXT_LINES), 0);
	assert_int_equal(check("line 1\n\x1b]0;owned\x07", BM_TEXT_LINES), BM_EINVALID);

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(bm_text_check(big, BM_TEXT_LINE_MAX, BM_TEXT_LINE, BM_TEXT_LINE_MAX, "x"), 0);
	assert_int_equal(bm_text_check(big, strlen(big), BM_TEXT_LINE, BM_TEXT_LINE_MAX, "x"), BM_ETOOBIG);
}

static void test_actor(void **state)
{
	char big[BM_ACTOR_MAX + 2];
	(void)state;
	assert_int_equal(bm_actor_check("Alice Example <alice@example.com>"), 0);
	assert_int_equal(bm_actor_check("alice"), 0);
	assert_int_equal(bm_actor_check("<alice@example.com>"), 0);
	assert_int_equal(bm_actor_check("J\xc3\xb6rg <j@example.com> "), 0);
	assert_int_equal(bm_actor_check("Eve\nparent 0000000000000000000000000000000000000000"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve <eve@example.com>\ncommitter x"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve \x1b[31m"), BM_EINVALID);
	assert_int_equal(bm_actor_check(""), BM_EINVALID);
	assert_int_equal(bm_actor_check("   "), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve <>"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve < >"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve <a> <b>"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve <a> x"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve >a<"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve <a"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve a>"), BM_EINVALID);
	assert_int_equal(bm_actor_check("Eve <a<b>"), BM_EINVALID);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(bm_actor_check(big), BM_ETOOBIG);
}

static void escaped(const char *in, size_t len, unsigned int flags, const char *want)
{
	bm_buf b = BM_BUF_INIT;
	assert_int_equal(bm_text_escape(&b, in, len, flags), 0);
	assert_string_equal(b.ptr, want);
	bm_buf_dispose(&b);
}

static void test_escape(void **state)
{
	(void)state;
	escaped("plain text", 10, 0, "plain text");
	escaped("", 0, 0, "");
	escaped(NULL, 0, 0, "");
	escaped("a\nb\tc\rd", 7, 0, "a\\nb\\tc\\rd");
	escaped("\x1b[2J\x07", 5, 0, "\\x1b[2J\\x07");
	escaped("caf\xc3\xa9", 5, 0, "caf\xc3\xa9");
	escaped("caf\xc3\xa9", 5, BM_ESCAPE_ASCII, "caf\\xc3\\xa9");
	escaped("x\xffy", 3, 0, "x\\xffy");
	escaped("\xc2\x9b" "31m", 5, 0, "\\xc2\\x9b31m");
	escaped("a\xe2\x80\xae" "b", 5, 0, "a\\xe2\\x80\\xaeb"); /* RIGHT-TO-LEFT OVERRIDE */
	escaped("a\xe2\x80\xa8", 4, 0, "a\\xe2\\x80\\xa8");   /* LINE SEPARATOR */
	escaped("\xe2\x82", 2, 0, "\\xe2\\x82");               /* cut short */
	escaped("a\0b", 3, 0, "a\\x00b");
}

/* A record built by hand (as a server or tool would) goes through the same gate. */
static int add_entry(bm_store *s, const char *reason, const char *release)
{
	Bootmeta__V1__ChannelEntry e = BOOTMETA__V1__CHANNEL_ENTRY__INIT;
	bm_buf enc = BM_BUF_INIT;
	int error;
	e.seq = 1;
	e.project = (char *)"app";
	e.channel = (char *)"stable";
	e.release = (char *)release;
	e.reason = (char *)reason;
	assert_int_equal(bm_record_encode(&enc, &e.base), 0);
	error = bmt_write_file(s, "projects/app/channels/stable/0000000/0000000001.pb", enc.ptr, enc.size, NULL);
	bm_buf_dispose(&enc);
	return error;
}

static int add_log(bm_store *s, const char *message, const char *attr_value)
{
	Bootmeta__V1__LogEntry e = BOOTMETA__V1__LOG_ENTRY__INIT;
	Bootmeta__V1__Attr a = BOOTMETA__V1__ATTR__INIT, *attrs[1] = { &a };
	bm_buf enc = BM_BUF_INIT;
	int error;
	e.id = (char *)"0123456789abcdef";
	e.kind = (char *)"codegen";
	e.message = (char *)message;
	a.key = (char *)"url";
	a.value = (char *)attr_value;
	e.n_attrs = 1;
	e.attrs = attrs;
	assert_int_equal(bm_record_encode(&enc, &e.base), 0);
	error = bmt_write_file(s, "log/2026/12/01/1764547200000-0123456789abcdef.pb", enc.ptr, enc.size, NULL);
	bm_buf_dispose(&enc);
	return error;
}

static void test_record_gate(void **state)
{
	bm_store *s = bmt_init("gate.git", NULL);
	const ProtobufCMessageDescriptor *d = bm_record_type("ChannelEntry");
	const char *text = "untrusted comment: \x1b[2J\nRWQ...\n";
	(void)state;

	assert_int_equal(add_entry(s, "ok\nforged row", "r1"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "refusing to write projects/app/channels/stable/0000000/0000000001.pb"));
	assert_non_null(strstr(bm_error_last(), "the reason field of the ChannelEntry record holds a new line"));
	assert_int_equal(add_entry(s, "fine", "r1\x1b[2J"), BM_EINVALID);
	assert_int_equal(add_entry(s, "first release", "r1"), 0);

	/* a log message holds lines; its attribute values do not */
	assert_int_equal(add_log(s, "regenerated\n\tthe client", "https://ci/1\nforged: row"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "the value field of the Attr record"));
	assert_int_equal(add_log(s, "regenerated\n\tthe client\x1b[2J", "https://ci/1"), BM_EINVALID);
	assert_int_equal(add_log(s, "regenerated\n\tthe client", "https://ci/1"), 0);

	/* text files of the layout are UTF-8 lines */
	assert_int_equal(bmt_write_file(s, "keys/signers/0123456789ABCDEF.pub", text, strlen(text), NULL), BM_EINVALID);

	/* the check alone, and bytes that are not a record */
	assert_int_equal(bm_record_check_write(d, "\xff\xff", 2), BM_EINVALID);
	assert_int_equal(bm_record_check_write(d, "", 0), 0);
	bm_store_free(s);
}

static void test_actor_on_write(void **state)
{
	bm_store *s = bmt_init("actor.git", NULL);
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	char cmd[1024];
	(void)state;
	w.actor = "Eve\nparent 0000000000000000000000000000000000000000";
	assert_int_equal(bmt_write_file(s, "other/file", "x", 1, &w), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "the actor holds a new line"));
	w.actor = "Eve <eve@example.com> <x>";
	assert_int_equal(bmt_write_file(s, "other/file", "x", 1, &w), BM_EINVALID);
	w.actor = "Eve";
	w.message = "a message\x1b[2J";
	assert_int_equal(bmt_write_file(s, "other/file", "x", 1, &w), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "the commit message"));
	w.message = "a message\nwith a body";
	assert_int_equal(bmt_write_file(s, "other/file", "x", 1, &w), 0);
	bm_store_free(s);
	snprintf(cmd, sizeof(cmd), "git --git-dir=%s/actor.git fsck --strict --no-progress", bmt_dir);
	assert_int_equal(system(cmd), 0);
}

static void test_not_regular(void **state)
{
	char fifo[512], file[512];
	bm_buf b = BM_BUF_INIT;
	char hex[65];
	uint64_t size = 0;
	int fd = -1;
	FILE *f;
	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/pipe\xff", bmt_dir);
	snprintf(file, sizeof(file), "%s/file", bmt_dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_non_null(f = fopen(file, "w"));
	fputs("data", f);
	fclose(f);

	/* none of these may wait for a writer that never comes */
	assert_int_equal(bm_file_open_read(&fd, fifo, 0), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "pipe\\xff is a named pipe (FIFO), not a regular file"));
	assert_int_equal(fd, -1);
	assert_int_equal(bm_file_open_read(&fd, bmt_dir, BM_FILE_STREAM), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "is a folder"));
	assert_int_equal(bm_file_sha256(hex, &size, fifo), BM_EINVALID);
	assert_int_equal(bm_file_read(&b, fifo, 0), BM_EINVALID);
	/* a bounded read takes a stream; a named pipe with no writer reads as empty */
	assert_int_equal(bm_file_read(&b, fifo, 1024), 0);
	assert_int_equal(b.size, 0);
	assert_int_equal(bm_file_open_read(&fd, file, 0), 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(bm_file_read(&b, file, 0), 0);
	assert_string_equal(b.ptr, "data");
	bm_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_check),
		cmocka_unit_test(test_actor),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_record_gate),
		cmocka_unit_test(test_actor_on_write),
		cmocka_unit_test(test_not_regular),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
