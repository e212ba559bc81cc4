/* artifact.c: libbootmeta-net's transfers (bootmeta/artifact.h) on libcurl: uploads that
 * never overwrite (file, HTTP PUT, S3 with SigV4) and fetches that resume, retry within
 * bounds, cap the size, check the digest and only then give the file its name. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "bootmeta/artifact.h"
#include "bootmeta/meta.h"
#include "artifact_int.h"
#include "optcheck.h"

#define ERRBODY_MAX 4096
#define CHUNK (256 * 1024)
#define RETRY_DELAY_MAX_MS 8000
#define ATTEMPTS_MAX 1000 /* a hard cap, whatever the progress */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- sha256 of streamed bytes ----
 * On libcrypto (which libcurl's TLS already loads): its SHA-256 uses the CPU's SHA and
 * vector instructions and hashes 100 MiB about five times faster than libsodium's portable
 * C, which made a fetch slower than curl piped to sha256sum. */

typedef struct {
	EVP_MD_CTX *c;
} sha;

static int sha_init(sha *s)
{
	if (!s->c && !(s->c = EVP_MD_CTX_new()))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if (!EVP_DigestInit_ex(s->c, EVP_sha256(), NULL))
		return bm_error_set(BM_EIO, "libcrypto has no SHA-256");
	return 0;
}

static void sha_update(sha *s, const void *p, size_t n)
{
	if (n)
		EVP_DigestUpdate(s->c, p, n);
}

/* the digest as 64 hex digits; the state must be initialised again before the next use */
static void sha_final_hex(sha *s, char hex[65])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!EVP_DigestFinal_ex(s->c, h, &n) || n != 32)
		memset(h, 0, 32);
	bm_hex_encode(hex, h, 32);
}

static void sha_dispose(sha *s)
{
	EVP_MD_CTX_free(s->c);
	s->c = NULL;
}

/* ---- bounds and time ---- */

typedef struct {
	unsigned int connect_ms, deadline_ms, low_bytes, low_s, retries, delay_ms;
} bounds;

static void bounds_of(bounds *b, const bm_transfer_options *o)
{
	b->connect_ms = o && o->connect_timeout_ms ? o->connect_timeout_ms : 10000;
	b->deadline_ms = o && o->deadline_ms ? o->deadline_ms : 30 * 60 * 1000;
	b->low_bytes = o && o->low_speed_bytes ? o->low_speed_bytes : 1024;
	b->low_s = o && o->low_speed_seconds ? o->low_speed_seconds : 30;
	b->retries = o && o->retries ? (o->retries == BM_TRANSFER_NO_RETRIES ? 0 : o->retries) : 4;
	b->delay_ms = o && o->retry_delay_ms ? o->retry_delay_ms : 250;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- one curl handle per call ---- */

typedef struct {
	CURL *h;
	const bm_transfer_options *o;
	bounds b;
	uint64_t start_ms;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	bm_buf auth;          /* "aws:amz:REGION:s3" */
	bm_buf errbody;       /* the body of an answer that is not a success */
	bm_buf msg;           /* scratch */
	/* progress */
	const char *url;      /* for the callback */
	uint64_t base, total;
	int aborted;
} xfer;

static int xfer_init(xfer *x, const bm_transfer_options *o)
{
	static int curl_ready;
	memset(x, 0, sizeof(*x));
	x->o = o;
	bounds_of(&x->b, o);
	x->start_ms = now_ms();
	if (!curl_ready) {
		/* curl_global_init is a no-op after the first call in libcurl >= 7.84 and is
		 * thread-safe there; older ones need the caller to have called it */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return bm_error_set(BM_ERROR, "libcurl could not start (curl_global_init)");
		curl_ready = 1;
	}
	if (!(x->h = curl_easy_init()))
		return bm_error_set(BM_ENOMEM, "out of memory (curl_easy_init)");
	return 0;
}

static void xfer_dispose(xfer *x)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	curl_slist_free_all(x->headers);
	bm_buf_dispose(&x->auth);
	bm_buf_dispose(&x->errbody);
	bm_buf_dispose(&x->msg);
	x->h = NULL;
	x->headers = NULL;
}

static uint64_t remaining_ms(const xfer *x)
{
	uint64_t used = now_ms() - x->start_ms;
	return used >= x->b.deadline_ms ? 0 : x->b.deadline_ms - used;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	xfer *x = ud;
	uint64_t done, total;
	if (!x->o || !x->o->progress)
		return 0;
	if (ultotal > 0 || ulnow > 0) {
		done = (uint64_t)ulnow;
		total = (uint64_t)ultotal;
	} else {
		done = x->base + (uint64_t)(dlnow > 0 ? dlnow : 0);
		total = x->total ? x->total : (uint64_t)(dltotal > 0 ? dltotal : 0);
	}
	if (x->o->progress(x->o->progress_payload, x->url, done, total)) {
		x->aborted = 1;
		return 1;
	}
	return 0;
}

