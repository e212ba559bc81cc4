/* test_trust.c: signed binaries: trusted keys (repo and pinned), the trusted comment and its
 * check, verification of a file against its record, and the writes that add signatures
 * (each refusal with its code, a message naming the problem, and main unmoved). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include "bootmeta.h"

static char tmpdir[256];
static const char *P = "app/server";
static char C1[] = "1111111111111111111111111111111111111111";

/* A key pair: the public key file text, the loaded secret key. */
typedef struct {
	bm_buf pub;
	bm_minisign_pubkey pk;
	bm_minisign_seckey *sk;
} key;

static void key_make(key *k)
{
	bm_buf sec = BM_BUF_INIT;
	memset(k, 0, sizeof(*k));
	assert_int_equal(bm_minisign_keygen(&k->pub, &sec, NULL), 0);
	assert_int_equal(bm_minisign_pubkey_parse(&k->pk, k->pub.ptr), 0);
	assert_int_equal(bm_minisign_seckey_load(&k->sk, sec.ptr, NULL), 0);
	bm_buf_dispose_secret(&sec);
}

static void key_free(key *k)
{
	bm_buf_dispose(&k->pub);
	bm_minisign_seckey_free(k->sk);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bm-test-trust-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	setenv("BOOTMETA_ACTOR", "Test <test@example.com>", 1);
	unsetenv("BOOTMETA_TRUSTED_KEYS");
	setenv("XDG_CONFIG_HOME", tmpdir, 1); /* no pinned file unless a test writes one */
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

static void write_file(const char *path, const char *text, unsigned int mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_keys_text(void **state)
{
	key a, b;
	bm_trusted_keys k = BM_TRUSTED_KEYS_INIT;
	bm_buf text = BM_BUF_INIT;
	const char *line;
	(void)state;
	key_make(&a);
	key_make(&b);

	/* .pub files concatenated, comments and blank lines, the same key twice */
	bm_buf_printf(&text, "# ours\n%s\n%s%s", a.pub.ptr, b.pub.ptr, a.pub.ptr);
	assert_int_equal(bm_trusted_keys_add_text(&k, text.ptr, "keys"), 0);
	assert_int_equal(k.count, 2);
	assert_non_null(bm_trusted_keys_find(&k, a.pk.key_id_hex));
	assert_non_null(bm_trusted_keys_find(&k, b.pk.key_id_hex));
	assert_null(bm_trusted_keys_find(&k, "0000000000000000"));
	bm_trusted_keys_dispose(&k);

	/* bare base64 lines */
	line = strchr(a.pub.ptr, '\n') + 1;
	assert_int_equal(bm_trusted_keys_add_text(&k, line, "keys"), 0);
	assert_int_equal(k.count, 1);
	bm_trusted_keys_dispose(&k);

	assert_int_equal(bm_trusted_keys_add_text(&k, "# nothing\n\n", "keys"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "no minisign public key"));
	bm_buf_clear(&text);
	bm_buf_printf(&text, "%s\nnot a key\n", line);
	assert_int_equal(bm_trusted_keys_add_text(&k, text.ptr, "keys"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "keys line 3"));
	bm_trusted_keys_dispose(&k);

	bm_buf_dispose(&text);
	key_free(&a);
	key_free(&b);
}

static void test_keys_file(void **state)
{
	key a;
	bm_trusted_keys k = BM_TRUSTED_KEYS_INIT;
	bm_buf def = BM_BUF_INIT;
	char path[512], dir[512];
	(void)state;
	key_make(&a);
	snprintf(path, sizeof(path), "%s/pinned", tmpdir);
	write_file(path, a.pub.ptr, 0644);
	assert_int_equal(bm_trusted_keys_add_file(&k, path), 0);
	assert_true(k.pinned);
	assert_int_equal(k.count, 1);
	bm_trusted_keys_dispose(&k);

	chmod(path, 0666);
	assert_int_equal(bm_trusted_keys_add_file(&k, path), BM_EPERM);
	assert_non_null(strstr(bm_error_last(), "written by others"));
	bm_trusted_keys_dispose(&k);
	assert_int_equal(bm_trusted_keys_add_file(&k, "/nonexistent/keys"), BM_ENOTFOUND);
	bm_trusted_keys_dispose(&k);

	/* no default pinned file in the library: neither $BOOTMETA_TRUSTED_KEYS nor a file in
	 * the config folder steers it; with no files it takes the view's keys/signers (the CLI
	 * picks the pinned file, cli_env.c) */
	{
		bm_fs *fs = NULL;
		snprintf(dir, sizeof(dir), "%s/bootmeta", tmpdir);
		mkdir(dir, 0700);
		snprintf(path, sizeof(path), "%s/bootmeta/trusted_keys", tmpdir);
		write_file(path, a.pub.ptr, 0600);
		setenv("BOOTMETA_TRUSTED_KEYS", path, 1);
		assert_int_equal(bm_fs_mem(&fs), 0);
		assert_int_equal(bm_trusted_keys_load(&k, fs, NULL, 0), 0);
		assert_int_equal(k.pinned, 0);
		assert_int_equal(k.count, 0);
		bm_trusted_keys_dispose(&k);
		bm_fs_free(fs);
		unsetenv("BOOTMETA_TRUSTED_KEYS");
		remove(path);
	}

	bm_buf_dispose(&def);
	key_free(&a);
}

static void test_comment(void **state)
{
	Bootmeta__V1__Binary b = BOOTMETA__V1__BINARY__INIT;
	char sha[] = "abababababababababababababababababababababababababababababababab";
	bm_buf tc = BM_BUF_INIT, p = BM_BUF_INIT;
	(void)state;
	b.project = (char *)P;
	b.release = C1;
	b.sha256 = sha;
	b.size = 42;
	assert_int_equal(bm_binary_trusted_comment(&tc, P, C1, sha, 42, 1700000000), 0);
	assert_string_equal(tc.ptr, "timestamp:1700000000\tproject:app/server\trelease:1111111111111111111111111111111111111111"
				    "\tsha256:abababababababababababababababababababababababababababababababab\tsize:42");
	assert_int_equal(bm_binary_comment_check(tc.ptr, &b), 0);
	assert_int_equal(bm_binary_comment_check("timestamp:1\tfile:server\thashed", &b), 0); /* minisign's */
	b.size = 43;
	assert_int_equal(bm_binary_comment_check(tc.ptr, &b), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "size:42"));
	b.size = 42;
	b.project = (char *)"app/other";
	assert_int_equal(bm_binary_comment_check(tc.ptr, &b), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "another binary"));
	b.project = (char *)"app/serverx"; /* no prefix match */
	assert_int_equal(bm_binary_comment_check(tc.ptr, &b), BM_EVERIFY);

	assert_int_equal(bm_path_binary_signature(&p, sha, "9B47A03D73E157A9"), 0);
	assert_string_equal(p.ptr, "binaries/ab/abababababababababababababababababababababababababababababababab.sig/"
				   "9B47A03D73E157A9.pb");
	assert_string_equal(bm_record_type_for_path(p.ptr)->short_name, "BinarySignature");
	bm_buf_clear(&p);
	assert_int_equal(bm_path_binary_signature(&p, sha, "9b47a03d73e157a9"), BM_EINVALID);
	assert_int_equal(bm_path_binary_signature(&p, sha, "../x"), BM_EINVALID);
	bm_buf_dispose(&p);
	bm_buf_dispose(&tc);
}

