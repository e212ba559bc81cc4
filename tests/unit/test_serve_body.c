/* test_serve_body.c: serve's JSON write-request bodies (src/serve_body.c): each kind parses
 * into the values its write operation takes, those values are accepted by the real
 * operations on a real store, and every kind of bad body is refused with a message that
 * names the field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serve_body.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bm-test-serve-body-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return bm_global_init();
}

static int teardown(void **state)
{
	char cmd[512];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	bm_global_shutdown();
	return system(cmd);
}

static const serve_body_url report_url = { NULL, NULL, NULL, "prod", NULL, "web-1" };

static int parse(serve_body_req *r, serve_kind kind, const char *body, bm_buf *err)
{
	return serve_body_parse(r, kind, kind == SERVE_KIND_REPORT ? &report_url : NULL, body, strlen(body), err);
}

static int parse_url(serve_body_req *r, serve_kind kind, const serve_body_url *url, const char *body, bm_buf *err)
{
	return serve_body_parse(r, kind, url, body, strlen(body), err);
}

static void test_kind_names(void **state)
{
	serve_kind k;
	int i;
	(void)state;
	for (i = SERVE_KIND_PROMOTE; i <= SERVE_KIND_MAX; i++) {
		assert_non_null(serve_kind_name((serve_kind)i));
		assert_int_equal(serve_kind_parse(&k, serve_kind_name((serve_kind)i)), 0);
		assert_int_equal(k, i);
	}
	assert_null(serve_kind_name((serve_kind)0));
	assert_null(serve_kind_name((serve_kind)99));
	assert_int_equal(serve_kind_parse(&k, "hooks"), BM_EINVALID);
	assert_int_equal(serve_kind_parse(&k, NULL), BM_EINVALID);
	assert_string_equal(serve_report_state_name(SERVE_REPORT_ROLLED_BACK), "rolled-back");
}

static void test_promote(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT;
	(void)state;
	assert_int_equal(parse(&r, SERVE_KIND_PROMOTE,
			       "{\"project\":\"acme/server\",\"channel\":\"stable\",\"release\":\"v1.2\",\"reason\":\"go\"}", &err),
			 0);
	assert_int_equal(r.kind, SERVE_KIND_PROMOTE);
	assert_string_equal(r.promote.project, "acme/server");
	assert_string_equal(r.promote.channel, "stable");
	assert_string_equal(r.promote.release, "v1.2");
	assert_string_equal(r.promote.opts.reason, "go");
	assert_int_equal(r.promote.opts.version, BM_PROMOTE_OPTIONS_VERSION);
	serve_body_req_dispose(&r);
	/* reason optional; empty reason is none */
	assert_int_equal(parse(&r, SERVE_KIND_PROMOTE, "{\"project\":\"a\",\"channel\":\"b\",\"release\":\"c\",\"reason\":\"\"}", &err), 0);
	assert_null(r.promote.opts.reason);
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
}

static void test_release(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT;
	(void)state;
	assert_int_equal(parse(&r, SERVE_KIND_RELEASE,
			       "{\"project\":\"acme/server\",\"id\":\"v2\",\"version\":\"2.0.0\",\"note\":\"n\","
			       "\"sources\":[\"https://git.example.com/acme.git@0123456789ABCDEF0123456789abcdef01234567\","
			       "{\"url\":\"https://git.example.com/lib.git\",\"commit\":\"89abcdef0123456789abcdef0123456789abcdef\"}],"
			       "\"imports\":[\"github.com/x/y@v1.0.0\",{\"module\":\"golang.org/x/net\",\"version\":\"v0.1.0\","
			       "\"indirect\":true}]}",
			       &err),
			 0);
	assert_string_equal(r.release.project, "acme/server");
	assert_int_equal(r.release.opts.nsources, 2);
	assert_string_equal(r.release.opts.sources[0].url, "https://git.example.com/acme.git");
	assert_string_equal(r.release.opts.sources[0].commit, "0123456789abcdef0123456789abcdef01234567");
	assert_null(r.release.opts.sources[0].dir);
	assert_string_equal(r.release.opts.sources[1].commit, "89abcdef0123456789abcdef0123456789abcdef");
	assert_string_equal(r.release.opts.id, "v2");
	assert_string_equal(r.release.opts.release_version, "2.0.0");
	assert_string_equal(r.release.opts.note, "n");
	assert_int_equal(r.release.opts.nimports, 2);
	assert_string_equal(r.release.opts.imports[0].module, "github.com/x/y");
	assert_string_equal(r.release.opts.imports[0].version, "v1.0.0");
	assert_int_equal(r.release.opts.imports[0].indirect, 0);
	assert_string_equal(r.release.opts.imports[1].module, "golang.org/x/net");
	assert_int_equal(r.release.opts.imports[1].indirect, 1);
	assert_int_equal(r.release.opts.allow_dirty, 0);
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
}

