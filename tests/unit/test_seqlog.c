/* test_seqlog.c: the check every append to a sequence log runs (lib/seqlog.c), on memory
 * views: a channel log across bucket boundaries, flat logs, secrets' folders, and each kind
 * of damage named by path; the walk of a bucketed log; the same checks on a git tree and in
 * a transaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bootmeta.h"
#include "seqlog.h"
#include "bootmeta/v1/core.pb-c.h"
#include "bootmeta/v1/secret.pb-c.h"

#define CH "projects/p/channels/c"

static void put_entry(bm_fs *fs, const char *path, uint64_t seq)
{
	Bootmeta__V1__ChannelEntry e = BOOTMETA__V1__CHANNEL_ENTRY__INIT;
	bm_buf b = BM_BUF_INIT;
	e.seq = seq;
	e.project = (char *)"p";
	e.channel = (char *)"c";
	e.release = (char *)"r";
	assert_int_equal(bm_record_encode(&b, &e.base), 0);
	assert_int_equal(bm_fs_mem_put(fs, path, b.ptr, b.size), 0);
	bm_buf_dispose(&b);
}

static void put_seq(bm_fs *fs, uint64_t seq)
{
	char path[128];
	snprintf(path, sizeof(path), CH "/%07llu/%010llu.pb", (unsigned long long)(seq / 1000), (unsigned long long)seq);
	put_entry(fs, path, seq);
}

static bm_fs *channel(uint64_t n, uint64_t skip)
{
	bm_fs *fs = NULL;
	uint64_t i;
	assert_int_equal(bm_fs_mem(&fs), 0);
	for (i = 1; i <= n; i++)
		if (i != skip)
			put_seq(fs, i);
	return fs;
}

static void refused(int rc, const char *needle)
{
	assert_int_equal(rc, BM_ECORRUPT);
	if (!strstr(bm_error_last(), needle))
		fail_msg("error \"%s\" does not say \"%s\"", bm_error_last(), needle);
}

static void test_channel_buckets(void **state)
{
	bm__log_tail t = BM__LOG_TAIL_INIT;
	uint64_t n;
	bm_fs *fs;
	(void)state;

	fs = channel(2500, 0);
	assert_int_equal(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED), 0);
	assert_int_equal(t.last, 2500);
	assert_string_equal(t.path.ptr, CH "/0000002/0000002500.pb");
	assert_non_null(t.record);
	assert_int_equal(bm__log_check_all(&n, fs, CH, BM__LOG_BUCKETED), 0);
	assert_int_equal(n, 2500);
	bm__log_tail_dispose(&t);
	bm_fs_free(fs);

	/* the last entry of bucket 0 is 999, bucket 1 starts at 1000 */
	fs = channel(1000, 0);
	assert_int_equal(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED), 0);
	assert_int_equal(t.last, 1000);
	bm__log_tail_dispose(&t);
	bm_fs_free(fs);

	/* the tail of the bucket before the newest: seen by the append check */
	fs = channel(1500, 999);
	refused(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
		CH "/0000000/0000000999.pb is missing");
	refused(bm__log_check_all(&n, fs, CH, BM__LOG_BUCKETED), CH "/0000000/0000000999.pb is missing");
	bm_fs_free(fs);

	/* inside an older bucket: the append check stays O(bucket); doctor sees it */
	fs = channel(2500, 1500);
	assert_int_equal(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED), 0);
	bm__log_tail_dispose(&t);
	refused(bm__log_check_all(&n, fs, CH, BM__LOG_BUCKETED), CH "/0000001/0000001500.pb is missing");
	bm_fs_free(fs);

	/* a gap in the newest bucket, a missing bucket, an entry in the wrong bucket */
	fs = channel(20, 7);
	refused(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
		CH "/0000000/0000000007.pb is missing");
	bm_fs_free(fs);
	fs = channel(5, 0);
	put_entry(fs, CH "/0000002/0000002000.pb", 2000);
	refused(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
		CH "/0000001/ is missing");
	bm_fs_free(fs);
	fs = channel(5, 0);
	put_entry(fs, CH "/0000000/0000001000.pb", 1000);
	refused(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
		"0000001000.pb is outside the range");
	bm_fs_free(fs);

	/* a stray file, a stray folder, an entry that says another seq, garbage */
	fs = channel(3, 0);
	assert_int_equal(bm_fs_mem_put(fs, CH "/0000000/README", "x", 1), 0);
	refused(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
		CH "/0000000/README is not an entry");
	bm_fs_free(fs);
	fs = channel(3, 0);
	put_entry(fs, CH "/old/0000000001.pb", 1);
	refused(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
		CH "/old/ is not a bucket");
	bm_fs_free(fs);
	fs = channel(3, 0);
	put_entry(fs, CH "/0000000/0000000004.pb", 2);
	refused(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
		CH "/0000000/0000000004.pb holds entry 2, not entry 4");
	bm_fs_free(fs);
	fs = channel(3, 0);
	assert_int_equal(bm_fs_mem_put(fs, CH "/0000000/0000000004.pb", "\377\377\377", 3), 0);
	refused(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
		CH "/0000000/0000000004.pb, does not decode");
	assert_int_equal(t.last, 0);
	assert_null(t.record);
	bm_fs_free(fs);

	/* no log yet */
	assert_int_equal(bm_fs_mem(&fs), 0);
	assert_int_equal(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED), 0);
	assert_int_equal(t.last, 0);
	assert_null(t.record);
	bm_fs_free(fs);
}

