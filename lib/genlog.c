/* genlog.c: generator log entries under log/<yyyy>/<mm>/<dd>/<time_ms>-<id>.pb: appending
 * one, and listing them newest first, reading only the days in range. */
#include "bootmeta/genlog.h"
#include "bootmeta/env.h"
#include "bootmeta/names.h"
#include "bootmeta/text.h"
#include "recio.h"
#include "optcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "bootmeta/v1/core.pb-c.h"

void bm_log_entry_free(bm_log_entry *e)
{
	size_t i;
	if (!e)
		return;
	free(e->id);
	free(e->kind);
	free(e->project);
	free(e->env);
	free(e->message);
	for (i = 0; i < e->nattrs; i++) {
		free(e->attrs[i].key);
		free(e->attrs[i].value);
	}
	free(e->attrs);
	free(e->actor);
	free(e->path);
	free(e);
}

int bm_log_check(const bm_log_add_spec *spec)
{
	size_t i, j, total = 0, len;
	int error;

	if ((error = BM_OPTS_CHECK(spec, BM_LOG_ADD_SPEC_VERSION, "bm_log_add_spec")) < 0)
		return error;
	if (!spec || !spec->kind || !*spec->kind) {
		bm_error_set(BM_EINVALID, "a log entry needs a kind");
		return bm_error_set_about(BM_ABOUT_LOG_KIND, NULL);
	}
	if ((error = bm_name_validate(spec->kind, BM_NAME_KIND)) < 0)
		return error;
	if (spec->project && *spec->project && (error = bm_name_validate(spec->project, BM_NAME_PROJECT)) < 0)
		return error;
	if (spec->env && *spec->env && (error = bm_env_name_validate(spec->env)) < 0)
		return error;
	if (!spec->message || !*spec->message) {
		bm_error_set(BM_EINVALID, "a log entry needs a message");
		return bm_error_set_about(BM_ABOUT_LOG_MESSAGE, NULL);
	}
	if ((len = strlen(spec->message)) > BM_LOG_MESSAGE_MAX)
		return bm_error_set(BM_ETOOBIG, "the message is %zu bytes, over the limit of %d; keep long output "
				    "elsewhere and put its URL in an attribute", len, BM_LOG_MESSAGE_MAX);
	if ((error = bm_text_check(spec->message, len, BM_TEXT_LINES, 0, "the message")) < 0)
		return error;
	if (spec->nattrs > BM_LOG_ATTRS_MAX)
		return bm_error_set(BM_ETOOBIG, "%zu attributes, over the limit of %d", spec->nattrs, BM_LOG_ATTRS_MAX);
	for (i = 0; i < spec->nattrs; i++) {
		const char *k = spec->attr_keys[i], *v = spec->attr_values[i] ? spec->attr_values[i] : "";
		if ((error = bm_name_validate(k, BM_NAME_KEY)) < 0)
			return bm_error_prefix(error, "attribute");
		for (j = 0; j < i; j++)
			if (!strcmp(spec->attr_keys[j], k))
				return bm_error_set(BM_EINVALID, "attribute %s is given twice", k);
		if ((len = strlen(v)) > BM_LOG_ATTR_VALUE_MAX)
			return bm_error_set(BM_ETOOBIG, "attribute %s is %zu bytes, over the limit of %d", k, len,
					    BM_LOG_ATTR_VALUE_MAX);
		if ((error = bm_text_check(v, len, BM_TEXT_LINE, 0, "the value")) < 0)
			return bm_error_prefix(error, "attribute %s", k);
		total += strlen(k) + len;
	}
	if (total > BM_LOG_ATTRS_BYTES_MAX)
		return bm_error_set(BM_ETOOBIG, "the attributes hold %zu bytes, over the limit of %d", total,
				    BM_LOG_ATTRS_BYTES_MAX);
	return 0;
}

