/* record.c: the record types of the meta repo by name, which path holds which type, and
 * the checked encode/decode of one record file. */
#include "bootmeta/record.h"
#include "bootmeta/pbjson.h"
#include "bootmeta/text.h"
#include "record_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta/v1/core.pb-c.h"
#include "bootmeta/v1/config.pb-c.h"
#include "bootmeta/v1/flags.pb-c.h"
#include "bootmeta/v1/secret.pb-c.h"
#include "bootmeta/v1/instance.pb-c.h"
#include "bootmeta/v1/webhook.pb-c.h"

/* Every record type, one line each. A type from another .proto file: include its
 * "bootmeta/v1/<file>.pb-c.h" above and add its descriptor here. */
static const ProtobufCMessageDescriptor *const record_types[] = {
	&bootmeta__v1__project__descriptor,
	&bootmeta__v1__release__descriptor,
	&bootmeta__v1__binary__descriptor,
	&bootmeta__v1__binary_signature__descriptor,
	&bootmeta__v1__channel_entry__descriptor,
	&bootmeta__v1__log_entry__descriptor,
	&bootmeta__v1__module_ref__descriptor,
	&bootmeta__v1__env__descriptor,
	&bootmeta__v1__config_value__descriptor,
	&bootmeta__v1__flag__descriptor,
	&bootmeta__v1__recipient_change__descriptor,
	&bootmeta__v1__secret_version__descriptor,
	&bootmeta__v1__instance_report__descriptor,
	&bootmeta__v1__webhook__descriptor,
};
#define N_RECORD_TYPES (sizeof(record_types) / sizeof(record_types[0]))

/* Where each kind of file lives, one line each. A path is
 *   <prefix><name, one or more segments>/<keyword>/<rest>   when keyword is set
 *   <prefix><rest>                                          otherwise
 * and `rest` is a glob: '*' matches within one segment, a "**" segment any number of
 * segments (none too). When several rules match, the one whose keyword comes last in the
 * path wins (names hold '/', so depth says nothing); a rule without a keyword loses to
 * one with a keyword; then the first in the table. */
struct path_rule {
	const char *prefix;
	const char *keyword;
	const char *rest;
	bm_file_kind kind;
	const char *type; /* full name of the record type, for BM_FILE_RECORD */
};

static const struct path_rule path_rules[] = {
	/* prefix          keyword     rest              kind            type */
	{ "projects/",     NULL,       "*/**/project.pb", BM_FILE_RECORD, "bootmeta.v1.Project" },
	{ "projects/",     "releases", "**/*.pb",        BM_FILE_RECORD, "bootmeta.v1.Release" },
	{ "projects/",     "channels", "*/**/*.pb",      BM_FILE_RECORD, "bootmeta.v1.ChannelEntry" },
	{ "binaries/",     NULL,       "*/*.sig/*.pb",   BM_FILE_RECORD, "bootmeta.v1.BinarySignature" },
	{ "binaries/",     NULL,       "**/*.pb",        BM_FILE_RECORD, "bootmeta.v1.Binary" },
	{ "log/",          NULL,       "**/*.pb",        BM_FILE_RECORD, "bootmeta.v1.LogEntry" },
	{ "modules/",      NULL,       "**/*.pb",        BM_FILE_RECORD, "bootmeta.v1.ModuleRef" },
	{ "keys/signers/", NULL,       "*.pub",          BM_FILE_TEXT,   NULL },
	{ ".bootmeta/",    NULL,       "format",         BM_FILE_TEXT,   NULL },
	{ "envs/",         "secrets",  "**/*.age",       BM_FILE_AGE,    NULL },
	{ "envs/",         NULL,       "**/env.pb",      BM_FILE_RECORD, "bootmeta.v1.Env" },
	{ "envs/",         "+keys",    "*/*.pb",         BM_FILE_RECORD, "bootmeta.v1.ConfigValue" },
	{ "envs/",         "+flags",   "*/*.pb",         BM_FILE_RECORD, "bootmeta.v1.Flag" },
	{ "envs/",         "secrets",  "**/*.pb",        BM_FILE_RECORD, "bootmeta.v1.SecretVersion" },
	{ "envs/",         "recipients", "*.pb",         BM_FILE_RECORD, "bootmeta.v1.RecipientChange" },
	{ "envs/",         "+reports", "*/*.pb",         BM_FILE_RECORD, "bootmeta.v1.InstanceReport" },
	{ "keys/admins/",  NULL,       "*.pb",           BM_FILE_RECORD, "bootmeta.v1.RecipientChange" },
	{ "hooks/",        NULL,       "*/*.pb",         BM_FILE_RECORD, "bootmeta.v1.Webhook" },
};
#define N_PATH_RULES (sizeof(path_rules) / sizeof(path_rules[0]))

