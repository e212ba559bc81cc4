/* test_serve_token.c: serve's tokens (src/serve_token.c): scopes and what they cover, the
 * token file's lines and every kind of bad line, the bearer header, the target of each
 * request kind, and the table serve holds: 401 / 403 / allowed, re-read when the file
 * changes (a revoke holds at the next check, a broken file refuses everything), on many
 * threads at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "serve_token.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bm-test-serve-token-XXXXXX");
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

static void test_scope_check(void **state)
{
	static const char *const good[] = { "promote:acme/*", "release:*", "binary:acme/server", "config:acme/*@prod",
					    "config:*@stage*", "flag:a@b", "log:*", "report:prod", "hook:projects/acme/*",
					    "*:*", "release:a+b", NULL };
	static const struct {
		const char *scope, *msg;
	} bad[] = {
		{ "promote", "is not VERB:PATTERN" },
		{ "deploy:acme", "unknown verb; the verbs are promote" },
		{ "promote:", "the pattern is empty" },
		{ "*:acme/*", "the verb * takes only the pattern *" },
		{ "promote:acme@prod", "only config and flag scopes name an env" },
		{ "config:a@b@c", "the pattern is PROJECT or PROJECT@ENV" },
		{ "config:@prod", "the pattern is PROJECT or PROJECT@ENV" },
		{ "config:acme@", "the pattern is PROJECT or PROJECT@ENV" },
		{ "promote:acme/ server", "a pattern holds the characters of names" },
		{ "promote:\x1b[2J", "\\x1b[2J" },
		{ NULL, NULL },
	};
	bm_buf err = BM_BUF_INIT;
	size_t i;
	(void)state;
	for (i = 0; good[i]; i++)
		if (serve_scope_check(good[i], &err) != 0)
			fail_msg("%s: %s", good[i], err.ptr);
	for (i = 0; bad[i].scope; i++) {
		assert_int_equal(serve_scope_check(bad[i].scope, &err), BM_EINVALID);
		if (!strstr(err.ptr, bad[i].msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].scope, err.ptr, bad[i].msg);
	}
	assert_int_equal(serve_scope_check(NULL, &err), BM_EINVALID);
	bm_buf_dispose(&err);
}

static void test_scope_covers(void **state)
{
	static const struct {
		const char *scope, *verb, *target;
		int covers;
	} c[] = {
		{ "promote:acme/*", "promote", "acme/server", 1 },
		{ "promote:acme/*", "promote", "acme/tools/cli", 1 },
		{ "promote:acme/*", "promote", "acme", 0 },
		{ "promote:acme/*", "promote", "acmex/server", 0 },
		{ "promote:acme/*", "release", "acme/server", 0 },
		{ "promote:*", "promote", "anything/at/all", 1 },
		{ "promote:acme/server", "promote", "acme/server", 1 },
		{ "promote:acme/server", "promote", "acme/server2", 0 },
		{ "promote:*/server", "promote", "acme/server", 1 },
		{ "promote:*/server", "promote", "acme/server/x", 0 },
		{ "promote:a*b*c", "promote", "aXbYbZc", 1 },
		{ "promote:a*b*c", "promote", "aXbYbZ", 0 },
		{ "config:acme/*@prod", "config", "acme/server@prod", 1 },
		{ "config:acme/*@prod", "config", "acme/server@stage", 0 },
		{ "config:acme/*@prod", "config", "other@prod", 0 },
		{ "config:acme/*", "config", "acme/server@anything", 1 },
		{ "config:*@stage*", "config", "x@stage/eu", 1 },
		{ "config:*@stage*", "config", "x@prod", 0 },
		{ "config:acme/*@prod", "flag", "acme/server@prod", 0 },
		{ "flag:acme/*@prod", "flag", "acme/server@prod", 1 },
		{ "config:acme/*", "config", "acme/server", 0 },  /* a config target always has @ENV */
		{ "report:prod", "report", "prod", 1 },
		{ "report:prod", "report", "prod/eu", 0 },
		{ "report:prod*", "report", "prod/eu", 1 },
		{ "log:*", "log", "", 1 },
		{ "log:acme/*", "log", "", 0 },
		{ "hook:projects/acme/*", "hook", "projects/acme/server/", 1 },
		{ "*:*", "promote", "x", 1 },
		{ "*:*", "report", "prod", 1 },
		{ "*:*", "hook", "", 1 },
		{ "promote:x", NULL, "x", 0 },
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (serve_scope_covers(c[i].scope, c[i].verb, c[i].target) != c[i].covers)
			fail_msg("%s %s %s: want %d", c[i].scope, c[i].verb ? c[i].verb : "NULL", c[i].target, c[i].covers);
}

