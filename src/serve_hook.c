/* serve_hook.c: webhook signatures (HMAC-SHA256 with libsodium, constant-time compares), push
 * payloads of GitHub and GitLab, and the bounded set of delivery ids that refuses replays
 * (serve_hook.h says what each checks). */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include <sodium.h>

#include "serve_hook.h"

/* ---- secrets and signatures ---- */

int serve_hook_secret_load(bm_buf *out, const char *path, bm_buf *err)
{
	struct stat st;
	int error;

	bm_buf_clear(err);
	bm_buf_dispose_secret(out);
	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		bm_buf_puts(err, "webhook secret file ");
		bm_text_escape(err, path, strlen(path), BM_ESCAPE_ASCII);
		bm_buf_printf(err, " may be read by %s (mode %04o): chmod 600 it",
			      st.st_mode & 070 ? "its group" : "others", (unsigned)(st.st_mode & 07777));
		return BM_EPERM;
	}
	if ((error = bm_file_read(out, path, SERVE_HOOK_SECRET_MAX + 2)) < 0) {
		bm_buf_printf(err, "webhook secret: %s", bm_error_last());
		bm_buf_dispose_secret(out);
		return error;
	}
	if (out->size && out->ptr[out->size - 1] == '\n')
		out->ptr[--out->size] = 0;
	if (out->size && out->ptr[out->size - 1] == '\r')
		out->ptr[--out->size] = 0;
	if (!out->size || out->size > SERVE_HOOK_SECRET_MAX) {
		bm_buf_printf(err, "webhook secret file %s is %s", path, out->size ? "over 4096 bytes" : "empty");
		error = out->size ? BM_ETOOBIG : BM_EINVALID;
		bm_buf_dispose_secret(out);
		return error;
	}
	return 0;
}

static void hmac(unsigned char mac[crypto_auth_hmacsha256_BYTES], const void *secret, size_t secret_len,
		 const void *body, size_t len)
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, secret, secret_len);
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

