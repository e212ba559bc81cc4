/* test_webhook.c: webhook subscriptions (lib/webhook.c) on a real meta repo: add writes
 * hooks/<id>/hook.pb with the secret age-encrypted (decrypted again with the identity, not
 * with another), the record's path names its type; rm adds hooks/<id>/removed.pb and never
 * rewrites hook.pb; list shows live ones (and removed ones on request); bad URLs, prefixes,
 * secrets, recipients and ids are refused naming the field, with no commit. */
#define _GNU_SOURCE /* memmem */
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
static bm_buf ident = BM_BUF_INIT, rcpt = BM_BUF_INIT;

static int setup(void **state)
{
	char path[512];
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bm-test-webhook-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	if (bm_global_init() < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/meta.git", tmpdir);
	if (bm_store_init(&store, path) < 0)
		return -1;
	return bm_age_keygen(&ident, &rcpt);
}

static int teardown(void **state)
{
	char cmd[512];
	(void)state;
	bm_store_free(store);
	bm_buf_dispose_secret(&ident);
	bm_buf_dispose(&rcpt);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	bm_global_shutdown();
	return system(cmd);
}

static void tip(bm_oid *out)
{
	assert_int_equal(bm_store_tip(out, store), 0);
}

#define assert_refused(call, code, needle)                                               \
	do {                                                                             \
		bm_oid b_, a_;                                                           \
		int rc_;                                                                 \
		tip(&b_);                                                                \
		rc_ = (call);                                                            \
		if (rc_ != (code) || !strstr(bm_error_last(), needle))                   \
			fail_msg("got %d \"%s\", want %d with \"%s\"", rc_, bm_error_last(), \
				 (code), needle);                                        \
		tip(&a_);                                                                \
		assert_true(bm_oid_equal(&a_, &b_));                                     \
	} while (0)

static void test_add_read_secret(void **state)
{
	const char *r[] = { rcpt.ptr };
	bm_webhook_add_spec spec = BM_WEBHOOK_ADD_SPEC_INIT;
	Bootmeta__V1__Webhook *h = NULL, *back = NULL, *removal = NULL;
	bm_age_identities *ids = NULL, *other = NULL;
	bm_buf secret = BM_BUF_INIT, path = BM_BUF_INIT, raw = BM_BUF_INIT, oi = BM_BUF_INIT, orc = BM_BUF_INIT;
	bm_oid commit;
	bm_fs *fs = NULL;
	const ProtobufCMessageDescriptor *d = NULL;
	(void)state;

	spec.url = "https://hooks.example.com/bootmeta?x=1";
	spec.prefix = "projects/acme/";
	spec.secret = "s3cret-value";
	spec.secret_len = strlen("s3cret-value");
	spec.recipients = r;
	spec.nrecipients = 1;
	spec.description = "the CI";
	assert_int_equal(bm_webhook_add(&h, &commit, store, &spec, NULL), 0);
	assert_int_equal(bm_webhook_id_validate(h->id), 0);
	assert_string_equal(h->url, spec.url);
	assert_string_equal(h->prefix, "projects/acme/");
	assert_int_equal(h->n_recipients, 1);
	assert_string_equal(h->recipients[0], rcpt.ptr);
	assert_false(h->removed);
	assert_true(h->time_ms > 0);

	/* the file, its type by path, and no plain secret in it */
	assert_int_equal(bm_path_webhook(&path, h->id), 0);
	assert_int_equal(bm_store_fs(&fs, store, &commit), 0);
	assert_int_equal(bm_fs_read(&raw, fs, path.ptr), 0);
	assert_null(memmem(raw.ptr, raw.size, "s3cret-value", 12));
	assert_non_null(memmem(raw.ptr, raw.size, "age-encryption.org/v1", 21));
	assert_int_equal(bm_record_kind_for_path(path.ptr, &d), BM_FILE_RECORD);
	assert_ptr_equal(d, &bootmeta__v1__webhook__descriptor);
	assert_int_equal(bm_path_webhook_removed(&path, h->id), 0);
	assert_ptr_equal(bm_record_type_for_path(path.ptr), &bootmeta__v1__webhook__descriptor);

	assert_int_equal(bm_webhook_read(&back, &removal, fs, h->id), 0);
	assert_null(removal);
	assert_string_equal(back->url, spec.url);

	/* the identity opens it; another identity does not */
	assert_int_equal(bm_age_identities_new(&ids), 0);
	assert_int_equal(bm_age_identities_add_text(ids, ident.ptr), 0);
	assert_int_equal(bm_webhook_secret(&secret, back, ids), 0);
	assert_int_equal(secret.size, 12);
	assert_memory_equal(secret.ptr, "s3cret-value", 12);
	assert_int_equal(bm_age_keygen(&oi, &orc), 0);
	assert_int_equal(bm_age_identities_new(&other), 0);
	assert_int_equal(bm_age_identities_add_text(other, oi.ptr), 0);
	assert_int_equal(bm_webhook_secret(&secret, back, other), BM_ENORECIPIENT);
	assert_int_equal(secret.size, 0);

	assert_true(bm_webhook_matches(back, "projects/acme/server/channels/stable/0000000/0000000001.pb"));
	assert_false(bm_webhook_matches(back, "projects/other/project.pb"));
	assert_false(bm_webhook_matches(back, "log/2026/12/02/x.pb"));

	bm_record_free(&h->base);
	bm_record_free(&back->base);
	bm_age_identities_free(ids);
	bm_age_identities_free(other);
	bm_buf_dispose_secret(&secret);
	bm_buf_dispose_secret(&oi);
	bm_buf_dispose(&orc);
	bm_buf_dispose(&path);
	bm_buf_dispose(&raw);
	bm_fs_free(fs);
}

static void test_remove_and_list(void **state)
{
	const char *r[] = { rcpt.ptr };
	bm_webhook_add_spec spec = BM_WEBHOOK_ADD_SPEC_INIT;
	Bootmeta__V1__Webhook *a = NULL, *b = NULL, *rm = NULL, *h = NULL, *removal = NULL;
	bm_webhook_item *items = NULL;
	size_t n = 0, i, live_before;
	bm_fs *fs = NULL;
	bm_oid c1, c2;
	bm_buf path = BM_BUF_INIT, before = BM_BUF_INIT, after = BM_BUF_INIT;
	(void)state;

	assert_int_equal(bm_store_fs(&fs, store, NULL), 0);
	assert_int_equal(bm_webhook_list(&items, &n, fs, 0), 0);
	live_before = n;
	bm_webhook_list_free(items, n);
	bm_fs_free(fs);

	spec.url = "http://127.0.0.1:9/a";
	spec.secret = "k";
	spec.secret_len = 1;
	spec.recipients = r;
	spec.nrecipients = 1;
	assert_int_equal(bm_webhook_add(&a, NULL, store, &spec, NULL), 0);
	spec.url = "http://127.0.0.1:9/b";
	assert_int_equal(bm_webhook_add(&b, &c1, store, &spec, NULL), 0);
	assert_string_not_equal(a->id, b->id);
	assert_string_equal(a->prefix, "");

	/* hook.pb as it was before the removal */
	assert_int_equal(bm_store_fs(&fs, store, &c1), 0);
	assert_int_equal(bm_path_webhook(&path, a->id), 0);
	assert_int_equal(bm_fs_read(&before, fs, path.ptr), 0);
	bm_fs_free(fs);

	assert_int_equal(bm_webhook_remove(&rm, &c2, store, a->id, NULL), 0);
	assert_true(rm->removed);
	assert_string_equal(rm->id, a->id);
	assert_refused(bm_webhook_remove(NULL, NULL, store, a->id, NULL), BM_EEXISTS, "removed already");
	assert_refused(bm_webhook_remove(NULL, NULL, store, "0123456789abcdef", NULL), BM_ENOTFOUND, "no webhook");
	assert_refused(bm_webhook_remove(NULL, NULL, store, "0123456789ABCDEF", NULL), BM_EINVALID, "hex digits");

	assert_int_equal(bm_store_fs(&fs, store, &c2), 0);
	assert_int_equal(bm_fs_read(&after, fs, path.ptr), 0);
	assert_int_equal(before.size, after.size);
	assert_memory_equal(before.ptr, after.ptr, before.size);
	assert_int_equal(bm_webhook_read(&h, &removal, fs, a->id), 0);
	assert_non_null(removal);
	assert_true(removal->removed);

	assert_int_equal(bm_webhook_list(&items, &n, fs, 0), 0);
	assert_int_equal(n, live_before + 1);
	for (i = 0; i < n; i++) {
		assert_string_not_equal(items[i].hook->id, a->id);
		assert_null(items[i].removal);
		if (i)
			assert_true(strcmp(items[i - 1].hook->id, items[i].hook->id) < 0);
	}
	bm_webhook_list_free(items, n);
	assert_int_equal(bm_webhook_list(&items, &n, fs, 1), 0);
	assert_int_equal(n, live_before + 2);
	bm_webhook_list_free(items, n);

	bm_record_free(&a->base);
	bm_record_free(&b->base);
	bm_record_free(&rm->base);
	bm_record_free(&h->base);
	bm_record_free(&removal->base);
	bm_buf_dispose(&path);
	bm_buf_dispose(&before);
	bm_buf_dispose(&after);
	bm_fs_free(fs);
}

/* the _txn variants: several in one commit (serve's group commit), the out values replaced */
typedef struct {
	const bm_webhook_add_spec *spec;
	const char *rm;
	Bootmeta__V1__Webhook *a, *b, *removed;
} txn_ctx;

static int two_fn(bm_txn *txn, void *payload)
{
	txn_ctx *c = payload;
	int error;
	if ((error = bm_webhook_add_txn(&c->a, txn, c->spec)) < 0 || (error = bm_webhook_add_txn(&c->b, txn, c->spec)) < 0)
		return error;
	if (c->rm && (error = bm_webhook_remove_txn(&c->removed, txn, c->rm)) < 0)
		return error;
	return bm_txn_message(txn, "two hooks");
}

static void test_txn(void **state)
{
	const char *r[] = { rcpt.ptr };
	bm_webhook_add_spec spec = BM_WEBHOOK_ADD_SPEC_INIT;
	txn_ctx c = { &spec, NULL, NULL, NULL, NULL };
	Bootmeta__V1__Webhook *h = NULL, *removal = NULL;
	bm_fs *fs = NULL;
	bm_oid c0, c1, c2;
	char first[BM_WEBHOOK_ID_LEN + 1];
	(void)state;

	spec.url = "http://127.0.0.1:9/t";
	spec.prefix = "projects/acme/";
	spec.secret = "k";
	spec.secret_len = 1;
	spec.recipients = r;
	spec.nrecipients = 1;
	tip(&c0);
	assert_int_equal(bm_store_write(&c1, store, two_fn, &c, NULL), 0);
	assert_non_null(c.a);
	assert_non_null(c.b);
	assert_string_not_equal(c.a->id, c.b->id);
	assert_string_equal(c.a->prefix, "projects/acme/");
	snprintf(first, sizeof(first), "%s", c.a->id);
	assert_int_equal(bm_store_fs(&fs, store, &c1), 0);
	assert_int_equal(bm_webhook_read(&h, &removal, fs, c.a->id), 0);
	assert_null(removal);
	bm_record_free(&h->base);
	assert_int_equal(bm_webhook_read(&h, &removal, fs, c.b->id), 0);
	bm_record_free(&h->base);
	bm_fs_free(fs);

	/* again, removing the first: the out values are replaced (the old ones freed) */
	c.rm = first;
	assert_int_equal(bm_store_write(&c2, store, two_fn, &c, NULL), 0);
	assert_non_null(c.removed);
	assert_true(c.removed->removed);
	assert_string_equal(c.removed->id, first);
	assert_string_equal(c.removed->prefix, "projects/acme/");
	/* a removal of the same one again fails the whole transaction: nothing committed */
	assert_refused(bm_store_write(NULL, store, two_fn, &c, NULL), BM_EEXISTS, "removed already");
	spec.url = "ftp://x/";
	assert_refused(bm_store_write(NULL, store, two_fn, &c, NULL), BM_EINVALID, "http");
	assert_null(c.a); /* a failed call leaves no record behind */
	assert_int_equal(bm_webhook_remove_txn(NULL, NULL, "nothex"), BM_EINVALID);
	bm_error_clear();
	bm_record_free(c.b ? &c.b->base : NULL);
	bm_record_free(c.removed ? &c.removed->base : NULL);
}

static void test_bad_input(void **state)
{
	const char *r[] = { rcpt.ptr };
	const char *bad_r[] = { "age1notarecipient" };
	bm_webhook_add_spec ok = BM_WEBHOOK_ADD_SPEC_INIT, s;
	static char big[BM_WEBHOOK_SECRET_MAX + 1];
	char longurl[BM_WEBHOOK_URL_MAX + 16];
	(void)state;

	ok.url = "https://x.example/";
	ok.secret = "k";
	ok.secret_len = 1;
	ok.recipients = r;
	ok.nrecipients = 1;
	assert_int_equal(bm_webhook_check(&ok), 0);

	s = ok; s.url = NULL;
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "needs a URL");
	s = ok; s.url = "ftp://x.example/";
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "not http:// or https://");
	s = ok; s.url = "https:///path";
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "no host");
	s = ok; s.url = "https://x.example/a b";
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "printable ASCII");
	s = ok; s.url = "https://x.example/\n";
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "printable ASCII");
	memcpy(longurl, "https://x.example/", 18);
	memset(longurl + 18, 'a', sizeof(longurl) - 19);
	longurl[sizeof(longurl) - 1] = '\0';
	s = ok; s.url = longurl;
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_ETOOBIG, "over the limit");
	s = ok; s.prefix = "/projects";
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "relative path");
	s = ok; s.prefix = "projects/../keys";
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "\"..\"");
	s = ok; s.prefix = "projects//x";
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "//");
	s = ok; s.secret_len = 0;
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "needs a secret");
	memset(big, 'x', sizeof(big));
	s = ok; s.secret = big; s.secret_len = sizeof(big);
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_ETOOBIG, "secret");
	s = ok; s.nrecipients = 0;
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "recipient");
	s = ok; s.recipients = bad_r;
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "recipient 1");
	s = ok; s.description = "two\nlines";
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "description");
	s = ok; s.version = 0;
	assert_refused(bm_webhook_add(NULL, NULL, store, &s, NULL), BM_EINVALID, "bm_webhook_add_spec version");
	assert_int_equal(bm_webhook_id_validate("0123456789abcde"), BM_EINVALID);
	assert_int_equal(bm_webhook_id_validate("0123456789abcdeg"), BM_EINVALID);
	assert_int_equal(bm_webhook_id_validate("0123456789abcdef"), 0);
	assert_int_equal(bm_webhook_prefix_check(""), 0);
	assert_int_equal(bm_webhook_prefix_check("projects/acme/server/"), 0);
	assert_int_equal(bm_webhook_prefix_check("./x"), BM_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_read_secret),
		cmocka_unit_test(test_remove_and_list),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
