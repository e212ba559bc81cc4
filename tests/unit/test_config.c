/* test_config.c: environments, runtime config, generator logs and flag storage: value
 * parsing and bounds, parent chains (loops, depth), layered resolve with tombstones over a
 * memory view, env-file quoting, writes on a real store (one commit per call, sequence
 * numbers under concurrent writers, dry runs, revert, provenance commits), the checkout's
 * env file, and log listing by day range. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "bootmeta.h"
#include "bootmeta/v1/config.pb-c.h"
#include "bootmeta/v1/core.pb-c.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bm-test-config-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
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

/* ---- helpers ---- */

static void put_msg(bm_fs *fs, const char *path, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(n + 1);
	assert_non_null(b);
	protobuf_c_message_pack(m, b);
	assert_int_equal(bm_fs_mem_put(fs, path, b, n), 0);
	free(b);
}

static void put_env(bm_fs *fs, const char *name, const char *parent)
{
	Bootmeta__V1__Env e = BOOTMETA__V1__ENV__INIT;
	char path[256];
	e.name = (char *)name;
	e.parent = (char *)parent;
	snprintf(path, sizeof(path), "envs/%s/env.pb", name);
	put_msg(fs, path, &e.base);
}

static void put_value(bm_fs *fs, const char *env, const char *project, const char *key, unsigned seq,
		      const char *str, int tombstone)
{
	Bootmeta__V1__ConfigValue v = BOOTMETA__V1__CONFIG_VALUE__INIT;
	char path[512];
	v.project = (char *)project;
	v.env = (char *)env;
	v.key = (char *)key;
	v.seq = seq;
	v.type = BOOTMETA__V1__CONFIG_TYPE__CONFIG_TYPE_STRING;
	v.tombstone = tombstone;
	if (!tombstone) {
		v.value_case = BOOTMETA__V1__CONFIG_VALUE__VALUE_STRING_VALUE;
		v.string_value = (char *)str;
	}
	snprintf(path, sizeof(path), "envs/%s/config/%s/+keys/%s/%010u.pb", env, project, key, seq);
	put_msg(fs, path, &v.base);
}

/* ---- values ---- */

static void test_value_parse(void **state)
{
	bm_config_value v;
	bm_config_type t;
	char *big;
	(void)state;
	memset(&v, 0, sizeof(v));

	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, "-42"), 0);
	assert_int_equal(v.int64_value, -42);
	assert_string_equal(v.text, "-42");
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, "9223372036854775807"), 0);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, "9223372036854775808"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "range"));
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, "abc"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "not an int64"));
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, "12 "), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, ""), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, "1.5"), BM_EINVALID);
	/* white space before a number is refused like white space after it, not just ' ' and
	 * '\t' (found by fuzz_config: "\r66666" was taken as 66666) */
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, " 12"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, "\r66666"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_INT64, "\n12"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_DOUBLE, "\v0.5"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_DOUBLE, "\f0.5"), BM_EINVALID);

	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_DOUBLE, "0.1"), 0);
	assert_string_equal(v.text, "0.1");
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_DOUBLE, "1e-3"), 0);
	assert_string_equal(v.text, "0.001");
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_DOUBLE, "inf"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_DOUBLE, "nan"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_DOUBLE, "1e999"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_DOUBLE, "x"), BM_EINVALID);

	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_BOOL, "YES"), 0);
	assert_true(v.bool_value);
	assert_string_equal(v.text, "true");
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_BOOL, "off"), 0);
	assert_false(v.bool_value);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_BOOL, "maybe"), BM_EINVALID);

	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_JSON, "{\"a\": [1, 2]}"), 0);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_JSON, "[]"), 0);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_JSON, "42"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "object or a list"));
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_JSON, "{\"a\":1,\"a\":2}"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_JSON, "{"), BM_EINVALID);

	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_STRING, "h\xc3\xa9llo"), 0);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_STRING, "\xff\xfe"), BM_EINVALID);
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_STRING, "\xc0\xaf"), BM_EINVALID); /* overlong */
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_STRING, "\xed\xa0\x80"), BM_EINVALID); /* surrogate */

	big = malloc(BM_CONFIG_VALUE_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', BM_CONFIG_VALUE_MAX);
	big[BM_CONFIG_VALUE_MAX] = '\0';
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_STRING, big), 0);
	big[BM_CONFIG_VALUE_MAX] = 'x';
	big[BM_CONFIG_VALUE_MAX + 1] = '\0';
	assert_int_equal(bm_config_value_parse(&v, BM_CONFIG_STRING, big), BM_ETOOBIG);
	free(big);

	assert_int_equal(bm_config_type_parse(&t, "int"), 0);
	assert_int_equal(t, BM_CONFIG_INT64);
	assert_int_equal(bm_config_type_parse(&t, "Boolean"), 0);
	assert_int_equal(t, BM_CONFIG_BOOL);
	assert_int_equal(bm_config_type_parse(&t, "decimal"), BM_EINVALID);
	bm_config_value_dispose(&v);
}

/* ---- envs ---- */

