/* test_serve_nats.c: the connection-free parts of serve's NATS side (src/serve_nats_msg.c):
 * the subject of every kind of path of the meta repo's layout, names with '.' kept apart from
 * the '.' between tokens, and NATS write requests turned into the HTTP route and body they
 * stand for, with the errors serve's HTTP bodies give. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serve_nats_msg.h"

static void subj(const char *path, const char *want_subject, const char *want_prefix)
{
	bm_buf s = BM_BUF_INIT, p = BM_BUF_INIT;
	int rc = serve_nats_subject(&s, &p, path);
	if (!want_subject) {
		if (rc != 1)
			fail_msg("%s: got subject %s, want none", path, s.ptr ? s.ptr : "(null)");
	} else {
		if (rc != 0)
			fail_msg("%s: no subject (%d), want %s", path, rc, want_subject);
		assert_string_equal(s.ptr, want_subject);
		assert_string_equal(p.ptr, want_prefix);
		/* the prefix covers the path */
		assert_int_equal(strncmp(path, p.ptr, p.size), 0);
	}
	bm_buf_dispose(&s);
	bm_buf_dispose(&p);
}

static void test_subjects(void **state)
{
	(void)state;
	subj("projects/acme/server/project.pb", "bootmeta.change.acme.server.project", "projects/acme/server/project.pb");
	subj("projects/acme/server/releases/v1.pb", "bootmeta.change.acme.server.releases", "projects/acme/server/releases/");
	subj("projects/acme/server/channels/stable/0000000/0000000001.pb", "bootmeta.change.acme.server.channels.stable",
	     "projects/acme/server/channels/stable/");
	subj("projects/a/channels/beta.2/0000000/0000000001.pb", "bootmeta.change.a.channels.beta%2E2",
	     "projects/a/channels/beta.2/");
	/* a '.' in a name never reads as a token boundary: github.com/x is two tokens */
	subj("projects/github.com/x/releases/r.pb", "bootmeta.change.github%2Ecom.x.releases", "projects/github.com/x/releases/");
	subj("envs/prod/config/acme/server/+keys/PORT/0000000001.pb", "bootmeta.change.acme.server.config.prod",
	     "envs/prod/config/acme/server/+keys/");
	subj("envs/dev/alice/config/acme/+flags/new-ui/0000000002.pb", "bootmeta.change.acme.flags.dev.alice",
	     "envs/dev/alice/config/acme/+flags/");
	subj("envs/prod/secrets/acme/server/DB/0000000001.age", "bootmeta.change.acme.server.secrets.prod",
	     "envs/prod/secrets/acme/server/");
	subj("envs/prod/env.pb", "bootmeta.change.+envs.prod.env", "envs/prod/env.pb");
	subj("envs/dev/alice/env.pb", "bootmeta.change.+envs.dev.alice.env", "envs/dev/alice/env.pb");
	subj("envs/prod/instances/web-1/0000000001.pb", "bootmeta.change.+envs.prod.instances", "envs/prod/instances/");
	subj("envs/prod/recipients/0000000001.pb", "bootmeta.change.+envs.prod.recipients", "envs/prod/recipients/");
	subj("binaries/ab/abcd.pb", "bootmeta.change.+binaries", "binaries/");
	subj("log/2026/12/02/1-x.pb", "bootmeta.change.+log", "log/");
	subj("keys/signers/k.pub", "bootmeta.change.+keys", "keys/");
	subj("modules/github.com/x/+by/acme/r.pb", "bootmeta.change.+modules", "modules/");
	/* no subject of its own: only in bootmeta.commit */
	subj(".bootmeta/format", NULL, NULL);
	subj("README", NULL, NULL);
	subj("projects/acme/server", NULL, NULL);
	subj("projects/acme/channels", NULL, NULL);
	subj("projects/acme/server/project.pb/x", NULL, NULL);
	subj("envs/prod", NULL, NULL);
	subj("envs/prod/env.pb/x", NULL, NULL);
	subj("envs/prod/config/acme/PORT", NULL, NULL);
	subj("envs/prod/secrets/acme", NULL, NULL);
	subj("projects//channels/x/1.pb", NULL, NULL);
	subj("", NULL, NULL);
}

static void wparse(const char *kind, const char *body, int want, const char *want_url, const char *want_body,
		   const char *want_err)
{
	bm_buf url = BM_BUF_INIT, b = BM_BUF_INIT, err = BM_BUF_INIT;
	int rc = serve_nats_write_parse(&url, &b, kind, body, strlen(body), &err);
	if (rc != want)
		fail_msg("%s %s: %d (%s), want %d", kind, body, rc, err.ptr ? err.ptr : "", want);
	if (want == 0) {
		assert_string_equal(url.ptr, want_url);
		assert_string_equal(b.ptr, want_body);
	} else if (!err.ptr || !strstr(err.ptr, want_err)) {
		fail_msg("%s %s: error \"%s\", want it to say \"%s\"", kind, body, err.ptr ? err.ptr : "", want_err);
	}
	bm_buf_dispose(&url);
	bm_buf_dispose(&b);
	bm_buf_dispose(&err);
}

