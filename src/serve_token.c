/* serve_token.c: serve's token file, scopes and the bearer check (serve_token.h says what
 * they mean). The check hashes the bearer token and compares the hash with every line's in
 * constant time; the table is re-read when the file changes, under a mutex, so a revoke
 * holds for the next request on any thread. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "serve_token.h"

/* ---- names and scopes ---- */

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

static int token_name_check(const char *name, size_t len, bm_buf *err)
{
	size_t i;
	if (!len) {
		bm_buf_puts(err, "empty token name");
		return BM_EINVALID;
	}
	if (len > SERVE_TOKEN_NAME_MAX) {
		bm_buf_printf(err, "token name is %zu characters, over %d", len, SERVE_TOKEN_NAME_MAX);
		return BM_EINVALID;
	}
	for (i = 0; i < len; i++)
		if (!name_char(name[i])) {
			bm_buf_puts(err, "token name \"");
			bm_text_escape(err, name, len, BM_ESCAPE_ASCII);
			bm_buf_puts(err, "\" may only hold letters, digits and . _ - (e.g. ci-deploy)");
			return BM_EINVALID;
		}
	if (name[0] == '.' || name[0] == '-') {
		bm_buf_printf(err, "token name \"%.*s\" may not start with '%c'", (int)len, name, name[0]);
		return BM_EINVALID;
	}
	return 0;
}

static const char *const verbs[] = { "promote", "release", "binary", "config", "flag", "log", "report", "hook", "*",
				     NULL };

static int verb_with_env(const char *verb, size_t len)
{
	return (len == 6 && !memcmp(verb, "config", 6)) || (len == 4 && !memcmp(verb, "flag", 4));
}

int serve_scope_check(const char *scope, bm_buf *err)
{
	const char *colon = scope ? strchr(scope, ':') : NULL, *pat;
	size_t vlen, plen, i, ats = 0;

	bm_buf_clear(err);
	if (!scope || !colon) {
		bm_buf_puts(err, "scope \"");
		if (scope)
			bm_text_escape(err, scope, strlen(scope), BM_ESCAPE_ASCII);
		bm_buf_puts(err, "\" is not VERB:PATTERN (e.g. promote:acme/*, config:acme/*@prod, report:prod)");
		return BM_EINVALID;
	}
	vlen = (size_t)(colon - scope);
	for (i = 0; verbs[i]; i++)
		if (strlen(verbs[i]) == vlen && !memcmp(verbs[i], scope, vlen))
			break;
	if (!verbs[i]) {
		bm_buf_puts(err, "scope \"");
		bm_text_escape(err, scope, strlen(scope), BM_ESCAPE_ASCII);
		bm_buf_puts(err, "\": unknown verb; the verbs are promote, release, binary, config, flag, log, report, "
				 "hook and *");
		return BM_EINVALID;
	}
	pat = colon + 1;
	plen = strlen(pat);
	if (!plen || plen > SERVE_TOKEN_PATTERN_MAX) {
		bm_buf_printf(err, "scope \"%.*s:...\": the pattern is %s", (int)vlen, scope,
			      plen ? "over 256 characters" : "empty (* for any)");
		return BM_EINVALID;
	}
	if (vlen == 1 && strcmp(pat, "*")) {
		bm_buf_puts(err, "scope \"");
		bm_text_escape(err, scope, strlen(scope), BM_ESCAPE_ASCII);
		bm_buf_puts(err, "\": the verb * takes only the pattern * (every write); name the verbs otherwise");
		return BM_EINVALID;
	}
	for (i = 0; i < plen; i++) {
		char c = pat[i];
		if (c == '@' && verb_with_env(scope, vlen)) {
			ats++;
			continue;
		}
		if (!name_char(c) && c != '*' && c != '/' && c != '+') {
			bm_buf_puts(err, "scope \"");
			bm_text_escape(err, scope, strlen(scope), BM_ESCAPE_ASCII);
			if (c == '@')
				bm_buf_puts(err, "\": only config and flag scopes name an env (@ENV)");
			else
				bm_buf_puts(err, "\": a pattern holds the characters of names ([A-Za-z0-9._+/-]) and *");
			return BM_EINVALID;
		}
	}
	if (ats > 1 || (ats && (pat[0] == '@' || pat[plen - 1] == '@'))) {
		bm_buf_puts(err, "scope \"");
		bm_text_escape(err, scope, strlen(scope), BM_ESCAPE_ASCII);
		bm_buf_puts(err, "\": the pattern is PROJECT or PROJECT@ENV (e.g. acme/*@prod)");
		return BM_EINVALID;
	}
	return 0;
}