const ProtobufCMessageDescriptor *bm_record_type(const char *name)
{
	size_t i;
	if (!name)
		return NULL;
	for (i = 0; i < N_RECORD_TYPES; i++) {
		const ProtobufCMessageDescriptor *d = record_types[i];
		if (strcmp(d->name, name) == 0 || strcmp(d->short_name, name) == 0)
			return d;
	}
	return NULL;
}

const ProtobufCMessageDescriptor *bm_record_type_at(size_t i)
{
	return i < N_RECORD_TYPES ? record_types[i] : NULL;
}

/* One segment of a glob (up to '/' or the end) against one segment of a path. */
static int segment_match(const char *p, const char *pend, const char *s, const char *send)
{
	while (p < pend) {
		if (*p == '*') {
			const char *t;
			p++;
			for (t = send; t >= s; t--)
				if (segment_match(p, pend, t, send))
					return 1;
			return 0;
		}
		if (s == send || *p != *s)
			return 0;
		p++;
		s++;
	}
	return s == send;
}

static int glob_match(const char *p, const char *s)
{
	const char *pend, *send;
	if (strncmp(p, "**/", 3) == 0) {
		p += 3;
		for (;;) {
			if (glob_match(p, s))
				return 1;
			if (!(s = strchr(s, '/')))
				return 0;
			s++;
		}
	}
	pend = strchr(p, '/');
	send = strchr(s, '/');
	if (!pend)
		pend = p + strlen(p);
	if (!send)
		send = s + strlen(s);
	if (!segment_match(p, pend, s, send))
		return 0;
	if (!*pend || !*send)
		return !*pend && !*send;
	return glob_match(pend + 1, send + 1);
}

/* A path we classify: relative, no empty, "." or ".." segments. */
static int path_is_clean(const char *path)
{
	const char *seg = path;
	if (!path || !*path)
		return 0;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (!end)
			return 1;
		seg = end + 1;
	}
}

/* Score of `rule` for `path`: 0 no match, 1 a match without keyword, 2 + the offset of the
 * keyword otherwise (a later keyword scores higher). */
static size_t rule_score(const struct path_rule *rule, const char *path)
{
	size_t plen = strlen(rule->prefix), klen, best = 0;
	const char *name, *s;
	if (strncmp(path, rule->prefix, plen) != 0)
		return 0;
	name = path + plen;
	if (!rule->keyword)
		return glob_match(rule->rest, name) ? 1 : 0;
	klen = strlen(rule->keyword);
	/* "/<keyword>/" after at least one name segment; try every place, keep the last */
	for (s = strchr(name, '/'); s; s = strchr(s + 1, '/')) {
		if (strncmp(s + 1, rule->keyword, klen) == 0 && s[1 + klen] == '/' &&
		    glob_match(rule->rest, s + 2 + klen))
			best = 2 + (size_t)(s - path);
	}
	return best;
}

bm_file_kind bm_record_kind_for_path(const char *path, const ProtobufCMessageDescriptor **type)
{
	const struct path_rule *best = NULL;
	size_t best_score = 0, i;
	if (type)
		*type = NULL;
	if (!path_is_clean(path))
		return BM_FILE_UNKNOWN;
	for (i = 0; i < N_PATH_RULES; i++) {
		size_t score = rule_score(&path_rules[i], path);
		if (score > best_score) {
			best_score = score;
			best = &path_rules[i];
		}
	}
	if (!best)
		return BM_FILE_UNKNOWN;
	if (best->kind == BM_FILE_RECORD) {
		const ProtobufCMessageDescriptor *d = bm_record_type(best->type);
		if (!d)
			return BM_FILE_UNKNOWN;
		if (type)
			*type = d;
	}
	return best->kind;
}

const ProtobufCMessageDescriptor *bm_record_type_for_path(const char *path)
{
	const ProtobufCMessageDescriptor *d;
	if (bm_record_kind_for_path(path, &d) != BM_FILE_RECORD)
		return NULL;
	return d;
}

/* Wire-format walk before protobuf-c sees the bytes: protobuf-c says only "failed", and
 * it recurses without bound on nested messages. This names the first problem and bounds
 * the depth. */
struct wire {
	const unsigned char *p;
	size_t len, pos;
};

