/* test_pbjson.c: the proto3 JSON view of records (writer, reader, escaping), checked
 * against exact output text. The expected strings of TestAllTypes were compared with
 * python3-protobuf's json_format when they were written. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bootmeta.h"
#include "bootmeta/v1/core.pb-c.h"
#include "bootmeta/v1/testing.pb-c.h"

#define ALL_TYPES (&bootmeta__v1__test_all_types__descriptor)

/* JSON text of `m` (compact unless `opts`), owned by the caller. */
static char *to_json(const ProtobufCMessage *m, const bm_pbjson_options *opts)
{
	bm_buf b = BM_BUF_INIT;
	assert_int_equal(bm_pbjson_write(&b, m, opts), 0);
	return bm_buf_detach(&b);
}

static ProtobufCMessage *from_json(const ProtobufCMessageDescriptor *d, const char *json)
{
	ProtobufCMessage *m = NULL;
	int error = bm_pbjson_read(&m, d, json, strlen(json));
	if (error < 0)
		fail_msg("bm_pbjson_read(%s): %s", json, bm_error_last());
	return m;
}

/* `json` reads, and writes back as exactly `expect` (compact). */
static void assert_json_round(const ProtobufCMessageDescriptor *d, const char *json, const char *expect)
{
	ProtobufCMessage *m = from_json(d, json);
	char *out = to_json(m, NULL);
	assert_string_equal(out, expect);
	free(out);
	bm_record_free(m);
}

static void assert_read_fails(const ProtobufCMessageDescriptor *d, const char *json, int code,
			      const char *msg_part)
{
	ProtobufCMessage *m = (ProtobufCMessage *)1;
	int error = bm_pbjson_read(&m, d, json, strlen(json));
	if (error != code)
		fail_msg("%s: got %d (%s), want %d", json, error, bm_error_last(), code);
	assert_null(m);
	if (!strstr(bm_error_last(), msg_part))
		fail_msg("%s: message \"%s\" lacks \"%s\"", json, bm_error_last(), msg_part);
}

static Bootmeta__V1__Source src1 = BOOTMETA__V1__SOURCE__INIT, src2 = BOOTMETA__V1__SOURCE__INIT;
static Bootmeta__V1__ModuleImport imp1 = BOOTMETA__V1__MODULE_IMPORT__INIT;
static Bootmeta__V1__Source *srcs[] = { &src1, &src2 };
static Bootmeta__V1__ModuleImport *imps[] = { &imp1 };

static void make_release(Bootmeta__V1__Release *r)
{
	src1.url = "https://git.example.com/maintemplatev2.git";
	src1.commit = "0123456789abcdef0123456789abcdef01234567";
	src2.url = "https://git.example.com/libfoo.git";
	src2.commit = "89abcdef0123456789abcdef0123456789abcdef";
	imp1.module = "github.com/org/lib";
	imp1.version = "v1.2.3";
	imp1.indirect = 1;
	r->project = "maintemplatev2/server";
	r->id = "20240501-0123456";
	r->n_sources = 2;
	r->sources = srcs;
	r->version = "v1.4.0";
	r->note = "first \"real\" release\n";
	r->created_ms = 1714567890123;
	r->actor = "Ann Example <ann@example.com>";
	r->n_imports = 1;
	r->imports = imps;
}

static const char release_compact[] =
	"{\"project\":\"maintemplatev2/server\",\"id\":\"20240501-0123456\","
	"\"sources\":[{\"url\":\"https://git.example.com/maintemplatev2.git\","
	"\"commit\":\"0123456789abcdef0123456789abcdef01234567\"},"
	"{\"url\":\"https://git.example.com/libfoo.git\","
	"\"commit\":\"89abcdef0123456789abcdef0123456789abcdef\"}],"
	"\"version\":\"v1.4.0\",\"note\":\"first \\\"real\\\" release\\n\","
	"\"createdMs\":\"1714567890123\",\"actor\":\"Ann Example <ann@example.com>\","
	"\"imports\":[{\"module\":\"github.com/org/lib\",\"version\":\"v1.2.3\",\"indirect\":true}]}";

