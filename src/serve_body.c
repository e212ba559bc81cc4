/* serve_body.c: strict parse of serve's JSON write-request bodies (serve_body.h says what each
 * kind takes). jansson reads the JSON (well-formed UTF-8, no NUL, no duplicate member); every
 * member is then checked here by the library's own rules (names, text, hashes, sources), so a
 * request that parses is one the write operation will not refuse for its shape. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "serve_body.h"

static const char *const kind_names[] = { NULL, "promote", "release", "binary", "config", "flag", "log", "report",
					  "hook", "hook-rm" };

const char *serve_kind_name(serve_kind kind)
{
	return kind >= SERVE_KIND_PROMOTE && kind <= SERVE_KIND_MAX ? kind_names[kind] : NULL;
}

int serve_kind_parse(serve_kind *out, const char *name)
{
	int k;
	for (k = SERVE_KIND_PROMOTE; name && k <= SERVE_KIND_MAX; k++)
		if (!strcmp(name, kind_names[k])) {
			*out = (serve_kind)k;
			return 0;
		}
	return BM_EINVALID;
}

static const char *const state_names[] = { NULL, "downloading", "installed", "healthy", "failed", "rolled-back" };

const char *serve_report_state_name(serve_report_state state)
{
	return state >= SERVE_REPORT_DOWNLOADING && state <= SERVE_REPORT_ROLLED_BACK ? state_names[state] : NULL;
}

/* ---- messages ---- */

typedef struct {
	serve_body_req *req;
	bm_buf *err;
	const char *prefix; /* of field names inside an item: "sources[1]." */
	const serve_body_url *url;
} pctx;

/* The message "field \"NAME\": ..." (NAME shown byte-safe: it may come from the body). */
BM_PRINTF(4, 0) static int vfail(pctx *p, int code, const char *field, const char *fmt, va_list ap)
{
	bm_buf_clear(p->err);
	if (field) {
		size_t n = strlen(field);
		bm_buf_puts(p->err, "field \"");
		if (p->prefix)
			bm_text_escape(p->err, p->prefix, strlen(p->prefix), BM_ESCAPE_ASCII);
		bm_text_escape(p->err, field, n > 80 ? 80 : n, BM_ESCAPE_ASCII);
		bm_buf_puts(p->err, n > 80 ? "...\": " : "\": ");
	} else {
		bm_buf_puts(p->err, "body: ");
	}
	bm_buf_vprintf(p->err, fmt, ap);
	return code;
}

BM_PRINTF(4, 5) static int fail(pctx *p, int code, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	code = vfail(p, code, field, fmt, ap);
	va_end(ap);
	return code;
}

/* The library's last error, about `field`. Shown byte-safe: a library message may quote a
 * piece of the input (one byte of a character, a control character). */
static int fail_lib(pctx *p, int code, const char *field)
{
	const char *msg = bm_error_last();
	if (code == BM_ENOMEM)
		return fail(p, code, NULL, "out of memory");
	code = fail(p, code, field, "%s", "");
	bm_text_escape(p->err, msg, strlen(msg), BM_ESCAPE_DEFAULT);
	return code;
}

static int oom(pctx *p)
{
	return fail(p, BM_ENOMEM, NULL, "out of memory");
}

/* "name[3]", "set.KEY" ... into `b` (cleared). */
static const char *subname(bm_buf *b, const char *field, const char *sep, const char *sub, size_t index)
{
	bm_buf_clear(b);
	if (sub)
		bm_buf_printf(b, "%s%s%s", field, sep, sub);
	else
		bm_buf_printf(b, "%s%s[%zu]", field, sep, index);
	return b->ptr ? b->ptr : field;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/* ---- owned memory ---- */

static const char *keep_str(pctx *p, const char *s, size_t len)
{
	if (bm_strlist_addn(&p->req->strings_, s, len) < 0)
		return NULL;
	return p->req->strings_.items[p->req->strings_.count - 1];
}

static void *keep_mem(pctx *p, size_t n, size_t size)
{
	void **grown, *m;
	if (!(m = calloc(n ? n : 1, size)))
		return NULL;
	if (!(grown = realloc(p->req->mem_, (p->req->nmem_ + 1) * sizeof(*grown)))) {
		free(m);
		return NULL;
	}
	p->req->mem_ = grown;
	grown[p->req->nmem_++] = m;
	return m;
}

/* ---- the members of a body ---- */

/* Refuse members that are not in `known` (a NULL-ended list), naming the first one in body
 * order. Members the server sets itself get their own message. */
static int check_members(pctx *p, json_t *obj, const char *const *known, const char *what)
{
	static const char *const server_set[] = { "actor", "createdMs", "timeMs", "seq", "id", NULL };
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; known[i]; i++)
			if (!strcmp(key, known[i]))
				break;
		if (known[i])
			continue;
		for (i = 0; server_set[i]; i++)
			if (!strcmp(key, server_set[i]))
				return fail(p, BM_EINVALID, key, "is set by the server (the token's name, the commit's time, "
								   "the next number), not by a request");
		{
			bm_buf list = BM_BUF_INIT;
			int error;
			for (i = 0; known[i]; i++)
				bm_buf_printf(&list, "%s%s", i ? ", " : "", known[i]);
			error = fail(p, BM_EINVALID, key, "unknown field; %s takes %s", what, list.ptr ? list.ptr : "nothing");
			bm_buf_dispose(&list);
			return error;
		}
	}
	return 0;
}

/* A string member: present (else NULL when optional), a JSON string, text of `tkind` up to
 * `max` bytes. An empty optional string is taken as absent (proto3: the default). */
static int get_text(const char **out, pctx *p, json_t *obj, const char *field, int required, bm_text_kind tkind,
		    size_t max)
{
	json_t *v = json_object_get(obj, field);
	const char *s;
	size_t len;
	int error;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(p, BM_EINVALID, field, "missing");
		return 0;
	}
	if (!json_is_string(v))
		return fail(p, BM_EINVALID, field, "%s, not a string", json_type_name(v));
	s = json_string_value(v);
	len = json_string_length(v);
	if (!len) {
		if (required)
			return fail(p, BM_EINVALID, field, "empty");
		return 0;
	}
	if ((error = bm_text_check(s, len, tkind, max, "the value")) < 0)
		return fail_lib(p, error, field);
	if (!(*out = keep_str(p, s, len)))
		return oom(p);
	return 0;
}

/* The same for a JSON string value that is not a member (an array item, a map value). */
static int take_text(const char **out, pctx *p, json_t *v, const char *field, bm_text_kind tkind, size_t max)
{
	int error;
	*out = NULL;
	if (!json_is_string(v))
		return fail(p, BM_EINVALID, field, "%s, not a string", json_type_name(v));
	if (!json_string_length(v))
		return fail(p, BM_EINVALID, field, "empty");
	if ((error = bm_text_check(json_string_value(v), json_string_length(v), tkind, max, "the value")) < 0)
		return fail_lib(p, error, field);
	if (!(*out = keep_str(p, json_string_value(v), json_string_length(v))))
		return oom(p);
	return 0;
}

