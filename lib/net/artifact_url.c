/* artifact_url.c: storage URLs of libbootmeta-net, without any network: splitting a file://,
 * http(s):// or s3:// URL (outside input: it comes from records and command lines, so it is
 * fuzzed), building the content-addressed object URL and the HTTP URL of an S3 object, and
 * turning an error body into one line. */
#include <stdlib.h>
#include <string.h>

#include "bootmeta/artifact.h"
#include "bootmeta/meta.h"
#include "artifact_int.h"

#define URL_MAX 4096

void bm__url_dispose(bm__url *u)
{
	bm_buf_dispose(&u->buf);
	u->path = u->bucket = NULL;
	u->scheme = 0;
}

int bm_artifact_name_check(const char *name)
{
	size_t i, n;
	if (!name || !*name)
		return bm_error_set(BM_EINVALID, "artifact file name is empty");
	n = strlen(name);
	if (n > 128)
		return bm_error_set(BM_EINVALID, "artifact file name is longer than 128 characters");
	if (name[0] == '.')
		return bm_error_set(BM_EINVALID, "artifact file name \"%.128s\" starts with '.'", name);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '-'))
			return bm_error_set(BM_EINVALID, "artifact file name: character 0x%02x at %zu is not one of [A-Za-z0-9._+-]",
					    c, i);
	}
	return 0;
}

/* 0 when every byte is printable ASCII other than space, '%', '?', '#', '\\' */
static int url_bytes_ok(const char *url)
{
	const unsigned char *p;
	for (p = (const unsigned char *)url; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return bm_error_set(BM_EINVALID, "URL has a space, control or non-ASCII byte (0x%02x) at %zu",
					    *p, (size_t)(p - (const unsigned char *)url));
		if (*p == '?' || *p == '#')
			return bm_error_set(BM_EINVALID, "URL has a query or fragment ('%c' at %zu): give the folder only",
					    *p, (size_t)(p - (const unsigned char *)url));
		if (*p == '%' || *p == '\\')
			return bm_error_set(BM_EINVALID, "URL has a '%c' (at %zu): artifact URLs use plain names",
					    *p, (size_t)(p - (const unsigned char *)url));
	}
	return 0;
}

/* 0 when no '/'-separated segment of `p` (length n) is "." or ".." */
static int segments_ok(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && p[j] != '/')
			j++;
		if ((j - i == 1 && p[i] == '.') || (j - i == 2 && p[i] == '.' && p[i + 1] == '.'))
			return bm_error_set(BM_EINVALID, "URL has a \"%.*s\" segment", (int)(j - i), p + i);
		i = j + 1;
	}
	return 0;
}

static int bucket_ok(const char *b, size_t n)
{
	size_t i;
	if (n < 3 || n > 63)
		return bm_error_set(BM_EINVALID, "S3 bucket name \"%.*s\" is not 3 to 63 characters", (int)(n > 63 ? 63 : n), b);
	for (i = 0; i < n; i++) {
		char c = b[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && c != '.' && c != '-')
			return bm_error_set(BM_EINVALID, "S3 bucket name \"%.*s\": '%c' is not one of [a-z0-9.-]", (int)n, b, c);
		if ((i == 0 || i == n - 1) && !alnum)
			return bm_error_set(BM_EINVALID, "S3 bucket name \"%.*s\" must start and end with a letter or digit",
					    (int)n, b);
	}
	return 0;
}

/* the length of `url` without its trailing slashes, never cutting into the scheme's "//" */
static size_t trimmed_len(const char *url)
{
	size_t len = strlen(url);
	size_t keep = !strncmp(url, "s3://", 5) ? 5 : !strncmp(url, "https://", 8) ? 8 : 7;
	while (len > keep && url[len - 1] == '/')
		len--;
	return len;
}

