/* test_record.c: record types by name, path -> type, checked decode and encode, and that
 * protoc (the contract for other languages) reads what bm_record_encode writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bootmeta.h"
#include "bootmeta/v1/core.pb-c.h"
#include "bootmeta/v1/testing.pb-c.h"

static void test_types(void **state)
{
	size_t i;
	(void)state;
	assert_ptr_equal(bm_record_type("Release"), &bootmeta__v1__release__descriptor);
	assert_ptr_equal(bm_record_type("bootmeta.v1.Release"), &bootmeta__v1__release__descriptor);
	assert_ptr_equal(bm_record_type("ChannelEntry"), &bootmeta__v1__channel_entry__descriptor);
	assert_ptr_equal(bm_record_type("bootmeta.v1.ModuleRef"), &bootmeta__v1__module_ref__descriptor);
	assert_null(bm_record_type("release"));
	assert_null(bm_record_type("Source")); /* a part of records, not a record */
	assert_null(bm_record_type("TestAllTypes"));
	assert_null(bm_record_type(NULL));
	for (i = 0; bm_record_type_at(i); i++)
		assert_ptr_equal(bm_record_type(bm_record_type_at(i)->name), bm_record_type_at(i));
	assert_true(i >= 6); /* the core six, plus what other .proto files register */
}

static const char *type_of(const char *path)
{
	const ProtobufCMessageDescriptor *d = bm_record_type_for_path(path);
	return d ? d->short_name : "-";
}

static void test_paths(void **state)
{
	const ProtobufCMessageDescriptor *d = (void *)1;
	(void)state;
	assert_string_equal(type_of("projects/foo/project.pb"), "Project");
	assert_string_equal(type_of("projects/maintemplatev2/server/project.pb"), "Project");
	assert_string_equal(type_of("projects/a/b/c/d/project.pb"), "Project");
	assert_string_equal(type_of("projects/foo/releases/abc.pb"), "Release");
	assert_string_equal(type_of("projects/maintemplatev2/server/releases/ab/0123abcd.pb"), "Release");
	assert_string_equal(type_of("projects/maintemplatev2/server/releases/project.pb"), "Release");
	assert_string_equal(type_of("projects/foo/channels/stable/0000000/0000000001.pb"), "ChannelEntry");
	assert_string_equal(type_of("projects/maintemplatev2/cli/channels/beta/0000001/0000001000.pb"),
			    "ChannelEntry");
	/* the last keyword decides */
	assert_string_equal(type_of("projects/a/releases/x/channels/c/1.pb"), "ChannelEntry");
	assert_string_equal(type_of("projects/a/channels/x/releases/r.pb"), "Release");
	assert_string_equal(type_of("binaries/ab/ab12.pb"), "Binary");
	assert_string_equal(type_of("binaries/ab/ab12.sig/9B47A03D73E157A9.pb"), "BinarySignature");
	assert_string_equal(type_of("log/2024/05/01/1714567890123-x.pb"), "LogEntry");
	assert_string_equal(type_of("modules/github.com/org/lib/maintemplatev2/server/r1.pb"), "ModuleRef");
	assert_string_equal(type_of("envs/prod/env.pb"), "Env");
	assert_string_equal(type_of("envs/dev/alice/env.pb"), "Env");
	assert_string_equal(type_of("envs/dev/alice/config/maintemplatev2/server/+keys/PORT/0000000001.pb"),
			    "ConfigValue");
	assert_string_equal(type_of("envs/prod/config/a/+keys/env.pb/0000000002.pb"), "ConfigValue");
	assert_string_equal(type_of("envs/prod/config/a/b/+flags/new-ui/0000000001.pb"), "Flag");
	/* not records */
	assert_string_equal(type_of("envs/prod/config/a/+keys/K.pb"), "-"); /* no key folder */
	assert_string_equal(type_of("projects/project.pb"), "-");          /* no project name */
	assert_string_equal(type_of("projects/releases/r.pb"), "-");       /* no project name */
	assert_string_equal(type_of("projects/foo/channels/x.pb"), "-");   /* no channel */
	assert_string_equal(type_of("projects/foo/releases/notes.txt"), "-");
	assert_string_equal(type_of("projects/foo/other.pb"), "-");
	assert_string_equal(type_of("binaries/ab/ab12.txt"), "-");
	assert_string_equal(type_of("/projects/foo/project.pb"), "-");
	assert_string_equal(type_of("projects//foo/project.pb"), "-");
	assert_string_equal(type_of("projects/../foo/project.pb"), "-");
	assert_string_equal(type_of("projects/./foo/project.pb"), "-");
	assert_string_equal(type_of("README.md"), "-");
	assert_string_equal(type_of(""), "-");
	assert_string_equal(type_of(NULL), "-");
	/* other kinds of files */
	assert_int_equal(bm_record_kind_for_path("keys/signers/ABCDEF0123456789.pub", &d), BM_FILE_TEXT);
	assert_null(d);
	assert_int_equal(bm_record_kind_for_path(".bootmeta/format", NULL), BM_FILE_TEXT);
	assert_int_equal(bm_record_kind_for_path("keys/signers/x/y.pub", NULL), BM_FILE_UNKNOWN);
	assert_int_equal(bm_record_kind_for_path("envs/prod/secrets/maintemplatev2/server/DB_URL.age", NULL),
			 BM_FILE_AGE);
	assert_int_equal(bm_record_kind_for_path("envs/dev/alice/secrets/p/K.age", NULL), BM_FILE_AGE);
	assert_int_equal(bm_record_kind_for_path("envs/prod/secrets/p/K.txt", NULL), BM_FILE_UNKNOWN);
	assert_int_equal(bm_record_kind_for_path("projects/foo/project.pb", &d), BM_FILE_RECORD);
	assert_ptr_equal(d, &bootmeta__v1__project__descriptor);
}

