/* test_txn.c: the transaction-level write API (the _txn variant of each write op, and
 * bm_txn_set_actor), as a server's group commit uses it: several ops of different kinds in
 * one bm_store_write make one commit; a failing op aborts the whole write; a re-run on a
 * conflict takes fresh sequence numbers and replaces the out values; each op's records name
 * the actor set for it while the commit's author stays the write's actor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmtest.h"

static char C1[] = "1111111111111111111111111111111111111111";
static char C2[] = "2222222222222222222222222222222222222222";
static char C3[] = "3333333333333333333333333333333333333333";
static const char *P = "app/server";
static const char *WRITER = "Writer <writer@example.com>";
static const char *SHA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

BMT_FIXTURES("txn")

/* A repo with project P, releases C1 and C2, and env prod. */
static bm_store *seeded(const char *name)
{
	bm_store *s = bmt_init(name, WRITER);
	bmt_project(s, P, 0);
	bmt_release(s, P, C1);
	bmt_release(s, P, C2);
	bmt_env(s, "prod");
	return s;
}

static const char *const flag_variants[] = { "on=true", "off=false" };

static int edit_flag(bm_flag **next, const bm_flag *current, void *payload)
{
	bm_flag_spec spec = BM_FLAG_SPEC_INIT;
	(void)current;
	spec.project = P;
	spec.env = "prod";
	spec.key = "checkout";
	spec.variants = flag_variants;
	spec.nvariants = 2;
	spec.default_variant = payload ? (const char *)payload : "off";
	return bm_flag_from_spec(next, &spec);
}

/* One batch: what a group commit would run, each op's out kept for the checks. */
typedef struct {
	Bootmeta__V1__ChannelEntry *e1, *e2;
	Bootmeta__V1__Release *rel;
	Bootmeta__V1__Binary *bin;
	bm_config_changes cfg;
	bm_flag_change flag;
	bm_log_entry *log;
	int fail_at;         /* 1..: make op N fail (an unknown release) */
	bm_store *other;     /* set: attempt 1 lets this handle promote stable first */
	const char *actor1, *actor2;
	unsigned int attempts;
	int flag_rc, cfg_rc;
} batch;

static void batch_dispose(batch *b)
{
	bm_meta_free(b->e1);
	bm_meta_free(b->e2);
	bm_meta_free(b->rel);
	bm_meta_free(b->bin);
	bm_config_changes_dispose(&b->cfg);
	bm_flag_change_dispose(&b->flag);
	bm_log_entry_free(b->log);
	memset(b, 0, sizeof(*b));
}

static int batch_fn(bm_txn *txn, void *payload)
{
	batch *b = payload;
	bm_source rs[] = { { "https://git.example.com/app.git", C3, NULL } };
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_binary_options bo = BM_BINARY_OPTIONS_INIT;
	bm_config_assign as[] = { { "REPLICAS", BM_CONFIG_INT64, "3", 0 } };
	bm_log_add_spec ls = BM_LOG_ADD_SPEC_INIT;
	int error;

	b->attempts = bm_txn_attempt(txn);
	if (b->other && bm_txn_attempt(txn) == 1)
		assert_int_equal(bm_channel_promote(NULL, NULL, b->other, P, "stable", C1, NULL), 0);
	if (b->actor1 && (error = bm_txn_set_actor(txn, b->actor1)) < 0)
		return error;
	if ((error = bm_channel_promote_txn(&b->e1, txn, P, "stable", b->fail_at == 1 ? C3 : C1, NULL)) < 0)
		return error;
	/* the same channel again: the entry added above counts */
	if ((error = bm_channel_promote_txn(&b->e2, txn, P, "stable", C2, NULL)) < 0)
		return error;
	ro.sources = rs;
	ro.nsources = 1;
	if ((error = bm_release_add_txn(&b->rel, txn, P, &ro)) < 0)
		return error;
	if (b->actor2 && (error = bm_txn_set_actor(txn, b->actor2)) < 0)
		return error;
	/* a binary of the release added just above, in the same transaction */
	bo.os = "linux";
	bo.arch = "amd64";
	if ((error = bm_binary_add_digest_txn(&b->bin, txn, P, b->fail_at == 4 ? "nope" : C3, SHA, 42, &bo)) < 0)
		return error;
	if ((b->cfg_rc = error = bm_config_write_txn(&b->cfg, txn, P, "prod", as, 1, NULL)) < 0)
		return error;
	if ((b->flag_rc = error = bm_flag_write_txn(&b->flag, txn, P, "prod", "checkout", edit_flag, NULL, NULL)) < 0)
		return error;
	ls.kind = "deploy";
	ls.project = P;
	ls.message = "batch";
	if ((error = bm_log_add_txn(&b->log, txn, &ls)) < 0)
		return error;
	/* the caller names the commit after the ops ran */
	return bm_txn_message(txn, "serve: batch of 7");
}