/* Names: checked as text first (a bad byte is named by offset), then by the name rules. */
#define NAME_TEXT_MAX 1024
#define NAME_PROJECT (-1) /* bm_project_name_check */
#define URL(member) (p->url ? p->url->member : NULL)

static int name_check(const char *s, int kind)
{
	return kind == NAME_PROJECT ? bm_project_name_check(s) : bm_name_validate(s, (bm_name_kind)kind);
}

static int get_name(const char **out, pctx *p, json_t *obj, const char *field, int required, int kind)
{
	int error;
	if ((error = get_text(out, p, obj, field, required, BM_TEXT_LINE, NAME_TEXT_MAX)) < 0 || !*out)
		return error;
	if ((error = name_check(*out, kind)) < 0)
		return fail_lib(p, error, field);
	return 0;
}

static int take_name(const char **out, pctx *p, json_t *v, const char *field, int kind)
{
	int error;
	if ((error = take_text(out, p, v, field, BM_TEXT_LINE, NAME_TEXT_MAX)) < 0)
		return error;
	if ((error = name_check(*out, kind)) < 0)
		return fail_lib(p, error, field);
	return 0;
}

/* A name the URL may carry: from the URL when it has it (checked; the body may repeat it, the
 * same), else from the body. */
static int get_named(const char **out, pctx *p, json_t *obj, const char *field, int required, int kind,
		     const char *from_url)
{
	const char *body;
	int error;
	if (!from_url)
		return get_name(out, p, obj, field, required, kind);
	*out = NULL;
	if ((error = bm_text_check(from_url, strlen(from_url), BM_TEXT_LINE, NAME_TEXT_MAX, "the name")) < 0 ||
	    (error = name_check(from_url, kind)) < 0) {
		const char *msg = bm_error_last();
		bm_buf_clear(p->err);
		bm_buf_printf(p->err, "url: %s: ", field);
		bm_text_escape(p->err, msg, strlen(msg), BM_ESCAPE_DEFAULT);
		return error == BM_ENOMEM ? error : BM_EINVALID;
	}
	if ((error = get_name(&body, p, obj, field, 0, kind)) < 0)
		return error;
	if (body && strcmp(body, from_url)) {
		bm_buf_clear(p->err);
		bm_buf_printf(p->err, "field \"%s\": \"%s\" differs from the URL's \"", field, body);
		bm_text_escape(p->err, from_url, strlen(from_url), BM_ESCAPE_ASCII);
		bm_buf_putc(p->err, '"');
		return BM_EINVALID;
	}
	if (!(*out = keep_str(p, from_url, strlen(from_url))))
		return oom(p);
	return 0;
}

/* A name that is a key of a JSON object (jansson has checked it is UTF-8 without NUL). */
static int key_name(const char **out, pctx *p, const char *key, const char *field, int kind)
{
	int error;
	if ((error = bm_text_check(key, strlen(key), BM_TEXT_LINE, NAME_TEXT_MAX, "the name")) < 0 ||
	    (error = name_check(key, kind)) < 0)
		return fail_lib(p, error, field);
	if (out && !(*out = keep_str(p, key, strlen(key))))
		return oom(p);
	return 0;
}

static int get_bool(int *out, pctx *p, json_t *obj, const char *field, int *present)
{
	json_t *v = json_object_get(obj, field);
	if (present)
		*present = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fail(p, BM_EINVALID, field, "%s, not true or false", json_type_name(v));
	*out = json_is_true(v);
	if (present)
		*present = 1;
	return 0;
}

/* An array member (absent or null: *out NULL) of at most `max` items. */
static int get_array(json_t **out, pctx *p, json_t *obj, const char *field, int required, size_t min, size_t max)
{
	json_t *v = json_object_get(obj, field);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(p, BM_EINVALID, field, "missing");
		return 0;
	}
	if (!json_is_array(v))
		return fail(p, BM_EINVALID, field, "%s, not an array", json_type_name(v));
	if (json_array_size(v) < min)
		return fail(p, BM_EINVALID, field, "needs at least %zu item%s", min, min == 1 ? "" : "s");
	if (json_array_size(v) > max)
		return fail(p, BM_ETOOBIG, field, "%zu items, over the bound of %zu", json_array_size(v), max);
	*out = v;
	return 0;
}

static int get_object(json_t **out, pctx *p, json_t *obj, const char *field, size_t max)
{
	json_t *v = json_object_get(obj, field);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(p, BM_EINVALID, field, "%s, not an object", json_type_name(v));
	if (json_object_size(v) > max)
		return fail(p, BM_ETOOBIG, field, "%zu members, over the bound of %zu", json_object_size(v), max);
	*out = v;
	return 0;
}

/* os, arch: as the library takes them ([a-z0-9._-], up to 32). */
static int get_token(const char **out, pctx *p, json_t *obj, const char *field, int required)
{
	const char *s;
	int error;
	if ((error = get_text(out, p, obj, field, required, BM_TEXT_LINE, 32)) < 0 || !*out)
		return error;
	for (s = *out; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("._-", *s)))
			return fail(p, BM_EINVALID, field, "may only hold a-z, 0-9 and . _ - (e.g. linux, amd64)");
	return 0;
}

/* A number as text the library parses: integers exactly, others with 17 digits. */
static int number_text(bm_buf *out, json_t *v)
{
	bm_buf_clear(out);
	if (json_is_integer(v))
		return bm_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (!isfinite(json_real_value(v)))
		return BM_EINVALID;
	return bm_buf_printf(out, "%.17g", json_real_value(v));
}

/* Compact JSON text of an object or array, at most `max` bytes. */
static int json_text(bm_buf *out, pctx *p, json_t *v, const char *field, size_t max)
{
	char *s = json_dumps(v, JSON_COMPACT);
	int error = 0;
	if (!s)
		return oom(p);
	bm_buf_clear(out);
	if (strlen(s) > max)
		error = fail(p, BM_ETOOBIG, field, "%zu bytes of JSON, over the bound of %zu", strlen(s), max);
	else if (bm_buf_puts(out, s) < 0)
		error = oom(p);
	free(s);
	return error;
}

/* ---- kinds ---- */

static int parse_promote(pctx *p, json_t *o)
{
	static const char *const known[] = { "project", "channel", "release", "reason", "force", NULL };
	serve_promote_req *r = &p->req->promote;
	bm_promote_options init = BM_PROMOTE_OPTIONS_INIT;
	int error;

	r->opts = init;
	if ((error = check_members(p, o, known, "a promote body")) < 0 ||
	    (error = get_named(&r->project, p, o, "project", 1, NAME_PROJECT, URL(project))) < 0 ||
	    (error = get_named(&r->channel, p, o, "channel", 1, BM_NAME_CHANNEL, URL(channel))) < 0 ||
	    (error = get_named(&r->release, p, o, "release", 1, BM_NAME_RELEASE, URL(release))) < 0 ||
	    (error = get_text(&r->opts.reason, p, o, "reason", 0, BM_TEXT_LINE, BM_META_TEXT_MAX)) < 0 ||
	    (error = get_bool(&r->opts.force, p, o, "force", NULL)) < 0)
		return error;
	return 0;
}

