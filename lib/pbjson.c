/* pbjson.c: protobuf messages to and from proto3 JSON, driven by protobuf-c descriptors.
 * The mapping and its choices are documented in bootmeta/pbjson.h. */
#include "bootmeta/pbjson.h"
#include "bootmeta/text.h"
#include "bootmeta/utf8.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

/* ---- UTF-8 and string escaping ---- */

int bm_json_escape_len(bm_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0;
	int error;
	if ((error = bm_buf_putc(out, '"')) < 0)
		return error;
	while (i < len) {
		unsigned char c = p[i];
		char esc[8];
		const char *rep = esc;
		size_t n, replen = 2, skip = 1;
		uint32_t cp;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			if (c < 0x80) {
				/* other control characters and DEL */
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				replen = 6;
			} else if (!(n = bm_utf8_char(&cp, s + i, len - i))) {
				rep = "\xef\xbf\xbd"; /* U+FFFD for each bad byte */
				replen = 3;
			} else if (cp == 0x2028 || cp == 0x2029) {
				memcpy(esc + 1, cp == 0x2028 ? "u2028" : "u2029", 5);
				replen = 6;
				skip = n;
			} else {
				i += n;
				continue;
			}
		}
		if ((error = bm_buf_put(out, s + start, i - start)) < 0 ||
		    (error = bm_buf_put(out, rep, replen)) < 0)
			return error;
		i += skip;
		start = i;
	}
	if ((error = bm_buf_put(out, s + start, i - start)) < 0)
		return error;
	return bm_buf_putc(out, '"');
}

int bm_json_escape(bm_buf *out, const char *s)
{
	return bm_json_escape_len(out, s ? s : "", s ? strlen(s) : 0);
}