#define H1 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define H2 "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

static void test_file_parse(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "ci " H1 "\n", "tokens:1: token ci has no scope" },
		{ "# c\n\nci " H1 " promote:x\nci " H2 " promote:y\n", "tokens:4: token ci is named twice" },
		{ "a " H1 " promote:x\nb " H1 " promote:y\n", "tokens:2: token b has the hash of token a" },
		{ "ci 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08 promote:x\n", "lower-case hex" },
		{ "ci abc promote:x\n", "tokens:1: token ci: the second field is not a sha256" },
		{ "ci\n", "tokens:1: token ci: the second field is not a sha256" },
		{ "c/i " H1 " promote:x\n", "tokens:1: token name \"c/i\" may only hold" },
		{ "-ci " H1 " promote:x\n", "may not start with '-'" },
		{ "ci " H1 " deploy:x\n", "tokens:1: token ci: scope \"deploy:x\": unknown verb" },
		{ "ci " H1 " promote:x\r\n", "tokens:1: ends in a carriage return" },
		{ "ci " H1 " promote:x\x01\n", "holds a control character (\\x01)" },
		{ "ci " H1 " promote:\xc3\xa9\n", "holds a byte outside ASCII (\\xc3)" },
		{ "x " H1 " promote:a\n\n\n  bad line here\n", "tokens:4: token bad: the second field" },
	};
	serve_token_list l = SERVE_TOKEN_LIST_INIT;
	bm_buf err = BM_BUF_INIT, big = BM_BUF_INIT;
	char hex[65];
	size_t i;
	(void)state;

	assert_int_equal(serve_token_file_parse(&l, SERVE_TOKEN_FILE_HEADER "ci " H1 " promote:acme/* report:prod\n"
						    "  # indented comment\n\t\nagents\t" H2 "   report:*",
						    strlen(SERVE_TOKEN_FILE_HEADER "ci " H1 " promote:acme/* report:prod\n"
							   "  # indented comment\n\t\nagents\t" H2 "   report:*"),
						    "tokens", &err),
			 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].name, "ci");
	bm_hex_encode(hex, l.items[0].hash, 32);
	assert_string_equal(hex, H1);
	assert_int_equal(l.items[0].scopes.count, 2);
	assert_string_equal(l.items[0].scopes.items[1], "report:prod");
	assert_string_equal(l.items[1].name, "agents");
	assert_string_equal(l.items[1].scopes.items[0], "report:*");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(serve_token_file_parse(&l, bad[i].text, strlen(bad[i].text), "tokens", &err), BM_EINVALID);
		if (!strstr(err.ptr, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.ptr, bad[i].msg);
		assert_int_equal(l.count, 0);
	}
	/* an empty file is a table with no tokens */
	assert_int_equal(serve_token_file_parse(&l, "", 0, "tokens", &err), 0);
	assert_int_equal(l.count, 0);
	/* the size bound */
	assert_int_equal(bm_buf_grow(&big, SERVE_TOKEN_FILE_MAX + 2), 0);
	memset(big.ptr, '#', SERVE_TOKEN_FILE_MAX + 1);
	assert_int_equal(serve_token_file_parse(&l, big.ptr, SERVE_TOKEN_FILE_MAX + 1, "tokens", &err), BM_ETOOBIG);
	bm_buf_dispose(&big);
	serve_token_list_dispose(&l);
	bm_buf_dispose(&err);
}

