/* stamp.c: build stamps, the string a build compiles in so any binary leads back to its
 * release, sources and meta commit; the writers (C header, Go -ldflags, JSON) and the
 * scanner that finds and verifies a stamp in any bytes or file.
 *
 * The format is in bootmeta/buildinfo.h. It is chosen so that the stamp needs no escaping
 * anywhere it travels (C string literal, shell, Go's -ldflags splitting), frames itself
 * (length up front, check and end marker behind) and can be found with a plain byte search. */
#define _GNU_SOURCE /* memmem */
#include "bootmeta/buildinfo.h"
#include "bootmeta/names.h"
#include "bootmeta/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>

#define MAGIC_LEN (sizeof(BM_STAMP_MAGIC) - 1)
#define END_LEN (sizeof(BM_STAMP_END) - 1)
#define CHECK_HEX 16
#define CHUNK (1024u * 1024u)

static int value_byte_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '~' || c == '/' || c == ':' || c == '+' || c == ',' || c == '-';
}

static int put_value(bm_buf *b, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int error = 0;
	for (p = (const unsigned char *)v; *p && !error; p++) {
		if (value_byte_ok(*p)) {
			error = bm_buf_putc(b, (char)*p);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			error = bm_buf_put(b, esc, 3);
		}
	}
	return error;
}

int bm_stamp_version_check(const char *version)
{
	int error;
	if (!version)
		return 0;
	if ((error = bm_text_check(version, strlen(version), BM_TEXT_LINE, BM_TEXT_LINE_MAX, "the version")) < 0)
		return error;
	/* go-ldflags quotes a version with a space in ' or "; one that holds both cannot pass */
	if (strchr(version, '\'') && strchr(version, '"'))
		return bm_error_set(BM_EINVALID, "the version holds both ' and \"; use one kind of quote "
				    "(a build stamp passes it through Go's -ldflags)");
	return 0;
}

/* `s` as the inside of a C string literal: printable ASCII as it is, except '"', '\\'
 * and '?' (no trigraphs), which are escaped, and every other byte as a 3-digit octal
 * escape (a hex escape would swallow the digits after it). */
static int put_c_string(bm_buf *b, const char *s)
{
	const unsigned char *p;
	int error = 0;
	for (p = (const unsigned char *)s; *p && !error; p++) {
		if (*p == '"' || *p == '\\' || *p == '?')
			error = bm_buf_printf(b, "\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			error = bm_buf_putc(b, (char)*p);
		else
			error = bm_buf_printf(b, "\\%03o", *p);
	}
	return error;
}

/* One -X flag of go-ldflags: quoted as Go's flag splitting wants when the value has a space
 * (bm_stamp_version_check keeps out values that hold both quotes). */
static int put_ldflag(bm_buf *b, const char *var, const char *value)
{
	char q;
	if (!strpbrk(value, " \t\n\r") && value[0] != '\'' && value[0] != '"')
		return bm_buf_printf(b, " -X main.%s=%s", var, value);
	q = strchr(value, '\'') ? '"' : '\'';
	return bm_buf_printf(b, " -X %cmain.%s=%s%c", q, var, value, q);
}

static int hex_commit_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 40 || n == 64;
}

static int has_version(const bm_stamp *s)
{
	return s->version && s->version[0];
}

