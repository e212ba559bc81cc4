/* test_flags.c: MurmurHash3 vectors, building flags from text (and every error it must
 * refuse), evaluation and bucketing, the protobuf record, JSON and the flagd export. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "bootmeta.h"
#include "bootmeta/v1/flags.pb-c.h"

/* ---- MurmurHash3 x86 32 ---- */

struct vec {
	const char *data;
	size_t len;
	uint32_t seed;
	uint32_t hash;
};

/* The widely published vectors (SMHasher's algorithm; the set quoted with Appleby's
 * reference code), plus seeds 0/1/0xffffffff for the usual strings. */
static const struct vec vectors[] = {
	{ "", 0, 0, 0 },
	{ "", 0, 1, 0x514e28b7 },
	{ "", 0, 0xffffffff, 0x81f16f39 },
	{ "\0\0\0\0", 4, 0, 0x2362f9de },
	{ "\0\0\0", 3, 0, 0x85f0b427 },
	{ "\0\0", 2, 0, 0x30f4c306 },
	{ "\0", 1, 0, 0x514e28b7 },
	{ "\xff\xff\xff\xff", 4, 0, 0x76293b50 },
	{ "\x21\x43\x65\x87", 4, 0, 0xf55b516b },
	{ "\x21\x43\x65\x87", 4, 0x5082edee, 0x2362f9de },
	{ "\x21\x43\x65", 3, 0, 0x7e4a8634 },
	{ "\x21\x43", 2, 0, 0xa0f7b07a },
	{ "\x21", 1, 0, 0x72661cf4 },
	{ "aaaa", 4, 0x9747b28c, 0x5a97808a },
	{ "aaa", 3, 0x9747b28c, 0x283e0130 },
	{ "aa", 2, 0x9747b28c, 0x5d211726 },
	{ "a", 1, 0x9747b28c, 0x7fa09ea6 },
	{ "abcd", 4, 0x9747b28c, 0xf0478627 },
	{ "abc", 3, 0x9747b28c, 0xc84a62dd },
	{ "ab", 2, 0x9747b28c, 0x74875592 },
	{ "abc", 3, 0, 0xb3dd93fa },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 0, 0xee925b90 },
	{ "Hello, world!", 13, 0x9747b28c, 0x24884cba },
	{ "\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80", 16, 0x9747b28c, 0xd58063c1 },
	{ "The quick brown fox jumps over the lazy dog", 43, 0x9747b28c, 0x2fa826cd },
	{ "a", 1, 0, 0x3c2569b2 },
	{ "a", 1, 1, 0x588adce8 },
	{ "a", 1, 0xffffffff, 0x2a684527 },
	{ "Hello, world!", 13, 0, 0xc0363e43 },
	{ "Hello, world!", 13, 1, 0xaa5dc85b },
	{ "Hello, world!", 13, 0xffffffff, 0x07d2b7b4 },
	{ "The quick brown fox jumps over the lazy dog", 43, 0, 0x2e4ff723 },
	{ "The quick brown fox jumps over the lazy dog", 43, 1, 0x78e69e27 },
	{ "The quick brown fox jumps over the lazy dog", 43, 0xffffffff, 0x23347cbe },
};

static void test_murmur3_vectors(void **state)
{
	size_t i, split, split2;
	char a256[256];
	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vec *v = &vectors[i];
		assert_int_equal(bm_murmur3_x86_32(v->data, v->len, v->seed), v->hash);
		/* The incremental form agrees however the input is cut. */
		for (split = 0; split <= v->len; split++) {
			for (split2 = split; split2 <= v->len; split2++) {
				bm_murmur3 m;
				bm_murmur3_init(&m, v->seed);
				bm_murmur3_update(&m, v->data, split);
				bm_murmur3_update(&m, v->data + split, split2 - split);
				bm_murmur3_update(&m, v->data + split2, v->len - split2);
				assert_int_equal(bm_murmur3_final(&m), v->hash);
			}
		}
	}
	memset(a256, 'a', sizeof(a256));
	assert_int_equal(bm_murmur3_x86_32(a256, sizeof(a256), 0x9747b28c), 0x37405bdc);
}