static int wire_varint(uint64_t *out, struct wire *w)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	while (w->pos < w->len && shift < 64) {
		unsigned char c = w->p[w->pos++];
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

static const ProtobufCFieldDescriptor *field_by_number(const ProtobufCMessageDescriptor *d, uint32_t id)
{
	unsigned int i;
	for (i = 0; i < d->n_fields; i++)
		if (d->fields[i].id == id)
			return &d->fields[i];
	return NULL;
}

/* The string fields that may hold more than one line (new lines, tabs): the ones whose
 * .proto comment says so. Every other string field of a record is one line. */
static const struct {
	const ProtobufCMessageDescriptor *type;
	const char *field;
} lines_fields[] = {
	{ &bootmeta__v1__log_entry__descriptor, "message" },
	{ &bootmeta__v1__config_value__descriptor, "string_value" },
	{ &bootmeta__v1__config_value__descriptor, "json_value" },
	{ &bootmeta__v1__flag_variant__descriptor, "string_value" },
	{ &bootmeta__v1__flag_variant__descriptor, "json_value" },
	{ &bootmeta__v1__binary__descriptor, "signature" },
	{ &bootmeta__v1__binary_signature__descriptor, "signature" },
	{ &bootmeta__v1__instance_report__descriptor, "error" },
};

static bm_text_kind field_text_kind(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
	size_t i;
	for (i = 0; i < sizeof(lines_fields) / sizeof(lines_fields[0]); i++)
		if (lines_fields[i].type == d && !strcmp(lines_fields[i].field, f->name))
			return BM_TEXT_LINES;
	return BM_TEXT_LINE;
}

/* For a write: the text rule of bootmeta/text.h on one string field. */
static int field_text_check(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
			    const char *str, size_t n)
{
	bm_text_kind kind = field_text_kind(d, f);
	char what[256];
	snprintf(what, sizeof(what), "the %s field of the %s record", f->name, d->short_name);
	return bm_text_check(str, n, kind, kind == BM_TEXT_LINE ? BM_TEXT_LINE_MAX : 0, what);
}

static int wire_check(const ProtobufCMessageDescriptor *d, const unsigned char *data, size_t len,
		      size_t base, unsigned int depth, int for_write)
{
	struct wire w = { data, len, 0 };
	if (depth > BM_PBJSON_MAX_DEPTH)
		return bm_error_set(BM_ECORRUPT, "%s nests deeper than %d messages at byte %zu",
				    d->name, BM_PBJSON_MAX_DEPTH, base);
	while (w.pos < w.len) {
		size_t at = w.pos;
		uint64_t key, n;
		uint32_t id;
		const ProtobufCFieldDescriptor *f;
		if (wire_varint(&key, &w) < 0)
			return bm_error_set(BM_ECORRUPT, "truncated field tag at byte %zu", base + at);
		if ((key >> 3) == 0 || (key >> 3) > 536870911u)
			return bm_error_set(BM_ECORRUPT, "field number %llu at byte %zu is out of range",
					    (unsigned long long)(key >> 3), base + at);
		id = (uint32_t)(key >> 3);
		switch (key & 7) {
		case 0:
			if (wire_varint(&n, &w) < 0)
				return bm_error_set(BM_ECORRUPT, "truncated varint of field %u at byte %zu",
						    id, base + at);
			break;
		case 1:
		case 5:
			n = (key & 7) == 1 ? 8 : 4;
			if (w.len - w.pos < n)
				return bm_error_set(BM_ECORRUPT, "truncated fixed-size field %u at byte %zu",
						    id, base + at);
			w.pos += n;
			break;
		case 2:
			if (wire_varint(&n, &w) < 0 || n > w.len - w.pos)
				return bm_error_set(BM_ECORRUPT,
						    "length of field %u at byte %zu runs past the end (%zu bytes)",
						    id, base + at, w.len);
			f = field_by_number(d, id);
			if (f && f->type == PROTOBUF_C_TYPE_STRING) {
				const char *str = (const char *)w.p + w.pos;
				if (memchr(str, '\0', (size_t)n))
					return bm_error_set(BM_ECORRUPT, "string field %s.%s at byte %zu "
							    "holds a NUL byte", d->name, f->name, base + at);
				if (!bm_utf8_valid(str, (size_t)n))
					return bm_error_set(BM_ECORRUPT, "string field %s.%s at byte %zu "
							    "is not valid UTF-8", d->name, f->name, base + at);
				if (for_write) {
					int error = field_text_check(d, f, str, (size_t)n);
					if (error < 0)
						return error;
				}
			} else if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				int error = wire_check(f->descriptor, w.p + w.pos, (size_t)n,
						       base + w.pos, depth + 1, for_write);
				if (error < 0)
					return error;
			}
			w.pos += (size_t)n;
			break;
		default:
			return bm_error_set(BM_ECORRUPT, "field %u at byte %zu has wire type %u, which "
					    "proto3 records never use", id, base + at, (unsigned)(key & 7));
		}
	}
	return 0;
}

