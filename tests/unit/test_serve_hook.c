/* test_serve_hook.c: webhooks (src/serve_hook.c): GitHub's documented test vector for
 * X-Hub-Signature-256 (docs.github.com, "Validating webhook deliveries": secret "It's a
 * Secret to Everybody", payload "Hello, World!"), forged and malformed signatures, GitLab's
 * token, push payloads of both, the replay set, and the secret file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "serve_hook.h"

#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bm-test-serve-hook-XXXXXX");
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

static int gh(const char *header, const char *secret, const char *body, bm_buf *err)
{
	return serve_hook_verify_github(header, secret, strlen(secret), body, strlen(body), err);
}

static void test_github_vector(void **state)
{
	char sig[SERVE_HOOK_SIG_LEN + 1], upper[SERVE_HOOK_SIG_LEN + 1];
	bm_buf err = BM_BUF_INIT;
	size_t i;
	(void)state;
	serve_hook_sign(sig, GH_SECRET, strlen(GH_SECRET), GH_BODY, strlen(GH_BODY));
	assert_string_equal(sig, GH_SIG);
	assert_int_equal(gh(GH_SIG, GH_SECRET, GH_BODY, &err), 0);
	/* hex digits in upper case are the same signature */
	memcpy(upper, GH_SIG, sizeof(upper));
	for (i = 7; i < SERVE_HOOK_SIG_LEN; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	assert_int_equal(gh(upper, GH_SECRET, GH_BODY, &err), 0);
	/* forged: another body, another secret, one digit changed */
	assert_int_equal(gh(GH_SIG, GH_SECRET, "Hello, World?", &err), BM_EVERIFY);
	assert_string_equal(err.ptr, "X-Hub-Signature-256 does not match the body (another secret, or a changed body)");
	assert_int_equal(gh(GH_SIG, "It's a Secret to Everybody!", GH_BODY, &err), BM_EVERIFY);
	memcpy(upper, GH_SIG, sizeof(upper));
	upper[SERVE_HOOK_SIG_LEN - 1] = '8';
	assert_int_equal(gh(upper, GH_SECRET, GH_BODY, &err), BM_EVERIFY);
	/* unsigned and malformed */
	assert_int_equal(gh(NULL, GH_SECRET, GH_BODY, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "unsigned delivery"));
	assert_int_equal(gh("", GH_SECRET, GH_BODY, &err), BM_EINVALID);
	assert_int_equal(gh("sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", GH_SECRET, GH_BODY, &err),
			 BM_EINVALID);
	assert_non_null(strstr(err.ptr, "malformed X-Hub-Signature-256"));
	assert_int_equal(gh("sha256=757107ea", GH_SECRET, GH_BODY, &err), BM_EINVALID);
	assert_int_equal(gh(GH_SIG "00", GH_SECRET, GH_BODY, &err), BM_EINVALID);
	assert_int_equal(gh("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1g", GH_SECRET, GH_BODY, &err),
			 BM_EINVALID);
	assert_null(strstr(err.ptr, GH_SECRET));
	/* a body with NUL bytes is signed as bytes */
	serve_hook_sign(sig, "k", 1, "a\0b", 3);
	assert_int_equal(serve_hook_verify_github(sig, "k", 1, "a\0b", 3, &err), 0);
	assert_int_equal(serve_hook_verify_github(sig, "k", 1, "a\0c", 3, &err), BM_EVERIFY);
	bm_buf_dispose(&err);
}

static void test_gitlab_token(void **state)
{
	bm_buf err = BM_BUF_INIT;
	(void)state;
	assert_int_equal(serve_hook_verify_gitlab("s3cret", "s3cret", 6, &err), 0);
	assert_int_equal(serve_hook_verify_gitlab("s3cre", "s3cret", 6, &err), BM_EVERIFY);
	assert_int_equal(serve_hook_verify_gitlab("s3cret!", "s3cret", 6, &err), BM_EVERIFY);
	assert_string_equal(err.ptr, "X-Gitlab-Token is not the webhook secret");
	assert_int_equal(serve_hook_verify_gitlab(NULL, "s3cret", 6, &err), BM_EINVALID);
	assert_int_equal(serve_hook_verify_gitlab("", "s3cret", 6, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "no X-Gitlab-Token"));
	bm_buf_dispose(&err);
}