/* "A@B" from the two members of an object item (an import or a source); `field` names the
 * item ("sources[1]"), its members are named inside it ("sources[1].url"). */
static int pair_spec(bm_buf *spec, pctx *p, json_t *item, const char *field, const char *what, const char *a,
		     const char *b, const char *const *known, size_t amax)
{
	const char *va, *vb, *saved = p->prefix;
	bm_buf pre = BM_BUF_INIT;
	int error;

	bm_buf_printf(&pre, "%s.", field);
	p->prefix = pre.ptr;
	if ((error = check_members(p, item, known, what)) < 0 ||
	    (error = get_text(&va, p, item, a, 1, BM_TEXT_LINE, amax)) < 0 ||
	    (error = get_text(&vb, p, item, b, 1, BM_TEXT_LINE, 256)) < 0)
		goto done;
	bm_buf_clear(spec);
	if (bm_buf_printf(spec, "%s@%s", va, vb) < 0)
		error = oom(p);
done:
	p->prefix = saved;
	bm_buf_dispose(&pre);
	return error;
}

static int parse_release(pctx *p, json_t *o)
{
	static const char *const known[] = { "project", "sources", "id", "version", "note", "imports", NULL };
	static const char *const src_known[] = { "url", "commit", NULL };
	static const char *const imp_known[] = { "module", "version", "indirect", NULL };
	serve_release_req *r = &p->req->release;
	bm_release_options init = BM_RELEASE_OPTIONS_INIT;
	bm_buf a = BM_BUF_INIT, b = BM_BUF_INIT, spec = BM_BUF_INIT, f = BM_BUF_INIT;
	bm_source *sources;
	bm_module_import *imports = NULL;
	json_t *arr, *item;
	size_t i;
	int error;

	r->opts = init;
	if ((error = check_members(p, o, known, "a release body")) < 0 ||
	    (error = get_named(&r->project, p, o, "project", 1, NAME_PROJECT, URL(project))) < 0 ||
	    (error = get_array(&arr, p, o, "sources", 1, 1, BM_META_MAX_SOURCES)) < 0)
		goto done;
	if (!(sources = keep_mem(p, json_array_size(arr), sizeof(*sources)))) {
		error = oom(p);
		goto done;
	}
	json_array_foreach(arr, i, item) {
		const char *field = subname(&f, "sources", "", NULL, i);
		const char *s;
		if (json_is_object(item)) {
			if ((error = pair_spec(&spec, p, item, field, "a source", "url", "commit", src_known, BM_META_URL_MAX)) < 0)
				goto done;
			s = spec.ptr;
		} else if ((error = take_text(&s, p, item, field, BM_TEXT_LINE, BM_META_URL_MAX + 80)) < 0) {
			goto done;
		}
		if ((error = bm_source_parse(&a, &b, s)) < 0) {
			error = fail_lib(p, error, field);
			goto done;
		}
		if (!(sources[i].url = keep_str(p, a.ptr, a.size)) || !(sources[i].commit = keep_str(p, b.ptr, b.size))) {
			error = oom(p);
			goto done;
		}
	}
	r->opts.sources = sources;
	r->opts.nsources = json_array_size(arr);
	if ((error = get_named(&r->opts.id, p, o, "id", 0, BM_NAME_RELEASE, URL(release))) < 0 ||
	    (error = get_text(&r->opts.release_version, p, o, "version", 0, BM_TEXT_LINE, BM_META_TEXT_MAX)) < 0 ||
	    (error = get_text(&r->opts.note, p, o, "note", 0, BM_TEXT_LINE, BM_META_TEXT_MAX)) < 0 ||
	    (error = get_array(&arr, p, o, "imports", 0, 0, BM_IMPORTS_MAX)) < 0)
		goto done;
	if (arr && json_array_size(arr)) {
		if (!(imports = keep_mem(p, json_array_size(arr), sizeof(*imports)))) {
			error = oom(p);
			goto done;
		}
		json_array_foreach(arr, i, item) {
			const char *field = subname(&f, "imports", "", NULL, i);
			const char *s;
			if (json_is_object(item)) {
				int indirect = 0;
				if ((error = pair_spec(&spec, p, item, field, "an import", "module", "version", imp_known, 512)) < 0)
					goto done;
				if (!json_is_null(json_object_get(item, "indirect")) && json_object_get(item, "indirect") &&
				    !json_is_boolean(json_object_get(item, "indirect"))) {
					error = fail(p, BM_EINVALID, field, "\"indirect\" is not true or false");
					goto done;
				}
				get_bool(&indirect, p, item, "indirect", NULL);
				imports[i].indirect = indirect;
				s = spec.ptr;
			} else if ((error = take_text(&s, p, item, field, BM_TEXT_LINE, 1024)) < 0) {
				goto done;
			}
			if ((error = bm_import_parse(&a, &b, s)) < 0) {
				error = fail_lib(p, error, field);
				goto done;
			}
			if (!(imports[i].module = keep_str(p, a.ptr, a.size)) ||
			    !(imports[i].version = keep_str(p, b.ptr, b.size))) {
				error = oom(p);
				goto done;
			}
		}
		r->opts.imports = imports;
		r->opts.nimports = json_array_size(arr);
	}
done:
	bm_buf_dispose(&a);
	bm_buf_dispose(&b);
	bm_buf_dispose(&spec);
	bm_buf_dispose(&f);
	return error;
}

/* uint64 as proto3 JSON has it: a number, or a string of decimal digits. */
static int get_uint64(uint64_t *out, pctx *p, json_t *obj, const char *field)
{
	json_t *v = json_object_get(obj, field);
	if (!v || json_is_null(v))
		return fail(p, BM_EINVALID, field, "missing");
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return fail(p, BM_EINVALID, field, "negative");
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t i, n = json_string_length(v);
		uint64_t x = 0;
		if (!n || n > 20)
			return fail(p, BM_EINVALID, field, "not a decimal number of bytes");
		for (i = 0; i < n; i++) {
			unsigned d = (unsigned char)s[i] - '0';
			if (d > 9)
				return fail(p, BM_EINVALID, field, "not a decimal number of bytes");
			if (x > (UINT64_MAX - d) / 10)
				return fail(p, BM_EINVALID, field, "over 2^64-1");
			x = x * 10 + d;
		}
		*out = x;
		return 0;
	}
	return fail(p, BM_EINVALID, field, "%s, not a number of bytes", json_type_name(v));
}

