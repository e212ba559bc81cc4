/* test_buildinfo.c: go.mod parsing, build stamps (encode, emit, find, forged and truncated
 * stamps) and Go build info (modinfo text, inline and pointer formats, damaged input). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "bootmeta.h"

#define META "0123456789abcdef0123456789abcdef01234567"
#define C1 "89abcdef0123456789abcdef0123456789abcdef"
#define C2 "fedcba9876543210fedcba9876543210fedcba98fedcba9876543210fedcba98"

/* ---- go.mod ---- */

static const char gomod_full[] =
	"// A go.mod with every directive.\n"
	"module \"example.com/acme/server\" // quoted path\n"
	"\n"
	"go 1.21\n"
	"toolchain go1.21.3\n"
	"\n"
	"godebug (\n"
	"\tdefault=go1.21\n"
	"\tpanicnil=1\n"
	")\n"
	"\n"
	"require github.com/single/line v1.2.3\n"
	"require github.com/single/indirect v0.1.0 // indirect\n"
	"\n"
	"require (\n"
	"\tgithub.com/a/direct v1.0.0\n"
	"\tgithub.com/b/indirect v2.3.4+incompatible // indirect\n"
	"\t// a comment line inside the block\n"
	"\tgolang.org/x/sys v0.0.0-20230101000000-abcdef123456 // indirect; needed by b\n"
	"\t`example.com/raw` v1.0.0-rc.1 // not indirect\n"
	")\n"
	"\n"
	"replace (\n"
	"\tgithub.com/a/direct => ../direct\n"
	"\tgithub.com/b/indirect v2.3.4+incompatible => github.com/fork/b v2.3.5\n"
	")\n"
	"replace example.com/x v1.0.0 => example.com/y v1.1.0\n"
	"exclude github.com/bad/mod v1.0.1\n"
	"retract v1.0.0 // published by mistake\n"
	"retract [v1.1.0, v1.2.0]\n"
	"retract (\n"
	"\tv0.9.0\n"
	"\t[v0.1.0, v0.2.0] // early\n"
	")\n"
	"require ()\n";

static void test_gomod_full(void **state)
{
	bm_gomod *m;
	(void)state;
	assert_int_equal(bm_gomod_parse(&m, gomod_full, strlen(gomod_full)), 0);
	assert_string_equal(m->module, "example.com/acme/server");
	assert_string_equal(m->go_version, "1.21");
	assert_string_equal(m->toolchain, "go1.21.3");
	assert_int_equal(m->require_count, 6);
	assert_string_equal(m->requires[0].module, "github.com/single/line");
	assert_string_equal(m->requires[0].version, "v1.2.3");
	assert_false(m->requires[0].indirect);
	assert_string_equal(m->requires[1].module, "github.com/single/indirect");
	assert_true(m->requires[1].indirect);
	assert_string_equal(m->requires[2].module, "github.com/a/direct");
	assert_false(m->requires[2].indirect);
	assert_string_equal(m->requires[3].version, "v2.3.4+incompatible");
	assert_true(m->requires[3].indirect);
	assert_string_equal(m->requires[4].module, "golang.org/x/sys");
	assert_string_equal(m->requires[4].version, "v0.0.0-20230101000000-abcdef123456");
	assert_true(m->requires[4].indirect);
	assert_string_equal(m->requires[5].module, "example.com/raw");
	assert_string_equal(m->requires[5].version, "v1.0.0-rc.1");
	assert_false(m->requires[5].indirect);
	bm_gomod_free(m);
	bm_gomod_free(NULL);
}

static void test_gomod_minimal(void **state)
{
	bm_gomod *m;
	const char *t = "module m\r\n";  /* CRLF line ends, no go line */
	(void)state;
	assert_int_equal(bm_gomod_parse(&m, t, strlen(t)), 0);
	assert_string_equal(m->module, "m");
	assert_null(m->go_version);
	assert_int_equal(m->require_count, 0);
	bm_gomod_free(m);
}

struct bad_gomod {
	const char *text;
	const char *expect;  /* a substring of the message */
};

