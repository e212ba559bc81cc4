/* bootmeta/webhook.h: webhook subscriptions (lib/webhook.c): the URLs `bootmeta serve` POSTs
 * its change events to, kept as records in the meta repo so every serve of the repo knows
 * them and their history is git's.
 *
 * Layout: hooks/<id>/hook.pb, a Webhook record (webhook.proto) with the URL, the path
 * prefix it follows and the secret deliveries are signed with, age-encrypted to the
 * recipients given at add (serve's public key: never plain in git); hooks/<id>/removed.pb,
 * a Webhook with `removed` set, ends it. Records are never rewritten: a subscription is
 * live while its folder has hook.pb and no removed.pb. <id> is 16 random lower-case hex
 * digits. Records are freed with bm_record_free(). */
#ifndef BOOTMETA_WEBHOOK_H
#define BOOTMETA_WEBHOOK_H

#include "common.h"
#include "store.h"
#include "age.h"
#include "bootmeta/v1/webhook.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BM_WEBHOOK_ID_LEN 16          /* hex digits of an id */
#define BM_WEBHOOK_URL_MAX 2048       /* bytes of a URL */
#define BM_WEBHOOK_PREFIX_MAX 1024    /* bytes of a prefix */
#define BM_WEBHOOK_SECRET_MAX 4096    /* bytes of a secret (at least 1) */
#define BM_WEBHOOK_RECIPIENTS_MAX 32

/* hooks/<id>/hook.pb and hooks/<id>/removed.pb (the id is validated: BM_EINVALID). */
BM_EXTERN int bm_path_webhook(bm_buf *out, const char *id);
BM_EXTERN int bm_path_webhook_removed(bm_buf *out, const char *id);

/* 0 when `id` is 16 lower-case hex digits; else BM_EINVALID saying so. */
BM_EXTERN int bm_webhook_id_validate(const char *id);
/* 0 when `url` is an http:// or https:// URL with a host, one line of printable text
 * without spaces, at most BM_WEBHOOK_URL_MAX bytes; else BM_EINVALID saying why. */
BM_EXTERN int bm_webhook_url_check(const char *url);
/* 0 when `prefix` is "" (everything) or a relative path prefix of the meta repo
 * ("projects/acme/"): no leading '/', no "." or ".." part, no "//", backslash, space or
 * control character, at most BM_WEBHOOK_PREFIX_MAX bytes; else BM_EINVALID. */
BM_EXTERN int bm_webhook_prefix_check(const char *prefix);
/* 1 when `path` (a changed path of the meta repo) is under the subscription's prefix. */
BM_EXTERN int bm_webhook_matches(const Bootmeta__V1__Webhook *hook, const char *path);

typedef struct {
	unsigned int version;
	const char *url;                 /* required: bm_webhook_url_check */
	const char *prefix;              /* NULL or "": every change */
	const void *secret;              /* required: 1..BM_WEBHOOK_SECRET_MAX bytes */
	size_t secret_len;
	const char *const *recipients;   /* required: 1..BM_WEBHOOK_RECIPIENTS_MAX "age1..." */
	size_t nrecipients;
	const char *description;         /* optional, one line */
} bm_webhook_add_spec;
#define BM_WEBHOOK_ADD_SPEC_VERSION 1
#define BM_WEBHOOK_ADD_SPEC_INIT { BM_WEBHOOK_ADD_SPEC_VERSION, NULL, NULL, NULL, 0, NULL, 0, NULL }

/* Check a spec without writing anything (BM_EINVALID or BM_ETOOBIG naming the field). */
BM_EXTERN int bm_webhook_check(const bm_webhook_add_spec *spec);

/* Add a subscription in its own commit: a new id, the secret encrypted to the recipients.
 * `out` (may be NULL) gets the record as written (free with bm_record_free), `out_commit`
 * (may be NULL) the commit. */
BM_EXTERN int bm_webhook_add(Bootmeta__V1__Webhook **out, bm_oid *out_commit, bm_store *store,
			     const bm_webhook_add_spec *spec, const bm_write_options *wopts);
/* End subscription `id` in its own commit (hooks/<id>/removed.pb). BM_ENOTFOUND when there
 * is no such subscription, BM_EEXISTS when it was removed already. */
BM_EXTERN int bm_webhook_remove(Bootmeta__V1__Webhook **out, bm_oid *out_commit, bm_store *store, const char *id,
				const bm_write_options *wopts);

/* bm_webhook_add and bm_webhook_remove inside the caller's transaction (several writes in
 * one commit), with the same checks. add makes a new id and encrypts the secret again on
 * each call (a re-run of the transaction gets a new id). `*out` (may be NULL; else NULL or a
 * record from an earlier call, which is freed) gets the record as written. The commit
 * message is not set. On an error abort the transaction. */
BM_EXTERN int bm_webhook_add_txn(Bootmeta__V1__Webhook **out, bm_txn *txn, const bm_webhook_add_spec *spec);
BM_EXTERN int bm_webhook_remove_txn(Bootmeta__V1__Webhook **out, bm_txn *txn, const char *id);

/* The subscription `id` in `fs`: *out its hook.pb; *removal (may be NULL) its removal record
 * or NULL when it is live. BM_ENOTFOUND when there is none. */
BM_EXTERN int bm_webhook_read(Bootmeta__V1__Webhook **out, Bootmeta__V1__Webhook **removal, bm_fs *fs,
			      const char *id);

typedef struct {
	Bootmeta__V1__Webhook *hook;     /* hooks/<id>/hook.pb */
	Bootmeta__V1__Webhook *removal;  /* hooks/<id>/removed.pb, or NULL: live */
} bm_webhook_item;

/* The subscriptions of `fs` sorted by id: only the live ones, or with `with_removed` the
 * removed ones too. A folder under hooks/ that is not a subscription (a bad id, no hook.pb)
 * is skipped; a record that does not decode fails the listing (BM_ECORRUPT naming it). */
BM_EXTERN int bm_webhook_list(bm_webhook_item **out, size_t *count, bm_fs *fs, int with_removed);
BM_EXTERN void bm_webhook_list_free(bm_webhook_item *items, size_t count);

/* Decrypt the subscription's secret with `ids` into `out` (replaced; a secret: dispose with
 * bm_buf_dispose_secret). BM_EINVALID for a removal record; the codes of bm_age_decrypt_buf_ex
 * (BM_ENORECIPIENT: none of `ids` is one of its recipients). */
BM_EXTERN int bm_webhook_secret(bm_buf *out, const Bootmeta__V1__Webhook *hook, const bm_age_identities *ids);

#ifdef __cplusplus
}
#endif
#endif