/* A push as GitHub sends it (trimmed: the real one has many more members, all ignored). */
static const char github_push[] =
	"{\"ref\":\"refs/heads/main\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\","
	"\"after\":\"76ae82c7b1a177c8d03f9e96e0adf2466113728F\",\"created\":false,\"deleted\":false,\"forced\":false,"
	"\"repository\":{\"id\":1296269,\"name\":\"meta\",\"full_name\":\"acme/meta\",\"private\":true,"
	"\"html_url\":\"https://github.com/acme/meta\",\"url\":\"https://github.com/acme/meta\","
	"\"git_url\":\"git://github.com/acme/meta.git\",\"ssh_url\":\"git@github.com:acme/meta.git\","
	"\"clone_url\":\"https://github.com/acme/meta.git\",\"svn_url\":\"https://github.com/acme/meta\","
	"\"owner\":{\"name\":\"acme\"}},\"pusher\":{\"name\":\"x\"},\"commits\":[{\"id\":\"76ae\",\"message\":\"m\\n\"}],"
	"\"head_commit\":null}";

/* A push as GitLab sends it (trimmed). */
static const char gitlab_push[] =
	"{\"object_kind\":\"push\",\"event_name\":\"push\",\"before\":\"0000000000000000000000000000000000000000\","
	"\"after\":\"da1560886d4f094c3e6c9ef40349f7d38b5d27d7\",\"ref\":\"refs/heads/main\","
	"\"checkout_sha\":\"da1560886d4f094c3e6c9ef40349f7d38b5d27d7\",\"user_name\":\"x\",\"project_id\":15,"
	"\"project\":{\"id\":15,\"name\":\"meta\",\"web_url\":\"https://gitlab.example.com/acme/meta\","
	"\"git_ssh_url\":\"git@gitlab.example.com:acme/meta.git\",\"git_http_url\":\"https://gitlab.example.com/acme/meta.git\","
	"\"path_with_namespace\":\"acme/meta\",\"http_url\":\"https://gitlab.example.com/acme/meta.git\","
	"\"ssh_url\":\"git@gitlab.example.com:acme/meta.git\"},"
	"\"repository\":{\"name\":\"meta\",\"url\":\"git@gitlab.example.com:acme/meta.git\",\"homepage\":"
	"\"https://gitlab.example.com/acme/meta\",\"git_http_url\":\"https://gitlab.example.com/acme/meta.git\","
	"\"git_ssh_url\":\"git@gitlab.example.com:acme/meta.git\"},\"commits\":[],\"total_commits_count\":0}";