/* `*` matches any run of characters ('/' included); everything else itself. Linear
 * backtracking over the last star: O(len(p) * len(s)) at worst, both bounded. */
static int glob_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

int serve_scope_covers(const char *scope, const char *verb, const char *target)
{
	const char *colon = scope ? strchr(scope, ':') : NULL, *pat, *pat_at, *tgt_at;
	size_t vlen;

	if (!colon || !verb || !target)
		return 0;
	vlen = (size_t)(colon - scope);
	pat = colon + 1;
	if (vlen == 1 && scope[0] == '*')
		return !strcmp(pat, "*");
	if (strlen(verb) != vlen || memcmp(verb, scope, vlen))
		return 0;
	if (!verb_with_env(verb, vlen))
		return glob_match(pat, strlen(pat), target, strlen(target));
	/* PROJECT@ENV: names hold no '@', so the last one splits the target */
	tgt_at = strrchr(target, '@');
	if (!tgt_at)
		return 0;
	pat_at = strchr(pat, '@');
	if (!glob_match(pat, pat_at ? (size_t)(pat_at - pat) : strlen(pat), target, (size_t)(tgt_at - target)))
		return 0;
	return !pat_at || glob_match(pat_at + 1, strlen(pat_at + 1), tgt_at + 1, strlen(tgt_at + 1));
}

/* ---- the file ---- */

void serve_token_list_dispose(serve_token_list *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->count; i++) {
		free(l->items[i].name);
		bm_strlist_dispose(&l->items[i].scopes);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The next field of a line: *f and *flen, advancing *p. 0 when none is left. */
static int next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	while (*p < end && is_space(**p))
		(*p)++;
	if (*p >= end)
		return 0;
	*f = *p;
	while (*p < end && !is_space(**p))
		(*p)++;
	*flen = (size_t)(*p - *f);
	return 1;
}

static int line_fail(bm_buf *err, const char *what, size_t lineno, const char *fmt, ...) BM_PRINTF(4, 5);
static int line_fail(bm_buf *err, const char *what, size_t lineno, const char *fmt, ...)
{
	va_list ap;
	bm_buf_clear(err);
	bm_text_escape(err, what, strlen(what), BM_ESCAPE_ASCII);
	bm_buf_printf(err, ":%zu: ", lineno);
	va_start(ap, fmt);
	bm_buf_vprintf(err, fmt, ap);
	va_end(ap);
	return BM_EINVALID;
}

