/* test_options.c: every entry point that takes a versioned options struct (*_VERSION)
 * refuses a version it does not know (0: the _INIT macro was not used; newer than this
 * library) with BM_EINVALID naming the struct, and writes nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bootmeta.h"

static char tmpdir[256];
static bm_store *store;

static int setup(void **state)
{
	char path[512];
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bm-test-options-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	if (bm_global_init() < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/meta.git", tmpdir);
	return bm_store_init(&store, path);
}

static int teardown(void **state)
{
	char cmd[512];
	(void)state;
	bm_store_free(store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	bm_global_shutdown();
	return system(cmd);
}

/* `call` was refused as a bad `type` version, and the store's tip did not move. */
#define REFUSED(call, type)                                                            \
	do {                                                                           \
		bm_oid before_, after_;                                                \
		int had_ = bm_store_tip(&before_, store) == 0;                        \
		assert_int_equal((call), BM_EINVALID);                                 \
		assert_non_null(strstr(bm_error_last(), type " version"));             \
		assert_int_equal(bm_store_tip(&after_, store) == 0, had_);            \
		if (had_)                                                              \
			assert_memory_equal(&before_, &after_, sizeof(before_));       \
	} while (0)

static int count_entry(const bm_log_entry *e, void *payload)
{
	(void)e;
	++*(int *)payload;
	return 0;
}

static void test_bad_versions(void **state)
{
	static const unsigned int bad[] = { 0, 99 };
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned int v = bad[i];
		bm_config *c = NULL;
		bm_config_changes ch;
		bm_flag_change fc;
		bm_fs *fs = NULL;
		bm_buf buf = BM_BUF_INIT;
		int n = 0;
		bm_config_resolve_options ro = BM_CONFIG_RESOLVE_OPTIONS_INIT;
		bm_config_write_options cw = BM_CONFIG_WRITE_OPTIONS_INIT;
		bm_env_add_options eo = BM_ENV_ADD_OPTIONS_INIT;
		bm_flag_write_options fo = BM_FLAG_WRITE_OPTIONS_INIT;
		bm_log_add_spec spec = BM_LOG_ADD_SPEC_INIT;
		bm_instance_report_spec is = BM_INSTANCE_REPORT_SPEC_INIT;
		bm_webhook_add_spec ws = BM_WEBHOOK_ADD_SPEC_INIT;
		bm_log_filter lf = BM_LOG_FILTER_INIT;
		bm_write_options wo = BM_WRITE_OPTIONS_INIT;
		bm_project_options po = BM_PROJECT_OPTIONS_INIT;
		bm_promote_options pr = BM_PROMOTE_OPTIONS_INIT;
		bm_binary_options bo = BM_BINARY_OPTIONS_INIT;
		bm_pbjson_options jo = BM_PBJSON_OPTIONS_INIT;
		bm_flag_export_options xo = BM_FLAG_EXPORT_OPTIONS_INIT;
		Bootmeta__V1__Project proj = BOOTMETA__V1__PROJECT__INIT;

		ro.version = cw.version = eo.version = fo.version = spec.version = lf.version = v;
		wo.version = po.version = pr.version = bo.version = jo.version = xo.version = is.version = ws.version = v;
		spec.kind = "codegen";
		spec.message = "m";

		REFUSED(bm_config_resolve(&c, store, "app", "prod", &ro), "bm_config_resolve_options");
		assert_null(c);
		REFUSED(bm_config_history(&c, store, "app", "prod", NULL, &ro), "bm_config_resolve_options");
		assert_null(c);
		REFUSED(bm_config_write(&ch, store, "app", "prod", NULL, 0, &cw, NULL), "bm_config_write_options");
		REFUSED(bm_config_revert(&ch, store, "app", "prod", "k", 1, NULL, &cw, NULL), "bm_config_write_options");
		REFUSED(bm_env_add(NULL, store, "prod", &eo, NULL), "bm_env_add_options");
		REFUSED(bm_flag_write(&fc, store, "app", "prod", "k", NULL, NULL, &fo, NULL), "bm_flag_write_options");
		REFUSED(bm_log_add(NULL, store, &spec, NULL), "bm_log_add_spec");
		REFUSED(bm_instance_report(NULL, NULL, store, &is, NULL), "bm_instance_report_spec");
		REFUSED(bm_instance_report_check(&is), "bm_instance_report_spec");
		REFUSED(bm_webhook_add(NULL, NULL, store, &ws, NULL), "bm_webhook_add_spec");
		REFUSED(bm_webhook_check(&ws), "bm_webhook_add_spec");
		REFUSED(bm_project_add(NULL, NULL, store, "app", &po), "bm_project_options");
		REFUSED(bm_channel_promote(NULL, NULL, store, "app", "stable", "r1", &pr), "bm_promote_options");
		REFUSED(bm_binary_add_digest(NULL, NULL, store, "app", "r1",
					     "0000000000000000000000000000000000000000000000000000000000000000", 1, &bo),
			"bm_binary_options");
		{
			bm_env_add_options ok = BM_ENV_ADD_OPTIONS_INIT;
			REFUSED(bm_env_add(NULL, store, "prod", &ok, &wo), "bm_write_options");
		}
		assert_int_equal(bm_fs_mem(&fs), 0);
		REFUSED(bm_log_list(fs, &lf, count_entry, NULL, &n), "bm_log_filter");
		assert_int_equal(n, 0);
		bm_fs_free(fs);
		{
			bm_store_open_options so = BM_STORE_OPEN_OPTIONS_INIT;
			bm_store *other = NULL;
			char path[600];
			so.version = v;
			REFUSED(bm_store_open_ext(&other, bm_store_path(store), &so), "bm_store_open_options");
			snprintf(path, sizeof(path), "%s/new-%u.git", tmpdir, v);
			REFUSED(bm_store_init_ext(&other, path, &so), "bm_store_open_options");
			REFUSED(bm_store_clone_ext(&other, bm_store_path(store), path, &so), "bm_store_open_options");
			assert_null(other);
		}
		{
			bm_release_options rel = BM_RELEASE_OPTIONS_INIT;
			bm_binary_verify_options bv = BM_BINARY_VERIFY_OPTIONS_INIT;
			bm_binary_sign_options bs = BM_BINARY_SIGN_OPTIONS_INIT;
			bm_binary_check chk = BM_BINARY_CHECK_INIT;
			bm_doctor_options dop = BM_DOCTOR_OPTIONS_INIT;
			bm_doctor_report rep = BM_DOCTOR_REPORT_INIT;
			bm_flag_spec fs_spec = BM_FLAG_SPEC_INIT;
			bm_flag *flag = NULL;
			bm_fs *view = NULL;
			bm_source src[] = { { "https://git.example.com/app.git",
					      "1111111111111111111111111111111111111111", NULL } };
			rel.sources = src;
			rel.nsources = 1;
			rel.version = bv.version = bs.version = dop.version = fs_spec.version = v;
			REFUSED(bm_release_add(NULL, NULL, store, "app", &rel), "bm_release_options");
			assert_int_equal(bm_store_fs(&view, store, NULL), 0);
			REFUSED(bm_binary_verify(&chk, view, bm_store_path(store), &bv), "bm_binary_verify_options");
			bm_binary_check_dispose(&chk);
			bm_fs_free(view);
			REFUSED(bm_binary_sign(NULL, NULL, store, bm_store_path(store), &bs), "bm_binary_sign_options");
			REFUSED(bm_doctor(&rep, bm_store_path(store), &dop), "bm_doctor_options");
			bm_doctor_report_dispose(&rep);
			REFUSED(bm_flag_from_spec(&flag, &fs_spec), "bm_flag_spec");
			assert_null(flag);
		}
		REFUSED(bm_pbjson_write(&buf, &proj.base, &jo), "bm_pbjson_options");
		REFUSED(bm_flag_export_flagd(&buf, NULL, 0, &xo), "bm_flag_export_options");
		bm_buf_dispose(&buf);
	}
}