static void test_push_parse(void **state)
{
	serve_push_event e;
	bm_buf err = BM_BUF_INIT;
	(void)state;
	assert_int_equal(serve_push_parse(&e, SERVE_HOOK_GITHUB, github_push, strlen(github_push), &err), 0);
	assert_int_equal(e.source, SERVE_HOOK_GITHUB);
	assert_string_equal(e.ref, "refs/heads/main");
	assert_string_equal(e.before, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
	assert_string_equal(e.after, "76ae82c7b1a177c8d03f9e96e0adf2466113728f");
	assert_int_equal(e.created, 0);
	assert_int_equal(e.deleted, 0);
	assert_string_equal(e.repository, "acme/meta");
	assert_int_equal(e.urls.count, 4); /* svn_url and url repeat html_url */
	assert_string_equal(e.urls.items[0], "https://github.com/acme/meta.git");
	assert_string_equal(e.urls.items[1], "git@github.com:acme/meta.git");
	assert_string_equal(e.urls.items[2], "git://github.com/acme/meta.git");
	assert_string_equal(e.urls.items[3], "https://github.com/acme/meta");
	serve_push_event_dispose(&e);

	assert_int_equal(serve_push_parse(&e, SERVE_HOOK_GITLAB, gitlab_push, strlen(gitlab_push), &err), 0);
	assert_string_equal(e.after, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
	assert_int_equal(e.created, 1);
	assert_int_equal(e.deleted, 0);
	assert_string_equal(e.repository, "acme/meta");
	assert_int_equal(e.urls.count, 3);
	assert_string_equal(e.urls.items[0], "https://gitlab.example.com/acme/meta.git");
	assert_string_equal(e.urls.items[1], "git@gitlab.example.com:acme/meta.git");
	assert_string_equal(e.urls.items[2], "https://gitlab.example.com/acme/meta");
	serve_push_event_dispose(&e);
	bm_buf_dispose(&err);
}

static void test_push_bad(void **state)
{
	static const struct {
		serve_hook_source src;
		const char *body;
		const char *msg;
	} bad[] = {
		{ SERVE_HOOK_GITHUB, "", "body: not valid JSON" },
		{ SERVE_HOOK_GITHUB, "[]", "body: not a JSON object" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":\"refs/heads/main\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\"}",
		  "field \"after\": missing" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":\"main\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\",\"after\":"
				     "\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\"}", "field \"ref\": not a full ref name" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":\"refs/heads/a\\nb\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\","
				     "\"after\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\"}", "field \"ref\": the value holds a new line" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":\"refs/heads/main\",\"before\":\"6113\",\"after\":"
				     "\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\"}", "field \"before\": not a full commit hash" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":7,\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\",\"after\":"
				     "\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\"}", "field \"ref\": not a string" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":\"refs/heads/main\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\","
				     "\"after\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\",\"repository\":\"x\"}",
		  "field \"repository\": not an object" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":\"refs/heads/main\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\","
				     "\"after\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\",\"repository\":{\"clone_url\":"
				     "\"https://x/a b\"}}", "field \"repository.clone_url\": a URL has no spaces" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":\"refs/heads/main\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\","
				     "\"after\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\",\"repository\":{\"ssh_url\":"
				     "\"\\u001b]0;x\"}}", "field \"repository.ssh_url\": the value holds an escape character" },
		{ SERVE_HOOK_GITHUB, "{\"ref\":\"refs/heads/main\",\"ref\":\"refs/heads/x\"}", "duplicate" },
		{ SERVE_HOOK_GITLAB, "{\"object_kind\":\"merge_request\",\"ref\":\"refs/heads/main\"}",
		  "field \"object_kind\": not a push" },
		{ SERVE_HOOK_GITLAB, "{\"object_kind\":\"push\",\"ref\":\"refs/heads/main\",\"before\":"
				     "\"0000000000000000000000000000000000000000\",\"after\":\"da1560886d4f094c3e6c9ef40349f7d38b5d27d7\","
				     "\"project\":[]}", "field \"project\": not an object" },
	};
	serve_push_event e;
	bm_buf err = BM_BUF_INIT;
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(serve_push_parse(&e, bad[i].src, bad[i].body, strlen(bad[i].body), &err), BM_EINVALID);
		if (!strstr(err.ptr, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.ptr, bad[i].msg);
		serve_push_event_dispose(&e);
	}
	assert_int_equal(serve_push_parse(&e, SERVE_HOOK_GITHUB, github_push, SERVE_HOOK_BODY_MAX + 1, &err), BM_ETOOBIG);
	serve_push_event_dispose(&e);
	/* a deleted branch */
	{
		const char *del = "{\"ref\":\"refs/heads/old\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\","
				  "\"after\":\"0000000000000000000000000000000000000000\",\"deleted\":true}";
		assert_int_equal(serve_push_parse(&e, SERVE_HOOK_GITHUB, del, strlen(del), &err), 0);
		assert_int_equal(e.deleted, 1);
		assert_int_equal(e.urls.count, 0);
		assert_string_equal(e.repository, "");
		serve_push_event_dispose(&e);
	}
	bm_buf_dispose(&err);
}

static void test_seen(void **state)
{
	serve_hook_seen *s = NULL;
	char id[64];
	int i;
	(void)state;
	assert_int_equal(serve_hook_seen_new(&s, 0), BM_EINVALID);
	assert_int_equal(serve_hook_seen_new(&s, 3), 0);
	assert_int_equal(serve_hook_seen_add(s, "72d3162e-cc78-11e3-81ab-4c9367dc0958"), 0);
	assert_int_equal(serve_hook_seen_add(s, "72d3162e-cc78-11e3-81ab-4c9367dc0958"), 1);
	assert_int_equal(serve_hook_seen_add(s, "b"), 0);
	assert_int_equal(serve_hook_seen_add(s, "c"), 0);
	assert_int_equal(serve_hook_seen_add(s, "b"), 1);
	/* full: the oldest is forgotten */
	assert_int_equal(serve_hook_seen_add(s, "d"), 0);
	assert_int_equal(serve_hook_seen_add(s, "72d3162e-cc78-11e3-81ab-4c9367dc0958"), 0);
	assert_int_equal(serve_hook_seen_add(s, "d"), 1);
	/* bad ids */
	assert_int_equal(serve_hook_seen_add(s, NULL), BM_EINVALID);
	assert_int_equal(serve_hook_seen_add(s, ""), BM_EINVALID);
	assert_int_equal(serve_hook_seen_add(s, "a b"), BM_EINVALID);
	assert_int_equal(serve_hook_seen_add(s, "a\nb"), BM_EINVALID);
	assert_int_equal(serve_hook_seen_add(s, "\xc3\xa9"), BM_EINVALID);
	memset(id, 'x', sizeof(id));
	id[sizeof(id) - 1] = 0;
	assert_int_equal(serve_hook_seen_add(s, id), 0);
	serve_hook_seen_free(s);
	assert_int_equal(serve_hook_seen_new(&s, 1000), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "delivery-%d", i);
		assert_int_equal(serve_hook_seen_add(s, id), 0);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "delivery-%d", i);
		assert_int_equal(serve_hook_seen_add(s, id), 1);
	}
	serve_hook_seen_free(s);
	serve_hook_seen_free(NULL);
}