size_t bm_pbjson_field_name(char *out, size_t size, const char *proto_name)
{
	size_t n = 0;
	int up = 0;
	for (; *proto_name; proto_name++) {
		char c = *proto_name;
		if (c == '_') {
			up = 1;
			continue;
		}
		if (up && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		up = 0;
		if (n + 1 < size)
			out[n] = c;
		n++;
	}
	if (size)
		out[n < size ? n : size - 1] = '\0';
	return n;
}

/* Match the camel-cased form of snake_case `proto_name` against the start of `s` (the first
 * letter upper-cased when `upper_first`); the rest of `s` after it, or NULL on a mismatch. */
static const char *camel_prefix(const char *proto_name, const char *s, int upper_first)
{
	int up = upper_first;
	for (; *proto_name; proto_name++) {
		char c = *proto_name;
		if (c == '_') {
			up = 1;
			continue;
		}
		if (up && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		up = 0;
		if (*s++ != c)
			return NULL;
	}
	return s;
}

/* `key` equals the lowerCamelCase name of `proto_name`. */
static int json_name_equals(const char *proto_name, const char *key)
{
	const char *rest = camel_prefix(proto_name, key, 0);
	return rest && *rest == '\0';
}

/* ---- base64 ---- */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_encode(bm_buf *out, const unsigned char *p, size_t len)
{
	size_t i, need = (len + 2) / 3 * 4;
	char *o;
	int error;
	if (len > SIZE_MAX / 2)
		return bm_error_set(BM_ETOOBIG, "bytes field too big to show");
	if ((error = bm_buf_grow(out, out->size + need)) < 0)
		return error;
	o = out->ptr + out->size;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = b64_chars[(v >> 6) & 63];
		*o++ = b64_chars[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	out->size += need;
	out->ptr[out->size] = '\0';
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard or URL-safe alphabet; padding optional but, when present, to a multiple of 4.
 * *out is malloc'ed (NULL for empty). -1 when `s` is not base64. */
static int b64_decode(unsigned char **out, size_t *outlen, const char *s, size_t len)
{
	size_t n = len, i, o = 0;
	unsigned char *buf;
	uint32_t acc = 0;
	unsigned int bits = 0;
	*out = NULL;
	*outlen = 0;
	while (n > 0 && len - n < 2 && s[n - 1] == '=')
		n--;
	if ((n < len && len % 4 != 0) || n % 4 == 1)
		return -1;
	if (n == 0)
		return 0;
	if (!(buf = malloc(n / 4 * 3 + 3)))
		return -2;
	for (i = 0; i < n; i++) {
		int v = b64_value(s[i]);
		if (v < 0) {
			free(buf);
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*out = buf;
	*outlen = o;
	return 0;
}

/* ---- writer ---- */

struct writer {
	bm_buf *out;
	int pretty, emit_defaults, proto_names;
};

#define FIELD_PTR(m, off) ((const char *)(m) + (off))

static int write_message(struct writer *w, const ProtobufCMessage *m, unsigned int depth);

static int write_indent(struct writer *w, unsigned int level)
{
	int error;
	if (!w->pretty)
		return 0;
	if ((error = bm_buf_putc(w->out, '\n')) < 0)
		return error;
	while (level--)
		if ((error = bm_buf_put(w->out, "  ", 2)) < 0)
			return error;
	return 0;
}

/* Shortest text that reads back to the same value ("%.17g" always would, but shows
 * 0.1 as 0.10000000000000001). */
static int write_double(bm_buf *out, double v, int is_float)
{
	char tmp[40], *c;
	int prec;
	if (isnan(v))
		return bm_buf_puts(out, "\"NaN\"");
	if (isinf(v))
		return bm_buf_puts(out, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	/* "-0" would read back as the integer 0 and lose its sign */
	if (v == 0 && signbit(v))
		return bm_buf_puts(out, "-0.0");
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (is_float ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
			break;
	}
	/* a locale with a decimal comma must not leak into JSON */
	for (c = tmp; *c; c++)
		if (*c == ',')
			*c = '.';
	return bm_buf_puts(out, tmp);
}

/* One value of type f->type stored at `p`. */
static int write_value(struct writer *w, const ProtobufCFieldDescriptor *f, const void *p,
		       unsigned int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return bm_buf_printf(w->out, "%" PRId32, *(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return bm_buf_printf(w->out, "%" PRIu32, *(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return bm_buf_printf(w->out, "\"%" PRId64 "\"", *(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return bm_buf_printf(w->out, "\"%" PRIu64 "\"", *(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return write_double(w->out, *(const float *)p, 1);
	case PROTOBUF_C_TYPE_DOUBLE:
		return write_double(w->out, *(const double *)p, 0);
	case PROTOBUF_C_TYPE_BOOL:
		return bm_buf_puts(w->out, *(const protobuf_c_boolean *)p ? "true" : "false");
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		if (ev)
			return bm_json_escape(w->out, ev->name);
		return bm_buf_printf(w->out, "%d", v);
	}
	case PROTOBUF_C_TYPE_STRING:
		return bm_json_escape(w->out, *(const char *const *)p);
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		int error;
		if ((error = bm_buf_putc(w->out, '"')) < 0 || (error = b64_encode(w->out, b->data, b->len)) < 0)
			return error;
		return bm_buf_putc(w->out, '"');
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
		if (!sub)
			return bm_buf_puts(w->out, "{}");
		return write_message(w, sub, depth + 1);
	}
	}
	return bm_error_set(BM_EUNSUPPORTED, "field %s has protobuf type %d, unknown to the JSON view",
			    f->name, (int)f->type);
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4; /* 32-bit integers, float, enum */
	}
}

/* protoc's name for the entry message of map field `f`: "m_string" -> "MStringEntry". */
static int entry_name_matches(const char *field, const char *short_name)
{
	const char *rest = camel_prefix(field, short_name, 1);
	return rest && strcmp(rest, "Entry") == 0;
}

/* protobuf-c keeps no map_entry option; a map field is what protoc makes of one: a
 * repeated field of the nested message <Field>Entry with key = 1 and value = 2 (protoc
 * refuses any other nested type of that name). */
static int is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *e = f->descriptor;
	size_t plen = strlen(parent->name);
	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE || !e)
		return 0;
	if (e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
	    strcmp(e->fields[0].name, "key") != 0 || strcmp(e->fields[1].name, "value") != 0)
		return 0;
	if (strncmp(e->name, parent->name, plen) != 0 || e->name[plen] != '.' ||
	    strcmp(e->name + plen + 1, e->short_name) != 0)
		return 0;
	return entry_name_matches(f->name, e->short_name);
}

static int write_map_key(struct writer *w, const ProtobufCFieldDescriptor *kf, const void *p)
{
	int error;
	switch (kf->type) {
	case PROTOBUF_C_TYPE_STRING:
		return bm_json_escape(w->out, *(const char *const *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return bm_buf_puts(w->out, *(const protobuf_c_boolean *)p ? "\"true\"" : "\"false\"");
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return write_value(w, kf, p, 0); /* already quoted */
	default:
		if ((error = bm_buf_putc(w->out, '"')) < 0 || (error = write_value(w, kf, p, 0)) < 0)
			return error;
		return bm_buf_putc(w->out, '"');
	}
}

/* Map keys, to find the entries a later entry of the same key overrides (the wire format
 * allows repeats; the last one wins, and JSON may show a key only once). */
struct map_key {
	const char *s;
	uint64_t u;
	size_t idx;
};

static int map_key_cmp(const void *a, const void *b)
{
	const struct map_key *x = a, *y = b;
	if (x->s) {
		int c = strcmp(x->s, y->s);
		if (c)
			return c;
	} else if (x->u != y->u) {
		return x->u < y->u ? -1 : 1;
	}
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* skip[i] = 1 for each entry of a map that a later entry overrides. */
static int map_overridden(unsigned char **skip, const ProtobufCMessage *const *entries, size_t n,
			  const ProtobufCFieldDescriptor *kf)
{
	struct map_key *keys;
	size_t i;
	*skip = NULL;
	if (n < 2)
		return 0;
	keys = calloc(n, sizeof(*keys));
	*skip = calloc(n, 1);
	if (!keys || !*skip) {
		free(keys);
		free(*skip);
		*skip = NULL;
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		const void *p = FIELD_PTR(entries[i], kf->offset);
		keys[i].idx = i;
		if (kf->type == PROTOBUF_C_TYPE_STRING)
			keys[i].s = *(const char *const *)p ? *(const char *const *)p : "";
		else if (type_size(kf->type) == 8)
			keys[i].u = *(const uint64_t *)p;
		else
			keys[i].u = *(const uint32_t *)p;
	}
	qsort(keys, n, sizeof(*keys), map_key_cmp);
	for (i = 0; i + 1 < n; i++) {
		struct map_key a = keys[i], b = keys[i + 1];
		a.idx = b.idx = 0;
		if (map_key_cmp(&a, &b) == 0)
			(*skip)[keys[i].idx] = 1;
	}
	free(keys);
	return 0;
}

static int write_repeated(struct writer *w, const ProtobufCMessage *m,
			  const ProtobufCFieldDescriptor *f, unsigned int depth)
{
	size_t n = *(const size_t *)FIELD_PTR(m, f->quantifier_offset), i, shown = 0;
	const char *arr = *(const char *const *)FIELD_PTR(m, f->offset);
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	unsigned char *skip = NULL;
	int map = is_map(m->descriptor, f), error;
	size_t esize = type_size(f->type);
	if (n == 0)
		return bm_buf_puts(w->out, map ? "{}" : "[]");
	if (map && (error = map_overridden(&skip, (const ProtobufCMessage *const *)arr, n, &ed->fields[0])) < 0)
		return error;
	if ((error = bm_buf_putc(w->out, map ? '{' : '[')) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (skip && skip[i])
			continue;
		if (shown++ && (error = bm_buf_putc(w->out, ',')) < 0)
			goto done;
		if ((error = write_indent(w, depth + 2)) < 0)
			goto done;
		if (map) {
			const ProtobufCMessage *e = ((const ProtobufCMessage *const *)arr)[i];
			const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
			if ((error = write_map_key(w, kf, FIELD_PTR(e, kf->offset))) < 0 ||
			    (error = bm_buf_puts(w->out, w->pretty ? ": " : ":")) < 0 ||
			    (error = write_value(w, vf, FIELD_PTR(e, vf->offset), depth + 1)) < 0)
				goto done;
		} else if ((error = write_value(w, f, arr + i * esize, depth + 1)) < 0) {
			goto done;
		}
	}
	if ((error = write_indent(w, depth + 1)) < 0)
		goto done;
	error = bm_buf_putc(w->out, map ? '}' : ']');
done:
	free(skip);
	return error;
}

static int is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p == 0 && !signbit(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p == 0 && !signbit(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)p;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const ProtobufCMessage *const *)p == NULL;
	default:
		return *(const uint32_t *)p == 0;
	}
}

/* Whether field `f` of `m` is shown, as the proto3 mapping says. */
static int field_shown(const struct writer *w, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *p = FIELD_PTR(m, f->offset);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)FIELD_PTR(m, f->quantifier_offset) == f->id;
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return 1;
	case PROTOBUF_C_LABEL_REPEATED:
		return w->emit_defaults || *(const size_t *)FIELD_PTR(m, f->quantifier_offset) > 0;
	case PROTOBUF_C_LABEL_OPTIONAL:
		/* proto2 optional: presence as protobuf-c's packer sees it */
		if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
			const void *v = *(const void *const *)p;
			return v && v != f->default_value;
		}
		return *(const protobuf_c_boolean *)FIELD_PTR(m, f->quantifier_offset);
	default:
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			return *(const ProtobufCMessage *const *)p != NULL;
		return w->emit_defaults || !is_zero(f, p);
	}
}

static int write_message(struct writer *w, const ProtobufCMessage *m, unsigned int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned int i, shown = 0;
	int error;
	if (depth > BM_PBJSON_MAX_DEPTH)
		return bm_error_set(BM_ETOOBIG, "%s nests deeper than %d messages; not shown as JSON",
				    d->name, BM_PBJSON_MAX_DEPTH);
	if ((error = bm_buf_putc(w->out, '{')) < 0)
		return error;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!field_shown(w, m, f))
			continue;
		if (shown++ && (error = bm_buf_putc(w->out, ',')) < 0)
			return error;
		if ((error = write_indent(w, depth + 1)) < 0)
			return error;
		if (w->proto_names) {
			error = bm_json_escape(w->out, f->name);
		} else {
			char name[128];
			size_t n = bm_pbjson_field_name(name, sizeof(name), f->name);
			if (n >= sizeof(name)) {
				bm_buf tmp = BM_BUF_INIT;
				if ((error = bm_buf_grow(&tmp, n)) == 0) {
					bm_pbjson_field_name(tmp.ptr, n + 1, f->name);
					error = bm_json_escape(w->out, tmp.ptr);
				}
				bm_buf_dispose(&tmp);
			} else {
				error = bm_json_escape(w->out, name);
			}
		}
		if (error < 0 || (error = bm_buf_puts(w->out, w->pretty ? ": " : ":")) < 0)
			return error;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			error = write_repeated(w, m, f, depth);
		else
			error = write_value(w, f, FIELD_PTR(m, f->offset), depth);
		if (error < 0)
			return error;
	}
	if (shown && (error = write_indent(w, depth)) < 0)
		return error;
	return bm_buf_putc(w->out, '}');
}

int bm_pbjson_write(bm_buf *out, const ProtobufCMessage *m, const bm_pbjson_options *opts)
{
	struct writer w = { out, 0, 0, 0 };
	size_t start = out->size;
	int error;
	if (!m)
		return bm_error_set(BM_EINVALID, "no message to show as JSON");
	if (opts) {
		if (opts->version != BM_PBJSON_OPTIONS_VERSION)
			return bm_error_set(BM_EINVALID, "bm_pbjson_options version %u is not %u; "
					    "initialise with BM_PBJSON_OPTIONS_INIT", opts->version,
					    BM_PBJSON_OPTIONS_VERSION);
		w.pretty = opts->pretty;
		w.emit_defaults = opts->emit_defaults;
		w.proto_names = opts->proto_names;
	}
	if ((error = write_message(&w, m, 0)) < 0) {
		out->size = start;
		if (out->ptr)
			out->ptr[start] = '\0';
	}
	return error;
}

/* ---- reader ---- */

struct reader {
	bm_buf path; /* the field being read, for messages: "sources[1].commit" */
};

static int read_fail(struct reader *r, int code, const char *fmt, ...) BM_PRINTF(3, 4);

static int read_fail(struct reader *r, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->path.size)
		return bm_error_set(code, "field %s: %s", r->path.ptr, msg);
	return bm_error_set(code, "%s", msg);
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* A number written as text ("1.5e3"): parsed as JSON so the locale has no say. */
static int parse_number_text(double *out, const char *s, size_t len)
{
	json_t *v;
	if (len == 0 || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-') ||
	    !(s[len - 1] >= '0' && s[len - 1] <= '9'))
		return -1;
	if (!(v = json_loadb(s, len, JSON_DECODE_ANY, NULL)))
		return -1;
	if (!json_is_number(v)) {
		json_decref(v);
		return -1;
	}
	*out = json_number_value(v);
	json_decref(v);
	return 0;
}

/* A whole number from a JSON number or string, as sign and magnitude. */
static int read_whole(struct reader *r, const json_t *v, int *neg, uint64_t *mag)
{
	double x;
	*neg = 0;
	*mag = 0;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		*neg = i < 0;
		*mag = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v), *p = s;
		size_t len = json_string_length(v);
		if (*p == '-') {
			*neg = 1;
			p++;
		}
		if (*p >= '0' && *p <= '9' && (size_t)(p - s) < len) {
			uint64_t acc = 0;
			for (; *p >= '0' && *p <= '9'; p++) {
				if (acc > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
					return read_fail(r, BM_EINVALID, "\"%s\" is out of range", s);
				acc = acc * 10 + (uint64_t)(*p - '0');
			}
			if ((size_t)(p - s) == len) {
				*mag = acc;
				return 0;
			}
		}
		*neg = 0;
		if (parse_number_text(&x, s, len) < 0)
			return read_fail(r, BM_EINVALID, "\"%.64s\" is not a number", s);
	} else if (json_is_real(v)) {
		x = json_real_value(v);
	} else {
		return read_fail(r, BM_EINVALID, "expected a whole number, got %s", json_kind(v));
	}
	if (!isfinite(x) || x != trunc(x))
		return read_fail(r, BM_EINVALID, "%g is not a whole number", x);
	if (fabs(x) >= 18446744073709551616.0)
		return read_fail(r, BM_EINVALID, "%g is out of range", x);
	*neg = x < 0;
	*mag = (uint64_t)fabs(x);
	return 0;
}

static int read_signed(struct reader *r, const json_t *v, int64_t min, int64_t max, int64_t *out)
{
	int neg, error;
	uint64_t mag;
	if ((error = read_whole(r, v, &neg, &mag)) < 0)
		return error;
	if (neg ? mag > (uint64_t)0 - (uint64_t)min : mag > (uint64_t)max)
		return read_fail(r, BM_EINVALID, "%s%" PRIu64 " is out of range [%" PRId64 ", %" PRId64 "]",
				 neg ? "-" : "", mag, min, max);
	*out = neg ? (int64_t)((uint64_t)0 - mag) : (int64_t)mag;
	return 0;
}

static int read_unsigned(struct reader *r, const json_t *v, uint64_t max, uint64_t *out)
{
	int neg, error;
	uint64_t mag;
	if ((error = read_whole(r, v, &neg, &mag)) < 0)
		return error;
	if ((neg && mag) || mag > max)
		return read_fail(r, BM_EINVALID, "%s%" PRIu64 " is out of range [0, %" PRIu64 "]",
				 neg ? "-" : "", mag, max);
	*out = mag;
	return 0;
}

static int read_double(struct reader *r, const json_t *v, int is_float, double *out)
{
	double x;
	if (json_is_number(v)) {
		x = json_number_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "NaN") == 0)
			x = NAN;
		else if (strcmp(s, "Infinity") == 0)
			x = INFINITY;
		else if (strcmp(s, "-Infinity") == 0)
			x = -INFINITY;
		else if (parse_number_text(&x, s, json_string_length(v)) < 0)
			return read_fail(r, BM_EINVALID, "\"%.64s\" is not a number", s);
	} else {
		return read_fail(r, BM_EINVALID, "expected a number, got %s", json_kind(v));
	}
	/* what rounds to FLT_MAX is fine (the writer shows FLT_MAX as 3.4028235e+38); from the
	 * midpoint between FLT_MAX and 2^128 on, it would round to infinity */
	if (is_float && isfinite(x) && fabs(x) >= 0x1.ffffffp+127)
		return read_fail(r, BM_EINVALID, "%g is out of range for a float", x);
	*out = x;
	return 0;
}

static int read_message(struct reader *r, ProtobufCMessage **out, const ProtobufCMessageDescriptor *d,
			const json_t *obj, unsigned int depth);

static char *dup_string(const json_t *v)
{
	size_t len = json_string_length(v);
	char *s = malloc(len + 1);
	if (s)
		memcpy(s, json_string_value(v), len + 1);
	return s;
}

/* Read `v` into the value slot `p` of type f->type. On failure the slot is unchanged. */
static int read_value(struct reader *r, const ProtobufCFieldDescriptor *f, void *p,
		      const json_t *v, unsigned int depth)
{
	int64_t i = 0;
	uint64_t u = 0;
	double x = 0;
	int error;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if ((error = read_signed(r, v, INT32_MIN, INT32_MAX, &i)) < 0)
			return error;
		*(int32_t *)p = (int32_t)i;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if ((error = read_unsigned(r, v, UINT32_MAX, &u)) < 0)
			return error;
		*(uint32_t *)p = (uint32_t)u;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if ((error = read_signed(r, v, INT64_MIN, INT64_MAX, &i)) < 0)
			return error;
		*(int64_t *)p = i;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if ((error = read_unsigned(r, v, UINT64_MAX, &u)) < 0)
			return error;
		*(uint64_t *)p = u;
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
		if ((error = read_double(r, v, 1, &x)) < 0)
			return error;
		*(float *)p = (float)x;
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		if ((error = read_double(r, v, 0, &x)) < 0)
			return error;
		*(double *)p = x;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return read_fail(r, BM_EINVALID, "expected true or false, got %s", json_kind(v));
		*(protobuf_c_boolean *)p = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		if (json_is_string(v)) {
			const ProtobufCEnumDescriptor *ed = f->descriptor;
			const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, json_string_value(v));
			if (!ev)
				return read_fail(r, BM_EINVALID, "\"%.64s\" is not a value of enum %s",
						 json_string_value(v), ed->name);
			*(int *)p = ev->value;
			return 0;
		}
		if ((error = read_signed(r, v, INT32_MIN, INT32_MAX, &i)) < 0)
			return error;
		*(int *)p = (int)i;
		return 0;
	case PROTOBUF_C_TYPE_STRING: {
		char *s;
		if (!json_is_string(v))
			return read_fail(r, BM_EINVALID, "expected a string, got %s", json_kind(v));
		if (!(s = dup_string(v)))
			return bm_error_set(BM_ENOMEM, "out of memory");
		*(char **)p = s;
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;
		unsigned char *data;
		size_t len;
		if (!json_is_string(v))
			return read_fail(r, BM_EINVALID, "expected a base64 string, got %s", json_kind(v));
		error = b64_decode(&data, &len, json_string_value(v), json_string_length(v));
		if (error == -2)
			return bm_error_set(BM_ENOMEM, "out of memory");
		if (error < 0)
			return read_fail(r, BM_EINVALID, "not base64");
		b->data = data;
		b->len = len;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = NULL;
		if ((error = read_message(r, &sub, f->descriptor, v, depth + 1)) < 0)
			return error;
		*(ProtobufCMessage **)p = sub;
		return 0;
	}
	}
	return read_fail(r, BM_EUNSUPPORTED, "protobuf type %d is unknown to the JSON reader", (int)f->type);
}

