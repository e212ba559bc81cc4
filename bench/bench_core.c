/* bench_core.c: the core store's speed, driven by bench/b_core.sh (which runs the git peers).
 *
 *   bench_core writes REPO N   N durable single-record writes (release add, each its own
 *                              commit) into a new repo; prints writes/s
 *   bench_core grow REPO N     grow REPO (created when missing) to about N records in
 *                              transactions of 1,000 files, then measure: channel get in
 *                              process (fresh view each time, and on one view), and a
 *                              durable single-record write at that size; prints the path
 *                              of the channel's last entry for the process-level peer
 *
 * Records are spread like a real repo: 100 projects, then per 20 records 6 releases,
 * 12 binaries (fanned out by sha256 prefix) and 2 entries of one busy channel
 * (org/p00 stable: 10% of all records, so 10,000 entries in 10 buckets at 100,000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "bootmeta.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_core: %s: %s\n", what, bm_error_last());
	exit(1);
}

#define NPROJECTS 100
static const char COMMIT[] = "0123456789abcdef0123456789abcdef01234567";

/* ---- building a big repo fast: many records per transaction ---- */

typedef struct {
	uint64_t from, to; /* record indexes [from, to) */
} fill_ctx;

static int put(bm_txn *txn, const char *path, const ProtobufCMessage *m)
{
	uint8_t buf[1024];
	size_t n = protobuf_c_message_pack(m, buf);
	return bm_txn_add(txn, path, buf, n);
}

/* Record `i` of the synthetic repo. */
static int add_record(bm_txn *txn, uint64_t i)
{
	char path[512], project[32], id[32], hex[65];
	uint64_t k;
	unsigned int kind;

	if (i < NPROJECTS) {
		Bootmeta__V1__Project p = BOOTMETA__V1__PROJECT__INIT;
		snprintf(project, sizeof(project), "org/p%02u", (unsigned)i);
		p.name = project;
		snprintf(path, sizeof(path), "projects/%s/project.pb", project);
		return put(txn, path, &p.base);
	}
	i -= NPROJECTS;
	k = i / 20;
	kind = (unsigned)(i % 20);
	if (kind < 6) {
		Bootmeta__V1__Release r = BOOTMETA__V1__RELEASE__INIT;
		Bootmeta__V1__Source s = BOOTMETA__V1__SOURCE__INIT, *ps = &s;
		uint64_t n = k * 6 + kind;
		snprintf(project, sizeof(project), "org/p%02u", (unsigned)(n % NPROJECTS));
		snprintf(id, sizeof(id), "r%07llu", (unsigned long long)n);
		s.url = (char *)"https://git.example.com/org.git";
		s.commit = (char *)COMMIT;
		r.project = project;
		r.id = id;
		r.n_sources = 1;
		r.sources = &ps;
		snprintf(path, sizeof(path), "projects/%s/releases/%s.pb", project, id);
		return put(txn, path, &r.base);
	}
	if (kind < 18) {
		Bootmeta__V1__Binary b = BOOTMETA__V1__BINARY__INIT;
		unsigned char h[32];
		char seed[32];
		snprintf(seed, sizeof(seed), "bin%llu", (unsigned long long)i);
		crypto_hash_sha256(h, (const unsigned char *)seed, strlen(seed));
		bm_hex_encode(hex, h, 32);
		b.sha256 = hex;
		b.size = 1000 + i;
		b.os = (char *)"linux";
		b.arch = (char *)"amd64";
		b.project = (char *)"org/p00";
		b.release = (char *)"r0000000";
		snprintf(path, sizeof(path), "binaries/%.2s/%s.pb", hex, hex);
		return put(txn, path, &b.base);
	}
	{
		Bootmeta__V1__ChannelEntry e = BOOTMETA__V1__CHANNEL_ENTRY__INIT;
		bm_buf p = BM_BUF_INIT;
		uint64_t seq = k * 2 + (kind - 18) + 1;
		int error;
		e.seq = seq;
		e.project = (char *)"org/p00";
		e.channel = (char *)"stable";
		e.release = (char *)"r0000000";
		e.time_ms = 1700000000000ll + (int64_t)seq;
		e.actor = (char *)"bench <bench@example.com>";
		if ((error = bm_path_channel_entry(&p, "org/p00", "stable", seq)) == 0)
			error = put(txn, p.ptr, &e.base);
		bm_buf_dispose(&p);
		return error;
	}
}

static int fill_txn(bm_txn *txn, void *payload)
{
	fill_ctx *c = payload;
	uint64_t i;
	int error;
	for (i = c->from; i < c->to; i++)
		if ((error = add_record(txn, i)) < 0)
			return error;
	return bm_txn_message(txn, "bench: records %llu..%llu", (unsigned long long)c->from,
			      (unsigned long long)c->to - 1);
}