static void make_release(Bootmeta__V1__Release *r, Bootmeta__V1__Source **srcs, Bootmeta__V1__Source *s)
{
	s->url = "https://git.example.com/maintemplatev2.git";
	s->commit = "0123456789abcdef0123456789abcdef01234567";
	srcs[0] = s;
	r->project = "maintemplatev2/server";
	r->id = "r1";
	r->n_sources = 1;
	r->sources = srcs;
	r->created_ms = 1714567890123;
	r->note = "caf\xc3\xa9";
}

static void test_encode_decode(void **state)
{
	Bootmeta__V1__Release r = BOOTMETA__V1__RELEASE__INIT, *back;
	Bootmeta__V1__Source s = BOOTMETA__V1__SOURCE__INIT, *srcs[1];
	ProtobufCMessage *m = NULL;
	bm_buf b = BM_BUF_INIT;
	(void)state;
	make_release(&r, srcs, &s);
	assert_int_equal(bm_record_encode(&b, &r.base), 0);
	assert_int_equal(bm_record_decode(&m, &bootmeta__v1__release__descriptor, b.ptr, b.size), 0);
	back = (Bootmeta__V1__Release *)m;
	assert_string_equal(back->project, "maintemplatev2/server");
	assert_int_equal(back->n_sources, 1);
	assert_string_equal(back->sources[0]->commit, s.commit);
	assert_int_equal(back->created_ms, 1714567890123);
	bm_record_free(m);
	/* an empty file is an empty record */
	assert_int_equal(bm_record_decode(&m, &bootmeta__v1__release__descriptor, "", 0), 0);
	bm_record_free(m);
	bm_record_free(NULL);
	bm_buf_dispose(&b);
}

static void assert_corrupt(const ProtobufCMessageDescriptor *d, const void *data, size_t len, const char *part)
{
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	int error = bm_record_decode(&m, d, data, len);
	if (error != BM_ECORRUPT)
		fail_msg("got %d (%s), want BM_ECORRUPT", error, bm_error_last());
	assert_null(m);
	if (!strstr(bm_error_last(), part))
		fail_msg("message \"%s\" lacks \"%s\"", bm_error_last(), part);
	assert_non_null(strstr(bm_error_last(), "not a valid "));
}