/* "0" or -?[1-9][0-9]*: so two different keys of a JSON object never name one map key. */
static int canonical_integer(const char *s)
{
	if (strcmp(s, "0") == 0)
		return 1;
	if (*s == '-')
		s++;
	if (*s < '1' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '\0';
}

/* A map key is always a JSON string; read it as the key field's type. */
static int read_map_key(struct reader *r, const ProtobufCFieldDescriptor *kf, void *p, const char *key)
{
	json_t *v;
	int error;
	if (kf->type == PROTOBUF_C_TYPE_BOOL) {
		if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0)
			return read_fail(r, BM_EINVALID, "map key \"%.64s\" is not true or false", key);
		*(protobuf_c_boolean *)p = strcmp(key, "true") == 0;
		return 0;
	}
	if (!(v = json_string(key)))
		return read_fail(r, BM_EINVALID, "map key is not valid UTF-8");
	if (kf->type == PROTOBUF_C_TYPE_STRING)
		error = read_value(r, kf, p, v, 0);
	else if (!canonical_integer(key))
		error = read_fail(r, BM_EINVALID, "map key \"%.64s\" is not an integer in canonical "
				  "form (no sign but '-', no leading zeros)", key);
	else
		error = read_value(r, kf, p, v, 0);
	json_decref(v);
	return error;
}