static void test_gomod_malformed(void **state)
{
	static const struct bad_gomod cases[] = {
		{ "module m\nrequire (\n\tgithub.com/a v1.0.0\n", "go.mod line 3: the require block opened on line 2 is not closed" },
		{ "module m\nrequire github.com/a\n", "go.mod line 2: require github.com/a: missing version" },
		{ "module m\nrequire github.com/a 1.2.3\n", "go.mod line 2: require github.com/a: bad version \"1.2.3\"" },
		{ "module m\nrequire github.com/a v1.2.3.4\n", "bad version \"v1.2.3.4\"" },
		{ "module m\nrequire github.com/a v01.2.3\n", "bad version" },
		{ "module m\nrequire github.com/a v1.2.3 extra\n", "go.mod line 2: require: unexpected \"extra\"" },
		{ "module m\nrequire (\n\tgithub.com/a\n)\n", "go.mod line 3: require github.com/a: missing version" },
		{ "module m\nfrobnicate x\n", "go.mod line 2: unknown directive \"frobnicate\"" },
		{ "module m\n)\n", "go.mod line 2: unexpected \")\"" },
		{ "module m\nrequire (\n(\n)\n", "go.mod line 3: '(' inside the require block" },
		{ "module \"m\n", "go.mod line 1: unterminated quoted string" },
		{ "module `m\n", "go.mod line 1: unterminated raw string" },
		{ "go 1.21\n", "no module directive" },
		{ "module m\nmodule n\n", "go.mod line 2: repeated module directive" },
		{ "module m\ngo one\n", "go.mod line 2: go: bad version \"one\"" },
		{ "module m\ngo\n", "go.mod line 2: go: missing version" },
		{ "module m\nreplace a v1.0.0 b v1.0.0\n", "go.mod line 2: replace: missing '=>'" },
		{ "module m\nreplace a => b 1.0\n", "bad version \"1.0\"" },
		{ "module m\nretract [v1.0.0 v1.1.0]\n", "expected ','" },
		{ "module m\nexclude a\n", "missing version" },
		{ "module m\ngodebug x\n", "expected key=value" },
		{ "module m\nmodule (\n", "module cannot open a block" },
		{ "module m\nrequire a v1.0.0 \x01\n", "control character" },
		{ "module m\nrequire \"a\\q\" v1.0.0\n", "unsupported escape" },
		{ "module m\nrequire ( x\n", "unexpected \"x\"" },
		{ "module m\nrequire a b c d e f g h i j k l m n o p q\n", "more than 16 tokens" },
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bm_gomod *m = (bm_gomod *)1;
		int rc = bm_gomod_parse(&m, cases[i].text, strlen(cases[i].text));
		if (rc != BM_EINVALID || !strstr(bm_error_last(), cases[i].expect))
			fail_msg("case %zu: rc %d, message \"%s\"; expected \"%s\"", i, rc, bm_error_last(), cases[i].expect);
		assert_null(m);
	}
}

static void test_gomod_bounds(void **state)
{
	bm_gomod *m;
	char *big;
	const char nul[] = "module m\0\n";
	(void)state;
	assert_int_equal(bm_gomod_parse(&m, nul, sizeof(nul) - 1), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "NUL"));
	big = calloc(1, BM_GOMOD_MAX_SIZE + 2);
	assert_non_null(big);
	memset(big, '\n', BM_GOMOD_MAX_SIZE + 1);
	assert_int_equal(bm_gomod_parse(&m, big, BM_GOMOD_MAX_SIZE + 1), BM_ETOOBIG);
	free(big);
}

/* ---- stamps ---- */

static bm_stamp_source sources[] = {
	{ "https://github.com/acme/server.git", C1 },
	{ "git@github.com:acme/l;i=b%20 ö.git", C2 },  /* every special character of the encoding */
};

static bm_stamp sample_stamp(void)
{
	bm_stamp s;
	memset(&s, 0, sizeof(s));
	s.project = "acme/server";
	s.release = "r-42";
	s.version = "1.2.3+build.7";
	s.meta_commit = META;
	s.sources = sources;
	s.source_count = 2;
	return s;
}

static void check_sample(const bm_stamp *got)
{
	assert_string_equal(got->project, "acme/server");
	assert_string_equal(got->release, "r-42");
	assert_string_equal(got->version, "1.2.3+build.7");
	assert_string_equal(got->meta_commit, META);
	assert_int_equal(got->source_count, 2);
	assert_string_equal(got->sources[0].url, sources[0].url);
	assert_string_equal(got->sources[0].commit, C1);
	assert_string_equal(got->sources[1].url, sources[1].url);
	assert_string_equal(got->sources[1].commit, C2);
}

static void test_stamp_round_trip(void **state)
{
	bm_stamp s = sample_stamp(), *got;
	bm_buf enc = BM_BUF_INIT, hay = BM_BUF_INIT;
	size_t i;
	(void)state;
	assert_int_equal(bm_stamp_encode(&enc, &s), 0);
	assert_memory_equal(enc.ptr, BM_STAMP_MAGIC, strlen(BM_STAMP_MAGIC));
	for (i = 0; i < enc.size; i++)
		assert_true(enc.ptr[i] > ' ' && enc.ptr[i] < 0x7f && enc.ptr[i] != '"' && enc.ptr[i] != '\\');
	assert_int_equal(bm_stamp_decode(&got, enc.ptr, enc.size), 0);
	check_sample(got);
	bm_stamp_free(got);

	/* In the middle of binary noise, after the scanner's own constant (not a stamp). */
	for (i = 0; i < 1000; i++)
		bm_buf_putc(&hay, (char)(i * 7));
	bm_buf_put(&hay, BM_STAMP_MAGIC "\0", strlen(BM_STAMP_MAGIC) + 1);
	bm_buf_put(&hay, BM_STAMP_MAGIC "%zu", strlen(BM_STAMP_MAGIC) + 3);
	bm_buf_put(&hay, enc.ptr, enc.size);
	bm_buf_put(&hay, "\0trailing", 9);
	assert_int_equal(bm_stamp_find(&got, hay.ptr, hay.size), 0);
	check_sample(got);
	assert_int_equal(got->offset, 1000 + 2 * strlen(BM_STAMP_MAGIC) + 4);
	bm_stamp_free(got);

	/* No version. */
	s.version = NULL;
	bm_buf_clear(&enc);
	assert_int_equal(bm_stamp_encode(&enc, &s), 0);
	assert_null(strstr(enc.ptr, ";v="));
	assert_int_equal(bm_stamp_find(&got, enc.ptr, enc.size), 0);
	assert_null(got->version);
	bm_stamp_free(got);

	assert_int_equal(bm_stamp_find(&got, "nothing here", 12), BM_ENOTFOUND);
	assert_null(got);
	assert_int_equal(bm_stamp_find(&got, NULL, 0), BM_ENOTFOUND);
	bm_buf_dispose(&enc);
	bm_buf_dispose(&hay);
}