static size_t on_errbody(xfer *x, const char *p, size_t n)
{
	size_t room = x->errbody.size < ERRBODY_MAX ? ERRBODY_MAX - x->errbody.size : 0;
	bm_buf_put(&x->errbody, p, n < room ? n : room);
	return n;
}

/* Set up `x->h` for one request to `url` (an http(s) or file URL). s3: sign it, the body
 * having sha256 `payload_sha256` (NULL: no body). */
static int xfer_request(xfer *x, const char *url, int s3, const char *payload_sha256)
{
	const bm_transfer_options *o = x->o;
	uint64_t left = remaining_ms(x);
	CURL *h = x->h;

	curl_easy_reset(h);
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	bm_buf_clear(&x->errbody);
	x->errbuf[0] = '\0';
	x->url = url;
	x->aborted = 0;
	if (!left)
		return bm_error_set(BM_EREMOTE, "%s: the deadline of %u s passed", url, x->b.deadline_ms / 1000);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)x->b.connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(left > 0x7fffffff ? 0x7fffffff : left));
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)x->b.low_bytes);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)x->b.low_s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "bootmeta/" BM_VERSION);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	if (o && o->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
	if (o && o->ca_dir)
		curl_easy_setopt(h, CURLOPT_CAPATH, o->ca_dir);
	if (s3 && o && o->access_key_id && o->secret_access_key) {
		bm_buf_clear(&x->auth);
		if (bm_buf_printf(&x->auth, "aws:amz:%s:s3", o->s3_region ? o->s3_region : "us-east-1") < 0)
			return BM_ENOMEM;
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, x->auth.ptr);
		curl_easy_setopt(h, CURLOPT_USERNAME, o->access_key_id);
		curl_easy_setopt(h, CURLOPT_PASSWORD, o->secret_access_key);
		/* S3 wants the payload's sha256 in a signed header (libcurl 7.88 adds none): the
		 * empty body's here, the file's for a PUT (upload_http replaces it) */
		bm_buf_clear(&x->msg);
		if (bm_buf_printf(&x->msg, "x-amz-content-sha256: %s", payload_sha256 ? payload_sha256 : EMPTY_SHA256) < 0 ||
		    !(x->headers = curl_slist_append(x->headers, x->msg.ptr)))
			return bm_error_set(BM_ENOMEM, "out of memory");
		if (o->session_token) {
			bm_buf_clear(&x->msg);
			if (bm_buf_printf(&x->msg, "x-amz-security-token: %s", o->session_token) < 0 ||
			    !(x->headers = curl_slist_append(x->headers, x->msg.ptr)))
				return bm_error_set(BM_ENOMEM, "out of memory");
		}
	} else if (!s3) {
		/* artifact hosts redirect (to a CDN, a signed URL); the bytes are checked anyway */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
	return 0;
}

static int add_header(xfer *x, const char *line)
{
	struct curl_slist *l = curl_slist_append(x->headers, line);
	if (!l)
		return bm_error_set(BM_ENOMEM, "out of memory");
	x->headers = l;
	return 0;
}

/* The error of a finished request: curl's or the status's. `what` names the request. */
static int request_error(xfer *x, const char *what, const char *url, CURLcode rc, long status)
{
	if (x->aborted)
		return bm_error_set(BM_ERROR, "%s %s: aborted", what, url);
	if (rc == CURLE_OPERATION_TIMEDOUT && !remaining_ms(x))
		return bm_error_set(BM_EREMOTE, "%s %s: the deadline of %u s passed", what, url, x->b.deadline_ms / 1000);
	/* curl says "Operation too slow. Less than N bytes/sec transferred the last S seconds" */
	if (rc == CURLE_OPERATION_TIMEDOUT && strstr(x->errbuf, "too slow"))
		return bm_error_set(BM_EREMOTE, "%s %s: slower than %u bytes/s for %u s", what, url, x->b.low_bytes, x->b.low_s);
	if (rc != CURLE_OK)
		return bm_error_set(BM_EREMOTE, "%s %s: %s", what, url, *x->errbuf ? x->errbuf : curl_easy_strerror(rc));
	bm__error_body_text(&x->msg, x->errbody.ptr, x->errbody.size);
	return bm_error_set(bm__http_status_code(status), "%s %s: HTTP %ld%s%s%s", what, url, status, x->msg.size ? " (" : "",
			    x->msg.size ? x->msg.ptr : "", x->msg.size ? ")" : "");
}