/* A memory view with `keys` trusted and binary `file` recorded with `sig` in its record. */
static bm_fs *view(const char *file, const char *sig, key *const *keys, size_t nkeys, char sha[65])
{
	Bootmeta__V1__Binary b = BOOTMETA__V1__BINARY__INIT;
	bm_buf p = BM_BUF_INIT, packed = BM_BUF_INIT;
	bm_fs *fs = NULL;
	uint64_t size;
	size_t i;
	assert_int_equal(bm_fs_mem(&fs), 0);
	for (i = 0; i < nkeys; i++) {
		bm_buf_clear(&p);
		bm_buf_printf(&p, "keys/signers/%s.pub", keys[i]->pk.key_id_hex);
		assert_int_equal(bm_fs_mem_put(fs, p.ptr, keys[i]->pub.ptr, keys[i]->pub.size), 0);
	}
	assert_int_equal(bm_file_sha256(sha, &size, file), 0);
	b.sha256 = sha;
	b.size = size;
	b.project = (char *)P;
	b.release = C1;
	b.os = (char *)"linux";
	b.arch = (char *)"amd64";
	b.signature = (char *)(sig ? sig : "");
	assert_int_equal(bm_record_encode(&packed, &b.base), 0);
	bm_buf_clear(&p);
	assert_int_equal(bm_path_binary(&p, sha), 0);
	assert_int_equal(bm_fs_mem_put(fs, p.ptr, packed.ptr, packed.size), 0);
	bm_buf_dispose(&p);
	bm_buf_dispose(&packed);
	return fs;
}

