/* serve_token.h: the bearer tokens of `bootmeta serve`: the token file, scopes, and the check
 * of a request's token (401 / 403) that serve makes before it queues a write.
 *
 * The token file (`serve --tokens FILE`, written by `bootmeta serve token add|rm`) holds one
 * token per line, `#` starts a comment line, blank lines are skipped:
 *
 *   NAME SHA256HEX SCOPE [SCOPE...]
 *
 * NAME is the token's name, [A-Za-z0-9._-] up to 64 characters, once per file; a write made
 * with the token is recorded with NAME as its actor. SHA256HEX is the sha256 of the token
 * (64 lower-case hex digits): the file never holds a token itself, so reading it grants
 * nothing. A token is "bmt_" and 43 characters of URL-safe base64 (32 random bytes). The file
 * must not be writable by group or others (BM_EPERM); `serve token` writes it with mode 0600.
 *
 * A SCOPE is VERB:PATTERN. The verb is the kind of write it allows, the pattern says on what:
 *
 *   promote:P   release:P   binary:P   log:P      P matches the project (a log entry that names
 *                                                 no project has the project "")
 *   config:P[@E]   flag:P[@E]                     P matches the project, E the env (no @E:
 *                                                 any env)
 *   report:E                                      E matches the env of the reporting instance
 *   hook:X                                        X matches the prefix of a webhook
 *                                                 subscription added or removed ("" for
 *                                                 one of every change: only `*` covers it)
 *   *:*                                           every write
 *
 * A pattern is a name in which `*` matches any run of characters, '/' included: `acme/\*`
 * covers acme/server and acme/tools/cli, `*` covers everything, `stage*` covers stage and
 * stage/eu. Patterns hold the characters of names ([A-Za-z0-9._+/-]) and `*`; `@` only in
 * config and flag scopes. The `*` verb takes only the pattern `*`.
 *
 * A token that is missing or matches no line is refused with 401; a token that matches but
 * has no scope covering the write, with 403. The messages say which, and never contain the
 * token. The file is read again when it changes (its inode, size, mtime or ctime), checked
 * at each request, so `serve token rm` revokes without a restart. A file that is changed
 * into one that does not load refuses every token until it is fixed (never the old table:
 * a revoke must not be undone by a typo). Nothing here prints, exits or reads the
 * environment. */
#ifndef BM_SERVE_TOKEN_H
#define BM_SERVE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "bootmeta.h"
#include "serve_body.h"

#define SERVE_TOKEN_NAME_MAX 64
#define SERVE_TOKEN_SCOPES_MAX 64      /* scopes of one token */
#define SERVE_TOKEN_PATTERN_MAX 256    /* bytes of one scope's pattern */
#define SERVE_TOKEN_FILE_MAX (1024 * 1024)
#define SERVE_TOKEN_BEARER_MAX 256     /* longest bearer token taken from a request */
#define SERVE_TOKEN_PREFIX "bmt_"
#define SERVE_TOKEN_LEN 47             /* "bmt_" + 43 base64url characters */

/* The result of serve_tokens_check besides 0 (allowed): the HTTP status to answer. */
#define SERVE_E401 401 /* missing or unknown token */
#define SERVE_E403 403 /* the token's scopes do not cover the write */

/* The verbs (the kinds of serve_body.h, and "hook"). */
#define SERVE_VERB_HOOK "hook"

/* One line of the file. */
typedef struct {
	char *name;
	unsigned char hash[32];  /* sha256 of the token */
	bm_strlist scopes;       /* as written: "promote:acme/\*" */
} serve_token_entry;

typedef struct {
	serve_token_entry *items;
	size_t count;
} serve_token_list;
#define SERVE_TOKEN_LIST_INIT { NULL, 0 }

void serve_token_list_dispose(serve_token_list *l);

/* Check one scope ("VERB:PATTERN" as above). 0, or BM_EINVALID with the reason in `err`. */
int serve_scope_check(const char *scope, bm_buf *err);
/* 1 when `scope` (valid) covers a write of `verb` on `target`, else 0. The target is what
 * serve_token_target gives: the project, "PROJECT@ENV" for config and flag, the env for
 * report, the prefix for hook. */
