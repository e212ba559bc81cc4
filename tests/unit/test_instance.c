/* test_instance.c: instance reports (lib/instance.c) on real meta repos: the record and its
 * path, "unchanged" writes nothing, sequence numbers stay gapless (also many reports of one
 * instance in one transaction, across a bucket), bad input is refused with a message naming
 * it and no commit, and a damaged log is named by file on write and in listings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmtest.h"

static char C1[] = "1111111111111111111111111111111111111111";
static char C2[] = "2222222222222222222222222222222222222222";
static const char MC[] = "ABCDEF0123456789abcdef0123456789ABCDEF01";
static const char *P = "app/server";
#define LOG "envs/prod/instances/web-1/app/server/+reports"

BMT_FIXTURES("instance")

/* A repo with env prod, project P (releases C1, C2) and project "db" (release C1). */
static bm_store *seeded(const char *name, char path[512])
{
	bm_store *s = bmt_init(name, NULL);
	bmt_path(path, 512, name);
	bmt_project(s, P, 1);
	bmt_project(s, "db", 1);
	bmt_release(s, P, C1);
	bmt_release(s, "db", C1);
	bmt_release(s, P, C2);
	bmt_env(s, "prod");
	return s;
}

static bm_instance_report_spec spec(const char *instance, const char *project, const char *release,
				    bm_instance_state state)
{
	bm_instance_report_spec r = BM_INSTANCE_REPORT_SPEC_INIT;
	r.env = "prod";
	r.instance = instance;
	r.project = project;
	r.release = release;
	r.state = state;
	return r;
}

static void test_states(void **state)
{
	bm_instance_state st;
	(void)state;
	assert_int_equal(bm_instance_state_parse(&st, "rolled-back"), 0);
	assert_int_equal(st, BM_INSTANCE_ROLLED_BACK);
	assert_string_equal(bm_instance_state_str(BM_INSTANCE_HEALTHY), "healthy");
	assert_null(bm_instance_state_str((bm_instance_state)0));
	assert_null(bm_instance_state_str((bm_instance_state)99));
	assert_int_equal(bm_instance_state_parse(&st, "HEALTHY"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "not one of downloading, installed, healthy, failed, rolled-back"));
	assert_int_equal(bm_instance_state_parse(&st, ""), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "missing instance state"));
	assert_int_equal(bm_instance_state_parse(&st, "ok\x1b[2J"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "\\x1b"));

	assert_int_equal(bm_name_validate("web-1.eu.example.com", BM_NAME_INSTANCE), 0);
	assert_int_equal(bm_name_validate("1web", BM_NAME_INSTANCE), 0);
	assert_int_equal(bm_name_validate("Web-1", BM_NAME_INSTANCE), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "instance id \"Web-1\" contains 'W'"));
	assert_int_equal(bm_name_validate("-web", BM_NAME_INSTANCE), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "starts with '-'"));
	assert_int_equal(bm_name_validate("web/1", BM_NAME_INSTANCE), BM_EINVALID);
	assert_int_equal(bm_name_validate("..", BM_NAME_INSTANCE), BM_EINVALID);
	assert_int_equal(bm_name_validate("", BM_NAME_INSTANCE), BM_EINVALID);
}