static void test_env_names_and_chain(void **state)
{
	bm_fs *fs = NULL;
	bm_strlist l = BM_STRLIST_INIT;
	bm_buf b = BM_BUF_INIT;
	char name[64];
	int i;
	(void)state;

	assert_int_equal(bm_env_name_validate("dev/alice"), 0);
	assert_int_equal(bm_env_name_validate("dev/config"), BM_EINVALID);
	assert_int_equal(bm_env_name_validate("prod/flags"), BM_EINVALID);
	assert_int_equal(bm_env_name_validate("dev/secrets/x"), BM_EINVALID);
	assert_int_equal(bm_env_name_validate("dev/env.pb"), BM_EINVALID);
	assert_int_equal(bm_env_name_validate("../x"), BM_EINVALID);
	assert_int_equal(bm_env_name_validate("a/b/c/d/e"), BM_EINVALID);
	assert_int_equal(bm_env_default_parent(&b, "dev/alice"), 0);
	assert_string_equal(b.ptr, "dev");
	assert_int_equal(bm_env_default_parent(&b, "prod"), 0);
	assert_string_equal(b.ptr, "");

	assert_int_equal(bm_fs_mem(&fs), 0);
	put_env(fs, "dev", "");
	put_env(fs, "dev/alice", "dev");
	put_env(fs, "prod", "");
	put_env(fs, "prod/eu", "prod");
	/* a loop made by hand */
	put_env(fs, "a", "b");
	put_env(fs, "b", "a");
	/* a broken chain */
	put_env(fs, "orphan", "gone");
	assert_int_equal(bm_env_list(&l, fs), 0);
	assert_int_equal(l.count, 7);
	assert_string_equal(l.items[0], "a");
	assert_string_equal(l.items[3], "dev/alice");
	bm_strlist_dispose(&l);

	assert_int_equal(bm_env_chain(&l, fs, "dev/alice"), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0], "dev/alice");
	assert_string_equal(l.items[1], "dev");
	bm_strlist_dispose(&l);
	assert_int_equal(bm_env_chain(&l, fs, "a"), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "loops (a -> b -> a)"));
	assert_int_equal(bm_env_chain(&l, fs, "orphan"), BM_ENOTFOUND);
	assert_non_null(strstr(bm_error_last(), "gone"));
	assert_int_equal(bm_env_chain(&l, fs, "nope"), BM_ENOTFOUND);
	assert_int_equal(l.count, 0);

	/* deeper than BM_ENV_MAX_DEPTH */
	for (i = 0; i < BM_ENV_MAX_DEPTH + 2; i++) {
		char parent[64];
		snprintf(name, sizeof(name), "d%d", i);
		snprintf(parent, sizeof(parent), "d%d", i + 1);
		put_env(fs, name, i == BM_ENV_MAX_DEPTH + 1 ? "" : parent);
	}
	assert_int_equal(bm_env_chain(&l, fs, "d0"), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "deeper"));
	assert_int_equal(bm_env_chain(&l, fs, "d3"), 0);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&b);
	bm_fs_free(fs);
}

/* ---- resolve over memory ---- */

static void test_resolve_layers(void **state)
{
	bm_fs *fs = NULL;
	bm_config *c = NULL;
	const bm_config_value *v;
	(void)state;

	assert_int_equal(bm_fs_mem(&fs), 0);
	put_env(fs, "dev", "");
	put_env(fs, "dev/team", "dev");
	put_env(fs, "dev/team/alice", "dev/team");
	put_value(fs, "dev", "p", "A", 1, "dev-a", 0);
	put_value(fs, "dev", "p", "B", 1, "dev-b1", 0);
	put_value(fs, "dev", "p", "B", 2, "dev-b2", 0);
	put_value(fs, "dev", "p", "GONE", 1, "x", 0);
	put_value(fs, "dev", "p", "GONE", 2, NULL, 1);
	put_value(fs, "dev/team", "p", "A", 1, "team-a", 0);
	put_value(fs, "dev/team/alice", "p", "A", 1, "alice-a", 0);
	put_value(fs, "dev/team/alice", "p", "A", 2, NULL, 1); /* alice unset hers: team's shows */
	put_value(fs, "dev/team/alice", "p", "C", 1, "alice-c", 0);
	/* another project and a nested project never leak in */
	put_value(fs, "dev", "q", "A", 1, "q-a", 0);
	put_value(fs, "dev", "p/sub", "A", 1, "sub-a", 0);

	assert_int_equal(bm_config_resolve_fs(&c, fs, "p", "dev/team/alice"), 0);
	assert_int_equal(c->count, 3);
	assert_int_equal(c->chain.count, 3);
	v = bm_config_get(c, "A");
	assert_non_null(v);
	assert_string_equal(v->text, "team-a");
	assert_string_equal(v->env, "dev/team");
	v = bm_config_get(c, "B");
	assert_string_equal(v->text, "dev-b2");
	assert_int_equal(v->seq, 2);
	assert_string_equal(v->path, "envs/dev/config/p/+keys/B/0000000002.pb");
	assert_string_equal(bm_config_get(c, "C")->env, "dev/team/alice");
	assert_null(bm_config_get(c, "GONE"));
	assert_null(bm_config_get(c, "Z"));
	bm_config_free(c);

	/* the layer alone keeps its tombstones */
	assert_int_equal(bm_config_layer_fs(&c, fs, "p", "dev/team/alice"), 0);
	assert_int_equal(c->count, 2);
	assert_true(bm_config_get(c, "A")->tombstone);
	bm_config_free(c);

	assert_int_equal(bm_config_resolve_fs(&c, fs, "p/sub", "dev"), 0);
	assert_int_equal(c->count, 1);
	assert_string_equal(c->values[0].text, "sub-a");
	bm_config_free(c);
	assert_int_equal(bm_config_resolve_fs(&c, fs, "none", "dev"), 0);
	assert_int_equal(c->count, 0);
	bm_config_free(c);
	assert_int_equal(bm_config_resolve_fs(&c, fs, "p", "prod"), BM_ENOTFOUND);
	assert_null(c);
	assert_int_equal(bm_config_resolve_fs(&c, fs, "../p", "dev"), BM_EINVALID);

	/* a record that lies about its key, and one that does not decode */
	put_value(fs, "dev/team", "p", "X", 1, "x", 0);
	assert_int_equal(bm_fs_mem_put(fs, "envs/dev/team/config/p/+keys/Y/0000000001.pb",
				       "\x1a\x01X", 3), 0); /* key "X" in Y's folder */
	assert_int_equal(bm_config_resolve_fs(&c, fs, "p", "dev/team"), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "not where it lies"));
	assert_int_equal(bm_fs_mem_put(fs, "envs/dev/team/config/p/+keys/Y/0000000002.pb", "\xff\xff", 2), 0);
	assert_int_equal(bm_config_resolve_fs(&c, fs, "p", "dev/team"), BM_ECORRUPT);
	assert_non_null(strstr(bm_error_last(), "+keys/Y/0000000002.pb"));
	bm_fs_free(fs);
}