/* ---- helpers ---- */

static bm_flag *make(bm_flag_type type, const char *const *variants, size_t nv, const char *def,
		     const char *const *rules, size_t nr)
{
	bm_flag_spec spec = BM_FLAG_SPEC_INIT;
	bm_flag *f = NULL;
	spec.project = "shop/server";
	spec.env = "prod";
	spec.key = "new-checkout";
	spec.type = type;
	spec.variants = variants;
	spec.nvariants = nv;
	spec.default_variant = def;
	spec.rules = rules;
	spec.nrules = nr;
	if (bm_flag_from_spec(&f, &spec) < 0)
		fail_msg("from_spec: %s", bm_error_last());
	return f;
}

static int make_err(bm_flag_type type, const char *const *variants, size_t nv, const char *def,
		    const char *const *rules, size_t nr, const char *want)
{
	bm_flag_spec spec = BM_FLAG_SPEC_INIT;
	bm_flag *f = (bm_flag *)1;
	int error;
	spec.project = "shop/server";
	spec.env = "prod";
	spec.key = "new-checkout";
	spec.type = type;
	spec.variants = variants;
	spec.nvariants = nv;
	spec.default_variant = def;
	spec.rules = rules;
	spec.nrules = nr;
	error = bm_flag_from_spec(&f, &spec);
	assert_true(error < 0);
	assert_null(f);
	if (want && !strstr(bm_error_last(), want))
		fail_msg("error '%s' does not mention '%s'", bm_error_last(), want);
	return error;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const onoff[] = { "on=true", "off=false" };

/* ---- building and errors ---- */

static void test_build_and_infer(void **state)
{
	static const char *const nums[] = { "low=1", "mid=2.5", "high=-1e3" };
	static const char *const strs[] = { "a=red", "b=42" };
	static const char *const objs[] = { "a={\"x\": 1, \"y\": [true, null]}", "b= {}" };
	static const char *const rules[] = { "beta=on", "stable=on:1,off:999" };
	bm_flag *f;
	(void)state;

	f = make(BM_FLAG_TYPE_AUTO, onoff, 2, "off", rules, 2);
	assert_int_equal(f->type, BM_FLAG_TYPE_BOOL);
	assert_int_equal(f->nvariants, 2);
	assert_int_equal(f->default_variant, 1);
	assert_int_equal(f->nrules, 2);
	assert_int_equal(f->rules[0].variant, 0);
	assert_int_equal(f->rules[1].variant, -1);
	assert_int_equal(f->rules[1].total_weight, 1000);
	bm_flag_free(f);

	f = make(BM_FLAG_TYPE_AUTO, nums, 3, NULL, NULL, 0);
	assert_int_equal(f->type, BM_FLAG_TYPE_NUMBER);
	assert_true(f->variants[1].number_value == 2.5);
	assert_true(f->variants[2].number_value == -1000);
	assert_int_equal(f->default_variant, 0);
	bm_flag_free(f);

	f = make(BM_FLAG_TYPE_AUTO, strs, 2, NULL, NULL, 0);
	assert_int_equal(f->type, BM_FLAG_TYPE_STRING);
	assert_string_equal(f->variants[1].string_value, "42");
	bm_flag_free(f);

	f = make(BM_FLAG_TYPE_AUTO, objs, 2, NULL, NULL, 0);
	assert_int_equal(f->type, BM_FLAG_TYPE_JSON);
	assert_string_equal(f->variants[0].string_value, "{\"x\":1,\"y\":[true,null]}");
	assert_string_equal(f->variants[1].string_value, "{}");
	bm_flag_free(f);

	/* An explicit type wins: "true" as a string. */
	f = make(BM_FLAG_TYPE_STRING, onoff, 2, NULL, NULL, 0);
	assert_int_equal(f->type, BM_FLAG_TYPE_STRING);
	assert_string_equal(f->variants[0].string_value, "true");
	bm_flag_free(f);
}

static void test_errors(void **state)
{
	static const char *const dup[] = { "on=true", "on=false" };
	static const char *const noeq[] = { "on" };
	static const char *const badname[] = { "o n=true" };
	static const char *const zero[] = { "stable=on:0,off:0" };
	static const char *const over[] = { "stable=on:2147483647,off:1" };
	static const char *const overone[] = { "stable=on:2147483648" };
	static const char *const unknown[] = { "beta=maybe" };
	static const char *const unknownw[] = { "beta=on:1,maybe:1" };
	static const char *const twice[] = { "beta=on:1,on:1" };
	static const char *const badch[] = { "be/ta=on" };
	static const char *const emptych[] = { "=on" };
	static const char *const tworules[] = { "beta=on", "beta=off" };
	static const char *const noweight[] = { "beta=on:1,off" };
	static const char *const badweight[] = { "beta=on:1,off:x" };
	static const char *const negweight[] = { "beta=on:1,off:-1" };
	static const char *const emptyweight[] = { "beta=on:,off:1" };
	static const char *const norule[] = { "beta" };
	static const char *const trailing[] = { "beta=on:1," };
	static const char *const badnum[] = { "a=1", "b=0x10" };
	static const char *const nan[] = { "a=NaN" };
	static const char *const inf[] = { "a=1e999" };
	static const char *const badjson[] = { "a={\"x\":" };
	static const char *const arrjson[] = { "a=[1]" };
	static const char *const dupjson[] = { "a={\"x\":1,\"x\":2}" };
	static const char *const badutf8[] = { "a=\xff" };
	(void)state;

	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, dup, 2, NULL, NULL, 0, "given twice"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, noeq, 1, NULL, NULL, 0, "name=value"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, badname, 1, NULL, NULL, 0, "variant name"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, NULL, 0, NULL, NULL, 0, "no variants"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, "maybe", NULL, 0, "default variant 'maybe'"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, zero, 1, "add up to zero"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, over, 1, "more than 2147483647"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, overone, 1, "over 2147483647"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, unknown, 1, "no variant 'maybe'"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, unknownw, 1, "no variant 'maybe'"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, twice, 1, "listed twice"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, badch, 1, "channel name"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, emptych, 1, "channel name"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, tworules, 2, "two rules"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, noweight, 1, "no weight"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, badweight, 1, "not a whole number"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, negweight, 1, "not a whole number"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, emptyweight, 1, "empty weight"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, norule, 1, "channel=variant"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, trailing, 1, "empty entry"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_NUMBER, badnum, 2, NULL, NULL, 0, "'0x10' is not a number"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_NUMBER, nan, 1, NULL, NULL, 0, "not a number"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_NUMBER, inf, 1, NULL, NULL, 0, "range"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_BOOL, badnum, 2, NULL, NULL, 0, "not a bool"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_JSON, badjson, 1, NULL, NULL, 0, "not valid JSON"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_JSON, arrjson, 1, NULL, NULL, 0, "JSON objects"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_JSON, dupjson, 1, NULL, NULL, 0, "duplicate"), BM_EINVALID);
	assert_int_equal(make_err(BM_FLAG_TYPE_STRING, badutf8, 1, NULL, NULL, 0, "UTF-8"), BM_EINVALID);
	{
		bm_flag_spec spec = BM_FLAG_SPEC_INIT;
		bm_flag *f = NULL;
		spec.project = "shop/server";
		spec.env = "prod";
		spec.key = "bad key";
		spec.variants = onoff;
		spec.nvariants = 2;
		assert_int_equal(bm_flag_from_spec(&f, &spec), BM_EINVALID);
		assert_non_null(strstr(bm_error_last(), "flag key"));
		spec.key = "ok";
		spec.env = "../prod";
		assert_int_equal(bm_flag_from_spec(&f, &spec), BM_EINVALID);
		assert_null(f);
	}
}