static void test_lines(void **state)
{
	bm_buf out = BM_BUF_INIT, err = BM_BUF_INIT;
	unsigned char hash[32];
	const char *scopes[] = { "promote:acme/*", "config:acme/*@prod" };
	const char *badscope[] = { "promote:acme@prod" };
	const char *text = "# keep me\nci " H1 " promote:x\n# and me\nagents " H2 " report:*\n";
	(void)state;
	assert_int_equal(bm_hex_decode(hash, 32, H1), 0);
	assert_int_equal(serve_token_line(&out, "ci", hash, scopes, 2, &err), 0);
	assert_string_equal(out.ptr, "ci " H1 " promote:acme/* config:acme/*@prod\n");
	bm_buf_clear(&out);
	assert_int_equal(serve_token_line(&out, "ci", hash, scopes, 0, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "at least one scope"));
	assert_int_equal(serve_token_line(&out, "c i", hash, scopes, 1, &err), BM_EINVALID);
	assert_int_equal(serve_token_line(&out, "ci", hash, badscope, 1, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "only config and flag scopes name an env"));
	assert_int_equal(serve_token_file_without(&out, text, strlen(text), "ci"), 0);
	assert_string_equal(out.ptr, "# keep me\n# and me\nagents " H2 " report:*\n");
	assert_int_equal(serve_token_file_without(&out, text, strlen(text), "agents"), 0);
	assert_string_equal(out.ptr, "# keep me\nci " H1 " promote:x\n# and me\n");
	assert_int_equal(serve_token_file_without(&out, text, strlen(text), "c"), BM_ENOTFOUND);
	assert_int_equal(serve_token_file_without(&out, text, strlen(text), "#"), BM_ENOTFOUND);
	bm_buf_dispose(&out);
	bm_buf_dispose(&err);
}