static void test_format_env(void **state)
{
	bm_fs *fs = NULL;
	bm_config *c = NULL;
	bm_buf b = BM_BUF_INIT;
	(void)state;

	assert_int_equal(bm_fs_mem(&fs), 0);
	put_env(fs, "e", "");
	put_value(fs, "e", "p", "PLAIN", 1, "a b=c#d", 0);
	put_value(fs, "e", "p", "EMPTY", 1, "", 0);
	put_value(fs, "e", "p", "JSON", 1, "{\"a\":1}", 0);
	assert_int_equal(bm_config_resolve_fs(&c, fs, "p", "e"), 0);
	assert_int_equal(bm_config_format_env(&b, c, BM_CONFIG_ENV_PORTABLE), 0);
	assert_string_equal(b.ptr, "EMPTY=\nJSON={\"a\":1}\nPLAIN=a b=c#d\n");
	bm_config_free(c);

	put_value(fs, "e", "p", "Q", 1, "\"q\" $HOME `x` \\", 0);
	put_value(fs, "e", "p", "NL", 1, "line1\nline2", 0);
	assert_int_equal(bm_config_resolve_fs(&c, fs, "p", "e"), 0);
	bm_buf_clear(&b);
	assert_int_equal(bm_config_format_env(&b, c, BM_CONFIG_ENV_PORTABLE), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "2 key(s)"));
	bm_buf_clear(&b);
	assert_int_equal(bm_config_format_env(&b, c, BM_CONFIG_ENV_SYSTEMD), 0);
	assert_non_null(strstr(b.ptr, "NL=\"line1\nline2\"\n"));
	assert_non_null(strstr(b.ptr, "Q=\"\\\"q\\\" \\$HOME \\`x\\` \\\\\"\n"));
	assert_non_null(strstr(b.ptr, "PLAIN=a b=c#d\n"));
	bm_buf_clear(&b);
	assert_int_equal(bm_config_format_env(&b, c, BM_CONFIG_ENV_DOCKER), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "NL: a newline"));
	bm_config_free(c);

	put_value(fs, "e", "p", "NL", 2, NULL, 1);
	put_value(fs, "e", "p", "my.key", 1, "v", 0);
	assert_int_equal(bm_config_resolve_fs(&c, fs, "p", "e"), 0);
	bm_buf_clear(&b);
	assert_int_equal(bm_config_format_env(&b, c, BM_CONFIG_ENV_DOCKER), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "my.key: not an environment variable name"));
	bm_config_free(c);
	bm_buf_dispose(&b);
	bm_fs_free(fs);
}

/* ---- writes on a real store ---- */

static int add_project(bm_txn *txn, void *payload)
{
	char path[256];
	snprintf(path, sizeof(path), "projects/%s/project.pb", (const char *)payload);
	return bm_txn_add(txn, path, "", 0);
}

static bm_store *new_store(const char *name)
{
	char p[512];
	bm_store *s = NULL;
	bm_env_add_options o = BM_ENV_ADD_OPTIONS_INIT;
	bm_store_open_options so = BM_STORE_OPEN_OPTIONS_INIT;
	so.actor = "Test <test@example.com>"; /* the library reads no $BOOTMETA_ACTOR */
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	assert_int_equal(bm_store_init_ext(&s, p, &so), 0);
	assert_int_equal(bm_store_write(NULL, s, add_project, (void *)"app/srv", NULL), 0);
	assert_int_equal(bm_env_add(NULL, s, "prod", &o, NULL), 0);
	assert_int_equal(bm_dev_init(NULL, s, "alice", NULL, NULL), 0);
	return s;
}

static int count_commits(const bm_commit_info *info, void *payload)
{
	(void)info;
	(*(int *)payload)++;
	return 0;
}

