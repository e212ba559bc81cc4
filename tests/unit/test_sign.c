/* test_sign.c: minisign keys and signatures (round trips, tampering, key ids, legacy,
 * malformed input, encrypted keys, files made by the real minisign) and SSH signatures
 * (ssh-keygen's files, round trips, signed commits made with libgit2 and checked by the
 * real `git verify-commit`). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <git2.h>
#include <sodium.h>

#include "bootmeta.h"

static char *testdata(const char *name)
{
	static char path[4096];
	const char *dir = getenv("BM_TESTDATA");
	snprintf(path, sizeof(path), "%s/sign/%s", dir ? dir : "tests/data", name);
	return path;
}

static void read_data(bm_buf *out, const char *name)
{
	bm_buf_clear(out);
	assert_int_equal(bm_file_read(out, testdata(name), 0), 0);
}

static int setup(void **state)
{
	(void)state;
	return bm_global_init() < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	bm_global_shutdown();
	return 0;
}

/* Fast scrypt limits for tests (minisign's own are 1 GiB). */
#define TEST_OPS 524288ULL
#define TEST_MEM 16777216ULL

static void test_roundtrip(void **state)
{
	bm_buf pub = BM_BUF_INIT, sec = BM_BUF_INIT, sig = BM_BUF_INIT;
	bm_minisign_result res = BM_MINISIGN_RESULT_INIT;
	bm_minisign_pubkey pk;
	const char *data = "the binary";
	const char *keys[1];
	(void)state;

	assert_int_equal(bm_minisign_keygen(&pub, &sec, NULL), 0);
	assert_non_null(strstr(pub.ptr, "untrusted comment: minisign public key "));
	assert_int_equal(bm_minisign_seckey_is_encrypted(sec.ptr), 0);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, pub.ptr), 0);
	assert_non_null(strstr(pub.ptr, pk.key_id_hex));
	assert_int_equal(strlen(pk.key_id_hex), 16);

	assert_int_equal(bm_minisign_sign(&sig, data, strlen(data), sec.ptr, NULL, NULL, NULL), 0);
	keys[0] = pub.ptr;
	assert_int_equal(bm_minisign_verify(&res, sig.ptr, data, strlen(data), keys, 1), 0);
	assert_string_equal(res.key_id_hex, pk.key_id_hex);
	assert_int_equal(res.prehashed, 1);
	assert_memory_equal(res.trusted_comment.ptr, "timestamp:", 10);
	assert_non_null(strstr(res.trusted_comment.ptr, "\thashed"));

	/* a bare base64 line is a key too */
	{
		const char *line = strchr(pub.ptr, '\n') + 1;
		const char *bare[1] = { line };
		assert_int_equal(bm_minisign_verify(NULL, sig.ptr, data, strlen(data), bare, 1), 0);
	}

	/* tampered data */
	assert_int_equal(bm_minisign_verify(NULL, sig.ptr, "the binarY", 10, keys, 1), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "does not verify"));

	/* tampered trusted comment */
	bm_buf_clear(&sig);
	assert_int_equal(bm_minisign_sign(&sig, data, strlen(data), sec.ptr, NULL, "release 1", "hi"), 0);
	{
		char *t = strstr(sig.ptr, "release 1");
		assert_non_null(t);
		t[8] = '2';
		assert_int_equal(bm_minisign_verify(NULL, sig.ptr, data, strlen(data), keys, 1), BM_EVERIFY);
		assert_non_null(strstr(bm_error_last(), "trusted comment"));
		t[8] = '1';
		assert_int_equal(bm_minisign_verify(&res, sig.ptr, data, strlen(data), keys, 1), 0);
		assert_string_equal(res.trusted_comment.ptr, "release 1");
		assert_string_equal(res.untrusted_comment.ptr, "hi");
	}

	/* comments may not break lines */
	assert_int_equal(bm_minisign_sign(&sig, data, 1, sec.ptr, NULL, "a\nb", NULL), BM_EINVALID);

	bm_minisign_result_dispose(&res);
	bm_buf_dispose(&pub);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&sig);
}