static int same_again_fn(bm_txn *txn, void *payload)
{
	batch *b = payload;
	bm_config_assign as[] = { { "REPLICAS", BM_CONFIG_INT64, "3", 0 } };
	if ((b->cfg_rc = bm_config_write_txn(&b->cfg, txn, P, "prod", as, 1, NULL)) < 0)
		return b->cfg_rc;
	if ((b->flag_rc = bm_flag_write_txn(&b->flag, txn, P, "prod", "checkout", edit_flag, NULL, NULL)) < 0)
		return b->flag_rc;
	return 0;
}

static void check_parent(bm_store *s, const bm_oid *commit, const bm_oid *parent)
{
	bm_oid p;
	char rev[BM_OID_HEXSZ + 3];
	bm_oid_fmt(rev, commit);
	strcat(rev, "~1");
	assert_int_equal(bm_store_resolve(&p, s, rev), 0);
	assert_true(bm_oid_equal(&p, parent));
}

static void test_one_commit(void **state)
{
	bm_store *s = seeded("one");
	batch b;
	bm_oid before, commit, now;
	bm_commit_info info;
	bm_fs *fs = NULL;
	Bootmeta__V1__ChannelEntry *cur = NULL;
	Bootmeta__V1__Release *rel = NULL;
	Bootmeta__V1__Binary *bin = NULL;
	bm_config *cfg = NULL;
	bm_strlist l = BM_STRLIST_INIT;
	(void)state;

	memset(&b, 0, sizeof(b));
	assert_int_equal(bm_store_tip(&before, s), 0);
	assert_int_equal(bm_store_write(&commit, s, batch_fn, &b, NULL), 0);
	check_parent(s, &commit, &before);
	assert_int_equal(bm_store_commit_info(&info, s, &commit), 0);
	assert_string_equal(info.summary, "serve: batch of 7");
	/* out values */
	assert_non_null(b.e1);
	assert_int_equal(b.e1->seq, 1);
	assert_int_equal(b.e2->seq, 2);
	assert_string_equal(b.e2->previous_release, C1);
	assert_string_equal(b.rel->id, C3);
	assert_string_equal(b.bin->release, C3);
	assert_int_equal(b.cfg_rc, 0);
	assert_int_equal(b.cfg.count, 1);
	assert_int_equal(b.cfg.has_commit, 0);
	assert_int_equal(b.flag_rc, 0);
	assert_non_null(b.flag.after);
	assert_int_equal(b.flag.after->seq, 1);
	assert_string_equal(b.log->message, "batch");
	assert_string_equal(b.log->actor, WRITER);

	/* every record is in that one commit */
	assert_int_equal(bm_store_fs(&fs, s, &commit), 0);
	assert_int_equal(bm_channel_current(&cur, fs, P, "stable"), 0);
	assert_int_equal(cur->seq, 2);
	assert_string_equal(cur->release, C2);
	assert_int_equal(bm_release_get(&rel, fs, P, C3), 0);
	assert_int_equal(bm_binary_get(&bin, fs, SHA), 0);
	assert_int_equal(bin->size, 42);
	assert_int_equal(bm_config_resolve_fs(&cfg, fs, P, "prod"), 0);
	assert_int_equal(cfg->count, 1);
	assert_string_equal(cfg->values[0].key, "REPLICAS");
	assert_int_equal(bm_fs_exists(fs, b.flag.path), 1);
	assert_int_equal(bm_fs_exists(fs, b.log->path), 1);
	/* the path builders name the folders these writes used (serve's If-Match compares them) */
	{
		bm_buf p = BM_BUF_INIT;
		assert_int_equal(bm_path_flag(&p, P, "prod", "checkout"), 0);
		assert_int_equal(strncmp(b.flag.path, p.ptr, p.size), 0);
		assert_int_equal(b.flag.path[p.size], '/');
		assert_int_equal(bm_fs_exists(fs, p.ptr), 2);
		assert_int_equal(bm_path_flag(&p, P, "prod", NULL), 0);
		assert_int_equal(bm_fs_exists(fs, p.ptr), 2);
		assert_int_equal(bm_path_config_key(&p, P, "prod", "REPLICAS"), 0);
		assert_int_equal(bm_fs_exists(fs, p.ptr), 2);
		assert_int_equal(bm_path_config_key(&p, P, "prod", NULL), 0);
		assert_int_equal(bm_fs_exists(fs, p.ptr), 2);
		assert_int_equal(bm_path_flag(&p, P, "prod", "no key"), BM_EINVALID);
		assert_int_equal(bm_path_config_key(&p, P, "../prod", NULL), BM_EINVALID);
		assert_int_equal(bm_path_config_key(&p, "..", "prod", "REPLICAS"), BM_EINVALID);
		bm_buf_dispose(&p);
	}

	/* the same config and flag again: 1, nothing added, no commit */
	bm_meta_free(cur);
	batch_dispose(&b);
	assert_int_equal(bm_store_write(&now, s, same_again_fn, &b, NULL), 0);
	assert_int_equal(b.cfg_rc, 1);
	assert_int_equal(b.cfg.items[0].unchanged, 1);
	assert_int_equal(b.flag_rc, 1);
	assert_int_equal(b.flag.unchanged, 1);
	assert_true(bm_oid_equal(&now, &commit));
	batch_dispose(&b);

	bm_strlist_dispose(&l);
	bm_config_free(cfg);
	bm_meta_free(bin);
	bm_meta_free(rel);
	bm_fs_free(fs);
	bm_store_free(s);
}