static int parse_binary(pctx *p, json_t *o)
{
	static const char *const known[] = { "project", "release", "sha256", "size", "os", "arch", "urls", "signature", NULL };
	serve_binary_req *r = &p->req->binary;
	bm_binary_options init = BM_BINARY_OPTIONS_INIT;
	bm_buf f = BM_BUF_INIT;
	const char **urls;
	json_t *arr, *item;
	size_t i;
	int error;

	r->opts = init;
	if (json_object_get(o, "signerKeyId"))
		return fail(p, BM_EINVALID, "signerKeyId", "the signer is the key the signature names: give only \"signature\"");
	if ((error = check_members(p, o, known, "a binary body")) < 0 ||
	    (error = get_text(&r->opts.signature, p, o, "signature", 0, BM_TEXT_LINES, 16 * 1024)) < 0 ||
	    (error = get_named(&r->project, p, o, "project", 1, NAME_PROJECT, URL(project))) < 0 ||
	    (error = get_named(&r->release, p, o, "release", 1, BM_NAME_RELEASE, URL(release))) < 0 ||
	    (error = get_text(&r->sha256, p, o, "sha256", 1, BM_TEXT_LINE, 64)) < 0)
		return error;
	if ((error = bm_sha256_check(r->sha256)) < 0)
		return fail_lib(p, error, "sha256");
	if ((error = get_uint64(&r->size, p, o, "size")) < 0 ||
	    (error = get_token(&r->opts.os, p, o, "os", 1)) < 0 || (error = get_token(&r->opts.arch, p, o, "arch", 1)) < 0 ||
	    (error = get_array(&arr, p, o, "urls", 0, 0, BM_META_MAX_URLS)) < 0)
		return error;
	if (arr && json_array_size(arr)) {
		if (!(urls = keep_mem(p, json_array_size(arr), sizeof(*urls))))
			return oom(p);
		json_array_foreach(arr, i, item) {
			if ((error = take_text(&urls[i], p, item, subname(&f, "urls", "", NULL, i), BM_TEXT_LINE,
					       BM_META_URL_MAX)) < 0)
				break;
			if (strpbrk(urls[i], " ")) {
				error = fail(p, BM_EINVALID, f.ptr, "a URL has no spaces");
				break;
			}
		}
		r->opts.urls = urls;
		r->opts.nurls = json_array_size(arr);
	}
	bm_buf_dispose(&f);
	return error;
}

/* A config value: its JSON type is the config type. */
static int config_value(bm_config_assign *a, pctx *p, json_t *v, const char *field, bm_buf *text)
{
	bm_config_value check;
	int error;

	bm_buf_clear(text);
	switch (json_typeof(v)) {
	case JSON_STRING:
		a->type = BM_CONFIG_STRING;
		if ((error = bm_text_check(json_string_value(v), json_string_length(v), BM_TEXT_LINES,
					   BM_CONFIG_VALUE_MAX, "the value")) < 0)
			return fail_lib(p, error, field);
		if (bm_buf_put(text, json_string_value(v), json_string_length(v)) < 0)
			return oom(p);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		a->type = json_is_integer(v) ? BM_CONFIG_INT64 : BM_CONFIG_DOUBLE;
		if (number_text(text, v) < 0)
			return fail(p, BM_EINVALID, field, "not a finite number");
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		a->type = BM_CONFIG_BOOL;
		bm_buf_puts(text, json_is_true(v) ? "true" : "false");
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		a->type = BM_CONFIG_JSON;
		if ((error = json_text(text, p, v, field, BM_CONFIG_VALUE_MAX)) < 0)
			return error;
		break;
	case JSON_NULL:
		return fail(p, BM_EINVALID, field, "null is not a value; to unset the key, list it in \"unset\"");
	}
	if (!text->ptr && bm_buf_puts(text, "") < 0)
		return oom(p);
	memset(&check, 0, sizeof(check));
	if ((error = bm_config_value_parse(&check, a->type, text->ptr)) < 0)
		return fail_lib(p, error, field);
	bm_config_value_dispose(&check);
	if (!(a->value = keep_str(p, text->ptr, text->size)))
		return oom(p);
	return 0;
}

static int parse_config(pctx *p, json_t *o)
{
	static const char *const known[] = { "project", "env", "set", "unset", "reason", NULL };
	serve_config_req *r = &p->req->config;
	bm_config_write_options init = BM_CONFIG_WRITE_OPTIONS_INIT;
	bm_buf f = BM_BUF_INIT, text = BM_BUF_INIT;
	bm_config_assign *assigns;
	json_t *set, *unset, *v;
	const char *key;
	size_t i, n = 0, nset, nunset;
	int error;

	r->opts = init;
	if ((error = check_members(p, o, known, "a config body")) < 0 ||
	    (error = get_named(&r->project, p, o, "project", 1, NAME_PROJECT, URL(project))) < 0 ||
	    (error = get_named(&r->env, p, o, "env", 1, BM_NAME_ENV, URL(env))) < 0 ||
	    (error = get_object(&set, p, o, "set", BM_CONFIG_MAX_KEYS)) < 0 ||
	    (error = get_array(&unset, p, o, "unset", 0, 0, BM_CONFIG_MAX_KEYS)) < 0 ||
	    (error = get_text(&r->opts.reason, p, o, "reason", 0, BM_TEXT_LINE, BM_CONFIG_REASON_MAX)) < 0)
		goto done;
	nset = set ? json_object_size(set) : 0;
	nunset = unset ? json_array_size(unset) : 0;
	if (!nset && !nunset) {
		error = fail(p, BM_EINVALID, NULL, "nothing to change: give \"set\" {KEY: VALUE} or \"unset\" [KEY]");
		goto done;
	}
	if (nset + nunset > BM_CONFIG_MAX_KEYS) {
		error = fail(p, BM_ETOOBIG, NULL, "%zu keys, over the bound of %d in one write", nset + nunset,
			     BM_CONFIG_MAX_KEYS);
		goto done;
	}
	if (!(assigns = keep_mem(p, nset + nunset, sizeof(*assigns)))) {
		error = oom(p);
		goto done;
	}
	if (set) {
		json_object_foreach(set, key, v) {
			const char *field = subname(&f, "set", ".", key, 0);
			if ((error = key_name(&assigns[n].key, p, key, field, BM_NAME_KEY)) < 0 ||
			    (error = config_value(&assigns[n], p, v, field, &text)) < 0)
				goto done;
			n++;
		}
	}
	if (unset) {
		json_array_foreach(unset, i, v) {
			const char *field = subname(&f, "unset", "", NULL, i);
			if ((error = take_name(&assigns[n].key, p, v, field, BM_NAME_KEY)) < 0)
				goto done;
			if (set && json_object_get(set, assigns[n].key)) {
				error = fail(p, BM_EINVALID, field, "key \"%s\" is both set and unset", assigns[n].key);
				goto done;
			}
			assigns[n].unset = 1;
			n++;
		}
	}
	/* a key given twice in "unset" ("set" cannot: duplicate members are refused) */
	for (i = nset; i < n; i++) {
		size_t j;
		for (j = nset; j < i; j++)
			if (!strcmp(assigns[i].key, assigns[j].key)) {
				error = fail(p, BM_EINVALID, subname(&f, "unset", "", NULL, i - nset),
					     "key \"%s\" is given twice", assigns[i].key);
				goto done;
			}
	}
	r->assigns = assigns;
	r->nassigns = n;
done:
	bm_buf_dispose(&f);
	bm_buf_dispose(&text);
	return error;
}