static const char release_pretty[] =
	"{\n"
	"  \"project\": \"maintemplatev2/server\",\n"
	"  \"id\": \"20240501-0123456\",\n"
	"  \"sources\": [\n"
	"    {\n"
	"      \"url\": \"https://git.example.com/maintemplatev2.git\",\n"
	"      \"commit\": \"0123456789abcdef0123456789abcdef01234567\"\n"
	"    },\n"
	"    {\n"
	"      \"url\": \"https://git.example.com/libfoo.git\",\n"
	"      \"commit\": \"89abcdef0123456789abcdef0123456789abcdef\"\n"
	"    }\n"
	"  ],\n"
	"  \"version\": \"v1.4.0\",\n"
	"  \"note\": \"first \\\"real\\\" release\\n\",\n"
	"  \"createdMs\": \"1714567890123\",\n"
	"  \"actor\": \"Ann Example <ann@example.com>\",\n"
	"  \"imports\": [\n"
	"    {\n"
	"      \"module\": \"github.com/org/lib\",\n"
	"      \"version\": \"v1.2.3\",\n"
	"      \"indirect\": true\n"
	"    }\n"
	"  ]\n"
	"}";

static void test_release(void **state)
{
	Bootmeta__V1__Release r = BOOTMETA__V1__RELEASE__INIT;
	bm_pbjson_options pretty = BM_PBJSON_OPTIONS_INIT;
	char *s;
	(void)state;
	make_release(&r);
	s = to_json(&r.base, NULL);
	assert_string_equal(s, release_compact);
	free(s);
	pretty.pretty = 1;
	s = to_json(&r.base, &pretty);
	assert_string_equal(s, release_pretty);
	free(s);
	/* both forms read back to the same record */
	assert_json_round(&bootmeta__v1__release__descriptor, release_pretty, release_compact);
	assert_json_round(&bootmeta__v1__release__descriptor, release_compact, release_compact);
}

static void test_release_options(void **state)
{
	Bootmeta__V1__Release r = BOOTMETA__V1__RELEASE__INIT;
	Bootmeta__V1__ChannelEntry c = BOOTMETA__V1__CHANNEL_ENTRY__INIT;
	bm_pbjson_options o = BM_PBJSON_OPTIONS_INIT;
	bm_buf b = BM_BUF_INIT;
	char *s;
	(void)state;
	/* empty: {} in both forms */
	s = to_json(&r.base, NULL);
	assert_string_equal(s, "{}");
	free(s);
	o.pretty = 1;
	s = to_json(&r.base, &o);
	assert_string_equal(s, "{}");
	free(s);
	o.pretty = 0;
	o.emit_defaults = 1;
	s = to_json(&r.base, &o);
	assert_string_equal(s, "{\"project\":\"\",\"id\":\"\",\"sources\":[],\"version\":\"\",\"note\":\"\","
			    "\"createdMs\":\"0\",\"actor\":\"\",\"imports\":[]}");
	free(s);
	o.pretty = 1;
	s = to_json(&r.base, &o);
	assert_non_null(strstr(s, "\n  \"sources\": [],\n"));
	free(s);
	/* .proto names on request */
	c.seq = 7;
	c.previous_release = "r6";
	c.time_ms = -1;
	s = to_json(&c.base, NULL);
	assert_string_equal(s, "{\"seq\":\"7\",\"previousRelease\":\"r6\",\"timeMs\":\"-1\"}");
	free(s);
	o.pretty = 0;
	o.emit_defaults = 0;
	o.proto_names = 1;
	s = to_json(&c.base, &o);
	assert_string_equal(s, "{\"seq\":\"7\",\"previous_release\":\"r6\",\"time_ms\":\"-1\"}");
	free(s);
	/* output is appended; a bad options version is refused and leaves `out` alone */
	assert_int_equal(bm_buf_puts(&b, "x="), 0);
	o.version = 99;
	assert_int_equal(bm_pbjson_write(&b, &c.base, &o), BM_EINVALID);
	assert_string_equal(b.ptr, "x=");
	assert_int_equal(bm_pbjson_write(&b, &c.base, NULL), 0);
	assert_string_equal(b.ptr, "x={\"seq\":\"7\",\"previousRelease\":\"r6\",\"timeMs\":\"-1\"}");
	bm_buf_dispose(&b);
}

