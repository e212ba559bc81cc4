/* test_artifact.c: libbootmeta-net without a server. The URL side (lib/net/artifact_url.c):
 * storage URLs split or refused with the reason, object URLs built from checked names, S3
 * request URLs (path style with an endpoint, virtual-hosted on AWS), S3 error bodies read
 * into one clean line. Then the API on file:// URLs: upload writes once and never replaces,
 * fetch checks size and sha256 before the file gets its name, resumes a .part a killed
 * fetch left, and leaves nothing at dest when the record or the verify callback refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bootmeta.h"
#include "bootmeta/artifact.h"
#include "artifact_int.h"

#define SHA_A "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" /* "hello" */

static void test_url_parse(void **state)
{
	bm__url u = BM__URL_INIT;
	(void)state;
	assert_int_equal(bm__url_parse(&u, "s3://my-bucket/rel/x/"), 0);
	assert_int_equal(u.scheme, BM_URL_S3);
	assert_string_equal(u.bucket, "my-bucket");
	assert_string_equal(u.path, "rel/x");
	assert_int_equal(bm__url_parse(&u, "s3://my-bucket"), 0);
	assert_string_equal(u.bucket, "my-bucket");
	assert_string_equal(u.path, "");
	assert_int_equal(bm__url_parse(&u, "file:///srv//artifacts"), BM_EINVALID); /* "//" inside */
	assert_int_equal(bm__url_parse(&u, "file:///srv/artifacts/"), 0);
	assert_int_equal(u.scheme, BM_URL_FILE);
	assert_string_equal(u.path, "/srv/artifacts");
	assert_int_equal(bm__url_parse(&u, "file://localhost/srv/a"), 0);
	assert_string_equal(u.path, "/srv/a");
	assert_int_equal(bm__url_parse(&u, "https://cdn.example.com:8443/a/b"), 0);
	assert_int_equal(u.scheme, BM_URL_HTTPS);
	assert_string_equal(u.path, "https://cdn.example.com:8443/a/b");
	assert_int_equal(bm__url_parse(&u, "http://h/a"), 0);
	assert_int_equal(u.scheme, BM_URL_HTTP);

	/* refused, each with its reason */
	assert_int_equal(bm__url_parse(&u, "ftp://h/a"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "scheme ftp"));
	assert_int_equal(bm__url_parse(&u, "https://h/a?x=1"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "query"));
	assert_int_equal(bm__url_parse(&u, "https://user:pw@h/a"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "credentials"));
	assert_int_equal(bm__url_parse(&u, "https:///a"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "https://h/a/../b"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "file://h/a"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "file:///"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "file:///a/./b"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "file:///a b"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "file:///a%20b"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "s3://ab/x"), BM_EINVALID); /* bucket too short */
	assert_int_equal(bm__url_parse(&u, "s3://My-Bucket/x"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "s3://-bucket/x"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "s3://bucket//x"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "s3://bucket/a/../x"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, "s3://bucket/a\x01"), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, ""), BM_EINVALID);
	assert_int_equal(bm__url_parse(&u, NULL), BM_EINVALID);
	bm__url_dispose(&u);
}

static void test_object_url(void **state)
{
	bm_buf b = BM_BUF_INIT;
	(void)state;
	assert_int_equal(bm_artifact_url(&b, "s3://bkt/pre/", "acme/server", SHA_A, "server"), 0);
	assert_string_equal(b.ptr, "s3://bkt/pre/acme/server/" SHA_A "/server");
	assert_int_equal(bm_artifact_url(&b, "s3://bkt", "acme/server", SHA_A, "server-1.0_linux+x"), 0);
	assert_string_equal(b.ptr, "s3://bkt/acme/server/" SHA_A "/server-1.0_linux+x");
	assert_int_equal(bm_artifact_url(&b, "file:///srv/a", "p", SHA_A, "p"), 0);
	assert_string_equal(b.ptr, "file:///srv/a/p/" SHA_A "/p");
	assert_int_equal(bm_artifact_url(&b, "https://h/dav", "p", SHA_A, "p"), 0);
	assert_string_equal(b.ptr, "https://h/dav/p/" SHA_A "/p");
	/* each part checked */
	assert_int_equal(bm_artifact_url(&b, "https://h/dav", "../p", SHA_A, "p"), BM_EINVALID);
	assert_int_equal(bm_artifact_url(&b, "https://h/dav", "p", "ABC", "p"), BM_EINVALID);
	assert_int_equal(bm_artifact_url(&b, "https://h/dav", "p", SHA_A, "a/b"), BM_EINVALID);
	assert_int_equal(bm_artifact_url(&b, "https://h/dav", "p", SHA_A, ".hidden"), BM_EINVALID);
	assert_int_equal(bm_artifact_url(&b, "https://h/dav", "p", SHA_A, ""), BM_EINVALID);
	assert_int_equal(bm_artifact_url(&b, "gopher://h", "p", SHA_A, "p"), BM_EINVALID);
	assert_int_equal(bm_artifact_name_check("x y"), BM_EINVALID);
	assert_int_equal(bm_artifact_name_check("bootmeta-0.1.0_linux_amd64.tar.gz"), 0);
	bm_buf_dispose(&b);
}