static void test_wrong_key(void **state)
{
	bm_buf pub1 = BM_BUF_INIT, sec1 = BM_BUF_INIT, pub2 = BM_BUF_INIT, sec2 = BM_BUF_INIT, sig = BM_BUF_INIT;
	bm_minisign_result res = BM_MINISIGN_RESULT_INIT;
	bm_minisign_pubkey pk1, pk2;
	const char *keys[2];
	(void)state;

	assert_int_equal(bm_minisign_keygen(&pub1, &sec1, NULL), 0);
	assert_int_equal(bm_minisign_keygen(&pub2, &sec2, NULL), 0);
	assert_int_equal(bm_minisign_pubkey_parse(&pk1, pub1.ptr), 0);
	assert_int_equal(bm_minisign_pubkey_parse(&pk2, pub2.ptr), 0);
	assert_int_equal(bm_minisign_sign(&sig, "x", 1, sec1.ptr, NULL, NULL, NULL), 0);

	keys[0] = pub2.ptr;
	assert_int_equal(bm_minisign_verify(NULL, sig.ptr, "x", 1, keys, 1), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), pk1.key_id_hex));
	assert_int_equal(bm_minisign_verify(NULL, sig.ptr, "x", 1, keys, 0), BM_ENOTFOUND);

	keys[1] = pub1.ptr;
	assert_int_equal(bm_minisign_verify(&res, sig.ptr, "x", 1, keys, 2), 0);
	assert_int_equal(res.key_index, 1);

	/* same key id, other key: the signature must not verify */
	memcpy(pk2.key_id, pk1.key_id, 8);
	assert_int_equal(bm_minisign_verify_key(NULL, sig.ptr, "x", 1, &pk2, 1), BM_EVERIFY);

	bm_minisign_result_dispose(&res);
	bm_buf_dispose(&pub1);
	bm_buf_dispose(&pub2);
	bm_buf_dispose_secret(&sec1);
	bm_buf_dispose_secret(&sec2);
	bm_buf_dispose(&sig);
}

static void test_legacy(void **state)
{
	bm_buf pub = BM_BUF_INIT, sec = BM_BUF_INIT, sig = BM_BUF_INIT;
	bm_minisign_result res = BM_MINISIGN_RESULT_INIT;
	bm_minisign_seckey *sk = NULL;
	const char *keys[1];
	(void)state;

	assert_int_equal(bm_minisign_keygen(&pub, &sec, NULL), 0);
	assert_int_equal(bm_minisign_seckey_load(&sk, sec.ptr, NULL), 0);
	assert_int_equal(bm_minisign_sign_with(&sig, sk, "legacy", 6, NULL, NULL, BM_MINISIGN_SIGN_LEGACY), 0);
	assert_non_null(strstr(sig.ptr, "\nRW")); /* "Ed" in base64; "ED" would be "RU" */
	keys[0] = pub.ptr;
	assert_int_equal(bm_minisign_verify(&res, sig.ptr, "legacy", 6, keys, 1), 0);
	assert_int_equal(res.prehashed, 0);
	assert_null(strstr(res.trusted_comment.ptr, "hashed"));
	assert_int_equal(bm_minisign_verify(NULL, sig.ptr, "legacY", 6, keys, 1), BM_EVERIFY);

	bm_minisign_seckey_free(sk);
	bm_minisign_result_dispose(&res);
	bm_buf_dispose(&pub);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&sig);
}

