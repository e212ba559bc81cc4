/* bootmeta/artifact.h: moving a binary's bytes to and from immutable storage. This is the
 * public header of libbootmeta-net (`pkg-config --cflags --libs bootmeta-net`), a library of
 * its own on top of libbootmeta and libcurl, so that programs which never move an artifact
 * (the `bootmeta` command among them) never load libcurl.
 *
 * Storage is content-addressed: a binary lives at <base>/<project>/<sha256>/<file name>, and
 * an object is written once. Schemes:
 *   file:///DIR            a folder (written to a temp name, fsync'd, renamed without
 *                          replacing, folder fsync'd)
 *   http://, https://      PUT (a WebDAV server such as nginx's dav module), GET with Range
 *   s3://BUCKET[/PREFIX]   S3 with AWS Signature V4 (libcurl's CURLOPT_AWS_SIGV4); endpoint,
 *                          region and keys come from the options
 *
 * Like libbootmeta, this library never prints, exits or reads the environment: every
 * credential, endpoint, bound and callback is in bm_transfer_options. Errors are the BM_E*
 * codes of bootmeta/common.h with a message naming the URL and the cause. */
#ifndef BOOTMETA_ARTIFACT_H
#define BOOTMETA_ARTIFACT_H

#include "common.h"
#include "bootmeta/v1/core.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called as bytes move: `done` of `total` bytes (total 0 when unknown) of the transfer to or
 * from `url`. Return nonzero to abort the transfer (it then fails with BM_ERROR, "aborted"). */
typedef int (*bm_transfer_progress_fn)(void *payload, const char *url, uint64_t done, uint64_t total);

/* Called by bm_artifact_fetch on the complete download (its size and sha256 already checked
 * against the record), before it gets its name: `path` is the temporary file, closed and
 * fsync'd. Return 0 to let it appear at the destination; a negative BM_E* code (with
 * bm_error_set) refuses it: the temporary file is removed and the fetch fails with that
 * code and message (no other URL is tried). bm_binary_verify (bootmeta/trust.h) is the check
 * an installer runs here. */
typedef int (*bm_transfer_verify_fn)(void *payload, const char *path);

typedef struct {
	unsigned int version;
	/* S3 (s3:// URLs): the endpoint, "http(s)://HOST[:PORT]" (NULL: AWS,
	 * https://s3.<region>.amazonaws.com); with an endpoint, requests are path style
	 * (ENDPOINT/BUCKET/KEY), without, virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com/KEY). */
	const char *s3_endpoint;
	const char *s3_region;            /* NULL: "us-east-1" */
	const char *access_key_id;        /* NULL: requests are not signed (a public bucket) */
	const char *secret_access_key;
	const char *session_token;        /* x-amz-security-token, or NULL */
	/* Bounds. 0 takes the default shown. */
	unsigned int connect_timeout_ms;  /* 10 s: per connection */
	unsigned int deadline_ms;         /* 30 min: the whole call, every URL and retry included */
	unsigned int low_speed_bytes;     /* 1024: a transfer slower than this many bytes a second ... */
	unsigned int low_speed_seconds;   /* 30: ... for this long is cut (and retried) */
	unsigned int retries;             /* 4: more attempts per URL after a transport failure
					   * (an attempt that moved bytes does not count);
					   * BM_TRANSFER_NO_RETRIES for none */
	unsigned int retry_delay_ms;      /* 250: the first pause between attempts; it doubles, to 8 s */
	/* TLS: CA bundle file / folder (NULL: libcurl's defaults). */
	const char *ca_file;
	const char *ca_dir;
	bm_transfer_progress_fn progress; /* or NULL */
	void *progress_payload;
	bm_transfer_verify_fn verify;     /* bm_artifact_fetch only, or NULL */
	void *verify_payload;
} bm_transfer_options;
#define BM_TRANSFER_NO_RETRIES (~0u)
#define BM_TRANSFER_OPTIONS_VERSION 1
#define BM_TRANSFER_OPTIONS_INIT { BM_TRANSFER_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, \
	0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL }

/* 0 when `name` can be the last part of an artifact's key: 1 to 128 of [A-Za-z0-9._+-], not
 * starting with '.'; else BM_EINVALID. */