static int parse_line(serve_token_entry *e, const char *line, size_t len, const char *what, size_t lineno,
		      bm_buf *err)
{
	const char *p = line, *end = line + len, *f = line;
	bm_buf msg = BM_BUF_INIT, scope = BM_BUF_INIT;
	char hex[65];
	size_t flen = 0, i;
	int error = 0;

	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
			if (line[i] == '\r' && i == len - 1)
				return line_fail(err, what, lineno, "ends in a carriage return (CRLF); write it with LF line ends");
			return line_fail(err, what, lineno, "holds a control character (\\x%02x)", (unsigned char)line[i]);
		} else if ((unsigned char)line[i] >= 0x7f) {
			return line_fail(err, what, lineno, "holds a byte outside ASCII (\\x%02x)", (unsigned char)line[i]);
		}
	next_field(&p, end, &f, &flen);
	if ((error = token_name_check(f, flen, &msg)) < 0) {
		error = line_fail(err, what, lineno, "%s", msg.ptr);
		goto done;
	}
	if (!(e->name = strndup(f, flen))) {
		error = BM_ENOMEM;
		goto done;
	}
	if (!next_field(&p, end, &f, &flen) || flen != 64) {
		error = line_fail(err, what, lineno, "token %s: the second field is not a sha256 (64 hex digits)", e->name);
		goto done;
	}
	memcpy(hex, f, 64);
	hex[64] = 0;
	for (i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) {
			error = line_fail(err, what, lineno, "token %s: the second field is not a sha256 (64 lower-case hex "
							     "digits)", e->name);
			goto done;
		}
	if (bm_hex_decode(e->hash, 32, hex) < 0) {
		error = line_fail(err, what, lineno, "token %s: the second field is not a sha256", e->name);
		goto done;
	}
	while (next_field(&p, end, &f, &flen)) {
		bm_buf_clear(&scope);
		if (bm_buf_put(&scope, f, flen) < 0) {
			error = BM_ENOMEM;
			goto done;
		}
		if (e->scopes.count >= SERVE_TOKEN_SCOPES_MAX) {
			error = line_fail(err, what, lineno, "token %s: over %d scopes", e->name, SERVE_TOKEN_SCOPES_MAX);
			goto done;
		}
		if ((error = serve_scope_check(scope.ptr, &msg)) < 0) {
			error = line_fail(err, what, lineno, "token %s: %s", e->name, msg.ptr);
			goto done;
		}
		if (bm_strlist_add(&e->scopes, scope.ptr) < 0) {
			error = BM_ENOMEM;
			goto done;
		}
	}
	if (!e->scopes.count)
		error = line_fail(err, what, lineno, "token %s has no scope (e.g. promote:acme/*); a token that may do "
						     "nothing is a mistake", e->name);
done:
	if (error == BM_ENOMEM) {
		bm_buf_clear(err);
		bm_buf_puts(err, "out of memory");
	}
	bm_buf_dispose(&msg);
	bm_buf_dispose(&scope);
	return error;
}

int serve_token_file_parse(serve_token_list *out, const char *text, size_t len, const char *what, bm_buf *err)
{
	const char *p = text, *end = text + len;
	size_t lineno = 0, i, alloc = 0;
	int error = 0;

	serve_token_list_dispose(out);
	bm_buf_clear(err);
	if (!what)
		what = "token file";
	if (len > SERVE_TOKEN_FILE_MAX) {
		bm_buf_printf(err, "%s: %zu bytes, over the bound of %d", what, len, SERVE_TOKEN_FILE_MAX);
		return BM_ETOOBIG;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *q;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		serve_token_entry e;

		lineno++;
		for (q = p; q < p + n && is_space(*q); q++)
			;
		if (q == p + n || *q == '#') {
			p += n + (nl ? 1 : 0);
			continue;
		}
		memset(&e, 0, sizeof(e));
		if ((error = parse_line(&e, p, n, what, lineno, err)) < 0) {
			free(e.name);
			bm_strlist_dispose(&e.scopes);
			goto done;
		}
		for (i = 0; i < out->count; i++) {
			if (!strcmp(out->items[i].name, e.name))
				error = line_fail(err, what, lineno, "token %s is named twice (also line before)", e.name);
			else if (!sodium_memcmp(out->items[i].hash, e.hash, 32))
				error = line_fail(err, what, lineno, "token %s has the hash of token %s", e.name,
						  out->items[i].name);
			if (error < 0) {
				free(e.name);
				bm_strlist_dispose(&e.scopes);
				goto done;
			}
		}
		if (out->count == alloc) {
			serve_token_entry *grown;
			alloc = alloc ? alloc * 2 : 8;
			if (!(grown = realloc(out->items, alloc * sizeof(*grown)))) {
				free(e.name);
				bm_strlist_dispose(&e.scopes);
				bm_buf_clear(err);
				bm_buf_puts(err, "out of memory");
				error = BM_ENOMEM;
				goto done;
			}
			out->items = grown;
		}
		out->items[out->count++] = e;
		p += n + (nl ? 1 : 0);
	}
done:
	if (error < 0)
		serve_token_list_dispose(out);
	return error;
}

