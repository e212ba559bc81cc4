/* config.c: runtime config per project and env: typed values, one appended ConfigValue record
 * per change under envs/<env>/config/<project>/+keys/<key>/<seq>.pb, resolved through the
 * env's parent chain, with the meta commit of each value found on demand. */
#include "bootmeta/config.h"
#include "error_int.h"
#include "bootmeta/env.h"
#include "bootmeta/names.h"
#include "bootmeta/secret.h"
#include "bootmeta/utf8.h"
#include "recio.h"
#include "record_int.h"
#include "optcheck.h"
#include "fs.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <sodium.h>

#include "bootmeta/v1/config.pb-c.h"
#include "bootmeta/pbjson.h"
#include "bootmeta/text.h"

#define KEYS_DIR "+keys"

/* ---- types and values ---- */

const char *bm_config_type_str(bm_config_type type)
{
	switch (type) {
	case BM_CONFIG_STRING: return "string";
	case BM_CONFIG_INT64: return "int64";
	case BM_CONFIG_DOUBLE: return "double";
	case BM_CONFIG_BOOL: return "bool";
	case BM_CONFIG_JSON: return "json";
	}
	return "unknown";
}

int bm_config_type_parse(bm_config_type *out, const char *name)
{
	static const struct { const char *name; bm_config_type type; } names[] = {
		{ "string", BM_CONFIG_STRING }, { "str", BM_CONFIG_STRING },
		{ "int64", BM_CONFIG_INT64 }, { "int", BM_CONFIG_INT64 }, { "integer", BM_CONFIG_INT64 },
		{ "double", BM_CONFIG_DOUBLE }, { "float", BM_CONFIG_DOUBLE }, { "number", BM_CONFIG_DOUBLE },
		{ "bool", BM_CONFIG_BOOL }, { "boolean", BM_CONFIG_BOOL },
		{ "json", BM_CONFIG_JSON },
	};
	size_t i;
	for (i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(name, names[i].name)) {
			*out = names[i].type;
			return 0;
		}
	}
	return bm_error_set(BM_EINVALID, "unknown config type \"%s\" (expected string, int64, double, bool or json)",
			    name ? name : "");
}

void bm_config_value_dispose(bm_config_value *v)
{
	if (!v)
		return;
	free(v->key);
	if (v->secret && v->text)
		sodium_memzero(v->text, strlen(v->text));
	free(v->text);
	free(v->project);
	free(v->env);
	free(v->actor);
	free(v->reason);
	free(v->reverted_from_commit);
	free(v->path);
	memset(v, 0, sizeof(*v));
}

static int dup_opt(char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	return bm__strdup(dst, src);
}

int bm_config_value_copy(bm_config_value *dst, const bm_config_value *src)
{
	int error;
	*dst = *src;
	dst->key = dst->text = dst->project = dst->env = dst->actor = dst->reason = NULL;
	dst->reverted_from_commit = dst->path = NULL;
	if ((error = dup_opt(&dst->key, src->key)) < 0 || (error = dup_opt(&dst->text, src->text)) < 0 ||
	    (error = dup_opt(&dst->project, src->project)) < 0 || (error = dup_opt(&dst->env, src->env)) < 0 ||
	    (error = dup_opt(&dst->actor, src->actor)) < 0 || (error = dup_opt(&dst->reason, src->reason)) < 0 ||
	    (error = dup_opt(&dst->reverted_from_commit, src->reverted_from_commit)) < 0 ||
	    (error = dup_opt(&dst->path, src->path)) < 0)
		bm_config_value_dispose(dst);
	return error;
}