static int path_push(struct reader *r, const char *name, size_t index, int is_index)
{
	if (is_index)
		return bm_buf_printf(&r->path, "[%zu]", index);
	if (r->path.size && bm_buf_putc(&r->path, '.') < 0)
		return BM_ENOMEM;
	return bm_buf_puts(&r->path, name);
}

static void path_pop(struct reader *r, size_t size)
{
	r->path.size = size;
	if (r->path.ptr)
		r->path.ptr[size] = '\0';
}

static int read_repeated(struct reader *r, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			 const json_t *v, unsigned int depth)
{
	size_t *count = (size_t *)((char *)m + f->quantifier_offset);
	void **arrp = (void **)((char *)m + f->offset);
	size_t esize = type_size(f->type), n, i, mark = r->path.size;
	int map = is_map(m->descriptor, f), error = 0;
	if (map ? !json_is_object(v) : !json_is_array(v))
		return read_fail(r, BM_EINVALID, "expected %s, got %s", map ? "an object (a map)" : "an array",
				 json_kind(v));
	n = map ? json_object_size(v) : json_array_size(v);
	if (n == 0)
		return 0;
	if (!(*arrp = calloc(n, esize)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if (map) {
		const ProtobufCMessageDescriptor *ed = f->descriptor;
		const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)v, key, val) {
			ProtobufCMessage *e;
			if ((error = bm_buf_printf(&r->path, "[\"%.64s\"]", key)) < 0)
				break;
			if (!(e = calloc(1, ed->sizeof_message))) {
				error = bm_error_set(BM_ENOMEM, "out of memory");
				break;
			}
			protobuf_c_message_init(ed, e);
			((ProtobufCMessage **)*arrp)[(*count)++] = e;
			if ((error = read_map_key(r, kf, (char *)e + kf->offset, key)) < 0)
				break;
			if (json_is_null(val)) {
				error = read_fail(r, BM_EINVALID, "a map value may not be null");
				break;
			}
			if ((error = read_value(r, vf, (char *)e + vf->offset, val, depth)) < 0)
				break;
			path_pop(r, mark);
		}
		return error;
	}
	for (i = 0; i < n; i++) {
		const json_t *el = json_array_get(v, i);
		if ((error = path_push(r, NULL, i, 1)) < 0)
			return error;
		if (json_is_null(el))
			return read_fail(r, BM_EINVALID, "a list element may not be null");
		if ((error = read_value(r, f, (char *)*arrp + i * esize, el, depth)) < 0)
			return error;
		(*count)++;
		path_pop(r, mark);
	}
	return 0;
}