/* The flag type a JSON value is a variant of (BM_FLAG_TYPE_AUTO: none). */
static bm_flag_type variant_type(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_TRUE:
	case JSON_FALSE: return BM_FLAG_TYPE_BOOL;
	case JSON_INTEGER:
	case JSON_REAL: return BM_FLAG_TYPE_NUMBER;
	case JSON_STRING: return BM_FLAG_TYPE_STRING;
	case JSON_OBJECT: return BM_FLAG_TYPE_JSON;
	default: return BM_FLAG_TYPE_AUTO;
	}
}

static int flag_variants(serve_flag_req *r, pctx *p, json_t *o, json_t *vars)
{
	const char *key, *first = NULL, *tname = NULL, **out;
	bm_buf f = BM_BUF_INIT, text = BM_BUF_INIT, spec = BM_BUF_INIT;
	json_t *v;
	size_t n = 0;
	int error = 0;

	if ((error = get_text(&tname, p, o, "type", 0, BM_TEXT_LINE, 16)) < 0)
		goto done;
	r->type = BM_FLAG_TYPE_AUTO;
	if (tname && (bm_flag_type_parse(&r->type, tname) < 0 || r->type == BM_FLAG_TYPE_AUTO)) {
		error = fail(p, BM_EINVALID, "type", "\"%s\" is not bool, string, number or json", tname);
		goto done;
	}
	if (!(out = keep_mem(p, json_object_size(vars), sizeof(*out)))) {
		error = oom(p);
		goto done;
	}
	json_object_foreach(vars, key, v) {
		const char *field = subname(&f, "variants", ".", key, 0);
		bm_flag_type t = variant_type(v);
		if ((error = key_name(NULL, p, key, field, BM_NAME_KEY)) < 0)
			goto done;
		if (t == BM_FLAG_TYPE_AUTO) {
			error = fail(p, BM_EINVALID, field, "%s; a variant is true/false, a number, a string or an object",
				     json_type_name(v));
			goto done;
		}
		if (r->type == BM_FLAG_TYPE_AUTO) {
			r->type = t;
			first = key;
		} else if (t != r->type) {
			if (first)
				error = fail(p, BM_EINVALID, field, "a %s, but variant \"%s\" is a %s: all variants have one type",
					     bm_flag_type_str(t), first, bm_flag_type_str(r->type));
			else
				error = fail(p, BM_EINVALID, field, "a %s, but \"type\" is %s", bm_flag_type_str(t),
					     bm_flag_type_str(r->type));
			goto done;
		}
		switch (t) {
		case BM_FLAG_TYPE_BOOL:
			bm_buf_clear(&text);
			bm_buf_puts(&text, json_is_true(v) ? "true" : "false");
			break;
		case BM_FLAG_TYPE_NUMBER:
			if (number_text(&text, v) < 0) {
				error = fail(p, BM_EINVALID, field, "not a finite number");
				goto done;
			}
			break;
		case BM_FLAG_TYPE_STRING:
			if ((error = bm_text_check(json_string_value(v), json_string_length(v), BM_TEXT_LINES,
						   BM_FLAG_MAX_VALUE, "the value")) < 0) {
				error = fail_lib(p, error, field);
				goto done;
			}
			bm_buf_clear(&text);
			bm_buf_put(&text, json_string_value(v), json_string_length(v));
			break;
		default:
			if ((error = json_text(&text, p, v, field, BM_FLAG_MAX_VALUE)) < 0)
				goto done;
			break;
		}
		bm_buf_clear(&spec);
		if (bm_buf_printf(&spec, "%s=%s", key, text.ptr ? text.ptr : "") < 0 ||
		    !(out[n] = keep_str(p, spec.ptr, spec.size))) {
			error = oom(p);
			goto done;
		}
		n++;
	}
	r->variants = out;
	r->nvariants = n;
done:
	bm_buf_dispose(&f);
	bm_buf_dispose(&text);
	bm_buf_dispose(&spec);
	return error;
}

/* One rule object as the text bm_flag_set_rule takes; `field` names it ("rules[0]"). */
static int flag_rule(const char **out, pctx *p, json_t *item, const char *field)
{
	static const char *const known[] = { "channel", "variant", "weights", NULL };
	static const char *const wknown[] = { "variant", "weight", NULL };
	const char *channel, *variant, *saved = p->prefix;
	bm_buf spec = BM_BUF_INIT, pre = BM_BUF_INIT, f = BM_BUF_INIT;
	json_t *weights, *w, *wv;
	size_t i;
	int error;

	*out = NULL;
	if (!json_is_object(item))
		return fail(p, BM_EINVALID, field, "%s, not a rule object {\"channel\", \"variant\" or \"weights\"}",
			    json_type_name(item));
	bm_buf_printf(&pre, "%s.", field);
	p->prefix = pre.ptr;
	if ((error = check_members(p, item, known, "a rule")) < 0 ||
	    (error = get_name(&channel, p, item, "channel", 1, BM_NAME_CHANNEL)) < 0 ||
	    (error = get_name(&variant, p, item, "variant", 0, BM_NAME_KEY)) < 0 ||
	    (error = get_array(&weights, p, item, "weights", 0, 1, BM_FLAG_MAX_VARIANTS)) < 0)
		goto done;
	if (!!variant == !!weights) {
		p->prefix = saved;
		error = fail(p, BM_EINVALID, field, "a rule has either \"variant\" or \"weights\"");
		goto done;
	}
	bm_buf_printf(&spec, "%s=", channel);
	if (variant) {
		bm_buf_puts(&spec, variant);
	} else {
		json_array_foreach(weights, i, w) {
			const char *wname;
			json_int_t weight;
			p->prefix = saved;
			bm_buf_clear(&pre);
			bm_buf_printf(&pre, "%s.weights[%zu]", field, i);
			if (!json_is_object(w)) {
				error = fail(p, BM_EINVALID, pre.ptr, "%s, not {\"variant\", \"weight\"}", json_type_name(w));
				goto done;
			}
			bm_buf_putc(&pre, '.');
			p->prefix = pre.ptr;
			if ((error = check_members(p, w, wknown, "a weight")) < 0 ||
			    (error = get_name(&wname, p, w, "variant", 1, BM_NAME_KEY)) < 0)
				goto done;
			wv = json_object_get(w, "weight");
			if (!wv || !json_is_integer(wv)) {
				error = fail(p, BM_EINVALID, "weight", "%s; a weight is an integer 0 .. %u",
					     wv ? json_type_name(wv) : "missing", BM_FLAG_WEIGHT_MAX);
				goto done;
			}
			if ((weight = json_integer_value(wv)) < 0 || weight > (json_int_t)BM_FLAG_WEIGHT_MAX) {
				error = fail(p, BM_EINVALID, "weight", "%" JSON_INTEGER_FORMAT " is not in 0 .. %u", weight,
					     BM_FLAG_WEIGHT_MAX);
				goto done;
			}
			bm_buf_printf(&spec, "%s%s:%" JSON_INTEGER_FORMAT, i ? "," : "", wname, weight);
		}
	}
	if (!spec.ptr || !(*out = keep_str(p, spec.ptr, spec.size)))
		error = oom(p);
done:
	p->prefix = saved;
	bm_buf_dispose(&spec);
	bm_buf_dispose(&pre);
	bm_buf_dispose(&f);
	return error;
}