static void put_version(bm_fs *fs, const char *dir, uint64_t seq, int with_age)
{
	Bootmeta__V1__SecretVersion v = BOOTMETA__V1__SECRET_VERSION__INIT;
	bm_buf b = BM_BUF_INIT;
	char path[256];
	v.seq = seq;
	assert_int_equal(bm_record_encode(&b, &v.base), 0);
	snprintf(path, sizeof(path), "%s/%010llu.pb", dir, (unsigned long long)seq);
	assert_int_equal(bm_fs_mem_put(fs, path, b.ptr, b.size), 0);
	if (with_age) {
		snprintf(path, sizeof(path), "%s/%010llu.age", dir, (unsigned long long)seq);
		assert_int_equal(bm_fs_mem_put(fs, path, "age", 3), 0);
	}
	bm_buf_dispose(&b);
}

static void test_flat(void **state)
{
	const char *dir = "envs/prod/secrets/app/db";
	bm__log_tail t = BM__LOG_TAIL_INIT;
	uint64_t n;
	bm_fs *fs;
	(void)state;

	/* a secret's folder: .age files and the folders of longer names sit beside */
	assert_int_equal(bm_fs_mem(&fs), 0);
	put_version(fs, dir, 1, 1);
	put_version(fs, dir, 2, 0);
	put_version(fs, dir, 3, 1);
	put_version(fs, "envs/prod/secrets/app/db/replica", 1, 1);
	assert_int_equal(bm__log_tail_read(&t, fs, dir, &bootmeta__v1__secret_version__descriptor, BM__LOG_SECRET), 0);
	assert_int_equal(t.last, 3);
	bm__log_tail_dispose(&t);
	assert_int_equal(bm__log_check_all(&n, fs, dir, BM__LOG_SECRET), 0);
	assert_int_equal(n, 3);
	/* the same folder read as a plain log: the .age files are strays */
	refused(bm__log_check_all(&n, fs, dir, 0), "0000000001.age is not an entry");
	bm_fs_free(fs);

	/* the oldest entry removed */
	assert_int_equal(bm_fs_mem(&fs), 0);
	put_version(fs, dir, 2, 1);
	refused(bm__log_tail_read(&t, fs, dir, &bootmeta__v1__secret_version__descriptor, BM__LOG_SECRET),
		"envs/prod/secrets/app/db/0000000001.pb is missing");
	bm_fs_free(fs);

	/* seq 0 is not an entry */
	assert_int_equal(bm_fs_mem(&fs), 0);
	put_version(fs, dir, 0, 0);
	refused(bm__log_tail_read(&t, fs, dir, &bootmeta__v1__secret_version__descriptor, BM__LOG_SECRET),
		"0000000000.pb is not an entry");
	bm_fs_free(fs);
}

/* What the walker handed over: "seq:ok" or "seq:error", in order. */
typedef struct {
	char seen[4096];
	uint64_t stop_at; /* return 7 from this seq on (0: never) */
} walk_ctx;