static void test_report(void **state)
{
	char path[512];
	bm_store *s = seeded("report", path);
	bm_instance_report_spec r = spec("web-1", P, C1, BM_INSTANCE_DOWNLOADING);
	Bootmeta__V1__InstanceReport *rec = NULL;
	bm_buf json = BM_BUF_INIT;
	bm_fs *fs = NULL;
	bm_oid c1, c2, tip;
	int64_t since;
	(void)state;

	r.acted_on = MC;
	r.os = "linux";
	r.arch = "amd64";
	r.agent_version = "bootmeta-agent 0.1.0";
	assert_int_equal(bm_instance_report(&rec, &c1, s, &r, NULL), 0);
	assert_int_equal(rec->seq, 1);
	assert_string_equal(rec->env, "prod");
	assert_string_equal(rec->instance, "web-1");
	assert_string_equal(rec->project, P);
	assert_string_equal(rec->release, C1);
	assert_string_equal(rec->state, "downloading");
	assert_string_equal(rec->acted_on, "abcdef0123456789abcdef0123456789abcdef01"); /* lower case */
	assert_string_equal(rec->os, "linux");
	assert_string_equal(rec->actor, "Test <test@example.com>");
	assert_true(rec->time_ms > 0);
	assert_true(rec->since_ms == rec->time_ms);
	/* the JSON view is readable: the state is a word */
	assert_int_equal(bm_pbjson_write(&json, &rec->base, NULL), 0);
	assert_non_null(strstr(json.ptr, "\"state\":\"downloading\""));
	assert_non_null(strstr(json.ptr, "\"actedOn\":\"abcdef0123456789abcdef0123456789abcdef01\""));
	assert_non_null(strstr(json.ptr, "\"agentVersion\":\"bootmeta-agent 0.1.0\""));
	bm_buf_dispose(&json);
	bm_meta_free(rec);

	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_fs_exists(fs, LOG "/0000000/0000000001.pb"), 1);
	assert_ptr_equal(bm_record_type_for_path(LOG "/0000000/0000000001.pb"), &bootmeta__v1__instance_report__descriptor);
	bm_fs_free(fs);

	/* the same state, release and error: nothing is written, the newest entry comes back; a
	 * new meta commit or agent version alone is no change */
	r.acted_on = "1234567890123456789012345678901234567890";
	r.agent_version = "bootmeta-agent 0.2.0";
	assert_int_equal(bm_instance_report(&rec, &tip, s, &r, NULL), 1);
	assert_true(bm_oid_equal(&tip, &c1));
	assert_int_equal(rec->seq, 1);
	assert_string_equal(rec->agent_version, "bootmeta-agent 0.1.0");
	bm_meta_free(rec);
	assert_int_equal(bm_store_tip(&tip, s), 0);
	assert_true(bm_oid_equal(&tip, &c1));

	/* a state change: entry 2 */
	r.state = BM_INSTANCE_FAILED;
	r.error = "health check: GET /healthz: 503\nafter 60 s";
	assert_int_equal(bm_instance_report(&rec, &c2, s, &r, NULL), 0);
	assert_false(bm_oid_equal(&c2, &c1));
	assert_int_equal(rec->seq, 2);
	assert_string_equal(rec->state, "failed");
	since = rec->since_ms;
	bm_meta_free(rec);
	/* only the error changed: a new entry, "since" carried over */
	r.error = "health check: GET /healthz: connection refused";
	assert_int_equal(bm_instance_report(&rec, NULL, s, &r, NULL), 0);
	assert_int_equal(rec->seq, 3);
	assert_true(rec->since_ms == since);
	assert_true(rec->time_ms >= since);
	bm_meta_free(rec);
	/* unchanged again (the error is part of the comparison) */
	assert_int_equal(bm_instance_report(NULL, NULL, s, &r, NULL), 1);
	/* another release: a new run */
	r = spec("web-1", P, C2, BM_INSTANCE_FAILED);
	r.error = "health check: GET /healthz: connection refused";
	assert_int_equal(bm_instance_report(&rec, NULL, s, &r, NULL), 0);
	assert_int_equal(rec->seq, 4);
	assert_true(rec->since_ms == rec->time_ms);
	bm_meta_free(rec);

	/* the same instance runs another project: its own log */
	r = spec("web-1", "db", C1, BM_INSTANCE_HEALTHY);
	assert_int_equal(bm_instance_report(&rec, NULL, s, &r, NULL), 0);
	assert_int_equal(rec->seq, 1);
	bm_meta_free(rec);
	r = spec("web-2", P, C1, BM_INSTANCE_HEALTHY);
	assert_int_equal(bm_instance_report(NULL, NULL, s, &r, NULL), 0);

	/* the listing: newest entry per instance and project, sorted */
	{
		bm_instance_status *l = NULL;
		size_t n = 0;
		assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
		assert_int_equal(bm_instance_list(&l, &n, fs, "prod", NULL), 0);
		assert_int_equal(n, 3);
		assert_string_equal(l[0].instance, "web-1");
		assert_string_equal(l[0].project, P);
		assert_int_equal(l[0].error, 0);
		assert_int_equal(l[0].report->seq, 4);
		assert_string_equal(l[0].report->release, C2);
		assert_true(l[0].since_ms == l[0].report->time_ms);
		assert_string_equal(l[0].path, LOG "/0000000/0000000004.pb");
		assert_string_equal(l[1].instance, "web-1");
		assert_string_equal(l[1].project, "db");
		assert_string_equal(l[2].instance, "web-2");
		bm_instance_list_free(l, n);
		assert_int_equal(bm_instance_list(&l, &n, fs, "prod", "db"), 0);
		assert_int_equal(n, 1);
		assert_string_equal(l[0].project, "db");
		bm_instance_list_free(l, n);
		assert_int_equal(bm_instance_list(&l, &n, fs, "stage", NULL), BM_ENOTFOUND);
		assert_non_null(strstr(bm_error_last(), "no environment \"stage\""));
		assert_int_equal(bm_instance_list(&l, &n, fs, "prod", "ghost"), BM_ENOTFOUND);
		assert_non_null(strstr(bm_error_last(), "no project \"ghost\""));

		assert_int_equal(bm_instance_current(&rec, fs, "prod", "web-1", P), 0);
		assert_int_equal(rec->seq, 4);
		bm_meta_free(rec);
		assert_int_equal(bm_instance_current(&rec, fs, "prod", "web-9", P), BM_ENOTFOUND);
		assert_non_null(strstr(bm_error_last(), "web-9 of env prod has reported nothing"));
		bm_fs_free(fs);
	}
	bm_store_free(s);
}