void serve_hook_sign(char out[SERVE_HOOK_SIG_LEN + 1], const void *secret, size_t secret_len, const void *body,
		     size_t len)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	hmac(mac, secret, secret_len, body, len);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, SERVE_HOOK_SIG_LEN + 1 - 7, mac, sizeof(mac));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int serve_hook_verify_github(const char *header, const void *secret, size_t secret_len, const void *body,
			     size_t len, bm_buf *err)
{
	unsigned char want[32], got[crypto_auth_hmacsha256_BYTES];
	size_t i;

	bm_buf_clear(err);
	if (!header || !*header) {
		bm_buf_puts(err, "unsigned delivery: no X-Hub-Signature-256 header (set the webhook's secret)");
		return BM_EINVALID;
	}
	if (strncmp(header, "sha256=", 7) || strlen(header) != SERVE_HOOK_SIG_LEN) {
		bm_buf_puts(err, "malformed X-Hub-Signature-256: not sha256= and 64 hex digits");
		return BM_EINVALID;
	}
	for (i = 0; i < 32; i++) {
		int hi = hexval((unsigned char)header[7 + 2 * i]), lo = hexval((unsigned char)header[8 + 2 * i]);
		if (hi < 0 || lo < 0) {
			bm_buf_puts(err, "malformed X-Hub-Signature-256: not sha256= and 64 hex digits");
			return BM_EINVALID;
		}
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	hmac(got, secret, secret_len, body, len);
	if (sodium_memcmp(want, got, sizeof(got)) != 0) {
		bm_buf_puts(err, "X-Hub-Signature-256 does not match the body (another secret, or a changed body)");
		return BM_EVERIFY;
	}
	return 0;
}

int serve_hook_verify_gitlab(const char *header, const void *secret, size_t secret_len, bm_buf *err)
{
	unsigned char a[crypto_hash_sha256_BYTES], b[crypto_hash_sha256_BYTES];
	int same;

	bm_buf_clear(err);
	if (!header || !*header) {
		bm_buf_puts(err, "unsigned delivery: no X-Gitlab-Token header (set the webhook's secret token)");
		return BM_EINVALID;
	}
	crypto_hash_sha256(a, (const unsigned char *)header, strlen(header));
	crypto_hash_sha256(b, secret, secret_len);
	same = sodium_memcmp(a, b, sizeof(a)) == 0;
	sodium_memzero(b, sizeof(b));
	if (!same) {
		bm_buf_puts(err, "X-Gitlab-Token is not the webhook secret");
		return BM_EVERIFY;
	}
	return 0;
}

/* ---- push payloads ---- */

void serve_push_event_dispose(serve_push_event *e)
{
	if (!e)
		return;
	free(e->ref);
	free(e->before);
	free(e->after);
	free(e->repository);
	bm_strlist_dispose(&e->urls);
	memset(e, 0, sizeof(*e));
}

static int field_fail(bm_buf *err, int code, const char *field, const char *msg)
{
	bm_buf_clear(err);
	bm_buf_printf(err, "field \"%s\": %s", field, msg);
	return code;
}

/* A string member, as a copy; NULL/absent gives NULL (an error when `required`). */
static int get_str(char **out, bm_buf *err, json_t *obj, const char *member, const char *field, int required,
		   size_t max)
{
	json_t *v = obj ? json_object_get(obj, member) : NULL;
	int error;
	*out = NULL;
	if (!v || json_is_null(v))
		return required ? field_fail(err, BM_EINVALID, field, "missing") : 0;
	if (!json_is_string(v))
		return field_fail(err, BM_EINVALID, field, "not a string");
	if ((error = bm_text_check(json_string_value(v), json_string_length(v), BM_TEXT_LINE, max, "the value")) < 0) {
		bm_buf esc = BM_BUF_INIT;
		bm_text_escape(&esc, bm_error_last(), strlen(bm_error_last()), 0);
		error = field_fail(err, error, field, esc.ptr ? esc.ptr : "");
		bm_buf_dispose(&esc);
		return error;
	}
	if (!(*out = strndup(json_string_value(v), json_string_length(v))))
		return field_fail(err, BM_ENOMEM, field, "out of memory");
	return 0;
}

static int all_zero(const char *s)
{
	for (; *s; s++)
		if (*s != '0')
			return 0;
	return 1;
}

static int get_commit(char **out, bm_buf *err, json_t *obj, const char *member)
{
	char *p;
	int error;
	if ((error = get_str(out, err, obj, member, member, 1, 64)) < 0)
		return error;
	if (bm_commit_hash_check(*out) < 0)
		return field_fail(err, BM_EINVALID, member, "not a full commit hash (40 or 64 hex digits)");
	for (p = *out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int add_url(serve_push_event *e, bm_buf *err, json_t *obj, const char *objname, const char *member)
{
	char field[96], *url = NULL;
	size_t i;
	int error;
	snprintf(field, sizeof(field), "%s.%s", objname, member);
	if ((error = get_str(&url, err, obj, member, field, 0, 2048)) < 0 || !url)
		return error;
	if (!*url || strchr(url, ' ')) {
		error = *url ? field_fail(err, BM_EINVALID, field, "a URL has no spaces") : 0;
		free(url);
		return error;
	}
	for (i = 0; i < e->urls.count; i++)
		if (!strcmp(e->urls.items[i], url))
			break;
	if (i == e->urls.count && bm_strlist_add(&e->urls, url) < 0)
		error = field_fail(err, BM_ENOMEM, field, "out of memory");
	free(url);
	return error;
}

static int object_member(json_t **out, bm_buf *err, json_t *root, const char *member)
{
	json_t *v = json_object_get(root, member);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return field_fail(err, BM_EINVALID, member, "not an object");
	*out = v;
	return 0;
}

int serve_push_parse(serve_push_event *out, serve_hook_source source, const char *body, size_t len, bm_buf *err)
{
	static const char *const gh_urls[] = { "clone_url", "ssh_url", "git_url", "svn_url", "html_url", "url", NULL };
	static const char *const gl_project_urls[] = { "git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url",
						       NULL };
	static const char *const gl_repo_urls[] = { "git_http_url", "git_ssh_url", "url", "homepage", NULL };
	json_error_t jerr;
	json_t *root = NULL, *repo = NULL, *project = NULL, *v;
	size_t i;
	int error = 0;

	memset(out, 0, sizeof(*out));
	bm_buf_clear(err);
	out->source = source;
	if (source != SERVE_HOOK_GITHUB && source != SERVE_HOOK_GITLAB) {
		bm_buf_puts(err, "unknown webhook source");
		return BM_EINVALID;
	}
	if (len > SERVE_HOOK_BODY_MAX) {
		bm_buf_printf(err, "body: %zu bytes, over the bound of %d", len, SERVE_HOOK_BODY_MAX);
		return BM_ETOOBIG;
	}
	if (!body || !(root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr))) {
		bm_buf_puts(err, "body: not valid JSON: ");
		if (body)
			bm_text_escape(err, jerr.text, strlen(jerr.text), BM_ESCAPE_ASCII);
		return body && json_error_code(&jerr) == json_error_out_of_memory ? BM_ENOMEM : BM_EINVALID;
	}
	if (!json_is_object(root)) {
		bm_buf_puts(err, "body: not a JSON object");
		error = BM_EINVALID;
		goto done;
	}
	if (source == SERVE_HOOK_GITLAB) {
		v = json_object_get(root, "object_kind");
		if (v && (!json_is_string(v) ||
			  (strcmp(json_string_value(v), "push") && strcmp(json_string_value(v), "tag_push")))) {
			error = field_fail(err, BM_EINVALID, "object_kind", "not a push (push or tag_push)");
			goto done;
		}
	}
	if ((error = get_str(&out->ref, err, root, "ref", "ref", 1, 1024)) < 0)
		goto done;
	if (strncmp(out->ref, "refs/", 5)) {
		error = field_fail(err, BM_EINVALID, "ref", "not a full ref name (refs/heads/...)");
		goto done;
	}
	if ((error = get_commit(&out->before, err, root, "before")) < 0 ||
	    (error = get_commit(&out->after, err, root, "after")) < 0)
		goto done;
	out->created = all_zero(out->before);
	out->deleted = all_zero(out->after);
	if (source == SERVE_HOOK_GITHUB) {
		if ((v = json_object_get(root, "created")) && json_is_boolean(v))
			out->created = json_is_true(v);
		if ((v = json_object_get(root, "deleted")) && json_is_boolean(v))
			out->deleted = json_is_true(v);
		if ((error = object_member(&repo, err, root, "repository")) < 0 ||
		    (error = get_str(&out->repository, err, repo, "full_name", "repository.full_name", 0, 1024)) < 0)
			goto done;
		for (i = 0; repo && gh_urls[i]; i++)
			if ((error = add_url(out, err, repo, "repository", gh_urls[i])) < 0)
				goto done;
	} else {
		if ((error = object_member(&project, err, root, "project")) < 0 ||
		    (error = object_member(&repo, err, root, "repository")) < 0 ||
		    (error = get_str(&out->repository, err, project, "path_with_namespace", "project.path_with_namespace", 0,
				     1024)) < 0)
			goto done;
		for (i = 0; project && gl_project_urls[i]; i++)
			if ((error = add_url(out, err, project, "project", gl_project_urls[i])) < 0)
				goto done;
		for (i = 0; repo && gl_repo_urls[i]; i++)
			if ((error = add_url(out, err, repo, "repository", gl_repo_urls[i])) < 0)
				goto done;
	}
	if (!out->repository && !(out->repository = strdup(""))) {
		bm_buf_puts(err, "out of memory");
		error = BM_ENOMEM;
	}
done:
	json_decref(root);
	return error;
}

/* ---- delivery ids ---- */

typedef struct {
	uint64_t hash;
	char id[SERVE_HOOK_ID_MAX + 1];
} seen_entry;

struct serve_hook_seen {
	pthread_mutex_t lock;
	seen_entry *ring;
	size_t capacity, count, next;
};

int serve_hook_seen_new(serve_hook_seen **out, size_t capacity)
{
	serve_hook_seen *s;
	*out = NULL;
	if (capacity < 1 || capacity > 1000000)
		return BM_EINVALID;
	if (!(s = calloc(1, sizeof(*s))) || !(s->ring = calloc(capacity, sizeof(*s->ring)))) {
		free(s);
		return BM_ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->capacity = capacity;
	*out = s;
	return 0;
}

void serve_hook_seen_free(serve_hook_seen *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->ring);
	free(s);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

int serve_hook_seen_add(serve_hook_seen *s, const char *id)
{
	size_t i, n;
	uint64_t h;

	if (!id || !*id || (n = strlen(id)) > SERVE_HOOK_ID_MAX)
		return BM_EINVALID;
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return BM_EINVALID;
	h = fnv1a(id);
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->count; i++)
		if (s->ring[i].hash == h && !strcmp(s->ring[i].id, id)) {
			pthread_mutex_unlock(&s->lock);
			return 1;
		}
	s->ring[s->next].hash = h;
	memcpy(s->ring[s->next].id, id, n + 1);
	s->next = (s->next + 1) % s->capacity;
	if (s->count < s->capacity)
		s->count++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}