static void test_stamp_truncated(void **state)
{
	bm_stamp s = sample_stamp(), *got;
	bm_buf enc = BM_BUF_INIT;
	size_t n, magic = strlen(BM_STAMP_MAGIC);
	(void)state;
	assert_int_equal(bm_stamp_encode(&enc, &s), 0);
	for (n = 0; n < enc.size; n++) {
		char *copy = malloc(n + 1);  /* exact size: ASan catches any read past the end */
		int rc;
		memcpy(copy, enc.ptr, n);
		rc = bm_stamp_find(&got, copy, n);
		if (n <= magic)
			assert_int_equal(rc, BM_ENOTFOUND);
		else if (rc != BM_ECORRUPT)
			fail_msg("prefix of %zu bytes: rc %d (%s)", n, rc, bm_error_last());
		assert_null(got);
		free(copy);
	}
	bm_buf_dispose(&enc);
}

/* Build a stamp around `payload` with a correct check: a forger who knows the format. */
static void forge(bm_buf *out, const char *payload)
{
	unsigned char h[32];
	char hex[17];
	crypto_hash_sha256(h, (const unsigned char *)payload, strlen(payload));
	bm_hex_encode(hex, h, 8);
	hex[16] = '\0';
	bm_buf_clear(out);
	bm_buf_printf(out, "%s%zu:%s:%s%s", BM_STAMP_MAGIC, strlen(payload), payload, hex, BM_STAMP_END);
}

static void expect_corrupt(const bm_buf *b, const char *what)
{
	bm_stamp *got;
	int rc = bm_stamp_find(&got, b->ptr, b->size);
	if (rc != BM_ECORRUPT || !strstr(bm_error_last(), what))
		fail_msg("%s: rc %d, message \"%s\"; expected \"%s\"", b->ptr, rc, bm_error_last(), what);
	assert_null(got);
}

static void test_stamp_forged(void **state)
{
	bm_stamp s = sample_stamp(), *got;
	bm_buf enc = BM_BUF_INIT, b = BM_BUF_INIT;
	char *r;
	(void)state;
	assert_int_equal(bm_stamp_encode(&enc, &s), 0);

	/* Changed payload, old check. */
	bm_buf_put(&b, enc.ptr, enc.size);
	r = strstr(b.ptr, "r=r-42");
	r[5] = '3';
	expect_corrupt(&b, "check does not match");
	/* Changed check. */
	bm_buf_clear(&b);
	bm_buf_put(&b, enc.ptr, enc.size);
	b.ptr[b.size - strlen(BM_STAMP_END) - 1] ^= 1;
	expect_corrupt(&b, "check does not match");
	/* Wrong length field. */
	bm_buf_clear(&b);
	bm_buf_printf(&b, "%s1%s", BM_STAMP_MAGIC, enc.ptr + strlen(BM_STAMP_MAGIC));
	expect_corrupt(&b, "");
	bm_buf_clear(&b);
	bm_buf_printf(&b, "%s0%s", BM_STAMP_MAGIC, enc.ptr + strlen(BM_STAMP_MAGIC));
	expect_corrupt(&b, "length field");
	bm_buf_clear(&b);
	bm_buf_printf(&b, "%s999999:x", BM_STAMP_MAGIC);
	expect_corrupt(&b, "length field");
	/* Missing end marker. */
	bm_buf_clear(&b);
	bm_buf_put(&b, enc.ptr, enc.size - 1);
	bm_buf_putc(&b, 'X');
	expect_corrupt(&b, "end marker");

	/* Correct checks over bad payloads. */
	forge(&b, "p=acme/server;r=r-42;m=" META);
	assert_int_equal(bm_stamp_find(&got, b.ptr, b.size), 0);  /* the forger's control */
	bm_stamp_free(got);
	forge(&b, "r=r-42;m=" META);
	expect_corrupt(&b, "lacks project");
	forge(&b, "p=../etc;r=r-42;m=" META);
	expect_corrupt(&b, "project name");
	forge(&b, "p=a;r=r-42;m=nothex");
	expect_corrupt(&b, "meta commit");
	forge(&b, "r=r-42;p=a;m=" META);
	expect_corrupt(&b, "out of order");
	forge(&b, "p=a;p=b;r=r-42;m=" META);
	expect_corrupt(&b, "repeated");
	forge(&b, "p=a;r=r 42;m=" META);
	expect_corrupt(&b, "bad character");
	forge(&b, "p=a;r=r%2;m=" META);
	expect_corrupt(&b, "bad character");
	forge(&b, "p=a;r=r%00x;m=" META);
	expect_corrupt(&b, "bad character");
	forge(&b, "p=a;r=r;m=" META ";s=https://x");
	expect_corrupt(&b, "<url>@<commit>");
	forge(&b, "p=a;r=r;m=" META ";s=https://x@abc");
	expect_corrupt(&b, "commit");
	forge(&b, "p=a;r=r;m=" META ";");
	expect_corrupt(&b, "ends with ';'");
	forge(&b, "p=a;r=r;m=" META ";x=later;xx=later;s=u@" C1);  /* unknown keys are skipped */
	assert_int_equal(bm_stamp_find(&got, b.ptr, b.size), 0);
	assert_int_equal(got->source_count, 1);
	bm_stamp_free(got);
	{
		/* More sources than the bound, each valid. */
		bm_buf p = BM_BUF_INIT;
		unsigned i;
		bm_buf_puts(&p, "p=a;r=r;m=" META);
		for (i = 0; i <= BM_STAMP_MAX_SOURCES; i++)
			bm_buf_puts(&p, ";s=u@" C1);
		forge(&b, p.ptr);
		expect_corrupt(&b, "more sources");
		bm_buf_dispose(&p);
	}
	bm_buf_dispose(&b);
	bm_buf_dispose(&enc);
}

