/* serve_ops.c: the write kinds of `bootmeta serve` (serve_ops.h). */
#include "serve_ops.h"
#include "serve_body.h"
#include "serve_token.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- bodies: the URL's parameters, then serve_body_parse ---- */

typedef struct {
	serve_body_req body;    /* serve_body.h */
	/* the outputs of the _txn call (replaced when the transaction re-runs) */
	Bootmeta__V1__ChannelEntry *entry;
	Bootmeta__V1__Release *release;
	Bootmeta__V1__Binary *binary;
	Bootmeta__V1__InstanceReport *report;
	bm_config_changes changes;
	bm_flag_change flag;
	bm_log_entry *log;
	Bootmeta__V1__Webhook *hook;
	const char **recipients;  /* hook: the body's and serve's own (prepare_hook) */
	unsigned hooks_max;       /* hook: serve --hooks-max */
	char *hook_prefix;        /* hook-rm: the hook's prefix at the tip (scope_hook_rm) */
} op_req;

static int parse_kind(void **out, serve_kind kind, const serve_params *pp, const char *body, size_t len, bm_buf *err)
{
	serve_body_url url = { pp->project, pp->channel, pp->release, pp->env, pp->flag, pp->instance, pp->hook };
	op_req *r;

	*out = NULL;
	if (!(r = calloc(1, sizeof(*r)))) {
		bm_buf_puts(err, "out of memory");
		return -1;
	}
	if (serve_body_parse(&r->body, kind, &url, body, len, err) < 0) {
		serve_body_req_dispose(&r->body);
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

#define PARSER(name, kind)                                                                                     \
	static int name(void **out, const serve_params *pp, const char *body, size_t len, bm_buf *err)         \
	{                                                                                                      \
		return parse_kind(out, kind, pp, body, len, err);                                              \
	}
PARSER(parse_promote, SERVE_KIND_PROMOTE)
PARSER(parse_release, SERVE_KIND_RELEASE)
PARSER(parse_binary, SERVE_KIND_BINARY)
PARSER(parse_config, SERVE_KIND_CONFIG)
PARSER(parse_flag, SERVE_KIND_FLAG)
PARSER(parse_log, SERVE_KIND_LOG)
PARSER(parse_report, SERVE_KIND_REPORT)
PARSER(parse_hook, SERVE_KIND_HOOK)
PARSER(parse_hook_rm, SERVE_KIND_HOOK_RM)

static void op_dispose(void *req)
{
	op_req *r = req;
	serve_body_req_dispose(&r->body);
	bm_meta_free(r->entry);
	bm_meta_free(r->release);
	bm_meta_free(r->binary);
	bm_meta_free(r->report);
	bm_config_changes_dispose(&r->changes);
	bm_flag_change_dispose(&r->flag);
	bm_log_entry_free(r->log);
	bm_record_free(r->hook ? &r->hook->base : NULL);
	free(r->recipients);
	free(r->hook_prefix);
	free(r);
}

/* ---- scope targets and If-Match paths ---- */

/* The folders the write's target lives in, from the library's path builders. */
static int target_promote(char **out, const void *req)
{
	const op_req *r = req;
	bm_buf p = BM_BUF_INIT;
	int error = bm_path_channel(&p, r->body.promote.project, r->body.promote.channel);
	*out = p.ptr;
	return error;
}

static int target_config(char **out, const void *req)
{
	const serve_config_req *c = &((const op_req *)req)->body.config;
	bm_buf p = BM_BUF_INIT;
	int error = bm_path_config_key(&p, c->project, c->env, c->nassigns == 1 ? c->assigns[0].key : NULL);
	*out = p.ptr;
	return error;
}

static int target_flag(char **out, const void *req)
{
	const serve_flag_req *f = &((const op_req *)req)->body.flag;
	bm_buf p = BM_BUF_INIT;
	int error = bm_path_flag(&p, f->project, f->env, f->key);
	*out = p.ptr;
	return error;
}

/* ---- running them ---- */

static int record_json(bm_buf *out, const ProtobufCMessage *m)
{
	bm_pbjson_options jo = BM_PBJSON_OPTIONS_INIT;
	return bm_pbjson_write(out, m, &jo);
}

static int apply_promote(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	serve_promote_req *q = &r->body.promote;
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm_channel_promote_txn(&r->entry, txn, q->project, q->channel, q->release, &q->opts)) < 0)
		return error;
	res->seq = r->entry->seq;
	if ((error = bm_path_channel_entry(&p, q->project, q->channel, r->entry->seq)) == 0 &&
	    (error = bm_strlist_add(&res->paths, p.ptr)) == 0 && (error = record_json(&res->record, &r->entry->base)) == 0)
		error = bm_buf_printf(&res->summary, "channel promote %s %s #%llu: %s", q->project, q->channel,
				      (unsigned long long)r->entry->seq, q->release);
	bm_buf_dispose(&p);
	return error;
}