/* Files made by minisign 0.11 (tests/data/sign): minisign -G -W, -S, -S -l. */
static void test_real_minisign_files(void **state)
{
	bm_buf pub = BM_BUF_INIT, sec = BM_BUF_INIT, data = BM_BUF_INIT, sig = BM_BUF_INIT, ours = BM_BUF_INIT;
	bm_minisign_result res = BM_MINISIGN_RESULT_INIT;
	bm_minisign_seckey *sk = NULL;
	bm_minisign_pubkey pk, from_sk;
	const char *keys[1];
	(void)state;

	read_data(&pub, "minisign.pub");
	read_data(&sec, "minisign.key");
	read_data(&data, "hello.txt");
	keys[0] = pub.ptr;

	read_data(&sig, "hello.txt.minisig");
	assert_int_equal(bm_minisign_verify(&res, sig.ptr, data.ptr, data.size, keys, 1), 0);
	assert_string_equal(res.trusted_comment.ptr, "release 1.2.3");
	assert_int_equal(res.prehashed, 1);
	assert_int_equal(bm_minisign_verify_file(&res, sig.ptr, testdata("hello.txt"), keys, 1), 0);

	read_data(&sig, "hello.txt.legacy.minisig");
	assert_int_equal(bm_minisign_verify(&res, sig.ptr, data.ptr, data.size, keys, 1), 0);
	assert_int_equal(res.prehashed, 0);
	assert_memory_equal(res.trusted_comment.ptr, "timestamp:", 10);
	assert_non_null(strstr(res.trusted_comment.ptr, "\tfile:hello.txt"));
	assert_int_equal(bm_minisign_verify_file(&res, sig.ptr, testdata("hello.txt"), keys, 1), 0);

	/* minisign's unencrypted key (zero checksum): sign with it, recreate its public key */
	assert_int_equal(bm_minisign_seckey_is_encrypted(sec.ptr), 0);
	assert_int_equal(bm_minisign_seckey_load(&sk, sec.ptr, NULL), 0);
	bm_minisign_seckey_pubkey(&from_sk, sk);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, pub.ptr), 0);
	assert_memory_equal(from_sk.key, pk.key, 32);
	assert_string_equal(from_sk.key_id_hex, pk.key_id_hex);
	assert_int_equal(bm_minisign_pubkey_format(&ours, &pk), 0);
	assert_string_equal(ours.ptr, pub.ptr); /* byte for byte what minisign wrote */
	bm_buf_clear(&sig);
	assert_int_equal(bm_minisign_sign_file_with(&sig, sk, testdata("hello.txt"), NULL, NULL), 0);
	assert_int_equal(bm_minisign_verify(&res, sig.ptr, data.ptr, data.size, keys, 1), 0);
	assert_non_null(strstr(res.trusted_comment.ptr, "\tfile:hello.txt\thashed"));

	bm_minisign_seckey_free(sk);
	bm_minisign_result_dispose(&res);
	bm_buf_dispose(&pub);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&data);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&ours);
}

static void b64_line(char *out, size_t outlen, const unsigned char *raw, size_t len)
{
	sodium_bin2base64(out, outlen, raw, len, sodium_base64_VARIANT_ORIGINAL);
}