static void test_stamp_validate(void **state)
{
	bm_stamp s = sample_stamp();
	bm_stamp_source many[BM_STAMP_MAX_SOURCES + 1], one;
	bm_buf b = BM_BUF_INIT;
	char *longurl;
	size_t i;
	(void)state;
	s.project = "../x";
	assert_int_equal(bm_stamp_encode(&b, &s), BM_EINVALID);
	s = sample_stamp();
	s.release = "a b";
	assert_int_equal(bm_stamp_encode(&b, &s), BM_EINVALID);
	s = sample_stamp();
	s.version = "1.0 'beta' \"x\""; /* both quotes: go-ldflags could not carry it */
	assert_int_equal(bm_stamp_encode(&b, &s), BM_EINVALID);
	s.version = "1.0\nbeta";
	assert_int_equal(bm_stamp_encode(&b, &s), BM_EINVALID);
	s = sample_stamp();
	s.meta_commit = "ABCDEF";
	assert_int_equal(bm_stamp_encode(&b, &s), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "meta commit"));
	s = sample_stamp();
	one.url = "https://x";
	one.commit = "0123";
	s.sources = &one;
	s.source_count = 1;
	assert_int_equal(bm_stamp_encode(&b, &s), BM_EINVALID);
	longurl = malloc(BM_STAMP_MAX_URL + 2);
	memset(longurl, 'u', BM_STAMP_MAX_URL + 1);
	longurl[BM_STAMP_MAX_URL + 1] = '\0';
	one.url = longurl;
	one.commit = C1;
	assert_int_equal(bm_stamp_encode(&b, &s), BM_EINVALID);
	free(longurl);
	for (i = 0; i <= BM_STAMP_MAX_SOURCES; i++) {
		many[i].url = "https://x";
		many[i].commit = C1;
	}
	s.sources = many;
	s.source_count = BM_STAMP_MAX_SOURCES + 1;
	assert_int_equal(bm_stamp_encode(&b, &s), BM_ETOOBIG);
	s.source_count = BM_STAMP_MAX_SOURCES;
	assert_int_equal(bm_stamp_encode(&b, &s), 0);
	bm_buf_dispose(&b);
}

static void test_stamp_emit(void **state)
{
	bm_stamp s = sample_stamp();
	bm_stamp_format f;
	bm_buf b = BM_BUF_INIT, raw = BM_BUF_INIT;
	json_t *j;
	json_error_t jerr;
	(void)state;
	assert_int_equal(bm_stamp_format_from_str(&f, "c"), 0);
	assert_int_equal(f, BM_STAMP_FORMAT_C);
	assert_int_equal(bm_stamp_format_from_str(&f, "go-ldflags"), 0);
	assert_int_equal(f, BM_STAMP_FORMAT_GO_LDFLAGS);
	assert_int_equal(bm_stamp_format_from_str(&f, "json"), 0);
	assert_int_equal(bm_stamp_format_from_str(&f, "yaml"), BM_EINVALID);
	assert_int_equal(bm_stamp_encode(&raw, &s), 0);

	assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_C), 0);
	assert_non_null(strstr(b.ptr, "static const char bootmeta_stamp[]"));
	assert_non_null(strstr(b.ptr, raw.ptr));
	assert_non_null(strstr(b.ptr, "#define BOOTMETA_STAMP_RELEASE \"r-42\""));

	bm_buf_clear(&b);
	assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_GO_LDFLAGS), 0);
	assert_memory_equal(b.ptr, "-X main.bootmetaStamp=" BM_STAMP_MAGIC, 22 + strlen(BM_STAMP_MAGIC));
	assert_non_null(strstr(b.ptr, raw.ptr));
	assert_non_null(strstr(b.ptr, " -X main.bootmetaVersion=1.2.3+build.7\n"));
	assert_null(strchr(b.ptr, '"'));

	bm_buf_clear(&b);
	assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_JSON), 0);
	j = json_loads(b.ptr, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "release")), "r-42");
	assert_string_equal(json_string_value(json_object_get(j, "stamp")), raw.ptr);
	assert_non_null(json_object_get(j, "metaCommit"));     /* lowerCamelCase, as every --json */
	assert_null(json_object_get(j, "meta_commit"));
	assert_true(b.size > 0 && b.ptr[b.size - 1] == '\n' && !memchr(b.ptr, '\n', b.size - 1));  /* compact: one line */
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "sources"), 1), "url")),
			    sources[1].url);
	json_decref(j);

	s.project = NULL;
	assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_JSON), BM_EINVALID);
	bm_buf_dispose(&b);
	bm_buf_dispose(&raw);
}