/* A failing op: the txn fn returns its error and nothing of the batch is committed. */
static void test_failure_leaves_nothing(void **state)
{
	bm_store *s = seeded("fail");
	batch b;
	bm_oid before, now;
	bm_fs *fs = NULL;
	uint64_t seq = 99;
	int i;
	static const int fails[] = { 1, 4 };
	(void)state;

	assert_int_equal(bm_store_tip(&before, s), 0);
	for (i = 0; i < 2; i++) {
		memset(&b, 0, sizeof(b));
		b.fail_at = fails[i];
		assert_int_equal(bm_store_write(NULL, s, batch_fn, &b, NULL), BM_ENOTFOUND);
		assert_non_null(strstr(bm_error_last(), "no release"));
		assert_int_equal(bm_store_tip(&now, s), 0);
		assert_true(bm_oid_equal(&now, &before));
		batch_dispose(&b);
	}
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_channel_last_seq(&seq, fs, P, "stable"), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(bm_fs_exists(fs, "binaries"), 0);
	bm_fs_free(fs);
	bm_store_free(s);
}

/* Another writer moves main during attempt 1: the re-run takes the next seqs and the out
 * values of attempt 1 are replaced (LSan sees a leak if they are not freed). */
static void test_rerun_on_conflict(void **state)
{
	bm_store *s = seeded("conflict"), *s2 = bmt_open("conflict", WRITER);
	batch b;
	bm_oid commit;
	bm_fs *fs = NULL;
	bm_strlist names = BM_STRLIST_INIT;
	(void)state;

	memset(&b, 0, sizeof(b));
	b.other = s2;
	assert_int_equal(bm_store_write(&commit, s, batch_fn, &b, NULL), 0);
	assert_int_equal(b.attempts, 2);
	assert_int_equal(b.e1->seq, 2);
	assert_int_equal(b.e2->seq, 3);
	assert_string_equal(b.e1->previous_release, C1);
	assert_int_equal(bm_store_fs(&fs, s, &commit), 0);
	assert_int_equal(bm_fs_list(&names, fs, "projects/app/server/channels/stable/0000000"), 0);
	assert_int_equal(names.count, 3);
	assert_string_equal(names.items[2], "0000000003.pb");
	bm_strlist_dispose(&names);
	bm_fs_free(fs);
	batch_dispose(&b);
	bm_store_free(s2);
	bm_store_free(s);
}