static int walk_cb(const char *path, uint64_t seq, ProtobufCMessage *rec, int rc, void *payload)
{
	walk_ctx *w = payload;
	size_t n = strlen(w->seen);
	assert_non_null(strstr(path, CH "/"));
	if (rc == 0) {
		assert_non_null(rec);
		assert_int_equal(((Bootmeta__V1__ChannelEntry *)rec)->seq, seq);
	} else {
		assert_null(rec);
		assert_true(rc < 0);
		assert_non_null(strstr(bm_error_last(), path)); /* the message names the file */
	}
	snprintf(w->seen + n, sizeof(w->seen) - n, "%s%llu:%s", n ? " " : "", (unsigned long long)seq, rc ? "error" : "ok");
	return w->stop_at && seq >= w->stop_at ? 7 : 0;
}

/* bm__log_walk, the one walk of a bucketed log (channel history, instance history). */
static void test_walk(void **state)
{
	walk_ctx w = { "", 0 };
	bm_fs *fs = channel(1002, 0);
	int missing = -1;
	(void)state;

	/* from 998: bucket 0 is entered for 998 and 999 only, then buckets 1 and 2 */
	assert_int_equal(bm__log_walk(&missing, fs, CH, 998, &bootmeta__v1__channel_entry__descriptor, walk_cb, &w), 0);
	assert_int_equal(missing, 0);
	assert_string_equal(w.seen, "998:ok 999:ok 1000:ok 1001:ok 1002:ok");

	/* a damaged entry is handed over with its error and the walk goes on; names that are no
	 * entry or bucket are passed over */
	assert_int_equal(bm_fs_mem_put(fs, CH "/0000001/0000001001.pb", "\xff\xff\xff", 3), 0);
	assert_int_equal(bm_fs_mem_put(fs, CH "/0000001/notes.txt", "x", 1), 0);
	assert_int_equal(bm_fs_mem_put(fs, CH "/stray/0000000005.pb", "x", 1), 0);
	w.seen[0] = '\0';
	assert_int_equal(bm__log_walk(&missing, fs, CH, 1000, &bootmeta__v1__channel_entry__descriptor, walk_cb, &w), 0);
	assert_string_equal(w.seen, "1000:ok 1001:error 1002:ok");

	/* the callback's non-zero return stops the walk and is returned */
	w.seen[0] = '\0';
	w.stop_at = 2;
	assert_int_equal(bm__log_walk(&missing, fs, CH, 0, &bootmeta__v1__channel_entry__descriptor, walk_cb, &w), 7);
	assert_string_equal(w.seen, "1:ok 2:ok");

	/* no log folder: *missing, no call, no error */
	w.seen[0] = '\0';
	assert_int_equal(bm__log_walk(&missing, fs, "projects/p/channels/none", 0, &bootmeta__v1__channel_entry__descriptor,
				      walk_cb, &w), 0);
	assert_int_equal(missing, 1);
	assert_string_equal(w.seen, "");
	bm_fs_free(fs);
}

/* ---- the same checks on a commit's tree and inside a transaction (store.c reads a folder
 * of a git tree without listing it, and the last of a bucket with no listing at all, unless
 * the transaction added a file there) ---- */

typedef struct {
	uint64_t n, skip; /* write entries 1..n but skip */
	const char *extra; /* and this path, if any */
} fill_ctx;

static void entry_bytes(bm_buf *b, uint64_t seq)
{
	Bootmeta__V1__ChannelEntry e = BOOTMETA__V1__CHANNEL_ENTRY__INIT;
	e.seq = seq;
	e.project = (char *)"p";
	e.channel = (char *)"c";
	e.release = (char *)"r";
	bm_buf_clear(b);
	assert_int_equal(bm_record_encode(b, &e.base), 0);
}

static int fill(bm_txn *txn, void *payload)
{
	fill_ctx *c = payload;
	bm_buf b = BM_BUF_INIT;
	char path[128];
	uint64_t i;
	for (i = 1; i <= c->n; i++) {
		if (i == c->skip)
			continue;
		snprintf(path, sizeof(path), CH "/%07llu/%010llu.pb", (unsigned long long)(i / 1000), (unsigned long long)i);
		entry_bytes(&b, i);
		assert_int_equal(bm_txn_add(txn, path, b.ptr, b.size), 0);
	}
	if (c->extra)
		assert_int_equal(bm_txn_add(txn, c->extra, "x", 1), 0);
	bm_buf_dispose(&b);
	return bm_txn_message(txn, "fill");
}