/* a failure worth another attempt: the connection, a timeout, a 5xx or 429 */
static int retryable(CURLcode rc, long status)
{
	if (rc == CURLE_OK)
		return status >= 500 || status == 429 || status == 408;
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* pause before attempt `n` (1: the first retry), within the deadline; 0 when none is left */
static int backoff(xfer *x, unsigned int n)
{
	uint64_t d = x->b.delay_ms, left;
	while (--n && d < RETRY_DELAY_MAX_MS)
		d *= 2;
	if (d > RETRY_DELAY_MAX_MS)
		d = RETRY_DELAY_MAX_MS;
	left = remaining_ms(x);
	if (left <= d)
		return 0;
	sleep_ms(d);
	return 1;
}

/* ---- small file helpers ---- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;
	if (fd < 0)
		return bm_error_set(BM_EIO, "%s: %s", dir, strerror(errno));
	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		return bm_error_set(BM_EIO, "fsync %s: %s", dir, strerror(e));
	}
	close(fd);
	return 0;
}

/* the folder of `path` ("." when none) into `out` */
static int dir_of(bm_buf *out, const char *path)
{
	const char *s = strrchr(path, '/');
	bm_buf_clear(out);
	if (!s)
		return bm_buf_puts(out, ".");
	if (s == path)
		return bm_buf_puts(out, "/");
	return bm_buf_put(out, path, (size_t)(s - path));
}

/* ---- hashing a remote object (upload's compare) ---- */

typedef struct {
	xfer *x;
	sha st;
	uint64_t have, cap;
	int over;
} hasher;

static size_t on_hash(char *p, size_t sz, size_t n, void *ud)
{
	hasher *hs = ud;
	size_t len = sz * n;
	long status = 0;
	curl_easy_getinfo(hs->x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300)
		return on_errbody(hs->x, p, len);
	if (hs->have + len > hs->cap) {
		hs->over = 1;
		return 0;
	}
	sha_update(&hs->st, p, len);
	hs->have += len;
	return len;
}

static size_t on_discard(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	return on_errbody(x, p, sz * n);
}

/* The object at `req` (object URL `url`) exists: 0 when its bytes are `sha256`/`size`,
 * BM_EEXISTS when they are others. */
static int compare_remote(xfer *x, const char *url, const char *req, int s3, const char *sha256, uint64_t size,
			  int64_t have_len)
{
	hasher hs;
	char hex[65];
	CURLcode rc;
	long status = 0;
	int error;

	if (have_len >= 0 && (uint64_t)have_len != size)
		return bm_error_set(BM_EEXISTS, "%s exists with other bytes (%lld bytes, not %llu): an artifact is never "
				    "overwritten", url, (long long)have_len, (unsigned long long)size);
	memset(&hs, 0, sizeof(hs));
	hs.x = x;
	hs.cap = size;
	if ((error = sha_init(&hs.st)) < 0 || (error = xfer_request(x, req, s3, NULL)) < 0)
		goto done;
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_hash);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, &hs);
	if (x->headers)
		curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
	rc = curl_easy_perform(x->h);
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (hs.over) {
		error = bm_error_set(BM_EEXISTS, "%s exists with other bytes (more than %llu): an artifact is never overwritten",
				     url, (unsigned long long)size);
		goto done;
	}
	if (rc != CURLE_OK || status >= 300) {
		error = bm_error_prefix(request_error(x, "GET", req, rc, status), "%s exists; reading it back to compare: ", url);
		goto done;
	}
	sha_final_hex(&hs.st, hex);
	if (hs.have != size || strcmp(hex, sha256))
		error = bm_error_set(BM_EEXISTS, "%s exists with other bytes (%llu bytes, sha256 %s; this file: %llu bytes, %s): an "
				     "artifact is never overwritten", url, (unsigned long long)hs.have, hex,
				     (unsigned long long)size, sha256);
done:
	sha_dispose(&hs.st);
	return error;
}

/* ---- upload ---- */

typedef struct {
	int fd;
	sha st;
	uint64_t sent;
	int io_errno;
} reader;

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
	reader *r = ud;
	ssize_t got;
	do
		got = read(r->fd, p, sz * n);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		r->io_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	sha_update(&r->st, p, (size_t)got);
	r->sent += (uint64_t)got;
	return (size_t)got;
}

