/* test_meta.c: the record operations: each one's happy path, and each bad input gets its
 * BM_E* code, a message naming the problem, and no commit (the tip is compared before and
 * after). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmtest.h"

static char C1[] = "1111111111111111111111111111111111111111";
static char C2[] = "2222222222222222222222222222222222222222";
static const char *P = "app/server";

BMT_FIXTURES("meta")

/* A repo with project P and a release C1 (two sources). */
static bm_store *seeded(const char *name)
{
	bm_store *s = bmt_init(name, NULL);
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_source rs[] = { { BMT_URL, C1, NULL }, { "https://git.example.com/lib.git", C2, NULL } };
	bmt_project(s, P, 1);
	ro.sources = rs;
	ro.nsources = 2;
	assert_int_equal(bm_release_add(NULL, NULL, s, P, &ro), 0);
	return s;
}

static void test_project(void **state)
{
	bm_store *s = bmt_init("project", NULL);
	bm_project_options po = BM_PROJECT_OPTIONS_INIT;
	Bootmeta__V1__Project *p = NULL;
	bm_strlist l = BM_STRLIST_INIT;
	bm_fs *fs = NULL;
	bm_oid tip, c;
	char longname[300];
	const char *srcs[] = { "https://git.example.com/app.git", "ssh://git@example.com/lib.git" };
	const char *bad_src[] = { "https://user:secret@example.com/x.git" };
	(void)state;

	po.sources = srcs;
	po.nsources = 2;
	po.description = "the API server";
	assert_int_equal(bm_project_add(&p, &c, s, P, &po), 0);
	assert_string_equal(p->name, P);
	assert_int_equal(p->n_sources, 2);
	assert_string_equal(p->actor, "Test <test@example.com>");
	assert_true(p->created_ms > 0);
	bm_meta_free(p);
	assert_int_equal(bm_project_add(NULL, NULL, s, "app/cli", NULL), 0);
	assert_int_equal(bm_project_add(NULL, NULL, s, "solo", NULL), 0);

	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_project_get(&p, fs, P), 0);
	assert_string_equal(p->description, "the API server");
	bm_meta_free(p);
	assert_int_equal(bm_project_list(&l, fs), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[0], "app/cli");
	assert_string_equal(l.items[1], "app/server");
	assert_string_equal(l.items[2], "solo");
	bm_strlist_dispose(&l);
	assert_int_equal(bm_project_get(&p, fs, "nope"), BM_ENOTFOUND);
	assert_int_equal(bm_error_last_about(NULL), BM_ABOUT_PROJECT); /* the CLI's hint names `project list` */
	bm_fs_free(fs);

	assert_int_equal(bm_store_tip(&tip, s), 0);
	assert_refused(bm_project_add(NULL, NULL, s, P, NULL), BM_EEXISTS, "already exists", s, &tip);
	assert_refused(bm_project_add(NULL, NULL, s, "a/../b", NULL), BM_EINVALID, "project name", s, &tip);
	assert_refused(bm_project_add(NULL, NULL, s, "/abs", NULL), BM_EINVALID, "starts with '/'", s, &tip);
	assert_refused(bm_project_add(NULL, NULL, s, "bad\001name", NULL), BM_EINVALID, "control character", s, &tip);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_refused(bm_project_add(NULL, NULL, s, longname, NULL), BM_EINVALID, "over the limit", s, &tip);
	assert_refused(bm_project_add(NULL, NULL, s, "a/releases", NULL), BM_EINVALID, "reserved by the meta repo layout", s, &tip);
	assert_refused(bm_project_add(NULL, NULL, s, "", NULL), BM_EINVALID, "empty", s, &tip);
	po.sources = bad_src;
	po.nsources = 1;
	assert_refused(bm_project_add(NULL, NULL, s, "new", &po), BM_EINVALID, "password", s, &tip);
	bm_store_free(s);
}