static void test_set_actor(void **state)
{
	bm_store *s = seeded("actor");
	batch b;
	bm_oid commit;
	bm_commit_info info;
	const char *name;
	(void)state;

	memset(&b, 0, sizeof(b));
	b.actor1 = "Alice <alice@example.com>";
	b.actor2 = "bob";
	assert_int_equal(bm_store_write(&commit, s, batch_fn, &b, NULL), 0);
	assert_string_equal(b.e1->actor, "Alice <alice@example.com>");
	assert_string_equal(b.e2->actor, "Alice <alice@example.com>");
	assert_string_equal(b.rel->actor, "Alice <alice@example.com>");
	assert_string_equal(b.bin->actor, "bob");
	assert_string_equal(b.cfg.items[0].after.actor, "bob");
	assert_string_equal(b.flag.after->actor, "bob");
	assert_string_equal(b.log->actor, "bob");
	/* the commit's author is the write's actor */
	assert_int_equal(bm_store_commit_info(&info, s, &commit), 0);
	assert_string_equal(info.author, WRITER);
	batch_dispose(&b);

	/* an actor a write would refuse is refused, about the actor; nothing is committed */
	memset(&b, 0, sizeof(b));
	b.actor1 = "Eve\nparent 0";
	assert_int_equal(bm_store_write(NULL, s, batch_fn, &b, NULL), BM_EINVALID);
	assert_int_equal(bm_error_last_about(&name), BM_ABOUT_ACTOR);
	batch_dispose(&b);
	bm_store_free(s);
}

static int actor_reset_fn(bm_txn *txn, void *payload)
{
	Bootmeta__V1__ChannelEntry **e = payload;
	int error;
	if ((error = bm_txn_set_actor(txn, "Alice <alice@example.com>")) < 0)
		return error;
	assert_string_equal(bm_txn_actor(txn), "Alice <alice@example.com>");
	/* a refused actor leaves the one set */
	assert_int_equal(bm_txn_set_actor(txn, "<<bad>>"), BM_EINVALID);
	assert_string_equal(bm_txn_actor(txn), "Alice <alice@example.com>");
	if ((error = bm_txn_set_actor(txn, NULL)) < 0)
		return error;
	assert_string_equal(bm_txn_actor(txn), WRITER);
	return bm_channel_promote_txn(e, txn, P, "beta", C1, NULL);
}

static void test_set_actor_reset(void **state)
{
	bm_store *s = seeded("reset");
	Bootmeta__V1__ChannelEntry *e = NULL;
	bm_oid commit;
	bm_commit_info info;
	(void)state;

	assert_int_equal(bm_store_write(&commit, s, actor_reset_fn, &e, NULL), 0);
	assert_string_equal(e->actor, WRITER);
	/* no message set by anyone: the store's default, not an op's */
	assert_int_equal(bm_store_commit_info(&info, s, &commit), 0);
	assert_string_equal(info.summary, "bootmeta write");
	bm_meta_free(e);
	bm_store_free(s);
}