/* A version is free text (release add takes "1.0 beta"): every format carries it and the
 * stamp decodes back to the same bytes. */
static void test_stamp_free_text_version(void **state)
{
	static const char *const versions[] = { "1.0 beta", "caf\xc3\xa9 \"rc\" ?\?= 1\\2", "it's 2", "%41;v=x@y" };
	bm_stamp s = sample_stamp(), *back = NULL;
	bm_buf b = BM_BUF_INIT;
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		s.version = (char *)versions[i];
		bm_buf_clear(&b);
		assert_int_equal(bm_stamp_encode(&b, &s), 0);
		assert_null(strpbrk(b.ptr, " \"'\\"));
		assert_int_equal(bm_stamp_decode(&back, b.ptr, b.size), 0);
		assert_string_equal(back->version, versions[i]);
		bm_stamp_free(back);
		bm_buf_clear(&b);
		assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_C), 0);
		bm_buf_clear(&b);
		assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_GO_LDFLAGS), 0);
	}
	s.version = (char *)"1.0 beta";
	bm_buf_clear(&b);
	assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_GO_LDFLAGS), 0);
	assert_non_null(strstr(b.ptr, " -X 'main.bootmetaVersion=1.0 beta'\n"));
	s.version = (char *)"it's 2";
	bm_buf_clear(&b);
	assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_GO_LDFLAGS), 0);
	assert_non_null(strstr(b.ptr, " -X \"main.bootmetaVersion=it's 2\"\n"));
	s.version = (char *)"caf\xc3\xa9 \"rc\" ?\?= 1\\2";
	bm_buf_clear(&b);
	assert_int_equal(bm_stamp_emit(&b, &s, BM_STAMP_FORMAT_C), 0);
	assert_non_null(strstr(b.ptr, "#define BOOTMETA_STAMP_VERSION \"caf\\303\\251 \\\"rc\\\" \\?\\?= 1\\\\2\"\n"));
	bm_buf_dispose(&b);
}

/* The file scanner reads 1 MiB chunks: put stamps and decoys across the boundaries. */
static void test_stamp_find_file(void **state)
{
	bm_stamp s = sample_stamp(), *got;
	bm_buf enc = BM_BUF_INIT;
	const size_t chunk = 1024 * 1024, magic = strlen(BM_STAMP_MAGIC);
	const size_t places[] = { 0, chunk - 5, chunk - magic, chunk - magic + 1, chunk - magic - 1, 3 * chunk - 1 };
	char path[] = "/tmp/bm_test_stamp_XXXXXX";
	size_t i, size = 4 * chunk;
	char *data = malloc(size);
	int fd;
	(void)state;
	assert_non_null(data);
	assert_int_equal(bm_stamp_encode(&enc, &s), 0);
	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		memset(data, 'B', size);
		/* A decoy (the magic without a length) just before the first boundary. */
		if (places[i] > chunk)
			memcpy(data + chunk - magic, BM_STAMP_MAGIC, magic);
		memcpy(data + places[i], enc.ptr, enc.size);
		assert_true((fd = mkstemp(path)) >= 0);
		assert_int_equal(write(fd, data, size), (ssize_t)size);
		close(fd);
		if (bm_stamp_find_file(&got, path) != 0)
			fail_msg("stamp at %zu: %s", places[i], bm_error_last());
		assert_int_equal(got->offset, places[i]);
		check_sample(got);
		bm_stamp_free(got);
		unlink(path);
		strcpy(path, "/tmp/bm_test_stamp_XXXXXX");
	}
	/* A stamp cut by the end of the file, and no stamp at all. */
	memset(data, 'B', size);
	memcpy(data + size - 40, enc.ptr, 40);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	close(fd);
	assert_int_equal(bm_stamp_find_file(&got, path), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "truncated"));
	memset(data, 'B', size);
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) >= 0);
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	close(fd);
	assert_int_equal(bm_stamp_find_file(&got, path), BM_ENOTFOUND);
	unlink(path);
	assert_int_equal(bm_stamp_find_file(&got, "/nonexistent/file"), BM_ENOTFOUND);
	free(data);
	bm_buf_dispose(&enc);
}

/* ---- Go build info ---- */