static int parse_flag(pctx *p, json_t *o)
{
	static const char *const known[] = { "project", "env", "key", "variants", "type", "defaultVariant", "rules",
					     "removeRules", "state", "allowUnknownChannels", NULL };
	serve_flag_req *r = &p->req->flag;
	bm_flag_write_options init = BM_FLAG_WRITE_OPTIONS_INIT;
	bm_buf f = BM_BUF_INIT;
	const char *state, **list;
	json_t *vars, *arr, *item;
	size_t i;
	int error, allow = 0;

	r->opts = init;
	r->set_disabled = -1;
	if ((error = check_members(p, o, known, "a flag body")) < 0 ||
	    (error = get_named(&r->project, p, o, "project", 1, NAME_PROJECT, URL(project))) < 0 ||
	    (error = get_named(&r->env, p, o, "env", 1, BM_NAME_ENV, URL(env))) < 0 ||
	    (error = get_named(&r->key, p, o, "key", 1, BM_NAME_KEY, URL(key))) < 0 ||
	    (error = get_object(&vars, p, o, "variants", BM_FLAG_MAX_VARIANTS)) < 0)
		goto done;
	if (vars && !json_object_size(vars)) {
		error = fail(p, BM_EINVALID, "variants", "empty: a flag has at least one variant");
		goto done;
	}
	if (vars) {
		if ((error = flag_variants(r, p, o, vars)) < 0)
			goto done;
	} else if (json_object_get(o, "type")) {
		error = fail(p, BM_EINVALID, "type", "only goes with \"variants\" (a new definition)");
		goto done;
	}
	if ((error = get_name(&r->default_variant, p, o, "defaultVariant", 0, BM_NAME_KEY)) < 0 ||
	    (error = get_array(&arr, p, o, "rules", 0, 0, BM_FLAG_MAX_RULES)) < 0)
		goto done;
	if (arr && json_array_size(arr)) {
		if (!(list = keep_mem(p, json_array_size(arr), sizeof(*list)))) {
			error = oom(p);
			goto done;
		}
		json_array_foreach(arr, i, item)
			if ((error = flag_rule(&list[i], p, item, subname(&f, "rules", "", NULL, i))) < 0)
				goto done;
		r->rules = list;
		r->nrules = json_array_size(arr);
	}
	if ((error = get_array(&arr, p, o, "removeRules", 0, 0, BM_FLAG_MAX_RULES)) < 0)
		goto done;
	if (arr && json_array_size(arr)) {
		if (!(list = keep_mem(p, json_array_size(arr), sizeof(*list)))) {
			error = oom(p);
			goto done;
		}
		json_array_foreach(arr, i, item)
			if ((error = take_name(&list[i], p, item, subname(&f, "removeRules", "", NULL, i), BM_NAME_CHANNEL)) < 0)
				goto done;
		r->remove_rules = list;
		r->nremove_rules = json_array_size(arr);
	}
	if ((error = get_text(&state, p, o, "state", 0, BM_TEXT_LINE, 16)) < 0)
		goto done;
	if (state) {
		if (!strcmp(state, "ENABLED")) {
			r->set_disabled = 0;
		} else if (!strcmp(state, "DISABLED")) {
			r->set_disabled = 1;
		} else {
			error = fail(p, BM_EINVALID, "state", "\"%s\" is not ENABLED or DISABLED", state);
			goto done;
		}
	}
	if ((error = get_bool(&allow, p, o, "allowUnknownChannels", NULL)) < 0)
		goto done;
	r->opts.allow_unknown_channels = allow;
	if (!r->nvariants && !r->default_variant && !r->nrules && !r->nremove_rules && r->set_disabled < 0)
		error = fail(p, BM_EINVALID, NULL, "nothing to change: give \"variants\" (a new definition), "
						   "\"defaultVariant\", \"rules\", \"removeRules\" or \"state\"");
done:
	bm_buf_dispose(&f);
	return error;
}

static int parse_log(pctx *p, json_t *o)
{
	static const char *const known[] = { "kind", "message", "project", "env", "attrs", NULL };
	static const char *const aknown[] = { "key", "value", NULL };
	bm_log_add_spec *s = &p->req->log.spec;
	bm_log_add_spec init = BM_LOG_ADD_SPEC_INIT;
	bm_buf f = BM_BUF_INIT;
	const char **keys, **values;
	json_t *attrs, *v;
	const char *key;
	size_t i, n = 0;
	int error;

	*s = init;
	if ((error = check_members(p, o, known, "a log body")) < 0 ||
	    (error = get_name(&s->kind, p, o, "kind", 1, BM_NAME_KIND)) < 0 ||
	    (error = get_text(&s->message, p, o, "message", 1, BM_TEXT_LINES, BM_LOG_MESSAGE_MAX)) < 0 ||
	    (error = get_named(&s->project, p, o, "project", 0, NAME_PROJECT, URL(project))) < 0 ||
	    (error = get_named(&s->env, p, o, "env", 0, BM_NAME_ENV, URL(env))) < 0)
		goto done;
	attrs = json_object_get(o, "attrs");
	if (attrs && !json_is_null(attrs)) {
		size_t count;
		if (!json_is_object(attrs) && !json_is_array(attrs)) {
			error = fail(p, BM_EINVALID, "attrs", "%s, not {KEY: VALUE} or [{\"key\", \"value\"}]",
				     json_type_name(attrs));
			goto done;
		}
		count = json_is_object(attrs) ? json_object_size(attrs) : json_array_size(attrs);
		if (count > BM_LOG_ATTRS_MAX) {
			error = fail(p, BM_ETOOBIG, "attrs", "%zu attributes, over the bound of %d", count, BM_LOG_ATTRS_MAX);
			goto done;
		}
		if (!(keys = keep_mem(p, count, sizeof(*keys))) || !(values = keep_mem(p, count, sizeof(*values)))) {
			error = oom(p);
			goto done;
		}
		if (json_is_object(attrs)) {
			json_object_foreach(attrs, key, v) {
				const char *field = subname(&f, "attrs", ".", key, 0);
				if ((error = key_name(&keys[n], p, key, field, BM_NAME_KEY)) < 0 ||
				    (error = take_text(&values[n], p, v, field, BM_TEXT_LINE, BM_LOG_ATTR_VALUE_MAX)) < 0)
					goto done;
				n++;
			}
		} else {
			json_array_foreach(attrs, i, v) {
				const char *field = subname(&f, "attrs", "", NULL, i);
				json_t *kv, *vv;
				if (!json_is_object(v)) {
					error = fail(p, BM_EINVALID, field, "%s, not {\"key\", \"value\"}", json_type_name(v));
					goto done;
				}
				if ((error = check_members(p, v, aknown, "an attribute")) < 0)
					goto done;
				kv = json_object_get(v, "key");
				vv = json_object_get(v, "value");
				if (!kv || !vv) {
					error = fail(p, BM_EINVALID, field, "needs \"key\" and \"value\"");
					goto done;
				}
				if ((error = take_name(&keys[n], p, kv, field, BM_NAME_KEY)) < 0 ||
				    (error = take_text(&values[n], p, vv, field, BM_TEXT_LINE, BM_LOG_ATTR_VALUE_MAX)) < 0)
					goto done;
				n++;
			}
		}
		s->attr_keys = keys;
		s->attr_values = values;
		s->nattrs = n;
	}
	/* the library's own bounds (all attributes together, duplicates) */
	if ((error = bm_log_check(s)) < 0)
		error = fail_lib(p, error, NULL);
done:
	bm_buf_dispose(&f);
	return error;
}

