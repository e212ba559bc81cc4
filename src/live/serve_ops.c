/* serve_ops.c: the write kinds of `bootmeta serve` (serve_ops.h). */
#include "serve_ops.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- strict JSON bodies ---- */

static int body_object(json_t **out, const char *body, size_t len, const char *const *allowed, bm_buf *err)
{
	json_error_t je;
	const char *k;
	json_t *v;
	*out = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!*out) {
		bm_buf_printf(err, "the body is not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
		return -1;
	}
	if (!json_is_object(*out)) {
		bm_buf_puts(err, "the body must be a JSON object");
		goto bad;
	}
	json_object_foreach(*out, k, v) {
		size_t i;
		for (i = 0; allowed[i]; i++)
			if (!strcmp(k, allowed[i]))
				break;
		if (!allowed[i]) {
			bm_buf_puts(err, "field ");
			bm_json_escape(err, k);
			bm_buf_puts(err, ": unknown field");
			goto bad;
		}
	}
	return 0;
bad:
	json_decref(*out);
	*out = NULL;
	return -1;
}

/* A string field: NULL when absent (error when `required`). */
static int str_field(const char **out, json_t *o, const char *name, int required, bm_buf *err)
{
	json_t *v = json_object_get(o, name);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required) {
			bm_buf_printf(err, "field \"%s\": required", name);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		bm_buf_printf(err, "field \"%s\": must be a string", name);
		return -1;
	}
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v)) {
		bm_buf_printf(err, "field \"%s\": holds a NUL character", name);
		return -1;
	}
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- promote ---- */

typedef struct {
	char *project, *channel, *release, *reason;
	Bootmeta__V1__ChannelEntry *entry;
} promote_req;

static int promote_parse(void **out, const serve_params *pp, const char *body, size_t len, bm_buf *err)
{
	static const char *const allowed[] = { "release", "reason", "project", "channel", NULL };
	promote_req *r;
	json_t *o;
	const char *release, *reason, *project, *channel;
	*out = NULL;
	if (body_object(&o, body, len, allowed, err) < 0)
		return -1;
	if (str_field(&release, o, "release", 1, err) < 0 || str_field(&reason, o, "reason", 0, err) < 0 ||
	    str_field(&project, o, "project", 0, err) < 0 || str_field(&channel, o, "channel", 0, err) < 0)
		goto bad;
	if ((project && strcmp(project, pp->project)) || (channel && strcmp(channel, pp->channel))) {
		bm_buf_puts(err, "field \"project\"/\"channel\": differs from the URL's");
		goto bad;
	}
	if (bm_project_name_check(pp->project) < 0 || bm_name_validate(pp->channel, BM_NAME_CHANNEL) < 0 ||
	    bm_name_validate(release, BM_NAME_RELEASE) < 0) {
		bm_buf_puts(err, bm_error_last());
		goto bad;
	}
	if (!(r = calloc(1, sizeof(*r))))
		goto bad;
	r->project = strdup(pp->project);
	r->channel = strdup(pp->channel);
	r->release = strdup(release);
	r->reason = dup_or_null(reason);
	json_decref(o);
	*out = r;
	return 0;
bad:
	json_decref(o);
	return -1;
}

static const char *promote_scope(const void *req)
{
	return ((const promote_req *)req)->project;
}

static int promote_target(char **out, const void *req)
{
	const promote_req *r = req;
	bm_buf p = BM_BUF_INIT;
	int error = bm_path_channel(&p, r->project, r->channel);
	*out = p.ptr;
	return error;
}

static int promote_apply(bm_txn *txn, void *req, serve_result *res)
{
	promote_req *r = req;
	bm_promote_options o = BM_PROMOTE_OPTIONS_INIT;
	bm_pbjson_options jo = BM_PBJSON_OPTIONS_INIT;
	bm_buf p = BM_BUF_INIT;
	int error;
	o.reason = r->reason;
	if ((error = bm_channel_promote_txn(&r->entry, txn, r->project, r->channel, r->release, &o)) < 0)
		return error;
	res->seq = r->entry->seq;
	if ((error = bm_path_channel_entry(&p, r->project, r->channel, r->entry->seq)) < 0 ||
	    (error = bm_strlist_add(&res->paths, p.ptr)) < 0 || (error = bm_pbjson_write(&res->record, &r->entry->base, &jo)) < 0)
		goto done;
	error = bm_buf_printf(&res->summary, "channel promote %s %s #%llu: %s", r->project, r->channel,
			      (unsigned long long)r->entry->seq, r->release);
done:
	bm_buf_dispose(&p);
	return error;
}

static void promote_dispose(void *req)
{
	promote_req *r = req;
	free(r->project);
	free(r->channel);
	free(r->release);
	free(r->reason);
	bm_meta_free(r->entry);
	free(r);
}

/* ---- the table ---- */

static const serve_op ops[] = {
	{ "promote", "promote", 1, promote_parse, promote_scope, promote_target, promote_apply, promote_dispose },
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

int serve_auth(serve *s, const serve_rq *r, const serve_op *op, const serve_params *pp, bm_buf *actor,
	       serve_answer *a)
{
	(void)r;
	(void)op;
	(void)pp;
	if (s->open_writes)
		return bm_buf_puts(actor, "anonymous") < 0 ? -1 : 0;
	atomic_fetch_add(&s->m.auth_401, 1);
	serve_answer_error(a, 401, BM_EPERM, "writes are off: serve was started without --tokens FILE");
	return -1;
}