static void test_malformed(void **state)
{
	bm_buf pub = BM_BUF_INIT, sec = BM_BUF_INIT, sig = BM_BUF_INIT, bad = BM_BUF_INIT;
	bm_minisign_pubkey pk;
	bm_minisign_seckey *sk = NULL;
	unsigned char raw[80];
	char line[200];
	const char *keys[1];
	(void)state;

	assert_int_equal(bm_minisign_pubkey_parse(&pk, ""), BM_EINVALID);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, "untrusted comment: x\n"), BM_EINVALID);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, "RWS$$$notbase64"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "base64"));
	/* 41 bytes instead of 42 */
	memset(raw, 7, sizeof(raw));
	memcpy(raw, "Ed", 2);
	b64_line(line, sizeof(line), raw, 41);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, line), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "41 bytes where 42"));
	/* wrong algorithm */
	memcpy(raw, "Ex", 2);
	b64_line(line, sizeof(line), raw, 42);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, line), BM_EUNSUPPORTED);
	assert_non_null(strstr(bm_error_last(), "Ex"));
	memcpy(raw, "Ed", 2);
	b64_line(line, sizeof(line), raw, 42);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, line), 0);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, "untrusted comment: x\nRWQ\ntrailing"), BM_EINVALID);

	assert_int_equal(bm_minisign_keygen(&pub, &sec, NULL), 0);
	assert_int_equal(bm_minisign_sign(&sig, "m", 1, sec.ptr, NULL, "tc", NULL), 0);
	keys[0] = pub.ptr;

	/* signature: wrong first line, algorithm, length, missing lines */
	assert_int_equal(bm_minisign_verify(NULL, "hello", "m", 1, keys, 1), BM_EINVALID);
	assert_int_equal(bm_minisign_verify(NULL, sig.ptr + 1, "m", 1, keys, 1), BM_EINVALID);
	{
		char *l2 = strchr(sig.ptr, '\n') + 1;
		size_t l2len = (size_t)(strchr(l2, '\n') - l2), got = 0;
		unsigned char s[74];
		assert_int_equal(sodium_base642bin(s, sizeof(s), l2, l2len, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
		s[1] = 'X';
		b64_line(line, sizeof(line), s, 74);
		bm_buf_clear(&bad);
		bm_buf_printf(&bad, "untrusted comment: x\n%s\n%s", line, strchr(l2, '\n') + 1);
		assert_int_equal(bm_minisign_verify(NULL, bad.ptr, "m", 1, keys, 1), BM_EUNSUPPORTED);
		assert_non_null(strstr(bm_error_last(), "algorithm"));
		b64_line(line, sizeof(line), s, 73);
		bm_buf_clear(&bad);
		bm_buf_printf(&bad, "untrusted comment: x\n%s\n%s", line, strchr(l2, '\n') + 1);
		assert_int_equal(bm_minisign_verify(NULL, bad.ptr, "m", 1, keys, 1), BM_EINVALID);
		assert_non_null(strstr(bm_error_last(), "73 bytes"));
		bm_buf_clear(&bad);
		bm_buf_put(&bad, sig.ptr, (size_t)(strchr(l2, '\n') + 1 - sig.ptr));
		assert_int_equal(bm_minisign_verify(NULL, bad.ptr, "m", 1, keys, 1), BM_EINVALID);
		assert_non_null(strstr(bm_error_last(), "trusted comment"));
	}
	/* a broken trusted key is an error even when another would match */
	{
		const char *two[2] = { "garbage", pub.ptr };
		assert_int_equal(bm_minisign_verify(NULL, sig.ptr, "m", 1, two, 2), BM_EINVALID);
		assert_non_null(strstr(bm_error_last(), "trusted key 1"));
	}
	/* CRLF line ends are fine */
	{
		size_t i;
		bm_buf_clear(&bad);
		for (i = 0; i < sig.size; i++) {
			if (sig.ptr[i] == '\n')
				bm_buf_putc(&bad, '\r');
			bm_buf_putc(&bad, sig.ptr[i]);
		}
		assert_int_equal(bm_minisign_verify(NULL, bad.ptr, "m", 1, keys, 1), 0);
	}
	/* secret keys */
	assert_int_equal(bm_minisign_seckey_load(&sk, pub.ptr, NULL), BM_EINVALID);
	assert_null(sk);
	assert_int_equal(bm_minisign_seckey_is_encrypted("nope"), BM_EINVALID);
	{
		/* damage the checksum of an unencrypted key */
		char *l2 = strchr(sec.ptr, '\n') + 1;
		size_t l2len = (size_t)(strchr(l2, '\n') - l2), got = 0;
		unsigned char s[158];
		char line2[260];
		assert_int_equal(sodium_base642bin(s, sizeof(s), l2, l2len, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
		s[130] ^= 1;
		sodium_bin2base64(line2, sizeof(line2), s, 158, sodium_base64_VARIANT_ORIGINAL);
		assert_int_equal(bm_minisign_seckey_load(&sk, line2, NULL), BM_ECORRUPT);
		s[130] ^= 1;
		/* minisign-style zero checksum, damaged public half: caught too */
		memset(s + 126, 0, 32);
		s[100] ^= 1;
		sodium_bin2base64(line2, sizeof(line2), s, 158, sodium_base64_VARIANT_ORIGINAL);
		assert_int_equal(bm_minisign_seckey_load(&sk, line2, NULL), BM_ECORRUPT);
		assert_non_null(strstr(bm_error_last(), "damaged"));
		s[100] ^= 1;
		sodium_bin2base64(line2, sizeof(line2), s, 158, sodium_base64_VARIANT_ORIGINAL);
		assert_int_equal(bm_minisign_seckey_load(&sk, line2, NULL), 0);
		bm_minisign_seckey_free(sk);
		sk = NULL;
		memcpy(s + 2, "Zz", 2);
		sodium_bin2base64(line2, sizeof(line2), s, 158, sodium_base64_VARIANT_ORIGINAL);
		assert_int_equal(bm_minisign_seckey_load(&sk, line2, NULL), BM_EUNSUPPORTED);
		sodium_memzero(s, sizeof(s));
		sodium_memzero(line2, sizeof(line2));
	}

	bm_buf_dispose(&pub);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&bad);
}

static void test_encrypted_key(void **state)
{
	bm_buf pub = BM_BUF_INIT, sec = BM_BUF_INIT, sig = BM_BUF_INIT;
	bm_minisign_seckey *sk = NULL;
	bm_minisign_pubkey pk, from_sk;
	const char *keys[1];
	(void)state;

	assert_int_equal(bm_minisign_keygen_ex(&pub, &sec, "correct horse", TEST_OPS, TEST_MEM), 0);
	assert_int_equal(bm_minisign_seckey_is_encrypted(sec.ptr), 1);
	assert_non_null(strstr(sec.ptr, "encrypted secret key"));

	assert_int_equal(bm_minisign_seckey_load(&sk, sec.ptr, NULL), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "password"));
	assert_int_equal(bm_minisign_seckey_load(&sk, sec.ptr, "wrong horse"), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "wrong password"));
	assert_null(sk);
	assert_int_equal(bm_minisign_seckey_load(&sk, sec.ptr, "correct horse"), 0);
	bm_minisign_seckey_pubkey(&from_sk, sk);
	assert_int_equal(bm_minisign_pubkey_parse(&pk, pub.ptr), 0);
	assert_memory_equal(from_sk.key, pk.key, 32);
	assert_int_equal(bm_minisign_sign_with(&sig, sk, "data", 4, NULL, NULL, 0), 0);
	keys[0] = pub.ptr;
	assert_int_equal(bm_minisign_verify(NULL, sig.ptr, "data", 4, keys, 1), 0);

	bm_minisign_seckey_free(sk);
	bm_buf_dispose(&pub);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&sig);
}

