/* serve_hooks_in.c: webhooks into `bootmeta serve`: POST /v1/hooks/git takes a push event of
 * GitHub (X-Hub-Signature-256 over the raw body, X-GitHub-Delivery) or GitLab
 * (X-Gitlab-Token, X-Gitlab-Event-UUID), checked with --webhook-secret-file's secret
 * (src/serve_hook.c: constant time) before anything reads the body; a delivery id seen
 * before is a replay. A push to main makes serve look at the upstream soon
 * (serve_upstream_fetch_soon), and its watchers and webhooks get what came in. Every
 * refusal is counted (bootmeta_webhook_in_total) and logged. Also the start and stop of
 * both webhook sides and their routes (the outgoing side is serve_hooks_out.c). */
#include "serve.h"
#include "serve_hook.h"

#include <stdlib.h>
#include <string.h>

#define SEEN_CAP 100000 /* delivery ids remembered against replays */

enum { IN_ACCEPTED, IN_IGNORED, IN_UNSIGNED, IN_FORGED, IN_REPLAYED, IN_BAD, IN_N };
static const char *const in_names[IN_N] = { "accepted", "ignored", "unsigned", "forged", "replayed", "bad" };

struct serve_hooks_in {
	bm_buf secret;
	serve_hook_seen *seen;
	atomic_ullong n[IN_N];
};

static int in_start(serve *s)
{
	struct serve_hooks_in *in;
	bm_buf err = BM_BUF_INIT;
	if (!s->webhook_secret_file)
		return 0;
	if (!(in = calloc(1, sizeof(*in)))) {
		serve_log("error", "webhook-in", "error=\"out of memory\"");
		return -1;
	}
	if (serve_hook_secret_load(&in->secret, s->webhook_secret_file, &err) < 0 ||
	    serve_hook_seen_new(&in->seen, SEEN_CAP) < 0) {
		serve_log("error", "webhook-in", "file=%s error=\"%s\"", s->webhook_secret_file,
			  err.ptr ? err.ptr : bm_error_last());
		bm_buf_dispose(&err);
		bm_buf_dispose_secret(&in->secret);
		serve_hook_seen_free(in->seen);
		free(in);
		return -1;
	}
	bm_buf_dispose(&err);
	s->hin = in;
	return 0;
}

static void in_stop(serve *s)
{
	if (!s->hin)
		return;
	bm_buf_dispose_secret(&s->hin->secret);
	serve_hook_seen_free(s->hin->seen);
	free(s->hin);
	s->hin = NULL;
}

int serve_hooks_start(serve *s)
{
	if (in_start(s) < 0)
		return -1;
	if (serve_hooks_out_start(s) < 0) {
		in_stop(s);
		return -1;
	}
	return 0;
}

void serve_hooks_stop(serve *s)
{
	serve_hooks_out_stop(s);
	in_stop(s);
}

int serve_hooks_route(const char *url)
{
	return !strcmp(url, "/v1/hooks") || !strncmp(url, "/v1/hooks/", 10);
}

/* A refusal: counted, logged, answered. */
static void refuse(serve *s, serve_answer *a, int why, unsigned status, int code, const char *src, const char *msg)
{
	atomic_fetch_add(&s->hin->n[why], 1);
	serve_log("warn", "webhook-in", "source=%s result=%s status=%u error=\"%s\"", src, in_names[why], status, msg);
	serve_answer_error(a, status, code, "%s", msg);
}