static int validate(const bm_stamp *s)
{
	size_t i;
	int error;
	if (!s->project || !s->release || !s->meta_commit)
		return bm_error_set(BM_EINVALID, "stamp: project, release and meta commit are required");
	if ((error = bm_name_validate(s->project, BM_NAME_PROJECT)) < 0)
		return bm_error_prefix(error, "stamp");
	if ((error = bm_name_validate(s->release, BM_NAME_RELEASE)) < 0)
		return bm_error_prefix(error, "stamp");
	if (has_version(s) && (error = bm_stamp_version_check(s->version)) < 0)
		return bm_error_prefix(error, "stamp");
	if (!hex_commit_ok(s->meta_commit))
		return bm_error_set(BM_EINVALID, "stamp: meta commit \"%.80s\" is not a full lower-case hex "
				    "commit hash (40 or 64 digits)", s->meta_commit);
	if (s->source_count > BM_STAMP_MAX_SOURCES)
		return bm_error_set(BM_ETOOBIG, "stamp: %zu sources, over the bound of %u",
				    s->source_count, BM_STAMP_MAX_SOURCES);
	for (i = 0; i < s->source_count; i++) {
		const bm_stamp_source *src = &s->sources[i];
		size_t n;
		if (!src->url || !src->commit)
			return bm_error_set(BM_EINVALID, "stamp: source %zu has no url or commit", i + 1);
		n = strlen(src->url);
		if (n == 0 || n > BM_STAMP_MAX_URL)
			return bm_error_set(BM_EINVALID, "stamp: source %zu: url is %zu bytes; expected 1 to %u",
					    i + 1, n, BM_STAMP_MAX_URL);
		if (!hex_commit_ok(src->commit))
			return bm_error_set(BM_EINVALID, "stamp: source %s: commit \"%.80s\" is not a full "
					    "lower-case hex commit hash (40 or 64 digits)", src->url, src->commit);
	}
	return 0;
}

static void checksum_hex(char out[CHECK_HEX + 1], const char *payload, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)payload, len);
	bm_hex_encode(out, h, CHECK_HEX / 2);
	out[CHECK_HEX] = '\0';
}

int bm_stamp_encode(bm_buf *out, const bm_stamp *stamp)
{
	bm_buf payload = BM_BUF_INIT;
	char check[CHECK_HEX + 1];
	size_t i;
	int error;

	if ((error = validate(stamp)) < 0)
		goto done;
	if ((error = bm_buf_puts(&payload, "p=")) < 0 || (error = put_value(&payload, stamp->project)) < 0 ||
	    (error = bm_buf_puts(&payload, ";r=")) < 0 || (error = put_value(&payload, stamp->release)) < 0)
		goto done;
	if (has_version(stamp) &&
	    ((error = bm_buf_puts(&payload, ";v=")) < 0 || (error = put_value(&payload, stamp->version)) < 0))
		goto done;
	if ((error = bm_buf_puts(&payload, ";m=")) < 0 || (error = put_value(&payload, stamp->meta_commit)) < 0)
		goto done;
	for (i = 0; i < stamp->source_count; i++) {
		if ((error = bm_buf_puts(&payload, ";s=")) < 0 ||
		    (error = put_value(&payload, stamp->sources[i].url)) < 0 ||
		    (error = bm_buf_putc(&payload, '@')) < 0 ||
		    (error = put_value(&payload, stamp->sources[i].commit)) < 0)
			goto done;
	}
	if (payload.size > BM_STAMP_MAX_PAYLOAD) {
		error = bm_error_set(BM_ETOOBIG, "stamp payload is %zu bytes, over the bound of %u; "
				     "fewer or shorter source URLs", payload.size, BM_STAMP_MAX_PAYLOAD);
		goto done;
	}
	checksum_hex(check, payload.ptr, payload.size);
	error = bm_buf_printf(out, "%s%zu:%s:%s%s", BM_STAMP_MAGIC, payload.size, payload.ptr, check, BM_STAMP_END);
done:
	bm_buf_dispose(&payload);
	return error;
}

int bm_stamp_format_from_str(bm_stamp_format *out, const char *name)
{
	if (name && strcmp(name, "c") == 0)
		*out = BM_STAMP_FORMAT_C;
	else if (name && strcmp(name, "go-ldflags") == 0)
		*out = BM_STAMP_FORMAT_GO_LDFLAGS;
	else if (name && strcmp(name, "json") == 0)
		*out = BM_STAMP_FORMAT_JSON;
	else
		return bm_error_set(BM_EINVALID, "unknown stamp format \"%s\"; expected c, go-ldflags or json",
				    name ? name : "");
	return 0;
}