/* ---- evaluation ---- */

static void test_eval_reasons(void **state)
{
	static const char *const rules[] = { "beta=on", "stable=on:1,off:999", "canary=on:1" };
	bm_flag_result r;
	bm_flag *f;
	(void)state;

	f = make(BM_FLAG_TYPE_AUTO, onoff, 2, "off", rules, N(rules));
	assert_int_equal(bm_flag_eval(&r, f, "beta", "host-1", NULL), 0);
	assert_int_equal(r.reason, BM_FLAG_REASON_TARGETING_MATCH);
	assert_string_equal(r.variant, "on");
	assert_int_equal(r.value->bool_value, 1);

	assert_int_equal(bm_flag_eval(&r, f, "nightly", "host-1", NULL), 0);
	assert_int_equal(r.reason, BM_FLAG_REASON_DEFAULT);
	assert_string_equal(r.variant, "off");
	assert_int_equal(bm_flag_eval(&r, f, NULL, "host-1", NULL), 0);
	assert_int_equal(r.reason, BM_FLAG_REASON_DEFAULT);

	assert_int_equal(bm_flag_eval(&r, f, "canary", "host-1", NULL), 0);
	assert_int_equal(r.reason, BM_FLAG_REASON_SPLIT);
	assert_string_equal(r.variant, "on");
	/* A rollout without a targeting key: flagd's fractional yields null -> default. */
	assert_int_equal(bm_flag_eval(&r, f, "canary", "", NULL), 0);
	assert_int_equal(r.reason, BM_FLAG_REASON_DEFAULT);
	assert_string_equal(r.variant, "off");
	assert_int_equal(bm_flag_eval(&r, f, "canary", NULL, NULL), 0);
	assert_int_equal(r.reason, BM_FLAG_REASON_DEFAULT);

	bm_flag_set_disabled(f, 1);
	assert_int_equal(bm_flag_eval(&r, f, "beta", "host-1", NULL), 0);
	assert_int_equal(r.reason, BM_FLAG_REASON_DISABLED);
	assert_string_equal(r.variant, "off");
	bm_flag_set_disabled(f, 0);

	assert_int_equal(bm_flag_remove_rule(f, "beta"), 0);
	assert_int_equal(bm_flag_remove_rule(f, "beta"), BM_ENOTFOUND);
	assert_int_equal(bm_flag_remove_rule(f, "stable"), 0);
	assert_int_equal(bm_flag_remove_rule(f, "canary"), 0);
	assert_int_equal(bm_flag_eval(&r, f, "beta", "host-1", NULL), 0);
	assert_int_equal(r.reason, BM_FLAG_REASON_STATIC);
	assert_string_equal(r.variant, "off");

	assert_int_equal(bm_flag_eval(NULL, f, "beta", "x", NULL), BM_EINVALID);
	assert_int_equal(bm_flag_eval(&r, NULL, "beta", "x", NULL), BM_EINVALID);
	bm_flag_free(f);
}