static const char modinfo_text[] =
	"path\texample.com/cmd/tool\n"
	"mod\texample.com\tv1.2.3\th1:main=\n"
	"dep\tgithub.com/a/b\tv0.1.0\th1:ab=\n"
	"dep\tgithub.com/c/d\tv1.0.0\n"
	"=>\t../d\t(devel)\t\n"
	"dep\tgithub.com/e/f\tv2.0.0\th1:ef=\n"
	"build\t-compiler=gc\n"
	"build\t-ldflags=\"-X 'main.v=a b' -s \\\"q\\\"\"\n"
	"build\t\"we=ird\"=x\n"
	"build\tCGO_ENABLED=1\n"
	"build\tvcs.revision=0123456789abcdef\n"
	"build\tvcs.time=2024-01-02T03:04:05Z\n"
	"build\tvcs.modified=true\n"
	"build\tempty=\n";

static void check_modinfo(const bm_gobuildinfo *bi)
{
	assert_string_equal(bi->path, "example.com/cmd/tool");
	assert_string_equal(bi->main.path, "example.com");
	assert_string_equal(bi->main.version, "v1.2.3");
	assert_string_equal(bi->main.sum, "h1:main=");
	assert_null(bi->main.replace);
	assert_int_equal(bi->dep_count, 3);
	assert_string_equal(bi->deps[0].path, "github.com/a/b");
	assert_string_equal(bi->deps[1].sum, "");
	assert_non_null(bi->deps[1].replace);
	assert_string_equal(bi->deps[1].replace->path, "../d");
	assert_string_equal(bi->deps[1].replace->version, "(devel)");
	assert_null(bi->deps[2].replace);
	assert_int_equal(bi->setting_count, 8);
	assert_string_equal(bm_gobuildinfo_setting(bi, "-ldflags"), "-X 'main.v=a b' -s \"q\"");
	assert_string_equal(bm_gobuildinfo_setting(bi, "we=ird"), "x");
	assert_string_equal(bm_gobuildinfo_setting(bi, "vcs.revision"), "0123456789abcdef");
	assert_string_equal(bm_gobuildinfo_setting(bi, "vcs.modified"), "true");
	assert_string_equal(bm_gobuildinfo_setting(bi, "empty"), "");
	assert_null(bm_gobuildinfo_setting(bi, "nope"));
}

static void test_modinfo(void **state)
{
	bm_gobuildinfo *bi;
	bm_buf out = BM_BUF_INIT, want = BM_BUF_INIT;
	const char *p;
	(void)state;
	assert_int_equal(bm_gobuildinfo_parse_modinfo(&bi, modinfo_text, strlen(modinfo_text)), 0);
	check_modinfo(bi);
	/* Formatting gives back the text (tab-indented, as `go version -m` prints it). */
	assert_int_equal(bm_gobuildinfo_format(&out, bi), 0);
	for (p = modinfo_text; *p; p = strchr(p, '\n') + 1) {
		bm_buf_putc(&want, '\t');
		bm_buf_put(&want, p, (size_t)(strchr(p, '\n') - p) + 1);
	}
	assert_string_equal(out.ptr, want.ptr);
	bm_gobuildinfo_free(bi);
	bm_gobuildinfo_free(NULL);
	bm_buf_dispose(&out);
	bm_buf_dispose(&want);
}

static void test_modinfo_bad(void **state)
{
	static const struct bad_gomod cases[] = {
		{ "path\tx\n=>\ta\tb\tc\n", "line 2: replacement with no module" },
		{ "mod\ta\n", "line 1: expected 2 or 3" },
		{ "mod\ta\tb\tc\td\n", "line 1: expected 2 or 3" },
		{ "mod\ta\tb\n=>\ta\tb\n", "line 2: expected 3" },
		{ "mod\ta\tb\n=>\ta\tb\tc\n=>\ta\tb\tc\n", "line 3: replacement with no module" },
		{ "build\t\n", "missing '='" },
		{ "build\t=x\n", "missing key" },
		{ "build\tnoequals\n", "missing '=' after key" },
		{ "build\t\"k=x\n", "invalid quoted key" },
		{ "build\t\"k\"x\n", "missing '=' after quoted key" },
		{ "build\tk=a b\n", "must be quoted" },
		{ "build\tk=\"a\n", "invalid quoted value" },
		{ "build\tk=\"\\q\"\n", "invalid quoted value" },
		{ "build\tk=\"\\uD800\"\n", "invalid quoted value" },
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bm_gobuildinfo *bi = (bm_gobuildinfo *)1;
		int rc = bm_gobuildinfo_parse_modinfo(&bi, cases[i].text, strlen(cases[i].text));
		if (rc != BM_ECORRUPT || !strstr(bm_error_last(), cases[i].expect))
			fail_msg("case %zu: rc %d, message \"%s\"; expected \"%s\"", i, rc, bm_error_last(), cases[i].expect);
		assert_null(bi);
	}
}