int bm__url_parse(bm__url *out, const char *url)
{
	const char *rest, *slash;
	size_t n, len;
	int error;

	bm__url_dispose(out);
	if (!url || !*url)
		return bm_error_set(BM_EINVALID, "URL is empty");
	len = strlen(url);
	if (len > URL_MAX)
		return bm_error_set(BM_EINVALID, "URL is longer than %d bytes", URL_MAX);
	if ((error = url_bytes_ok(url)) < 0)
		return error;
	/* the copy: one buffer holding the parts, NUL-separated */
	if ((error = bm_buf_grow(&out->buf, len + 2)) < 0)
		return error;
	len = trimmed_len(url);
	if (!strncmp(url, "file://", 7)) {
		rest = url + 7;
		if (!strncmp(rest, "localhost/", 10))
			rest += 9;
		if (*rest != '/')
			return bm_error_set(BM_EINVALID, "file URL \"%.200s\": give an absolute path, file:///DIR", url);
		n = (size_t)(url + len - rest);
		if (n == 0)
			return bm_error_set(BM_EINVALID, "file URL \"%.200s\" names the root folder", url);
		if ((error = segments_ok(rest, n)) < 0)
			return error;
		if (memmem(rest, n, "//", 2))
			return bm_error_set(BM_EINVALID, "file URL \"%.200s\" has an empty segment (\"//\")", url);
		memcpy(out->buf.ptr, rest, n);
		out->buf.ptr[n] = '\0';
		out->buf.size = n;
		out->path = out->buf.ptr;
		out->scheme = BM_URL_FILE;
		return 0;
	}
	if (!strncmp(url, "s3://", 5)) {
		rest = url + 5;
		n = (size_t)(url + len - rest);
		slash = memchr(rest, '/', n);
		{
			size_t bn = slash ? (size_t)(slash - rest) : n;
			const char *key = slash ? slash + 1 : rest + n;
			size_t kn = (size_t)(rest + n - key);
			if ((error = bucket_ok(rest, bn)) < 0)
				return error;
			if (kn > 0 && *key == '/') /* s3://b//x: no empty leading segment */
				return bm_error_set(BM_EINVALID, "S3 URL \"%.200s\": the key starts with '/'", url);
			if (kn && memmem(key, kn, "//", 2))
				return bm_error_set(BM_EINVALID, "S3 URL \"%.200s\" has an empty segment (\"//\")", url);
			if ((error = segments_ok(key, kn)) < 0)
				return error;
			memcpy(out->buf.ptr, rest, bn);
			out->buf.ptr[bn] = '\0';
			memcpy(out->buf.ptr + bn + 1, key, kn);
			out->buf.ptr[bn + 1 + kn] = '\0';
			out->buf.size = bn + 1 + kn;
			out->bucket = out->buf.ptr;
			out->path = out->buf.ptr + bn + 1;
		}
		out->scheme = BM_URL_S3;
		return 0;
	}
	if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
		size_t hn;
		out->scheme = url[4] == 's' ? BM_URL_HTTPS : BM_URL_HTTP;
		rest = url + (out->scheme == BM_URL_HTTPS ? 8 : 7);
		n = (size_t)(url + len - rest);
		slash = memchr(rest, '/', n);
		hn = slash ? (size_t)(slash - rest) : n;
		if (hn == 0 || memchr(rest, '@', hn))
			return bm_error_set(BM_EINVALID, "URL \"%.200s\": %s", url,
					    hn ? "credentials in the URL are not taken (give them as options)" : "no host");
		if (slash && (error = segments_ok(slash + 1, (size_t)(rest + n - slash - 1))) < 0)
			return error;
		if (slash && memmem(slash, (size_t)(rest + n - slash), "//", 2))
			return bm_error_set(BM_EINVALID, "URL \"%.200s\" has an empty segment (\"//\")", url);
		memcpy(out->buf.ptr, url, len);
		out->buf.ptr[len] = '\0';
		out->buf.size = len;
		out->path = out->buf.ptr;
		return 0;
	}
	out->scheme = 0;
	{
		const char *colon = strstr(url, "://");
		return bm_error_set(BM_EINVALID, "URL \"%.200s\": scheme %.*s is not one of file://, http://, https://, s3://",
				    url, colon ? (int)(colon - url > 20 ? 20 : colon - url) : 0, url);
	}
}

int bm_artifact_url(bm_buf *out, const char *base, const char *project, const char *sha256, const char *name)
{
	return bm__artifact_object_url(out, base, project, sha256, name);
}

int bm__artifact_object_url(bm_buf *out, const char *base, const char *project, const char *sha256, const char *name)
{
	bm__url u = BM__URL_INIT;
	size_t len;
	int error;

	if ((error = bm__url_parse(&u, base)) < 0 || (error = bm_project_name_check(project)) < 0 ||
	    (error = bm_sha256_check(sha256)) < 0 || (error = bm_artifact_name_check(name)) < 0)
		goto done;
	len = trimmed_len(base);
	bm_buf_clear(out);
	if ((error = bm_buf_put(out, base, len)) < 0)
		goto done;
	/* s3://bucket (no prefix) and s3://bucket/prefix both take "/" then the key */
	error = bm_buf_printf(out, "/%s/%s/%s", project, sha256, name);
done:
	bm__url_dispose(&u);
	return error;
}