/* Every field type, in canonical form: reading it and writing it back changes nothing. */
static const char all_types[] =
	"{\"fInt32\":-5,\"fInt64\":\"-9223372036854775808\",\"fUint32\":4294967295,"
	"\"fUint64\":\"18446744073709551615\",\"fSint32\":-7,\"fSint64\":\"123456789012345\","
	"\"fFixed32\":9,\"fFixed64\":\"10\",\"fSfixed32\":-11,\"fSfixed64\":\"-12\","
	"\"fFloat\":0.1,\"fDouble\":0.1,\"fBool\":true,"
	"\"fString\":\"h\xc3\xa9llo \\\"q\\\" \\\\ \\n \\u0001 \\u2028 \xf0\x9f\x98\x80\","
	"\"fBytes\":\"AP/+YWJj\",\"fEnum\":\"TEST_ENUM_TWO\",\"fNested\":{\"a\":3,\"noteText\":\"n\"},"
	"\"rInt32\":[1,-1,0],\"rInt64\":[\"0\",\"4611686018427387904\"],\"rUint32\":[0,4294967295],"
	"\"rUint64\":[\"18446744073709551615\"],\"rSint32\":[-2147483648],\"rSint64\":[\"-1\"],"
	"\"rFixed32\":[1],\"rFixed64\":[\"2\"],\"rSfixed32\":[-3],\"rSfixed64\":[\"-4\"],"
	"\"rFloat\":[1.5,-0.0,3.4028235e+38,1e-45,\"Infinity\",\"NaN\"],"
	"\"rDouble\":[1e+300,-1e-300,5e-324,9007199254740994,\"-Infinity\",0.30000000000000004],"
	"\"rBool\":[true,false],\"rString\":[\"\",\"x\"],\"rBytes\":[\"\",\"YQ==\",\"YWI=\",\"YWJj\"],"
	"\"rEnum\":[\"TEST_ENUM_UNSPECIFIED\",\"TEST_ENUM_ONE\",\"TEST_ENUM_TWO\",\"TEST_ENUM_NEGATIVE\",7],"
	"\"rNested\":[{\"a\":1},{}],\"oString\":\"\","
	"\"mString\":{\"a\":\"b\",\"\":\"\"},\"mNested\":{\"-3\":{\"a\":4}},\"mBool\":{\"true\":1},"
	"\"mEnum\":{\"5\":\"TEST_ENUM_TWO\"},\"child\":{\"fInt32\":1,\"child\":{\"oNested\":{}}}}";

static void test_all_types(void **state)
{
	Bootmeta__V1__TestAllTypes *t;
	bm_buf pb = BM_BUF_INIT;
	ProtobufCMessage *back = NULL;
	char *s;
	(void)state;
	assert_json_round(ALL_TYPES, all_types, all_types);
	t = (Bootmeta__V1__TestAllTypes *)from_json(ALL_TYPES, all_types);
	assert_int_equal(t->f_int64, INT64_MIN);
	assert_true(t->f_uint64 == UINT64_MAX);
	assert_true(t->f_float == 0.1f);
	assert_int_equal(t->f_bytes.len, 6);
	assert_memory_equal(t->f_bytes.data, "\x00\xff\xfe" "abc", 6);
	assert_int_equal(t->f_enum, BOOTMETA__V1__TEST_ENUM__TEST_ENUM_TWO);
	assert_int_equal(t->r_enum[3], -1);
	assert_int_equal(t->r_enum[4], 7);
	assert_true(isnan(t->r_float[5]));
	assert_true(t->r_float[1] == 0 && signbit(t->r_float[1]));
	assert_true(t->r_float[2] == FLT_MAX);
	assert_int_equal(t->choice_case, BOOTMETA__V1__TEST_ALL_TYPES__CHOICE_O_STRING);
	assert_int_equal(t->n_m_nested, 1);
	assert_int_equal(t->m_nested[0]->key, -3);
	/* through the wire format and back: the same JSON */
	assert_int_equal(bm_record_encode(&pb, &t->base), 0);
	assert_int_equal(bm_record_decode(&back, ALL_TYPES, pb.ptr, pb.size), 0);
	s = to_json(back, NULL);
	assert_string_equal(s, all_types);
	free(s);
	bm_record_free(back);
	bm_record_free(&t->base);
	bm_buf_dispose(&pb);
}