static int apply_release(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	serve_release_req *q = &r->body.release;
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm_release_add_txn(&r->release, txn, q->project, &q->opts)) < 0)
		return error;
	if ((error = bm_path_release(&p, q->project, r->release->id)) == 0 && (error = bm_strlist_add(&res->paths, p.ptr)) == 0 &&
	    (error = record_json(&res->record, &r->release->base)) == 0)
		error = bm_buf_printf(&res->summary, "release add %s %s", q->project, r->release->id);
	bm_buf_dispose(&p);
	return error;
}

static int apply_binary(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	serve_binary_req *q = &r->body.binary;
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = q->opts.signature
			     ? bm_binary_add_digest_signed_txn(&r->binary, txn, q->project, q->release, q->sha256, q->size, &q->opts)
			     : bm_binary_add_digest_txn(&r->binary, txn, q->project, q->release, q->sha256, q->size, &q->opts)) < 0)
		return error;
	if ((error = bm_path_binary(&p, q->sha256)) == 0 && (error = bm_strlist_add(&res->paths, p.ptr)) == 0 &&
	    (error = record_json(&res->record, &r->binary->base)) == 0)
		error = bm_buf_printf(&res->summary, "binary add %.16s (%s %s %s/%s)", q->sha256, q->project, q->release,
				      r->binary->os, r->binary->arch);
	bm_buf_dispose(&p);
	return error;
}

static int apply_config(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	serve_config_req *q = &r->body.config;
	size_t i;
	int rc, error = 0;
	if ((rc = bm_config_write_txn(&r->changes, txn, q->project, q->env, q->assigns, q->nassigns, &q->opts)) < 0)
		return rc;
	res->unchanged = rc == 1;
	bm_buf_puts(&res->record, "{\"changes\":[");
	for (i = 0; i < r->changes.count && !error; i++) {
		bm_config_change *c = &r->changes.items[i];
		if (i)
			bm_buf_putc(&res->record, ',');
		bm_buf_puts(&res->record, "{\"key\":");
		bm_json_escape(&res->record, c->after.key);
		bm_buf_printf(&res->record, ",\"unchanged\":%s", c->unchanged ? "true" : "false");
		if (!c->unchanged && c->after.path) {
			bm_strlist_add(&res->paths, c->after.path);
			bm_buf_puts(&res->record, ",\"path\":");
			bm_json_escape(&res->record, c->after.path);
			bm_buf_puts(&res->record, ",\"record\":");
			error = bm_config_value_record_json(&res->record, &c->after);
		}
		bm_buf_putc(&res->record, '}');
	}
	bm_buf_puts(&res->record, "]}");
	if (!error)
		error = bm_buf_printf(&res->summary, "config set %s %s (%zu keys)", q->project, q->env, q->nassigns);
	return error;
}

static int apply_flag(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	serve_flag_req *q = &r->body.flag;
	int rc, error = 0;
	if ((rc = bm_flag_write_txn(&r->flag, txn, q->project, q->env, q->key, serve_flag_edit, q, &q->opts)) < 0)
		return rc;
	res->unchanged = rc == 1;
	if (r->flag.after) {
		res->seq = r->flag.after->seq;
		if (!res->unchanged && r->flag.path)
			error = bm_strlist_add(&res->paths, r->flag.path);
		if (!error)
			error = bm_flag_to_json(&res->record, r->flag.after);
	}
	if (!error)
		error = bm_buf_printf(&res->summary, "flag set %s %s %s", q->project, q->env, q->key);
	return error;
}

static int apply_log(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	int error;
	if ((error = bm_log_add_txn(&r->log, txn, &r->body.log.spec)) < 0)
		return error;
	if ((error = bm_strlist_add(&res->paths, r->log->path)) == 0) {
		bm_buf_puts(&res->record, "{\"id\":");
		bm_json_escape(&res->record, r->log->id);
		bm_buf_puts(&res->record, ",\"kind\":");
		bm_json_escape(&res->record, r->log->kind);
		bm_buf_puts(&res->record, ",\"path\":");
		bm_json_escape(&res->record, r->log->path);
		bm_buf_putc(&res->record, '}');
		error = bm_buf_printf(&res->summary, "log add %s: %.60s", r->log->kind, r->log->message);
	}
	return error;
}