static void test_binary(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT;
	const char *sha = "\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"";
	char body[1024];
	(void)state;
	snprintf(body, sizeof(body),
		 "{\"project\":\"acme/server\",\"release\":\"v1\",%s,\"size\":\"18446744073709551615\",\"os\":\"linux\","
		 "\"arch\":\"amd64\",\"urls\":[\"https://dl.example.com/a\",\"s3://b/a\"]}", sha);
	assert_int_equal(parse(&r, SERVE_KIND_BINARY, body, &err), 0);
	assert_string_equal(r.binary.sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	assert_true(r.binary.size == UINT64_MAX);
	assert_string_equal(r.binary.opts.os, "linux");
	assert_string_equal(r.binary.opts.arch, "amd64");
	assert_int_equal(r.binary.opts.nurls, 2);
	assert_string_equal(r.binary.opts.urls[1], "s3://b/a");
	assert_null(r.binary.opts.signature);
	serve_body_req_dispose(&r);
	snprintf(body, sizeof(body), "{\"project\":\"p\",\"release\":\"v1\",%s,\"size\":12,\"os\":\"linux\",\"arch\":\"arm64\"}", sha);
	assert_int_equal(parse(&r, SERVE_KIND_BINARY, body, &err), 0);
	assert_true(r.binary.size == 12);
	assert_int_equal(r.binary.opts.nurls, 0);
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
}

static void test_config(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT;
	(void)state;
	assert_int_equal(parse(&r, SERVE_KIND_CONFIG,
			       "{\"project\":\"acme/server\",\"env\":\"prod\",\"reason\":\"tune\",\"set\":{\"LOG_LEVEL\":\"debug\","
			       "\"workers\":8,\"ratio\":0.25,\"tls\":true,\"limits\":{\"a\":[1,2]}},\"unset\":[\"OLD\"]}",
			       &err),
			 0);
	assert_string_equal(r.config.project, "acme/server");
	assert_string_equal(r.config.env, "prod");
	assert_string_equal(r.config.opts.reason, "tune");
	assert_int_equal(r.config.nassigns, 6);
	assert_string_equal(r.config.assigns[0].key, "LOG_LEVEL");
	assert_int_equal(r.config.assigns[0].type, BM_CONFIG_STRING);
	assert_string_equal(r.config.assigns[0].value, "debug");
	assert_int_equal(r.config.assigns[1].type, BM_CONFIG_INT64);
	assert_string_equal(r.config.assigns[1].value, "8");
	assert_int_equal(r.config.assigns[2].type, BM_CONFIG_DOUBLE);
	assert_string_equal(r.config.assigns[2].value, "0.25");
	assert_int_equal(r.config.assigns[3].type, BM_CONFIG_BOOL);
	assert_string_equal(r.config.assigns[3].value, "true");
	assert_int_equal(r.config.assigns[4].type, BM_CONFIG_JSON);
	assert_string_equal(r.config.assigns[4].value, "{\"a\":[1,2]}");
	assert_string_equal(r.config.assigns[5].key, "OLD");
	assert_int_equal(r.config.assigns[5].unset, 1);
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
}

static void test_flag(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT;
	(void)state;
	assert_int_equal(parse(&r, SERVE_KIND_FLAG,
			       "{\"project\":\"acme/server\",\"env\":\"prod\",\"key\":\"new-ui\",\"variants\":{\"on\":true,"
			       "\"off\":false},\"defaultVariant\":\"off\",\"rules\":[{\"channel\":\"beta\",\"variant\":\"on\"},"
			       "{\"channel\":\"stable\",\"weights\":[{\"variant\":\"on\",\"weight\":1},{\"variant\":\"off\","
			       "\"weight\":9}]}],\"state\":\"DISABLED\",\"allowUnknownChannels\":true}",
			       &err),
			 0);
	assert_string_equal(r.flag.key, "new-ui");
	assert_int_equal(r.flag.type, BM_FLAG_TYPE_BOOL);
	assert_int_equal(r.flag.nvariants, 2);
	assert_string_equal(r.flag.variants[0], "on=true");
	assert_string_equal(r.flag.variants[1], "off=false");
	assert_string_equal(r.flag.default_variant, "off");
	assert_int_equal(r.flag.nrules, 2);
	assert_string_equal(r.flag.rules[0], "beta=on");
	assert_string_equal(r.flag.rules[1], "stable=on:1,off:9");
	assert_int_equal(r.flag.set_disabled, 1);
	assert_int_equal(r.flag.opts.allow_unknown_channels, 1);
	serve_body_req_dispose(&r);
	/* numbers, strings and objects; an explicit type */
	assert_int_equal(parse(&r, SERVE_KIND_FLAG,
			       "{\"project\":\"p\",\"env\":\"e\",\"key\":\"k\",\"variants\":{\"a\":1,\"b\":2.5}}", &err), 0);
	assert_int_equal(r.flag.type, BM_FLAG_TYPE_NUMBER);
	assert_string_equal(r.flag.variants[1], "b=2.5");
	assert_int_equal(r.flag.set_disabled, -1);
	serve_body_req_dispose(&r);
	assert_int_equal(parse(&r, SERVE_KIND_FLAG,
			       "{\"project\":\"p\",\"env\":\"e\",\"key\":\"k\",\"type\":\"string\",\"variants\":{\"a\":\"x=y\"}}",
			       &err), 0);
	assert_int_equal(r.flag.type, BM_FLAG_TYPE_STRING);
	assert_string_equal(r.flag.variants[0], "a=x=y");
	serve_body_req_dispose(&r);
	assert_int_equal(parse(&r, SERVE_KIND_FLAG,
			       "{\"project\":\"p\",\"env\":\"e\",\"key\":\"k\",\"variants\":{\"a\":{\"c\":[1]}}}", &err), 0);
	assert_int_equal(r.flag.type, BM_FLAG_TYPE_JSON);
	assert_string_equal(r.flag.variants[0], "a={\"c\":[1]}");
	serve_body_req_dispose(&r);
	/* an edit */
	assert_int_equal(parse(&r, SERVE_KIND_FLAG,
			       "{\"project\":\"p\",\"env\":\"e\",\"key\":\"k\",\"removeRules\":[\"beta\"],\"state\":\"ENABLED\"}",
			       &err), 0);
	assert_int_equal(r.flag.nvariants, 0);
	assert_int_equal(r.flag.nremove_rules, 1);
	assert_string_equal(r.flag.remove_rules[0], "beta");
	assert_int_equal(r.flag.set_disabled, 0);
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
}

static void test_log(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT;
	(void)state;
	assert_int_equal(parse(&r, SERVE_KIND_LOG,
			       "{\"kind\":\"codegen\",\"message\":\"two\\nlines\",\"project\":\"acme/server\",\"env\":\"prod\","
			       "\"attrs\":{\"generator\":\"protoc\",\"files\":\"12\"}}",
			       &err),
			 0);
	assert_string_equal(r.log.spec.kind, "codegen");
	assert_string_equal(r.log.spec.message, "two\nlines");
	assert_string_equal(r.log.spec.project, "acme/server");
	assert_int_equal(r.log.spec.nattrs, 2);
	assert_string_equal(r.log.spec.attr_keys[1], "files");
	assert_string_equal(r.log.spec.attr_values[1], "12");
	serve_body_req_dispose(&r);
	/* the --json form of attrs */
	assert_int_equal(parse(&r, SERVE_KIND_LOG,
			       "{\"kind\":\"deploy\",\"message\":\"m\",\"attrs\":[{\"key\":\"a\",\"value\":\"b\"}]}", &err), 0);
	assert_null(r.log.spec.project);
	assert_int_equal(r.log.spec.nattrs, 1);
	assert_string_equal(r.log.spec.attr_keys[0], "a");
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
}

static void test_report(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT;
	(void)state;
	assert_int_equal(parse(&r, SERVE_KIND_REPORT,
			       "{\"project\":\"acme/server\",\"release\":\"v1\",\"metaCommit\":\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\","
			       "\"state\":\"rolled-back\",\"error\":\"health check failed\\nexit 3\",\"os\":\"linux\","
			       "\"arch\":\"amd64\",\"agentVersion\":\"0.1.0\"}",
			       &err),
			 0);
	assert_string_equal(r.report.meta_commit, "abcdef0123456789abcdef0123456789abcdef01");
	assert_int_equal(r.report.state, SERVE_REPORT_ROLLED_BACK);
	assert_string_equal(r.report.error, "health check failed\nexit 3");
	assert_string_equal(r.report.agent_version, "0.1.0");
	assert_string_equal(r.report.env, "prod");
	assert_string_equal(r.report.instance, "web-1");
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
}

/* Names from the URL: used, checked, and the body may repeat them only the same. */
static void test_url(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT;
	serve_body_url u = { "acme/server", "stable", NULL, NULL, NULL, NULL };
	serve_body_url fl = { "acme/server", NULL, NULL, "prod", "new-ui", NULL };
	serve_body_url rel = { "acme/server", NULL, "v9", NULL, NULL, NULL };
	serve_body_url bad = { "../x", "stable", NULL, NULL, NULL, NULL };
	serve_body_url rep = { NULL, NULL, NULL, "prod", NULL, NULL };
	const char *report = "{\"project\":\"a\",\"release\":\"r\",\"metaCommit\":"
			     "\"0123456789abcdef0123456789abcdef01234567\",\"state\":\"healthy\"}";
	(void)state;
	assert_int_equal(parse_url(&r, SERVE_KIND_PROMOTE, &u, "{\"release\":\"v1\"}", &err), 0);
	assert_string_equal(r.promote.project, "acme/server");
	assert_string_equal(r.promote.channel, "stable");
	assert_string_equal(r.promote.release, "v1");
	serve_body_req_dispose(&r);
	assert_int_equal(parse_url(&r, SERVE_KIND_PROMOTE, &u, "{\"release\":\"v1\",\"project\":\"acme/server\"}", &err), 0);
	serve_body_req_dispose(&r);
	assert_int_equal(parse_url(&r, SERVE_KIND_PROMOTE, &u, "{\"release\":\"v1\",\"channel\":\"beta\"}", &err),
			 BM_EINVALID);
	assert_string_equal(err.ptr, "field \"channel\": \"beta\" differs from the URL's \"stable\"");
	serve_body_req_dispose(&r);
	assert_int_equal(parse_url(&r, SERVE_KIND_PROMOTE, &bad, "{\"release\":\"v1\"}", &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "url: project: project name \"../x\""));
	serve_body_req_dispose(&r);
	assert_int_equal(parse_url(&r, SERVE_KIND_FLAG, &fl, "{\"state\":\"DISABLED\"}", &err), 0);
	assert_string_equal(r.flag.key, "new-ui");
	assert_string_equal(r.flag.env, "prod");
	serve_body_req_dispose(&r);
	assert_int_equal(parse_url(&r, SERVE_KIND_RELEASE, &rel,
				   "{\"sources\":[\"https://g/x@0123456789abcdef0123456789abcdef01234567\"]}", &err), 0);
	assert_string_equal(r.release.opts.id, "v9");
	serve_body_req_dispose(&r);
	/* a report needs its env and instance from the URL */
	assert_int_equal(parse_url(&r, SERVE_KIND_REPORT, NULL, report, &err), BM_EINVALID);
	assert_string_equal(err.ptr, "url: env: missing (a report's env and instance id come from its URL)");
	serve_body_req_dispose(&r);
	assert_int_equal(parse_url(&r, SERVE_KIND_REPORT, &rep, report, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "url: instance: missing"));
	serve_body_req_dispose(&r);
	rep.instance = "a/b";
	assert_int_equal(parse_url(&r, SERVE_KIND_REPORT, &rep, report, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "url: instance: "));
	serve_body_req_dispose(&r);
	rep.instance = "web-1";
	rep.env = "../prod";
	assert_int_equal(parse_url(&r, SERVE_KIND_REPORT, &rep, report, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "url: env: "));
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
}

/* Bad bodies: the code and a piece of the message each must give. */
typedef struct {
	serve_kind kind;
	const char *body;
	int code;
	const char *msg;
} bad_case;

#define PROMOTE_OK "\"project\":\"a\",\"channel\":\"b\",\"release\":\"c\""
#define SHA "\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""
#define SRC "\"sources\":[\"https://g/x.git@0123456789abcdef0123456789abcdef01234567\"]"

static const bad_case bad[] = {
	/* the body as a whole */
	{ SERVE_KIND_PROMOTE, "", BM_EINVALID, "body: empty" },
	{ SERVE_KIND_PROMOTE, "{", BM_EINVALID, "body: not valid JSON" },
	{ SERVE_KIND_PROMOTE, "[1]", BM_EINVALID, "body: an array, not a JSON object" },
	{ SERVE_KIND_PROMOTE, "\"x\"", BM_EINVALID, "body: " },
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK "} x", BM_EINVALID, "body: not valid JSON" },
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK ",\"project\":\"d\"}", BM_EINVALID, "duplicate" },
	{ SERVE_KIND_PROMOTE, "{\"project\":\"a\xff\",\"channel\":\"b\",\"release\":\"c\"}", BM_EINVALID, "body: not valid JSON" },
	{ SERVE_KIND_PROMOTE, "{\"project\":\"a\\u0000\",\"channel\":\"b\",\"release\":\"c\"}", BM_EINVALID, "body: not valid JSON" },
	/* unknown, server-set and wrongly typed fields */
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK ",\"forced\":true}", BM_EINVALID,
	  "field \"forced\": unknown field; a promote body takes project, channel, release, reason, force" },
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK ",\"force\":1}", BM_EINVALID, "field \"force\": an integer, not true or false" },
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK ",\"actor\":\"me\"}", BM_EINVALID, "field \"actor\": is set by the server" },
	{ SERVE_KIND_PROMOTE, "{\"\\u001b[31m\":1}", BM_EINVALID, "field \"\\x1b[31m\": unknown field" },
	{ SERVE_KIND_PROMOTE, "{\"project\":1,\"channel\":\"b\",\"release\":\"c\"}", BM_EINVALID,
	  "field \"project\": an integer, not a string" },
	{ SERVE_KIND_PROMOTE, "{\"channel\":\"b\",\"release\":\"c\"}", BM_EINVALID, "field \"project\": missing" },
	{ SERVE_KIND_PROMOTE, "{\"project\":\"\",\"channel\":\"b\",\"release\":\"c\"}", BM_EINVALID, "field \"project\": empty" },
	/* names */
	{ SERVE_KIND_PROMOTE, "{\"project\":\"a\",\"channel\":\"b\",\"release\":\"../c\"}", BM_EINVALID, "field \"release\": " },
	{ SERVE_KIND_PROMOTE, "{\"project\":\"../etc\",\"channel\":\"b\",\"release\":\"c\"}", BM_EINVALID, "field \"project\": " },
	{ SERVE_KIND_PROMOTE, "{\"project\":\"a\",\"channel\":\"b/c\",\"release\":\"c\"}", BM_EINVALID, "field \"channel\": " },
	/* text */
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK ",\"reason\":\"a\\nb\"}", BM_EINVALID, "field \"reason\": the value" },
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK ",\"reason\":\"\\u001b[2J\"}", BM_EINVALID, "field \"reason\": the value" },
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK ",\"reason\":\"\\u0085\"}", BM_EINVALID, "field \"reason\": the value" },
	{ SERVE_KIND_PROMOTE, "{" PROMOTE_OK ",\"reason\":\"\\ud800\"}", BM_EINVALID, "body: not valid JSON" },
	/* release */
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\"}", BM_EINVALID, "field \"sources\": missing" },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\",\"sources\":[]}", BM_EINVALID, "field \"sources\": needs at least 1 item" },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\",\"sources\":\"x\"}", BM_EINVALID, "field \"sources\": a string, not an array" },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\",\"sources\":[\"https://g/x.git@abc\"]}", BM_EINVALID, "field \"sources[0]\": " },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\",\"sources\":[\"https://g/x.git\"]}", BM_EINVALID, "field \"sources[0]\": " },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\",\"sources\":[{\"dir\":\"/etc\"}]}", BM_EINVALID,
	  "field \"sources[0].dir\": unknown field; a source takes url, commit" },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\",\"sources\":[{\"url\":\"https://g/x\"}]}", BM_EINVALID,
	  "field \"sources[0].commit\": missing" },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\",\"sources\":[7]}", BM_EINVALID, "field \"sources[0]\": an integer, not a string" },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\"," SRC ",\"id\":\"a b\"}", BM_EINVALID, "field \"id\": " },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\"," SRC ",\"imports\":[\"nover\"]}", BM_EINVALID, "field \"imports[0]\": " },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\"," SRC ",\"imports\":[{\"module\":\"m\",\"version\":\"v\",\"indirect\":1}]}",
	  BM_EINVALID, "field \"imports[0]\": \"indirect\" is not true or false" },
	{ SERVE_KIND_RELEASE, "{\"project\":\"a\"," SRC ",\"createdMs\":\"1\"}", BM_EINVALID, "field \"createdMs\": is set by the server" },
	/* binary */
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\"," SHA ",\"size\":1,\"os\":\"linux\",\"arch\":\"amd64\","
	  "\"signerKeyId\":\"x\"}", BM_EINVALID, "field \"signerKeyId\": the signer is the key the signature names" },
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\",\"sha256\":\"9F86\",\"size\":1,\"os\":\"linux\",\"arch\":\"amd64\"}",
	  BM_EINVALID, "field \"sha256\": " },
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\"," SHA ",\"size\":-1,\"os\":\"linux\",\"arch\":\"amd64\"}",
	  BM_EINVALID, "field \"size\": negative" },
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\"," SHA ",\"size\":\"18446744073709551616\",\"os\":\"linux\","
	  "\"arch\":\"amd64\"}", BM_EINVALID, "field \"size\": over 2^64-1" },
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\"," SHA ",\"size\":\"1e3\",\"os\":\"linux\",\"arch\":\"amd64\"}",
	  BM_EINVALID, "field \"size\": not a decimal number" },
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\"," SHA ",\"size\":1.5,\"os\":\"linux\",\"arch\":\"amd64\"}",
	  BM_EINVALID, "field \"size\": a number, not a number of bytes" },
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\"," SHA ",\"size\":1,\"os\":\"Linux\",\"arch\":\"amd64\"}",
	  BM_EINVALID, "field \"os\": may only hold a-z" },
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\"," SHA ",\"size\":1,\"os\":\"linux\"}", BM_EINVALID,
	  "field \"arch\": missing" },
	{ SERVE_KIND_BINARY, "{\"project\":\"a\",\"release\":\"r\"," SHA ",\"size\":1,\"os\":\"linux\",\"arch\":\"amd64\","
	  "\"urls\":[\"a\",3]}", BM_EINVALID, "field \"urls[1]\": an integer, not a string" },
	/* config */
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"prod\"}", BM_EINVALID, "body: nothing to change" },
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"prod\",\"set\":{\"K\":null}}", BM_EINVALID,
	  "field \"set.K\": null is not a value" },
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"prod\",\"set\":{\"a/b\":1}}", BM_EINVALID, "field \"set.a/b\": " },
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"prod\",\"set\":{\"K\":\"\\u0007\"}}", BM_EINVALID,
	  "field \"set.K\": the value" },
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"prod\",\"set\":{\"K\":1},\"unset\":[\"K\"]}", BM_EINVALID,
	  "field \"unset[0]\": key \"K\" is both set and unset" },
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"prod\",\"unset\":[\"K\",\"K\"]}", BM_EINVALID,
	  "field \"unset[1]\": key \"K\" is given twice" },
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"prod\",\"set\":[1]}", BM_EINVALID, "field \"set\": an array, not an object" },
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"../prod\",\"set\":{\"K\":1}}", BM_EINVALID, "field \"env\": " },
	{ SERVE_KIND_CONFIG, "{\"project\":\"a\",\"env\":\"prod\",\"set\":{\"K\":1e999}}", BM_EINVALID, "body: not valid JSON" },
	/* flag */
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\"}", BM_EINVALID, "body: nothing to change" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"variants\":{}}", BM_EINVALID,
	  "field \"variants\": empty" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"variants\":{\"on\":true,\"x\":\"s\"}}", BM_EINVALID,
	  "field \"variants.x\": a string, but variant \"on\" is a bool" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"type\":\"bool\",\"variants\":{\"x\":1}}", BM_EINVALID,
	  "field \"variants.x\": a number, but \"type\" is bool" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"variants\":{\"a=b\":true}}", BM_EINVALID,
	  "field \"variants.a=b\": " },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"variants\":{\"x\":[1]}}", BM_EINVALID,
	  "field \"variants.x\": an array; a variant is" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"type\":\"bool\",\"state\":\"ENABLED\"}", BM_EINVALID,
	  "field \"type\": only goes with \"variants\"" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"state\":\"off\"}", BM_EINVALID,
	  "field \"state\": \"off\" is not ENABLED or DISABLED" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"rules\":[{\"channel\":\"b\"}]}", BM_EINVALID,
	  "field \"rules[0]\": a rule has either \"variant\" or \"weights\"" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"rules\":[{\"channel\":\"b/c\",\"variant\":\"on\"}]}",
	  BM_EINVALID, "field \"rules[0].channel\": " },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"rules\":[{\"channel\":\"b\",\"weights\":[{\"variant\":"
	  "\"on\",\"weight\":-1}]}]}", BM_EINVALID, "field \"rules[0].weights[0].weight\": -1 is not in 0 .. 2147483647" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"rules\":[{\"channel\":\"b\",\"weights\":[{\"variant\":"
	  "\"on\",\"weight\":1,\"x\":1}]}]}", BM_EINVALID, "field \"rules[0].weights[0].x\": unknown field" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"rules\":[\"b=on\"]}", BM_EINVALID,
	  "field \"rules[0]\": a string, not a rule object" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"seq\":\"3\",\"state\":\"ENABLED\"}", BM_EINVALID,
	  "field \"seq\": is set by the server" },
	{ SERVE_KIND_FLAG, "{\"project\":\"a\",\"env\":\"e\",\"key\":\"k\",\"state\":\"ENABLED\",\"allowUnknownChannels\":1}",
	  BM_EINVALID, "field \"allowUnknownChannels\": an integer, not true or false" },
	/* log */
	{ SERVE_KIND_LOG, "{\"kind\":\"Codegen\",\"message\":\"m\"}", BM_EINVALID, "field \"kind\": " },
	{ SERVE_KIND_LOG, "{\"kind\":\"codegen\"}", BM_EINVALID, "field \"message\": missing" },
	{ SERVE_KIND_LOG, "{\"kind\":\"codegen\",\"message\":\"m\\u0000\"}", BM_EINVALID,
	  "body: not valid JSON: a NUL character (\\u0000) is not allowed" },
	{ SERVE_KIND_LOG, "{\"kind\":\"codegen\",\"message\":\"m\x1b[2J\"}", BM_EINVALID, "control character 0x1b" },
	{ SERVE_KIND_LOG, "{\"kind\":\"codegen\",\"message\":\"m\",\"attrs\":{\"k\":\"a\\nb\"}}", BM_EINVALID,
	  "field \"attrs.k\": the value" },
	{ SERVE_KIND_LOG, "{\"kind\":\"codegen\",\"message\":\"m\",\"attrs\":[{\"key\":\"k\",\"value\":\"v\"},{\"key\":\"k\","
	  "\"value\":\"w\"}]}", BM_EINVALID, "body: " },
	{ SERVE_KIND_LOG, "{\"kind\":\"codegen\",\"message\":\"m\",\"attrs\":\"k=v\"}", BM_EINVALID, "field \"attrs\": a string" },
	{ SERVE_KIND_LOG, "{\"kind\":\"codegen\",\"message\":\"m\",\"id\":\"x\"}", BM_EINVALID, "field \"id\": is set by the server" },
	/* report */
	{ SERVE_KIND_REPORT, "{\"project\":\"a\",\"release\":\"r\",\"metaCommit\":\"abc\",\"state\":\"healthy\"}", BM_EINVALID,
	  "field \"metaCommit\": " },
	{ SERVE_KIND_REPORT, "{\"project\":\"a\",\"release\":\"r\",\"metaCommit\":\"0123456789abcdef0123456789abcdef01234567\","
	  "\"state\":\"sleeping\"}", BM_EINVALID, "field \"state\": \"sleeping\" is not downloading" },
	{ SERVE_KIND_REPORT, "{\"project\":\"a\",\"release\":\"r\",\"metaCommit\":\"0123456789abcdef0123456789abcdef01234567\","
	  "\"state\":\"failed\",\"error\":\"\\u001b]0;x\\u0007\"}", BM_EINVALID, "field \"error\": the value" },
	{ SERVE_KIND_REPORT, "{\"project\":\"a\",\"release\":\"r\",\"metaCommit\":\"0123456789abcdef0123456789abcdef01234567\","
	  "\"state\":\"failed\",\"env\":\"prod\"}", BM_EINVALID, "field \"env\": unknown field" },
};