static void test_corrupt(void **state)
{
	const ProtobufCMessageDescriptor *rel = &bootmeta__v1__release__descriptor;
	ProtobufCMessage *m = NULL;
	int i;
	(void)state;
	/* field 1 (project) says 10 bytes, 2 follow */
	assert_corrupt(rel, "\x0a\x0a" "ab", 4, "length of field 1 at byte 0 runs past the end");
	assert_corrupt(rel, "\x0a\x0a" "ab", 4, "bootmeta.v1.Release record (4 bytes)");
	assert_corrupt(rel, "\x30\xff", 2, "truncated varint of field 6");
	assert_corrupt(rel, "\x0b", 1, "wire type 3");
	assert_corrupt(rel, "\x00\x00", 2, "field number 0");
	assert_corrupt(rel, "\x0a\x02\xc3\x28", 4, "string field bootmeta.v1.Release.project at byte 0 is not valid UTF-8");
	assert_corrupt(rel, "\x0a\x03" "a\0b", 5, "holds a NUL byte");
	/* inside a nested Source: field 2 (commit) */
	assert_corrupt(rel, "\x1a\x04\x12\x02\xff\xfe", 6, "bootmeta.v1.Source.commit at byte 2");
	/* project (field 1) sent as a varint: protobuf-c refuses it */
	assert_corrupt(rel, "\x08\x01", 2, "wrong wire type");
	/* text is not a record */
	assert_corrupt(rel, "hello world\n", 12, "not a valid bootmeta.v1.Release record");
	/* too big */
	assert_int_equal(bm_record_decode(&m, rel, "", BM_RECORD_MAX_SIZE + 1), BM_ETOOBIG);
	/* nesting is bounded before protobuf-c recurses */
	{
		/* build from the inside out: each level is tag 60 (0xe2 0x03) + length + inner */
		bm_buf cur = BM_BUF_INIT, next = BM_BUF_INIT;
		for (i = 0; i < 100; i++) {
			bm_buf_clear(&next);
			assert_int_equal(bm_buf_put(&next, "\xe2\x03", 2), 0);
			assert_true(cur.size < 128 * 128);
			if (cur.size < 128) {
				assert_int_equal(bm_buf_putc(&next, (char)cur.size), 0);
			} else {
				assert_int_equal(bm_buf_putc(&next, (char)(0x80 | (cur.size & 0x7f))), 0);
				assert_int_equal(bm_buf_putc(&next, (char)(cur.size >> 7)), 0);
			}
			assert_int_equal(bm_buf_put(&next, cur.ptr ? cur.ptr : "", cur.size), 0);
			bm_buf_clear(&cur);
			assert_int_equal(bm_buf_put(&cur, next.ptr, next.size), 0);
		}
		assert_corrupt(&bootmeta__v1__test_all_types__descriptor, cur.ptr, cur.size, "nests deeper than 64");
		bm_buf_dispose(&cur);
		bm_buf_dispose(&next);
	}
}

/* protoc --decode is how any other tool reads a record file: it must read ours. */
static void test_protoc_reads_record(void **state)
{
	Bootmeta__V1__Release r = BOOTMETA__V1__RELEASE__INIT;
	Bootmeta__V1__Source s = BOOTMETA__V1__SOURCE__INIT, *srcs[1];
	const char *srcdir = getenv("BM_SRCDIR");
	char dir[] = "/tmp/bm_test_record_XXXXXX", pb[128], txt[128], cmd[1024];
	bm_buf b = BM_BUF_INIT, out = BM_BUF_INIT;
	(void)state;
	if (!srcdir || system("command -v protoc >/dev/null 2>&1") != 0)
		skip();
	make_release(&r, srcs, &s);
	assert_int_equal(bm_record_encode(&b, &r.base), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(pb, sizeof(pb), "%s/r.pb", dir);
	snprintf(txt, sizeof(txt), "%s/r.txt", dir);
	assert_int_equal(bm_file_write_atomic(pb, b.ptr, b.size, 0644), 0);
	snprintf(cmd, sizeof(cmd), "protoc --decode=bootmeta.v1.Release --proto_path='%s/proto' "
		 "bootmeta/v1/core.proto < '%s' > '%s'", srcdir, pb, txt);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bm_file_read(&out, txt, 1 << 20), 0);
	assert_string_equal(out.ptr,
		"project: \"maintemplatev2/server\"\n"
		"id: \"r1\"\n"
		"sources {\n"
		"  url: \"https://git.example.com/maintemplatev2.git\"\n"
		"  commit: \"0123456789abcdef0123456789abcdef01234567\"\n"
		"}\n"
		"note: \"caf\\303\\251\"\n"
		"created_ms: 1714567890123\n");
	unlink(pb);
	unlink(txt);
	rmdir(dir);
	bm_buf_dispose(&b);
	bm_buf_dispose(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_protoc_reads_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