static void test_source_parse(void **state)
{
	bm_buf url = BM_BUF_INIT, commit = BM_BUF_INIT;
	(void)state;
	assert_int_equal(bm_source_parse(&url, &commit, "git@github.com:o/r.git@ABCDEF0123456789abcdef0123456789abcdef01"), 0);
	assert_string_equal(url.ptr, "git@github.com:o/r.git");
	assert_string_equal(commit.ptr, "abcdef0123456789abcdef0123456789abcdef01"); /* lower-cased */
	assert_int_equal(bm_source_parse(&url, &commit, "https://x/y.git"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "URL@COMMIT"));
	assert_int_equal(bm_source_parse(&url, &commit, "git@github.com:o/r.git"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "URL@COMMIT"));
	assert_int_equal(bm_source_parse(&url, &commit, "https://x/y.git@abc123"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "full commit hash"));
	assert_int_equal(bm_source_parse(&url, &commit, "https://x/y.git@zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "non-hex"));
	assert_int_equal(bm_source_parse(&url, &commit, "@1111111111111111111111111111111111111111"), BM_EINVALID);
	assert_int_equal(bm_source_parse(&url, &commit, "ht tp://x@1111111111111111111111111111111111111111"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "space or control"));
	bm_buf_dispose(&url);
	bm_buf_dispose(&commit);
}

static void test_release(void **state)
{
	bm_store *s = seeded("release");
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	Bootmeta__V1__Release *r = NULL;
	bm_strlist l = BM_STRLIST_INIT;
	bm_fs *fs = NULL;
	bm_oid tip;
	bm_source one[] = { { "https://git.example.com/app.git", C2, NULL } };
	bm_source dup[] = { { "https://a/x.git", C1, NULL }, { "https://a/x.git", C2, NULL } };
	bm_source shortc[] = { { "https://a/x.git", "abc", NULL } };
	(void)state;

	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_release_get(&r, fs, P, C1), 0); /* the default id: the first source's commit */
	assert_string_equal(r->id, C1);
	assert_string_equal(r->project, P);
	assert_int_equal(r->n_sources, 2);
	assert_string_equal(r->sources[1]->url, "https://git.example.com/lib.git");
	assert_string_equal(r->sources[1]->commit, C2);
	bm_meta_free(r);
	bm_fs_free(fs);

	ro.sources = one;
	ro.nsources = 1;
	ro.id = "v1.2.3";
	ro.release_version = "1.2.3";
	ro.note = "multi\nline"; /* a note is one line: a new line would forge a row */
	assert_int_equal(bm_release_add(&r, NULL, s, P, &ro), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "the note holds a new line"));
	ro.note = "one line, \xc3\xa9t\xc3\xa9";
	assert_int_equal(bm_release_add(&r, NULL, s, P, &ro), 0);
	assert_string_equal(r->id, "v1.2.3");
	assert_string_equal(r->note, "one line, \xc3\xa9t\xc3\xa9");
	bm_meta_free(r);
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_release_list(&l, fs, P), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0], C1);
	assert_string_equal(l.items[1], "v1.2.3");
	bm_strlist_dispose(&l);
	assert_int_equal(bm_release_get(&r, fs, P, "v9"), BM_ENOTFOUND);
	assert_int_equal(bm_release_list(&l, fs, "ghost"), BM_ENOTFOUND);
	bm_fs_free(fs);

	assert_int_equal(bm_store_tip(&tip, s), 0);
	assert_refused(bm_release_add(NULL, NULL, s, P, &ro), BM_EEXISTS, "already exists", s, &tip);
	assert_refused(bm_release_add(NULL, NULL, s, "ghost", &ro), BM_ENOTFOUND, "no project \"ghost\"", s, &tip);
	ro.id = "bad/id";
	assert_refused(bm_release_add(NULL, NULL, s, P, &ro), BM_EINVALID, "release id", s, &tip);
	ro.id = "..";
	assert_refused(bm_release_add(NULL, NULL, s, P, &ro), BM_EINVALID, "release id", s, &tip);
	ro.id = "v2";
	ro.note = "bell\007";
	assert_refused(bm_release_add(NULL, NULL, s, P, &ro), BM_EINVALID, "control character", s, &tip);
	ro.note = NULL;
	ro.nsources = 0;
	assert_refused(bm_release_add(NULL, NULL, s, P, &ro), BM_EINVALID, "at least one source", s, &tip);
	ro.sources = dup;
	ro.nsources = 2;
	assert_refused(bm_release_add(NULL, NULL, s, P, &ro), BM_EINVALID, "given twice", s, &tip);
	ro.sources = shortc;
	ro.nsources = 1;
	assert_refused(bm_release_add(NULL, NULL, s, P, &ro), BM_EINVALID, "full commit hash", s, &tip);
	bm_store_free(s);
}

