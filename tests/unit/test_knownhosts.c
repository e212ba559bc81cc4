/* test_knownhosts.c: the ssh host key check of lib/knownhosts.c: HMAC-SHA1 against RFC
 * 2202's vectors, and known_hosts files with plain, port, pattern, negated, revoked,
 * cert-authority, changed and missing lines. (Hashed lines written by ssh-keygen -H are
 * checked in e2e/t_git_ssh against the real sshd.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "bootmeta.h"
#include "knownhosts.h"

static char dir[64], file[128];

/* an ssh-ed25519 key blob: string "ssh-ed25519", string of 32 bytes `fill` */
static size_t blob(unsigned char *out, unsigned char fill)
{
	static const char t[] = "ssh-ed25519";
	size_t n = 0;
	memcpy(out, "\0\0\0\x0b", 4), n += 4;
	memcpy(out + n, t, 11), n += 11;
	memcpy(out + n, "\0\0\0\x20", 4), n += 4;
	memset(out + n, fill, 32), n += 32;
	return n;
}

static void b64(char *out, size_t cap, unsigned char fill)
{
	unsigned char b[64];
	size_t n = blob(b, fill);
	sodium_bin2base64(out, cap, b, n, sodium_base64_VARIANT_ORIGINAL);
}

static void write_file(const char *text)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* check against the file for host/port a key of `fill` */
static int check(const char *host, int port, unsigned char fill)
{
	unsigned char b[64];
	size_t n = blob(b, fill);
	return bm__known_hosts_check(file, host, port, b, n);
}

static void test_hmac_sha1(void **state)
{
	unsigned char out[20], key[80];
	char hex[41];
	(void)state;
	/* RFC 2202 test cases 1, 2 and 6 (a key longer than the block) */
	memset(key, 0x0b, 20);
	bm__hmac_sha1(out, key, 20, (const unsigned char *)"Hi There", 8);
	sodium_bin2hex(hex, sizeof(hex), out, 20);
	assert_string_equal(hex, "b617318655057264e28bc0b6fb378c8ef146be00");
	bm__hmac_sha1(out, (const unsigned char *)"Jefe", 4, (const unsigned char *)"what do ya want for nothing?", 28);
	sodium_bin2hex(hex, sizeof(hex), out, 20);
	assert_string_equal(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	memset(key, 0xaa, 80);
	bm__hmac_sha1(out, key, 80, (const unsigned char *)"Test Using Larger Than Block-Size Key - Hash Key First",
		      54);
	sodium_bin2hex(hex, sizeof(hex), out, 20);
	assert_string_equal(hex, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

static void test_lines(void **state)
{
	char k1[128], k2[128], text[2048];
	(void)state;
	b64(k1, sizeof(k1), 1);
	b64(k2, sizeof(k2), 2);

	/* a missing file is empty: unknown */
	unlink(file);
	assert_int_equal(check("127.0.0.1", 2222, 1), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "no such file"));
	assert_int_equal(bm_error_last_about(NULL), BM_ABOUT_SSH_HOST_UNKNOWN);

	/* a plain line, port 22 and [host]:port forms; the port counts */
	snprintf(text, sizeof(text), "# comment\n\ngit.example.com ssh-ed25519 %s c\n[127.0.0.1]:2222 ssh-ed25519 %s\n",
		 k1, k1);
	write_file(text);
	assert_int_equal(check("git.example.com", 22, 1), 0);
	assert_int_equal(check("GIT.example.com", 22, 1), 0);
	assert_int_equal(check("127.0.0.1", 2222, 1), 0);
	assert_int_equal(check("127.0.0.1", 2223, 1), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "[127.0.0.1]:2223 is not in"));
	assert_int_equal(check("127.0.0.1", 22, 1), BM_EVERIFY);

	/* another key of the same type: changed, with the line */
	assert_int_equal(check("127.0.0.1", 2222, 2), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "has changed"));
	assert_non_null(strstr(bm_error_last(), "line 4"));
	assert_int_equal(bm_error_last_about(NULL), BM_ABOUT_SSH_HOST_CHANGED);

	/* a line with a key of another type only: unknown, not changed */
	snprintf(text, sizeof(text), "h1 ssh-rsa %s\n", k2);
	write_file(text);
	assert_int_equal(check("h1", 22, 1), BM_EVERIFY);
	assert_int_equal(bm_error_last_about(NULL), BM_ABOUT_SSH_HOST_UNKNOWN);
	assert_non_null(strstr(bm_error_last(), "has a ssh-rsa key for it"));

	/* lists, patterns, negation */
	snprintf(text, sizeof(text), "a.example,*.git.example,!bad.git.example,h?st ssh-ed25519 %s\n", k1);
	write_file(text);
	assert_int_equal(check("a.example", 22, 1), 0);
	assert_int_equal(check("x.git.example", 22, 1), 0);
	assert_int_equal(check("host", 22, 1), 0);
	assert_int_equal(check("bad.git.example", 22, 1), BM_EVERIFY);
	assert_int_equal(check("hoost", 22, 1), BM_EVERIFY);

	/* @revoked beats a good line; @cert-authority lines are skipped; one good line among
	 * stale ones is enough */
	snprintf(text, sizeof(text), "@cert-authority * ssh-ed25519 %s\nh ssh-ed25519 %s\nh ssh-ed25519 %s\n", k1, k2, k1);
	write_file(text);
	assert_int_equal(check("h", 22, 1), 0);
	assert_int_equal(check("other", 22, 1), BM_EVERIFY);
	snprintf(text, sizeof(text), "h ssh-ed25519 %s\n@revoked * ssh-ed25519 %s\n", k1, k1);
	write_file(text);
	assert_int_equal(check("h", 22, 1), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "@revoked"));

	/* junk lines are skipped */
	snprintf(text, sizeof(text), "h\nh ssh-ed25519\nh ssh-ed25519 !!!notbase64\n h  ssh-ed25519  %s  \n", k1);
	write_file(text);
	assert_int_equal(check("h", 22, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_sha1),
		cmocka_unit_test(test_lines),
	};
	int rc;
	snprintf(dir, sizeof(dir), "/tmp/bm-test-kh-XXXXXX");
	if (!mkdtemp(dir) || sodium_init() < 0)
		return 1;
	snprintf(file, sizeof(file), "%s/known_hosts", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(file);
	rmdir(dir);
	return rc;
}