static void test_verify(void **state)
{
	key a, b;
	key *both[2], *only_b[1];
	char file[512], other[512], sha[65];
	bm_buf sig = BM_BUF_INIT, tc = BM_BUF_INIT;
	bm_binary_check c = BM_BINARY_CHECK_INIT;
	bm_binary_verify_options vo = BM_BINARY_VERIFY_OPTIONS_INIT;
	bm_trusted_keys pinned = BM_TRUSTED_KEYS_INIT;
	bm_fs *fs;
	uint64_t size;
	(void)state;
	key_make(&a);
	key_make(&b);
	both[0] = &a;
	both[1] = &b;
	only_b[0] = &b;
	snprintf(file, sizeof(file), "%s/app", tmpdir);
	snprintf(other, sizeof(other), "%s/other", tmpdir);
	write_file(file, "the binary\n", 0644);
	write_file(other, "the binary!\n", 0644);
	assert_int_equal(bm_file_sha256(sha, &size, file), 0);
	assert_int_equal(bm_binary_trusted_comment(&tc, P, C1, sha, size, time(NULL)), 0);
	assert_int_equal(bm_minisign_sign_file_with(&sig, a.sk, file, tc.ptr, NULL), 0);

	/* signed by a trusted key: verified */
	fs = view(file, sig.ptr, both, 2, sha);
	if (bm_binary_verify(&c, fs, file, NULL) != 0)
		fail_msg("%s", bm_error_last());
	assert_int_equal(c.nverified, 1);
	assert_int_equal(c.sigs.items[0].status, BM_SIG_VERIFIED);
	assert_string_equal(c.sigs.items[0].key_id, a.pk.key_id_hex);
	assert_false(c.keys.pinned);
	bm_binary_check_dispose(&c);
	/* another file: not recorded; expected digest given: changed */
	assert_int_equal(bm_binary_verify(&c, fs, other, NULL), BM_ENOTFOUND);
	bm_binary_check_dispose(&c);
	vo.sha256 = sha;
	assert_int_equal(bm_binary_verify(&c, fs, other, &vo), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "the file was changed"));
	bm_binary_check_dispose(&c);
	vo.sha256 = NULL;
	vo.project = "app/other";
	assert_int_equal(bm_binary_verify(&c, fs, file, &vo), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "not of app/other"));
	bm_binary_check_dispose(&c);
	vo.project = NULL;
	/* pinned keys without a: refused although the repo trusts it */
	assert_int_equal(bm_trusted_keys_add_text(&pinned, b.pub.ptr, "pinned"), 0);
	pinned.pinned = 1;
	vo.keys = &pinned;
	assert_int_equal(bm_binary_verify(&c, fs, file, &vo), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "do not trust"));
	assert_int_equal(c.sigs.items[0].status, BM_SIG_UNTRUSTED_KEY);
	bm_binary_check_dispose(&c);
	vo.keys = NULL;
	bm_fs_free(fs);

	/* the repo does not trust a */
	fs = view(file, sig.ptr, only_b, 1, sha);
	assert_int_equal(bm_binary_verify(&c, fs, file, NULL), BM_EVERIFY);
	bm_binary_check_dispose(&c);
	bm_fs_free(fs);

	/* unsigned */
	fs = view(file, NULL, both, 2, sha);
	assert_int_equal(bm_binary_verify(&c, fs, file, NULL), BM_EVERIFY);
	assert_non_null(strstr(bm_error_last(), "is not signed"));
	bm_binary_check_dispose(&c);
	bm_fs_free(fs);

	/* a signature of another file, by a trusted key: bad */
	bm_buf_clear(&sig);
	assert_int_equal(bm_minisign_sign_file_with(&sig, a.sk, other, NULL, NULL), 0);
	fs = view(file, sig.ptr, both, 2, sha);
	assert_int_equal(bm_binary_verify(&c, fs, file, NULL), BM_EVERIFY);
	assert_int_equal(c.sigs.items[0].status, BM_SIG_BAD);
	bm_binary_check_dispose(&c);
	bm_fs_free(fs);

	/* verifies over the file, but the comment names another release: mismatch */
	bm_buf_clear(&sig);
	bm_buf_clear(&tc);
	assert_int_equal(bm_binary_trusted_comment(&tc, P, "other-release", sha, size, time(NULL)), 0);
	assert_int_equal(bm_minisign_sign_file_with(&sig, a.sk, file, tc.ptr, NULL), 0);
	fs = view(file, sig.ptr, both, 2, sha);
	assert_int_equal(bm_binary_verify(&c, fs, file, NULL), BM_EVERIFY);
	assert_int_equal(c.sigs.items[0].status, BM_SIG_MISMATCH);
	bm_binary_check_dispose(&c);
	bm_fs_free(fs);

	/* garbage in the signature field */
	fs = view(file, "not a minisig", both, 2, sha);
	assert_int_equal(bm_binary_verify(&c, fs, file, NULL), BM_EVERIFY);
	assert_int_equal(c.sigs.items[0].status, BM_SIG_MALFORMED);
	bm_binary_check_dispose(&c);
	bm_fs_free(fs);

	bm_trusted_keys_dispose(&pinned);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&tc);
	key_free(&a);
	key_free(&b);
}