static void test_file_streaming(void **state)
{
	bm_buf pub = BM_BUF_INIT, sec = BM_BUF_INIT, sig = BM_BUF_INIT, content = BM_BUF_INIT;
	char path[] = "/tmp/bm_test_sign_XXXXXX";
	const char *keys[1];
	int fd, i;
	(void)state;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (i = 0; i < 300000; i++)
		bm_buf_putc(&content, (char)(i * 7));
	assert_int_equal(write(fd, content.ptr, content.size), (ssize_t)content.size);
	close(fd);

	assert_int_equal(bm_minisign_keygen(&pub, &sec, NULL), 0);
	keys[0] = pub.ptr;
	assert_int_equal(bm_minisign_sign_file(&sig, path, sec.ptr, NULL, NULL, NULL), 0);
	assert_non_null(strstr(sig.ptr, "\tfile:bm_test_sign_"));
	/* streamed and in-memory hashing agree */
	assert_int_equal(bm_minisign_verify(NULL, sig.ptr, content.ptr, content.size, keys, 1), 0);
	assert_int_equal(bm_minisign_verify_file(NULL, sig.ptr, path, keys, 1), 0);
	content.ptr[123456] ^= 1;
	assert_int_equal(bm_minisign_verify(NULL, sig.ptr, content.ptr, content.size, keys, 1), BM_EVERIFY);
	unlink(path);
	assert_int_equal(bm_minisign_verify_file(NULL, sig.ptr, path, keys, 1), BM_ENOTFOUND);
	assert_int_equal(bm_minisign_sign_file(&sig, path, sec.ptr, NULL, NULL, NULL), BM_ENOTFOUND);

	bm_buf_dispose(&pub);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&content);
}

/* ---- SSH signatures ---- */

static void test_sshsig_real_files(void **state)
{
	bm_buf allowed = BM_BUF_INIT, data = BM_BUF_INIT, sig = BM_BUF_INIT, principal = BM_BUF_INIT, pub = BM_BUF_INIT;
	bm_buf pubfile = BM_BUF_INIT, fp = BM_BUF_INIT;
	bm_sshsig_key *key = NULL;
	(void)state;

	read_data(&allowed, "allowed_signers");
	read_data(&data, "hello.txt");
	read_data(&sig, "hello.txt.sshsig"); /* ssh-keygen -Y sign -n git */
	assert_int_equal(bm_sshsig_verify(sig.ptr, data.ptr, data.size, allowed.ptr, &principal), 0);
	assert_string_equal(principal.ptr, "signer@example.com");
	assert_int_equal(bm_sshsig_verify(sig.ptr, data.ptr, data.size - 1, allowed.ptr, &principal), BM_EVERIFY);
	assert_int_equal(principal.size, 0);
	assert_int_equal(bm_sshsig_verify_ns(sig.ptr, data.ptr, data.size, "file", allowed.ptr, NULL), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "namespace"));
	assert_int_equal(bm_sshsig_verify(sig.ptr, data.ptr, data.size, "# nobody\n", NULL), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "SHA256:"));

	/* our key loader reads ssh-keygen's key; same public key */
	assert_int_equal(bm_sshsig_key_load(&key, testdata("id_ed25519")), 0);
	assert_int_equal(bm_sshsig_key_public(&pub, key), 0);
	read_data(&pubfile, "id_ed25519.pub");
	assert_memory_equal(pubfile.ptr, pub.ptr, pub.size);
	assert_int_equal(bm_sshsig_key_fingerprint(&fp, key), 0);
	assert_memory_equal(fp.ptr, "SHA256:", 7);

	/* Ed25519 is deterministic: our signature is byte for byte ssh-keygen's */
	bm_buf_clear(&principal);
	{
		bm_buf mine = BM_BUF_INIT;
		assert_int_equal(bm_sshsig_sign(&mine, data.ptr, data.size, key, "git"), 0);
		assert_string_equal(mine.ptr, sig.ptr);
		bm_buf_dispose(&mine);
	}

	bm_sshsig_key_free(key);
	bm_buf_dispose(&allowed);
	bm_buf_dispose(&data);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&principal);
	bm_buf_dispose(&pub);
	bm_buf_dispose(&pubfile);
	bm_buf_dispose(&fp);
}