static void git_hook(serve *s, const serve_rq *r, const char *body, size_t len, serve_answer *a)
{
	const char *gl_token = serve_rq_header(r, "X-Gitlab-Token");
	const char *gl_event = serve_rq_header(r, "X-Gitlab-Event");
	const char *gh_sig = serve_rq_header(r, "X-Hub-Signature-256");
	const char *gh_event = serve_rq_header(r, "X-GitHub-Event");
	const char *src, *id, *event;
	serve_hook_source source;
	serve_push_event ev;
	bm_buf err = BM_BUF_INIT;
	int rc;

	memset(&ev, 0, sizeof(ev));
	if (gl_token || (gl_event && !gh_sig)) {
		source = SERVE_HOOK_GITLAB;
		src = "gitlab";
		rc = serve_hook_verify_gitlab(gl_token, s->hin->secret.ptr, s->hin->secret.size, &err);
		id = serve_rq_header(r, "X-Gitlab-Event-UUID");
		event = gl_event;
	} else if (gh_sig || gh_event) {
		source = SERVE_HOOK_GITHUB;
		src = "github";
		rc = serve_hook_verify_github(gh_sig, s->hin->secret.ptr, s->hin->secret.size, body, len, &err);
		id = serve_rq_header(r, "X-GitHub-Delivery");
		event = gh_event;
	} else {
		refuse(s, a, IN_UNSIGNED, 401, BM_EPERM, "unknown",
		       "unsigned delivery: no X-Hub-Signature-256 (GitHub) or X-Gitlab-Token (GitLab) header");
		goto done;
	}
	if (rc == BM_EVERIFY) {
		refuse(s, a, IN_FORGED, 403, BM_EVERIFY, src, err.ptr ? err.ptr : "the signature does not match");
		goto done;
	}
	if (rc < 0) {
		refuse(s, a, IN_UNSIGNED, 401, BM_EPERM, src, err.ptr ? err.ptr : "unsigned delivery");
		goto done;
	}
	/* signed: now the delivery id, so only signed deliveries take room in the set */
	if (!id) {
		refuse(s, a, IN_BAD, 400, BM_EINVALID, src,
		       source == SERVE_HOOK_GITHUB ? "no X-GitHub-Delivery header: a delivery needs its id"
						   : "no X-Gitlab-Event-UUID header: a delivery needs its id");
		goto done;
	}
	if ((rc = serve_hook_seen_add(s->hin->seen, id)) == 1) {
		bm_buf msg = BM_BUF_INIT;
		bm_buf_printf(&msg, "delivery %.128s was taken already: a replay is refused", id);
		refuse(s, a, IN_REPLAYED, 409, BM_ECONFLICT, src, msg.ptr);
		bm_buf_dispose(&msg);
		goto done;
	}
	if (rc < 0) {
		refuse(s, a, IN_BAD, 400, BM_EINVALID, src, "the delivery id is empty, too long or not printable ASCII");
		bm_error_clear();
		goto done;
	}
	if (source == SERVE_HOOK_GITHUB && event && !strcmp(event, "ping")) {
		atomic_fetch_add(&s->hin->n[IN_IGNORED], 1);
		bm_buf_puts(&a->body, "{\"event\":\"ping\",\"delivery\":");
		bm_json_escape(&a->body, id);
		bm_buf_puts(&a->body, "}\n");
		goto done;
	}
	if (!event || (source == SERVE_HOOK_GITHUB ? strcmp(event, "push")
						   : strcmp(event, "Push Hook") && strcmp(event, "Tag Push Hook"))) {
		atomic_fetch_add(&s->hin->n[IN_IGNORED], 1);
		bm_buf_puts(&a->body, "{\"ignored\":true,\"reason\":\"only push events are taken\",\"event\":");
		bm_json_escape(&a->body, event ? event : "");
		bm_buf_puts(&a->body, "}\n");
		goto done;
	}
	if (serve_push_parse(&ev, source, body, len, &err) < 0) {
		refuse(s, a, IN_BAD, 400, BM_EINVALID, src, err.ptr ? err.ptr : "the push payload does not parse");
		bm_error_clear();
		goto done;
	}
	if (strcmp(ev.ref, "refs/heads/main")) {
		atomic_fetch_add(&s->hin->n[IN_IGNORED], 1);
		bm_buf_puts(&a->body, "{\"ignored\":true,\"reason\":\"the meta repo is its main branch\",\"ref\":");
		bm_json_escape(&a->body, ev.ref);
		bm_buf_puts(&a->body, "}\n");
		goto done;
	}
	serve_upstream_fetch_soon(s);
	atomic_fetch_add(&s->hin->n[IN_ACCEPTED], 1);
	serve_log("info", "webhook-in", "source=%s result=accepted delivery=\"%.128s\" ref=%s after=%s", src, id, ev.ref,
		  ev.after);
	a->status = 202;
	bm_buf_puts(&a->body, "{\"accepted\":true,\"fetch\":\"soon\",\"delivery\":");
	bm_json_escape(&a->body, id);
	bm_buf_puts(&a->body, ",\"ref\":");
	bm_json_escape(&a->body, ev.ref);
	bm_buf_printf(&a->body, ",\"before\":\"%s\",\"after\":\"%s\"}\n", ev.before, ev.after);
done:
	serve_push_event_dispose(&ev);
	bm_buf_dispose(&err);
}

int serve_hooks_http(serve *s, const serve_rq *r, const char *body, size_t len, serve_answer *a)
{
	const char *url = r->url;
	if (!serve_hooks_route(url))
		return 1;
	if (!strcmp(url, "/v1/hooks/git")) {
		if (strcmp(r->method, "POST")) {
			serve_answer_error(a, 405, 0, "%s takes POST", url);
			serve_answer_header(a, "Allow", "POST");
			return 0;
		}
		if (!s->hin) {
			serve_answer_error(a, 404, 0, "webhooks in are off: start serve with --webhook-secret-file FILE");
			return 0;
		}
		if (len > SERVE_HOOK_BODY_MAX) {
			serve_answer_error(a, 413, BM_ETOOBIG, "a webhook body is at most %d bytes", SERVE_HOOK_BODY_MAX);
			return 0;
		}
		git_hook(s, r, body, len, a);
		return 0;
	}
	return serve_hooks_out_http(s, r, a);
}

void serve_hooks_metrics(serve *s, bm_buf *out)
{
	int i;
	bm_buf_puts(out, "# HELP bootmeta_webhook_in_total Webhook deliveries to POST /v1/hooks/git, by result.\n"
			 "# TYPE bootmeta_webhook_in_total counter\n");
	for (i = 0; i < IN_N; i++) {
		unsigned long long v = s->hin ? (unsigned long long)atomic_load(&s->hin->n[i]) : 0ULL;
		bm_buf_printf(out, "bootmeta_webhook_in_total{result=\"%s\"} %llu\n", in_names[i], v);
	}
	serve_hooks_out_metrics(s, out);
}