/* ---- writes ---- */

static int trust_txn(bm_txn *txn, void *payload)
{
	key *k = payload;
	char p[64];
	snprintf(p, sizeof(p), "keys/signers/%s.pub", k->pk.key_id_hex);
	return bm_txn_add(txn, p, k->pub.ptr, k->pub.size);
}

#define assert_refused(rc, code, needle, store, before)                                 \
	do {                                                                            \
		bm_oid now_;                                                            \
		int rc_ = (rc);                                                         \
		if (rc_ != (code) || !strstr(bm_error_last(), needle))                  \
			fail_msg("got %d \"%s\", want %d with \"%s\"", rc_, bm_error_last(), \
				 (code), needle);                                       \
		assert_int_equal(bm_store_tip(&now_, store), 0);                        \
		assert_true(bm_oid_equal(&now_, before));                               \
	} while (0)

static void test_writes(void **state)
{
	key a, b;
	bm_store *s = NULL;
	bm_project_options po = BM_PROJECT_OPTIONS_INIT;
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_binary_options bo = BM_BINARY_OPTIONS_INIT;
	bm_binary_sign_options so = BM_BINARY_SIGN_OPTIONS_INIT;
	bm_source src = { "https://git.example.com/app.git", C1, NULL };
	Bootmeta__V1__Binary *rec = NULL;
	Bootmeta__V1__BinarySignature *srec = NULL;
	bm_binary_check c = BM_BINARY_CHECK_INIT;
	bm_binary_sigs sigs = BM_BINARY_SIGS_INIT;
	bm_fs *fs = NULL;
	bm_oid before;
	char repo[512], f1[512], f2[512];
	(void)state;
	key_make(&a);
	key_make(&b);
	snprintf(repo, sizeof(repo), "%s/repo", tmpdir);
	snprintf(f1, sizeof(f1), "%s/f1", tmpdir);
	snprintf(f2, sizeof(f2), "%s/f2", tmpdir);
	write_file(f1, "one\n", 0644);
	write_file(f2, "two\n", 0644);
	assert_int_equal(bm_store_init(&s, repo), 0);
	assert_int_equal(bm_project_add(NULL, NULL, s, P, &po), 0);
	ro.sources = &src;
	ro.nsources = 1;
	assert_int_equal(bm_release_add(NULL, NULL, s, P, &ro), 0);

	/* a key the repo does not trust: nothing written */
	bo.os = "linux";
	bo.arch = "amd64";
	bo.sign_key = a.sk;
	assert_int_equal(bm_store_tip(&before, s), 0);
	assert_refused(bm_binary_add(NULL, NULL, s, P, C1, f1, &bo), BM_ENOTFOUND, "which the meta repo does not trust", s,
		       &before);
	assert_int_equal(bm_error_last_about(NULL), BM_ABOUT_SIGNER);
	assert_refused(bm_binary_add_digest(NULL, NULL, s, P, C1,
					    "abababababababababababababababababababababababababababababababab", 1, &bo),
		       BM_EINVALID, "needs the file", s, &before);

	/* trusted: signed in the same commit */
	assert_int_equal(bm_store_write(NULL, s, trust_txn, &a, NULL), 0);
	assert_int_equal(bm_store_write(NULL, s, trust_txn, &b, NULL), 0);
	assert_int_equal(bm_binary_add(&rec, NULL, s, P, C1, f1, &bo), 0);
	assert_string_equal(rec->signer_key_id, a.pk.key_id_hex);
	assert_non_null(strstr(rec->signature, "trusted comment: timestamp:"));
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_binary_verify(&c, fs, f1, NULL), 0);
	bm_binary_check_dispose(&c);
	bm_fs_free(fs);

	/* bm_binary_sign: another key adds a record; the same key again is refused */
	so.key = b.sk;
	assert_int_equal(bm_binary_sign(&srec, NULL, s, f1, &so), 0);
	assert_string_equal(srec->signer_key_id, b.pk.key_id_hex);
	assert_string_equal(srec->sha256, rec->sha256);
	assert_int_equal(bm_store_tip(&before, s), 0);
	assert_refused(bm_binary_sign(NULL, NULL, s, f1, &so), BM_EEXISTS, "already signed", s, &before);
	so.key = a.sk;
	assert_refused(bm_binary_sign(NULL, NULL, s, f1, &so), BM_EEXISTS, "in its record", s, &before);
	assert_refused(bm_binary_sign(NULL, NULL, s, f2, &so), BM_ENOTFOUND, "not a recorded binary", s, &before);
	so.signature = "untrusted comment: x\n";
	assert_refused(bm_binary_sign(NULL, NULL, s, f1, &so), BM_EINVALID, "either", s, &before);

	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_binary_signatures(&sigs, fs, rec, NULL), 0);
	assert_int_equal(sigs.count, 2);
	assert_int_equal(sigs.items[0].status, BM_SIG_LISTED);
	assert_string_equal(sigs.items[1].key_id, b.pk.key_id_hex);
	assert_non_null(strstr(sigs.items[1].path, ".sig/"));
	assert_int_equal(bm_binary_verify(&c, fs, f1, NULL), 0);
	assert_int_equal(c.nverified, 2);
	bm_binary_check_dispose(&c);
	bm_binary_sigs_dispose(&sigs);
	bm_fs_free(fs);

	bm_meta_free(srec);
	bm_meta_free(rec);
	bm_store_free(s);
	key_free(&a);
	key_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_text),
		cmocka_unit_test(test_keys_file),
		cmocka_unit_test(test_comment),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_writes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