static void test_write_resolve_revert(void **state)
{
	bm_store *s = new_store("w1");
	bm_config_changes ch;
	bm_config *c = NULL;
	bm_config_resolve_options ro = BM_CONFIG_RESOLVE_OPTIONS_INIT;
	bm_config_write_options wo = BM_CONFIG_WRITE_OPTIONS_INIT;
	bm_config_assign a[3] = {
		{ "PORT", BM_CONFIG_INT64, "80", 0 },
		{ "HOST", BM_CONFIG_STRING, "db.internal", 0 },
		{ "DEBUG", BM_CONFIG_BOOL, "false", 0 },
	};
	bm_oid t0, t1, t2;
	char hex[BM_OID_HEXSZ + 1];
	int n0 = 0, n1 = 0;
	(void)state;

	assert_int_equal(bm_store_log(s, NULL, 0, count_commits, &n0), 0);
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "prod", a, 3, NULL, NULL), 0);
	assert_true(ch.has_commit);
	assert_int_equal(ch.count, 3);
	assert_int_equal(ch.items[0].after.seq, 1);
	bm_config_changes_dispose(&ch);
	assert_int_equal(bm_store_log(s, NULL, 0, count_commits, &n1), 0);
	assert_int_equal(n1, n0 + 1); /* three keys, one commit */
	assert_int_equal(bm_store_tip(&t0, s), 0);

	/* unchanged: no commit; dry run: no commit */
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "prod", a, 1, NULL, NULL), 0);
	assert_false(ch.has_commit);
	assert_true(ch.items[0].unchanged);
	bm_config_changes_dispose(&ch);
	a[0].value = "8080";
	wo.dry_run = 1;
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "prod", a, 1, &wo, NULL), 0);
	assert_false(ch.has_commit);
	assert_true(ch.items[0].has_before);
	assert_string_equal(ch.items[0].before.text, "80");
	assert_string_equal(ch.items[0].after.text, "8080");
	assert_int_equal(ch.items[0].after.seq, 2);
	assert_string_equal(ch.items[0].after.path, "envs/prod/config/app/srv/+keys/PORT/0000000002.pb");
	bm_config_changes_dispose(&ch);
	assert_int_equal(bm_store_tip(&t1, s), 0);
	assert_true(bm_oid_equal(&t0, &t1));

	/* bad input: nothing written */
	a[0].value = "abc";
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "prod", a, 2, NULL, NULL), BM_EINVALID);
	a[0].value = "8080";
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "nope", a, 1, NULL, NULL), BM_ENOTFOUND);
	assert_int_equal(bm_config_write(&ch, s, "app/none", "prod", a, 1, NULL, NULL), BM_ENOTFOUND);
	{
		bm_config_assign u = { "NEVER", BM_CONFIG_STRING, NULL, 1 };
		assert_int_equal(bm_config_write(&ch, s, "app/srv", "prod", &u, 1, NULL, NULL), BM_ENOTFOUND);
	}
	assert_int_equal(bm_store_tip(&t1, s), 0);
	assert_true(bm_oid_equal(&t0, &t1));

	/* a real change, then revert to seq 1 and to the commit t0 */
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "prod", a, 1, NULL, NULL), 0);
	bm_config_changes_dispose(&ch);
	assert_int_equal(bm_config_revert(&ch, s, "app/srv", "prod", "PORT", 1, NULL, NULL, NULL), 0);
	assert_int_equal(ch.items[0].after.seq, 3);
	assert_int_equal(ch.items[0].after.reverted_from_seq, 1);
	bm_config_changes_dispose(&ch);
	ro.with_commits = 1;
	assert_int_equal(bm_config_resolve(&c, s, "app/srv", "prod", &ro), 0);
	assert_string_equal(bm_config_get(c, "PORT")->text, "80");
	assert_int_equal(bm_config_get(c, "PORT")->type, BM_CONFIG_INT64);
	assert_int_equal(bm_config_get(c, "PORT")->int64_value, 80);
	assert_true(bm_config_get(c, "PORT")->has_commit);
	assert_int_equal(bm_store_tip(&t2, s), 0);
	assert_true(bm_oid_equal(&bm_config_get(c, "PORT")->commit, &t2));
	assert_true(bm_oid_equal(&bm_config_get(c, "HOST")->commit, &t0)); /* set in the first call */
	assert_true(bm_oid_equal(&c->at, &t2));
	bm_config_free(c);

	/* pinned to an older commit */
	ro.at = &t0;
	ro.with_commits = 0;
	assert_int_equal(bm_config_resolve(&c, s, "app/srv", "prod", &ro), 0);
	assert_true(bm_oid_equal(&c->at, &t0));
	assert_int_equal(c->count, 3);
	bm_config_free(c);

	bm_oid_fmt(hex, &t0);
	a[0].value = "1";
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "prod", a, 1, NULL, NULL), 0);
	bm_config_changes_dispose(&ch);
	assert_int_equal(bm_config_revert(&ch, s, "app/srv", "prod", "PORT", 0, hex, NULL, NULL), 0);
	assert_string_equal(ch.items[0].after.text, "80");
	assert_string_equal(ch.items[0].after.reverted_from_commit, hex);
	bm_config_changes_dispose(&ch);
	assert_int_equal(bm_config_revert(&ch, s, "app/srv", "prod", "PORT", 99, NULL, NULL, NULL), BM_ENOTFOUND);

	/* history: every record, by key then seq */
	assert_int_equal(bm_config_history(&c, s, "app/srv", "prod", "PORT", NULL), 0);
	assert_int_equal(c->count, 5);
	assert_int_equal(c->values[4].seq, 5);
	bm_config_free(c);

	/* the overlay: alice's unset uncovers prod? no: dev/alice's parent is dev */
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "dev/alice", a + 1, 1, NULL, NULL), 0);
	bm_config_changes_dispose(&ch);
	assert_int_equal(bm_config_resolve(&c, s, "app/srv", "dev/alice", NULL), 0);
	assert_int_equal(c->count, 1);
	assert_int_equal(c->chain.count, 2);
	bm_config_free(c);
	bm_store_free(s);
}

/* Several processes set the same key at once: every write lands, seqs have no gaps. */
/* ---- resolve with secrets ---- */