static void test_generate(void **state)
{
	char a[SERVE_TOKEN_LEN + 1], b[SERVE_TOKEN_LEN + 1];
	unsigned char ha[32], hb[32], h[32];
	size_t i;
	(void)state;
	assert_int_equal(serve_token_generate(a, ha), 0);
	assert_int_equal(serve_token_generate(b, hb), 0);
	assert_int_equal(strlen(a), SERVE_TOKEN_LEN);
	assert_memory_equal(a, "bmt_", 4);
	for (i = 4; i < SERVE_TOKEN_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
	assert_string_not_equal(a, b);
	serve_token_hash(h, a, strlen(a));
	assert_memory_equal(h, ha, 32);
	/* the hash is sha256 of the token text: sha256("test") */
	serve_token_hash(h, "test", 4);
	assert_int_equal(bm_hex_decode(ha, 32, H1), 0);
	assert_memory_equal(h, ha, 32);
}

static void test_bearer(void **state)
{
	const char *t;
	size_t n;
	(void)state;
	assert_int_equal(serve_bearer_parse(&t, &n, "Bearer bmt_abc"), 0);
	assert_int_equal(n, 7);
	assert_memory_equal(t, "bmt_abc", 7);
	assert_int_equal(serve_bearer_parse(&t, &n, "bearer   xyz  "), 0);
	assert_int_equal(n, 3);
	assert_int_equal(serve_bearer_parse(&t, &n, NULL), SERVE_E401);
	assert_int_equal(serve_bearer_parse(&t, &n, ""), SERVE_E401);
	assert_int_equal(serve_bearer_parse(&t, &n, "Bearer"), SERVE_E401);
	assert_int_equal(serve_bearer_parse(&t, &n, "Bearer   "), SERVE_E401);
	assert_int_equal(serve_bearer_parse(&t, &n, "Basic dXNlcjpwYXNz"), SERVE_E401);
	assert_int_equal(serve_bearer_parse(&t, &n, "Bearerx y"), SERVE_E401);
	assert_int_equal(serve_bearer_parse(&t, &n, "Bearer a b"), SERVE_E401);
	assert_null(t);
}

static void test_target(void **state)
{
	serve_body_req r;
	bm_buf err = BM_BUF_INIT, tgt = BM_BUF_INIT;
	const char *verb;
	const serve_body_url url = { NULL, NULL, NULL, "prod/eu", NULL, "web-1", NULL };
	const serve_body_url hurl = { NULL, NULL, NULL, NULL, NULL, NULL, "0123456789abcdef" };
	const char *hook = "{\"url\":\"https://h.example/x\",\"secret\":\"s\",\"prefix\":\"projects/acme/\"}";
	const char *config = "{\"project\":\"acme/server\",\"env\":\"prod\",\"set\":{\"K\":1}}";
	const char *log = "{\"kind\":\"deploy\",\"message\":\"m\"}";
	const char *report = "{\"project\":\"a\",\"release\":\"r\",\"metaCommit\":\"0123456789abcdef0123456789abcdef01234567\","
			     "\"state\":\"healthy\"}";
	(void)state;
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_CONFIG, NULL, config, strlen(config), &err), 0);
	assert_int_equal(serve_token_target(&verb, &tgt, &r), 0);
	assert_string_equal(verb, "config");
	assert_string_equal(tgt.ptr, "acme/server@prod");
	serve_body_req_dispose(&r);
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_LOG, NULL, log, strlen(log), &err), 0);
	assert_int_equal(serve_token_target(&verb, &tgt, &r), 0);
	assert_string_equal(verb, "log");
	assert_string_equal(tgt.ptr, "");
	serve_body_req_dispose(&r);
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_REPORT, &url, report, strlen(report), &err), 0);
	assert_int_equal(serve_token_target(&verb, &tgt, &r), 0);
	assert_string_equal(verb, "report");
	assert_string_equal(tgt.ptr, "prod/eu");
	serve_body_req_dispose(&r);
	/* both hook kinds are the verb "hook" on the subscription's prefix */
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_HOOK, NULL, hook, strlen(hook), &err), 0);
	assert_int_equal(serve_token_target(&verb, &tgt, &r), 0);
	assert_string_equal(verb, "hook");
	assert_string_equal(tgt.ptr, "projects/acme/");
	serve_body_req_dispose(&r);
	assert_int_equal(serve_body_parse(&r, SERVE_KIND_HOOK_RM, &hurl, "", 0, &err), 0);
	assert_int_equal(serve_token_target(&verb, &tgt, &r), 0);
	assert_string_equal(verb, "hook");
	assert_string_equal(tgt.ptr, ""); /* the prefix unknown: only '*' covers it */
	r.hook_rm.prefix = "projects/acme/server/";
	assert_int_equal(serve_token_target(&verb, &tgt, &r), 0);
	assert_string_equal(tgt.ptr, "projects/acme/server/");
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
	bm_buf_dispose(&tgt);
}

/* ---- the table ---- */

static void write_tokens(const char *path, const char *text)
{
	assert_int_equal(bm_file_write_atomic(path, text, strlen(text), 0600), 0);
}