/* A name only the URL carries. */
static int url_name(const char **out, pctx *p, const char *what, const char *value, int kind)
{
	int error;
	if ((error = name_check(value, kind)) < 0) {
		const char *msg = bm_error_last();
		bm_buf_clear(p->err);
		bm_buf_printf(p->err, "url: %s: ", what);
		bm_text_escape(p->err, msg, strlen(msg), BM_ESCAPE_DEFAULT);
		return error == BM_ENOMEM ? error : BM_EINVALID;
	}
	if (!(*out = keep_str(p, value, strlen(value))))
		return oom(p);
	return 0;
}

static int parse_report(pctx *p, json_t *o)
{
	static const char *const known[] = { "project", "release", "metaCommit", "state", "error", "os", "arch",
					     "agentVersion", NULL };
	serve_report_req *r = &p->req->report;
	const char *state;
	char *lower;
	int error, k;

	memset(r, 0, sizeof(*r));
	if (!URL(env) || !URL(instance)) {
		bm_buf_clear(p->err);
		bm_buf_printf(p->err, "url: %s: missing (a report's env and instance id come from its URL)",
			      URL(env) ? "instance" : "env");
		return BM_EINVALID;
	}
	if ((error = url_name(&r->env, p, "env", URL(env), BM_NAME_ENV)) < 0 ||
	    (error = url_name(&r->instance, p, "instance", URL(instance), BM_NAME_INSTANCE)) < 0)
		return error;
	if ((error = check_members(p, o, known, "a report body")) < 0 ||
	    (error = get_named(&r->project, p, o, "project", 1, NAME_PROJECT, URL(project))) < 0 ||
	    (error = get_named(&r->release, p, o, "release", 1, BM_NAME_RELEASE, URL(release))) < 0 ||
	    (error = get_text(&r->meta_commit, p, o, "metaCommit", 1, BM_TEXT_LINE, 64)) < 0)
		return error;
	if ((error = bm_commit_hash_check(r->meta_commit)) < 0)
		return fail_lib(p, error, "metaCommit");
	for (lower = (char *)r->meta_commit; *lower; lower++)
		*lower = (char)tolower((unsigned char)*lower);
	if ((error = get_text(&state, p, o, "state", 1, BM_TEXT_LINE, 32)) < 0)
		return error;
	for (k = SERVE_REPORT_DOWNLOADING; k <= SERVE_REPORT_ROLLED_BACK; k++)
		if (!strcmp(state, state_names[k]))
			r->state = (serve_report_state)k;
	if (!r->state)
		return fail(p, BM_EINVALID, "state", "\"%s\" is not downloading, installed, healthy, failed or rolled-back",
			    state);
	if ((error = get_text(&r->error, p, o, "error", 0, BM_TEXT_LINES, 4096)) < 0 ||
	    (error = get_token(&r->os, p, o, "os", 0)) < 0 || (error = get_token(&r->arch, p, o, "arch", 0)) < 0 ||
	    (error = get_text(&r->agent_version, p, o, "agentVersion", 0, BM_TEXT_LINE, 128)) < 0)
		return error;
	return 0;
}

/* ---- entry points ---- */

static int parse_hook(pctx *p, json_t *o)
{
	static const char *const known[] = { "url", "secret", "prefix", "description", "recipients", NULL };
	bm_webhook_add_spec *s = &p->req->hook.spec;
	bm_webhook_add_spec init = BM_WEBHOOK_ADD_SPEC_INIT;
	const char **rcpt, *secret = NULL;
	json_t *arr, *v;
	bm_buf f = BM_BUF_INIT;
	size_t i;
	int error;

	*s = init;
	if ((error = check_members(p, o, known, "a hook body")) < 0 ||
	    (error = get_text(&s->url, p, o, "url", 1, BM_TEXT_LINE, BM_WEBHOOK_URL_MAX)) < 0 ||
	    (error = get_text(&secret, p, o, "secret", 1, BM_TEXT_LINE, BM_WEBHOOK_SECRET_MAX)) < 0 ||
	    (error = get_text(&s->prefix, p, o, "prefix", 0, BM_TEXT_LINE, BM_WEBHOOK_PREFIX_MAX)) < 0 ||
	    (error = get_text(&s->description, p, o, "description", 0, BM_TEXT_LINE, 1024)) < 0)
		goto done;
	s->secret = secret;
	s->secret_len = strlen(secret);
	if ((error = bm_webhook_url_check(s->url)) < 0) {
		error = fail_lib(p, error, "url");
		goto done;
	}
	if (s->prefix && (error = bm_webhook_prefix_check(s->prefix)) < 0) {
		error = fail_lib(p, error, "prefix");
		goto done;
	}
	arr = json_object_get(o, "recipients");
	if (arr && !json_is_null(arr)) {
		if (!json_is_array(arr)) {
			error = fail(p, BM_EINVALID, "recipients", "%s, not an array of age public keys (age1...)",
				     json_type_name(arr));
			goto done;
		}
		/* one left for serve's own */
		if (json_array_size(arr) >= BM_WEBHOOK_RECIPIENTS_MAX) {
			error = fail(p, BM_ETOOBIG, "recipients", "%zu recipients, over the bound of %d",
				     json_array_size(arr), BM_WEBHOOK_RECIPIENTS_MAX - 1);
			goto done;
		}
		if (!(rcpt = keep_mem(p, json_array_size(arr) + 1, sizeof(*rcpt)))) {
			error = oom(p);
			goto done;
		}
		json_array_foreach(arr, i, v) {
			const char *field = subname(&f, "recipients", "", NULL, i);
			if ((error = take_text(&rcpt[i], p, v, field, BM_TEXT_LINE, 256)) < 0)
				goto done;
			if ((error = bm_age_recipient_check(rcpt[i])) < 0) {
				error = fail_lib(p, error, field);
				goto done;
			}
		}
		s->recipients = rcpt;
		s->nrecipients = json_array_size(arr);
	}
done:
	bm_buf_dispose(&f);
	return error;
}