typedef struct {
	ProtobufCAllocator *inner;
	int failed;
} unpack_ctx;

static void *unpack_alloc(void *data, size_t n)
{
	unpack_ctx *c = data;
	void *p = c->inner ? c->inner->alloc(c->inner->allocator_data, n) : malloc(n);
	if (!p)
		c->failed = 1;
	return p;
}

static void unpack_free(void *data, void *p)
{
	unpack_ctx *c = data;
	if (c->inner)
		c->inner->free(c->inner->allocator_data, p);
	else
		free(p);
}

int bm__pb_unpack(ProtobufCMessage **out, const ProtobufCMessageDescriptor *d, ProtobufCAllocator *alloc,
		  const void *data, size_t len)
{
	unpack_ctx c = { alloc, 0 };
	ProtobufCAllocator a = { unpack_alloc, unpack_free, &c };
	*out = protobuf_c_message_unpack(d, &a, len, (const uint8_t *)(data ? data : ""));
	if (*out)
		return 0;
	if (c.failed)
		return bm_error_set(BM_ENOMEM, "out of memory decoding a %s record", d->short_name);
	return BM_ECORRUPT;
}

int bm_record_decode(ProtobufCMessage **out, const ProtobufCMessageDescriptor *d,
		     const void *data, size_t len)
{
	ProtobufCMessage *m;
	int error;
	*out = NULL;
	if (!d)
		return bm_error_set(BM_EINVALID, "no record type given to decode");
	if (len > BM_RECORD_MAX_SIZE)
		return bm_error_set(BM_ETOOBIG, "%s record of %zu bytes is over the %u byte limit of a "
				    "record; the file is not a record or was damaged", d->name, len,
				    BM_RECORD_MAX_SIZE);
	if (len && !data)
		return bm_error_set(BM_EINVALID, "no bytes given to decode");
	if (wire_check(d, data, len, 0, 0, 0) < 0)
		goto corrupt;
	if ((error = bm__pb_unpack(&m, d, NULL, data, len)) == BM_ENOMEM)
		return error;
	if (error < 0) {
		bm_error_set(BM_ECORRUPT, "a field has the wrong wire type or a bad value");
		goto corrupt;
	}
	*out = m;
	return 0;
corrupt: {
		char detail[512];
		snprintf(detail, sizeof(detail), "%s", bm_error_last());
		return bm_error_set(BM_ECORRUPT, "not a valid %s record (%zu bytes): %s; the file is "
				    "damaged or holds another type", d->name, len, detail);
	}
}

int bm_record_check_write(const ProtobufCMessageDescriptor *d, const void *data, size_t len)
{
	int error;
	if (!d)
		return bm_error_set(BM_EINVALID, "no record type given to check");
	if (len > BM_RECORD_MAX_SIZE)
		return bm_error_set(BM_ETOOBIG, "%s record of %zu bytes is over the %u byte limit of a "
				    "record; keep big data in artifacts", d->name, len, BM_RECORD_MAX_SIZE);
	if (len && !data)
		return bm_error_set(BM_EINVALID, "no bytes given to check");
	if ((error = wire_check(d, data, len, 0, 0, 1)) < 0)
		return error == BM_ECORRUPT ? bm_error_prefix(BM_EINVALID, "not a valid %s record", d->name)
					    : error;
	return 0;
}

int bm_record_encode(bm_buf *out, const ProtobufCMessage *m)
{
	size_t n;
	int error;
	if (!m)
		return bm_error_set(BM_EINVALID, "no record given to encode");
	n = protobuf_c_message_get_packed_size(m);
	if (n > BM_RECORD_MAX_SIZE)
		return bm_error_set(BM_ETOOBIG, "%s record of %zu bytes is over the %u byte limit of a "
				    "record; keep big data in artifacts", m->descriptor->name, n,
				    BM_RECORD_MAX_SIZE);
	if ((error = bm_buf_grow(out, out->size + n)) < 0)
		return error;
	protobuf_c_message_pack(m, (uint8_t *)out->ptr + out->size);
	out->size += n;
	out->ptr[out->size] = '\0';
	return 0;
}

void bm_record_free(ProtobufCMessage *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}