static void test_defaults_and_oneof(void **state)
{
	Bootmeta__V1__TestAllTypes t = BOOTMETA__V1__TEST_ALL_TYPES__INIT;
	Bootmeta__V1__TestNested n = BOOTMETA__V1__TEST_NESTED__INIT;
	bm_pbjson_options o = BM_PBJSON_OPTIONS_INIT;
	char *s;
	(void)state;
	o.emit_defaults = 1;
	s = to_json(&t.base, &o);
	/* zero scalars and empty lists and maps shown; unset messages and oneofs never */
	assert_string_equal(s,
		"{\"fInt32\":0,\"fInt64\":\"0\",\"fUint32\":0,\"fUint64\":\"0\",\"fSint32\":0,"
		"\"fSint64\":\"0\",\"fFixed32\":0,\"fFixed64\":\"0\",\"fSfixed32\":0,\"fSfixed64\":\"0\","
		"\"fFloat\":0,\"fDouble\":0,\"fBool\":false,\"fString\":\"\",\"fBytes\":\"\","
		"\"fEnum\":\"TEST_ENUM_UNSPECIFIED\",\"rInt32\":[],\"rInt64\":[],\"rUint32\":[],"
		"\"rUint64\":[],\"rSint32\":[],\"rSint64\":[],\"rFixed32\":[],\"rFixed64\":[],"
		"\"rSfixed32\":[],\"rSfixed64\":[],\"rFloat\":[],\"rDouble\":[],\"rBool\":[],"
		"\"rString\":[],\"rBytes\":[],\"rEnum\":[],\"rNested\":[],\"mString\":{},"
		"\"mNested\":{},\"mBool\":{},\"mEnum\":{}}");
	free(s);
	/* a oneof member is shown when set, even at its zero value; the others never */
	t.choice_case = BOOTMETA__V1__TEST_ALL_TYPES__CHOICE_O_UINT32;
	t.o_uint32 = 0;
	s = to_json(&t.base, NULL);
	assert_string_equal(s, "{\"oUint32\":0}");
	free(s);
	t.choice_case = BOOTMETA__V1__TEST_ALL_TYPES__CHOICE_O_NESTED;
	t.o_nested = &n;
	n.note_text = "x";
	s = to_json(&t.base, NULL);
	assert_string_equal(s, "{\"oNested\":{\"noteText\":\"x\"}}");
	free(s);
	/* a set message field with nothing in it is {} */
	t.choice_case = BOOTMETA__V1__TEST_ALL_TYPES__CHOICE__NOT_SET;
	n.note_text = (char *)protobuf_c_empty_string;
	t.f_nested = &n;
	s = to_json(&t.base, NULL);
	assert_string_equal(s, "{\"fNested\":{}}");
	free(s);
}

static void test_numbers(void **state)
{
	Bootmeta__V1__TestAllTypes t = BOOTMETA__V1__TEST_ALL_TYPES__INIT;
	char *s;
	(void)state;
	t.f_float = 16777216.0f;
	t.f_double = 1.0 / 3.0;
	s = to_json(&t.base, NULL);
	assert_string_equal(s, "{\"fFloat\":16777216,\"fDouble\":0.3333333333333333}");
	free(s);
	t.f_float = -INFINITY;
	t.f_double = NAN;
	s = to_json(&t.base, NULL);
	assert_string_equal(s, "{\"fFloat\":\"-Infinity\",\"fDouble\":\"NaN\"}");
	free(s);
	t.f_float = 0;
	t.f_double = -0.0; /* not the zero value: its sign is data */
	s = to_json(&t.base, NULL);
	assert_string_equal(s, "{\"fDouble\":-0.0}");
	free(s);
	/* readers accept numbers for 64-bit integers, strings for 32-bit ones, whole reals */
	assert_json_round(ALL_TYPES, "{\"fInt64\":42,\"fUint64\":9223372036854775807,\"fInt32\":\"-3\","
			  "\"fUint32\":1e2,\"fSint32\":\"1e2\",\"fFixed32\":7.0,\"fDouble\":\"2.5\","
			  "\"fFloat\":\"Infinity\",\"fEnum\":1}",
			  "{\"fInt32\":-3,\"fInt64\":\"42\",\"fUint32\":100,\"fUint64\":\"9223372036854775807\","
			  "\"fSint32\":100,\"fFixed32\":7,\"fFloat\":\"Infinity\",\"fDouble\":2.5,"
			  "\"fEnum\":\"TEST_ENUM_ONE\"}");
	/* .proto names, nulls, URL-safe and unpadded base64 */
	assert_json_round(ALL_TYPES, "{\"f_int32\":1,\"f_string\":null,\"r_nested\":[{\"note_text\":\"a\"}],"
			  "\"fBytes\":\"-_8\",\"rBytes\":[\"YQ\"]}",
			  "{\"fInt32\":1,\"fBytes\":\"+/8=\",\"rBytes\":[\"YQ==\"],\"rNested\":[{\"noteText\":\"a\"}]}");
}