static int parse_hook_rm(pctx *p, json_t *o)
{
	static const char *const known[] = { NULL };
	const char *id = URL(hook);
	int error;
	if ((error = check_members(p, o, known, "the removal of a hook")) < 0)
		return error;
	if (!id)
		return fail(p, BM_EINVALID, NULL, "name the hook in the URL: DELETE /v1/hooks/{id}");
	if ((error = bm_webhook_id_validate(id)) < 0) {
		const char *msg = bm_error_last();
		bm_buf_clear(p->err);
		bm_buf_puts(p->err, "url: id: ");
		bm_text_escape(p->err, msg, strlen(msg), BM_ESCAPE_DEFAULT);
		return error == BM_ENOMEM ? error : BM_EINVALID;
	}
	if (!(p->req->hook_rm.id = keep_str(p, id, strlen(id))))
		return oom(p);
	return 0;
}

int serve_body_parse(serve_body_req *out, serve_kind kind, const serve_body_url *url, const char *body, size_t len,
		     bm_buf *err)
{
	pctx p = { out, err, NULL, url };
	json_error_t jerr;
	json_t *root = NULL;
	int error;

	memset(out, 0, sizeof(*out));
	bm_buf_clear(err);
	out->kind = kind;
	if (!serve_kind_name(kind))
		return fail(&p, BM_EINVALID, NULL, "unknown request kind %d", (int)kind);
	if (len > SERVE_BODY_MAX)
		return fail(&p, BM_ETOOBIG, NULL, "%zu bytes, over the bound of %d", len, SERVE_BODY_MAX);
	if (kind == SERVE_KIND_HOOK_RM && (!body || !len)) {
		body = "{}"; /* DELETE /v1/hooks/{id}: no body */
		len = 2;
	}
	if (!body || !len)
		return fail(&p, BM_EINVALID, NULL, "empty; a %s request is a JSON object", serve_kind_name(kind));
	if (!(root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr))) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return oom(&p);
		{
			/* jansson's text quotes the body ("near '...'"): shown byte-safe */
			bm_buf t = BM_BUF_INIT;
			if (json_error_code(&jerr) == json_error_null_character)
				bm_buf_puts(&t, "a NUL character (\\u0000) is not allowed");
			else
				bm_text_escape(&t, jerr.text, strlen(jerr.text), BM_ESCAPE_ASCII);
			error = fail(&p, BM_EINVALID, NULL, "not valid JSON: %s (line %d, column %d)", t.ptr ? t.ptr : "",
				     jerr.line, jerr.column);
			bm_buf_dispose(&t);
			return error;
		}
	}
	if (!json_is_object(root)) {
		error = fail(&p, BM_EINVALID, NULL, "%s, not a JSON object", json_type_name(root));
		goto done;
	}
	switch (kind) {
	case SERVE_KIND_PROMOTE: error = parse_promote(&p, root); break;
	case SERVE_KIND_RELEASE: error = parse_release(&p, root); break;
	case SERVE_KIND_BINARY: error = parse_binary(&p, root); break;
	case SERVE_KIND_CONFIG: error = parse_config(&p, root); break;
	case SERVE_KIND_FLAG: error = parse_flag(&p, root); break;
	case SERVE_KIND_LOG: error = parse_log(&p, root); break;
	case SERVE_KIND_REPORT: error = parse_report(&p, root); break;
	case SERVE_KIND_HOOK: error = parse_hook(&p, root); break;
	case SERVE_KIND_HOOK_RM: error = parse_hook_rm(&p, root); break;
	default: error = BM_EINVALID; break;
	}
done:
	json_decref(root);
	if (error < 0 && (!err->ptr || !err->size))
		fail(&p, error, NULL, "refused");
	return error;
}

void serve_body_req_dispose(serve_body_req *req)
{
	size_t i;
	if (!req)
		return;
	if (req->kind == SERVE_KIND_HOOK) /* the secret is one of them */
		for (i = 0; i < req->strings_.count; i++)
			explicit_bzero(req->strings_.items[i], strlen(req->strings_.items[i]));
	for (i = 0; i < req->nmem_; i++)
		free(req->mem_[i]);
	free(req->mem_);
	bm_strlist_dispose(&req->strings_);
	memset(req, 0, sizeof(*req));
}

int serve_flag_edit(bm_flag **next, const bm_flag *cur, void *payload)
{
	const serve_flag_req *r = payload;
	bm_flag *f = NULL;
	size_t i;
	int error;

	*next = NULL;
	if (r->nvariants) {
		bm_flag_spec spec = BM_FLAG_SPEC_INIT;
		spec.project = r->project;
		spec.env = r->env;
		spec.key = r->key;
		spec.type = r->type;
		spec.variants = r->variants;
		spec.nvariants = r->nvariants;
		spec.default_variant = r->default_variant;
		spec.rules = r->rules;
		spec.nrules = r->nrules;
		spec.disabled = r->set_disabled >= 0 ? r->set_disabled : cur ? cur->disabled : 0;
		if ((error = bm_flag_from_spec(&f, &spec)) < 0)
			return error;
	} else {
		if (!cur)
			return bm_error_set(BM_ENOTFOUND, "flag %s of %s in %s does not exist yet: define it with \"variants\" "
							  "(and \"defaultVariant\", \"rules\")", r->key, r->project, r->env);
		if ((error = bm_flag_dup(&f, cur)) < 0)
			return error;
		if (r->default_variant && (error = bm_flag_set_default(f, r->default_variant)) < 0)
			goto fail;
		for (i = 0; i < r->nrules; i++)
			if ((error = bm_flag_set_rule(f, r->rules[i])) < 0)
				goto fail;
		if (r->set_disabled >= 0)
			bm_flag_set_disabled(f, r->set_disabled);
	}
	for (i = 0; i < r->nremove_rules; i++)
		if ((error = bm_flag_remove_rule(f, r->remove_rules[i])) < 0)
			goto fail;
	*next = f;
	return 0;
fail:
	bm_flag_free(f);
	return error;
}