static int apply_report(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	serve_report_req *q = &r->body.report;
	bm_instance_report_spec spec = BM_INSTANCE_REPORT_SPEC_INIT;
	bm_buf p = BM_BUF_INIT;
	int rc, error = 0;
	spec.env = q->env;
	spec.instance = q->instance;
	spec.project = q->project;
	spec.release = q->release;
	spec.state = (bm_instance_state)q->state;
	spec.acted_on = q->meta_commit;
	spec.error = q->error;
	spec.os = q->os;
	spec.arch = q->arch;
	spec.agent_version = q->agent_version;
	if ((rc = bm_instance_report_txn(&r->report, txn, &spec)) < 0)
		return rc;
	res->unchanged = rc == 1;
	if (r->report) {
		res->seq = r->report->seq;
		if ((error = bm_path_instance_report(&p, q->env, q->instance, q->project, r->report->seq)) == 0 &&
		    (error = bm_strlist_add(&res->paths, p.ptr)) == 0)
			error = record_json(&res->record, &r->report->base);
	}
	if (!error)
		error = bm_buf_printf(&res->summary, "instance report %s %s %s: %s %s", q->env, q->instance, q->project,
				      serve_report_state_name(q->state), q->release);
	bm_buf_dispose(&p);
	return error;
}

/* a subscription's record as serve's answers have it: without its secret (serve_record_json) */
static int hook_json(bm_buf *out, Bootmeta__V1__Webhook *h)
{
	h->secret_age.len = 0;
	return record_json(out, &h->base);
}

/* hook: serve's own recipients join the body's (a secret serve cannot read delivers nothing;
 * they live as long as serve) */
static int prepare_hook(serve *s, void *req, serve_answer *a)
{
	op_req *r = req;
	bm_webhook_add_spec *spec = &r->body.hook.spec;
	size_t i, j, n = spec->nrecipients;
	if (!n && !s->hook_recipients.count) {
		serve_answer_error(a, 400, BM_EINVALID, "field \"recipients\": serve was started without --identity, so "
							"give the age public key of the serve that delivers it");
		return -1;
	}
	if (!(r->recipients = calloc(n + s->hook_recipients.count + 1, sizeof(*r->recipients)))) {
		serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		r->recipients[i] = spec->recipients[i];
	for (j = 0; j < s->hook_recipients.count; j++) {
		for (i = 0; i < n && strcmp(r->recipients[i], s->hook_recipients.items[j]); i++)
			;
		if (i == n)
			r->recipients[n++] = s->hook_recipients.items[j];
	}
	if (n > BM_WEBHOOK_RECIPIENTS_MAX) {
		serve_answer_error(a, 400, BM_EINVALID, "field \"recipients\": %zu with serve's own, over the bound of %d", n,
				   BM_WEBHOOK_RECIPIENTS_MAX);
		return -1;
	}
	spec->recipients = r->recipients;
	spec->nrecipients = n;
	r->hooks_max = s->hooks_max;
	return 0;
}

/* hook-rm: the token's scope is checked on the hook's prefix, read at the tip */
static int scope_hook_rm(serve *s, void *req, serve_answer *a)
{
	op_req *r = req;
	bm_store *st = serve_thread_store(s);
	Bootmeta__V1__Webhook *h = NULL;
	bm_fs *fs = NULL;
	bm_oid tip;
	int error;
	if (!st || (error = bm_store_tip(&tip, st)) < 0 || (error = bm_store_fs(&fs, st, &tip)) < 0 ||
	    ((error = bm_webhook_read(&h, NULL, fs, r->body.hook_rm.id)) < 0 && error != BM_ENOTFOUND)) {
		serve_answer_error(a, 503, 0, "serve could not read the hook: %s", st ? bm_error_last() : "no repo");
		bm_fs_free(fs);
		bm_error_clear();
		return -1;
	}
	bm_error_clear();
	if (h && !(r->hook_prefix = strdup(h->prefix ? h->prefix : ""))) {
		serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
		error = -1;
	}
	r->body.hook_rm.prefix = r->hook_prefix;
	bm_record_free(h ? &h->base : NULL);
	bm_fs_free(fs);
	return error < 0 && error != BM_ENOTFOUND ? -1 : 0;
}

static int apply_hook(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	bm_buf p = BM_BUF_INIT;
	bm_webhook_item *items = NULL;
	size_t live = 0;
	int error;
	/* bounded: each live subscription is a sender thread in every serve of the repo */
	if ((error = bm_webhook_list(&items, &live, bm_txn_fs(txn), 0)) < 0)
		return error;
	bm_webhook_list_free(items, live);
	if (live >= r->hooks_max)
		return bm_error_set(BM_ECONFLICT, "the repo has %zu live webhook subscriptions, serve's bound "
						  "(--hooks-max %u): end one (DELETE /v1/hooks/{id}) or raise the bound",
				    live, r->hooks_max);
	if ((error = bm_webhook_add_txn(&r->hook, txn, &r->body.hook.spec)) < 0)
		return error;
	if ((error = bm_path_webhook(&p, r->hook->id)) == 0 && (error = bm_strlist_add(&res->paths, p.ptr)) == 0 &&
	    (error = hook_json(&res->record, r->hook)) == 0) {
		error = bm_buf_printf(&res->summary, "hook add %s: %.200s (prefix %.200s)", r->hook->id, r->hook->url,
				      *r->hook->prefix ? r->hook->prefix : "(all)");
	}
	bm_buf_dispose(&p);
	return error;
}

static int apply_hook_rm(bm_txn *txn, void *req, serve_result *res)
{
	op_req *r = req;
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm_webhook_remove_txn(&r->hook, txn, r->body.hook_rm.id)) < 0)
		return error;
	if ((error = bm_path_webhook_removed(&p, r->hook->id)) == 0 && (error = bm_strlist_add(&res->paths, p.ptr)) == 0 &&
	    (error = hook_json(&res->record, r->hook)) == 0) {
		error = bm_buf_printf(&res->summary, "hook rm %s", r->hook->id);
	}
	bm_buf_dispose(&p);
	return error;
}