static void test_s3_request_url(void **state)
{
	bm_buf b = BM_BUF_INIT;
	(void)state;
	assert_int_equal(bm__s3_request_url(&b, "http://127.0.0.1:4568/", NULL, "bkt", "a/b"), 0);
	assert_string_equal(b.ptr, "http://127.0.0.1:4568/bkt/a/b");
	assert_int_equal(bm__s3_request_url(&b, "https://minio.example.com/s3", "eu-west-1", "bkt", ""), 0);
	assert_string_equal(b.ptr, "https://minio.example.com/s3/bkt");
	assert_int_equal(bm__s3_request_url(&b, NULL, NULL, "bkt", "a/b"), 0);
	assert_string_equal(b.ptr, "https://bkt.s3.us-east-1.amazonaws.com/a/b");
	assert_int_equal(bm__s3_request_url(&b, NULL, "eu-central-1", "my.bkt", "k"), 0);
	assert_string_equal(b.ptr, "https://s3.eu-central-1.amazonaws.com/my.bkt/k");
	assert_int_equal(bm__s3_request_url(&b, "ftp://x", NULL, "bkt", "k"), BM_EINVALID);
	assert_int_equal(bm__s3_request_url(&b, "http://x/?a", NULL, "bkt", "k"), BM_EINVALID);
	assert_int_equal(bm__s3_request_url(&b, NULL, "EU/x", "bkt", "k"), BM_EINVALID);
	bm_buf_dispose(&b);
}

static void test_error_body(void **state)
{
	static const char s3[] = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>"
				 "<Message>The request signature &amp; so on\n&lt;b&gt;</Message></Error>";
	bm_buf b = BM_BUF_INIT;
	char big[2000];
	(void)state;
	assert_int_equal(bm__error_body_text(&b, s3, sizeof(s3) - 1), 0);
	assert_string_equal(b.ptr, "SignatureDoesNotMatch: The request signature & so on <b>");
	{ static const char h[] = "\r\n  <html>no\x1b[31m\nsecond"; assert_int_equal(bm__error_body_text(&b, h, sizeof(h) - 1), 0); }
	assert_string_equal(b.ptr, "<html>no?[31m");
	assert_int_equal(bm__error_body_text(&b, "", 0), 0);
	assert_string_equal(b.ptr, "");
	assert_int_equal(bm__error_body_text(&b, "<Code>x", 7), 0); /* unclosed: the first line */
	assert_string_equal(b.ptr, "<Code>x");
	memset(big, 'a', sizeof(big));
	assert_int_equal(bm__error_body_text(&b, big, sizeof(big)), 0);
	assert_true(b.size <= 300);
	assert_int_equal(bm__http_status_code(403), BM_EPERM);
	assert_int_equal(bm__http_status_code(404), BM_ENOTFOUND);
	assert_int_equal(bm__http_status_code(500), BM_EREMOTE);
	bm_buf_dispose(&b);
}

/* ---- the API on file:// ---- */

static char dir[256];

static void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static int refuse(void *payload, const char *path)
{
	int *called = payload;
	(*called)++;
	assert_int_equal(access(path, F_OK), 0); /* the complete download, before its name */
	return bm_error_set(BM_EVERIFY, "not signed");
}

