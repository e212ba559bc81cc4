/* serve_body.h: the JSON bodies of `bootmeta serve`'s write requests (HTTP and NATS), parsed
 * into request structs that hold the values ready for the library's write operations.
 *
 * One body is one JSON object. The parse is strict, so a bad request is refused whole before
 * anything is queued: no other JSON type at the top, no unknown field, no field of the wrong
 * JSON type, no duplicate member, every string well-formed UTF-8 without control characters
 * (new lines and tabs only where the record's field allows them) within the field's bound,
 * every name checked by the library's name rules. The message says which field and why:
 *   field "release": ... (from the name check)
 *   field "sources[1]": ...        field "set.LOG_LEVEL": ...
 * The field names are the proto3 JSON (camelCase) names `bootmeta ... --json` prints.
 *
 * Bodies by kind (? optional; every other member is refused):
 *   promote  project, channel, release, reason?
 *   release  project, sources (>= 1: "URL@COMMIT" or {"url","commit"}), id?, version?, note?,
 *            imports? ("MODULE@VERSION" or {"module","version","indirect"?})
 *   binary   project, release, sha256, size (a number or a decimal string: proto3's uint64),
 *            os, arch, urls? [URL], signature? (a .minisig text made where the file is: its
 *            trusted comment must name the sha256; bm_binary_add_digest_signed_txn).
 *   config   project, env, set? {KEY: VALUE}, unset? [KEY], reason? (at least one key). The
 *            JSON type of VALUE is the config type: string, integer (int64), other number
 *            (double), true/false (bool), object or array (json); null is refused (unset).
 *   flag     project, env, key, then as `bootmeta flag set` and `flag get --json`:
 *            variants? {NAME: VALUE} (a new definition; the JSON types must agree: bool,
 *            number, string or object), type? ("bool"|"string"|"number"|"json"; with variants),
 *            defaultVariant?, rules? [{"channel","variant"} | {"channel","weights":
 *            [{"variant","weight"}]}], removeRules? [CHANNEL], state? ("ENABLED"|"DISABLED"),
 *            allowUnknownChannels? (bool). Without variants the current version is edited.
 *   log      kind, message, project?, env?, attrs? ({K: V} or [{"key","value"}])
 *   report   project, release, metaCommit, state (downloading|installed|healthy|failed|
 *            rolled-back), error?, os?, arch?, agentVersion? (the env and instance id come from
 *            the URL: serve_body_url)
 *   hook     url, secret (1..4096 bytes of one line of text), prefix?, description?,
 *            recipients? [AGE_PUB] (serve adds the recipient of its --identity)
 *   hook-rm  id (from the URL: serve_body_url.hook); the body may be empty
 * The names a URL carries (project, channel ...) may be left out of the body: serve_body_url.
 *
 * Nothing here prints, exits or reads the environment; errors are a negative BM_E* code and a
 * message in the caller's buffer. Thread-safe: no shared state. */
#ifndef BM_SERVE_BODY_H
#define BM_SERVE_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "bootmeta.h"

/* The largest body serve_body_parse takes (bytes); a longer one is BM_ETOOBIG (HTTP 413). */
#define SERVE_BODY_MAX (1024 * 1024)

/* The kinds of write, also the verbs of token scopes (serve_token.h). */
typedef enum {
	SERVE_KIND_PROMOTE = 1,
	SERVE_KIND_RELEASE,
	SERVE_KIND_BINARY,
	SERVE_KIND_CONFIG,
	SERVE_KIND_FLAG,
	SERVE_KIND_LOG,
	SERVE_KIND_REPORT,
	SERVE_KIND_HOOK,
	SERVE_KIND_HOOK_RM,
} serve_kind;
#define SERVE_KIND_MAX SERVE_KIND_HOOK_RM

/* "promote", "release", "binary", "config", "flag", "log", "report", "hook", "hook-rm"; NULL
 * for another value. The token scope verb of both hook kinds is "hook". */
const char *serve_kind_name(serve_kind kind);
/* The kind named `name` (as serve_kind_name). 0, or BM_EINVALID (nothing in *out). */
int serve_kind_parse(serve_kind *out, const char *name);

/* Call bm_channel_promote_txn(&entry, txn, project, channel, release, &opts). */
typedef struct {
	const char *project, *channel, *release;
	bm_promote_options opts;      /* reason (NULL when none); write NULL */
} serve_promote_req;

/* Call bm_release_add_txn(&release, txn, project, &opts). */
typedef struct {
	const char *project;
	bm_release_options opts;      /* sources (url + commit, never dir), nsources >= 1, id,
	                               * release_version, note (NULL when none), imports, nimports */
} serve_release_req;

/* Call bm_binary_add_digest_txn(&binary, txn, project, release, sha256, size, &opts), or
 * bm_binary_add_digest_signed_txn when opts.signature is set. */
typedef struct {
	const char *project, *release;
	const char *sha256;           /* 64 lower-case hex digits */
	uint64_t size;
	bm_binary_options opts;       /* os, arch, urls, nurls, signature?; no sign_key */
} serve_binary_req;

/* Call bm_config_write_txn(&changes, txn, project, env, assigns, nassigns, &opts). */
typedef struct {
	const char *project, *env;
	const bm_config_assign *assigns; /* the set keys in body order, then the unset ones */
	size_t nassigns;                 /* 1 .. BM_CONFIG_MAX_KEYS; no key twice */
	bm_config_write_options opts;    /* reason; dry_run 0 */
} serve_config_req;