/* Rewrite in place, same size, same second: only the nanoseconds of mtime/ctime differ. */
static void overwrite_in_place(const char *path, const char *text)
{
	FILE *f = fopen(path, "r+");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static int check(serve_tokens *t, const char *token, const char *verb, const char *target, bm_buf *name, bm_buf *msg)
{
	return serve_tokens_check(t, token, token ? strlen(token) : 0, verb, target, name, msg);
}

static void test_table(void **state)
{
	char path[512], line[512], tci[SERVE_TOKEN_LEN + 1], tag[SERVE_TOKEN_LEN + 1], hex_ci[65], hex_ag[65];
	unsigned char hci[32], hag[32];
	serve_tokens *t = NULL;
	bm_buf err = BM_BUF_INIT, name = BM_BUF_INIT, msg = BM_BUF_INIT, text = BM_BUF_INIT;
	(void)state;

	snprintf(path, sizeof(path), "%s/tokens", tmpdir);
	assert_int_equal(serve_tokens_open(&t, path, &err), BM_ENOTFOUND);
	assert_non_null(strstr(err.ptr, "token file"));
	assert_int_equal(serve_token_generate(tci, hci), 0);
	assert_int_equal(serve_token_generate(tag, hag), 0);
	bm_hex_encode(hex_ci, hci, 32);
	bm_hex_encode(hex_ag, hag, 32);
	bm_buf_printf(&text, "%sci %s promote:acme/* config:acme/*@stage\nagents %s report:prod*\n", SERVE_TOKEN_FILE_HEADER,
		      hex_ci, hex_ag);
	write_tokens(path, text.ptr);
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(serve_tokens_open(&t, path, &err), BM_EPERM);
	assert_non_null(strstr(err.ptr, "may be written by its group (mode 0664)"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(serve_tokens_open(&t, path, &err), 0);
	assert_int_equal(serve_tokens_count(t), 2);

	/* allowed, with the name */
	assert_int_equal(check(t, tci, "promote", "acme/server", &name, &msg), 0);
	assert_string_equal(name.ptr, "ci");
	assert_int_equal(check(t, tci, "config", "acme/server@stage", &name, &msg), 0);
	assert_int_equal(check(t, tag, "report", "prod/eu", &name, &msg), 0);
	assert_string_equal(name.ptr, "agents");
	assert_int_equal(check(t, tag, "report", "prod/eu", NULL, NULL), 0);
	/* 401: none, unknown, a prefix of a real one, one with a byte changed */
	assert_int_equal(check(t, NULL, "promote", "acme/server", &name, &msg), SERVE_E401);
	assert_string_equal(msg.ptr, "no token: send Authorization: Bearer TOKEN");
	assert_int_equal(name.size, 0);
	assert_int_equal(check(t, "bmt_nope", "promote", "acme/server", &name, &msg), SERVE_E401);
	assert_string_equal(msg.ptr, "unknown token (revoked, or never issued)");
	assert_int_equal(serve_tokens_check(t, tci, SERVE_TOKEN_LEN - 1, "promote", "acme/server", &name, &msg), SERVE_E401);
	snprintf(line, sizeof(line), "%s", tci);
	line[10] = line[10] == 'A' ? 'B' : 'A';
	assert_int_equal(check(t, line, "promote", "acme/server", &name, &msg), SERVE_E401);
	assert_null(strstr(msg.ptr, line)); /* the token is never in a message */
	{
		char huge[SERVE_TOKEN_BEARER_MAX + 2];
		memset(huge, 'a', sizeof(huge) - 1);
		huge[sizeof(huge) - 1] = 0;
		assert_int_equal(check(t, huge, "promote", "acme/server", &name, &msg), SERVE_E401);
	}
	/* 403: which token, which write, its scopes */
	assert_int_equal(check(t, tci, "promote", "other/server", &name, &msg), SERVE_E403);
	assert_string_equal(msg.ptr, "token \"ci\" has no scope for promote on other/server (its scopes: promote:acme/* "
				     "config:acme/*@stage)");
	assert_int_equal(check(t, tci, "config", "acme/server@prod", &name, &msg), SERVE_E403);
	assert_int_equal(check(t, tci, "release", "acme/server", &name, &msg), SERVE_E403);
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), SERVE_E403);
	assert_int_equal(name.size, 0);
	assert_null(strstr(msg.ptr, tag));

	/* revoke by an atomic rewrite (a new inode): refused at the very next check */
	bm_buf_clear(&text);
	bm_buf_printf(&text, "%sagents %s report:prod*\n", SERVE_TOKEN_FILE_HEADER, hex_ag);
	write_tokens(path, text.ptr);
	assert_int_equal(check(t, tci, "promote", "acme/server", &name, &msg), SERVE_E401);
	assert_int_equal(serve_tokens_count(t), 1);
	assert_int_equal(check(t, tag, "report", "prod", &name, &msg), 0);

	/* a change in place of the same size, within the file system's time granularity of the
	 * last read (same inode, size and times): seen too, as the file was read "racily" */
	bm_buf_clear(&text);
	bm_buf_printf(&text, "%sagents %s report:stag*\n", SERVE_TOKEN_FILE_HEADER, hex_ag);
	overwrite_in_place(path, text.ptr);
	assert_int_equal(check(t, tag, "report", "prod", &name, &msg), SERVE_E403);
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), 0);

	/* a file that no longer loads refuses every token (not the old table) until fixed */
	write_tokens(path, "agents nothex report:*\n");
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), BM_EINVALID);
	assert_non_null(strstr(msg.ptr, ":1: token agents: the second field is not a sha256"));
	assert_non_null(strstr(msg.ptr, "every token is refused until the file loads"));
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), BM_EINVALID);
	assert_int_equal(chmod(path, 0666), 0);
	write_tokens(path, text.ptr);
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), 0);
	assert_int_equal(chmod(path, 0646), 0);
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), BM_EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), 0);
	/* a file that is gone */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), BM_ENOTFOUND);
	assert_non_null(strstr(msg.ptr, "every token is refused until it is back"));
	write_tokens(path, text.ptr);
	assert_int_equal(check(t, tag, "report", "stage", &name, &msg), 0);

	serve_tokens_free(t);
	serve_tokens_free(NULL);
	bm_buf_dispose(&err);
	bm_buf_dispose(&name);
	bm_buf_dispose(&msg);
	bm_buf_dispose(&text);
}