int bm__s3_request_url(bm_buf *out, const char *endpoint, const char *region, const char *bucket, const char *key)
{
	int error;
	bm_buf_clear(out);
	if (endpoint && *endpoint) {
		size_t n = strlen(endpoint);
		if ((strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8)) || strpbrk(endpoint, "?# \t\r\n"))
			return bm_error_set(BM_EINVALID, "S3 endpoint \"%.200s\" is not an http:// or https:// URL without a query",
					    endpoint);
		while (n > 0 && endpoint[n - 1] == '/')
			n--;
		if ((error = bm_buf_put(out, endpoint, n)) < 0)
			return error;
		return bm_buf_printf(out, "/%s%s%s", bucket, *key ? "/" : "", key);
	}
	if (region && (!*region || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)))
		return bm_error_set(BM_EINVALID, "S3 region \"%.64s\" is not of [a-z0-9-]", region);
	if (strchr(bucket, '.'))
		/* a dotted bucket does not match the *.s3 certificate as a host name */
		return bm_buf_printf(out, "https://s3.%s.amazonaws.com/%s%s%s", region ? region : "us-east-1", bucket,
				     *key ? "/" : "", key);
	return bm_buf_printf(out, "https://%s.s3.%s.amazonaws.com/%s", bucket, region ? region : "us-east-1", key);
}

/* the text between <tag> and </tag> in body, or NULL */
static const char *xml_field(const char *body, size_t len, const char *tag, size_t *out_n)
{
	char open[32], close[32];
	const char *s, *e;
	int on = snprintf(open, sizeof(open), "<%s>", tag), cn = snprintf(close, sizeof(close), "</%s>", tag);
	if (!(s = memmem(body, len, open, (size_t)on)))
		return NULL;
	s += on;
	if (!(e = memmem(s, len - (size_t)(s - body), close, (size_t)cn)))
		return NULL;
	*out_n = (size_t)(e - s);
	return s;
}

/* append `n` bytes of `p` as printable ASCII, XML entities decoded, up to `room` bytes */
static int put_clean(bm_buf *out, const char *p, size_t n, size_t room)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' } };
	size_t i = 0, k, start = out->size;
	int error;
	while (i < n && out->size - start < room) {
		char c = p[i];
		size_t adv = 1;
		if (c == '&')
			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
				size_t el = strlen(ents[k].ent);
				if (n - i >= el && !memcmp(p + i, ents[k].ent, el)) {
					c = ents[k].c;
					adv = el;
					break;
				}
			}
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			c = (c == '\n' || c == '\r' || c == '\t') ? ' ' : '?';
		if ((error = bm_buf_putc(out, c)) < 0)
			return error;
		i += adv;
	}
	return 0;
}

int bm__error_body_text(bm_buf *out, const char *body, size_t len)
{
	const char *code, *msg;
	size_t cn = 0, mn = 0, n;
	int error;
	bm_buf_clear(out);
	if ((error = bm_buf_puts(out, "")) < 0)
		return error;
	if (!body || !len)
		return 0;
	code = xml_field(body, len, "Code", &cn);
	msg = xml_field(body, len, "Message", &mn);
	if (code || msg) {
		if (code && (error = put_clean(out, code, cn, 80)) < 0)
			return error;
		if (code && msg && (error = bm_buf_puts(out, ": ")) < 0)
			return error;
		if (msg && (error = put_clean(out, msg, mn, 300 - out->size)) < 0)
			return error;
		return 0;
	}
	/* the first non-empty line, tags and all (an HTML error page says little more) */
	while (len && (*body == '\n' || *body == '\r' || *body == ' ' || *body == '\t')) {
		body++;
		len--;
	}
	for (n = 0; n < len && body[n] != '\n' && body[n] != '\r'; n++)
		;
	return put_clean(out, body, n, 300);
}

int bm__http_status_code(long status)
{
	switch (status) {
	case 401:
	case 403: return BM_EPERM;
	case 404: return BM_ENOTFOUND;
	case 412: return BM_EEXISTS;
	default: return BM_EREMOTE;
	}
}