static int entry_from_rec(bm_log_entry **out, const Bootmeta__V1__LogEntry *r, const char *path)
{
	bm_log_entry *e = calloc(1, sizeof(*e));
	size_t i;
	int error;
	*out = NULL;
	if (!e)
		return bm_error_set(BM_ENOMEM, "out of memory");
	e->time_ms = r->time_ms;
	if ((error = bm__strdup(&e->id, r->id)) < 0 || (error = bm__strdup(&e->kind, r->kind)) < 0 ||
	    (error = bm__strdup(&e->project, r->project)) < 0 || (error = bm__strdup(&e->env, r->env)) < 0 ||
	    (error = bm__strdup(&e->message, r->message)) < 0 || (error = bm__strdup(&e->actor, r->actor)) < 0 ||
	    (error = bm__strdup(&e->path, path)) < 0)
		goto done;
	if (r->n_attrs && !(e->attrs = calloc(r->n_attrs, sizeof(*e->attrs)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < r->n_attrs; i++) {
		e->nattrs++;
		if ((error = bm__strdup(&e->attrs[i].key, r->attrs[i]->key)) < 0 ||
		    (error = bm__strdup(&e->attrs[i].value, r->attrs[i]->value)) < 0)
			goto done;
	}
	*out = e;
	e = NULL;
done:
	bm_log_entry_free(e);
	return error;
}

/* Add entry `id` (16 hex digits) of `s` to the transaction; `*out` (may be NULL) replaced. */
static int log_add_in(bm_log_entry **out, bm_txn *txn, const bm_log_add_spec *s, const char *id)
{
	Bootmeta__V1__LogEntry rec = BOOTMETA__V1__LOG_ENTRY__INIT;
	Bootmeta__V1__Attr *attrs = NULL, **ap = NULL;
	bm_buf path = BM_BUF_INIT;
	int64_t ms = bm_txn_time_ms(txn);
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t i;
	int error;

	if (out) {
		bm_log_entry_free(*out);
		*out = NULL;
	}
	if ((error = bm_log_check(s)) < 0)
		return error;
	gmtime_r(&t, &tm);
	if ((error = bm_buf_printf(&path, "log/%04d/%02d/%02d/%013lld-%s.pb", tm.tm_year + 1900, tm.tm_mon + 1,
				   tm.tm_mday, (long long)ms, id)) < 0)
		goto done;
	if (s->nattrs) {
		attrs = calloc(s->nattrs, sizeof(*attrs));
		ap = calloc(s->nattrs, sizeof(*ap));
		if (!attrs || !ap) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		for (i = 0; i < s->nattrs; i++) {
			bootmeta__v1__attr__init(&attrs[i]);
			attrs[i].key = (char *)s->attr_keys[i];
			attrs[i].value = (char *)(s->attr_values[i] ? s->attr_values[i] : "");
			ap[i] = &attrs[i];
		}
	}
	rec.id = (char *)id;
	rec.kind = (char *)s->kind;
	rec.project = (char *)(s->project ? s->project : "");
	rec.env = (char *)(s->env ? s->env : "");
	rec.message = (char *)s->message;
	rec.n_attrs = s->nattrs;
	rec.attrs = ap;
	rec.time_ms = ms;
	rec.actor = (char *)bm_txn_actor(txn);
	if ((error = bm__rec_add(txn, path.ptr, &rec.base)) < 0)
		goto done;
	if (out)
		error = entry_from_rec(out, &rec, path.ptr);
done:
	free(attrs);
	free(ap);
	bm_buf_dispose(&path);
	return error;
}

static void new_id(char id[17])
{
	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof(rnd));
	bm_hex_encode(id, rnd, sizeof(rnd));
	id[16] = '\0';
}

int bm_log_add_txn(bm_log_entry **out, bm_txn *txn, const bm_log_add_spec *spec)
{
	char id[17];
	new_id(id);
	return log_add_in(out, txn, spec, id);
}

typedef struct {
	const bm_log_add_spec *spec;
	char id[17];
	bm_log_entry *written;
} add_ctx;

static int add_fn(bm_txn *txn, void *payload)
{
	add_ctx *c = payload;
	const bm_log_add_spec *s = c->spec;
	size_t n = strcspn(s->message, "\n");
	int error = log_add_in(&c->written, txn, s, c->id);
	if (error)
		return error;
	return bm_txn_message(txn, "log %s: %.*s%s", s->kind, (int)(n > 72 ? 72 : n), s->message, n > 72 ? "..." : "");
}

int bm_log_add(bm_log_entry **out, bm_store *store, const bm_log_add_spec *spec, const bm_write_options *wopts)
{
	add_ctx c;
	int error;

	if (out)
		*out = NULL;
	if ((error = bm_log_check(spec)) < 0)
		return error;
	memset(&c, 0, sizeof(c));
	c.spec = spec;
	/* the id is chosen once, outside the transaction, so a replay keeps it */
	new_id(c.id);
	error = bm_store_write(NULL, store, add_fn, &c, wopts);
	if (!error && out) {
		*out = c.written;
		c.written = NULL;
	}
	bm_log_entry_free(c.written);
	return error;
}

/* ---- listing ---- */

/* A folder name of `digits` digits: its value, else -1. */
static long num_dir(const char *name, size_t digits)
{
	size_t i;
	long v = 0;
	if (strlen(name) != digits + 1 || name[digits] != '/')
		return -1;
	for (i = 0; i < digits; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

/* The UTC day number (days since the epoch) of y-m-d. */
static int64_t day_of(long y, long m, long d)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	return (int64_t)timegm(&tm) / 86400;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

typedef struct {
	bm_fs *fs;
	const bm_log_filter *f;
	bm_log_entry_cb cb;
	bm_log_bad_cb bad;
	void *payload;
	size_t shown;
	int64_t day_lo, day_hi; /* inclusive range of days to read */
} list_ctx;

#define STOP 0x7fffffff

static int list_day(list_ctx *c, const char *dir)
{
	bm_strlist l = BM_STRLIST_INIT;
	bm_buf path = BM_BUF_INIT;
	size_t i;
	int error;

	if ((error = bm_fs_list(&l, c->fs, dir)) < 0)
		goto done;
	for (i = l.count; i > 0; i--) {
		const char *name = l.items[i - 1];
		Bootmeta__V1__LogEntry *r = NULL;
		bm_log_entry *e = NULL;
		long long ms;
		char *end;
		ms = strtoll(name, &end, 10);
		if (end == name || *end != '-' || strlen(name) < 4 || strcmp(name + strlen(name) - 3, ".pb"))
			continue;
		if (c->f->since_ms && ms < c->f->since_ms)
			break; /* older than the range: so is everything before it */
		if (c->f->until_ms && ms >= c->f->until_ms)
			continue;
		bm_buf_clear(&path);
		if ((error = bm_buf_printf(&path, "%s/%s", dir, name)) < 0)
			goto done;
		error = bm__rec_read((ProtobufCMessage **)&r, c->fs, path.ptr, &bootmeta__v1__log_entry__descriptor);
		if (error == BM_ECORRUPT) {
			if (c->bad)
				c->bad(path.ptr, bm_error_last(), c->payload);
			bm_error_clear();
			error = 0;
			continue;
		}
		if (error < 0)
			goto done;
		if ((c->f->kind && strcmp(r->kind, c->f->kind)) || (c->f->project && strcmp(r->project, c->f->project)) ||
		    (c->f->env && strcmp(r->env, c->f->env))) {
			protobuf_c_message_free_unpacked(&r->base, NULL);
			continue;
		}
		error = entry_from_rec(&e, r, path.ptr);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (error < 0)
			goto done;
		error = c->cb(e, c->payload);
		bm_log_entry_free(e);
		if (error)
			goto done;
		if (c->f->limit && ++c->shown >= c->f->limit) {
			error = STOP;
			goto done;
		}
	}
done:
	bm_strlist_dispose(&l);
	bm_buf_dispose(&path);
	return error;
}

int bm_log_list(bm_fs *fs, const bm_log_filter *filter, bm_log_entry_cb cb, bm_log_bad_cb bad, void *payload)
{
	static const bm_log_filter none = BM_LOG_FILTER_INIT;
	list_ctx c;
	bm_strlist years = BM_STRLIST_INIT, months = BM_STRLIST_INIT, days = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT;
	size_t yi, mi, di;
	int error;

	if ((error = BM_OPTS_CHECK(filter, BM_LOG_FILTER_VERSION, "bm_log_filter")) < 0)
		return error;
	memset(&c, 0, sizeof(c));
	c.fs = fs;
	c.f = filter ? filter : &none;
	c.cb = cb;
	c.bad = bad;
	c.payload = payload;
	if (c.f->kind && (error = bm_name_validate(c.f->kind, BM_NAME_KIND)) < 0)
		return error;
	c.day_lo = c.f->since_ms ? floor_div(c.f->since_ms, 86400000) : INT64_MIN;
	c.day_hi = c.f->until_ms ? floor_div(c.f->until_ms - 1, 86400000) : INT64_MAX;
	if ((error = bm_fs_list_or_empty(&years, fs, "log")) < 0)
		goto done;
	for (yi = years.count; yi > 0 && !error; yi--) {
		long y = num_dir(years.items[yi - 1], 4);
		if (y < 0 || day_of(y, 12, 31) < c.day_lo || day_of(y, 1, 1) > c.day_hi)
			continue;
		bm_strlist_dispose(&months);
		bm_buf_clear(&dir);
		if ((error = bm_buf_printf(&dir, "log/%04ld", y)) < 0 || (error = bm_fs_list(&months, fs, dir.ptr)) < 0)
			goto done;
		for (mi = months.count; mi > 0 && !error; mi--) {
			long m = num_dir(months.items[mi - 1], 2);
			if (m < 1 || m > 12 || day_of(y, m + 1, 0) < c.day_lo || day_of(y, m, 1) > c.day_hi)
				continue;
			bm_strlist_dispose(&days);
			bm_buf_clear(&dir);
			if ((error = bm_buf_printf(&dir, "log/%04ld/%02ld", y, m)) < 0 ||
			    (error = bm_fs_list(&days, fs, dir.ptr)) < 0)
				goto done;
			for (di = days.count; di > 0 && !error; di--) {
				long d = num_dir(days.items[di - 1], 2);
				int64_t dn;
				if (d < 1 || d > 31)
					continue;
				dn = day_of(y, m, d);
				if (dn < c.day_lo || dn > c.day_hi)
					continue;
				bm_buf_clear(&dir);
				if ((error = bm_buf_printf(&dir, "log/%04ld/%02ld/%02ld", y, m, d)) < 0)
					goto done;
				error = list_day(&c, dir.ptr);
			}
		}
	}
done:
	bm_strlist_dispose(&years);
	bm_strlist_dispose(&months);
	bm_strlist_dispose(&days);
	bm_buf_dispose(&dir);
	return error == STOP ? 0 : error;
}