static void test_eval_bucketing(void **state)
{
	static const char *const rules[] = { "stable=on:1,off:999", "beta=on:1,off:1", "canary=a:0,on:3,off:1" };
	static const char *const three[] = { "a=true", "on=true", "off=false" };
	bm_flag_result r;
	bm_flag *f;
	size_t i, on_stable = 0, on_beta = 0, on_canary = 0;
	char tk[32];
	(void)state;

	f = make(BM_FLAG_TYPE_AUTO, three, 3, "off", rules, N(rules));
	for (i = 0; i < 100000; i++) {
		snprintf(tk, sizeof(tk), "host-%zu", i);
		assert_int_equal(bm_flag_eval(&r, f, "stable", tk, NULL), 0);
		assert_int_equal(r.reason, BM_FLAG_REASON_SPLIT);
		on_stable += r.variant_index == 1;
		assert_int_equal(bm_flag_eval(&r, f, "beta", tk, NULL), 0);
		on_beta += r.variant_index == 1;
		assert_int_equal(bm_flag_eval(&r, f, "canary", tk, NULL), 0);
		assert_int_not_equal(r.variant_index, 0);  /* weight 0 never wins */
		on_canary += r.variant_index == 1;

		/* The formula, spelled out: bucket = murmur3(key + tk) * 1000 >> 32. */
		{
			char both[64];
			uint64_t bucket;
			int n = snprintf(both, sizeof(both), "new-checkout%s", tk);
			bucket = ((uint64_t)bm_murmur3_x86_32(both, (size_t)n, 0) * 1000) >> 32;
			assert_int_equal(bm_flag_eval(&r, f, "stable", tk, NULL), 0);
			assert_int_equal(r.variant_index, bucket < 1 ? 1 : 2);
		}
	}
	/* 0.1% +- a generous margin; 50%; 75%. */
	assert_true(on_stable > 50 && on_stable < 160);
	assert_true(on_beta > 49000 && on_beta < 51000);
	assert_true(on_canary > 74000 && on_canary < 76000);
	bm_flag_free(f);
}