static int seq_cb(const char *path, const Bootmeta__V1__InstanceReport *r, int error, void *payload)
{
	uint64_t *next = payload;
	(void)path;
	assert_int_equal(error, 0);
	assert_int_equal(r->seq, *next);
	(*next)++;
	return 0;
}

#define MANY 1003
typedef struct {
	int calls;
	int unchanged;
} many_ctx;

/* Many reports of one instance in one transaction (as serve's group commit runs them): each
 * builds on the one before, and an unchanged one in the middle adds nothing. */
static int many_txn(bm_txn *txn, void *payload)
{
	many_ctx *c = payload;
	Bootmeta__V1__InstanceReport *rec = NULL;
	int i, rc;
	c->calls++;
	c->unchanged = 0;
	for (i = 0; i < MANY; i++) {
		bm_instance_report_spec r = spec("web-3", P, i % 2 ? C2 : C1, BM_INSTANCE_HEALTHY);
		if ((rc = bm_instance_report_txn(&rec, txn, &r)) < 0)
			break;
		assert_int_equal(rec->seq, (uint64_t)(i + 1));
		if (i == 10) { /* the same again: no entry */
			assert_int_equal(bm_instance_report_txn(&rec, txn, &r), 1);
			assert_int_equal(rec->seq, 11);
			c->unchanged++;
		}
	}
	bm_meta_free(rec);
	if (rc >= 0)
		rc = bm_txn_message(txn, "many reports");
	return rc;
}

static void test_gapless(void **state)
{
	char path[512];
	bm_store *s = seeded("gapless", path);
	bm_doctor_report dr;
	many_ctx c = { 0, 0 };
	bm_fs *fs = NULL;
	uint64_t next = 1;
	(void)state;

	assert_int_equal(bm_store_write(NULL, s, many_txn, &c, NULL), 0);
	assert_int_equal(c.unchanged, 1);
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_fs_exists(fs, "envs/prod/instances/web-3/app/server/+reports/0000001/0000001003.pb"), 1);
	assert_int_equal(bm_instance_history(fs, "prod", "web-3", P, 0, seq_cb, &next), 0);
	assert_int_equal(next, MANY + 1);
	next = 1000;
	assert_int_equal(bm_instance_history(fs, "prod", "web-3", P, 1000, seq_cb, &next), 0);
	assert_int_equal(next, MANY + 1);
	assert_int_equal(bm_instance_history(fs, "prod", "web-4", P, 0, seq_cb, &next), BM_ENOTFOUND);
	bm_fs_free(fs);
	{
		bm_instance_report_spec r = spec("web-3", P, C1, BM_INSTANCE_FAILED);
		Bootmeta__V1__InstanceReport *rec = NULL;
		assert_int_equal(bm_instance_report(&rec, NULL, s, &r, NULL), 0);
		assert_int_equal(rec->seq, MANY + 1);
		bm_meta_free(rec);
	}
	/* doctor checks every instance log too: clean */
	assert_int_equal(bm_doctor(&dr, path, NULL), 0);
	assert_int_equal(dr.nproblems, 0);
	assert_true(dr.logs >= 1);
	bm_doctor_report_dispose(&dr);
	bm_store_free(s);
}