/* The field `key` names: its .proto name or its lowerCamelCase name. */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d, const char *key)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
	unsigned int i;
	if (f)
		return f;
	for (i = 0; i < d->n_fields; i++)
		if (json_name_equals(d->fields[i].name, key))
			return &d->fields[i];
	return NULL;
}

static int read_message(struct reader *r, ProtobufCMessage **out, const ProtobufCMessageDescriptor *d,
			const json_t *obj, unsigned int depth)
{
	ProtobufCMessage *m = NULL;
	unsigned char *seen = NULL;
	const char *key;
	json_t *v;
	int error = 0;
	*out = NULL;
	if (depth > BM_PBJSON_MAX_DEPTH)
		return read_fail(r, BM_ETOOBIG, "messages nest deeper than %d", BM_PBJSON_MAX_DEPTH);
	if (!json_is_object(obj))
		return read_fail(r, BM_EINVALID, "expected an object (%s), got %s", d->name, json_kind(obj));
	if (!(m = calloc(1, d->sizeof_message)) || !(seen = calloc(d->n_fields + 1, 1))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	protobuf_c_message_init(d, m);
	json_object_foreach((json_t *)obj, key, v) {
		const ProtobufCFieldDescriptor *f = find_field(d, key);
		size_t mark = r->path.size;
		char *base;
		if (!f) {
			error = read_fail(r, BM_EINVALID, "unknown field \"%.100s\" in %s", key, d->name);
			goto done;
		}
		if ((error = path_push(r, key, 0, 0)) < 0)
			goto done;
		if (seen[f - d->fields]) {
			error = read_fail(r, BM_EINVALID, "given twice (by its .proto and its JSON name)");
			goto done;
		}
		seen[f - d->fields] = 1;
		base = (char *)m + f->offset;
		if (json_is_null(v)) {
			path_pop(r, mark);
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *which = (uint32_t *)((char *)m + f->quantifier_offset);
			if (*which) {
				const ProtobufCFieldDescriptor *other = protobuf_c_message_descriptor_get_field(d, *which);
				error = read_fail(r, BM_EINVALID, "only one member of a oneof may be set, and %s "
						  "is set too", other ? other->name : "another");
				goto done;
			}
			if ((error = read_value(r, f, base, v, depth)) < 0)
				goto done;
			*which = f->id;
		} else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if ((error = read_repeated(r, m, f, v, depth)) < 0)
				goto done;
		} else {
			if ((error = read_value(r, f, base, v, depth)) < 0)
				goto done;
			if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
			    f->type != PROTOBUF_C_TYPE_MESSAGE)
				*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
		}
		path_pop(r, mark);
	}
	*out = m;
	m = NULL;