/* ---- editing ---- */

static void test_edit(void **state)
{
	bm_flag *f, *g = NULL;
	bm_buf b = BM_BUF_INIT;
	(void)state;

	f = make(BM_FLAG_TYPE_AUTO, onoff, 2, NULL, NULL, 0);
	assert_int_equal(bm_flag_set_rule(f, "beta=on"), 0);
	assert_int_equal(bm_flag_set_rule(f, "beta=on:1,off:3"), 0);  /* replaces */
	assert_int_equal(f->nrules, 1);
	assert_int_equal(bm_flag_set_rule(f, "beta=nope"), BM_EINVALID);
	assert_int_equal(f->nrules, 1);
	assert_int_equal(f->rules[0].total_weight, 4);
	assert_int_equal(bm_flag_rule_format(&b, f, &f->rules[0]), 0);
	assert_string_equal(b.ptr, "beta=on:1,off:3");
	bm_buf_clear(&b);
	assert_int_equal(bm_flag_variant_format(&b, &f->variants[0]), 0);
	assert_string_equal(b.ptr, "on=true");
	assert_int_equal(bm_flag_set_default(f, "off"), 0);
	assert_int_equal(bm_flag_set_default(f, "nope"), BM_EINVALID);
	assert_int_equal(bm_flag_set_meta(f, 1700000000123, "Alice <a@example.com>", 7), 0);
	assert_int_equal(bm_flag_dup(&g, f), 0);
	assert_string_equal(g->actor, "Alice <a@example.com>");
	assert_int_equal(g->seq, 7);
	assert_int_equal(g->default_variant, 1);
	assert_non_null(bm_flag_rule_find(g, "beta"));
	assert_null(bm_flag_rule_find(g, "bet"));
	assert_int_equal(bm_flag_variant_index(g, "off"), 1);
	bm_flag_free(g);
	bm_flag_free(f);
	bm_buf_dispose(&b);
}

/* ---- record ---- */

static void test_record_roundtrip(void **state)
{
	static const char *const vs[] = { "small={\"n\":1}", "big={\"n\":1000,\"s\":\"x\\ty\"}" };
	static const char *const rules[] = { "beta=big", "stable=small:9,big:1" };
	bm_flag *f, *g = NULL;
	bm_buf a = BM_BUF_INIT, b = BM_BUF_INIT;
	(void)state;

	f = make(BM_FLAG_TYPE_JSON, vs, 2, "small", rules, 2);
	bm_flag_set_disabled(f, 1);
	assert_int_equal(bm_flag_set_meta(f, 42, "ci", 3), 0);
	assert_int_equal(bm_flag_encode(&a, f), 0);
	assert_int_equal(bm_flag_decode(&g, a.ptr, a.size), 0);
	assert_int_equal(bm_flag_to_json(&b, g), 0);
	bm_buf_clear(&a);
	assert_int_equal(bm_flag_to_json(&a, f), 0);
	assert_string_equal(a.ptr, b.ptr);
	assert_string_equal(a.ptr,
		"{\"project\":\"shop/server\",\"env\":\"prod\",\"key\":\"new-checkout\",\"type\":\"json\","
		"\"state\":\"DISABLED\",\"variants\":{\"small\":{\"n\":1},\"big\":{\"n\":1000,\"s\":\"x\\ty\"}},"
		"\"defaultVariant\":\"small\",\"rules\":[{\"channel\":\"beta\",\"variant\":\"big\"},"
		"{\"channel\":\"stable\",\"weights\":[{\"variant\":\"small\",\"weight\":9},{\"variant\":\"big\",\"weight\":1}]}],"
		"\"timeMs\":\"42\",\"actor\":\"ci\",\"seq\":\"3\"}");
	assert_int_equal(g->key_hash.h, f->key_hash.h);
	bm_flag_free(g);
	g = NULL;

	/* Garbage and truncation. */
	assert_int_equal(bm_flag_decode(&g, "\xff\xff\xff", 3), BM_ECORRUPT);
	assert_null(g);
	bm_buf_clear(&b);
	assert_int_equal(bm_flag_encode(&b, f), 0);
	assert_int_equal(bm_flag_decode(&g, b.ptr, b.size - 1), BM_ECORRUPT);
	assert_null(g);
	bm_flag_free(f);
	bm_buf_dispose(&a);
	bm_buf_dispose(&b);
}