int serve_token_line(bm_buf *out, const char *name, const unsigned char hash[32], const char *const *scopes,
		     size_t nscopes, bm_buf *err)
{
	char hex[65];
	size_t i;
	int error;

	bm_buf_clear(err);
	if (!name || (error = token_name_check(name, strlen(name), err)) < 0)
		return BM_EINVALID;
	if (!nscopes) {
		bm_buf_puts(err, "a token needs at least one scope (e.g. --scope promote:acme/*)");
		return BM_EINVALID;
	}
	if (nscopes > SERVE_TOKEN_SCOPES_MAX) {
		bm_buf_printf(err, "%zu scopes, over the bound of %d", nscopes, SERVE_TOKEN_SCOPES_MAX);
		return BM_EINVALID;
	}
	for (i = 0; i < nscopes; i++)
		if ((error = serve_scope_check(scopes[i], err)) < 0)
			return error;
	bm_hex_encode(hex, hash, 32);
	if (bm_buf_printf(out, "%s %s", name, hex) < 0)
		return BM_ENOMEM;
	for (i = 0; i < nscopes; i++)
		if (bm_buf_printf(out, " %s", scopes[i]) < 0)
			return BM_ENOMEM;
	return bm_buf_putc(out, '\n') < 0 ? BM_ENOMEM : 0;
}

int serve_token_file_without(bm_buf *out, const char *text, size_t len, const char *name)
{
	const char *p = text, *end = text + len;
	size_t nlen = strlen(name);
	int found = 0;

	bm_buf_clear(out);
	if (bm_buf_puts(out, "") < 0)
		return BM_ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *q = p, *f = p;
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p), flen = 0;
		if (next_field(&q, p + n, &f, &flen) && *f != '#' && flen == nlen && !memcmp(f, name, nlen)) {
			found = 1;
		} else if (bm_buf_put(out, p, n) < 0) {
			return BM_ENOMEM;
		}
		p += n;
	}
	return found ? 0 : BM_ENOTFOUND;
}

/* ---- tokens ---- */

void serve_token_hash(unsigned char hash[32], const char *token, size_t len)
{
	crypto_hash_sha256(hash, (const unsigned char *)token, len);
}