static void new_identity(bm_buf *ident, bm_buf *rcpt, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/keys/%s", tmpdir, name);
	assert_int_equal(bm_secret_identity_create(rcpt, NULL, p, 0), 0);
	assert_int_equal(bm_secret_identity_load(ident, NULL, p), 0);
}

static void set_secret(bm_store *s, const char *env, const char *name, const char *value)
{
	assert_int_equal(bm_secret_set(NULL, s, "app/srv", env, name, value, strlen(value), NULL), 0);
}

static void test_resolve_secrets(void **state)
{
	bm_store *s = new_store("sec");
	bm_buf alice = BM_BUF_INIT, alice_r = BM_BUF_INIT, carol = BM_BUF_INIT, carol_r = BM_BUF_INIT;
	bm_config_changes ch;
	bm_config *c = NULL;
	bm_config_resolve_options ro = BM_CONFIG_RESOLVE_OPTIONS_INIT;
	bm_config_resolve_options v1 = { 1, NULL, 0, NULL, 0 };
	const bm_config_value *v;
	bm_config_assign dev[3] = {
		{ "DB_URL", BM_CONFIG_STRING, "postgres://db.dev/app", 0 },
		{ "API_TOKEN", BM_CONFIG_STRING, "placeholder", 0 },
		{ "PORT", BM_CONFIG_INT64, "8080", 0 },
	};
	bm_config_assign mine = { "DB_PASSWORD", BM_CONFIG_STRING, "localpass", 0 };
	(void)state;

	new_identity(&alice, &alice_r, "alice");
	new_identity(&carol, &carol_r, "carol");
	assert_int_equal(bm_recipients_add(NULL, s, "dev", alice_r.ptr, NULL, NULL), 0);
	assert_int_equal(bm_recipients_add(NULL, s, "dev/alice", alice_r.ptr, NULL, NULL), 0);
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "dev", dev, 3, NULL, NULL), 0);
	bm_config_changes_dispose(&ch);
	assert_int_equal(bm_config_write(&ch, s, "app/srv", "dev/alice", &mine, 1, NULL, NULL), 0);
	bm_config_changes_dispose(&ch);
	set_secret(s, "dev", "API_TOKEN", "tok-dev");        /* beats dev's config key of that name */
	set_secret(s, "dev", "DB_PASSWORD", "pw-dev");       /* loses to dev/alice's config key */
	set_secret(s, "dev/alice", "DB_URL", "postgres://alice@localhost/app"); /* beats dev's key */
	assert_int_equal(bm_secret_set(NULL, s, "app/srv", "dev/alice", "BLOB", "a\0b", 3, NULL), 0);

	/* without identities: config only, as before */
	assert_int_equal(bm_config_resolve(&c, s, "app/srv", "dev/alice", &ro), 0);
	assert_int_equal(c->count, 4);
	assert_string_equal(bm_config_get(c, "API_TOKEN")->text, "placeholder");
	assert_int_equal(c->nskipped, 0);
	bm_config_free(c);
	/* a version 1 options struct never reads the new fields */
	assert_int_equal(bm_config_resolve(&c, s, "app/srv", "dev/alice", &v1), 0);
	assert_int_equal(c->count, 4);
	bm_config_free(c);

	ro.identities = alice.ptr;
	assert_int_equal(bm_config_resolve(&c, s, "app/srv", "dev/alice", &ro), 0);
	assert_int_equal(c->count, 4); /* API_TOKEN DB_PASSWORD DB_URL PORT */
	v = bm_config_get(c, "API_TOKEN");
	assert_true(v->secret);
	assert_string_equal(v->text, "tok-dev");
	assert_string_equal(v->env, "dev");
	assert_int_equal(v->seq, 1);
	assert_non_null(strstr(v->path, "envs/dev/secrets/app/srv/API_TOKEN/"));
	v = bm_config_get(c, "DB_PASSWORD");
	assert_false(v->secret);
	assert_string_equal(v->text, "localpass");
	v = bm_config_get(c, "DB_URL");
	assert_true(v->secret);
	assert_string_equal(v->text, "postgres://alice@localhost/app");
	assert_string_equal(v->env, "dev/alice");
	assert_false(bm_config_get(c, "PORT")->secret);
	assert_int_equal(c->nskipped, 1); /* BLOB is not text */
	assert_string_equal(c->skipped[0].name, "BLOB");
	assert_int_equal(c->skipped[0].error, BM_EINVALID);
	assert_null(bm_config_get(c, "BLOB"));
	bm_config_free(c);

	/* not a recipient: config only, and skipped secrets claim their names */
	ro.identities = carol.ptr;
	assert_int_equal(bm_config_resolve(&c, s, "app/srv", "dev/alice", &ro), 0);
	assert_int_equal(c->count, 2); /* DB_PASSWORD (dev/alice key), PORT */
	assert_string_equal(bm_config_get(c, "DB_PASSWORD")->text, "localpass");
	assert_null(bm_config_get(c, "DB_URL"));    /* dev's key does not show through */
	assert_null(bm_config_get(c, "API_TOKEN")); /* nor dev's key under dev's secret */
	assert_int_equal(c->nskipped, 3);           /* DB_URL, BLOB (dev/alice), API_TOKEN (dev) */
	assert_int_equal(c->skipped[0].error, BM_ENORECIPIENT);
	assert_non_null(strstr(c->skipped[0].message, "not a recipient of"));
	bm_config_free(c);

	/* require_signed without allowed signers: nothing decrypted, every secret skipped */
	{
		bm_store_open_options so = BM_STORE_OPEN_OPTIONS_INIT;
		bm_store *s2 = NULL;
		so.allowed_signers = "/nonexistent/allowed_signers";
		assert_int_equal(bm_store_open_ext(&s2, bm_store_path(s), &so), 0);
		ro.identities = alice.ptr;
		ro.require_signed = 1;
		assert_int_equal(bm_config_resolve(&c, s2, "app/srv", "dev", &ro), 0);
		bm_store_free(s2);
	}
	assert_int_equal(c->nskipped, 2);
	assert_int_equal(c->skipped[0].error, BM_EVERIFY);
	assert_non_null(strstr(c->skipped[0].message, "require-signed"));
	assert_null(bm_config_get(c, "API_TOKEN"));
	assert_string_equal(bm_config_get(c, "DB_URL")->text, "postgres://db.dev/app");
	bm_config_free(c);

	bm_buf_dispose_secret(&alice);
	bm_buf_dispose_secret(&carol);
	bm_buf_dispose(&alice_r);
	bm_buf_dispose(&carol_r);
	bm_store_free(s);
}