typedef struct {
	uint64_t add;  /* add this entry first (0: none) */
	int rc;        /* bm__log_tail_read's answer */
	uint64_t last;
	char err[600];
} tail_ctx;

static int tail_in_txn(bm_txn *txn, void *payload)
{
	tail_ctx *c = payload;
	bm__log_tail t = BM__LOG_TAIL_INIT;
	if (c->add) {
		bm_buf b = BM_BUF_INIT;
		char path[128];
		snprintf(path, sizeof(path), CH "/%07llu/%010llu.pb", (unsigned long long)(c->add / 1000),
			 (unsigned long long)c->add);
		entry_bytes(&b, c->add);
		assert_int_equal(bm_txn_add(txn, path, b.ptr, b.size), 0);
		bm_buf_dispose(&b);
	}
	c->rc = bm__log_tail_read(&t, bm_txn_fs(txn), CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED);
	c->last = t.last;
	snprintf(c->err, sizeof(c->err), "%s", c->rc ? bm_error_last() : "");
	bm__log_tail_dispose(&t);
	return bm_error_set(BM_ECONFLICT, "only looking"); /* commit nothing */
}

/* A repo holding the log as `c` says; the tail read on its tip's tree and in transactions
 * that add nothing and that add entry `c->n + 1`. */
static void on_git(fill_ctx *c, int want_rc, uint64_t want_last, const char *needle)
{
	char dir[] = "/tmp/bm-test-seqlog-XXXXXX", cmd[600];
	bm_write_options wo = BM_WRITE_OPTIONS_INIT;
	bm__log_tail t = BM__LOG_TAIL_INIT;
	tail_ctx tc;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	assert_non_null(mkdtemp(dir));
	wo.actor = "Tester <t@example.com>";
	assert_int_equal(bm_store_init(&s, dir), 0);
	assert_int_equal(bm_store_write(NULL, s, fill, c, &wo), 0);

	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm__log_tail_read(&t, fs, CH, &bootmeta__v1__channel_entry__descriptor, BM__LOG_BUCKETED),
			 want_rc);
	if (want_rc)
		assert_non_null(strstr(bm_error_last(), needle));
	else
		assert_int_equal(t.last, want_last);
	bm__log_tail_dispose(&t);
	bm_fs_free(fs);

	memset(&tc, 0, sizeof(tc));
	assert_int_equal(bm_store_write(NULL, s, tail_in_txn, &tc, &wo), BM_ECONFLICT);
	assert_int_equal(tc.rc, want_rc);
	if (want_rc)
		assert_non_null(strstr(tc.err, needle));
	else
		assert_int_equal(tc.last, want_last);

	memset(&tc, 0, sizeof(tc));
	tc.add = c->n + 1;
	assert_int_equal(bm_store_write(NULL, s, tail_in_txn, &tc, &wo), BM_ECONFLICT);
	assert_int_equal(tc.rc, want_rc);
	if (want_rc)
		assert_non_null(strstr(tc.err, needle));
	else
		assert_int_equal(tc.last, want_last + 1);

	bm_store_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_git_tree_and_txn(void **state)
{
	fill_ctx c;
	(void)state;
	c = (fill_ctx){ 1500, 0, NULL };
	on_git(&c, 0, 1500, NULL);
	c = (fill_ctx){ 999, 0, NULL }; /* entry 1000 (added) starts bucket 1 */
	on_git(&c, 0, 999, NULL);
	/* the end of the bucket before the newest: read with no listing */
	c = (fill_ctx){ 1500, 999, NULL };
	on_git(&c, BM_ECORRUPT, 0, CH "/0000000/0000000999.pb is missing");
	/* a gap in the newest bucket, a stray folder and a stray file there */
	c = (fill_ctx){ 1500, 1200, NULL };
	on_git(&c, BM_ECORRUPT, 0, CH "/0000001/0000001200.pb is missing");
	c = (fill_ctx){ 1500, 0, CH "/0000001/0000001600.pb/x" };
	on_git(&c, BM_ECORRUPT, 0, CH "/0000001/0000001600.pb/ is not an entry");
	c = (fill_ctx){ 1500, 0, CH "/0000001/0000001500.pbx" };
	on_git(&c, BM_ECORRUPT, 0, CH "/0000001/0000001500.pbx is not an entry");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channel_buckets),
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_git_tree_and_txn),
	};
	bm_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