static void test_source_dir(void **state)
{
	char dir[512], cmd[2048];
	bm_buf url = BM_BUF_INIT, commit = BM_BUF_INIT;
	bm_store *s = seeded("srcdir");
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_source src[1] = { { NULL, NULL, NULL } };
	Bootmeta__V1__Release *r = NULL;
	bm_oid tip;
	FILE *f;
	char head[64] = "";
	(void)state;

	snprintf(dir, sizeof(dir), "%s/checkout", bmt_dir);
	snprintf(cmd, sizeof(cmd),
		 "set -e; git init -q %s; cd %s; echo a > a; git add a; "
		 "git -c user.name=t -c user.email=t@t commit -qm one; "
		 "git remote add origin https://ci-token:s3cret@git.example.com/app.git", dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "git -C %s rev-parse HEAD", dir);
	assert_non_null(f = popen(cmd, "r"));
	assert_non_null(fgets(head, sizeof(head), f));
	pclose(f);
	head[strcspn(head, "\n")] = '\0';

	assert_int_equal(bm_source_from_dir(&url, &commit, dir, 0), 0);
	assert_string_equal(url.ptr, "https://git.example.com/app.git"); /* the token is not recorded */
	assert_string_equal(commit.ptr, head);

	src[0].dir = dir;
	ro.sources = src;
	ro.nsources = 1;
	assert_int_equal(bm_release_add(&r, NULL, s, P, &ro), 0);
	assert_string_equal(r->id, head);
	bm_meta_free(r);

	/* a dirty tree is refused unless allowed */
	snprintf(cmd, sizeof(cmd), "echo b >> %s/a", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bm_store_tip(&tip, s), 0);
	ro.id = "dirty";
	assert_refused(bm_release_add(NULL, NULL, s, P, &ro), BM_EINVALID, "uncommitted changes", s, &tip);
	ro.allow_dirty = 1;
	assert_int_equal(bm_release_add(NULL, NULL, s, P, &ro), 0);

	snprintf(dir, sizeof(dir), "%s/not-a-checkout", bmt_dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bm_source_from_dir(&url, &commit, dir, 0), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "not in a git checkout"));
	bm_buf_dispose(&url);
	bm_buf_dispose(&commit);
	bm_store_free(s);
}

static void test_binary(void **state)
{
	bm_store *s = seeded("binary");
	bm_binary_options bo = BM_BINARY_OPTIONS_INIT;
	Bootmeta__V1__Binary *b = NULL;
	bm_fs *fs = NULL;
	bm_oid tip;
	char file[512], hex[65];
	uint64_t size;
	FILE *f;
	const char *urls[] = { "s3://bucket/app" };
	(void)state;

	snprintf(file, sizeof(file), "%s/app.bin", bmt_dir);
	assert_non_null(f = fopen(file, "w"));
	fputs("hello", f);
	fclose(f);
	assert_int_equal(bm_file_sha256(hex, &size, file), 0);
	assert_string_equal(hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	assert_int_equal(size, 5);

	bo.os = "linux";
	bo.arch = "amd64";
	bo.urls = urls;
	bo.nurls = 1;
	assert_int_equal(bm_binary_add(&b, NULL, s, P, C1, file, &bo), 0);
	assert_string_equal(b->sha256, hex);
	assert_int_equal(b->size, 5);
	assert_string_equal(b->release, C1);
	bm_meta_free(b);
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_fs_exists(fs, "binaries/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824.pb"), 1);
	assert_int_equal(bm_binary_get(&b, fs, hex), 0);
	assert_string_equal(b->urls[0], "s3://bucket/app");
	bm_meta_free(b);
	assert_int_equal(bm_binary_get(&b, fs, "00"), BM_EINVALID);
	bm_fs_free(fs);

	assert_int_equal(bm_store_tip(&tip, s), 0);
	assert_refused(bm_binary_add(NULL, NULL, s, P, C1, file, &bo), BM_EEXISTS, "already recorded (project app/server", s, &tip);
	assert_refused(bm_binary_add(NULL, NULL, s, P, "v404", file, &bo), BM_ENOTFOUND, "no release \"v404\"", s, &tip);
	assert_refused(bm_binary_add(NULL, NULL, s, "ghost", C1, file, &bo), BM_ENOTFOUND, "no project", s, &tip);
	assert_refused(bm_binary_add(NULL, NULL, s, P, C1, "/nonexistent/file", &bo), BM_ENOTFOUND, "no such file", s, &tip);
	assert_refused(bm_binary_add(NULL, NULL, s, P, C1, bmt_dir, &bo), BM_EINVALID, "not a regular file", s, &tip);
	bo.os = "Linux OS";
	assert_refused(bm_binary_add(NULL, NULL, s, P, C1, file, &bo), BM_EINVALID, "os", s, &tip);
	bm_store_free(s);
}