static void test_bad(void **state)
{
	bm_buf err = BM_BUF_INIT;
	serve_body_req r;
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(&r, bad[i].kind, bad[i].body, &err);
		if (rc != bad[i].code || !err.ptr || !strstr(err.ptr, bad[i].msg)) {
			print_error("case %zu (%s): got %d \"%s\", want %d \"%s\"\n", i, bad[i].body, rc,
				    err.ptr ? err.ptr : "", bad[i].code, bad[i].msg);
			fail();
		}
		serve_body_req_dispose(&r);
	}
	bm_buf_dispose(&err);
}

static void test_bounds(void **state)
{
	bm_buf err = BM_BUF_INIT, b = BM_BUF_INIT;
	serve_body_req r;
	size_t i;
	char *big;
	(void)state;
	/* over the body bound: refused before it is read as JSON */
	assert_non_null(big = malloc(SERVE_BODY_MAX + 1));
	memset(big, ' ', SERVE_BODY_MAX + 1);
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_LOG, NULL, big, SERVE_BODY_MAX + 1, &err), BM_ETOOBIG);
	assert_non_null(strstr(err.ptr, "body: 1048577 bytes, over the bound of 1048576"));
	serve_body_req_dispose(&r);
	free(big);
	/* a reason over its bound */
	bm_buf_puts(&b, "{" PROMOTE_OK ",\"reason\":\"");
	for (i = 0; i < BM_META_TEXT_MAX + 1; i++)
		bm_buf_putc(&b, 'x');
	bm_buf_puts(&b, "\"}");
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_PROMOTE, NULL, b.ptr, b.size, &err), BM_ETOOBIG);
	assert_non_null(strstr(err.ptr, "field \"reason\": "));
	serve_body_req_dispose(&r);
	/* too many sources */
	bm_buf_clear(&b);
	bm_buf_puts(&b, "{\"project\":\"a\",\"sources\":[");
	for (i = 0; i < BM_META_MAX_SOURCES + 1; i++)
		bm_buf_printf(&b, "%s\"https://g/%zu@0123456789abcdef0123456789abcdef01234567\"", i ? "," : "", i);
	bm_buf_puts(&b, "]}");
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_RELEASE, NULL, b.ptr, b.size, &err), BM_ETOOBIG);
	assert_non_null(strstr(err.ptr, "field \"sources\": 65 items, over the bound of 64"));
	serve_body_req_dispose(&r);
	/* deep nesting is refused by the JSON reader, not a crash */
	bm_buf_clear(&b);
	bm_buf_puts(&b, "{\"project\":\"a\",\"env\":\"e\",\"set\":{\"K\":");
	for (i = 0; i < 5000; i++)
		bm_buf_putc(&b, '[');
	for (i = 0; i < 5000; i++)
		bm_buf_putc(&b, ']');
	bm_buf_puts(&b, "}}");
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_CONFIG, NULL, b.ptr, b.size, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "body: not valid JSON"));
	serve_body_req_dispose(&r);
	/* what the JSON reader quotes of a bad body is shown byte-safe */
	assert_int_equal(parse(&r, SERVE_KIND_LOG, "{\"kind\":\x1b[2J\xff}", &err), BM_EINVALID);
	for (i = 0; i < err.size; i++)
		assert_true((unsigned char)err.ptr[i] >= 0x20 && (unsigned char)err.ptr[i] < 0x7f);
	serve_body_req_dispose(&r);
	/* a body need not end in NUL: only `len` bytes are read */
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_PROMOTE, NULL, "{" PROMOTE_OK "}garbage", strlen("{" PROMOTE_OK "}"), &err), 0);
	serve_body_req_dispose(&r);
	serve_body_req_dispose(NULL);
	bm_buf_dispose(&b);
	bm_buf_dispose(&err);
}

