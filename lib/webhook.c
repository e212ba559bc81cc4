/* webhook.c: webhook subscriptions under hooks/<id>/: adding one (the secret age-encrypted
 * to the recipients given), ending one with a removal record, reading and listing them, and
 * decrypting a secret for the server that signs deliveries with it. */
#include "bootmeta/webhook.h"
#include "bootmeta/record.h"
#include "bootmeta/text.h"
#include "recio.h"
#include "optcheck.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define HOOKS_DIR "hooks"

int bm_webhook_id_validate(const char *id)
{
	size_t i;
	if (!id || strlen(id) != BM_WEBHOOK_ID_LEN)
		return bm_error_set(BM_EINVALID, "a webhook id is %d lower-case hex digits (as `bootmeta hook list` shows)",
				    BM_WEBHOOK_ID_LEN);
	for (i = 0; i < BM_WEBHOOK_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return bm_error_set(BM_EINVALID, "a webhook id is %d lower-case hex digits (as `bootmeta hook list` "
					    "shows)", BM_WEBHOOK_ID_LEN);
	return 0;
}

int bm_path_webhook(bm_buf *out, const char *id)
{
	int error;
	bm_buf_clear(out);
	if ((error = bm_webhook_id_validate(id)) < 0)
		return error;
	return bm_buf_printf(out, HOOKS_DIR "/%s/hook.pb", id);
}

int bm_path_webhook_removed(bm_buf *out, const char *id)
{
	int error;
	bm_buf_clear(out);
	if ((error = bm_webhook_id_validate(id)) < 0)
		return error;
	return bm_buf_printf(out, HOOKS_DIR "/%s/removed.pb", id);
}

static int printable_no_space(const char *s, const char *what)
{
	const unsigned char *p;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return bm_error_set(BM_EINVALID, "the %s may only hold printable ASCII, no space (byte %zu; "
					    "percent-encode the rest)", what,
					    (size_t)(p - (const unsigned char *)s));
	return 0;
}

int bm_webhook_url_check(const char *url)
{
	const char *host;
	size_t len;
	int error;
	if (!url || !*url)
		return bm_error_set(BM_EINVALID, "a webhook needs a URL (http://... or https://...)");
	if ((len = strlen(url)) > BM_WEBHOOK_URL_MAX)
		return bm_error_set(BM_ETOOBIG, "the URL is %zu bytes, over the limit of %d", len, BM_WEBHOOK_URL_MAX);
	if ((error = printable_no_space(url, "URL")) < 0)
		return error;
	if (!strncmp(url, "http://", 7))
		host = url + 7;
	else if (!strncmp(url, "https://", 8))
		host = url + 8;
	else
		return bm_error_set(BM_EINVALID, "the URL \"%.200s\" is not http:// or https://", url);
	if (!*host || *host == '/' || *host == '?' || *host == '#' || *host == ':')
		return bm_error_set(BM_EINVALID, "the URL \"%.200s\" has no host", url);
	return 0;
}

int bm_webhook_prefix_check(const char *prefix)
{
	const char *p;
	size_t len;
	int error;
	if (!prefix || !*prefix)
		return 0;
	if ((len = strlen(prefix)) > BM_WEBHOOK_PREFIX_MAX)
		return bm_error_set(BM_ETOOBIG, "the prefix is %zu bytes, over the limit of %d", len, BM_WEBHOOK_PREFIX_MAX);
	if ((error = printable_no_space(prefix, "prefix")) < 0)
		return error;
	if (prefix[0] == '/' || strchr(prefix, '\\'))
		return bm_error_set(BM_EINVALID, "the prefix \"%.200s\" is not a relative path of the meta repo "
				    "(projects/acme/server/)", prefix);
	for (p = prefix; *p;) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 0 && q))
			return bm_error_set(BM_EINVALID, "the prefix \"%.200s\" may not hold \".\" or \"..\" parts or \"//\"",
					    prefix);
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

int bm_webhook_matches(const Bootmeta__V1__Webhook *hook, const char *path)
{
	size_t n;
	if (!hook || hook->removed || !path)
		return 0;
	n = hook->prefix ? strlen(hook->prefix) : 0;
	return !n || !strncmp(path, hook->prefix, n);
}