static int emit_c(bm_buf *out, const bm_stamp *s, const char *stamp)
{
	bm_buf version = BM_BUF_INIT;
	int error;
	/* Names, hex and the percent-encoded stamp need no C escaping; the version does. */
	if ((error = put_c_string(&version, has_version(s) ? s->version : "")) < 0)
		goto done;
	error = bm_buf_printf(out,
		"/* Generated by `bootmeta stamp %s %s --format c`. Do not edit.\n"
		" * Include in exactly one .c file of the program; `bootmeta trace BINARY` reads it back. */\n"
		"#ifndef BOOTMETA_STAMP_H\n"
		"#define BOOTMETA_STAMP_H\n"
		"\n"
		"#define BOOTMETA_STAMP_PROJECT \"%s\"\n"
		"#define BOOTMETA_STAMP_RELEASE \"%s\"\n"
		"#define BOOTMETA_STAMP_VERSION \"%s\"\n"
		"#define BOOTMETA_STAMP_META_COMMIT \"%s\"\n"
		"\n"
		"#if defined(__has_attribute)\n"
		"#if __has_attribute(retain)\n"
		"#define BOOTMETA_STAMP_KEEP __attribute__((used, retain))\n"
		"#endif\n"
		"#endif\n"
		"#ifndef BOOTMETA_STAMP_KEEP\n"
		"#define BOOTMETA_STAMP_KEEP __attribute__((used))\n"
		"#endif\n"
		"\n"
		"/* used/retain: kept even when nothing reads it and with --gc-sections. */\n"
		"BOOTMETA_STAMP_KEEP static const char bootmeta_stamp[] =\n"
		"\t\"%s\";\n"
		"\n"
		"#endif\n",
		s->project, s->release, s->project, s->release, version.ptr, s->meta_commit, stamp);
done:
	bm_buf_dispose(&version);
	return error;
}

static int emit_ldflags(bm_buf *out, const bm_stamp *s, const char *stamp)
{
	int error;
	if ((error = bm_buf_printf(out, "-X main.bootmetaStamp=%s -X main.bootmetaProject=%s "
				   "-X main.bootmetaRelease=%s -X main.bootmetaMetaCommit=%s",
				   stamp, s->project, s->release, s->meta_commit)) < 0)
		return error;
	if (has_version(s) && (error = put_ldflag(out, "bootmetaVersion", s->version)) < 0)
		return error;
	return bm_buf_putc(out, '\n');
}

static int json_set(json_t *obj, const char *key, json_t *value)
{
	if (!value || json_object_set_new(obj, key, value) < 0)
		return bm_error_set(BM_ENOMEM, "out of memory building JSON");
	return 0;
}