/* ---- the parsed values, given to the real write operations ---- */

static int add_project(bm_txn *txn, void *payload)
{
	char path[256];
	snprintf(path, sizeof(path), "projects/%s/project.pb", (const char *)payload);
	return bm_txn_add(txn, path, "", 0);
}

static void test_on_store(void **state)
{
	char path[512];
	bm_store *s = NULL;
	bm_store_open_options so = BM_STORE_OPEN_OPTIONS_INIT;
	bm_buf err = BM_BUF_INIT;
	serve_body_req r;
	Bootmeta__V1__Release *rel = NULL;
	Bootmeta__V1__ChannelEntry *entry = NULL;
	Bootmeta__V1__Binary *bin = NULL;
	bm_config_changes ch = { 0 };
	bm_flag_change fc;
	bm_log_entry *le = NULL;
	(void)state;

	so.actor = "Test <test@example.com>";
	snprintf(path, sizeof(path), "%s/store", tmpdir);
	assert_int_equal(bm_store_init_ext(&s, path, &so), 0);
	assert_int_equal(bm_store_write(NULL, s, add_project, (void *)"acme/server", NULL), 0);
	assert_int_equal(bm_env_add(NULL, s, "prod", NULL, NULL), 0);

	assert_int_equal(parse(&r, SERVE_KIND_RELEASE,
			       "{\"project\":\"acme/server\",\"id\":\"v1\",\"version\":\"1.0\","
			       "\"sources\":[\"https://g.example.com/acme.git@0123456789abcdef0123456789abcdef01234567\"],"
			       "\"imports\":[\"github.com/x/y@v1.0.0\"]}",
			       &err),
			 0);
	assert_int_equal(bm_release_add(&rel, NULL, s, r.release.project, &r.release.opts), 0);
	assert_string_equal(rel->id, "v1");
	assert_int_equal(rel->n_imports, 1);
	bm_meta_free(rel);
	serve_body_req_dispose(&r);

	assert_int_equal(parse(&r, SERVE_KIND_PROMOTE,
			       "{\"project\":\"acme/server\",\"channel\":\"stable\",\"release\":\"v1\",\"reason\":\"first\"}", &err), 0);
	assert_int_equal(bm_channel_promote(&entry, NULL, s, r.promote.project, r.promote.channel, r.promote.release,
					    &r.promote.opts), 0);
	assert_int_equal(entry->seq, 1);
	assert_string_equal(entry->reason, "first");
	bm_meta_free(entry);
	serve_body_req_dispose(&r);

	assert_int_equal(parse(&r, SERVE_KIND_BINARY,
			       "{\"project\":\"acme/server\",\"release\":\"v1\"," SHA ",\"size\":\"42\",\"os\":\"linux\","
			       "\"arch\":\"amd64\",\"urls\":[\"https://dl.example.com/x\"]}", &err), 0);
	assert_int_equal(bm_binary_add_digest(&bin, NULL, s, r.binary.project, r.binary.release, r.binary.sha256,
					      r.binary.size, &r.binary.opts), 0);
	assert_int_equal(bin->size, 42);
	bm_meta_free(bin);
	serve_body_req_dispose(&r);

	assert_int_equal(parse(&r, SERVE_KIND_CONFIG,
			       "{\"project\":\"acme/server\",\"env\":\"prod\",\"set\":{\"N\":3,\"J\":[1],\"S\":\"x\",\"D\":1.5,"
			       "\"B\":false}}", &err), 0);
	assert_int_equal(bm_config_write(&ch, s, r.config.project, r.config.env, r.config.assigns, r.config.nassigns,
					 &r.config.opts, NULL), 0);
	assert_int_equal(ch.count, 5);
	assert_int_equal(ch.has_commit, 1);
	bm_config_changes_dispose(&ch);
	serve_body_req_dispose(&r);

	assert_int_equal(parse(&r, SERVE_KIND_FLAG,
			       "{\"project\":\"acme/server\",\"env\":\"prod\",\"key\":\"new-ui\",\"variants\":{\"on\":true,"
			       "\"off\":false},\"defaultVariant\":\"off\",\"rules\":[{\"channel\":\"stable\",\"weights\":"
			       "[{\"variant\":\"on\",\"weight\":1},{\"variant\":\"off\",\"weight\":3}]}]}", &err), 0);
	memset(&fc, 0, sizeof(fc));
	assert_int_equal(bm_flag_write(&fc, s, r.flag.project, r.flag.env, r.flag.key, serve_flag_edit, &r.flag,
				       &r.flag.opts, NULL), 0);
	assert_int_equal(fc.after->nvariants, 2);
	assert_int_equal(fc.after->nrules, 1);
	assert_int_equal(fc.after->rules[0].total_weight, 4);
	assert_int_equal(fc.after->disabled, 0);
	bm_flag_change_dispose(&fc);
	serve_body_req_dispose(&r);
	/* an edit of that version: disable, drop the rule */
	assert_int_equal(parse(&r, SERVE_KIND_FLAG,
			       "{\"project\":\"acme/server\",\"env\":\"prod\",\"key\":\"new-ui\",\"state\":\"DISABLED\","
			       "\"removeRules\":[\"stable\"]}", &err), 0);
	memset(&fc, 0, sizeof(fc));
	assert_int_equal(bm_flag_write(&fc, s, r.flag.project, r.flag.env, r.flag.key, serve_flag_edit, &r.flag,
				       &r.flag.opts, NULL), 0);
	assert_int_equal(fc.after->disabled, 1);
	assert_int_equal(fc.after->nrules, 0);
	assert_int_equal(fc.after->seq, 2);
	bm_flag_change_dispose(&fc);
	serve_body_req_dispose(&r);
	/* an edit of a flag that does not exist */
	assert_int_equal(parse(&r, SERVE_KIND_FLAG,
			       "{\"project\":\"acme/server\",\"env\":\"prod\",\"key\":\"nope\",\"state\":\"DISABLED\"}", &err), 0);
	memset(&fc, 0, sizeof(fc));
	assert_int_equal(bm_flag_write(&fc, s, r.flag.project, r.flag.env, r.flag.key, serve_flag_edit, &r.flag,
				       &r.flag.opts, NULL), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "define it with \"variants\""));
	bm_flag_change_dispose(&fc);
	serve_body_req_dispose(&r);

	assert_int_equal(parse(&r, SERVE_KIND_LOG,
			       "{\"kind\":\"deploy\",\"message\":\"rolled out\",\"project\":\"acme/server\",\"attrs\":{\"n\":\"3\"}}",
			       &err), 0);
	assert_int_equal(bm_log_add(&le, s, &r.log.spec, NULL), 0);
	assert_string_equal(le->message, "rolled out");
	assert_int_equal(le->nattrs, 1);
	bm_log_entry_free(le);
	serve_body_req_dispose(&r);

	bm_buf_dispose(&err);
	bm_store_free(s);
}