int bm_webhook_check(const bm_webhook_add_spec *spec)
{
	size_t i;
	int error;
	if ((error = BM_OPTS_CHECK(spec, BM_WEBHOOK_ADD_SPEC_VERSION, "bm_webhook_add_spec")) < 0)
		return error;
	if (!spec)
		return bm_error_set(BM_EINVALID, "bm_webhook_add: no spec");
	if ((error = bm_webhook_url_check(spec->url)) < 0 || (error = bm_webhook_prefix_check(spec->prefix)) < 0)
		return error;
	if (!spec->secret || !spec->secret_len)
		return bm_error_set(BM_EINVALID, "a webhook needs a secret (the receiver checks X-Hub-Signature-256 "
				    "with it)");
	if (spec->secret_len > BM_WEBHOOK_SECRET_MAX)
		return bm_error_set(BM_ETOOBIG, "the secret is %zu bytes, over the limit of %d", spec->secret_len,
				    BM_WEBHOOK_SECRET_MAX);
	if (!spec->nrecipients || !spec->recipients)
		return bm_error_set(BM_EINVALID, "a webhook's secret is encrypted to serve's age public key: give at least "
				    "one recipient (age1...)");
	if (spec->nrecipients > BM_WEBHOOK_RECIPIENTS_MAX)
		return bm_error_set(BM_ETOOBIG, "%zu recipients, over the limit of %d", spec->nrecipients,
				    BM_WEBHOOK_RECIPIENTS_MAX);
	for (i = 0; i < spec->nrecipients; i++)
		if ((error = bm_age_recipient_check(spec->recipients[i])) < 0)
			return bm_error_prefix(error, "recipient %zu", i + 1);
	if (spec->description && *spec->description &&
	    (error = bm_text_check(spec->description, strlen(spec->description), BM_TEXT_LINE, 0, "the description")) < 0)
		return error;
	return 0;
}

/* `m` packed and decoded again: the caller's copy of what was written. */
static int copy_record(Bootmeta__V1__Webhook **out, const Bootmeta__V1__Webhook *m)
{
	bm_buf b = BM_BUF_INIT;
	int error;
	*out = NULL;
	if ((error = bm__rec_pack(&b, &m->base)) == 0)
		error = bm_record_decode((ProtobufCMessage **)out, &bootmeta__v1__webhook__descriptor, b.ptr ? b.ptr : "",
					 b.size);
	bm_buf_dispose(&b);
	return error;
}

typedef struct {
	const bm_webhook_add_spec *spec;
	char id[BM_WEBHOOK_ID_LEN + 1];
	bm_buf cipher;
	Bootmeta__V1__Webhook *written;
} add_ctx;

/* hooks/<id>/hook.pb from `spec` with the encrypted secret `cipher`; `*written` (replaced)
 * gets the record. No commit message: the callers set theirs. */
static int add_in(Bootmeta__V1__Webhook **written, bm_txn *txn, const bm_webhook_add_spec *spec, const char *id,
		  const bm_buf *cipher)
{
	Bootmeta__V1__Webhook rec = BOOTMETA__V1__WEBHOOK__INIT;
	bm_buf path = BM_BUF_INIT;
	int error;

	bm_record_free(*written ? &(*written)->base : NULL);
	*written = NULL;
	if ((error = bm_path_webhook(&path, id)) < 0)
		goto done;
	if (bm_fs_exists(bm_txn_fs(txn), path.ptr)) {
		error = bm_error_set(BM_EEXISTS, "webhook %s exists already", id);
		goto done;
	}
	rec.id = (char *)id;
	rec.url = (char *)spec->url;
	rec.prefix = (char *)(spec->prefix ? spec->prefix : "");
	rec.secret_age.data = (uint8_t *)cipher->ptr;
	rec.secret_age.len = cipher->size;
	rec.recipients = (char **)spec->recipients;
	rec.n_recipients = spec->nrecipients;
	rec.time_ms = bm_txn_time_ms(txn);
	rec.actor = (char *)bm_txn_actor(txn);
	rec.description = (char *)(spec->description ? spec->description : "");
	if ((error = bm__rec_add(txn, path.ptr, &rec.base)) == 0)
		error = copy_record(written, &rec);
done:
	bm_buf_dispose(&path);
	return error;
}

static int add_fn(bm_txn *txn, void *payload)
{
	add_ctx *c = payload;
	int error;
	if ((error = add_in(&c->written, txn, c->spec, c->id, &c->cipher)) < 0)
		return error;
	return bm_txn_message(txn, "hook add %s: %.200s (prefix %.200s)", c->id, c->spec->url,
			      c->spec->prefix && *c->spec->prefix ? c->spec->prefix : "(all)");
}