static void test_concurrent_writers(void **state)
{
	bm_store *s = new_store("conc");
	char path[512];
	bm_config *c = NULL;
	int i, k, status;
	pid_t pids[4];
	(void)state;

	snprintf(path, sizeof(path), "%s/conc", tmpdir);
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			bm_store *cs = NULL;
			int ok = bm_store_open(&cs, path) == 0;
			for (k = 0; ok && k < 5; k++) {
				char val[32];
				bm_config_assign a = { "N", BM_CONFIG_STRING, val, 0 };
				bm_config_changes ch;
				snprintf(val, sizeof(val), "%d-%d", i, k);
				ok = bm_config_write(&ch, cs, "app/srv", "prod", &a, 1, NULL, NULL) == 0 && ch.has_commit;
				bm_config_changes_dispose(&ch);
			}
			bm_store_free(cs);
			_exit(ok ? 0 : 1);
		}
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(bm_config_history(&c, s, "app/srv", "prod", "N", NULL), 0);
	assert_int_equal(c->count, 20);
	for (i = 0; i < 20; i++)
		assert_int_equal(c->values[i].seq, (uint64_t)i + 1);
	bm_config_free(c);
	bm_store_free(s);
}

/* ---- envs on a store, and the checkout file ---- */

static void test_env_writes_and_checkout(void **state)
{
	bm_store *s = new_store("envs");
	bm_env_add_options o = BM_ENV_ADD_OPTIONS_INIT;
	bm_fs *fs = NULL;
	bm_env *e = NULL;
	bm_buf env = BM_BUF_INIT, file = BM_BUF_INIT, data = BM_BUF_INIT;
	char co[300], cmd[1200], sub[400];
	bm_oid t0, t1;
	(void)state;

	assert_int_equal(bm_store_tip(&t0, s), 0);
	assert_int_equal(bm_env_add(NULL, s, "prod", NULL, NULL), BM_EEXISTS);
	assert_int_equal(bm_env_add(NULL, s, "stage/eu", NULL, NULL), BM_ENOTFOUND);
	o.parent = "x";
	assert_int_equal(bm_env_add(NULL, s, "x", &o, NULL), BM_EINVALID);
	o.parent = "nope";
	assert_int_equal(bm_env_add(NULL, s, "qa", &o, NULL), BM_ENOTFOUND);
	assert_int_equal(bm_dev_init(NULL, s, "alice", NULL, NULL), BM_EEXISTS);
	assert_int_equal(bm_dev_init(NULL, s, "Bob", NULL, NULL), BM_EINVALID);
	assert_int_equal(bm_store_tip(&t1, s), 0);
	assert_true(bm_oid_equal(&t0, &t1));

	o.parent = NULL;
	o.create_parent = 1;
	assert_int_equal(bm_env_add(NULL, s, "stage/eu", &o, NULL), 0);
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_env_read(&e, fs, "stage/eu"), 0);
	assert_string_equal(e->parent, "stage");
	assert_string_equal(e->actor, "Test <test@example.com>");
	bm_env_free(e);
	assert_int_equal(bm_env_exists(fs, "stage"), 1);
	bm_fs_free(fs);

	snprintf(co, sizeof(co), "%s/checkout", tmpdir);
	snprintf(cmd, sizeof(cmd), "git init -q %s && mkdir -p %s/a/b && printf 'x' > %s/.gitignore", co, co, co);
	assert_int_equal(system(cmd), 0);
	snprintf(sub, sizeof(sub), "%s/a/b", co);
	assert_int_equal(bm_checkout_env_read(&env, NULL, sub), BM_ENOTFOUND);
	assert_int_equal(bm_checkout_env_write(&file, sub, "dev/alice"), 0);
	assert_non_null(strstr(file.ptr, "/checkout/.bootmeta-env"));
	assert_int_equal(bm_checkout_env_read(&env, NULL, sub), 0);
	assert_string_equal(env.ptr, "dev/alice");
	snprintf(cmd, sizeof(cmd), "%s/.gitignore", co);
	assert_int_equal(bm_file_read(&data, cmd, 0), 0);
	assert_string_equal(data.ptr, "x\n/.bootmeta-env\n");
	assert_int_equal(bm_checkout_env_write(&file, co, "prod"), 0);
	bm_buf_clear(&data);
	assert_int_equal(bm_file_read(&data, cmd, 0), 0);
	assert_string_equal(data.ptr, "x\n/.bootmeta-env\n"); /* not twice */
	assert_int_equal(bm_checkout_env_write(&file, co, "bad name"), BM_EINVALID);
	assert_int_equal(bm_checkout_env_write(&file, co, NULL), 0);
	assert_int_equal(bm_checkout_env_read(&env, NULL, co), BM_ENOTFOUND);
	assert_int_equal(bm_checkout_env_read(&env, NULL, tmpdir), BM_ENOTFOUND);
	bm_buf_dispose(&env);
	bm_buf_dispose(&file);
	bm_buf_dispose(&data);
	bm_store_free(s);
}