done:
	free(seen);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	return error;
}

int bm_pbjson_read(ProtobufCMessage **out, const ProtobufCMessageDescriptor *d, const char *json, size_t len)
{
	struct reader r = { BM_BUF_INIT };
	json_error_t jerr;
	json_t *root = NULL;
	int error;
	*out = NULL;
	if (!d)
		return bm_error_set(BM_EINVALID, "no message type given to read JSON into");
	if (len > BM_PBJSON_MAX_INPUT)
		return bm_error_set(BM_ETOOBIG, "JSON text of %zu bytes is over the %u byte limit",
				    len, BM_PBJSON_MAX_INPUT);
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
		/* jansson quotes the text near the error raw (a newline, a control byte): escaped */
		bm_buf t = BM_BUF_INIT;
		bm_text_escape(&t, jerr.text, strlen(jerr.text), BM_ESCAPE_ASCII);
		error = bm_error_set(BM_EINVALID, "not valid JSON for %s: %s at line %d column %d",
				     d->name, t.ptr ? t.ptr : "?", jerr.line, jerr.column);
		bm_buf_dispose(&t);
		goto done;
	}
	if ((error = read_message(&r, out, d, root, 0)) < 0)
		bm_error_prefix(error, "reading %s from JSON", d->name);
done:
	json_decref(root);
	bm_buf_dispose(&r.path);
	return error;
}