static void test_channel(void **state)
{
	bm_store *s = seeded("channel");
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_promote_options po = BM_PROMOTE_OPTIONS_INIT;
	bm_source one[] = { { "https://git.example.com/app.git", C2, NULL } };
	Bootmeta__V1__ChannelEntry *e = NULL;
	bm_strlist l = BM_STRLIST_INIT;
	bm_fs *fs = NULL;
	bm_oid tip, c2;
	uint64_t last;
	(void)state;

	ro.sources = one;
	ro.nsources = 1;
	assert_int_equal(bm_release_add(NULL, NULL, s, P, &ro), 0);
	po.reason = "first";
	assert_int_equal(bm_channel_promote(&e, NULL, s, P, "stable", C1, &po), 0);
	assert_int_equal(e->seq, 1);
	assert_string_equal(e->previous_release, "");
	bm_meta_free(e);
	assert_int_equal(bm_channel_promote(&e, &c2, s, P, "stable", C2, NULL), 0);
	assert_int_equal(e->seq, 2);
	assert_string_equal(e->previous_release, C1);
	bm_meta_free(e);
	assert_int_equal(bm_channel_promote(NULL, NULL, s, P, "beta", C2, NULL), 0);

	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_true(bm_oid_equal(bm_fs_commit(fs), &c2) == 0); /* beta moved main after c2 */
	assert_int_equal(bm_channel_current(&e, fs, P, "stable"), 0);
	assert_int_equal(e->seq, 2);
	assert_string_equal(e->release, C2);
	bm_meta_free(e);
	assert_int_equal(bm_fs_exists(fs, "projects/app/server/channels/stable/0000000/0000000002.pb"), 1);
	assert_int_equal(bm_channel_last_seq(&last, fs, P, "stable"), 0);
	assert_int_equal(last, 2);
	{
		bm_buf name = BM_BUF_INIT;
		assert_int_equal(bm_fs_last(&name, fs, "projects/app/server/channels/stable/0000000"), 0);
		assert_string_equal(name.ptr, "0000000002.pb");
		assert_int_equal(bm_fs_last(&name, fs, "projects/app/server"), 0);
		assert_string_equal(name.ptr, "releases/");
		assert_int_equal(bm_fs_last(&name, fs, "projects/nope"), BM_ENOTFOUND);
		bm_buf_dispose(&name);
	}
	assert_int_equal(bm_channel_list(&l, fs, P), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0], "beta");
	assert_string_equal(l.items[1], "stable");
	bm_strlist_dispose(&l);
	assert_int_equal(bm_channel_current(&e, fs, P, "nightly"), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "no release yet"));
	assert_int_equal(bm_channel_current(&e, fs, "ghost", "stable"), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "no project"));
	bm_fs_free(fs);

	/* the view of an older commit sees the older state */
	{
		bm_buf hex = BM_BUF_INIT;
		bm_oid older;
		assert_int_equal(bm_store_resolve(&older, s, "main~2"), 0);
		assert_int_equal(bm_store_fs(&fs, s, &older), 0);
		assert_int_equal(bm_channel_current(&e, fs, P, "stable"), 0);
		assert_int_equal(e->seq, 1);
		bm_meta_free(e);
		bm_fs_free(fs);
		bm_buf_dispose(&hex);
	}

	assert_int_equal(bm_store_tip(&tip, s), 0);
	assert_refused(bm_channel_promote(NULL, NULL, s, P, "stable", "v404", NULL), BM_ENOTFOUND, "no release \"v404\"", s, &tip);
	assert_refused(bm_channel_promote(NULL, NULL, s, "ghost", "stable", C1, NULL), BM_ENOTFOUND, "no project", s, &tip);
	assert_refused(bm_channel_promote(NULL, NULL, s, P, "st/able", C1, NULL), BM_EINVALID, "channel name", s, &tip);
	assert_refused(bm_channel_promote(NULL, NULL, s, P, "../x", C1, NULL), BM_EINVALID, "channel name", s, &tip);
	bm_store_free(s);
}