/* As serve runs a batch: every parsed request's _txn op in one transaction, each with its
 * token's name as the actor, one commit. */
typedef struct {
	serve_body_req *reqs;
	size_t n;
	Bootmeta__V1__ChannelEntry *entry;
	Bootmeta__V1__Binary *bin;
	bm_config_changes ch;
	bm_flag_change fc;
	bm_log_entry *le;
} batch;

static int batch_txn(bm_txn *txn, void *payload)
{
	batch *b = payload;
	size_t i;
	int error = 0;
	for (i = 0; i < b->n && error >= 0; i++) {
		serve_body_req *r = &b->reqs[i];
		char actor[32];
		snprintf(actor, sizeof(actor), "token-%zu", i);
		if ((error = bm_txn_set_actor(txn, actor)) < 0)
			break;
		switch (r->kind) {
		case SERVE_KIND_PROMOTE:
			error = bm_channel_promote_txn(&b->entry, txn, r->promote.project, r->promote.channel, r->promote.release,
						       &r->promote.opts);
			break;
		case SERVE_KIND_BINARY:
			error = bm_binary_add_digest_txn(&b->bin, txn, r->binary.project, r->binary.release, r->binary.sha256,
							 r->binary.size, &r->binary.opts);
			break;
		case SERVE_KIND_CONFIG:
			error = bm_config_write_txn(&b->ch, txn, r->config.project, r->config.env, r->config.assigns,
						    r->config.nassigns, &r->config.opts);
			break;
		case SERVE_KIND_FLAG:
			error = bm_flag_write_txn(&b->fc, txn, r->flag.project, r->flag.env, r->flag.key, serve_flag_edit, &r->flag,
						  &r->flag.opts);
			break;
		case SERVE_KIND_LOG:
			bm_log_entry_free(b->le);
			b->le = NULL;
			error = bm_log_add_txn(&b->le, txn, &r->log.spec);
			break;
		default:
			error = BM_EINVALID;
		}
	}
	if (error >= 0)
		error = bm_txn_message(txn, "serve batch of %zu", b->n);
	return error < 0 ? error : 0;
}