/* The number of synthetic records already in the repo: kept in a marker file per batch. */
static uint64_t records_in(bm_store *s)
{
	bm_fs *fs = NULL;
	bm_strlist l = BM_STRLIST_INIT;
	uint64_t n = 0;
	size_t i;
	if (bm_store_fs(&fs, s, NULL) < 0)
		die("view");
	if (bm_fs_list(&l, fs, "bench") == 0)
		for (i = 0; i < l.count; i++) {
			uint64_t v = strtoull(l.items[i], NULL, 10);
			if (v > n)
				n = v;
		}
	bm_error_clear();
	bm_strlist_dispose(&l);
	bm_fs_free(fs);
	return n;
}

static int marker_txn(bm_txn *txn, void *payload)
{
	char path[64];
	snprintf(path, sizeof(path), "bench/%012llu", (unsigned long long)*(uint64_t *)payload);
	return bm_txn_add(txn, path, "", 0);
}

static void grow_to(bm_store *s, uint64_t target)
{
	uint64_t have = records_in(s);
	double t0 = now_s();
	while (have < target) {
		fill_ctx c = { have, have + 1000 < target ? have + 1000 : target };
		bm_write_options w = BM_WRITE_OPTIONS_INIT;
		w.actor = "bench <bench@example.com>";
		if (bm_store_write(NULL, s, fill_txn, &c, &w) < 0)
			die("filling");
		have = c.to;
		if (bm_store_write(NULL, s, marker_txn, &have, &w) < 0)
			die("marker");
	}
	fprintf(stderr, "bench_core: %llu records (built in %.1f s)\n", (unsigned long long)have, now_s() - t0);
}

/* ---- measurements ---- */

static double channel_get_us(bm_store *s, int fresh_view, int rounds)
{
	bm_fs *fs = NULL;
	double t0;
	int i;
	if (!fresh_view && bm_store_fs(&fs, s, NULL) < 0)
		die("view");
	t0 = now_s();
	for (i = 0; i < rounds; i++) {
		Bootmeta__V1__ChannelEntry *e = NULL;
		if (fresh_view && bm_store_fs(&fs, s, NULL) < 0)
			die("view");
		if (bm_channel_current(&e, fs, "org/p00", "stable") < 0)
			die("channel get");
		bm_meta_free(e);
		if (fresh_view) {
			bm_fs_free(fs);
			fs = NULL;
		}
	}
	t0 = (now_s() - t0) / rounds * 1e6;
	bm_fs_free(fs);
	return t0;
}

static double release_writes(bm_store *s, const char *prefix, int n)
{
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	bm_source src = { "https://git.example.com/org.git", COMMIT, NULL };
	char id[64];
	double t0;
	int i;
	w.actor = "bench <bench@example.com>";
	ro.sources = &src;
	ro.nsources = 1;
	ro.write = &w;
	ro.id = id;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s%06d", prefix, i);
		if (bm_release_add(NULL, NULL, s, "org/p01", &ro) < 0)
			die("release add");
	}
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	bm_store *s = NULL;
	if (argc != 4 || bm_global_init() < 0) {
		fprintf(stderr, "usage: bench_core writes|grow REPO N\n");
		return 2;
	}
	if (!strcmp(argv[1], "writes")) {
		int n = atoi(argv[3]);
		double secs;
		bm_project_options po = BM_PROJECT_OPTIONS_INIT;
		if (bm_store_init(&s, argv[2]) < 0 || bm_project_add(NULL, NULL, s, "org/p01", &po) < 0)
			die("init");
		secs = release_writes(s, "w", n);
		printf("writes %d seconds %.3f per_s %.1f\n", n, secs, n / secs);
	} else if (!strcmp(argv[1], "grow")) {
		uint64_t target = strtoull(argv[3], NULL, 10);
		bm_buf p = BM_BUF_INIT;
		uint64_t seq = 0;
		bm_fs *fs = NULL;
		static int round;
		char prefix[16];
		if (access(argv[2], F_OK) == 0 ? bm_store_open(&s, argv[2]) < 0 : bm_store_init(&s, argv[2]) < 0)
			die("open");
		grow_to(s, target);
		channel_get_us(s, 1, 200); /* warm the object cache */
		if (bm_store_fs(&fs, s, NULL) < 0 || bm_channel_last_seq(&seq, fs, "org/p00", "stable") < 0 ||
		    bm_path_channel_entry(&p, "org/p00", "stable", seq) < 0)
			die("last entry");
		snprintf(prefix, sizeof(prefix), "g%d-%d-", (int)getpid(), round++);
		printf("records %llu get_us %.2f get_us_same_view %.2f write_ms %.2f last %s\n",
		       (unsigned long long)records_in(s), channel_get_us(s, 1, 20000), channel_get_us(s, 0, 20000),
		       release_writes(s, prefix, 50) / 50 * 1e3, p.ptr);
		bm_buf_dispose(&p);
		bm_fs_free(fs);
	} else {
		fprintf(stderr, "usage: bench_core writes|grow REPO N\n");
		return 2;
	}
	bm_store_free(s);
	bm_global_shutdown();
	return 0;
}