/* ---- the table ---- */

static const serve_op ops[] = {
	{ "promote", "promote", 1, parse_promote, NULL, NULL, target_promote, apply_promote, op_dispose },
	{ "release", "release", 0, parse_release, NULL, NULL, NULL, apply_release, op_dispose },
	{ "binary", "binary", 1, parse_binary, NULL, NULL, NULL, apply_binary, op_dispose },
	{ "config", "config", 0, parse_config, NULL, NULL, target_config, apply_config, op_dispose },
	{ "flag", "flag", 0, parse_flag, NULL, NULL, target_flag, apply_flag, op_dispose },
	{ "log", "log", 1, parse_log, NULL, NULL, NULL, apply_log, op_dispose },
	{ "report", "report", 1, parse_report, NULL, NULL, NULL, apply_report, op_dispose },
	{ "hook", "hook", 0, parse_hook, NULL, prepare_hook, NULL, apply_hook, op_dispose },
	{ "hook-rm", "hook", 0, parse_hook_rm, scope_hook_rm, NULL, NULL, apply_hook_rm, op_dispose },
};

const serve_op *serve_op_find(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	return NULL;
}

/* ---- who may write ---- */

int serve_auth(serve *s, const serve_rq *r, const serve_op *op, const void *req, bm_buf *actor, serve_answer *a)
{
	const op_req *q = req;
	const char *verb = NULL, *bearer_hdr, *bearer = NULL;
	bm_buf target = BM_BUF_INIT, msg = BM_BUF_INIT;
	size_t blen = 0;
	int rc;

	(void)op;
	if (s->open_writes)
		return bm_buf_puts(actor, "anonymous") < 0 ? -1 : 0;
	if (!s->tokens) {
		atomic_fetch_add(&s->m.auth_401, 1);
		serve_answer_error(a, 401, BM_EPERM, "writes are off: serve was started without --tokens FILE");
		return -1;
	}
	bearer_hdr = serve_rq_header(r, "Authorization");
	if (bearer_hdr && serve_bearer_parse(&bearer, &blen, bearer_hdr) != 0) {
		bearer = NULL;
		blen = 0;
	}
	if (serve_token_target(&verb, &target, &q->body) < 0) {
		serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
		bm_buf_dispose(&target);
		return -1;
	}
	rc = serve_tokens_check(s->tokens, bearer, blen, verb, target.ptr ? target.ptr : "", actor, &msg);
	if (rc == SERVE_E401 || rc == SERVE_E403) {
		atomic_fetch_add(rc == SERVE_E401 ? &s->m.auth_401 : &s->m.auth_403, 1);
		serve_answer_error(a, (unsigned)rc, BM_EPERM, "%s", msg.ptr ? msg.ptr : "refused");
		if (rc == SERVE_E401)
			serve_answer_header(a, "WWW-Authenticate", "Bearer realm=\"bootmeta\"");
	} else if (rc < 0) {
		serve_answer_error(a, 503, rc, "%s", msg.ptr ? msg.ptr : "the token file does not load");
	}
	bm_buf_dispose(&target);
	bm_buf_dispose(&msg);
	return rc == 0 ? 0 : -1;
}