static void new_id(char id[BM_WEBHOOK_ID_LEN + 1])
{
	unsigned char rnd[BM_WEBHOOK_ID_LEN / 2];
	randombytes_buf(rnd, sizeof(rnd));
	bm_hex_encode(id, rnd, sizeof(rnd));
	id[BM_WEBHOOK_ID_LEN] = '\0';
}

int bm_webhook_add_txn(Bootmeta__V1__Webhook **out, bm_txn *txn, const bm_webhook_add_spec *spec)
{
	char id[BM_WEBHOOK_ID_LEN + 1];
	bm_buf cipher = BM_BUF_INIT;
	Bootmeta__V1__Webhook *written = NULL;
	int error;

	if (!out)
		out = &written;
	if ((error = bm_webhook_check(spec)) < 0)
		goto done;
	new_id(id);
	if ((error = bm_age_encrypt_buf(&cipher, spec->secret, spec->secret_len, spec->recipients, spec->nrecipients,
					0)) < 0)
		goto done;
	error = add_in(out, txn, spec, id, &cipher);
done:
	if (error < 0 && out != &written) {
		bm_record_free(*out ? &(*out)->base : NULL);
		*out = NULL;
	}
	bm_record_free(written ? &written->base : NULL);
	bm_buf_dispose(&cipher);
	return error;
}

int bm_webhook_add(Bootmeta__V1__Webhook **out, bm_oid *out_commit, bm_store *store, const bm_webhook_add_spec *spec,
		   const bm_write_options *wopts)
{
	add_ctx c;
	int error;

	if (out)
		*out = NULL;
	if ((error = bm_webhook_check(spec)) < 0)
		return error;
	memset(&c, 0, sizeof(c));
	c.spec = spec;
	/* chosen once, outside the transaction, so a re-run keeps them */
	new_id(c.id);
	if ((error = bm_age_encrypt_buf(&c.cipher, spec->secret, spec->secret_len, spec->recipients, spec->nrecipients,
					0)) < 0)
		goto done;
	if ((error = bm_store_write(out_commit, store, add_fn, &c, wopts)) < 0)
		goto done;
	if (out) {
		*out = c.written;
		c.written = NULL;
	}
done:
	bm_record_free(c.written ? &c.written->base : NULL);
	bm_buf_dispose(&c.cipher);
	return error;
}

typedef struct {
	const char *id;
	Bootmeta__V1__Webhook *written;
} rm_ctx;

/* hooks/<id>/removed.pb; `*written` (replaced) gets it; the commit message only when
 * `message` (bm_webhook_remove: its own commit). */
static int rm_in(Bootmeta__V1__Webhook **written, bm_txn *txn, const char *id, int message)
{
	Bootmeta__V1__Webhook rec = BOOTMETA__V1__WEBHOOK__INIT;
	Bootmeta__V1__Webhook *hook = NULL, *removal = NULL;
	bm_buf path = BM_BUF_INIT;
	int error;

	bm_record_free(*written ? &(*written)->base : NULL);
	*written = NULL;
	if ((error = bm_webhook_read(&hook, &removal, bm_txn_fs(txn), id)) < 0)
		goto done;
	if (removal) {
		error = bm_error_set(BM_EEXISTS, "webhook %s was removed already", id);
		goto done;
	}
	if ((error = bm_path_webhook_removed(&path, id)) < 0)
		goto done;
	rec.id = (char *)id;
	rec.prefix = hook->prefix;
	rec.removed = 1;
	rec.time_ms = bm_txn_time_ms(txn);
	rec.actor = (char *)bm_txn_actor(txn);
	if ((error = bm__rec_add(txn, path.ptr, &rec.base)) < 0 || (error = copy_record(written, &rec)) < 0)
		goto done;
	if (message)
		error = bm_txn_message(txn, "hook rm %s: %.200s", id, hook->url);
done:
	bm_record_free(hook ? &hook->base : NULL);
	bm_record_free(removal ? &removal->base : NULL);
	bm_buf_dispose(&path);
	return error;
}

static int rm_fn(bm_txn *txn, void *payload)
{
	rm_ctx *c = payload;
	return rm_in(&c->written, txn, c->id, 1);
}

int bm_webhook_remove_txn(Bootmeta__V1__Webhook **out, bm_txn *txn, const char *id)
{
	Bootmeta__V1__Webhook *written = NULL;
	int error;
	if (!out)
		out = &written;
	if ((error = bm_webhook_id_validate(id)) == 0)
		error = rm_in(out, txn, id, 0);
	else {
		bm_record_free(*out ? &(*out)->base : NULL);
		*out = NULL;
	}
	bm_record_free(written ? &written->base : NULL);
	return error;
}