/* serve names each request's token as the record's actor (bm_txn_set_actor) */
static int actor_txn(bm_txn *txn, void *payload)
{
	Bootmeta__V1__InstanceReport **rec = payload;
	bm_instance_report_spec r = spec("web-7", P, C1, BM_INSTANCE_HEALTHY);
	int error;
	if ((error = bm_txn_set_actor(txn, "agent-web-7")) < 0 || (error = bm_instance_report_txn(rec, txn, &r)) < 0)
		return error;
	return bm_txn_message(txn, "report");
}

static void test_actor(void **state)
{
	char path[512];
	bm_store *s = seeded("actor", path);
	Bootmeta__V1__InstanceReport *rec = NULL;
	(void)state;
	assert_int_equal(bm_store_write(NULL, s, actor_txn, &rec, NULL), 0);
	assert_non_null(rec);
	assert_string_equal(rec->actor, "agent-web-7");
	bm_meta_free(rec);
	bm_store_free(s);
}

static void test_refused(void **state)
{
	char path[512];
	bm_store *s = seeded("refused", path);
	bm_instance_report_spec r;
	char big[BM_INSTANCE_ERROR_MAX + 2];
	bm_oid tip;
	(void)state;

	r = spec("web-1", P, C1, BM_INSTANCE_HEALTHY);
	assert_int_equal(bm_instance_report(NULL, NULL, s, &r, NULL), 0);
	assert_int_equal(bm_store_tip(&tip, s), 0);

#define REFUSED(field, value, code, needle)                                          \
	do {                                                                         \
		r = spec("web-1", P, C1, BM_INSTANCE_FAILED);                        \
		r.field = value;                                                     \
		assert_refused(bm_instance_report(NULL, NULL, s, &r, NULL), code, needle, s, &tip); \
	} while (0)
	REFUSED(env, "stage", BM_ENOTFOUND, "no environment \"stage\"");
	REFUSED(env, "prod/../x", BM_EINVALID, "environment name");
	REFUSED(env, NULL, BM_EINVALID, "empty environment name");
	REFUSED(instance, "Web-1", BM_EINVALID, "instance id \"Web-1\"");
	REFUSED(instance, "web/1", BM_EINVALID, "instance id \"web/1\" may not contain '/'");
	REFUSED(instance, "..", BM_EINVALID, "instance id");
	REFUSED(instance, "-rf", BM_EINVALID, "starts with '-'");
	REFUSED(instance, "web\x1b[2J", BM_EINVALID, "control character");
	REFUSED(project, "ghost", BM_ENOTFOUND, "no project \"ghost\"");
	REFUSED(project, "app/+reports", BM_EINVALID, "project name");
	REFUSED(release, "v404", BM_ENOTFOUND, "no release \"v404\"");
	REFUSED(release, NULL, BM_EINVALID, "empty release id");
	REFUSED(state, (bm_instance_state)0, BM_EINVALID, "instance state 0 is not one of");
	REFUSED(state, (bm_instance_state)6, BM_EINVALID, "instance state 6 is not one of");
	REFUSED(acted_on, "abc", BM_EINVALID, "meta commit");
	REFUSED(acted_on, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", BM_EINVALID, "non-hex character 'z'");
	REFUSED(os, "Linux", BM_EINVALID, "os \"Linux\" may only hold");
	REFUSED(arch, "x86\x1b", BM_EINVALID, "\\x1b");
	REFUSED(error, "bad \x1b[31m", BM_EINVALID, "the error text");
	REFUSED(error, "\xff\xfe", BM_EINVALID, "the error text");
	REFUSED(agent_version, "1.0\n2.0", BM_EINVALID, "the agent version");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	REFUSED(error, big, BM_ETOOBIG, "the error text");
	r = spec("web-1", P, C1, BM_INSTANCE_FAILED);
	r.version = 99;
	assert_refused(bm_instance_report(NULL, NULL, s, &r, NULL), BM_EINVALID, "version 99", s, &tip);
	assert_refused(bm_instance_report(NULL, NULL, s, NULL, NULL), BM_EINVALID, "no instance report", s, &tip);
#undef REFUSED
	bm_store_free(s);
}

/* plant DATA at PATH with stock git plumbing (a foreign writer, a bad restore) */
static void plant(const char *repo, const char *path, const void *data, size_t len)
{
	char file[600], cmd[4096];
	FILE *f;
	snprintf(file, sizeof(file), "%s.plant", repo);
	assert_non_null(f = fopen(file, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "set -e; export GIT_INDEX_FILE='%s.idx' GIT_DIR='%s' GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x "
		 "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x; git read-tree main; "
		 "b=$(git hash-object -w '%s'); git update-index --add --cacheinfo \"100644,$b,%s\"; "
		 "t=$(git write-tree); c=$(git commit-tree $t -p main -m plant); git update-ref refs/heads/main $c; "
		 "rm -f \"$GIT_INDEX_FILE\" '%s'",
		 repo, repo, file, path, file);
	assert_int_equal(system(cmd), 0);
}

static void test_damaged(void **state)
{
	char path[512];
	bm_store *s = seeded("damaged", path);
	bm_instance_report_spec r = spec("web-1", P, C1, BM_INSTANCE_DOWNLOADING);
	Bootmeta__V1__InstanceReport *rec = NULL, other = BOOTMETA__V1__INSTANCE_REPORT__INIT;
	bm_instance_status *l = NULL;
	bm_buf b = BM_BUF_INIT;
	bm_fs *fs = NULL;
	size_t n;
	bm_oid tip;
	(void)state;

	assert_int_equal(bm_instance_report(NULL, NULL, s, &r, NULL), 0);
	r.state = BM_INSTANCE_INSTALLED;
	assert_int_equal(bm_instance_report(NULL, NULL, s, &r, NULL), 0);
	r = spec("web-2", P, C1, BM_INSTANCE_HEALTHY);
	assert_int_equal(bm_instance_report(NULL, NULL, s, &r, NULL), 0);

	/* garbage over the newest entry: the next report is refused naming the file */
	plant(path, LOG "/0000000/0000000003.pb", "\377\377\377\377\377\377", 6);
	assert_int_equal(bm_store_tip(&tip, s), 0);
	r = spec("web-1", P, C1, BM_INSTANCE_HEALTHY);
	assert_refused(bm_instance_report(NULL, NULL, s, &r, NULL), BM_ECORRUPT, LOG "/0000000/0000000003.pb", s, &tip);
	/* the listing names it in its place and goes on with the others */
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_instance_list(&l, &n, fs, "prod", NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].error, BM_ECORRUPT);
	assert_null(l[0].report);
	assert_non_null(strstr(l[0].message, LOG "/0000000/0000000003.pb"));
	assert_string_equal(l[1].instance, "web-2");
	assert_int_equal(l[1].error, 0);
	bm_instance_list_free(l, n);
	assert_int_equal(bm_instance_current(&rec, fs, "prod", "web-1", P), BM_ECORRUPT);
	assert_null(rec);
	bm_fs_free(fs);

	/* a gap: entry 5 planted after 3 is gone */
	other.seq = 5;
	other.env = (char *)"prod";
	other.instance = (char *)"web-2";
	other.project = (char *)P;
	other.release = (char *)C1;
	other.state = (char *)"healthy";
	assert_int_equal(bm_record_encode(&b, &other.base), 0);
	plant(path, "envs/prod/instances/web-2/app/server/+reports/0000000/0000000005.pb", b.ptr, b.size);
	assert_int_equal(bm_store_tip(&tip, s), 0);
	r = spec("web-2", P, C1, BM_INSTANCE_FAILED);
	assert_refused(bm_instance_report(NULL, NULL, s, &r, NULL), BM_ECORRUPT,
		       "envs/prod/instances/web-2/app/server/+reports/0000000/0000000002.pb is missing", s, &tip);

	/* another instance's entry copied in: not the entry its path says */
	bm_buf_clear(&b);
	other.seq = 1;
	assert_int_equal(bm_record_encode(&b, &other.base), 0);
	plant(path, "envs/prod/instances/web-5/app/server/+reports/0000000/0000000001.pb", b.ptr, b.size);
	assert_int_equal(bm_store_tip(&tip, s), 0);
	r = spec("web-5", P, C1, BM_INSTANCE_FAILED);
	assert_refused(bm_instance_report(NULL, NULL, s, &r, NULL), BM_ECORRUPT, "holds report 1 of instance prod/web-2", s,
		       &tip);
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_instance_current(&rec, fs, "prod", "web-5", P), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "not of this path"));
	bm_fs_free(fs);
	bm_buf_dispose(&b);
	bm_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_gapless),
		cmocka_unit_test(test_actor),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
