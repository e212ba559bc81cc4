/* serve_hook.h: webhooks in and out of `bootmeta serve`.
 *
 * In (POST /v1/hooks/git): a push to the upstream meta repo, from GitHub or GitLab.
 *  - GitHub signs the raw body: `X-Hub-Signature-256: sha256=HEX`, HEX the HMAC-SHA256 of the
 *    body with the webhook secret (GitHub's "Validating webhook deliveries"). Checked in
 *    constant time before anything reads the body.
 *  - GitLab sends the secret itself: `X-Gitlab-Token: SECRET`, compared in constant time.
 *  - Each delivery has an id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`); a bounded set of the
 *    ids seen refuses a replay. Check the signature first, then the id, so only signed
 *    deliveries take room in the set.
 *  - The push payload: ref, before, after and the repository's clone URLs (serve_push_parse).
 *    Members it does not use are ignored (the payloads have many); those it uses are checked.
 *    GitHub sends `X-GitHub-Event: push` (and `ping` when a hook is made: answer 200, nothing
 *    to parse); GitLab `X-Gitlab-Event: Push Hook` / `Tag Push Hook`.
 * Out: serve signs what it POSTs the same way (serve_hook_sign), so a receiver checks it as
 * it would check GitHub's.
 *
 * Nothing here prints, exits or reads the environment. Thread-safe (the seen set locks). */
#ifndef BM_SERVE_HOOK_H
#define BM_SERVE_HOOK_H

#include <stddef.h>

#include "bootmeta.h"

/* The largest webhook body taken (GitHub caps payloads at 25 MB; a push of a meta repo is
 * far smaller): longer is BM_ETOOBIG (413). */
#define SERVE_HOOK_BODY_MAX (8 * 1024 * 1024)
/* The longest secret (bytes), and the longest delivery id. */
#define SERVE_HOOK_SECRET_MAX 4096
#define SERVE_HOOK_ID_MAX 128
/* "sha256=" and 64 hex digits. */
#define SERVE_HOOK_SIG_LEN 71

/* Read a webhook secret file: its bytes without one trailing new line (LF or CRLF). BM_EPERM
 * for a file group or others may read (it is a secret), BM_EINVALID for an empty one,
 * BM_ETOOBIG over SERVE_HOOK_SECRET_MAX, and bm_file_read's codes; message in `err`. `out`
 * holds a secret: free it with bm_buf_dispose_secret. */
int serve_hook_secret_load(bm_buf *out, const char *path, bm_buf *err);

/* `X-Hub-Signature-256` of `len` bytes of `body`: "sha256=" + the lower-case hex HMAC-SHA256
 * with `secret` (what serve sends with each outgoing delivery). */
void serve_hook_sign(char out[SERVE_HOOK_SIG_LEN + 1], const void *secret, size_t secret_len, const void *body,
		     size_t len);

/* Check a GitHub delivery: `header` is the X-Hub-Signature-256 value (NULL when absent). 0 when
 * it is the HMAC of the body with `secret` (constant-time compare; hex in either case);
 * BM_EINVALID when missing or not "sha256=" + 64 hex digits ("unsigned delivery" /
 * "malformed signature"); BM_EVERIFY when it does not match ("signature does not match the
 * body"). Message in `err` (cleared first); the secret is never in it. */
int serve_hook_verify_github(const char *header, const void *secret, size_t secret_len, const void *body,
			     size_t len, bm_buf *err) BM_WARN_UNUSED;

/* Check a GitLab delivery: `header` is the X-Gitlab-Token value (NULL when absent). 0 when it
 * equals `secret` (compared as sha256 digests in constant time, so the time says nothing of
 * the length either); BM_EINVALID when missing, BM_EVERIFY when it differs. */
int serve_hook_verify_gitlab(const char *header, const void *secret, size_t secret_len, bm_buf *err) BM_WARN_UNUSED;

typedef enum {
	SERVE_HOOK_GITHUB = 1,
	SERVE_HOOK_GITLAB = 2,
} serve_hook_source;

/* A push, as the two payloads have it. */
typedef struct {
	serve_hook_source source;
	char *ref;        /* "refs/heads/main", "refs/tags/v1" */
	char *before;     /* commit before the push: 40 or 64 lower-case hex; all zeros: created */
	char *after;      /* after: all zeros when the ref was deleted */
	int created, deleted;
	char *repository; /* GitHub repository.full_name, GitLab project.path_with_namespace ("" when none) */
	bm_strlist urls;  /* the repository's clone URLs, in the payload's order, no duplicates:
	                   * GitHub clone_url, ssh_url, git_url, svn_url, html_url, url; GitLab
	                   * project.git_http_url, git_ssh_url, http_url, ssh_url, web_url and
	                   * repository.git_http_url, git_ssh_url, url, homepage */
} serve_push_event;

/* Parse `len` bytes of a push payload from `source` into `out` (overwritten; dispose it
 * afterwards, also after an error). 0; BM_ETOOBIG over SERVE_HOOK_BODY_MAX; BM_EINVALID for
 * a body that is not a JSON object, a GitLab object_kind other than push/tag_push, or a
 * member it uses missing or bad ("field \"after\": ..."): ref a one-line text starting
 * "refs/", before/after full commit hashes, URLs one line of text without spaces, at most
 * 2048 bytes. Message in `err`. */
int serve_push_parse(serve_push_event *out, serve_hook_source source, const char *body, size_t len, bm_buf *err);
void serve_push_event_dispose(serve_push_event *e);

/* ---- replay refusal ---- */

typedef struct serve_hook_seen serve_hook_seen;

/* A set that remembers the last `capacity` delivery ids (1 .. 1,000,000). */
int serve_hook_seen_new(serve_hook_seen **out, size_t capacity);
void serve_hook_seen_free(serve_hook_seen *s);
/* 0 when `id` is new (now remembered; the oldest id is forgotten when the set is full), 1 when
 * it was seen (a replay: refuse the delivery), BM_EINVALID for an id that is empty, over
 * SERVE_HOOK_ID_MAX or not printable ASCII. */
int serve_hook_seen_add(serve_hook_seen *s, const char *id);

#endif