int bm_webhook_remove(Bootmeta__V1__Webhook **out, bm_oid *out_commit, bm_store *store, const char *id,
		      const bm_write_options *wopts)
{
	rm_ctx c;
	int error;
	if (out)
		*out = NULL;
	if ((error = bm_webhook_id_validate(id)) < 0)
		return error;
	memset(&c, 0, sizeof(c));
	c.id = id;
	if ((error = bm_store_write(out_commit, store, rm_fn, &c, wopts)) == 0 && out) {
		*out = c.written;
		c.written = NULL;
	}
	bm_record_free(c.written ? &c.written->base : NULL);
	return error;
}

int bm_webhook_read(Bootmeta__V1__Webhook **out, Bootmeta__V1__Webhook **removal, bm_fs *fs, const char *id)
{
	bm_buf path = BM_BUF_INIT;
	int error;

	*out = NULL;
	if (removal)
		*removal = NULL;
	if ((error = bm_path_webhook(&path, id)) < 0)
		goto done;
	if ((error = bm__rec_read((ProtobufCMessage **)out, fs, path.ptr, &bootmeta__v1__webhook__descriptor)) < 0) {
		if (error == BM_ENOTFOUND)
			error = bm_error_set(BM_ENOTFOUND, "no webhook %s (see `bootmeta hook list`)", id);
		goto done;
	}
	if (removal) {
		if ((error = bm_path_webhook_removed(&path, id)) < 0)
			goto done;
		error = bm__rec_read((ProtobufCMessage **)removal, fs, path.ptr, &bootmeta__v1__webhook__descriptor);
		if (error == BM_ENOTFOUND) {
			bm_error_clear();
			error = 0;
		}
	}
done:
	if (error < 0) {
		bm_record_free(*out ? &(*out)->base : NULL);
		*out = NULL;
	}
	bm_buf_dispose(&path);
	return error;
}

void bm_webhook_list_free(bm_webhook_item *items, size_t count)
{
	size_t i;
	for (i = 0; items && i < count; i++) {
		bm_record_free(items[i].hook ? &items[i].hook->base : NULL);
		bm_record_free(items[i].removal ? &items[i].removal->base : NULL);
	}
	free(items);
}

int bm_webhook_list(bm_webhook_item **out, size_t *count, bm_fs *fs, int with_removed)
{
	bm_strlist names = BM_STRLIST_INIT;
	bm_webhook_item *items = NULL;
	size_t i, n = 0;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = bm_fs_list_or_empty(&names, fs, HOOKS_DIR)) < 0)
		goto done;
	if (names.count && !(items = calloc(names.count, sizeof(*items)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < names.count; i++) {
		char id[BM_WEBHOOK_ID_LEN + 1];
		size_t len = strlen(names.items[i]);
		bm_webhook_item it = { NULL, NULL };
		if (len != BM_WEBHOOK_ID_LEN + 1 || names.items[i][len - 1] != '/')
			continue;
		memcpy(id, names.items[i], BM_WEBHOOK_ID_LEN);
		id[BM_WEBHOOK_ID_LEN] = '\0';
		if (bm_webhook_id_validate(id) < 0) {
			bm_error_clear();
			continue;
		}
		if ((error = bm_webhook_read(&it.hook, &it.removal, fs, id)) < 0) {
			if (error != BM_ENOTFOUND)
				goto done;
			bm_error_clear();
			error = 0;
			continue;
		}
		if (it.removal && !with_removed) {
			bm_record_free(&it.hook->base);
			bm_record_free(&it.removal->base);
			continue;
		}
		items[n++] = it;
	}
	*out = items;
	*count = n;
	items = NULL;
done:
	if (items)
		bm_webhook_list_free(items, n);
	bm_strlist_dispose(&names);
	return error;
}

int bm_webhook_secret(bm_buf *out, const Bootmeta__V1__Webhook *hook, const bm_age_identities *ids)
{
	int error;
	bm_buf_dispose_secret(out);
	if (!hook || hook->removed || !hook->secret_age.len)
		return bm_error_set(BM_EINVALID, "webhook %s has no secret (a removal record)", hook && hook->id ? hook->id : "?");
	if ((error = bm_age_decrypt_buf_ex(out, hook->secret_age.data, hook->secret_age.len, ids, NULL)) < 0)
		return bm_error_prefix(error, "the secret of webhook %s", hook->id);
	return 0;
}