static void test_modinfo_unquote(void **state)
{
	const char *t = "build\tk=\"\\x41\\101\\u00e9\\U0001F600\\t`\"\nbuild\tr=`raw \"x\"`\nunknown line\nbuild\tlast=no-newline";
	bm_gobuildinfo *bi;
	bm_buf out = BM_BUF_INIT;
	(void)state;
	assert_int_equal(bm_gobuildinfo_parse_modinfo(&bi, t, strlen(t)), 0);
	assert_int_equal(bi->setting_count, 2);
	assert_string_equal(bm_gobuildinfo_setting(bi, "k"), "AA\xc3\xa9\xf0\x9f\x98\x80\t`");
	assert_string_equal(bm_gobuildinfo_setting(bi, "r"), "raw \"x\"");
	assert_int_equal(bm_gobuildinfo_format(&out, bi), 0);
	assert_string_equal(out.ptr, "\tbuild\tk=\"AA\xc3\xa9\xf0\x9f\x98\x80\\t`\"\n\tbuild\tr=\"raw \\\"x\\\"\"\n");
	bm_gobuildinfo_free(bi);
	bm_buf_dispose(&out);
}

static const unsigned char sentinel_start[16] = "\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
static const unsigned char sentinel_end[16] = "\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";

static void put_uvarint(bm_buf *b, size_t v)
{
	while (v >= 0x80) {
		bm_buf_putc(b, (char)(v | 0x80));
		v >>= 7;
	}
	bm_buf_putc(b, (char)v);
}

/* `pad` bytes of noise, then a Go 1.18+ header with inline strings. */
static void make_inline(bm_buf *b, size_t pad, const char *version, const char *modinfo)
{
	size_t i;
	bm_buf_clear(b);
	for (i = 0; i < pad; i++)
		bm_buf_putc(b, (char)(i * 13 + 1));
	bm_buf_put(b, "\xff Go buildinf:\x08\x02", 16);
	for (i = 0; i < 16; i++)
		bm_buf_putc(b, 0);
	put_uvarint(b, strlen(version));
	bm_buf_puts(b, version);
	put_uvarint(b, strlen(modinfo) + 32);
	bm_buf_put(b, sentinel_start, 16);
	bm_buf_puts(b, modinfo);
	bm_buf_put(b, sentinel_end, 16);
	for (i = 0; i < 64; i++)
		bm_buf_putc(b, 0);
}

static void test_gobuildinfo_inline(void **state)
{
	bm_gobuildinfo *bi;
	bm_buf b = BM_BUF_INIT;
	size_t n, end;
	(void)state;
	make_inline(&b, 4096, "go1.22.1", modinfo_text);
	assert_int_equal(bm_gobuildinfo_parse(&bi, b.ptr, b.size), 0);
	assert_string_equal(bi->go_version, "go1.22.1");
	assert_int_equal(bi->offset, 4096);
	assert_true(bi->inline_strings);
	assert_int_equal(bi->ptr_size, 8);
	check_modinfo(bi);
	bm_gobuildinfo_free(bi);

	/* Every truncation: a clean error, never a read past the end (exact-size copies). */
	end = b.size - 64;
	for (n = 0; n < end; n++) {
		unsigned char *copy = malloc(n ? n : 1);
		int rc;
		memcpy(copy, b.ptr, n);
		rc = bm_gobuildinfo_parse(&bi, copy, n);
		if (n < 4096 + 14)
			assert_int_equal(rc, BM_ENOTFOUND);
		else if (rc != BM_ECORRUPT)
			fail_msg("prefix %zu: rc %d (%s)", n, rc, bm_error_last());
		assert_null(bi);
		free(copy);
	}

	/* A magic off the 16-byte alignment is not a header. */
	make_inline(&b, 4095, "go1.22.1", modinfo_text);
	assert_int_equal(bm_gobuildinfo_parse(&bi, b.ptr, b.size), BM_ENOTFOUND);
	/* A length far over the data. */
	make_inline(&b, 16, "go1.22.1", modinfo_text);
	memcpy(b.ptr + 16 + 32, "\xff\xff\xff\xff\x0f", 5);
	assert_int_equal(bm_gobuildinfo_parse(&bi, b.ptr, b.size), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "over the bound"));
	/* An empty version string. */
	make_inline(&b, 16, "", modinfo_text);
	assert_int_equal(bm_gobuildinfo_parse(&bi, b.ptr, b.size), BM_ECORRUPT);
	/* No sentinels around modinfo (a GOPATH build): version only. */
	bm_buf_clear(&b);
	bm_buf_put(&b, "\xff Go buildinf:\x08\x02", 16);
	bm_buf_put(&b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	bm_buf_put(&b, "\x06go1.20\x00", 8);
	assert_int_equal(bm_gobuildinfo_parse(&bi, b.ptr, b.size), 0);
	assert_string_equal(bi->go_version, "go1.20");
	assert_string_equal(bi->path, "");
	assert_int_equal(bi->dep_count, 0);
	bm_gobuildinfo_free(bi);
	/* A bad modinfo line is reported with its line. */
	make_inline(&b, 16, "go1.22.1", "path\tx\n=>\ta\tb\tc\n");
	assert_int_equal(bm_gobuildinfo_parse(&bi, b.ptr, b.size), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "line 2"));
	assert_int_equal(bm_gobuildinfo_parse(&bi, "", 0), BM_ENOTFOUND);
	assert_int_equal(bm_gobuildinfo_parse(&bi, NULL, 0), BM_ENOTFOUND);
	bm_buf_dispose(&b);
}