/* Call bm_flag_write_txn(&change, txn, project, env, key, serve_flag_edit, req, &opts). The
 * members below are what serve_flag_edit reads. */
typedef struct {
	const char *project, *env, *key;
	bm_flag_write_options opts;      /* allow_unknown_channels; dry_run 0 */
	bm_flag_type type;               /* of the variants (set when nvariants > 0) */
	const char *const *variants;     /* "name=value", as bm_flag_spec.variants */
	size_t nvariants;                /* 0: edit the current version */
	const char *default_variant;     /* NULL: keep (edit) or the first variant (new) */
	const char *const *rules;        /* "channel=variant" / "channel=v:w,v:w" */
	size_t nrules;
	const char *const *remove_rules; /* channels */
	size_t nremove_rules;
	int set_disabled;                /* -1: keep, 0: enable, 1: disable */
} serve_flag_req;

/* Call bm_log_add_txn(&entry, txn, &spec). spec is checked with bm_log_check. */
typedef struct {
	bm_log_add_spec spec;
} serve_log_req;

typedef enum {
	SERVE_REPORT_DOWNLOADING = 1,
	SERVE_REPORT_INSTALLED,
	SERVE_REPORT_HEALTHY,
	SERVE_REPORT_FAILED,
	SERVE_REPORT_ROLLED_BACK,
} serve_report_state;
/* "downloading", "installed", "healthy", "failed", "rolled-back"; NULL for another value. */
const char *serve_report_state_name(serve_report_state state);

/* An instance's report, for envs/<env>/instances/<instance>/. */
typedef struct {
	const char *env, *instance;      /* from the URL: BM_NAME_ENV; BM_NAME_INSTANCE */
	const char *project, *release;
	const char *meta_commit;         /* 40 or 64 hex digits, lower-case */
	serve_report_state state;
	const char *error;               /* NULL when none; may hold new lines (up to 4096 bytes) */
	const char *os, *arch;           /* NULL when none; [a-z0-9._-], up to 32 */
	const char *agent_version;       /* NULL when none; one line, up to 128 bytes */
} serve_report_req;

/* A webhook subscription (bm_webhook_add_txn) and its end (bm_webhook_remove_txn).
 * serve_body_req_dispose wipes the request's copy of the secret (not the caller's body, nor
 * the JSON parser's freed copy). */
typedef struct {
	bm_webhook_add_spec spec;        /* recipients: the body's, in order (maybe none) */
} serve_hook_req;
typedef struct {
	const char *id;                  /* 16 lower-case hex digits */
	const char *prefix;              /* not parsed: the hook's prefix, which serve sets from the
	                                  * record before the token check (NULL: no such hook) */
} serve_hook_rm_req;

/* A parsed request. Only the member of `kind` is set; every pointer in it points into memory
 * the request owns, valid until serve_body_req_dispose. */
typedef struct {
	serve_kind kind;
	union {
		serve_promote_req promote;
		serve_release_req release;
		serve_binary_req binary;
		serve_config_req config;
		serve_flag_req flag;
		serve_log_req log;
		serve_report_req report;
		serve_hook_req hook;
		serve_hook_rm_req hook_rm;
	};
	/* owned memory (private) */
	bm_strlist strings_;
	void **mem_;
	size_t nmem_;
} serve_body_req;

/* The names a write's URL carries (NULL: not in this URL), e.g. POST
 * /v1/projects/{project}/channels/{channel}/promote. A name given here is checked by the same
 * rules as in a body ("url: project: ..." when it fails) and is used; the body may then leave
 * that field out or repeat it, the same (else "field \"project\": \"a\" differs from the
 * URL's \"b\""). Which kind takes which: project (all but report: its project is the body's),
 * channel (promote), release (promote; release: the body's "id"; binary), env (config, flag,
 * log, report), key (flag), instance (report), hook (hook-rm: the id). A report needs env
 * and instance here. */
typedef struct {
	const char *project, *channel, *release, *env, *key, *instance, *hook;
} serve_body_url;

/* Parse `len` bytes of `body` (need not be NUL-terminated) as a request of `kind` into `out`
 * (any content: it is overwritten; call serve_body_req_dispose on it afterwards, also after an
 * error), with the names of the request's URL (`url` may be NULL: none). 0 on success. Else a
 * negative code with the message in `err` (cleared first): BM_ETOOBIG for a body over
 * SERVE_BODY_MAX ("body: N bytes, over the bound of ..."), BM_EINVALID for a bad body ("body:
 * ..." for the whole, "field \"NAME\": ..." for a member, "url: NAME: ..." for the URL's),
 * BM_ENOMEM. On an error `out` holds nothing to use. The message is one line of printable
 * text; what it quotes of the input is escaped (\xNN). */
int serve_body_parse(serve_body_req *out, serve_kind kind, const serve_body_url *url, const char *body, size_t len,
		     bm_buf *err);

/* Free what `req` owns and zero it (a zeroed request is fine; NULL is fine). */
void serve_body_req_dispose(serve_body_req *req);

/* The bm_flag_edit_fn of a flag request (`payload` is the const serve_flag_req *): with
 * variants, a new flag from them (bm_flag_from_spec; the disabled state is kept from the
 * current version unless `state` set it); without, an edit of the current version (default,
 * rules, removed rules, state), BM_ENOTFOUND when the flag does not exist yet. */
int serve_flag_edit(bm_flag **next, const bm_flag *current, void *payload);

#endif