static void test_writes(void **state)
{
	static const char promote[] = "{\"project\":\"acme/server\",\"channel\":\"stable\",\"release\":\"v1\"}";
	(void)state;
	/* the body goes on as it is where HTTP takes the same fields */
	wparse("promote", promote, 0, "/v1/projects/acme/server/channels/stable/promote", promote, NULL);
	wparse("release", "{\"project\":\"a/b\",\"sources\":[]}", 0, "/v1/projects/a/b/releases",
	       "{\"project\":\"a/b\",\"sources\":[]}", NULL);
	wparse("binary", "{\"project\":\"a\",\"release\":\"r1\"}", 0, "/v1/projects/a/releases/r1/binaries",
	       "{\"project\":\"a\",\"release\":\"r1\"}", NULL);
	wparse("config", "{\"project\":\"a\",\"env\":\"dev/alice\"}", 0, "/v1/projects/a/envs/dev/alice/config",
	       "{\"project\":\"a\",\"env\":\"dev/alice\"}", NULL);
	wparse("flag", "{\"project\":\"a\",\"env\":\"prod\",\"key\":\"new-ui\"}", 0, "/v1/projects/a/envs/prod/flags/new-ui",
	       "{\"project\":\"a\",\"env\":\"prod\",\"key\":\"new-ui\"}", NULL);
	wparse("log", "{\"kind\":\"deploy\",\"message\":\"m\"}", 0, "/v1/log", "{\"kind\":\"deploy\",\"message\":\"m\"}", NULL);
	/* report: env and instance are URL-only, so they leave the body */
	wparse("report", "{\"env\":\"prod\",\"instance\":\"web-1\",\"project\":\"a\",\"state\":\"healthy\"}", 0,
	       "/v1/envs/prod/instances/web-1/reports", "{\"project\":\"a\",\"state\":\"healthy\"}", NULL);
	wparse("report", "{\"env\":\"prod\",\"instance\":\"web-1\",\"note\":\"caf\\u00e9\"}", 0,
	       "/v1/envs/prod/instances/web-1/reports", "{\"note\":\"caf\xc3\xa9\"}", NULL);
	/* hooks: hook-rm's id is URL-only (DELETE /v1/hooks/{id}) */
	wparse("hook", "{\"url\":\"https://h/\",\"secret\":\"s\"}", 0, "/v1/hooks", "{\"url\":\"https://h/\",\"secret\":\"s\"}",
	       NULL);
	wparse("hook-rm", "{\"id\":\"0123456789abcdef\"}", 0, "/v1/hooks/0123456789abcdef", "{}", NULL);
	wparse("hook-rm", "{\"id\":\"../../x\"}", BM_EINVALID, NULL, NULL, "field \"id\": ");
	wparse("hook-rm", "{}", BM_EINVALID, NULL, NULL, "field \"id\": required");

	/* refusals, said as serve's HTTP errors say them */
	wparse("nothing", "{}", BM_ENOTFOUND, NULL, NULL, "no write kind \"nothing\"");
	wparse("promote", "{\"project\":", BM_EINVALID, NULL, NULL, "the body is not JSON");
	wparse("promote", "[1]", BM_EINVALID, NULL, NULL, "must be a JSON object");
	wparse("promote", "{\"channel\":\"s\",\"release\":\"v1\"}", BM_EINVALID, NULL, NULL, "field \"project\": required");
	wparse("promote", "{\"project\":null,\"channel\":\"s\"}", BM_EINVALID, NULL, NULL, "field \"project\": required");
	wparse("promote", "{\"project\":5,\"channel\":\"s\"}", BM_EINVALID, NULL, NULL, "field \"project\": must be a string");
	wparse("promote", "{\"project\":\"a/../b\",\"channel\":\"s\"}", BM_EINVALID, NULL, NULL, "field \"project\": ");
	wparse("promote", "{\"project\":\"a/releases\",\"channel\":\"s\"}", BM_EINVALID, NULL, NULL, "field \"project\": ");
	wparse("promote", "{\"project\":\"a\",\"channel\":\"x/y\"}", BM_EINVALID, NULL, NULL, "field \"channel\": ");
	wparse("promote", "{\"project\":\"a\",\"channel\":\"a\\u0000b\"}", BM_EINVALID, NULL, NULL, "not JSON");
	wparse("promote", "{\"project\":\"a\",\"project\":\"b\",\"channel\":\"s\"}", BM_EINVALID, NULL, NULL, "not JSON");
	wparse("report", "{\"env\":\"prod\",\"instance\":\"../x\"}", BM_EINVALID, NULL, NULL, "field \"instance\": ");
	wparse("flag", "{\"project\":\"a\",\"env\":\"prod\"}", BM_EINVALID, NULL, NULL, "field \"key\": required");
	wparse("config", "{\"project\":\"a\",\"env\":\"prod/config/x\"}", BM_EINVALID, NULL, NULL, "field \"env\": ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