static void test_read_errors(void **state)
{
	const ProtobufCMessageDescriptor *rel = &bootmeta__v1__release__descriptor;
	(void)state;
	assert_read_fails(rel, "{\"project\":\"p\",\"colour\":1}", BM_EINVALID,
			  "unknown field \"colour\" in bootmeta.v1.Release");
	assert_read_fails(rel, "{\"sources\":[{\"url\":\"u\"},{\"commit\":5}]}", BM_EINVALID,
			  "field sources[1].commit: expected a string, got a number");
	assert_read_fails(rel, "{\"sources\":[{\"url\":\"u\",\"nope\":1}]}", BM_EINVALID,
			  "unknown field \"nope\" in bootmeta.v1.Source");
	assert_read_fails(rel, "{\"project\":", BM_EINVALID, "not valid JSON for bootmeta.v1.Release");
	assert_read_fails(rel, "{\"project\":\"a\",\"project\":\"b\"}", BM_EINVALID, "duplicate");
	assert_read_fails(rel, "{\"createdMs\":\"12x\"}", BM_EINVALID, "field createdMs: \"12x\" is not a number");
	assert_read_fails(rel, "{\"createdMs\":1.5}", BM_EINVALID, "not a whole number");
	assert_read_fails(rel, "{\"created_ms\":1,\"createdMs\":1}", BM_EINVALID, "given twice");
	assert_read_fails(rel, "[1]", BM_EINVALID, "expected an object");
	assert_read_fails(rel, "{\"sources\":{}}", BM_EINVALID, "field sources: expected an array");
	assert_read_fails(ALL_TYPES, "{\"fUint32\":-1}", BM_EINVALID, "out of range");
	assert_read_fails(ALL_TYPES, "{\"fInt32\":2147483648}", BM_EINVALID, "out of range");
	assert_read_fails(ALL_TYPES, "{\"fUint64\":\"18446744073709551616\"}", BM_EINVALID, "out of range");
	assert_read_fails(ALL_TYPES, "{\"fInt64\":\"-9223372036854775809\"}", BM_EINVALID, "out of range");
	assert_read_fails(ALL_TYPES, "{\"fFloat\":1e39}", BM_EINVALID, "out of range for a float");
	assert_read_fails(ALL_TYPES, "{\"fFloat\":-3.40282357e+38}", BM_EINVALID, "out of range for a float");
	assert_read_fails(ALL_TYPES, "{\"fBool\":\"true\"}", BM_EINVALID, "expected true or false");
	assert_read_fails(ALL_TYPES, "{\"fBytes\":\"YQ=\"}", BM_EINVALID, "not base64");
	assert_read_fails(ALL_TYPES, "{\"fBytes\":\"Y!==\"}", BM_EINVALID, "not base64");
	assert_read_fails(ALL_TYPES, "{\"fEnum\":\"TEST_ENUM_THREE\"}", BM_EINVALID,
			  "\"TEST_ENUM_THREE\" is not a value of enum bootmeta.v1.TestEnum");
	assert_read_fails(ALL_TYPES, "{\"oString\":\"a\",\"oUint32\":1}", BM_EINVALID, "only one member of a oneof");
	assert_read_fails(ALL_TYPES, "{\"rInt32\":[1,null]}", BM_EINVALID, "field rInt32[1]: a list element may not be null");
	assert_read_fails(ALL_TYPES, "{\"mBool\":{\"yes\":1}}", BM_EINVALID, "field mBool[\"yes\"]: map key");
	assert_read_fails(ALL_TYPES, "{\"mNested\":{\"1\":{\"a\":\"x\"}}}", BM_EINVALID, "field mNested[\"1\"].a:");
	assert_read_fails(ALL_TYPES, "{\"mString\":{\"a\":null}}", BM_EINVALID, "may not be null");
	assert_read_fails(ALL_TYPES, "{\"fString\":\"a\\u0000b\"}", BM_EINVALID, "not valid JSON");
}