static int count_cb(const char *path, const Bootmeta__V1__ChannelEntry *e, int error, void *payload)
{
	int *n = payload;
	(void)path;
	if (error < 0) {
		n[1]++;
		return 0;
	}
	n[0]++;
	n[2] = (int)e->seq;
	return 0;
}

static void put_entry(bm_fs *fs, uint64_t seq, const char *release)
{
	Bootmeta__V1__ChannelEntry e = BOOTMETA__V1__CHANNEL_ENTRY__INIT;
	bm_buf p = BM_BUF_INIT;
	uint8_t buf[512];
	size_t n;
	e.seq = seq;
	e.project = (char *)P;
	e.channel = (char *)"stable";
	e.release = (char *)release;
	n = protobuf_c_message_pack(&e.base, buf);
	assert_int_equal(bm_path_channel_entry(&p, P, "stable", seq), 0);
	assert_int_equal(bm_fs_mem_put(fs, p.ptr, buf, n), 0);
	bm_buf_dispose(&p);
}

/* Across a bucket boundary, and with a damaged entry, on an in-memory view. */
static void test_channel_buckets_and_damage(void **state)
{
	bm_fs *fs = NULL;
	Bootmeta__V1__ChannelEntry *e = NULL;
	bm_buf p = BM_BUF_INIT;
	uint64_t seq;
	int n[3] = { 0, 0, 0 };
	(void)state;

	assert_int_equal(bm_path_channel_entry(&p, P, "stable", 999), 0);
	assert_string_equal(p.ptr, "projects/app/server/channels/stable/0000000/0000000999.pb");
	assert_int_equal(bm_path_channel_entry(&p, P, "stable", 1000), 0);
	assert_string_equal(p.ptr, "projects/app/server/channels/stable/0000001/0000001000.pb");
	assert_int_equal(bm_path_channel_entry(&p, P, "stable", 0), BM_EINVALID);

	assert_int_equal(bm_fs_mem(&fs), 0);
	assert_int_equal(bm_fs_mem_put(fs, "projects/app/server/project.pb", "", 0), 0);
	for (seq = 997; seq <= 1002; seq++)
		put_entry(fs, seq, seq == 1002 ? "latest" : "older");
	assert_int_equal(bm_channel_last_seq(&seq, fs, P, "stable"), 0);
	assert_int_equal(seq, 1002);
	assert_int_equal(bm_fs_last(&p, fs, "projects/app/server/channels/stable"), 0);
	assert_string_equal(p.ptr, "0000001/");
	assert_int_equal(bm_channel_current(&e, fs, P, "stable"), 0);
	assert_string_equal(e->release, "latest");
	bm_meta_free(e);
	assert_int_equal(bm_channel_history(fs, P, "stable", 1000, count_cb, n), 0);
	assert_int_equal(n[0], 3);

	/* a damaged last entry: current says which file; history reports it and goes on */
	assert_int_equal(bm_path_channel_entry(&p, P, "stable", 1003), 0);
	assert_int_equal(bm_fs_mem_put(fs, p.ptr, "\xff\xff\xff", 3), 0);
	assert_int_equal(bm_channel_current(&e, fs, P, "stable"), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "0000001003.pb"));
	/* an entry planted under the wrong number */
	put_entry(fs, 5, "x");
	assert_int_equal(bm_path_channel_entry(&p, P, "stable", 1004), 0);
	{
		Bootmeta__V1__ChannelEntry w = BOOTMETA__V1__CHANNEL_ENTRY__INIT;
		uint8_t buf[256];
		size_t len;
		w.seq = 7;
		w.project = (char *)P;
		w.channel = (char *)"stable";
		len = protobuf_c_message_pack(&w.base, buf);
		assert_int_equal(bm_fs_mem_put(fs, p.ptr, buf, len), 0);
	}
	assert_int_equal(bm_channel_current(&e, fs, P, "stable"), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "planted or moved"));
	memset(n, 0, sizeof(n));
	assert_int_equal(bm_channel_history(fs, P, "stable", 0, count_cb, n), 0);
	assert_int_equal(n[0], 7); /* 5, 997..1002 */
	assert_int_equal(n[1], 2); /* 1003, 1004 */
	bm_buf_dispose(&p);
	bm_fs_free(fs);
}