static void test_sshsig_keys_refused(void **state)
{
	bm_sshsig_key *key = NULL;
	(void)state;
	assert_int_equal(bm_sshsig_key_load(&key, testdata("id_encrypted")), BM_EUNSUPPORTED);
	assert_non_null(strstr(bm_error_last(), "encrypted"));
	assert_null(key);
	assert_int_equal(bm_sshsig_key_load(&key, testdata("id_ecdsa")), BM_EUNSUPPORTED);
	assert_non_null(strstr(bm_error_last(), "ssh-ed25519"));
	assert_int_equal(bm_sshsig_key_load(&key, testdata("no-such-key")), BM_ENOTFOUND);
	assert_int_equal(bm_sshsig_key_parse(&key, "hello", 5), BM_EINVALID);
	{
		const char *t = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
		assert_int_equal(bm_sshsig_key_parse(&key, t, strlen(t)), BM_EINVALID);
	}
}

static void test_sshsig_allowed_signers(void **state)
{
	bm_buf data = BM_BUF_INIT, sig = BM_BUF_INIT, principal = BM_BUF_INIT, pub = BM_BUF_INIT, allowed = BM_BUF_INIT;
	bm_sshsig_key *key = NULL;
	(void)state;

	read_data(&data, "hello.txt");
	assert_int_equal(bm_sshsig_key_load(&key, testdata("id_ed25519")), 0);
	assert_int_equal(bm_sshsig_key_public(&pub, key), 0);
	assert_int_equal(bm_sshsig_sign(&sig, data.ptr, data.size, key, "git"), 0);

	bm_buf_printf(&allowed, "# comment\n\nother@x ssh-rsa AAAAB3Nza\n\"a@x,b@x\" namespaces=\"file,git\" %s comment here\n", pub.ptr);
	assert_int_equal(bm_sshsig_verify(sig.ptr, data.ptr, data.size, allowed.ptr, &principal), 0);
	assert_string_equal(principal.ptr, "a@x,b@x");

	bm_buf_clear(&allowed);
	bm_buf_printf(&allowed, "a@x namespaces=\"file\" %s\n", pub.ptr);
	assert_int_equal(bm_sshsig_verify(sig.ptr, data.ptr, data.size, allowed.ptr, NULL), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "namespace"));

	bm_buf_clear(&allowed);
	bm_buf_printf(&allowed, "a@x valid-before=\"20200101\" %s\n", pub.ptr);
	assert_int_equal(bm_sshsig_verify(sig.ptr, data.ptr, data.size, allowed.ptr, NULL), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "valid-before"));

	/* damaged armor */
	sig.ptr[40] = sig.ptr[40] == 'A' ? 'B' : 'A';
	assert_true(bm_sshsig_verify(sig.ptr, data.ptr, data.size, allowed.ptr, NULL) < 0);
	assert_int_equal(bm_sshsig_verify("-----BEGIN SSH SIGNATURE-----\n!!\n-----END SSH SIGNATURE-----\n", "", 0, "", NULL),
			 BM_EINVALID);
	assert_int_equal(bm_sshsig_verify("nothing", "", 0, "", NULL), BM_EINVALID);

	bm_sshsig_key_free(key);
	bm_buf_dispose(&data);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&principal);
	bm_buf_dispose(&pub);
	bm_buf_dispose(&allowed);
}