static void test_depth_and_size(void **state)
{
	bm_buf j = BM_BUF_INIT, out = BM_BUF_INIT;
	Bootmeta__V1__TestAllTypes t[BM_PBJSON_MAX_DEPTH + 2];
	ProtobufCMessage *m = NULL;
	int i;
	(void)state;
	/* depth BM_PBJSON_MAX_DEPTH reads; one more does not */
	for (i = 0; i < BM_PBJSON_MAX_DEPTH; i++)
		assert_int_equal(bm_buf_puts(&j, "{\"child\":"), 0);
	assert_int_equal(bm_buf_puts(&j, "{}"), 0);
	for (i = 0; i < BM_PBJSON_MAX_DEPTH; i++)
		assert_int_equal(bm_buf_putc(&j, '}'), 0);
	assert_int_equal(bm_pbjson_read(&m, ALL_TYPES, j.ptr, j.size), 0);
	bm_record_free(m);
	bm_buf_clear(&j);
	for (i = 0; i <= BM_PBJSON_MAX_DEPTH; i++)
		assert_int_equal(bm_buf_puts(&j, "{\"child\":"), 0);
	assert_int_equal(bm_buf_puts(&j, "{}"), 0);
	for (i = 0; i <= BM_PBJSON_MAX_DEPTH; i++)
		assert_int_equal(bm_buf_putc(&j, '}'), 0);
	assert_int_equal(bm_pbjson_read(&m, ALL_TYPES, j.ptr, j.size), BM_ETOOBIG);
	assert_non_null(strstr(bm_error_last(), "nest deeper"));
	assert_int_equal(bm_pbjson_read(&m, ALL_TYPES, j.ptr, BM_PBJSON_MAX_INPUT + 1), BM_ETOOBIG);
	bm_buf_dispose(&j);
	/* the writer has the same bound, and leaves `out` as it was */
	for (i = 0; i < BM_PBJSON_MAX_DEPTH + 2; i++) {
		bootmeta__v1__test_all_types__init(&t[i]);
		t[i].child = i + 1 < BM_PBJSON_MAX_DEPTH + 2 ? &t[i + 1] : NULL;
	}
	assert_int_equal(bm_buf_puts(&out, "keep"), 0);
	assert_int_equal(bm_pbjson_write(&out, &t[0].base, NULL), BM_ETOOBIG);
	assert_string_equal(out.ptr, "keep");
	assert_int_equal(bm_pbjson_write(&out, &t[2].base, NULL), 0);
	bm_buf_dispose(&out);
}

