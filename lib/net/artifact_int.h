/* artifact_int.h: the parts of libbootmeta-net with no network in them (artifact_url.c):
 * reading storage URLs, building object URLs and S3 request URLs, reading an S3 error
 * body. Not installed; the unit test (tests/unit/test_artifact_url.c) and the fuzz target
 * (tests/fuzz/fuzz_artifact_url.c) call them through the static archive. */
#ifndef BM_ARTIFACT_INT_H
#define BM_ARTIFACT_INT_H

#include "bootmeta/common.h"

typedef enum { BM_URL_FILE = 1, BM_URL_HTTP, BM_URL_HTTPS, BM_URL_S3 } bm__url_scheme;

/* A storage URL, split. Parts point into `buf` (owned). */
typedef struct {
	bm__url_scheme scheme;
	char *path;     /* file: the absolute path ("/dir/x"); s3: the key ("" for a bucket);
			 * http(s): the whole URL */
	char *bucket;   /* s3 only */
	bm_buf buf;
} bm__url;
#define BM__URL_INIT { 0, NULL, NULL, BM_BUF_INIT }
void bm__url_dispose(bm__url *u);

/* Split `url` (a base for an upload, or a record's object URL). Refused with BM_EINVALID and
 * the reason: another scheme, a query or fragment, spaces, control or non-ASCII bytes, '%'
 * escapes (names here never need them), a "." or ".." segment, an empty host, a file URL
 * that is not absolute or names a host other than localhost, an S3 bucket name outside
 * S3's rules (3 to 63 of [a-z0-9.-], starting and ending with a letter or digit).
 * Trailing slashes are dropped; for s3 the key has no leading or trailing '/'. */
int bm__url_parse(bm__url *out, const char *url);

/* "<base>/<project>/<sha256>/<name>", the base with its trailing slashes dropped; the base
 * is checked with bm__url_parse, the names with their checks. */
int bm__artifact_object_url(bm_buf *out, const char *base, const char *project, const char *sha256,
			    const char *name);

/* The HTTP URL of S3 object `key` (may be "") of `bucket`: with `endpoint`
 * ("http(s)://HOST[:PORT]", optionally with a path), ENDPOINT/BUCKET/KEY; without,
 * https://BUCKET.s3.REGION.amazonaws.com/KEY (region NULL: us-east-1). BM_EINVALID for an
 * endpoint that is not http(s) or has a query. */
int bm__s3_request_url(bm_buf *out, const char *endpoint, const char *region, const char *bucket, const char *key);

/* The message of an S3 (or any) error body of `len` bytes: "Code: Message" from
 * <Code>..</Code> and <Message>..</Message> when present (the usual XML entities decoded),
 * else the body's first line; at most 300 bytes, bytes outside printable ASCII as '?'. Empty
 * when the body is empty. */
int bm__error_body_text(bm_buf *out, const char *body, size_t len);

/* The BM_E* code for an HTTP status that is not a success: 401/403 BM_EPERM, 404
 * BM_ENOTFOUND, 412 BM_EEXISTS, anything else BM_EREMOTE. */
int bm__http_status_code(long status);

#endif