int serve_token_generate(char token[SERVE_TOKEN_LEN + 1], unsigned char hash[32])
{
	unsigned char raw[32];
	size_t plen = strlen(SERVE_TOKEN_PREFIX);

	randombytes_buf(raw, sizeof(raw));
	memcpy(token, SERVE_TOKEN_PREFIX, plen);
	sodium_bin2base64(token + plen, SERVE_TOKEN_LEN + 1 - plen, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	if (strlen(token) != SERVE_TOKEN_LEN)
		return BM_ERROR;
	serve_token_hash(hash, token, SERVE_TOKEN_LEN);
	return 0;
}

int serve_bearer_parse(const char **token, size_t *len, const char *header)
{
	const char *p;
	*token = NULL;
	*len = 0;
	if (!header || strncasecmp(header, "Bearer", 6) || !is_space(header[6]))
		return SERVE_E401;
	for (p = header + 6; is_space(*p); p++)
		;
	*token = p;
	while (*p && !is_space(*p))
		p++;
	*len = (size_t)(p - *token);
	while (is_space(*p))
		p++;
	if (!*len || *p) {
		*token = NULL;
		*len = 0;
		return SERVE_E401;
	}
	return 0;
}

int serve_token_target(const char **verb, bm_buf *target, const serve_body_req *req)
{
	int error = 0;
	bm_buf_clear(target);
	*verb = serve_kind_name(req->kind);
	switch (req->kind) {
	case SERVE_KIND_PROMOTE: error = bm_buf_puts(target, req->promote.project); break;
	case SERVE_KIND_RELEASE: error = bm_buf_puts(target, req->release.project); break;
	case SERVE_KIND_BINARY: error = bm_buf_puts(target, req->binary.project); break;
	case SERVE_KIND_CONFIG: error = bm_buf_printf(target, "%s@%s", req->config.project, req->config.env); break;
	case SERVE_KIND_FLAG: error = bm_buf_printf(target, "%s@%s", req->flag.project, req->flag.env); break;
	case SERVE_KIND_LOG: error = bm_buf_puts(target, req->log.spec.project ? req->log.spec.project : ""); break;
	case SERVE_KIND_REPORT:
		if (!req->report.env)
			return BM_EINVALID;
		error = bm_buf_puts(target, req->report.env);
		break;
	case SERVE_KIND_HOOK:
		*verb = SERVE_VERB_HOOK;
		error = bm_buf_puts(target, req->hook.spec.prefix ? req->hook.spec.prefix : "");
		break;
	case SERVE_KIND_HOOK_RM:
		*verb = SERVE_VERB_HOOK;
		error = bm_buf_puts(target, req->hook_rm.prefix ? req->hook_rm.prefix : "");
		break;
	default: return BM_EINVALID;
	}
	return error < 0 ? BM_ENOMEM : 0;
}

/* ---- the table ---- */

struct serve_tokens {
	pthread_mutex_t lock;
	char *path;
	struct stat st;           /* of the file as last read */
	int has_st;
	/* The file's times are coarse (a few ms): a change in place of the same size right after a
	 * read can leave inode, size and times as they were. While the file's mtime is not safely
	 * older than the last read ("racy", as git says of its index), each check reads it again. */
	int racy;
	serve_token_list list;
	int error;                /* < 0: the file does not load now */
	bm_buf error_msg;
};

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Read and parse the file; on success replace the table. `st` gets what was read. */
static int load(serve_tokens *t, struct stat *st, bm_buf *err)
{
	serve_token_list list = SERVE_TOKEN_LIST_INIT;
	bm_buf text = BM_BUF_INIT;
	int fd = -1, error;
	ssize_t n;

	bm_buf_clear(err);
	if ((error = bm_file_open_read(&fd, t->path, 0)) < 0) {
		bm_buf_printf(err, "token file: %s", bm_error_last());
		goto done;
	}
	if (fstat(fd, st) < 0) {
		bm_buf_printf(err, "token file %s: %s", t->path, strerror(errno));
		error = BM_EIO;
		goto done;
	}
	if (st->st_mode & 022) {
		bm_buf_printf(err, "token file %s may be written by %s (mode %04o): anyone who can write it can add a "
				   "token; chmod 600 it", t->path, st->st_mode & 020 ? "its group" : "others",
			      (unsigned)(st->st_mode & 07777));
		error = BM_EPERM;
		goto done;
	}
	for (;;) {
		if ((error = bm_buf_grow(&text, text.size + 65536)) < 0) {
			bm_buf_puts(err, "out of memory");
			goto done;
		}
		n = read(fd, text.ptr + text.size, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bm_buf_printf(err, "token file %s: %s", t->path, strerror(errno));
			error = BM_EIO;
			goto done;
		}
		if (n == 0)
			break;
		text.size += (size_t)n;
		text.ptr[text.size] = 0;
		if (text.size > SERVE_TOKEN_FILE_MAX)
			break;
	}
	if ((error = serve_token_file_parse(&list, text.ptr ? text.ptr : "", text.size, t->path, err)) < 0)
		goto done;
	serve_token_list_dispose(&t->list);
	t->list = list;
done:
	if (fd >= 0)
		close(fd);
	bm_buf_dispose(&text);
	return error;
}

/* A file modified less than 2 s before now (now being when it is read). */
static int is_racy(const struct stat *st)
{
	struct timespec now;
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return 1;
	return st->st_mtim.tv_sec + 2 >= now.tv_sec || st->st_ctim.tv_sec + 2 >= now.tv_sec;
}

int serve_tokens_open(serve_tokens **out, const char *path, bm_buf *err)
{
	serve_tokens *t;
	int error;

	*out = NULL;
	bm_buf_clear(err);
	if (!(t = calloc(1, sizeof(*t))) || !(t->path = strdup(path))) {
		free(t);
		bm_buf_puts(err, "out of memory");
		return BM_ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->racy = 1;
	if ((error = load(t, &t->st, err)) < 0) {
		serve_tokens_free(t);
		return error;
	}
	t->racy = is_racy(&t->st);
	t->has_st = 1;
	*out = t;
	return 0;
}

void serve_tokens_free(serve_tokens *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	serve_token_list_dispose(&t->list);
	bm_buf_dispose(&t->error_msg);
	free(t->path);
	free(t);
}

/* Under the lock: read the file again when it is not the one last read. */
static void reload_if_changed(serve_tokens *t)
{
	struct stat st;
	if (stat(t->path, &st) < 0) {
		if (t->error < 0 && !t->has_st)
			return;
		t->has_st = 0;
		serve_token_list_dispose(&t->list);
		bm_buf_clear(&t->error_msg);
		bm_buf_printf(&t->error_msg, "token file %s: %s; every token is refused until it is back", t->path,
			      strerror(errno));
		t->error = errno == ENOENT ? BM_ENOTFOUND : BM_EIO;
		return;
	}
	if (t->has_st && same_file(&st, &t->st) && !t->racy)
		return;
	t->racy = is_racy(&st);
	if ((t->error = load(t, &st, &t->error_msg)) < 0) {
		serve_token_list_dispose(&t->list);
		bm_buf_puts(&t->error_msg, "; every token is refused until the file loads");
	}
	/* remember what was read even when it failed, so a bad file is read once, not per request */
	t->st = st;
	t->has_st = 1;
}

static void say(bm_buf *msg, const char *fmt, ...) BM_PRINTF(2, 3);
static void say(bm_buf *msg, const char *fmt, ...)
{
	va_list ap;
	if (!msg)
		return;
	va_start(ap, fmt);
	bm_buf_vprintf(msg, fmt, ap);
	va_end(ap);
}

int serve_tokens_check(serve_tokens *t, const char *bearer, size_t len, const char *verb, const char *target,
		       bm_buf *name, bm_buf *msg)
{
	unsigned char hash[32];
	size_t i, found = 0, idx = 0;
	int rc;

	if (name)
		bm_buf_clear(name);
	if (msg)
		bm_buf_clear(msg);
	pthread_mutex_lock(&t->lock);
	reload_if_changed(t);
	if (t->error < 0) {
		say(msg, "%s", t->error_msg.ptr ? t->error_msg.ptr : "token file does not load");
		rc = t->error;
		goto done;
	}
	if (!bearer || !len) {
		say(msg, "no token: send Authorization: Bearer TOKEN");
		rc = SERVE_E401;
		goto done;
	}
	if (len > SERVE_TOKEN_BEARER_MAX) {
		say(msg, "unknown token (revoked, or never issued)");
		rc = SERVE_E401;
		goto done;
	}
	serve_token_hash(hash, bearer, len);
	/* every line, no early exit: the time does not depend on where (or whether) it matched */
	for (i = 0; i < t->list.count; i++) {
		size_t eq = (size_t)(sodium_memcmp(hash, t->list.items[i].hash, 32) == 0);
		size_t mask = (size_t)0 - eq;
		idx = (idx & ~mask) | (i & mask);
		found |= eq;
	}
	sodium_memzero(hash, sizeof(hash));
	if (!found) {
		say(msg, "unknown token (revoked, or never issued)");
		rc = SERVE_E401;
		goto done;
	}
	{
		const serve_token_entry *e = &t->list.items[idx];
		for (i = 0; i < e->scopes.count; i++)
			if (serve_scope_covers(e->scopes.items[i], verb, target))
				break;
		if (i == e->scopes.count) {
			if (msg) {
				say(msg, "token \"%s\" has no scope for %s on ", e->name, verb ? verb : "?");
				bm_text_escape(msg, target ? target : "", target ? strlen(target) : 0, BM_ESCAPE_ASCII);
				say(msg, " (its scopes:");
				for (i = 0; i < e->scopes.count; i++)
					say(msg, " %s", e->scopes.items[i]);
				say(msg, ")");
			}
			rc = SERVE_E403;
			goto done;
		}
		if (name && bm_buf_puts(name, e->name) < 0) {
			say(msg, "out of memory");
			rc = BM_ENOMEM;
			goto done;
		}
	}
	rc = 0;
done:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

size_t serve_tokens_count(serve_tokens *t)
{
	size_t n;
	pthread_mutex_lock(&t->lock);
	n = t->list.count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