static void test_batch_txn(void **state)
{
	static const struct {
		serve_kind kind;
		const char *body;
	} in[] = {
		{ SERVE_KIND_PROMOTE, "{\"project\":\"acme/server\",\"channel\":\"beta\",\"release\":\"v1\"}" },
		{ SERVE_KIND_PROMOTE, "{\"project\":\"acme/server\",\"channel\":\"beta\",\"release\":\"v1\",\"reason\":\"again\"}" },
		{ SERVE_KIND_BINARY, "{\"project\":\"acme/server\",\"release\":\"v1\",\"sha256\":"
				     "\"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752\",\"size\":7,\"os\":\"linux\","
				     "\"arch\":\"arm64\"}" },
		{ SERVE_KIND_CONFIG, "{\"project\":\"acme/server\",\"env\":\"prod\",\"set\":{\"N\":4}}" },
		{ SERVE_KIND_FLAG, "{\"project\":\"acme/server\",\"env\":\"prod\",\"key\":\"dark\",\"variants\":{\"a\":\"x\","
				   "\"b\":\"y\"}}" },
		{ SERVE_KIND_LOG, "{\"kind\":\"deploy\",\"message\":\"batch\"}" },
	};
	serve_body_req reqs[sizeof(in) / sizeof(in[0])];
	batch b;
	char path[512];
	bm_store *s = NULL;
	bm_store_open_options so = BM_STORE_OPEN_OPTIONS_INIT;
	bm_buf err = BM_BUF_INIT;
	bm_oid before, after;
	size_t i;
	(void)state;

	snprintf(path, sizeof(path), "%s/store", tmpdir); /* the store test_on_store made */
	so.actor = "Test <test@example.com>";
	assert_int_equal(bm_store_open_ext(&s, path, &so), 0);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_int_equal(parse(&reqs[i], in[i].kind, in[i].body, &err), 0);
	memset(&b, 0, sizeof(b));
	b.reqs = reqs;
	b.n = sizeof(in) / sizeof(in[0]);
	assert_int_equal(bm_store_tip(&before, s), 0);
	assert_int_equal(bm_store_write(&after, s, batch_txn, &b, NULL), 0);
	assert_true(memcmp(&before, &after, sizeof(before)) != 0);
	/* two promotions of one channel in one commit take the next two numbers */
	assert_int_equal(b.entry->seq, 2);
	assert_string_equal(b.entry->reason, "again");
	assert_string_equal(b.entry->actor, "token-1");
	assert_string_equal(b.bin->actor, "token-2");
	assert_int_equal(b.ch.count, 1);
	assert_string_equal(b.ch.items[0].after.actor, "token-3");
	assert_string_equal(b.fc.after->actor, "token-4");
	assert_string_equal(b.le->actor, "token-5");
	bm_meta_free(b.entry);
	bm_meta_free(b.bin);
	bm_config_changes_dispose(&b.ch);
	bm_flag_change_dispose(&b.fc);
	bm_log_entry_free(b.le);
	for (i = 0; i < b.n; i++)
		serve_body_req_dispose(&reqs[i]);
	bm_buf_dispose(&err);
	bm_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_promote),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_flag),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_on_store),
		cmocka_unit_test(test_batch_txn),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