/* Many threads check while the file is rewritten: every answer is one of the two tables'. */
typedef struct {
	serve_tokens *t;
	const char *token;
	int bad;
} thread_arg;

static void *checker(void *p)
{
	thread_arg *a = p;
	bm_buf name = BM_BUF_INIT, msg = BM_BUF_INIT;
	int i, rc;
	for (i = 0; i < 2000; i++) {
		rc = serve_tokens_check(a->t, a->token, strlen(a->token), "promote", "acme/x", &name, &msg);
		if (rc != 0 && rc != SERVE_E403)
			a->bad++;
		if (rc == 0 && strcmp(name.ptr, "ci"))
			a->bad++;
	}
	bm_buf_dispose(&name);
	bm_buf_dispose(&msg);
	return NULL;
}

static void test_threads(void **state)
{
	char path[512], tok[SERVE_TOKEN_LEN + 1], hex[65];
	unsigned char h[32];
	bm_buf a = BM_BUF_INIT, b = BM_BUF_INIT, err = BM_BUF_INIT;
	serve_tokens *t = NULL;
	pthread_t th[4];
	thread_arg args[4];
	int i;
	(void)state;

	snprintf(path, sizeof(path), "%s/tokens-threads", tmpdir);
	assert_int_equal(serve_token_generate(tok, h), 0);
	bm_hex_encode(hex, h, 32);
	bm_buf_printf(&a, "ci %s promote:acme/*\n", hex);
	bm_buf_printf(&b, "ci %s promote:other/*\n", hex);
	write_tokens(path, a.ptr);
	assert_int_equal(serve_tokens_open(&t, path, &err), 0);
	for (i = 0; i < 4; i++) {
		args[i].t = t;
		args[i].token = tok;
		args[i].bad = 0;
		assert_int_equal(pthread_create(&th[i], NULL, checker, &args[i]), 0);
	}
	for (i = 0; i < 200; i++)
		write_tokens(path, i % 2 ? a.ptr : b.ptr);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].bad, 0);
	}
	serve_tokens_free(t);
	bm_buf_dispose(&a);
	bm_buf_dispose(&b);
	bm_buf_dispose(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_check),
		cmocka_unit_test(test_scope_covers),
		cmocka_unit_test(test_file_parse),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