/* A commit made with libgit2, signed with bm_sshsig_sign_commit, checked by git itself. */
static int run_git_verify(const char *repo, const char *allowed_path, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1], cmd[8192];
	git_oid_tostr(hex, sizeof(hex), oid);
	snprintf(cmd, sizeof(cmd), "git -C '%s' -c gpg.format=ssh -c gpg.ssh.allowedSignersFile='%s' verify-commit %s >/dev/null 2>&1",
		 repo, allowed_path, hex);
	return system(cmd);
}

static void test_signed_commit_git(void **state)
{
	char dir[] = "/tmp/bm_test_sshsig_XXXXXX", allowed_path[4200];
	git_repository *repo = NULL;
	git_treebuilder *tb = NULL;
	git_signature *who = NULL;
	git_oid blob, tree_id, commit_id, bad_id;
	git_tree *tree = NULL;
	git_buf content = GIT_BUF_INIT;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	bm_buf sig = BM_BUF_INIT, allowed = BM_BUF_INIT, principal = BM_BUF_INIT, tampered = BM_BUF_INIT;
	bm_sshsig_key *key = NULL;
	char *msg;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(git_repository_init(&repo, dir, 1), 0);
	assert_int_equal(git_blob_create_from_buffer(&blob, repo, "1\n", 2), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "format", &blob, GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_write(&tree_id, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tree_id), 0);
	assert_int_equal(git_signature_new(&who, "Signer", "signer@example.com", 1700000000, 60), 0);
	assert_int_equal(git_commit_create_buffer(&content, repo, who, who, NULL, "meta: trust key\n\nwhy\n", tree, 0, NULL), 0);

	assert_int_equal(bm_sshsig_key_load(&key, testdata("id_ed25519")), 0);
	assert_int_equal(bm_sshsig_sign_commit(&sig, content.ptr, content.size, key), 0);
	assert_int_not_equal(sig.ptr[sig.size - 1], '\n');
	assert_int_equal(git_commit_create_with_signature(&commit_id, repo, content.ptr, sig.ptr, "gpgsig"), 0);

	snprintf(allowed_path, sizeof(allowed_path), "%s/allowed_signers", dir);
	read_data(&allowed, "allowed_signers");
	assert_int_equal(bm_file_write_atomic(allowed_path, allowed.ptr, allowed.size, 0644), 0);
	assert_int_equal(run_git_verify(dir, allowed_path, &commit_id), 0);

	/* our verifier on the raw object */
	assert_int_equal(git_repository_odb(&odb, repo), 0);
	assert_int_equal(git_odb_read(&obj, odb, &commit_id), 0);
	assert_int_equal(bm_sshsig_verify_commit(git_odb_object_data(obj), git_odb_object_size(obj), allowed.ptr, &principal), 0);
	assert_string_equal(principal.ptr, "signer@example.com");

	/* tampered: same signature on a changed message */
	bm_buf_put(&tampered, content.ptr, content.size);
	msg = strstr(tampered.ptr, "trust key");
	assert_non_null(msg);
	msg[0] = 'T';
	assert_int_equal(git_commit_create_with_signature(&bad_id, repo, tampered.ptr, sig.ptr, "gpgsig"), 0);
	assert_int_not_equal(run_git_verify(dir, allowed_path, &bad_id), 0);
	git_odb_object_free(obj);
	obj = NULL;
	assert_int_equal(git_odb_read(&obj, odb, &bad_id), 0);
	assert_int_equal(bm_sshsig_verify_commit(git_odb_object_data(obj), git_odb_object_size(obj), allowed.ptr, NULL), BM_EVERIFY);

	/* an unsigned commit */
	assert_int_equal(bm_sshsig_verify_commit(content.ptr, content.size, allowed.ptr, NULL), BM_ENOTFOUND);
	/* not an allowed signer */
	assert_int_not_equal(run_git_verify(dir, "/dev/null", &commit_id), 0);

	{
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
	git_odb_object_free(obj);
	git_odb_free(odb);
	git_buf_dispose(&content);
	git_tree_free(tree);
	git_signature_free(who);
	git_treebuilder_free(tb);
	git_repository_free(repo);
	bm_sshsig_key_free(key);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&allowed);
	bm_buf_dispose(&principal);
	bm_buf_dispose(&tampered);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_real_minisign_files),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_encrypted_key),
		cmocka_unit_test(test_file_streaming),
		cmocka_unit_test(test_sshsig_real_files),
		cmocka_unit_test(test_sshsig_keys_refused),
		cmocka_unit_test(test_sshsig_allowed_signers),
		cmocka_unit_test(test_signed_commit_git),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