/* ---- generator logs ---- */

static void put_log(bm_fs *fs, const char *day, long long ms, const char *kind, const char *project)
{
	Bootmeta__V1__LogEntry e = BOOTMETA__V1__LOG_ENTRY__INIT;
	char path[256], id[32];
	snprintf(id, sizeof(id), "id%lld", ms);
	e.id = id;
	e.kind = (char *)kind;
	e.project = (char *)project;
	e.message = (char *)"m";
	e.time_ms = ms;
	snprintf(path, sizeof(path), "log/%s/%013lld-%s.pb", day, ms, id);
	put_msg(fs, path, &e.base);
}

typedef struct {
	long long times[32];
	int n;
	int bad;
} seen_t;

static int seen_cb(const bm_log_entry *e, void *payload)
{
	seen_t *s = payload;
	s->times[s->n++] = e->time_ms;
	return 0;
}

static void bad_cb(const char *path, const char *error, void *payload)
{
	(void)path;
	(void)error;
	((seen_t *)payload)->bad++;
}

static void test_genlog(void **state)
{
	bm_fs *fs = NULL;
	bm_log_filter f = BM_LOG_FILTER_INIT;
	bm_log_add_spec spec = BM_LOG_ADD_SPEC_INIT;
	seen_t seen;
	const long long d1 = 1704067200000LL; /* 2024-01-01T00:00:00Z */
	const long long d2 = 1706745600000LL; /* 2024-02-01 */
	const long long d3 = 1735689600000LL; /* 2025-01-01 */
	const char *keys[70], *vals[70];
	char kbuf[70][8], *big;
	int i;
	(void)state;

	assert_int_equal(bm_fs_mem(&fs), 0);
	put_log(fs, "2024/01/01", d1 + 5, "codegen", "p");
	put_log(fs, "2024/01/01", d1 + 86399999, "deploy", "q");
	put_log(fs, "2024/02/01", d2, "codegen", "q");
	put_log(fs, "2025/01/01", d3 + 1000, "codegen", "p");
	assert_int_equal(bm_fs_mem_put(fs, "log/2024/01/01/0000000000009-bad.pb", "\xff\xff", 2), 0);
	assert_int_equal(bm_fs_mem_put(fs, "log/2024/13/01/x.pb", "", 0), 0); /* not a month: skipped */

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(bm_log_list(fs, NULL, seen_cb, bad_cb, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.times[0], d3 + 1000); /* newest first */
	assert_int_equal(seen.times[3], d1 + 5);
	assert_int_equal(seen.bad, 1);

	memset(&seen, 0, sizeof(seen));
	f.kind = "codegen";
	f.project = "p";
	assert_int_equal(bm_log_list(fs, &f, seen_cb, NULL, &seen), 0);
	assert_int_equal(seen.n, 2);

	memset(&seen, 0, sizeof(seen));
	f.kind = f.project = NULL;
	f.since_ms = d1 + 6;        /* inclusive */
	f.until_ms = d3 + 1000;     /* exclusive */
	assert_int_equal(bm_log_list(fs, &f, seen_cb, NULL, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.times[0], d2);
	assert_int_equal(seen.times[1], d1 + 86399999);

	memset(&seen, 0, sizeof(seen));
	f.since_ms = f.until_ms = 0;
	f.limit = 3;
	assert_int_equal(bm_log_list(fs, &f, seen_cb, NULL, &seen), 0);
	assert_int_equal(seen.n, 3);
	bm_fs_free(fs);

	/* bounds */
	spec.kind = "codegen";
	spec.message = "ok";
	assert_int_equal(bm_log_check(&spec), 0);
	spec.kind = "Codegen";
	assert_int_equal(bm_log_check(&spec), BM_EINVALID);
	spec.kind = "codegen";
	spec.env = "dev/config";
	assert_int_equal(bm_log_check(&spec), BM_EINVALID);
	spec.env = NULL;
	big = malloc(BM_LOG_MESSAGE_MAX + 2);
	memset(big, 'm', BM_LOG_MESSAGE_MAX + 1);
	big[BM_LOG_MESSAGE_MAX + 1] = '\0';
	spec.message = big;
	assert_int_equal(bm_log_check(&spec), BM_ETOOBIG);
	big[BM_LOG_MESSAGE_MAX] = '\0';
	assert_int_equal(bm_log_check(&spec), 0);
	spec.message = "ok";
	for (i = 0; i < 70; i++) {
		snprintf(kbuf[i], sizeof(kbuf[i]), "k%d", i);
		keys[i] = kbuf[i];
		vals[i] = "v";
	}
	spec.attr_keys = keys;
	spec.attr_values = vals;
	spec.nattrs = BM_LOG_ATTRS_MAX + 1;
	assert_int_equal(bm_log_check(&spec), BM_ETOOBIG);
	spec.nattrs = 2;
	assert_int_equal(bm_log_check(&spec), 0);
	big[BM_LOG_ATTR_VALUE_MAX + 1] = '\0';
	vals[1] = big;
	assert_int_equal(bm_log_check(&spec), BM_ETOOBIG);
	big[BM_LOG_ATTR_VALUE_MAX] = '\0';
	assert_int_equal(bm_log_check(&spec), 0);
	vals[1] = "v";
	keys[1] = "k0";
	assert_int_equal(bm_log_check(&spec), BM_EINVALID);
	free(big);
}

static void test_genlog_store(void **state)
{
	bm_store *s = new_store("log");
	bm_log_add_spec spec = BM_LOG_ADD_SPEC_INIT;
	bm_log_entry *e = NULL;
	bm_fs *fs = NULL;
	seen_t seen;
	const char *k[] = { "gen" }, *v[] = { "protoc" };
	(void)state;

	spec.kind = "codegen";
	spec.project = "app/srv";
	spec.message = "regenerated";
	spec.attr_keys = k;
	spec.attr_values = v;
	spec.nattrs = 1;
	assert_int_equal(bm_log_add(&e, s, &spec, NULL), 0);
	assert_int_equal(strlen(e->id), 16);
	assert_int_equal(strncmp(e->path, "log/", 4), 0);
	assert_string_equal(e->attrs[0].value, "protoc");
	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_fs_exists(fs, e->path), 1);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(bm_log_list(fs, NULL, seen_cb, NULL, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.times[0], e->time_ms);
	bm_log_entry_free(e);
	bm_fs_free(fs);
	bm_store_free(s);
}

/* ---- imports ---- */

typedef struct {
	const char *release;
	int dup;
} idx_ctx;

static int add_index(bm_txn *txn, void *payload)
{
	idx_ctx *c = payload;
	bm_module_import im[2] = { { "github.com/acme/lib", "v1.2.0", 0 }, { "github.com/acme/lib/v2", "v2.0.0", 1 } };
	if (c->dup)
		im[1].module = im[0].module;
	return bm_module_index_add_txn(txn, "app/srv", c->release, im, 2);
}

static void test_imports(void **state)
{
	bm_store *s = new_store("imports");
	bm_buf m = BM_BUF_INIT, v = BM_BUF_INIT;
	bm_fs *fs = NULL;
	bm_module_refs r;
	idx_ctx c = { "r1", 0 };
	bm_oid t0, t1;
	(void)state;

	assert_int_equal(bm_import_parse(&m, &v, "github.com/acme/lib@v1.2.3"), 0);
	assert_string_equal(m.ptr, "github.com/acme/lib");
	assert_string_equal(v.ptr, "v1.2.3");
	assert_int_equal(bm_import_parse(&m, &v, "github.com/acme/lib"), BM_EINVALID);
	assert_int_equal(bm_import_parse(&m, &v, "@v1"), BM_EINVALID);
	assert_int_equal(bm_import_parse(&m, &v, "../x@v1"), BM_EINVALID);
	assert_int_equal(bm_import_parse(&m, &v, "a.b/c@v 1"), BM_EINVALID);

	assert_int_equal(bm_store_write(NULL, s, add_index, &c, NULL), 0);
	assert_int_equal(bm_store_tip(&t0, s), 0);
	/* the same release again, and a module twice: refused, nothing written */
	assert_int_equal(bm_store_write(NULL, s, add_index, &c, NULL), BM_EEXISTS);
	c.release = "r2";
	c.dup = 1;
	assert_int_equal(bm_store_write(NULL, s, add_index, &c, NULL), BM_EINVALID);
	assert_int_equal(bm_store_tip(&t1, s), 0);
	assert_true(bm_oid_equal(&t0, &t1));
	c.dup = 0;
	assert_int_equal(bm_store_write(NULL, s, add_index, &c, NULL), 0);

	assert_int_equal(bm_store_fs(&fs, s, NULL), 0);
	assert_int_equal(bm_fs_exists(fs, "modules/github.com/acme/lib/+by/app/srv/r1.pb"), 1);
	assert_int_equal(bm_dependents(&r, fs, "github.com/acme/lib", NULL, NULL, NULL), 0);
	assert_int_equal(r.count, 2); /* r1, r2; not lib/v2's */
	assert_string_equal(r.items[0].release, "r1");
	assert_string_equal(r.items[0].version, "v1.2.0");
	assert_int_equal(r.items[0].channels.count, 0);
	bm_module_refs_dispose(&r);
	assert_int_equal(bm_dependents(&r, fs, "github.com/acme/lib/v2", "v2.0.0", NULL, NULL), 0);
	assert_int_equal(r.count, 2);
	assert_true(r.items[0].indirect);
	bm_module_refs_dispose(&r);
	assert_int_equal(bm_dependents(&r, fs, "github.com/acme/lib", "v9", NULL, NULL), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(bm_dependents(&r, fs, "nobody.example/x", NULL, NULL, NULL), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(bm_release_imports(&r, fs, "app/srv", "r1"), BM_ENOTFOUND);
	assert_int_equal(bm_channel_release(&m, NULL, fs, "app/srv", "stable"), BM_ENOTFOUND);
	bm_fs_free(fs);
	bm_buf_dispose(&m);
	bm_buf_dispose(&v);
	bm_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_parse),
		cmocka_unit_test(test_env_names_and_chain),
		cmocka_unit_test(test_resolve_layers),
		cmocka_unit_test(test_format_env),
		cmocka_unit_test(test_write_resolve_revert),
		cmocka_unit_test(test_resolve_secrets),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_env_writes_and_checkout),
		cmocka_unit_test(test_genlog),
		cmocka_unit_test(test_genlog_store),
		cmocka_unit_test(test_imports),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