static int upload_http(xfer *x, const char *url, const bm__url *u, const char *sha256, uint64_t size, const char *path)
{
	const bm_transfer_options *o = x->o;
	bm_buf req = BM_BUF_INIT;
	int s3 = u->scheme == BM_URL_S3, error = 0, fd = -1;
	unsigned int attempt = 0;
	curl_off_t clen = -1;
	long status = 0;
	CURLcode rc;
	reader r;

	memset(&r, 0, sizeof(r));
	if (s3) {
		if ((error = bm__s3_request_url(&req, o ? o->s3_endpoint : NULL, o ? o->s3_region : NULL, u->bucket, u->path)) < 0)
			goto done;
	} else if ((error = bm_buf_puts(&req, url)) < 0) {
		goto done;
	}
	/* 1. is it there already? */
	for (;;) {
		if ((error = xfer_request(x, req.ptr, s3, NULL)) < 0)
			goto done;
		curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_discard);
		curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
		if (x->headers)
			curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
		rc = curl_easy_perform(x->h);
		status = 0;
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		if (retryable(rc, status) && !x->aborted && attempt < x->b.retries && backoff(x, ++attempt))
			continue;
		break;
	}
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
		error = compare_remote(x, url, req.ptr, s3, sha256, size, clen);
		goto done;
	}
	/* 404: not there. S3 answers 403 for a missing key to a caller without s3:ListBucket:
	 * then the PUT says whether the keys may write */
	if (rc != CURLE_OK || (status != 404 && !(s3 && status == 403))) {
		error = request_error(x, "HEAD", req.ptr, rc, status);
		goto done;
	}
	/* 2. PUT, refusing to replace */
	attempt = 0;
	for (;;) {
		r.sent = 0;
		r.io_errno = 0;
		if (fd >= 0)
			close(fd);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			error = bm_error_set(errno == ENOENT ? BM_ENOTFOUND : BM_EIO, "%s: %s", path, strerror(errno));
			goto done;
		}
		r.fd = fd;
		if ((error = sha_init(&r.st)) < 0)
			goto done;
		if ((error = xfer_request(x, req.ptr, s3, sha256)) < 0 || (error = add_header(x, "If-None-Match: *")) < 0)
			goto done;
		curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
		curl_easy_setopt(x->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(x->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
		curl_easy_setopt(x->h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(x->h, CURLOPT_READDATA, &r);
		curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_discard);
		curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
		rc = curl_easy_perform(x->h);
		status = 0;
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		if (r.io_errno) {
			error = bm_error_set(BM_EIO, "reading %s: %s", path, strerror(r.io_errno));
			goto done;
		}
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			char hex[65];
			sha_final_hex(&r.st, hex);
			if (r.sent != size || strcmp(hex, sha256))
				error = bm_error_set(BM_EVERIFY, "%s changed while it was uploaded to %s: upload it again", path, url);
			goto done;
		}
		if (rc == CURLE_OK && status == 412) {
			/* someone put it between our HEAD and PUT: compare what is there now */
			error = compare_remote(x, url, req.ptr, s3, sha256, size, -1);
			goto done;
		}
		if (retryable(rc, status) && !x->aborted && attempt < x->b.retries && backoff(x, ++attempt))
			continue;
		error = request_error(x, "PUT", req.ptr, rc, status);
		goto done;
	}
done:
	if (fd >= 0)
		close(fd);
	sha_dispose(&r.st);
	bm_buf_dispose(&req);
	return error;
}

/* make every folder of `dir` (absolute) that is missing; fsync the parent of each made */
static int mkdirs(const char *dir)
{
	bm_buf p = BM_BUF_INIT, parent = BM_BUF_INIT;
	const char *s = dir;
	int error = 0;
	while (!error && (s = strchr(s + 1, '/')) != NULL) {
		bm_buf_clear(&p);
		if ((error = bm_buf_put(&p, dir, (size_t)(s - dir))) < 0)
			break;
		if (mkdir(p.ptr, 0755) == 0) {
			if ((error = dir_of(&parent, p.ptr)) < 0 || (error = fsync_dir(parent.ptr)) < 0)
				break;
		} else if (errno != EEXIST) {
			error = bm_error_set(errno == EACCES ? BM_EPERM : BM_EIO, "mkdir %s: %s", p.ptr, strerror(errno));
		}
	}
	if (!error) {
		if (mkdir(dir, 0755) == 0) {
			if ((error = dir_of(&parent, dir)) == 0)
				error = fsync_dir(parent.ptr);
		} else if (errno != EEXIST) {
			error = bm_error_set(errno == EACCES ? BM_EPERM : BM_EIO, "mkdir %s: %s", dir, strerror(errno));
		}
	}
	bm_buf_dispose(&p);
	bm_buf_dispose(&parent);
	return error;
}