static void test_file_roundtrip(void **state)
{
	char src[512], base[300], dest[512], part[600], other[512];
	bm_buf url = BM_BUF_INIT;
	bm_transfer_options o = BM_TRANSFER_OPTIONS_INIT, bad = BM_TRANSFER_OPTIONS_INIT;
	bm_artifact_result r = BM_ARTIFACT_RESULT_INIT;
	Bootmeta__V1__Binary b = BOOTMETA__V1__BINARY__INIT;
	char *urls[2];
	int called = 0;
	FILE *f;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/bm-test-artifact-XXXXXX");
	assert_non_null(mkdtemp(dir));
	path_of(src, sizeof(src), "hello");
	put(src, "hello");
	snprintf(base, sizeof(base), "file://%s/store", dir);
	bad.version = 0;
	assert_int_equal(bm_artifact_upload(&url, base, "demo/app", NULL, "hello", src, &bad), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "bm_transfer_options version 0"));
	/* a digest that is not the file's: nothing sent */
	assert_int_equal(bm_artifact_upload(&url, base, "demo/app",
					    "0000000000000000000000000000000000000000000000000000000000000000", "hello", src, &o),
			 BM_EVERIFY);
	assert_int_equal(bm_artifact_upload(&url, base, "demo/app", SHA_A, "hello", src, &o), 0);
	assert_string_equal(url.ptr + strlen(base), "/demo/app/" SHA_A "/hello");
	/* the same again: fine; other bytes under that key: refused, not replaced */
	assert_int_equal(bm_artifact_upload(&url, base, "demo/app", NULL, "hello", src, &o), 0);
	path_of(other, sizeof(other), "other");
	put(other, "hellO");
	snprintf(dest, sizeof(dest), "%s/store/demo/app/" SHA_A "/taken", dir);
	put(dest, "not hello");
	assert_int_equal(bm_artifact_upload(&url, base, "demo/app", SHA_A, "taken", src, &o), BM_EEXISTS);
	assert_non_null(strstr(bm_error_last(), "never overwritten"));

	/* fetch it back */
	assert_int_equal(bm_artifact_upload(&url, base, "demo/app", SHA_A, "hello", src, &o), 0);
	b.sha256 = (char *)SHA_A;
	b.size = 5;
	urls[0] = url.ptr;
	b.urls = urls;
	b.n_urls = 1;
	path_of(dest, sizeof(dest), "got");
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), 0);
	assert_int_equal(r.bytes, 5);
	assert_string_equal(r.url.ptr, url.ptr);
	assert_int_equal(r.attempts, 1);
	unlink(dest);
	/* a .part a killed fetch left is resumed, not downloaded again */
	snprintf(part, sizeof(part), "%s.part", dest);
	put(part, "hel");
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), 0);
	assert_int_equal(r.resumed_bytes, 3);
	f = fopen(dest, "rb");
	assert_non_null(f);
	{
		char got[16] = { 0 };
		assert_int_equal(fread(got, 1, sizeof(got), f), 5);
		assert_string_equal(got, "hello");
	}
	fclose(f);
	unlink(dest);
	/* the verify callback refuses: nothing at dest, no .part */
	o.verify = refuse;
	o.verify_payload = &called;
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), BM_EVERIFY);
	assert_int_equal(called, 1);
	assert_int_not_equal(access(dest, F_OK), 0);
	assert_int_not_equal(access(part, F_OK), 0);
	o.verify = NULL;
	/* a .part of other bytes (another binary fetched to this name, killed): started over */
	put(part, "jel");
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), 0);
	assert_int_equal(access(part, F_OK), -1);
	unlink(dest);
	/* a record whose size or sha256 the file does not have */
	b.size = 4;
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "more than the 4 bytes"));
	assert_int_not_equal(access(dest, F_OK), 0);
	b.size = 5;
	b.sha256 = (char *)"1111111111111111111111111111111111111111111111111111111111111111";
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "the record says"));
	assert_int_not_equal(access(dest, F_OK), 0);
	assert_int_not_equal(access(part, F_OK), 0);
	/* a missing object, then the good one: the second URL is used, the first named */
	b.sha256 = (char *)SHA_A;
	snprintf(other, sizeof(other), "file://%s/nowhere/hello", dir);
	urls[0] = other;
	urls[1] = url.ptr;
	b.n_urls = 2;
	o.retries = BM_TRANSFER_NO_RETRIES;
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), 0);
	assert_string_equal(r.url.ptr, url.ptr);
	assert_non_null(strstr(r.failures.ptr, "nowhere"));
	b.n_urls = 1;
	urls[0] = url.ptr;
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), 0); /* dest replaced by the same */
	urls[0] = other;
	assert_true(bm_artifact_fetch(&r, dest, &b, &o) < 0);
	assert_non_null(strstr(bm_error_last(), "nowhere"));
	b.n_urls = 0;
	assert_int_equal(bm_artifact_fetch(&r, dest, &b, &o), BM_EINVALID);
	bm_artifact_result_dispose(&r);
	bm_buf_dispose(&url);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_object_url),
		cmocka_unit_test(test_s3_request_url),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_file_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