static int emit_json(bm_buf *out, const bm_stamp *s, const char *stamp)
{
	json_t *obj = json_object(), *sources = json_array();
	char *text = NULL;
	size_t i;
	int error = 0;

	if (!obj || !sources) {
		json_decref(sources);
		error = bm_error_set(BM_ENOMEM, "out of memory building JSON");
		goto done;
	}
	if ((error = json_set(obj, "format", json_string("bootmeta-stamp-v1"))) < 0 ||
	    (error = json_set(obj, "project", json_string(s->project))) < 0 ||
	    (error = json_set(obj, "release", json_string(s->release))) < 0 ||
	    (has_version(s) && (error = json_set(obj, "version", json_string(s->version))) < 0) ||
	    (error = json_set(obj, "metaCommit", json_string(s->meta_commit))) < 0 ||
	    (error = json_set(obj, "sources", sources)) < 0)
		goto done;
	for (i = 0; i < s->source_count; i++) {
		json_t *src = json_pack("{s:s, s:s}", "url", s->sources[i].url, "commit", s->sources[i].commit);
		if (!src || json_array_append_new(sources, src) < 0) {
			error = bm_error_set(BM_ENOMEM, "out of memory building JSON");
			goto done;
		}
	}
	if ((error = json_set(obj, "stamp", json_string(stamp))) < 0)
		goto done;
	if (!(text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		error = bm_error_set(BM_ENOMEM, "out of memory writing JSON");
		goto done;
	}
	if ((error = bm_buf_puts(out, text)) < 0)
		goto done;
	error = bm_buf_putc(out, '\n');
done:
	free(text);
	json_decref(obj);
	return error;
}

int bm_stamp_emit(bm_buf *out, const bm_stamp *stamp, bm_stamp_format format)
{
	bm_buf raw = BM_BUF_INIT;
	int error;
	if ((error = bm_stamp_encode(&raw, stamp)) < 0)
		goto done;
	switch (format) {
	case BM_STAMP_FORMAT_C: error = emit_c(out, stamp, raw.ptr); break;
	case BM_STAMP_FORMAT_GO_LDFLAGS: error = emit_ldflags(out, stamp, raw.ptr); break;
	case BM_STAMP_FORMAT_JSON: error = emit_json(out, stamp, raw.ptr); break;
	default: error = bm_error_set(BM_EINVALID, "unknown stamp format %d", (int)format); break;
	}
done:
	bm_buf_dispose(&raw);
	return error;
}

/* ---- decoding ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

/* Percent-decode [p, p+n) into a new string; NULL with *bad set on a bad escape or byte. */
static char *get_value(const char *p, size_t n, int *bad)
{
	char *v = malloc(n + 1), *w = v;
	size_t i;
	*bad = 0;
	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '%') {
			int hi, lo;
			if (n - i < 3) {
				*bad = 1;
				break;
			}
			hi = hexval(p[i + 1]);
			lo = hexval(p[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				*bad = 1;
				break;
			}
			*w++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (value_byte_ok(c)) {
			*w++ = (char)c;
		} else {
			*bad = 1;
			break;
		}
	}
	if (*bad) {
		free(v);
		return NULL;
	}
	*w = '\0';
	return v;
}

static int corrupt(uint64_t at, const char *what)
{
	return bm_error_set(BM_ECORRUPT, "build stamp at offset %llu: %s; the binary was truncated or "
			    "the stamp was altered: do not trust it", (unsigned long long)at, what);
}

static int add_source(bm_stamp *s, char *url, char *commit)
{
	bm_stamp_source *p;
	if (s->source_count == BM_STAMP_MAX_SOURCES)
		return BM_ETOOBIG;
	p = realloc(s->sources, (s->source_count + 1) * sizeof(*p));
	if (!p)
		return BM_ENOMEM;
	s->sources = p;
	p[s->source_count].url = url;
	p[s->source_count].commit = commit;
	s->source_count++;
	return 0;
}

/* Decode a verified payload's fields into `s`. */
static int decode_payload(bm_stamp *s, const char *payload, size_t len, uint64_t at)
{
	const char *p = payload, *end = payload + len;
	int last_key = 0;  /* enforces the order p, r, v, m, s */
	static const char order[] = "prvms";
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *field_end = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(field_end - p));
		const char *rank;
		char key, *v;
		int bad;

		if (!eq || eq == p)
			return corrupt(at, "a payload field is not key=value");
		if (eq - p != 1) {
			/* A longer key is a later addition: skip it. */
			p = semi ? semi + 1 : end;
			continue;
		}
		key = *p;
		rank = key ? strchr(order, key) : NULL;
		if (!rank) {
			p = semi ? semi + 1 : end;
			continue;
		}
		if ((int)(rank - order) + 1 < last_key || ((int)(rank - order) + 1 == last_key && key != 's'))
			return corrupt(at, "payload fields out of order or repeated");
		last_key = (int)(rank - order) + 1;
		if (key == 's') {
			/* <url>@<commit>: the '@' is the one raw '@' (the url's own are %40). */
			const char *sep = memchr(eq + 1, '@', (size_t)(field_end - eq - 1));
			char *url, *commit;
			int error;
			if (!sep)
				return corrupt(at, "a source is not <url>@<commit>");
			if (!(url = get_value(eq + 1, (size_t)(sep - eq - 1), &bad)))
				return bad ? corrupt(at, "a source url has a bad character or %-escape")
					   : bm_error_set(BM_ENOMEM, "out of memory");
			if (!(commit = get_value(sep + 1, (size_t)(field_end - sep - 1), &bad))) {
				free(url);
				return bad ? corrupt(at, "a source commit has a bad character or %-escape")
					   : bm_error_set(BM_ENOMEM, "out of memory");
			}
			if ((error = add_source(s, url, commit)) < 0) {
				free(url);
				free(commit);
				return error == BM_ETOOBIG ? corrupt(at, "more sources than the bound")
							   : bm_error_set(BM_ENOMEM, "out of memory");
			}
		} else {
			if (!(v = get_value(eq + 1, (size_t)(field_end - eq - 1), &bad)))
				return bad ? corrupt(at, "a payload value has a bad character or %-escape")
					   : bm_error_set(BM_ENOMEM, "out of memory");
			switch (key) {
			case 'p': s->project = v; break;
			case 'r': s->release = v; break;
			case 'v': s->version = v; break;
			default: s->meta_commit = v; break;
			}
		}
		p = semi ? semi + 1 : end;
		if (semi && p == end)
			return corrupt(at, "the payload ends with ';'");
	}
	/* Same checks as the writer: a forged payload with a valid check still has to be sane. */
	if (!s->project || !s->release || !s->meta_commit)
		return corrupt(at, "the payload lacks project, release or meta commit");
	if (validate(s) < 0) {
		char why[512];
		memcpy(why, bm_error_last(), sizeof(why) - 1);
		why[sizeof(why) - 1] = '\0';
		return corrupt(at, why);
	}
	return 0;
}