/* A record that decodes as protobuf but breaks the rules is refused, not trusted. */
static void test_record_invalid(void **state)
{
	Bootmeta__V1__Flag msg = BOOTMETA__V1__FLAG__INIT;
	Bootmeta__V1__FlagVariant v0 = BOOTMETA__V1__FLAG_VARIANT__INIT, v1 = BOOTMETA__V1__FLAG_VARIANT__INIT;
	Bootmeta__V1__FlagVariant *vs[2] = { &v0, &v1 };
	Bootmeta__V1__ChannelRule rule = BOOTMETA__V1__CHANNEL_RULE__INIT, *rules[1] = { &rule };
	Bootmeta__V1__FlagWeight w = BOOTMETA__V1__FLAG_WEIGHT__INIT, *ws[1] = { &w };
	uint8_t buf[512];
	size_t len;
	bm_flag *f = NULL;
	(void)state;

	msg.project = "p";
	msg.env = "prod";
	msg.key = "k";
	v0.name = "on";
	v0.value_case = BOOTMETA__V1__FLAG_VARIANT__VALUE_BOOL_VALUE;
	v0.bool_value = 1;
	v1.name = "off";
	v1.value_case = BOOTMETA__V1__FLAG_VARIANT__VALUE_BOOL_VALUE;
	msg.variants = vs;
	msg.n_variants = 2;
	msg.default_variant = "off";
	rule.channel = "beta";
	rule.weights = ws;
	rule.n_weights = 1;
	w.variant = "on";
	w.weight = 5;
	msg.rules = rules;
	msg.n_rules = 1;

	len = bootmeta__v1__flag__pack(&msg, buf);
	assert_int_equal(bm_flag_decode(&f, buf, len), 0);
	bm_flag_free(f);
	f = NULL;

	w.weight = 0;  /* zero total */
	len = bootmeta__v1__flag__pack(&msg, buf);
	assert_int_equal(bm_flag_decode(&f, buf, len), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "zero"));
	w.weight = 5;

	w.variant = "maybe";
	len = bootmeta__v1__flag__pack(&msg, buf);
	assert_int_equal(bm_flag_decode(&f, buf, len), BM_ECORRUPT);
	w.variant = "on";

	v1.value_case = BOOTMETA__V1__FLAG_VARIANT__VALUE_NUMBER_VALUE;  /* mixed types */
	len = bootmeta__v1__flag__pack(&msg, buf);
	assert_int_equal(bm_flag_decode(&f, buf, len), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "number"));
	v1.value_case = BOOTMETA__V1__FLAG_VARIANT__VALUE_BOOL_VALUE;

	msg.default_variant = "";
	len = bootmeta__v1__flag__pack(&msg, buf);
	assert_int_equal(bm_flag_decode(&f, buf, len), BM_ECORRUPT);
	msg.default_variant = "off";

	rule.channel = "../x";
	len = bootmeta__v1__flag__pack(&msg, buf);
	assert_int_equal(bm_flag_decode(&f, buf, len), BM_ECORRUPT);
	rule.channel = "beta";

	v1.name = "on";  /* duplicate variant */
	len = bootmeta__v1__flag__pack(&msg, buf);
	assert_int_equal(bm_flag_decode(&f, buf, len), BM_ECORRUPT);
	assert_null(f);
}