/* bm_release_add_txn takes sources as URL and commit only. */
static int dir_source_fn(bm_txn *txn, void *payload)
{
	bm_source rs[] = { { NULL, NULL, "." } };
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	(void)payload;
	ro.sources = rs;
	ro.nsources = 1;
	return bm_release_add_txn(NULL, txn, P, &ro);
}

/* A signed binary in a transaction: the signature is checked against the keys/signers the
 * transaction sees, and an untrusted key is refused with nothing written. */
typedef struct {
	const char *file;
	const bm_minisign_seckey *sk;
	Bootmeta__V1__Binary *bin;
} signed_ctx;

static int signed_fn(bm_txn *txn, void *payload)
{
	signed_ctx *c = payload;
	bm_binary_options bo = BM_BINARY_OPTIONS_INIT;
	bo.sign_key = c->sk;
	return bm_binary_add_txn(&c->bin, txn, P, C1, c->file, &bo);
}

typedef struct {
	bm_buf pub;
	bm_minisign_pubkey pk;
} pubkey;

static int trust_fn(bm_txn *txn, void *payload)
{
	pubkey *k = payload;
	char p[64];
	snprintf(p, sizeof(p), "keys/signers/%s.pub", k->pk.key_id_hex);
	return bm_txn_add(txn, p, k->pub.ptr, k->pub.size);
}

static void test_release_dir_and_signed_binary(void **state)
{
	bm_store *s = seeded("signed");
	bm_oid before, now;
	bm_buf sec = BM_BUF_INIT;
	pubkey k;
	bm_minisign_seckey *sk = NULL;
	signed_ctx c;
	char file[512];
	FILE *f;
	(void)state;

	assert_int_equal(bm_store_tip(&before, s), 0);
	assert_int_equal(bm_store_write(NULL, s, dir_source_fn, NULL, NULL), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "checkout folder"));
	assert_int_equal(bm_store_tip(&now, s), 0);
	assert_true(bm_oid_equal(&now, &before));

	snprintf(file, sizeof(file), "%s/artifact", bmt_dir);
	assert_non_null(f = fopen(file, "w"));
	fputs("binary bytes\n", f);
	fclose(f);
	memset(&k, 0, sizeof(k));
	assert_int_equal(bm_minisign_keygen(&k.pub, &sec, NULL), 0);
	assert_int_equal(bm_minisign_pubkey_parse(&k.pk, k.pub.ptr), 0);
	assert_int_equal(bm_minisign_seckey_load(&sk, sec.ptr, NULL), 0);
	c.file = file;
	c.sk = sk;
	c.bin = NULL;
	/* not trusted yet */
	assert_int_equal(bm_store_write(NULL, s, signed_fn, &c, NULL), BM_ENOTFOUND);
	assert_int_equal(bm_store_tip(&now, s), 0);
	assert_true(bm_oid_equal(&now, &before));
	assert_null(c.bin);
	/* trusted: signed and recorded */
	assert_int_equal(bm_store_write(NULL, s, trust_fn, &k, NULL), 0);
	assert_int_equal(bm_store_write(NULL, s, signed_fn, &c, NULL), 0);
	assert_non_null(c.bin);
	assert_string_equal(c.bin->signer_key_id, k.pk.key_id_hex);
	assert_non_null(strstr(c.bin->signature, "trusted comment: "));
	bm_meta_free(c.bin);
	bm_minisign_seckey_free(sk);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&k.pub);
	bm_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_commit),
		cmocka_unit_test(test_failure_leaves_nothing),
		cmocka_unit_test(test_rerun_on_conflict),
		cmocka_unit_test(test_set_actor),
		cmocka_unit_test(test_set_actor_reset),
		cmocka_unit_test(test_release_dir_and_signed_binary),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