/* 1 when [p, p+avail) starts with the magic and a digit: a stamp candidate. */
static int is_candidate(const char *p, size_t avail)
{
	return avail > MAGIC_LEN && memcmp(p, BM_STAMP_MAGIC, MAGIC_LEN) == 0 &&
	       p[MAGIC_LEN] >= '0' && p[MAGIC_LEN] <= '9';
}

static int decode_at(bm_stamp **out, const char *text, size_t len, uint64_t at)
{
	bm_stamp *s = NULL;
	const char *p, *end = text + len, *payload;
	char check[CHECK_HEX + 1];
	size_t plen = 0, ndigits = 0;
	int error;

	*out = NULL;
	if (!is_candidate(text, len))
		return bm_error_set(BM_ENOTFOUND, "no build stamp here (expected %s<length>:)", BM_STAMP_MAGIC);
	p = text + MAGIC_LEN;
	while (p < end && *p >= '0' && *p <= '9') {
		if (++ndigits > 5 || (ndigits == 2 && plen == 0))
			return corrupt(at, "the length field is not a decimal number up to 5 digits");
		plen = plen * 10 + (size_t)(*p++ - '0');
	}
	if (p == end)
		return corrupt(at, "it ends inside the length field (truncated)");
	if (*p++ != ':')
		return corrupt(at, "the length field is not followed by ':'");
	if (plen == 0 || plen > BM_STAMP_MAX_PAYLOAD)
		return corrupt(at, "the payload length is over the bound");
	if ((size_t)(end - p) < plen + 1 + CHECK_HEX + END_LEN)
		return corrupt(at, "it is shorter than its length field says (truncated)");
	payload = p;
	p += plen;
	if (*p++ != ':')
		return corrupt(at, "the payload is not followed by ':' (its length field is wrong)");
	checksum_hex(check, payload, plen);
	if (memcmp(p, check, CHECK_HEX) != 0)
		return corrupt(at, "the SHA-256 check does not match the payload (forged or damaged)");
	p += CHECK_HEX;
	if (memcmp(p, BM_STAMP_END, END_LEN) != 0)
		return corrupt(at, "the end marker " BM_STAMP_END " is missing");
	if (!(s = calloc(1, sizeof(*s))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	s->offset = at;
	if ((error = decode_payload(s, payload, plen, at)) < 0)
		goto done;
	*out = s;
	s = NULL;
done:
	bm_stamp_free(s);
	return error;
}

int bm_stamp_decode(bm_stamp **out, const char *text, size_t len)
{
	return decode_at(out, text, len, 0);
}

int bm_stamp_find(bm_stamp **out, const void *data, size_t len)
{
	const char *base = data, *p = data, *end = base + len;
	*out = NULL;
	while (p && (size_t)(end - p) >= MAGIC_LEN) {
		const char *hit = memmem(p, (size_t)(end - p), BM_STAMP_MAGIC, MAGIC_LEN);
		if (!hit)
			break;
		if (is_candidate(hit, (size_t)(end - hit)))
			return decode_at(out, hit, (size_t)(end - hit), (uint64_t)(hit - base));
		p = hit + 1;
	}
	return bm_error_set(BM_ENOTFOUND, "no bootmeta build stamp (%s...) in %zu bytes", BM_STAMP_MAGIC, len);
}

static int pread_full(int fd, char *buf, size_t n, uint64_t off, size_t *got, const char *path)
{
	size_t done_n = 0;
	while (done_n < n) {
		ssize_t r = pread(fd, buf + done_n, n - done_n, (off_t)(off + done_n));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return bm_error_set(BM_EIO, "reading %s: %s", path, strerror(errno));
		}
		if (r == 0)
			break;
		done_n += (size_t)r;
	}
	*got = done_n;
	return 0;
}

int bm_stamp_find_file(bm_stamp **out, const char *path)
{
	char *buf = NULL, *cand = NULL;
	uint64_t off = 0;
	size_t keep = 0;
	int fd, error = 0;

	*out = NULL;
	if ((error = bm_file_open_read(&fd, path, 0)) < 0)
		return error;
	if (!(buf = malloc(CHUNK + MAGIC_LEN))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	/* buf holds `keep` bytes carried over from the previous chunk (a magic split across the
	 * boundary), then the new chunk; `off` is the file offset of buf[0]. */
	for (;;) {
		size_t got = 0, avail;
		const char *p, *hit;
		if ((error = pread_full(fd, buf + keep, CHUNK, off + keep, &got, path)) < 0)
			goto done;
		avail = keep + got;
		for (p = buf; (size_t)(buf + avail - p) >= MAGIC_LEN; p = hit + 1) {
			size_t cgot = 0;
			if (!(hit = memmem(p, (size_t)(buf + avail - p), BM_STAMP_MAGIC, MAGIC_LEN)))
				break;
			if ((size_t)(buf + avail - hit) <= MAGIC_LEN) {
				/* The byte after the magic is in the next chunk: decide there. */
				break;
			}
			if (!is_candidate(hit, (size_t)(buf + avail - hit)))
				continue;
			if (!(cand = malloc(BM_STAMP_MAX_SIZE))) {
				error = bm_error_set(BM_ENOMEM, "out of memory");
				goto done;
			}
			if ((error = pread_full(fd, cand, BM_STAMP_MAX_SIZE, off + (uint64_t)(hit - buf), &cgot, path)) < 0)
				goto done;
			error = decode_at(out, cand, cgot, off + (uint64_t)(hit - buf));
			if (error == BM_ECORRUPT)
				bm_error_prefix(error, "%s", path);
			goto done;
		}
		if (got < CHUNK)
			break;
		/* Carry the last MAGIC_LEN bytes: a magic (plus the digit after it) may straddle. */
		keep = avail < MAGIC_LEN ? avail : MAGIC_LEN;
		memmove(buf, buf + avail - keep, keep);
		off += avail - keep;
	}
	error = bm_error_set(BM_ENOTFOUND, "no bootmeta build stamp (%s...) in %s", BM_STAMP_MAGIC, path);
done:
	free(cand);
	free(buf);
	close(fd);
	return error;
}

void bm_stamp_free(bm_stamp *s)
{
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->source_count; i++) {
		free(s->sources[i].url);
		free(s->sources[i].commit);
	}
	free(s->sources);
	free(s->project);
	free(s->release);
	free(s->version);
	free(s->meta_commit);
	free(s);
}
