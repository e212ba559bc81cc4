/* fuzz_serve_body.c: serve's write-request bodies (src/serve_body.c). The first byte picks the
 * kind, the rest is the body. Invariants: the result is 0 or BM_EINVALID / BM_ETOOBIG; a refusal
 * has a message that starts "body: " or "field \"" and is one line of printable text (it goes
 * into a JSON error and a log line); an accepted request holds names that pass the library's
 * name checks and text that passes its text check, and a flag request's edit builds a flag. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text_ok(const char *s, bm_text_kind kind)
{
	if (s && bm_text_check(s, strlen(s), kind, 0, "fuzz") < 0)
		abort();
}

static void name_ok(const char *s, bm_name_kind kind)
{
	if (!s || bm_name_validate(s, kind) < 0)
		abort();
}

static void check_ok(const serve_body_req *r)
{
	size_t i;
	switch (r->kind) {
	case SERVE_KIND_PROMOTE:
		if (bm_project_name_check(r->promote.project) < 0)
			abort();
		name_ok(r->promote.channel, BM_NAME_CHANNEL);
		name_ok(r->promote.release, BM_NAME_RELEASE);
		text_ok(r->promote.opts.reason, BM_TEXT_LINE);
		break;
	case SERVE_KIND_RELEASE:
		if (!r->release.opts.nsources)
			abort();
		for (i = 0; i < r->release.opts.nsources; i++)
			if (r->release.opts.sources[i].dir || bm_commit_hash_check(r->release.opts.sources[i].commit) < 0)
				abort();
		break;
	case SERVE_KIND_BINARY:
		/* a signature is text the library checks when it verifies; the signer is never taken */
		if (bm_sha256_check(r->binary.sha256) < 0 || r->binary.opts.sign_key)
			abort();
		text_ok(r->binary.opts.signature, BM_TEXT_LINES);
		break;
	case SERVE_KIND_CONFIG:
		if (!r->config.nassigns || r->config.nassigns > BM_CONFIG_MAX_KEYS)
			abort();
		for (i = 0; i < r->config.nassigns; i++) {
			name_ok(r->config.assigns[i].key, BM_NAME_KEY);
			if (!r->config.assigns[i].unset) {
				bm_config_value v;
				memset(&v, 0, sizeof(v));
				if (bm_config_value_parse(&v, r->config.assigns[i].type, r->config.assigns[i].value) < 0)
					abort();
				bm_config_value_dispose(&v);
			}
		}
		break;
	case SERVE_KIND_FLAG:
		name_ok(r->flag.key, BM_NAME_KEY);
		if (r->flag.nvariants) {
			bm_flag *f = NULL;
			/* a new definition may still be refused by the flag rules (an unknown default) */
			if (serve_flag_edit(&f, NULL, (void *)&r->flag) == 0 && (!f || f->nvariants != r->flag.nvariants))
				abort();
			bm_flag_free(f);
		}
		break;
	case SERVE_KIND_LOG:
		if (bm_log_check(&r->log.spec) < 0)
			abort();
		break;
	case SERVE_KIND_REPORT:
		if (!serve_report_state_name(r->report.state) || bm_commit_hash_check(r->report.meta_commit) < 0)
			abort();
		text_ok(r->report.error, BM_TEXT_LINES);
		break;
	case SERVE_KIND_HOOK:
		/* serve adds its own recipients, so none here is fine; the rest is a spec the
		 * library takes */
		if (bm_webhook_url_check(r->hook.spec.url) < 0 || bm_webhook_prefix_check(r->hook.spec.prefix) < 0 ||
		    !r->hook.spec.secret_len || r->hook.spec.secret_len > BM_WEBHOOK_SECRET_MAX ||
		    r->hook.spec.nrecipients >= BM_WEBHOOK_RECIPIENTS_MAX)
			abort();
		text_ok(r->hook.spec.secret, BM_TEXT_LINE);
		text_ok(r->hook.spec.description, BM_TEXT_LINE);
		for (i = 0; i < r->hook.spec.nrecipients; i++)
			if (bm_age_recipient_check(r->hook.spec.recipients[i]) < 0)
				abort();
		break;
	case SERVE_KIND_HOOK_RM:
		if (bm_webhook_id_validate(r->hook_rm.id) < 0 || r->hook_rm.prefix)
			abort();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bm_buf err = BM_BUF_INIT;
	serve_body_req r;
	serve_kind kind;
	size_t i;
	int rc;
	static const serve_body_url url = { "acme/server", "stable", NULL, "prod", "k", "web-1", "0123456789abcdef" };

	if (size < 1)
		return 0;
	kind = (serve_kind)(1 + data[0] % SERVE_KIND_MAX);
	/* even first bytes: no URL names (a report is then refused); odd: a URL with names */
	rc = serve_body_parse(&r, kind, data[0] / SERVE_KIND_MAX % 2 ? &url : NULL, (const char *)data + 1, size - 1, &err);
	if (rc == 0) {
		if (r.kind != kind)
			abort();
		check_ok(&r);
	} else {
		if (rc != BM_EINVALID && rc != BM_ETOOBIG)
			abort();
		if (!err.ptr || (strncmp(err.ptr, "body: ", 6) && strncmp(err.ptr, "field \"", 7) && strncmp(err.ptr, "url: ", 5)))
			abort();
		for (i = 0; i < err.size; i++)
			if ((unsigned char)err.ptr[i] < 0x20 || err.ptr[i] == 0x7f)
				abort();
		if (bm_text_check(err.ptr, err.size, BM_TEXT_LINE, 0, "fuzz") < 0)
			abort();
	}
	serve_body_req_dispose(&r);
	bm_buf_dispose(&err);
	return 0;
}