static void test_secret_file(void **state)
{
	char path[512];
	bm_buf sec = BM_BUF_INIT, err = BM_BUF_INIT;
	(void)state;
	snprintf(path, sizeof(path), "%s/secret", tmpdir);
	assert_int_equal(serve_hook_secret_load(&sec, path, &err), BM_ENOTFOUND);
	assert_int_equal(bm_file_write_atomic(path, GH_SECRET "\n", strlen(GH_SECRET) + 1, 0600), 0);
	assert_int_equal(serve_hook_secret_load(&sec, path, &err), 0);
	assert_int_equal(sec.size, strlen(GH_SECRET));
	assert_memory_equal(sec.ptr, GH_SECRET, sec.size);
	assert_int_equal(serve_hook_verify_github(GH_SIG, sec.ptr, sec.size, GH_BODY, strlen(GH_BODY), &err), 0);
	assert_int_equal(bm_file_write_atomic(path, "abc\r\n", 5, 0600), 0);
	assert_int_equal(serve_hook_secret_load(&sec, path, &err), 0);
	assert_int_equal(sec.size, 3);
	assert_int_equal(bm_file_write_atomic(path, "\n", 1, 0600), 0);
	assert_int_equal(serve_hook_secret_load(&sec, path, &err), BM_EINVALID);
	assert_non_null(strstr(err.ptr, "is empty"));
	assert_int_equal(bm_file_write_atomic(path, "abc", 3, 0600), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(serve_hook_secret_load(&sec, path, &err), BM_EPERM);
	assert_non_null(strstr(err.ptr, "may be read by its group (mode 0644)"));
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github_vector),
		cmocka_unit_test(test_gitlab_token),
		cmocka_unit_test(test_push_parse),
		cmocka_unit_test(test_push_bad),
		cmocka_unit_test(test_seen),
		cmocka_unit_test(test_secret_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