/* A struct that only grew at the end stays readable at its older versions. */
static void test_older_version_accepted(void **state)
{
	bm_config *c = NULL;
	bm_config_resolve_options v1 = { 1, NULL, 0, NULL, 0 };
	int error;
	(void)state;
	error = bm_config_resolve(&c, store, "app", "prod", &v1);
	assert_int_not_equal(error, BM_EINVALID);
	bm_config_free(c);
	{
		/* bm_store_open_options version 1 ended at require_signed: a block of exactly that
		 * size (ASan sees a read past it) opens, inits and clones */
		struct v1_open {
			unsigned int version;
			const char *cache_dir, *signing_key, *allowed_signers, *actor;
			int require_signed;
		} *o1 = calloc(1, sizeof(*o1));
		bm_store *s2 = NULL;
		char path[600];
		assert_non_null(o1);
		o1->version = 1;
		o1->actor = "V One <v1@example.com>";
		assert_int_equal(bm_store_open_ext(&s2, bm_store_path(store), (const bm_store_open_options *)o1), 0);
		bm_store_free(s2);
		snprintf(path, sizeof(path), "%s/v1-init.git", tmpdir);
		assert_int_equal(bm_store_init_ext(&s2, path, (const bm_store_open_options *)o1), 0);
		bm_store_free(s2);
		snprintf(path, sizeof(path), "%s/v1-clone.git", tmpdir);
		assert_int_equal(bm_store_clone_ext(&s2, bm_store_path(store), path, (const bm_store_open_options *)o1), 0);
		bm_store_free(s2);
		free(o1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_versions),
		cmocka_unit_test(test_older_version_accepted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