static void put64(unsigned char *p, uint64_t v)
{
	int i;
	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A minimal ELF64 little-endian file with one writable PT_LOAD and the pre-1.18 pointer
 * format: the header points at Go string headers which point at the bytes. */
static void test_gobuildinfo_pointer_elf(void **state)
{
	unsigned char f[4096];
	const uint64_t base = 0x400000;
	const char *modtext = "path\tpkg/cmd\nmod\tpkg\t(devel)\t\n";
	size_t modlen = strlen(modtext) + 32;
	bm_gobuildinfo *bi;
	(void)state;
	memset(f, 0, sizeof(f));
	memcpy(f, "\x7f" "ELF\x02\x01\x01", 7);
	f[0x10] = 2;                 /* ET_EXEC */
	put64(f + 0x20, 64);         /* e_phoff */
	f[0x36] = 56;                /* e_phentsize */
	f[0x38] = 1;                 /* e_phnum */
	f[64] = 1;                   /* PT_LOAD */
	f[68] = 6;                   /* PF_R | PF_W */
	put64(f + 64 + 8, 0);        /* p_offset */
	put64(f + 64 + 16, base);    /* p_vaddr */
	put64(f + 64 + 32, sizeof(f)); /* p_filesz */
	memcpy(f + 512, "\xff Go buildinf:\x08\x00", 16);
	put64(f + 512 + 16, base + 1024);
	put64(f + 512 + 24, base + 1040);
	put64(f + 1024, base + 2048);
	put64(f + 1032, 8);
	put64(f + 1040, base + 2560);
	put64(f + 1048, modlen);
	memcpy(f + 2048, "go1.16.1", 8);
	memcpy(f + 2560, sentinel_start, 16);
	memcpy(f + 2576, modtext, strlen(modtext));
	memcpy(f + 2576 + strlen(modtext), sentinel_end, 16);

	assert_int_equal(bm_gobuildinfo_parse(&bi, f, sizeof(f)), 0);
	assert_string_equal(bi->go_version, "go1.16.1");
	assert_false(bi->inline_strings);
	assert_int_equal(bi->offset, 512);
	assert_string_equal(bi->path, "pkg/cmd");
	assert_string_equal(bi->main.version, "(devel)");
	bm_gobuildinfo_free(bi);

	/* A string length past the segment, an address outside every segment. */
	put64(f + 1048, 100000);
	assert_int_equal(bm_gobuildinfo_parse(&bi, f, sizeof(f)), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "outside the file's segments"));
	put64(f + 1048, modlen);
	put64(f + 512 + 16, 0x10);
	assert_int_equal(bm_gobuildinfo_parse(&bi, f, sizeof(f)), BM_ECORRUPT);
	put64(f + 512 + 16, base + 1024);
	f[512 + 14] = 3;             /* pointer size */
	assert_int_equal(bm_gobuildinfo_parse(&bi, f, sizeof(f)), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "pointer size"));
	/* The pointer format needs ELF to map addresses. */
	f[512 + 14] = 8;
	f[0] = 'X';
	assert_int_equal(bm_gobuildinfo_parse(&bi, f, sizeof(f)), BM_EUNSUPPORTED);
}

static void test_gobuildinfo_real(void **state)
{
	bm_gobuildinfo *bi;
	(void)state;
	if (access("/usr/bin/age", R_OK) != 0)
		skip();
	assert_int_equal(bm_gobuildinfo_read(&bi, "/usr/bin/age"), 0);
	assert_memory_equal(bi->go_version, "go1.", 4);
	assert_string_equal(bi->path, "filippo.io/age/cmd/age");
	assert_string_equal(bm_gobuildinfo_setting(bi, "GOOS"), "linux");
	assert_true(bi->inline_strings);
	bm_gobuildinfo_free(bi);
	assert_int_equal(bm_gobuildinfo_read(&bi, "/nonexistent"), BM_ENOTFOUND);
	assert_int_equal(bm_gobuildinfo_read(&bi, "/tmp"), BM_EINVALID);
	assert_int_equal(bm_gobuildinfo_read(&bi, "/bin/true"), BM_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gomod_full),
		cmocka_unit_test(test_gomod_minimal),
		cmocka_unit_test(test_gomod_malformed),
		cmocka_unit_test(test_gomod_bounds),
		cmocka_unit_test(test_stamp_round_trip),
		cmocka_unit_test(test_stamp_truncated),
		cmocka_unit_test(test_stamp_forged),
		cmocka_unit_test(test_stamp_validate),
		cmocka_unit_test(test_stamp_emit),
		cmocka_unit_test(test_stamp_free_text_version),
		cmocka_unit_test(test_stamp_find_file),
		cmocka_unit_test(test_modinfo),
		cmocka_unit_test(test_modinfo_bad),
		cmocka_unit_test(test_modinfo_unquote),
		cmocka_unit_test(test_gobuildinfo_inline),
		cmocka_unit_test(test_gobuildinfo_pointer_elf),
		cmocka_unit_test(test_gobuildinfo_real),
	};
	if (bm_global_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