static void test_maps(void **state)
{
	Bootmeta__V1__TestAllTypes t = BOOTMETA__V1__TEST_ALL_TYPES__INIT;
	Bootmeta__V1__TestAllTypes__MStringEntry e[3], *ep[3];
	Bootmeta__V1__TestAllTypes__MBoolEntry b[2], *bp[2];
	bm_pbjson_options pretty = BM_PBJSON_OPTIONS_INIT;
	const char *keys[3] = { "a", "b", "a" }, *vals[3] = { "1", "2", "3" };
	char *s;
	int i;
	(void)state;
	for (i = 0; i < 3; i++) {
		bootmeta__v1__test_all_types__mstring_entry__init(&e[i]);
		e[i].key = (char *)keys[i];
		e[i].value = (char *)vals[i];
		ep[i] = &e[i];
	}
	for (i = 0; i < 2; i++) {
		bootmeta__v1__test_all_types__mbool_entry__init(&b[i]);
		b[i].key = 1;
		b[i].value = i + 1;
		bp[i] = &b[i];
	}
	t.n_m_string = 3;
	t.m_string = ep;
	t.n_m_bool = 2;
	t.m_bool = bp;
	/* the wire format may repeat a key: the last entry wins, and JSON shows it once */
	s = to_json(&t.base, NULL);
	assert_string_equal(s, "{\"mString\":{\"b\":\"2\",\"a\":\"3\"},\"mBool\":{\"true\":2}}");
	free(s);
	pretty.pretty = 1;
	s = to_json(&t.base, &pretty);
	assert_string_equal(s, "{\n  \"mString\": {\n    \"b\": \"2\",\n    \"a\": \"3\"\n  },\n"
			    "  \"mBool\": {\n    \"true\": 2\n  }\n}");
	free(s);
	/* integer keys in canonical form only, so two JSON keys never name one map key */
	assert_json_round(ALL_TYPES, "{\"mNested\":{\"0\":{},\"-12\":{\"a\":1}},\"mEnum\":{\"4294967295\":0}}",
			  "{\"mNested\":{\"0\":{},\"-12\":{\"a\":1}},\"mEnum\":{\"4294967295\":\"TEST_ENUM_UNSPECIFIED\"}}");
	assert_read_fails(ALL_TYPES, "{\"mNested\":{\"1\":{},\"01\":{}}}", BM_EINVALID, "canonical form");
	assert_read_fails(ALL_TYPES, "{\"mNested\":{\"-0\":{}}}", BM_EINVALID, "canonical form");
	assert_read_fails(ALL_TYPES, "{\"mEnum\":{\"4294967296\":0}}", BM_EINVALID, "out of range");
}

static void test_escape(void **state)
{
	bm_buf b = BM_BUF_INIT;
	(void)state;
	assert_int_equal(bm_json_escape(&b, "a\"b\\c\b\f\n\r\t\x01\x1f\x7f/\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9"), 0);
	assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f/\xc3\xa9\\u2028\\u2029\"");
	bm_buf_clear(&b);
	/* invalid UTF-8: each bad byte becomes U+FFFD; overlong, surrogate, past U+10FFFF, cut */
	assert_int_equal(bm_json_escape(&b, "x\xff" "y\xc0\xaf" "\xed\xa0\x80" "\xf4\x90\x80\x80" "\xe2\x82"), 0);
	assert_string_equal(b.ptr, "\"x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_true(bm_utf8_valid(b.ptr, b.size));
	bm_buf_clear(&b);
	assert_int_equal(bm_json_escape_len(&b, "a\0b", 3), 0);
	assert_string_equal(b.ptr, "\"a\\u0000b\"");
	bm_buf_clear(&b);
	assert_int_equal(bm_json_escape(&b, NULL), 0);
	assert_string_equal(b.ptr, "\"\"");
	bm_buf_dispose(&b);
	assert_true(bm_utf8_valid("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 8));
	assert_false(bm_utf8_valid("\xf0\x9f\x98", 3));
	assert_false(bm_utf8_valid("\xe0\x80\x80", 3));
}

static void test_field_names(void **state)
{
	char buf[8];
	(void)state;
	assert_int_equal(bm_pbjson_field_name(buf, sizeof(buf), "created_ms"), 9);
	assert_string_equal(buf, "created");
	{
		char big[64];
		bm_pbjson_field_name(big, sizeof(big), "previous_release");
		assert_string_equal(big, "previousRelease");
		bm_pbjson_field_name(big, sizeof(big), "signer_key_id");
		assert_string_equal(big, "signerKeyId");
		bm_pbjson_field_name(big, sizeof(big), "f_int32");
		assert_string_equal(big, "fInt32");
		bm_pbjson_field_name(big, sizeof(big), "a__b_1c_");
		assert_string_equal(big, "aB1c");
		bm_pbjson_field_name(big, sizeof(big), "sha256");
		assert_string_equal(big, "sha256");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_release_options),
		cmocka_unit_test(test_all_types),
		cmocka_unit_test(test_defaults_and_oneof),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_depth_and_size),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_field_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