/* A record written by another tool (protoc --encode, tests/fuzz/corpus/.../record.pb)
 * reads as the same flag: the .proto is the contract, not our encoder. */
static void test_record_from_protoc(void **state)
{
	const char *src = getenv("BM_SRCDIR");
	char path[4096];
	bm_buf b = BM_BUF_INIT, j = BM_BUF_INIT;
	bm_flag *f = NULL;
	(void)state;
	if (!src)
		skip();
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/fuzz_flag_parse/record.pb", src);
	assert_int_equal(bm_file_read(&b, path, 0), 0);
	assert_int_equal(bm_flag_decode(&f, b.ptr, b.size), 0);
	assert_int_equal(bm_flag_to_json(&j, f), 0);
	assert_string_equal(j.ptr,
		"{\"project\":\"shop/server\",\"env\":\"prod\",\"key\":\"new-checkout\",\"type\":\"bool\","
		"\"state\":\"ENABLED\",\"variants\":{\"on\":true,\"off\":false},\"defaultVariant\":\"off\","
		"\"rules\":[{\"channel\":\"beta\",\"variant\":\"on\"},{\"channel\":\"stable\",\"weights\":"
		"[{\"variant\":\"on\",\"weight\":1},{\"variant\":\"off\",\"weight\":999}]}],"
		"\"timeMs\":\"1700000000000\",\"actor\":\"Alice <a@example.com>\",\"seq\":\"3\"}");
	bm_flag_free(f);
	bm_buf_dispose(&b);
	bm_buf_dispose(&j);
}

/* ---- JSON and export ---- */

static void test_json_values(void **state)
{
	static const char *const nums[] = { "a=0.1", "b=1e21", "c=-0", "d=3", "e=0.30000000000000004" };
	static const char *const strs[] = { "a=say \"hi\"\n", "b=\xcf\x80" };
	bm_flag *f;
	bm_buf b = BM_BUF_INIT;
	bm_flag_result r;
	(void)state;

	f = make(BM_FLAG_TYPE_NUMBER, nums, N(nums), NULL, NULL, 0);
	assert_int_equal(bm_flag_value_to_json(&b, &f->variants[0]), 0);
	assert_int_equal(bm_buf_putc(&b, ' '), 0);
	assert_int_equal(bm_flag_value_to_json(&b, &f->variants[1]), 0);
	assert_int_equal(bm_buf_putc(&b, ' '), 0);
	assert_int_equal(bm_flag_value_to_json(&b, &f->variants[2]), 0);
	assert_int_equal(bm_buf_putc(&b, ' '), 0);
	assert_int_equal(bm_flag_value_to_json(&b, &f->variants[3]), 0);
	assert_int_equal(bm_buf_putc(&b, ' '), 0);
	assert_int_equal(bm_flag_value_to_json(&b, &f->variants[4]), 0);
	assert_string_equal(b.ptr, "0.1 1e+21 -0 3 0.30000000000000004");
	bm_buf_clear(&b);
	assert_int_equal(bm_flag_eval(&r, f, "x", "y", NULL), 0);
	assert_int_equal(bm_flag_result_to_json(&b, f, &r), 0);
	assert_string_equal(b.ptr, "{\"key\":\"new-checkout\",\"value\":0.1,\"variant\":\"a\",\"reason\":\"STATIC\",\"type\":\"number\"}");
	bm_flag_free(f);
	bm_buf_clear(&b);

	f = make(BM_FLAG_TYPE_STRING, strs, N(strs), NULL, NULL, 0);
	assert_int_equal(bm_flag_value_to_json(&b, &f->variants[0]), 0);
	assert_string_equal(b.ptr, "\"say \\\"hi\\\"\\n\"");
	bm_buf_clear(&b);
	assert_int_equal(bm_flag_value_to_json(&b, &f->variants[1]), 0);
	assert_string_equal(b.ptr, "\"\xcf\x80\"");
	bm_flag_free(f);
	bm_buf_dispose(&b);
}