int serve_scope_covers(const char *scope, const char *verb, const char *target);

/* Parse the text of a token file (`len` bytes; `what` names it in messages, e.g. its path)
 * into `out` (disposed first). 0, or BM_EINVALID naming the line ("FILE:3: ..."), BM_ETOOBIG
 * (over SERVE_TOKEN_FILE_MAX), BM_ENOMEM, with the message in `err`. A name or a hash given
 * twice is BM_EINVALID. */
int serve_token_file_parse(serve_token_list *out, const char *text, size_t len, const char *what, bm_buf *err);
/* The first lines of a new token file. */
#define SERVE_TOKEN_FILE_HEADER \
	"# bootmeta serve tokens: NAME SHA256(TOKEN) SCOPE... (see bootmeta-serve(1), TOKENS).\n" \
	"# Written by `bootmeta serve token add|rm`; the tokens themselves are never stored.\n"
/* Append the line of one token ("NAME HEX SCOPE...\n") to `out`; the name and every scope
 * are checked first (BM_EINVALID with the reason in `err`). */
int serve_token_line(bm_buf *out, const char *name, const unsigned char hash[32], const char *const *scopes,
		     size_t nscopes, bm_buf *err);
/* `len` bytes of a token file's text without the line of token `name` (other lines, comments
 * included, as they are) into `out` (cleared). 0, or BM_ENOTFOUND when no line has that name. */
int serve_token_file_without(bm_buf *out, const char *text, size_t len, const char *name);

/* A new random token ("bmt_..."; SERVE_TOKEN_LEN + 1 bytes with the NUL) and its sha256. */
int serve_token_generate(char token[SERVE_TOKEN_LEN + 1], unsigned char hash[32]);
/* sha256 of `len` bytes of a token. */
void serve_token_hash(unsigned char hash[32], const char *token, size_t len);

/* The token of an `Authorization` header value: "Bearer TOKEN" (the scheme in any case, one
 * or more spaces). 0 with *token and *len pointing into `header`; SERVE_E401 when the header is
 * NULL, empty, another scheme, or holds no token. */
int serve_bearer_parse(const char **token, size_t *len, const char *header);

/* The verb and target a parsed request is checked for: *verb is serve_kind_name(req->kind)
 * ("hook" for hook and hook-rm); `target` (cleared) gets the project, "PROJECT@ENV" (config,
 * flag), the env (report: call from the URL), the log entry's project ("" when none), or the
 * webhook's prefix (hook-rm: req->hook_rm.prefix, which the caller sets; "" when none). */
int serve_token_target(const char **verb, bm_buf *target, const serve_body_req *req);

/* ---- the table serve holds ---- */

typedef struct serve_tokens serve_tokens;

/* Load the token file at `path`. 0, or a negative code with the message in `err`
 * (BM_ENOTFOUND, BM_EPERM for a file group or others may write, and those of
 * serve_token_file_parse). */
int serve_tokens_open(serve_tokens **out, const char *path, bm_buf *err);
void serve_tokens_free(serve_tokens *t);

/* Check `len` bytes of a bearer token (NULL or len 0: none was sent) for a write of `verb` on
 * `target`. Thread-safe. Reads the file again first when it changed. The token is hashed and
 * compared, in constant time (sodium_memcmp), with the hash of every line, so the time taken
 * says nothing about which token or how much of one matched.
 *   0           allowed; `name` (may be NULL; cleared) gets the token's name (the actor)
 *   SERVE_E401  no token, one no line has, or one over SERVE_TOKEN_BEARER_MAX bytes: `msg`
 *               says which ("no token: send
 *               Authorization: Bearer TOKEN" / "unknown token (revoked, or never issued)")
 *   SERVE_E403  known, but no scope covers the write: `msg` names the token, the write and
 *               the scopes it has
 *   < 0         the file changed and does not load now (BM_E* code; every token is refused
 *               until it is fixed): `msg` says why
 * `msg` (may be NULL) is cleared first. */
int serve_tokens_check(serve_tokens *t, const char *bearer, size_t len, const char *verb, const char *target,
		       bm_buf *name, bm_buf *msg);

/* How many tokens the table holds now (after the last check's reload). */
size_t serve_tokens_count(serve_tokens *t);

#endif