static void fmt_double(char *out, size_t n, double d)
{
	int prec;
	for (prec = 15; prec <= 17; prec++) {
		snprintf(out, n, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

int bm_config_value_parse(bm_config_value *v, bm_config_type type, const char *text)
{
	char canon[64];
	const char *store = text;
	size_t len;
	char *end;

	if (!text)
		text = "";
	len = strlen(text);
	if (len > BM_CONFIG_VALUE_MAX)
		return bm_error_set(BM_ETOOBIG, "value of %zu bytes is over the limit of %d bytes (64 KiB); keep "
				    "large blobs in files and store their URL", len, BM_CONFIG_VALUE_MAX);
	switch (type) {
	case BM_CONFIG_STRING:
		if (!bm_utf8_valid(text, strlen(text)))
			return bm_error_set(BM_EINVALID, "value is not valid UTF-8 text; encode binary data "
					    "(base64) or keep it in a secret");
		if (bm_text_check(text, len, BM_TEXT_LINES, 0, "the value") < 0)
			return BM_EINVALID; /* binary data: base64 it or keep it in a secret */
		break;
	case BM_CONFIG_INT64: {
		long long ll;
		errno = 0;
		ll = strtoll(text, &end, 10);
		if (!*text || *end || end == text || isspace((unsigned char)text[0]))
			return bm_error_set(BM_EINVALID, "\"%.64s\" is not an int64 (expected a decimal integer "
					    "such as 42 or -7)", text);
		if (errno == ERANGE)
			return bm_error_set(BM_EINVALID, "\"%.64s\" is out of the int64 range", text);
		v->int64_value = ll;
		snprintf(canon, sizeof(canon), "%lld", ll);
		store = canon;
		break;
	}
	case BM_CONFIG_DOUBLE: {
		double d;
		errno = 0;
		d = strtod(text, &end);
		if (!*text || *end || end == text || isspace((unsigned char)text[0]))
			return bm_error_set(BM_EINVALID, "\"%.64s\" is not a double (expected a number such as "
					    "0.25 or 1e-3)", text);
		if (errno == ERANGE || !isfinite(d))
			return bm_error_set(BM_EINVALID, "\"%.64s\" is not a finite double (no inf, nan or "
					    "out-of-range numbers)", text);
		v->double_value = d;
		fmt_double(canon, sizeof(canon), d);
		store = canon;
		break;
	}
	case BM_CONFIG_BOOL:
		if (!strcasecmp(text, "true") || !strcmp(text, "1") || !strcasecmp(text, "yes") || !strcasecmp(text, "on"))
			v->bool_value = 1;
		else if (!strcasecmp(text, "false") || !strcmp(text, "0") || !strcasecmp(text, "no") ||
			 !strcasecmp(text, "off"))
			v->bool_value = 0;
		else
			return bm_error_set(BM_EINVALID, "\"%.64s\" is not a bool (expected true or false; 1/0, "
					    "yes/no and on/off are accepted too)", text);
		store = v->bool_value ? "true" : "false";
		break;
	case BM_CONFIG_JSON: {
		json_error_t jerr;
		json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
		int ok;
		if (!j)
			return bm_error_set(BM_EINVALID, "value is not valid JSON: %s (at character %d)", jerr.text,
					    jerr.position);
		ok = json_is_object(j) || json_is_array(j);
		json_decref(j);
		if (!ok) {
			bm_error_set(BM_EINVALID, "a json value must be an object or a list");
			return bm_error_set_about(BM_ABOUT_CONFIG_JSON, NULL);
		}
		break;
	}
	default:
		return bm_error_set(BM_EINVALID, "unknown config type %d", (int)type);
	}
	v->type = type;
	free(v->text);
	return bm__strdup(&v->text, store);
}

static int value_from_rec(bm_config_value *v, const Bootmeta__V1__ConfigValue *r, const char *path)
{
	int error = 0;
	memset(v, 0, sizeof(*v));
	v->tombstone = r->tombstone;
	v->seq = r->seq;
	v->time_ms = r->time_ms;
	v->reverted_from_seq = r->reverted_from_seq;
	if ((error = bm__strdup(&v->key, r->key)) < 0 || (error = bm__strdup(&v->project, r->project)) < 0 ||
	    (error = bm__strdup(&v->env, r->env)) < 0 || (error = bm__strdup(&v->actor, r->actor)) < 0 ||
	    (error = dup_opt(&v->reason, *r->reason ? r->reason : NULL)) < 0 ||
	    (error = dup_opt(&v->reverted_from_commit, *r->reverted_from_commit ? r->reverted_from_commit : NULL)) < 0 ||
	    (error = bm__strdup(&v->path, path)) < 0)
		goto done;
	if (r->tombstone) {
		v->type = r->type >= 1 && r->type <= 5 ? (bm_config_type)r->type : BM_CONFIG_STRING;
		error = bm__strdup(&v->text, "");
		goto done;
	}
	switch (r->value_case) {
	case BOOTMETA__V1__CONFIG_VALUE__VALUE_STRING_VALUE:
		v->type = BM_CONFIG_STRING;
		error = bm__strdup(&v->text, r->string_value);
		break;
	case BOOTMETA__V1__CONFIG_VALUE__VALUE_INT64_VALUE: {
		char b[32];
		v->type = BM_CONFIG_INT64;
		v->int64_value = r->int64_value;
		snprintf(b, sizeof(b), "%lld", (long long)r->int64_value);
		error = bm__strdup(&v->text, b);
		break;
	}
	case BOOTMETA__V1__CONFIG_VALUE__VALUE_DOUBLE_VALUE: {
		char b[64];
		v->type = BM_CONFIG_DOUBLE;
		v->double_value = r->double_value;
		fmt_double(b, sizeof(b), r->double_value);
		error = bm__strdup(&v->text, b);
		break;
	}
	case BOOTMETA__V1__CONFIG_VALUE__VALUE_BOOL_VALUE:
		v->type = BM_CONFIG_BOOL;
		v->bool_value = r->bool_value;
		error = bm__strdup(&v->text, r->bool_value ? "true" : "false");
		break;
	case BOOTMETA__V1__CONFIG_VALUE__VALUE_JSON_VALUE:
		v->type = BM_CONFIG_JSON;
		error = bm__strdup(&v->text, r->json_value);
		break;
	default:
		error = bm_error_set(BM_ECORRUPT, "%s holds no value and is not a tombstone", path);
	}
done:
	if (error < 0)
		bm_config_value_dispose(v);
	return error;
}

static void rec_from_value(Bootmeta__V1__ConfigValue *r, const bm_config_value *v)
{
	bootmeta__v1__config_value__init(r);
	r->project = v->project;
	r->env = v->env;
	r->key = v->key;
	r->seq = v->seq;
	r->type = (Bootmeta__V1__ConfigType)v->type;
	r->tombstone = v->tombstone;
	r->time_ms = v->time_ms;
	r->actor = v->actor ? v->actor : (char *)"";
	r->reason = v->reason ? v->reason : (char *)"";
	r->reverted_from_seq = v->reverted_from_seq;
	r->reverted_from_commit = v->reverted_from_commit ? v->reverted_from_commit : (char *)"";
	if (v->tombstone)
		return;
	switch (v->type) {
	case BM_CONFIG_STRING:
		r->value_case = BOOTMETA__V1__CONFIG_VALUE__VALUE_STRING_VALUE;
		r->string_value = v->text;
		break;
	case BM_CONFIG_INT64:
		r->value_case = BOOTMETA__V1__CONFIG_VALUE__VALUE_INT64_VALUE;
		r->int64_value = v->int64_value;
		break;
	case BM_CONFIG_DOUBLE:
		r->value_case = BOOTMETA__V1__CONFIG_VALUE__VALUE_DOUBLE_VALUE;
		r->double_value = v->double_value;
		break;
	case BM_CONFIG_BOOL:
		r->value_case = BOOTMETA__V1__CONFIG_VALUE__VALUE_BOOL_VALUE;
		r->bool_value = v->bool_value;
		break;
	case BM_CONFIG_JSON:
		r->value_case = BOOTMETA__V1__CONFIG_VALUE__VALUE_JSON_VALUE;
		r->json_value = v->text;
		break;
	}
}

/* ---- sets of values ---- */

void bm_config_free(bm_config *c)
{
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->count; i++)
		bm_config_value_dispose(&c->values[i]);
	free(c->values);
	for (i = 0; i < c->nskipped; i++) {
		free(c->skipped[i].name);
		free(c->skipped[i].env);
		free(c->skipped[i].message);
	}
	free(c->skipped);
	free(c->project);
	free(c->env);
	bm_strlist_dispose(&c->chain);
	free(c);
}

static int config_new(bm_config **out, const char *project, const char *env)
{
	bm_config *c = calloc(1, sizeof(*c));
	int error;
	*out = NULL;
	if (!c)
		return bm_error_set(BM_ENOMEM, "out of memory");
	if ((error = bm__strdup(&c->project, project)) < 0 || (error = bm__strdup(&c->env, env)) < 0) {
		bm_config_free(c);
		return error;
	}
	*out = c;
	return 0;
}

/* Append a value, taking over what it owns. */
static int config_push(bm_config *c, bm_config_value *v)
{
	/* capacity is 16, then doubles: grow at 0 and at every power of two from 16 */
	if (c->count == 0 || (c->count >= 16 && (c->count & (c->count - 1)) == 0)) {
		size_t na = c->count ? c->count * 2 : 16;
		bm_config_value *p = realloc(c->values, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		c->values = p;
	}
	c->values[c->count++] = *v;
	memset(v, 0, sizeof(*v));
	return 0;
}

static int cmp_value(const void *a, const void *b)
{
	const bm_config_value *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static long find_index(const bm_config *c, const char *key)
{
	size_t lo = 0, hi = c->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(c->values[mid].key, key);
		if (!r)
			return (long)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const bm_config_value *bm_config_get(const bm_config *c, const char *key)
{
	long i = c && key ? find_index(c, key) : -1;
	return i < 0 ? NULL : &c->values[i];
}

/* ---- layout ---- */

static int check_names(const char *project, const char *env)
{
	int error;
	if ((error = bm_name_validate(project, BM_NAME_PROJECT)) < 0)
		return error;
	return bm_env_name_validate(env);
}

static int keys_dir(bm_buf *out, const char *project, const char *env)
{
	bm_buf_clear(out);
	return bm_buf_printf(out, "envs/%s/config/%s/" KEYS_DIR, env, project);
}

static int key_dir(bm_buf *out, const char *project, const char *env, const char *key)
{
	bm_buf_clear(out);
	return bm_buf_printf(out, "envs/%s/config/%s/" KEYS_DIR "/%s", env, project, key);
}

int bm_path_config_key(bm_buf *out, const char *project, const char *env, const char *key)
{
	int error;
	if ((error = check_names(project, env)) < 0 || (key && (error = bm_name_validate(key, BM_NAME_KEY)) < 0))
		return error;
	return key ? key_dir(out, project, env, key) : keys_dir(out, project, env);
}

/* Protobuf unpacking from a small arena: a record's pieces come from one buffer instead of a
 * malloc each (resolve unpacks hundreds of records). */
typedef struct {
	char buf[8192];
	size_t used;
} arena;

static void *arena_alloc(void *data, size_t size)
{
	arena *a = data;
	size_t at = (a->used + 15) & ~(size_t)15;
	if (at + size <= sizeof(a->buf)) {
		a->used = at + size;
		return a->buf + at;
	}
	return malloc(size);
}

static void arena_free(void *data, void *ptr)
{
	arena *a = data;
	if ((char *)ptr < a->buf || (char *)ptr >= a->buf + sizeof(a->buf))
		free(ptr);
}

/* Read the record at `rel` of `fs` (whose path in the meta repo is `path`) and check it
 * belongs where it lies. */
static int read_value_at(bm_config_value *v, bm_fs *fs, const char *rel, const char *path, const char *project,
			 const char *env, const char *key)
{
	Bootmeta__V1__ConfigValue *r = NULL;
	bm_buf b = BM_BUF_INIT;
	arena ar;
	ProtobufCAllocator alloc = { arena_alloc, arena_free, &ar };
	int error;
	ar.used = 0;
	if ((error = bm_fs_read(&b, fs, rel)) < 0)
		return error;
	error = bm__pb_unpack((ProtobufCMessage **)&r, &bootmeta__v1__config_value__descriptor, &alloc, b.ptr, b.size);
	bm_buf_dispose(&b);
	if (error == BM_ENOMEM)
		return error;
	if (error < 0) {
		bm_error_set(BM_ECORRUPT, "%s does not decode as a ConfigValue record; restore it from history", path);
		return bm_error_set_about(BM_ABOUT_RECORD_HISTORY, path);
	}
	if (strcmp(r->key, key) || strcmp(r->env, env) || strcmp(r->project, project))
		error = bm_error_set(BM_ECORRUPT, "%s names key \"%s\" of %s in %s, not where it lies; it was "
				     "made by hand", path, r->key, r->project, r->env);
	else if (r->seq != bm__seq_of(strrchr(path, '/') ? strrchr(path, '/') + 1 : path))
		error = bm_error_set(BM_ECORRUPT, "%s holds version %llu of key %s, not the one its name says; it was "
				     "copied or moved by hand (see `git log -- %s`)", path, (unsigned long long)r->seq,
				     key, path);
	else
		error = value_from_rec(v, r, path);
	protobuf_c_message_free_unpacked(&r->base, &alloc);
	return error;
}

static int read_value(bm_config_value *v, bm_fs *fs, const char *path, const char *project, const char *env,
		      const char *key)
{
	return read_value_at(v, fs, path, path, project, env, key);
}

/* The latest record of one key in one env: 1 found, 0 none, < 0 error. `next_seq` (may be
 * NULL) gets the seq the next record takes. */
static int read_latest(bm_config_value *v, uint64_t *next_seq, bm_fs *fs, const char *project, const char *env,
		       const char *key)
{
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT;
	int error;

	if (next_seq)
		*next_seq = 1;
	if ((error = key_dir(&dir, project, env, key)) < 0)
		goto done;
	if ((error = bm__latest_seq(&path, next_seq, fs, dir.ptr)) <= 0)
		goto done;
	if ((error = read_value(v, fs, path.ptr, project, env, key)) < 0)
		goto done;
	error = 1;
done:
	bm_buf_dispose(&dir);
	bm_buf_dispose(&path);
	return error;
}

/* The layer of `env`; keys that `decided` holds are skipped (not read). */
static int layer_read(bm_config **out, bm_fs *fs, const char *project, const char *env, const bm_config *decided);

int bm_config_layer_fs(bm_config **out, bm_fs *fs, const char *project, const char *env)
{
	return layer_read(out, fs, project, env, NULL);
}

static int layer_read(bm_config **out, bm_fs *fs, const char *project, const char *env, const bm_config *decided)
{
	bm_config *c = NULL;
	bm_fs *keys = NULL;
	bm_buf dir = BM_BUF_INIT, rel = BM_BUF_INIT, full = BM_BUF_INIT, lastb = BM_BUF_INIT;
	bm_strlist l = BM_STRLIST_INIT;
	bm_config_value v;
	size_t i;
	int error;

	*out = NULL;
	memset(&v, 0, sizeof(v));
	if ((error = check_names(project, env)) < 0)
		return error;
	if ((error = config_new(&c, project, env)) < 0)
		return error;
	if (bm_fs_commit(fs)) {
		c->at = *bm_fs_commit(fs);
		c->has_at = 1;
	}
	if ((error = keys_dir(&dir, project, env)) < 0)
		goto done;
	/* one view of the +keys folder: each key's reads start there, not at the root */
	if ((error = bm__fs_sub(&keys, fs, dir.ptr)) < 0) {
		if (error == BM_ENOTFOUND) { /* no keys in this layer */
			bm_error_clear();
			error = 0;
			goto found;
		}
		goto done;
	}
	if ((error = bm_fs_list(&l, keys, "")) < 0)
		goto done;
	for (i = 0; i < l.count; i++) {
		size_t n = strlen(l.items[i]);
		const char *last;
		if (n < 2 || l.items[i][n - 1] != '/')
			continue;
		l.items[i][n - 1] = '\0';
		if (bm_name_validate(l.items[i], BM_NAME_KEY) < 0) {
			bm_error_clear();
			continue;
		}
		if (decided && find_index(decided, l.items[i]) >= 0)
			continue; /* a higher layer sets it */
		/* the newest record is the last entry: no listing of the key's folder */
		if ((error = bm_fs_last(&lastb, keys, l.items[i])) < 0) {
			if (error != BM_ENOTFOUND)
				goto done;
			bm_error_clear();
			error = 0;
			continue;
		}
		last = lastb.ptr;
		if (!bm__seq_of(last)) {
			error = bm_error_set(BM_ECORRUPT, "%s/%s/%s is not a sequence-numbered record", dir.ptr,
					     l.items[i], last);
			goto done;
		}
		bm_buf_clear(&rel);
		bm_buf_clear(&full);
		if ((error = bm_buf_puts(&rel, l.items[i])) < 0 || (error = bm_buf_putc(&rel, '/')) < 0 ||
		    (error = bm_buf_puts(&rel, last)) < 0 || (error = bm_buf_put(&full, dir.ptr, dir.size)) < 0 ||
		    (error = bm_buf_putc(&full, '/')) < 0 || (error = bm_buf_put(&full, rel.ptr, rel.size)) < 0)
			goto done;
		if ((error = read_value_at(&v, keys, rel.ptr, full.ptr, project, env, l.items[i])) < 0)
			goto done;
		if ((error = config_push(c, &v)) < 0)
			goto done;
	}
found:
	/* listing order is bytewise, the same order as strcmp: already sorted */
	*out = c;
	c = NULL;
done:
	bm_config_value_dispose(&v);
	bm_config_free(c);
	bm_fs_free(keys);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&rel);
	bm_buf_dispose(&full);
	bm_buf_dispose(&lastb);
	return error;
}

/* Add the values of `layer` (none of whose keys `base` holds) to `base`, keeping key order;
 * tombstones are dropped: a layer that unset a key lets the layers below answer. */
static int merge_below(bm_config *base, bm_config *layer)
{
	bm_config_value *merged;
	size_t i = 0, j = 0, n = 0;

	merged = calloc(base->count + layer->count + 1, sizeof(*merged));
	if (!merged)
		return bm_error_set(BM_ENOMEM, "out of memory");
	while (i < base->count || j < layer->count) {
		if (j < layer->count && layer->values[j].tombstone) {
			bm_config_value_dispose(&layer->values[j++]);
			continue;
		}
		if (j == layer->count || (i < base->count && strcmp(base->values[i].key, layer->values[j].key) < 0))
			merged[n++] = base->values[i++];
		else
			merged[n++] = layer->values[j++];
	}
	free(base->values);
	base->values = merged;
	base->count = n;
	free(layer->values);
	layer->values = NULL;
	layer->count = 0;
	return 0;
}

/* ---- secrets in resolve ---- */

static int skipped_has(const bm_config *c, const char *name)
{
	size_t i;
	for (i = 0; i < c->nskipped; i++)
		if (!strcmp(c->skipped[i].name, name))
			return 1;
	return 0;
}

/* Record a secret that could not be added; the message is bm_error_last() unless `msg`. */
static int skipped_add(bm_config *c, const bm_secret_info *info, const char *env, int code, const char *msg)
{
	bm_config_skipped *p, *k;
	if (code == BM_ENOMEM)
		return code;
	if (!(p = realloc(c->skipped, (c->nskipped + 1) * sizeof(*p))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	c->skipped = p;
	k = &p[c->nskipped];
	memset(k, 0, sizeof(*k));
	k->seq = info->seq;
	k->error = code;
	if (bm__strdup(&k->name, info->name) < 0 || bm__strdup(&k->env, env) < 0 ||
	    bm__strdup(&k->message, msg ? msg : bm_error_last()) < 0) {
		free(k->name);
		free(k->env);
		free(k->message);
		return BM_ENOMEM;
	}
	c->nskipped++;
	bm_error_clear();
	return 0;
}

/* The .pb record next to a version's .age. */
static int version_record_path(bm_buf *out, const char *age_path)
{
	size_t n = strlen(age_path);
	if (n < 4 || strcmp(age_path + n - 4, ".age"))
		return bm_error_set(BM_ECORRUPT, "%s is not a .age path", age_path);
	bm_buf_clear(out);
	if (bm_buf_put(out, age_path, n - 4) < 0 || bm_buf_puts(out, ".pb") < 0)
		return BM_ENOMEM;
	return 0;
}

/* The secrets of `project` in layer `env` that no nearer layer decided, into `*out` (sorted
 * by name); those that do not open go to c->skipped. */
static int secrets_layer(bm_config **out, bm_fs *fs, bm_store *store, const char *project, const char *env,
			 const char *identities, int require_signed, bm_config *c)
{
	bm_secret_infos list = BM_SECRET_INFOS_INIT;
	bm_secret_info info;
	bm_buf plain = BM_BUF_INIT, rec = BM_BUF_INIT;
	bm_config *l = NULL;
	bm_config_value v;
	size_t i;
	int error;

	*out = NULL;
	memset(&v, 0, sizeof(v));
	memset(&info, 0, sizeof(info));
	if ((error = config_new(&l, project, env)) < 0)
		return error;
	if ((error = bm_secret_list(&list, fs, project, env, 0)) < 0)
		goto done;
	for (i = 0; i < list.count; i++) {
		const bm_secret_info *li = &list.items[i];
		if (find_index(c, li->name) >= 0 || skipped_has(c, li->name))
			continue; /* a nearer layer decided the name */
		if (require_signed) {
			/* before decrypting: age does not say who encrypted a file */
			if ((error = version_record_path(&rec, li->path)) < 0)
				goto done;
			if ((error = bm_store_verify_path(NULL, NULL, store, li->path, bm_fs_commit(fs), NULL)) == 0)
				error = bm_store_verify_path(NULL, NULL, store, rec.ptr, bm_fs_commit(fs), NULL);
			if (error < 0) {
				bm_error_prefix(error, "require-signed: %s", li->path);
				if ((error = skipped_add(c, li, env, error == BM_ENOMEM ? BM_ENOMEM : BM_EVERIFY, NULL)) < 0)
					goto done;
				continue;
			}
		}
		bm_secret_info_dispose(&info);
		error = bm_secret_get(&plain, fs, project, env, li->name, identities, &info);
		if (error == 0 && plain.size && (memchr(plain.ptr, '\0', plain.size) || !bm_utf8_valid(plain.ptr, plain.size))) {
			bm_error_set(BM_EINVALID, "secret %s of %s in %s is not UTF-8 text", li->name, project, env);
			error = bm_error_set_about(BM_ABOUT_SECRET, NULL);
		}
		if (error < 0) {
			bm_buf_dispose_secret(&plain);
			if ((error = skipped_add(c, li, env, error, NULL)) < 0)
				goto done;
			continue;
		}
		/* the plaintext goes into a block of its own size, so the wipe on dispose covers it */
		v.secret = 1;
		v.type = BM_CONFIG_STRING;
		v.seq = info.seq;
		v.time_ms = info.time_ms;
		if (!(v.text = malloc(plain.size + 1))) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		if (plain.size)
			memcpy(v.text, plain.ptr, plain.size);
		v.text[plain.size] = '\0';
		bm_buf_dispose_secret(&plain);
		if ((error = bm__strdup(&v.key, li->name)) < 0 || (error = bm__strdup(&v.project, project)) < 0 ||
		    (error = bm__strdup(&v.env, env)) < 0 || (error = bm__strdup(&v.actor, info.actor)) < 0 ||
		    (error = bm__strdup(&v.path, info.path)) < 0 || (error = config_push(l, &v)) < 0)
			goto done;
	}
	/* bm_secret_list sorts by project then name: one project, so by name */
	*out = l;
	l = NULL;
done:
	bm_config_value_dispose(&v);
	bm_secret_info_dispose(&info);
	bm_secret_infos_dispose(&list);
	bm_buf_dispose_secret(&plain);
	bm_buf_dispose(&rec);
	bm_config_free(l);
	return error;
}

/* Drop from `layer` the keys a secret of the same layer holds, or that a skipped secret
 * claims (this layer's or a nearer one's). */
static void drop_claimed(bm_config *layer, const bm_config *secrets, const bm_config *c)
{
	size_t i, n = 0;
	for (i = 0; i < layer->count; i++) {
		const char *k = layer->values[i].key;
		if ((secrets && find_index(secrets, k) >= 0) || skipped_has(c, k))
			bm_config_value_dispose(&layer->values[i]);
		else
			layer->values[n++] = layer->values[i];
	}
	layer->count = n;
}

static int resolve_chain(bm_config **out, bm_fs *fs, bm_store *store, const char *project, const char *env,
			 const char *identities, int require_signed)
{
	bm_config *c = NULL, *layer = NULL, *secrets = NULL;
	size_t i;
	int error;

	*out = NULL;
	if ((error = check_names(project, env)) < 0)
		return error;
	if ((error = config_new(&c, project, env)) < 0)
		return error;
	if (bm_fs_commit(fs)) {
		c->at = *bm_fs_commit(fs);
		c->has_at = 1;
	}
	if ((error = bm_env_chain(&c->chain, fs, env)) < 0)
		goto done;
	/* from the env itself up to the root: a key is read only from the highest layer that
	 * sets it */
	for (i = 0; i < c->chain.count; i++) {
		if ((error = layer_read(&layer, fs, project, c->chain.items[i], c)) < 0)
			goto done;
		if (identities) {
			if ((error = secrets_layer(&secrets, fs, store, project, c->chain.items[i], identities,
						   require_signed, c)) < 0)
				goto done;
			/* in one layer a secret wins over a config key of its name */
			drop_claimed(layer, secrets, c);
			if ((error = merge_below(layer, secrets)) < 0)
				goto done;
			bm_config_free(secrets);
			secrets = NULL;
		}
		if ((error = merge_below(c, layer)) < 0)
			goto done;
		bm_config_free(layer);
		layer = NULL;
	}
	*out = c;
	c = NULL;
done:
	bm_config_free(secrets);
	bm_config_free(layer);
	bm_config_free(c);
	return error;
}

int bm_config_resolve_fs(bm_config **out, bm_fs *fs, const char *project, const char *env)
{
	return resolve_chain(out, fs, NULL, project, env, NULL, 0);
}

int bm_config_resolve(bm_config **out, bm_store *store, const char *project, const char *env,
		      const bm_config_resolve_options *opts)
{
	bm_fs *fs = NULL;
	const char *identities = opts && opts->version >= 2 ? opts->identities : NULL;
	int require_signed = 0;
	int error;
	*out = NULL;
	if ((error = BM_OPTS_CHECK(opts, BM_CONFIG_RESOLVE_OPTIONS_VERSION, "bm_config_resolve_options")) < 0)
		return error;
	if (identities)
		require_signed = opts->require_signed || bm_store_require_signed(store);
	if ((error = bm_store_fs(&fs, store, opts ? opts->at : NULL)) < 0)
		return error;
	if ((error = resolve_chain(out, fs, store, project, env, identities, require_signed)) < 0)
		goto done;
	if (opts && opts->with_commits && (error = bm_config_find_commits(store, (*out)->values, (*out)->count)) < 0) {
		bm_config_free(*out);
		*out = NULL;
	}
done:
	bm_fs_free(fs);
	return error;
}

static int history_key(bm_config *c, bm_fs *fs, const char *project, const char *env, const char *key)
{
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT;
	bm_strlist l = BM_STRLIST_INIT;
	bm_config_value v;
	size_t i;
	int error;

	memset(&v, 0, sizeof(v));
	if ((error = key_dir(&dir, project, env, key)) < 0)
		goto done;
	if ((error = bm_fs_list_or_empty(&l, fs, dir.ptr)) < 0)
		goto done;
	for (i = 0; i < l.count; i++) {
		if (!bm__seq_of(l.items[i]))
			continue;
		bm_buf_clear(&path);
		if ((error = bm_buf_printf(&path, "%s/%s", dir.ptr, l.items[i])) < 0)
			goto done;
		if ((error = read_value(&v, fs, path.ptr, project, env, key)) < 0)
			goto done;
		if ((error = config_push(c, &v)) < 0)
			goto done;
	}
done:
	bm_config_value_dispose(&v);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&path);
	return error;
}

int bm_config_history(bm_config **out, bm_store *store, const char *project, const char *env, const char *key,
		      const bm_config_resolve_options *opts)
{
	bm_config *c = NULL;
	bm_fs *fs = NULL;
	bm_strlist keys = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT;
	size_t i;
	int error;

	*out = NULL;
	if ((error = BM_OPTS_CHECK(opts, BM_CONFIG_RESOLVE_OPTIONS_VERSION, "bm_config_resolve_options")) < 0)
		return error;

	*out = NULL;
	if ((error = check_names(project, env)) < 0)
		return error;
	if (key && (error = bm_name_validate(key, BM_NAME_KEY)) < 0)
		return error;
	if ((error = bm_store_fs(&fs, store, opts ? opts->at : NULL)) < 0)
		return error;
	if ((error = config_new(&c, project, env)) < 0)
		goto done;
	if (bm_fs_commit(fs)) {
		c->at = *bm_fs_commit(fs);
		c->has_at = 1;
	}
	if ((error = bm_env_exists(fs, env)) <= 0) { /* < 0: out of memory */
		bm_env *e = NULL;
		if (error == 0)
			error = bm_env_read(&e, fs, env); /* for its message */
		bm_env_free(e);
		goto done;
	}
	error = 0;
	if (key) {
		error = history_key(c, fs, project, env, key);
	} else {
		if ((error = keys_dir(&dir, project, env)) < 0)
			goto done;
		error = bm_fs_list_or_empty(&keys, fs, dir.ptr);
		for (i = 0; !error && i < keys.count; i++) {
			size_t n = strlen(keys.items[i]);
			if (n < 2 || keys.items[i][n - 1] != '/')
				continue;
			keys.items[i][n - 1] = '\0';
			if (bm_name_validate(keys.items[i], BM_NAME_KEY) < 0) {
				bm_error_clear();
				continue;
			}
			error = history_key(c, fs, project, env, keys.items[i]);
		}
	}
	if (error < 0)
		goto done;
	if (c->count > 1)
		qsort(c->values, c->count, sizeof(*c->values), cmp_value);
	if (opts && opts->with_commits && (error = bm_config_find_commits(store, c->values, c->count)) < 0)
		goto done;
	*out = c;
	c = NULL;
done:
	bm_config_free(c);
	bm_fs_free(fs);
	bm_strlist_dispose(&keys);
	bm_buf_dispose(&dir);
	return error;
}

int bm_config_find_commits(bm_store *store, bm_config_value *values, size_t n)
{
	const char **paths = NULL;
	bm_oid *oids = NULL;
	int *has = NULL;
	size_t i;
	int error;

	if (!n)
		return 0;
	paths = calloc(n, sizeof(*paths));
	oids = calloc(n, sizeof(*oids));
	has = calloc(n, sizeof(*has));
	if (!paths || !oids || !has) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++)
		paths[i] = values[i].path;
	if ((error = bm__find_commits(store, paths, n, oids, has)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		values[i].has_commit = has[i];
		if (has[i])
			values[i].commit = oids[i];
	}
done:
	free(paths);
	free(oids);
	free(has);
	return error;
}

/* ---- writes ---- */

void bm_config_changes_dispose(bm_config_changes *c)
{
	size_t i;
	if (!c)
		return;
	for (i = 0; i < c->count; i++) {
		bm_config_value_dispose(&c->items[i].before);
		bm_config_value_dispose(&c->items[i].after);
	}
	free(c->items);
	memset(c, 0, sizeof(*c));
}

static int same_value(const bm_config_value *a, const bm_config_value *b)
{
	return a->type == b->type && !strcmp(a->text ? a->text : "", b->text ? b->text : "");
}

static int project_must_exist(bm_fs *fs, const char *project)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm_buf_printf(&p, "projects/%s/project.pb", project)) < 0)
		return error;
	if (bm_fs_exists(fs, p.ptr) != 1) {
		bm_error_set(BM_ENOTFOUND, "no project \"%s\"", project);
		error = bm_error_set_about(BM_ABOUT_PROJECT, project);
	}
	bm_buf_dispose(&p);
	return error;
}

/* Add the records of the keys in `want` that change to the transaction. 0 when some were
 * added, 1 when none (every key unchanged, or a dry run: nothing added), < 0 on an error.
 * `out` is replaced. */
static int config_apply(bm_config_changes *out, bm_txn *txn, const char *project, const char *env,
			const bm_config_value *want_all, size_t n, const bm_config_write_options *opts)
{
	bm_fs *fs = bm_txn_fs(txn);
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT;
	Bootmeta__V1__ConfigValue rec;
	size_t i, written = 0;
	int error;

	bm_config_changes_dispose(out);
	if ((error = project_must_exist(fs, project)) < 0)
		goto done;
	if ((error = bm_env_exists(fs, env)) <= 0) { /* < 0: out of memory */
		bm_env *e = NULL;
		if (error == 0)
			error = bm_env_read(&e, fs, env);
		bm_env_free(e);
		goto done;
	}
	error = 0;
	if (!(out->items = calloc(n, sizeof(*out->items)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		bm_config_change *ch = &out->items[i];
		const bm_config_value *want = &want_all[i];
		uint64_t seq;
		out->count++;
		if ((error = read_latest(&ch->before, &seq, fs, project, env, want->key)) < 0)
			goto done;
		ch->has_before = error == 1 && !ch->before.tombstone;
		if (error == 1 && ch->before.tombstone)
			bm_config_value_dispose(&ch->before);
		error = 0;
		if (want->tombstone && !ch->has_before) {
			if (want->reverted_from_seq || want->reverted_from_commit) {
				ch->unchanged = 1;
			} else {
				bm_error_set(BM_ENOTFOUND, "%s is not set in environment %s for %s (nothing to unset)",
					     want->key, env, project);
				error = bm__about_words(BM_ABOUT_CONFIG_KEY, project, env, NULL);
				goto done;
			}
		}
		if (!want->tombstone && ch->has_before && same_value(&ch->before, want))
			ch->unchanged = 1;
		if ((error = bm_config_value_copy(&ch->after, want)) < 0)
			goto done;
		if (ch->unchanged)
			continue;
		free(ch->after.project);
		free(ch->after.env);
		free(ch->after.actor);
		free(ch->after.reason);
		ch->after.project = ch->after.env = ch->after.actor = ch->after.reason = NULL;
		if ((error = bm__strdup(&ch->after.project, project)) < 0 ||
		    (error = bm__strdup(&ch->after.env, env)) < 0 ||
		    (error = bm__strdup(&ch->after.actor, bm_txn_actor(txn))) < 0 ||
		    (error = bm__strdup(&ch->after.reason, opts && opts->reason ? opts->reason : "")) < 0)
			goto done;
		if (ch->after.tombstone && ch->has_before)
			ch->after.type = ch->before.type;
		ch->after.seq = seq;
		ch->after.time_ms = bm_txn_time_ms(txn);
		if ((error = key_dir(&dir, project, env, want->key)) < 0)
			goto done;
		bm_buf_clear(&path);
		if ((error = bm_buf_printf(&path, "%s/%010llu.pb", dir.ptr, (unsigned long long)seq)) < 0)
			goto done;
		free(ch->after.path);
		if ((error = bm__strdup(&ch->after.path, path.ptr)) < 0)
			goto done;
		written++;
		rec_from_value(&rec, &ch->after);
		/* a dry run adds nothing, but says what the write would refuse */
		if ((error = opts && opts->dry_run ? bm__rec_check_add(txn, path.ptr, &rec.base)
						   : bm__rec_add(txn, path.ptr, &rec.base)) < 0)
			goto done;
	}
	error = !written || (opts && opts->dry_run) ? 1 : 0;
done:
	bm_buf_dispose(&dir);
	bm_buf_dispose(&path);
	return error;
}

/* The commit message of a config write that added records. */
static int config_message(bm_txn *txn, const bm_config_changes *out, const char *project, const char *env,
			  const char *verb, const bm_config_write_options *opts)
{
	bm_buf keys = BM_BUF_INIT;
	size_t i, written = 0;
	int error = 0;
	for (i = 0; i < out->count && !error; i++)
		if (!out->items[i].unchanged)
			error = bm_buf_printf(&keys, "%s%s", written++ ? " " : "", out->items[i].after.key);
	if (!error)
		error = bm_txn_message(txn, "config %s %s %s: %s%s%s", verb, project, env,
				       keys.size > 400 ? "(many keys)" : keys.ptr ? keys.ptr : "",
				       opts && opts->reason && *opts->reason ? "\n\n" : "",
				       opts && opts->reason ? opts->reason : "");
	bm_buf_dispose(&keys);
	return error;
}

typedef struct {
	const char *project, *env;
	bm_config_value *want; /* parsed: key, type, text, typed field, tombstone; revert fields */
	size_t n;
	const bm_config_write_options *opts;
	bm_config_changes *out;
	const char *verb;
} write_ctx;

static int write_fn(bm_txn *txn, void *payload)
{
	write_ctx *w = payload;
	int error = config_apply(w->out, txn, w->project, w->env, w->want, w->n, w->opts);
	return error ? error : config_message(txn, w->out, w->project, w->env, w->verb, w->opts);
}

/* Commit what `fn` adds; `out` says whether a commit was made. */
static int config_commit(bm_config_changes *out, bm_store *store, bm_txn_fn fn, void *payload,
			 const bm_config_write_options *opts, const bm_write_options *wopts)
{
	bm_oid commit, before;
	int error, had_tip;

	had_tip = bm_store_tip(&before, store) == 0;
	bm_error_clear();
	if ((error = bm_store_write(&commit, store, fn, payload, wopts)) < 0) {
		bm_config_changes_dispose(out);
		return error;
	}
	out->has_commit = 0;
	if (!(opts && opts->dry_run) && (!had_tip || !bm_oid_equal(&commit, &before))) {
		size_t i;
		for (i = 0; i < out->count; i++)
			if (!out->items[i].unchanged)
				break;
		if (i < out->count) {
			out->commit = commit;
			out->has_commit = 1;
		}
	}
	return 0;
}

static int run_write(bm_config_changes *out, bm_store *store, const char *project, const char *env,
		     bm_config_value *want, size_t n, const bm_config_write_options *opts,
		     const bm_write_options *wopts, const char *verb)
{
	write_ctx w = { project, env, want, n, opts, out, verb };
	return config_commit(out, store, write_fn, &w, opts, wopts);
}

/* Check the arguments of a config write and parse them into `*want` (n values; free each
 * with bm_config_value_dispose, then the array). `sets` gets the number of keys set. */
static int config_want(bm_config_value **want_out, size_t *sets, const char *project, const char *env,
		       const bm_config_assign *assigns, size_t n, const bm_config_write_options *opts)
{
	bm_config_value *want = NULL;
	size_t i, j;
	int error;

	*want_out = NULL;
	*sets = 0;
	if ((error = BM_OPTS_CHECK(opts, BM_CONFIG_WRITE_OPTIONS_VERSION, "bm_config_write_options")) < 0)
		return error;
	if ((error = check_names(project, env)) < 0)
		return error;
	if (!n)
		return bm_error_set(BM_EINVALID, "no keys given (expected KEY=VALUE ...)");
	if (n > BM_CONFIG_MAX_KEYS)
		return bm_error_set(BM_ETOOBIG, "%zu keys in one call; the limit is %d", n, BM_CONFIG_MAX_KEYS);
	if (opts && opts->reason &&
	    (error = bm_text_check(opts->reason, strlen(opts->reason), BM_TEXT_LINE, BM_CONFIG_REASON_MAX,
				   "the reason")) < 0)
		return error;
	if (!(want = calloc(n, sizeof(*want))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((error = bm_name_validate(assigns[i].key, BM_NAME_KEY)) < 0)
			goto done;
		for (j = 0; j < i; j++)
			if (!strcmp(assigns[j].key, assigns[i].key)) {
				error = bm_error_set(BM_EINVALID, "key %s is given twice", assigns[i].key);
				goto done;
			}
		if ((error = bm__strdup(&want[i].key, assigns[i].key)) < 0)
			goto done;
		if (assigns[i].unset) {
			want[i].tombstone = 1;
			want[i].type = BM_CONFIG_STRING;
			if ((error = bm__strdup(&want[i].text, "")) < 0)
				goto done;
		} else {
			(*sets)++;
			if ((error = bm_config_value_parse(&want[i], assigns[i].type, assigns[i].value)) < 0) {
				bm_error_prefix(error, "%s", assigns[i].key);
				goto done;
			}
		}
	}
done:
	if (error < 0) {
		for (i = 0; i < n; i++)
			bm_config_value_dispose(&want[i]);
		free(want);
		return error;
	}
	*want_out = want;
	return 0;
}

static void want_free(bm_config_value *want, size_t n)
{
	size_t i;
	for (i = 0; want && i < n; i++)
		bm_config_value_dispose(&want[i]);
	free(want);
}

int bm_config_write_txn(bm_config_changes *out, bm_txn *txn, const char *project, const char *env,
			const bm_config_assign *assigns, size_t n, const bm_config_write_options *opts)
{
	bm_config_value *want = NULL;
	size_t sets;
	int error;

	bm_config_changes_dispose(out);
	if ((error = config_want(&want, &sets, project, env, assigns, n, opts)) < 0)
		return error;
	error = config_apply(out, txn, project, env, want, n, opts);
	want_free(want, n);
	return error;
}

typedef struct {
	const char *project, *env;
	const bm_config_assign *assigns;
	size_t n;
	const bm_config_write_options *opts;
	bm_config_changes *out;
	const char *verb;
} assign_ctx;

static int assign_fn(bm_txn *txn, void *payload)
{
	assign_ctx *a = payload;
	int error = bm_config_write_txn(a->out, txn, a->project, a->env, a->assigns, a->n, a->opts);
	return error ? error : config_message(txn, a->out, a->project, a->env, a->verb, a->opts);
}

int bm_config_write(bm_config_changes *out, bm_store *store, const char *project, const char *env,
		    const bm_config_assign *assigns, size_t n, const bm_config_write_options *opts,
		    const bm_write_options *wopts)
{
	assign_ctx a = { project, env, assigns, n, opts, out, NULL };
	bm_config_value *want = NULL;
	size_t sets;
	int error;

	memset(out, 0, sizeof(*out));
	/* every argument is checked before the transaction (and again in it: one code path) */
	if ((error = config_want(&want, &sets, project, env, assigns, n, opts)) < 0)
		return error;
	want_free(want, n);
	a.verb = sets ? "set" : "unset";
	return config_commit(out, store, assign_fn, &a, opts, wopts);
}

int bm_config_revert(bm_config_changes *out, bm_store *store, const char *project, const char *env,
		     const char *key, uint64_t seq, const char *commit, const bm_config_write_options *opts,
		     const bm_write_options *wopts)
{
	bm_fs *fs = NULL;
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT;
	bm_config_value target;
	bm_oid at;
	char hex[BM_OID_HEXSZ + 1];
	int error;

	if ((error = BM_OPTS_CHECK(opts, BM_CONFIG_WRITE_OPTIONS_VERSION, "bm_config_write_options")) < 0)
		return error;

	memset(out, 0, sizeof(*out));
	memset(&target, 0, sizeof(target));
	if ((error = check_names(project, env)) < 0)
		return error;
	if ((error = bm_name_validate(key, BM_NAME_KEY)) < 0)
		return error;
	if (!seq == !commit)
		return bm_error_set(BM_EINVALID, "revert needs exactly one of a sequence number or a meta commit");
	if (seq) {
		/* records never change, so the tip's copy of seq N is the one */
		if ((error = bm_store_fs(&fs, store, NULL)) < 0)
			goto done;
		if ((error = key_dir(&dir, project, env, key)) < 0 ||
		    (error = bm_buf_printf(&path, "%s/%010llu.pb", dir.ptr, (unsigned long long)seq)) < 0)
			goto done;
		if (bm_fs_exists(fs, path.ptr) != 1) {
			bm_error_set(BM_ENOTFOUND, "%s has no record %llu in environment %s for %s", key,
				     (unsigned long long)seq, env, project);
			error = bm__about_words(BM_ABOUT_CONFIG_SEQ, project, env, key);
			goto done;
		}
		if ((error = read_value(&target, fs, path.ptr, project, env, key)) < 0)
			goto done;
		target.reverted_from_seq = seq;
	} else {
		if ((error = bm_store_resolve(&at, store, commit)) < 0)
			goto done;
		if ((error = bm_store_fs(&fs, store, &at)) < 0)
			goto done;
		if ((error = read_latest(&target, NULL, fs, project, env, key)) < 0)
			goto done;
		if (error == 0) {
			target.tombstone = 1;
			target.type = BM_CONFIG_STRING;
			if ((error = bm__strdup(&target.key, key)) < 0 || (error = bm__strdup(&target.text, "")) < 0)
				goto done;
		}
		bm_oid_fmt(hex, &at);
		free(target.reverted_from_commit);
		if ((error = bm__strdup(&target.reverted_from_commit, hex)) < 0)
			goto done;
		target.reverted_from_seq = 0;
	}
	if (target.tombstone) {
		free(target.text);
		if ((error = bm__strdup(&target.text, "")) < 0)
			goto done;
	}
	error = run_write(out, store, project, env, &target, 1, opts, wopts, "revert");
done:
	bm_config_value_dispose(&target);
	bm_fs_free(fs);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&path);
	return error;
}

int bm_config_value_record_json(bm_buf *out, const bm_config_value *v)
{
	Bootmeta__V1__ConfigValue r;
	rec_from_value(&r, v);
	return bm_pbjson_write(out, &r.base, NULL);
}

/* ---- env-file output ---- */

static int env_name_ok(const char *k)
{
	const char *p;
	if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_'))
		return 0;
	for (p = k; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

/* A value both parsers read literally when written bare. */
static int portable(const char *v)
{
	size_t n = strlen(v);
	if (n && (v[0] == ' ' || v[0] == '\t' || v[0] == '\'' || v[0] == '"'))
		return 0;
	if (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		return 0;
	return !strpbrk(v, "\\\n\r");
}

int bm_config_format_env(bm_buf *out, const bm_config *config, bm_config_env_style style)
{
	bm_buf bad = BM_BUF_INIT;
	size_t i, nbad = 0, nportable = 0;
	int error = 0;

	for (i = 0; i < config->count && !error; i++) {
		const bm_config_value *v = &config->values[i];
		const char *t = v->text ? v->text : "", *p;
		const char *why = NULL;
		if (!env_name_ok(v->key))
			why = "not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)";
		else if (style == BM_CONFIG_ENV_PORTABLE && !portable(t))
			why = "a newline, backslash, leading quote or edge whitespace, which systemd and docker read "
			      "differently";
		else if (style == BM_CONFIG_ENV_DOCKER && strpbrk(t, "\n\r"))
			why = "a newline, which docker --env-file cannot hold";
		if (why) {
			nportable += style == BM_CONFIG_ENV_PORTABLE && env_name_ok(v->key);
			if (nbad++ < 8)
				error = bm_buf_printf(&bad, "%s%s: %s", nbad > 1 ? "; " : "", v->key, why);
			continue;
		}
		if ((error = bm_buf_printf(out, "%s=", v->key)) < 0)
			break;
		if (style != BM_CONFIG_ENV_SYSTEMD || portable(t)) {
			error = bm_buf_printf(out, "%s\n", t);
			continue;
		}
		/* systemd: a double-quoted value, with \ " ` $ escaped; newlines are kept */
		if ((error = bm_buf_putc(out, '"')) < 0)
			break;
		for (p = t; *p && !error; p++) {
			if (strchr("\\\"`$", *p))
				error = bm_buf_putc(out, '\\');
			if (!error)
				error = bm_buf_putc(out, *p);
		}
		if (!error)
			error = bm_buf_puts(out, "\"\n");
	}
	if (!error && nbad) {
		error = bm_error_set(BM_EINVALID, "%zu key(s) cannot be written as an env file: %s%s", nbad,
				     bad.ptr, nbad > 8 ? "; ..." : "");
		if (nportable) /* another style holds them */
			bm_error_set_about(BM_ABOUT_ENV_FILE_FORMAT, NULL);
	}
	bm_buf_dispose(&bad);
	return error;
}