static void test_export_flagd(void **state)
{
	static const char *const rules[] = { "beta=on", "stable=on:1,off:999" };
	static const char *const colors[] = { "red=red", "blue=blue" };
	bm_flag *f1, *f2, *f3;
	const bm_flag *list[3];
	bm_buf b = BM_BUF_INIT;
	json_t *root, *fl;
	json_error_t jerr;
	(void)state;

	f1 = make(BM_FLAG_TYPE_AUTO, onoff, 2, "off", rules, 2);
	f2 = make(BM_FLAG_TYPE_AUTO, colors, 2, "blue", NULL, 0);
	free(f2->key);
	f2->key = strdup("color");
	list[0] = f1;
	list[1] = f2;
	assert_int_equal(bm_flag_export_flagd(&b, list, 2, NULL), 0);
	root = json_loads(b.ptr, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "$schema")), "https://flagd.dev/schema/v0/flags.json");
	fl = json_object_get(json_object_get(root, "flags"), "new-checkout");
	assert_string_equal(json_string_value(json_object_get(fl, "state")), "ENABLED");
	assert_string_equal(json_string_value(json_object_get(fl, "defaultVariant")), "off");
	assert_true(json_is_true(json_object_get(json_object_get(fl, "variants"), "on")));
	assert_non_null(strstr(b.ptr,
		"\"targeting\":{\"if\":[{\"==\":[{\"var\":\"channel\"},\"beta\"]},\"on\","
		"{\"==\":[{\"var\":\"channel\"},\"stable\"]},{\"fractional\":[[\"on\",1],[\"off\",999]]},null]}"));
	fl = json_object_get(json_object_get(root, "flags"), "color");
	assert_null(json_object_get(fl, "targeting"));  /* no rules: flagd says STATIC */
	json_decref(root);
	/* one newline at the end, not a blank line */
	assert_true(b.size > 2 && b.ptr[b.size - 1] == '\n' && b.ptr[b.size - 2] == '}');
	{
		/* --pretty: indented, the same JSON, numbers and strings byte for byte */
		bm_flag_export_options opts = BM_FLAG_EXPORT_OPTIONS_INIT;
		bm_buf p = BM_BUF_INIT;
		json_t *proot;
		char *a, *c;
		opts.pretty = 1;
		assert_int_equal(bm_flag_export_flagd(&p, list, 2, &opts), 0);
		assert_non_null(strstr(p.ptr, "{\n  \"$schema\": \"https://flagd.dev/schema/v0/flags.json\",\n  \"flags\": {\n"
					      "    \"new-checkout\": {\n      \"state\": \"ENABLED\",\n"));
		assert_non_null(strstr(p.ptr, "\"fractional\": [\n"));
		assert_true(p.size > 3 && !strcmp(p.ptr + p.size - 3, "\n}\n"));
		proot = json_loads(p.ptr, 0, &jerr);
		assert_non_null(proot);
		root = json_loads(b.ptr, 0, &jerr);
		a = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
		c = json_dumps(proot, JSON_COMPACT | JSON_SORT_KEYS);
		assert_string_equal(a, c);
		free(a);
		free(c);
		json_decref(root);
		json_decref(proot);
		bm_buf_dispose(&p);
	}

	/* One flagd file = one set of keys. */
	f3 = make(BM_FLAG_TYPE_AUTO, onoff, 2, "off", NULL, 0);
	list[2] = f3;
	bm_buf_clear(&b);
	assert_int_equal(bm_flag_export_flagd(&b, list, 3, NULL), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "two flags with key 'new-checkout'"));
	{
		bm_flag_export_options opts = BM_FLAG_EXPORT_OPTIONS_INIT;
		opts.channel_attr = "bootmeta.channel";
		bm_buf_clear(&b);
		assert_int_equal(bm_flag_export_flagd(&b, list, 1, &opts), 0);
		assert_non_null(strstr(b.ptr, "{\"var\":\"bootmeta.channel\"}"));
	}
	bm_flag_free(f1);
	bm_flag_free(f2);
	bm_flag_free(f3);
	bm_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_murmur3_vectors),
		cmocka_unit_test(test_build_and_infer),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_eval_reasons),
		cmocka_unit_test(test_eval_bucketing),
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_record_invalid),
		cmocka_unit_test(test_record_from_protoc),
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_export_flagd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