/* Writers in separate processes promote at once: every promotion gets its own number. */
static void test_concurrent_promotions(void **state)
{
	char path[512];
	bm_store *s = seeded("concurrent");
	bm_fs *fs = NULL;
	int i, status, n[3] = { 0, 0, 0 };
	pid_t pids[4];
	(void)state;

	snprintf(path, sizeof(path), "%s/concurrent", bmt_dir);
	bm_store_free(s);
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			bm_store *cs = NULL;
			int k, ok = 1;
			if (bm_store_open(&cs, path) < 0)
				_exit(2);
			for (k = 0; k < 5; k++)
				if (bm_channel_promote(NULL, NULL, cs, P, "stable", C1, NULL) < 0) {
					/* said, so a failure here names its cause */
					fprintf(stderr, "child %d, promotion %d: %s\n", i, k, bm_error_last());
					ok = 0;
				}
			bm_store_free(cs);
			_exit(ok ? 0 : 1);
		}
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(bm_store_open(&s, path), 0);
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_channel_history(fs, P, "stable", 0, count_cb, n), 0);
	assert_int_equal(n[0], 20);
	assert_int_equal(n[2], 20); /* 1..20, each once (the walk is in order and checks each number) */
	bm_fs_free(fs);
	bm_store_free(s);
}

static void test_trace(void **state)
{
	bm_store *s = seeded("trace");
	bm_binary_options bo = BM_BINARY_OPTIONS_INIT;
	bm_release_options ro = BM_RELEASE_OPTIONS_INIT;
	bm_source rs[] = { { "https://git.example.com/app.git", C1, NULL } };
	bm_trace *t = NULL;
	bm_fs *fs = NULL;
	char file[512], other[512], hex[65];
	FILE *f;
	(void)state;

	snprintf(file, sizeof(file), "%s/trace.bin", bmt_dir);
	snprintf(other, sizeof(other), "%s/other.bin", bmt_dir);
	assert_non_null(f = fopen(file, "w"));
	fputs("binary", f);
	fclose(f);
	assert_non_null(f = fopen(other, "w"));
	fputs("never added", f);
	fclose(f);
	bo.os = "linux";
	bo.arch = "arm64";
	assert_int_equal(bm_binary_add(NULL, NULL, s, P, C1, file, &bo), 0);
	assert_int_equal(bm_channel_promote(NULL, NULL, s, P, "stable", C1, NULL), 0);
	/* the same commit released by a second project of the same repo */
	assert_int_equal(bm_project_add(NULL, NULL, s, "app/cli", NULL), 0);
	ro.sources = rs;
	ro.nsources = 1;
	assert_int_equal(bm_release_add(NULL, NULL, s, "app/cli", &ro), 0);

	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_trace_run(&t, fs, file, NULL), 0);
	assert_non_null(t->binary);
	assert_int_equal(t->nreleases, 1);
	assert_string_equal(t->releases[0].release->project, P);
	assert_int_equal(t->releases[0].release->n_sources, 2);
	assert_string_equal(t->releases[0].release->sources[1]->commit, C2);
	assert_int_equal(t->releases[0].nchannels, 1);
	assert_string_equal(t->releases[0].channels[0]->channel, "stable");
	assert_true(t->has_commit);
	memcpy(hex, t->sha256, 65);
	bm_trace_free(t);

	assert_int_equal(bm_trace_run(&t, fs, hex, NULL), 0);
	assert_string_equal(t->binary->sha256, hex);
	bm_trace_free(t);

	assert_int_equal(bm_trace_run(&t, fs, C1, NULL), 0);
	assert_null(t->binary);
	assert_int_equal(t->nreleases, 2); /* app/cli and app/server */
	assert_string_equal(t->releases[0].release->project, "app/cli");
	assert_int_equal(t->releases[0].nchannels, 0);
	bm_trace_free(t);
	assert_int_equal(bm_trace_run(&t, fs, C1, "app/cli"), 0);
	assert_int_equal(t->nreleases, 1);
	bm_trace_free(t);

	assert_int_equal(bm_trace_run(&t, fs, other, NULL), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "is not a binary recorded"));
	assert_int_equal(bm_trace_run(&t, fs, "v404", NULL), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "release id"));
	assert_int_equal(bm_trace_run(&t, fs, "./missing/file", NULL), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "no such file"));
	bm_fs_free(fs);
	bm_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project),
		cmocka_unit_test(test_source_parse),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_source_dir),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_channel),
		cmocka_unit_test(test_channel_buckets_and_damage),
		cmocka_unit_test(test_concurrent_promotions),
		cmocka_unit_test(test_trace),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