static int compare_local(const char *url, const char *file, const char *sha256, uint64_t size)
{
	char hex[65];
	uint64_t have;
	int error;
	if ((error = bm_file_sha256(hex, &have, file)) < 0)
		return bm_error_prefix(error, "%s exists; reading it to compare: ", url);
	if (have != size || strcmp(hex, sha256))
		return bm_error_set(BM_EEXISTS, "%s exists with other bytes (%llu bytes, sha256 %s; this file: %llu bytes, %s): an "
				    "artifact is never overwritten", url, (unsigned long long)have, hex, (unsigned long long)size,
				    sha256);
	return 0;
}

static int upload_file(const char *url, const bm__url *u, const char *sha256, uint64_t size, const char *path)
{
	bm_buf dir = BM_BUF_INIT, tmp = BM_BUF_INIT;
	sha st = { NULL };
	char hex[65], *buf = NULL;
	uint64_t copied = 0;
	struct stat sb;
	int in = -1, out = -1, error, e;
	ssize_t n;

	if ((error = dir_of(&dir, u->path)) < 0)
		goto done;
	if (lstat(u->path, &sb) == 0) {
		error = compare_local(url, u->path, sha256, size);
		goto done;
	}
	if ((error = mkdirs(dir.ptr)) < 0)
		goto done;
	if ((error = bm_buf_printf(&tmp, "%s/.%s.tmp-%ld-%08x", dir.ptr, strrchr(u->path, '/') + 1, (long)getpid(),
				   (unsigned)randombytes_random())) < 0)
		goto done;
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = bm_error_set(errno == ENOENT ? BM_ENOTFOUND : BM_EIO, "%s: %s", path, strerror(errno));
		goto done;
	}
	if ((out = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		error = bm_error_set(errno == EACCES ? BM_EPERM : BM_EIO, "%s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	if (!(buf = malloc(CHUNK))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = sha_init(&st)) < 0)
		goto done;
	for (;;) {
		n = read(in, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = bm_error_set(BM_EIO, "reading %s: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		sha_update(&st, buf, (size_t)n);
		if (write_all(out, buf, (size_t)n) < 0) {
			error = bm_error_set(BM_EIO, "writing %s: %s", tmp.ptr, strerror(errno));
			goto done;
		}
		copied += (uint64_t)n;
	}
	sha_final_hex(&st, hex);
	if (copied != size || strcmp(hex, sha256)) {
		error = bm_error_set(BM_EVERIFY, "%s changed while it was copied to %s: upload it again", path, url);
		goto done;
	}
	if (fsync(out) < 0 || (e = close(out), out = -1, e) < 0) {
		error = bm_error_set(BM_EIO, "fsync %s: %s", tmp.ptr, strerror(errno));
		goto done;
	}
	/* never replace: a writer that got there first wins, and we compare with it */
	if (renameat2(AT_FDCWD, tmp.ptr, AT_FDCWD, u->path, RENAME_NOREPLACE) < 0) {
		e = errno;
		if (e == EINVAL || e == ENOSYS) { /* a file system without RENAME_NOREPLACE */
			if (link(tmp.ptr, u->path) == 0) {
				unlink(tmp.ptr);
				e = 0;
			} else {
				e = errno;
			}
		}
		if (e == EEXIST) {
			unlink(tmp.ptr);
			error = compare_local(url, u->path, sha256, size);
			goto done;
		}
		if (e) {
			error = bm_error_set(BM_EIO, "rename %s to %s: %s", tmp.ptr, u->path, strerror(e));
			goto done;
		}
	}
	bm_buf_clear(&tmp);
	error = fsync_dir(dir.ptr);
done:
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	if (tmp.size)
		unlink(tmp.ptr);
	free(buf);
	sha_dispose(&st);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&tmp);
	return error;
}

int bm_artifact_upload(bm_buf *out_url, const char *base_url, const char *project, const char *sha256,
		       const char *file_name, const char *path, const bm_transfer_options *opts)
{
	bm_buf url = BM_BUF_INIT;
	bm__url u = BM__URL_INIT;
	char hex[65];
	uint64_t size;
	xfer x;
	int error;

	memset(&x, 0, sizeof(x));
	if ((error = BM_OPTS_CHECK(opts, BM_TRANSFER_OPTIONS_VERSION, "bm_transfer_options")) < 0)
		return error;
	if (!path)
		return bm_error_set(BM_EINVALID, "bm_artifact_upload: no file");
	if (sha256 && (error = bm_sha256_check(sha256)) < 0)
		return error;
	/* the URL and names first: a bad one is refused before the file is read */
	if ((error = bm__artifact_object_url(&url, base_url, project,
					     sha256 ? sha256 : "0000000000000000000000000000000000000000000000000000000000000000",
					     file_name)) < 0)
		goto done;
	if ((error = bm_file_sha256(hex, &size, path)) < 0)
		goto done;
	if (sha256 && strcmp(hex, sha256)) {
		error = bm_error_set(BM_EVERIFY, "%s has sha256 %s, not %s: nothing uploaded", path, hex, sha256);
		goto done;
	}
	if ((error = bm__artifact_object_url(&url, base_url, project, hex, file_name)) < 0 ||
	    (error = bm__url_parse(&u, url.ptr)) < 0)
		goto done;
	if (u.scheme == BM_URL_FILE) {
		error = upload_file(url.ptr, &u, hex, size, path);
	} else {
		if ((error = xfer_init(&x, opts)) < 0)
			goto done;
		error = upload_http(&x, url.ptr, &u, hex, size, path);
	}
	if (!error && out_url) {
		bm_buf_clear(out_url);
		error = bm_buf_puts(out_url, url.ptr);
	}
done:
	xfer_dispose(&x);
	bm__url_dispose(&u);
	bm_buf_dispose(&url);
	return error;
}

/* ---- fetch ---- */

void bm_artifact_result_dispose(bm_artifact_result *r)
{
	if (!r)
		return;
	bm_buf_dispose(&r->url);
	bm_buf_dispose(&r->failures);
	memset(r, 0, sizeof(*r));
}

typedef struct {
	xfer *x;
	int fd;
	const char *part;
	sha st;
	uint64_t have, size;
	int over, io_errno, http;
	uint64_t stale;  /* bytes that were in the .part before this call */
} sink;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	sink *k = ud;
	size_t len = sz * n;
	long status = 0;
	if (k->http) {
		curl_easy_getinfo(k->x->h, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status >= 300)
			return on_errbody(k->x, p, len);
	}
	if (len > k->size - k->have) {
		k->over = 1;
		return 0;
	}
	if (write_all(k->fd, p, len) < 0) {
		k->io_errno = errno;
		return 0;
	}
	sha_update(&k->st, p, len);
	k->have += len;
	return len;
}

/* start the .part over: empty, hash reset */
static int sink_reset(sink *k)
{
	int error;
	if ((error = sha_init(&k->st)) < 0)
		return error;
	if (ftruncate(k->fd, 0) < 0 || lseek(k->fd, 0, SEEK_SET) < 0)
		return bm_error_set(BM_EIO, "%s: %s", k->part, strerror(errno));
	k->have = 0;
	k->stale = 0;
	return 0;
}

/* take up a .part a killed fetch left: hash what it holds */
static int sink_resume(sink *k)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	if (fstat(k->fd, &sb) < 0)
		return bm_error_set(BM_EIO, "%s: %s", k->part, strerror(errno));
	if ((uint64_t)sb.st_size > k->size)
		return sink_reset(k);
	if ((n = sha_init(&k->st)) < 0)
		return (int)n;
	if (!(buf = malloc(CHUNK)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	k->have = 0;
	/* no more than the size it had: a .part that grows while it is read, or one that is
	 * not a regular file (a device reads forever), must not keep this loop going */
	while (k->have < (uint64_t)sb.st_size &&
	       (n = read(k->fd, buf, (size_t)((uint64_t)sb.st_size - k->have < CHUNK ? (uint64_t)sb.st_size - k->have : CHUNK))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return bm_error_set(BM_EIO, "reading %s: %s", k->part, strerror(errno));
		}
		sha_update(&k->st, buf, (size_t)n);
		k->have += (uint64_t)n;
	}
	free(buf);
	return 0;
}

static void note_failure(bm_artifact_result *r)
{
	bm_buf_puts(&r->failures, bm_error_last());
	bm_buf_putc(&r->failures, '\n');
}

/* One URL, with its retries. 0: the .part holds the whole file, digest checked. Else the
 * error; *next says whether another URL may be tried. */
static int fetch_one(xfer *x, sink *k, const char *url, const Bootmeta__V1__Binary *b, bm_artifact_result *r, int *next)
{
	const bm_transfer_options *o = x->o;
	bm__url u = BM__URL_INIT;
	bm_buf req = BM_BUF_INIT;
	unsigned int tries = 0, attempts = 0;
	int s3 = 0, error;

	*next = 1;
	if ((error = bm__url_parse(&u, url)) < 0) {
		error = bm_error_prefix(error, "%s: ", url);
		goto done;
	}
	if (u.scheme == BM_URL_S3) {
		s3 = 1;
		if ((error = bm__s3_request_url(&req, o ? o->s3_endpoint : NULL, o ? o->s3_region : NULL, u.bucket, u.path)) < 0)
			goto done;
	} else if ((error = bm_buf_puts(&req, url)) < 0) {
		goto done;
	}
	k->http = u.scheme != BM_URL_FILE;
	for (;;) {
		uint64_t before = k->have;
		long status = 0;
		CURLcode rc;

		if (k->have == k->size)
			break;
		if (++attempts > ATTEMPTS_MAX) {
			error = bm_error_set(BM_EREMOTE, "GET %s: %d attempts without the whole file", req.ptr, ATTEMPTS_MAX);
			goto done;
		}
		if ((error = xfer_request(x, req.ptr, s3, NULL)) < 0) {
			*next = 0;
			goto done;
		}
		r->attempts++;
		x->base = k->have;
		x->total = k->size;
		curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(x->h, CURLOPT_WRITEDATA, k);
		if (x->headers)
			curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
		if (!k->have) /* (curl compares a resumed file:// with its whole size) */
			curl_easy_setopt(x->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)k->size);
		if (k->have) {
			curl_easy_setopt(x->h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)k->have);
			r->resumed_bytes += k->have;
		}
		rc = curl_easy_perform(x->h);
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		if (k->io_errno) {
			error = bm_error_set(BM_EIO, "writing %s: %s", k->part, strerror(k->io_errno));
			*next = 0;
			goto done;
		}
		if (rc == CURLE_FILESIZE_EXCEEDED)
			k->over = 1;
		if (k->over) {
			k->over = 0;
			error = bm_error_set(BM_EVERIFY, "GET %s: the server sent more than the %llu bytes the record says: refused",
					     req.ptr, (unsigned long long)k->size);
			sink_reset(k);
			goto done;
		}
		if (x->aborted) {
			error = request_error(x, "GET", req.ptr, rc, status);
			*next = 0;
			goto done;
		}
		if (rc == CURLE_OK && (!k->http || (status >= 200 && status < 300))) {
			if (k->have == k->size)
				break;
			/* a clean end short of the size: ask for the rest */
			error = bm_error_set(BM_EREMOTE, "GET %s: the answer ended after %llu of %llu bytes", req.ptr,
					     (unsigned long long)k->have, (unsigned long long)k->size);
		} else if (rc == CURLE_RANGE_ERROR || (rc == CURLE_OK && status == 416)) {
			/* the server cannot resume (or the object is shorter): start over once */
			error = bm_error_set(BM_EREMOTE, "GET %s: the server did not resume at byte %llu (%s)", req.ptr,
					     (unsigned long long)k->have, rc == CURLE_OK ? "HTTP 416" : "no byte ranges");
			if (sink_reset(k) < 0) {
				*next = 0;
				goto done;
			}
			if (status == 416 && before == 0) {
				error = bm_error_set(BM_EVERIFY, "GET %s: HTTP 416 for the whole object", req.ptr);
				goto done;
			}
		} else {
			error = request_error(x, "GET", req.ptr, rc, status);
			if (!remaining_ms(x)) {
				*next = 0;
				goto done;
			}
			if (!retryable(rc, status))
				goto done;
		}
		note_failure(r);
		/* a broken connection that brought bytes does not use up a retry; one that was
		 * slow, or brought nothing, does */
		if (k->have > before && !(rc == CURLE_OPERATION_TIMEDOUT))
			continue;
		if (tries >= x->b.retries)
			goto noted;
		r->retries++;
		if (!backoff(x, ++tries)) {
			error = bm_error_prefix(BM_EREMOTE, "GET %s: the deadline of %u s passes before the next attempt", req.ptr,
						x->b.deadline_ms / 1000);
			*next = 0;
			goto done;
		}
	}
	/* the whole file: check it against the record */
	{
		char hex[65];
		/* (every path on from here initialises the state again: sink_reset) */
		sha_final_hex(&k->st, hex);
		if (strcmp(hex, b->sha256) && k->stale) {
			/* the .part a killed fetch left held other bytes (another binary fetched to
			 * the same name): download it whole, once */
			k->stale = 0;
			if ((error = sink_reset(k)) < 0) {
				*next = 0;
				goto done;
			}
			bm__url_dispose(&u);
			bm_buf_dispose(&req);
			return fetch_one(x, k, url, b, r, next);
		}
		if (strcmp(hex, b->sha256)) {
			error = bm_error_set(BM_EVERIFY, "%s: the file has sha256 %s, the record says %s: refused", url, hex,
					     b->sha256);
			sink_reset(k);
			goto done;
		}
	}
	error = 0;
	goto done;
noted:
	/* out of retries: the last attempt's failure (noted already) is the error */
	bm__url_dispose(&u);
	bm_buf_dispose(&req);
	return error;
done:
	if (error < 0)
		note_failure(r);
	bm__url_dispose(&u);
	bm_buf_dispose(&req);
	return error;
}

int bm_artifact_fetch(bm_artifact_result *out, const char *dest, const Bootmeta__V1__Binary *b,
		      const bm_transfer_options *opts)
{
	bm_artifact_result local = BM_ARTIFACT_RESULT_INIT, *r = out ? out : &local;
	bm_buf part = BM_BUF_INIT, dir = BM_BUF_INIT, all = BM_BUF_INIT;
	sink k;
	xfer x;
	size_t i;
	int error, worst = 0, keep_part = 0, e;

	memset(&x, 0, sizeof(x));
	memset(&k, 0, sizeof(k));
	k.fd = -1;
	if (out)
		bm_artifact_result_dispose(out);
	if ((error = BM_OPTS_CHECK(opts, BM_TRANSFER_OPTIONS_VERSION, "bm_transfer_options")) < 0)
		return error;
	if (!dest || !*dest || !b)
		return bm_error_set(BM_EINVALID, "bm_artifact_fetch: no destination or no record");
	if ((error = bm_sha256_check(b->sha256)) < 0)
		return bm_error_prefix(error, "the record's sha256: ");
	if (!b->n_urls)
		return bm_error_set(BM_EINVALID, "binary %s has no URL to fetch it from (record it with --url or --upload)",
				    b->sha256);
	if ((error = bm_buf_printf(&part, "%s.part", dest)) < 0 || (error = dir_of(&dir, dest)) < 0)
		goto done;
	k.part = part.ptr;
	k.size = b->size;
	if ((k.fd = open(part.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		error = bm_error_set(errno == EACCES ? BM_EPERM : errno == ENOENT ? BM_ENOTFOUND : BM_EIO, "%s: %s", part.ptr,
				     strerror(errno));
		goto done;
	}
	if (flock(k.fd, LOCK_EX | LOCK_NB) < 0) {
		error = bm_error_set(BM_ECONFLICT, "%s: another fetch is writing it", part.ptr);
		close(k.fd);
		k.fd = -1;
		goto done;
	}
	if ((error = sink_resume(&k)) < 0 || (error = xfer_init(&x, opts)) < 0)
		goto done;
	k.stale = k.have;
	k.x = &x;
	for (i = 0; i < b->n_urls; i++) {
		int next = 1;
		error = fetch_one(&x, &k, b->urls[i], b, r, &next);
		if (!error) {
			bm_buf_clear(&r->url);
			if ((error = bm_buf_puts(&r->url, b->urls[i])) < 0)
				goto done;
			break;
		}
		if (error == BM_EVERIFY || worst != BM_EVERIFY)
			worst = error;
		if (bm_buf_printf(&all, "%s%s", all.size ? "; " : "", bm_error_last()) < 0) {
			error = BM_ENOMEM;
			goto done;
		}
		if (!next)
			break;
	}
	if (error < 0) {
		/* a transport failure with bytes on disk: keep them for the next call */
		keep_part = worst != BM_EVERIFY && error != BM_EIO && k.have > 0 && k.have < k.size;
		if (all.ptr)
			error = bm_error_set(worst ? worst : error, "fetching %s: %s", b->sha256, all.ptr);
		else
			error = bm_error_prefix(worst ? worst : error, "fetching %s", b->sha256);
		goto done;
	}
	if (fsync(k.fd) < 0) {
		error = bm_error_set(BM_EIO, "fsync %s: %s", part.ptr, strerror(errno));
		goto done;
	}
	e = close(k.fd);
	k.fd = -1;
	if (e < 0) {
		error = bm_error_set(BM_EIO, "close %s: %s", part.ptr, strerror(errno));
		goto done;
	}
	if (opts && opts->verify && (error = opts->verify(opts->verify_payload, part.ptr)) < 0)
		goto done;
	if (rename(part.ptr, dest) < 0) {
		error = bm_error_set(BM_EIO, "rename %s to %s: %s", part.ptr, dest, strerror(errno));
		goto done;
	}
	bm_buf_clear(&part);
	if ((error = fsync_dir(dir.ptr)) < 0)
		goto done;
	r->bytes = k.size;
done:
	if (error < 0 && part.size && !keep_part)
		unlink(part.ptr);
	if (k.fd >= 0)
		close(k.fd);
	sha_dispose(&k.st);
	xfer_dispose(&x);
	bm_buf_dispose(&part);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&all);
	bm_artifact_result_dispose(&local);
	return error;
}