BM_EXTERN int bm_artifact_name_check(const char *name);

/* The URL of the object for (project, sha256, file_name) under `base_url`:
 * "<base_url>/<project>/<sha256>/<file_name>" (one '/' between the parts). The base must be
 * a file:///, http(s):// or s3:// URL without query or fragment; the names are checked
 * (bm_project_name_check ... of bootmeta/names.h, bm_sha256_check, bm_artifact_name_check). */
BM_EXTERN int bm_artifact_url(bm_buf *out, const char *base_url, const char *project, const char *sha256,
			      const char *file_name);

/* Put the file `path` at bm_artifact_url(base_url, project, sha256, file_name) and give
 * that URL in `out_url` (may be NULL). `sha256` is the file's digest (NULL: computed here);
 * a file whose bytes do not match it is BM_EVERIFY and nothing is sent.
 * Immutable: when an object is already there with the same bytes (size and sha256 compared;
 * for S3 and HTTP it is downloaded once to be hashed) the call succeeds and writes nothing;
 * with other bytes it is BM_EEXISTS naming the URL, and the object is left as it was. HTTP
 * and S3 PUTs carry `If-None-Match: *` (a server that honours it refuses a concurrent
 * writer's overwrite too; one that does not is only protected by the check before). S3 PUTs
 * also carry the file's sha256 as x-amz-content-sha256, which S3 checks.
 * Errors: BM_EINVALID (URL, names), BM_ENOTFOUND / BM_EIO (the local file), BM_EPERM (the
 * server said 401/403: credentials), BM_EREMOTE (transport: connection, HTTP status,
 * deadline), BM_EEXISTS, BM_EVERIFY. */
BM_EXTERN int bm_artifact_upload(bm_buf *out_url, const char *base_url, const char *project, const char *sha256,
				 const char *file_name, const char *path, const bm_transfer_options *opts);

/* What bm_artifact_fetch did. */
typedef struct {
	uint64_t bytes;          /* the size of the file now at dest */
	bm_buf url;              /* the URL it came from */
	unsigned int attempts;   /* requests made in all (every URL) */
	unsigned int retries;    /* attempts after the first, per URL, summed */
	uint64_t resumed_bytes;  /* bytes not downloaded again thanks to Range requests */
	bm_buf failures;         /* one line per failed attempt: "URL: cause" */
} bm_artifact_result;
#define BM_ARTIFACT_RESULT_INIT { 0, BM_BUF_INIT, 0, 0, 0, BM_BUF_INIT }
BM_EXTERN void bm_artifact_result_dispose(bm_artifact_result *r);

/* Download binary `b` from its record's URLs (b->urls, in order) to `dest`. Bytes go to
 * "<dest>.part" (same folder; locked, so two fetches to one dest cannot interleave; one
 * left by a killed fetch is resumed); after a broken connection the same URL is asked again
 * for the rest (Range), with pauses that double, a bounded number of times, then the next
 * URL. A server that sends more than b->size bytes is cut off; every transfer has the
 * low-speed limit and the whole call the deadline of `opts`. The complete file's size and
 * sha256 are checked against the record, it is fsync'd, passed to opts->verify when set,
 * renamed to `dest` and the folder fsync'd. On any failure nothing appears at dest (an
 * existing file there is left as it was) and the .part is removed, except after a
 * transport failure with a partial download, which stays for the next call to resume.
 * `out` (may be NULL; BM_ARTIFACT_RESULT_INIT or a result used before, which is disposed
 * first) says what happened, failures included.
 * Errors: BM_EINVALID (no URL, a URL of another scheme), BM_EVERIFY (a URL gave other bytes
 * than the record: size or sha256; or more than its size), BM_ENOTFOUND (every URL answered
 * 404), BM_EPERM (401/403), BM_EREMOTE (transport: connection, status, deadline, slow
 * transfer), BM_EIO (the local file), or the code of opts->verify. When several URLs fail,
 * the message names each with its cause, and the code is BM_EVERIFY if any URL gave wrong
 * bytes, else the last URL's. */
BM_EXTERN int bm_artifact_fetch(bm_artifact_result *out, const char *dest, const Bootmeta__V1__Binary *b,
				const bm_transfer_options *opts) BM_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
