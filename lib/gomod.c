/* gomod.c: a go.mod parser that keeps what a release records (module path, go version,
 * every require with its `// indirect` mark) and checks the shape of everything else.
 *
 * The grammar follows golang.org/x/mod/modfile: a file is lines; a line is a verb and its
 * arguments, or `verb (` opening a block whose lines each take the verb's arguments, closed
 * by a line holding only `)`. Tokens are bare words, "quoted" or `raw` strings, the
 * punctuation ( ) [ ] , and =>, and a trailing // comment. A statement never spans lines. */
#include "bootmeta/buildinfo.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 16

enum tok_kind { TOK_WORD, TOK_STRING, TOK_PUNCT };

struct token {
	enum tok_kind kind;
	char *text;  /* decoded, NUL-terminated, owned */
};

struct line {
	struct token tok[MAX_TOKENS];
	size_t count;
	const char *comment;  /* text after "//", not NUL-terminated; NULL when none */
	size_t comment_len;
	unsigned int lineno;
};

struct parser {
	bm_gomod *mod;
	size_t require_alloc;
	int seen_module, seen_go, seen_toolchain;
};

static void line_clear(struct line *l)
{
	size_t i;
	for (i = 0; i < l->count; i++)
		free(l->tok[i].text);
	memset(l, 0, sizeof(*l));
}

static int is_punct(char c)
{
	return c == '(' || c == ')' || c == '[' || c == ']' || c == ',';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int add_token(struct line *l, enum tok_kind kind, const char *s, size_t n)
{
	if (l->count == MAX_TOKENS)
		return bm_error_set(BM_EINVALID, "go.mod line %u: more than %d tokens on one line; "
				    "expected a directive and its few arguments", l->lineno, MAX_TOKENS);
	if (!(l->tok[l->count].text = strndup(s, n)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	l->tok[l->count++].kind = kind;
	return 0;
}

/* A "quoted" string: Go escapes are rare in go.mod; the common ones are decoded, others
 * refused rather than guessed. */
static int lex_quoted(struct line *l, const char **pp, const char *end)
{
	bm_buf b = BM_BUF_INIT;
	const char *p = *pp + 1;
	int error = 0;
	for (;;) {
		char c;
		if (p == end) {
			error = bm_error_set(BM_EINVALID, "go.mod line %u: unterminated quoted string; "
					     "expected a closing '\"' on the same line", l->lineno);
			goto done;
		}
		c = *p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (p == end) {
				error = bm_error_set(BM_EINVALID, "go.mod line %u: unterminated quoted string; "
						     "expected a closing '\"' on the same line", l->lineno);
				goto done;
			}
			c = *p++;
			switch (c) {
			case '"': case '\\': break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			default:
				error = bm_error_set(BM_EINVALID, "go.mod line %u: unsupported escape '\\%c' in a "
						     "quoted string; expected \\\" or \\\\", l->lineno, c);
				goto done;
			}
		}
		if ((error = bm_buf_putc(&b, c)) < 0)
			goto done;
	}
	if ((error = add_token(l, TOK_STRING, b.ptr ? b.ptr : "", b.size)) < 0)
		goto done;
	*pp = p;
done:
	bm_buf_dispose(&b);
	return error;
}

/* Split one line [p, end) into tokens and a trailing comment. */
static int lex_line(struct line *l, const char *p, const char *end)
{
	int error;
	while (p < end) {
		const char *start;
		if (is_space(*p)) {
			p++;
			continue;
		}
		if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
			l->comment = p + 2;
			l->comment_len = (size_t)(end - p - 2);
			return 0;
		}
		if (is_punct(*p)) {
			if ((error = add_token(l, TOK_PUNCT, p, 1)) < 0)
				return error;
			p++;
			continue;
		}
		if (end - p >= 2 && p[0] == '=' && p[1] == '>') {
			if ((error = add_token(l, TOK_PUNCT, p, 2)) < 0)
				return error;
			p += 2;
			continue;
		}
		if (*p == '"') {
			if ((error = lex_quoted(l, &p, end)) < 0)
				return error;
			continue;
		}
		if (*p == '`') {
			const char *close = memchr(p + 1, '`', (size_t)(end - p - 1));
			if (!close)
				return bm_error_set(BM_EINVALID, "go.mod line %u: unterminated raw string; "
						    "expected a closing '`' on the same line", l->lineno);
			if ((error = add_token(l, TOK_STRING, p + 1, (size_t)(close - p - 1))) < 0)
				return error;
			p = close + 1;
			continue;
		}
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bm_error_set(BM_EINVALID, "go.mod line %u: control character 0x%02x; "
					    "expected printable text", l->lineno, (unsigned char)*p);
		start = p;
		while (p < end && !is_space(*p) && !is_punct(*p) && *p != '"' && *p != '`' &&
		       (unsigned char)*p >= 0x20 && *p != 0x7f &&
		       !(end - p >= 2 && p[0] == '/' && p[1] == '/') &&
		       !(end - p >= 2 && p[0] == '=' && p[1] == '>'))
			p++;
		if ((error = add_token(l, TOK_WORD, start, (size_t)(p - start))) < 0)
			return error;
	}
	return 0;
}

static int is_tok(const struct token *t, const char *punct)
{
	return t->kind == TOK_PUNCT && strcmp(t->text, punct) == 0;
}

static int digits(const char **pp, int leading_zero_ok)
{
	const char *p = *pp;
	if (*p < '0' || *p > '9')
		return 0;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9' && !leading_zero_ok)
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	*pp = p;
	return 1;
}

/* Dot-separated identifiers of [0-9A-Za-z-] (semver pre-release and build parts). */
static int semver_idents(const char **pp)
{
	const char *p = *pp;
	for (;;) {
		const char *s = p;
		while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-')
			p++;
		if (p == s)
			return 0;
		if (*p != '.')
			break;
		p++;
	}
	*pp = p;
	return 1;
}

/* A module version as modfile accepts it: v1, v1.2, v1.2.3, v1.2.3-pre.1+build, +incompatible. */
static int module_version_ok(const char *v)
{
	const char *p = v;
	if (*p++ != 'v')
		return 0;
	if (!digits(&p, 0))
		return 0;
	if (!*p)
		return 1;
	if (*p++ != '.' || !digits(&p, 0))
		return 0;
	if (!*p)
		return 1;
	if (*p++ != '.' || !digits(&p, 0))
		return 0;
	if (*p == '-') {
		p++;
		if (!semver_idents(&p))
			return 0;
	}
	if (*p == '+') {
		p++;
		if (!semver_idents(&p))
			return 0;
	}
	return *p == '\0';
}

/* The `go` directive: 1.21, 1.21.0, 1.21rc1, 1.21beta2. */
static int go_version_ok(const char *v)
{
	const char *p = v;
	if (!digits(&p, 0) || *p++ != '.' || !digits(&p, 0))
		return 0;
	if (*p == '.') {
		p++;
		if (!digits(&p, 0))
			return 0;
	}
	if (strncmp(p, "rc", 2) == 0 || strncmp(p, "beta", 4) == 0) {
		p += (*p == 'r') ? 2 : 4;
		if (!digits(&p, 0))
			return 0;
	}
	return *p == '\0';
}

static int expect_path(const struct line *l, const char *verb, size_t i, const char *what)
{
	if (i >= l->count)
		return bm_error_set(BM_EINVALID, "go.mod line %u: %s: missing %s; expected %s",
				    l->lineno, verb, what, strcmp(verb, "require") == 0 || strcmp(verb, "exclude") == 0 ?
				    "a module path and a version, e.g. example.com/mod v1.2.3" : "a module path");
	if (l->tok[i].kind == TOK_PUNCT || l->tok[i].text[0] == '\0')
		return bm_error_set(BM_EINVALID, "go.mod line %u: %s: unexpected '%s'; expected %s",
				    l->lineno, verb, l->tok[i].text, what);
	return 0;
}

static int expect_version(const struct line *l, const char *verb, size_t i, const char *path)
{
	if (i >= l->count)
		return bm_error_set(BM_EINVALID, "go.mod line %u: %s%s%s: missing version; expected a "
				    "version such as v1.2.3", l->lineno, verb, *path ? " " : "", path);
	if (l->tok[i].kind == TOK_PUNCT || !module_version_ok(l->tok[i].text))
		return bm_error_set(BM_EINVALID, "go.mod line %u: %s%s%s: bad version \"%s\"; expected "
				    "v<major>.<minor>.<patch> such as v1.2.3", l->lineno, verb, *path ? " " : "", path,
				    l->tok[i].text);
	return 0;
}

static int expect_end(const struct line *l, const char *verb, size_t i)
{
	if (i < l->count)
		return bm_error_set(BM_EINVALID, "go.mod line %u: %s: unexpected \"%s\"; expected the end "
				    "of the line or a // comment", l->lineno, verb, l->tok[i].text);
	return 0;
}

static int comment_is_indirect(const struct line *l)
{
	const char *c = l->comment;
	size_t n = l->comment_len;
	if (!c)
		return 0;
	while (n && is_space(*c))
		c++, n--;
	while (n && is_space(c[n - 1]))
		n--;
	if (n < 8 || memcmp(c, "indirect", 8) != 0)
		return 0;
	return n == 8 || c[8] == ';';
}

static int add_require(struct parser *ps, const struct line *l, size_t first)
{
	bm_gomod *mod = ps->mod;
	bm_gomod_require *r;
	int error;
	if ((error = expect_path(l, "require", first, "a module path")) < 0 ||
	    (error = expect_version(l, "require", first + 1, l->tok[first].text)) < 0 ||
	    (error = expect_end(l, "require", first + 2)) < 0)
		return error;
	if (mod->require_count == ps->require_alloc) {
		size_t na = ps->require_alloc ? ps->require_alloc * 2 : 16;
		bm_gomod_require *p = realloc(mod->requires, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		mod->requires = p;
		ps->require_alloc = na;
	}
	r = &mod->requires[mod->require_count];
	memset(r, 0, sizeof(*r));
	r->module = strdup(l->tok[first].text);
	r->version = strdup(l->tok[first + 1].text);
	r->indirect = comment_is_indirect(l);
	mod->require_count++;
	if (!r->module || !r->version)
		return bm_error_set(BM_ENOMEM, "out of memory");
	return 0;
}

/* replace old [v] => new [v] */
static int check_replace(const struct line *l, size_t i)
{
	size_t arrow;
	int error;
	if ((error = expect_path(l, "replace", i, "the module path to replace")) < 0)
		return error;
	for (arrow = i + 1; arrow < l->count && !is_tok(&l->tok[arrow], "=>"); arrow++)
		;
	if (arrow == l->count)
		return bm_error_set(BM_EINVALID, "go.mod line %u: replace: missing '=>'; expected "
				    "old [version] => new [version]", l->lineno);
	if (arrow - i > 2)
		return bm_error_set(BM_EINVALID, "go.mod line %u: replace: unexpected \"%s\"; expected "
				    "'=>' after the module path and optional version", l->lineno, l->tok[i + 2].text);
	if (arrow - i == 2 && (error = expect_version(l, "replace", i + 1, l->tok[i].text)) < 0)
		return error;
	if ((error = expect_path(l, "replace", arrow + 1, "a replacement module path or folder after '=>'")) < 0)
		return error;
	if (arrow + 2 < l->count) {
		if ((error = expect_version(l, "replace", arrow + 2, l->tok[arrow + 1].text)) < 0)
			return error;
		return expect_end(l, "replace", arrow + 3);
	}
	return 0;
}

/* retract v1.2.3 | retract [v1.0.0, v1.1.0] */
static int check_retract(const struct line *l, size_t i)
{
	int error;
	if (i < l->count && is_tok(&l->tok[i], "[")) {
		if ((error = expect_version(l, "retract", i + 1, "")) < 0)
			return error;
		if (i + 2 >= l->count || !is_tok(&l->tok[i + 2], ","))
			return bm_error_set(BM_EINVALID, "go.mod line %u: retract: expected ',' in "
					    "[low, high]", l->lineno);
		if ((error = expect_version(l, "retract", i + 3, "")) < 0)
			return error;
		if (i + 4 >= l->count || !is_tok(&l->tok[i + 4], "]"))
			return bm_error_set(BM_EINVALID, "go.mod line %u: retract: expected ']' closing "
					    "[low, high]", l->lineno);
		return expect_end(l, "retract", i + 5);
	}
	if ((error = expect_version(l, "retract", i, "")) < 0)
		return error;
	return expect_end(l, "retract", i + 1);
}

static int set_once(char **dst, int *seen, const struct line *l, const char *verb, size_t i)
{
	if (*seen)
		return bm_error_set(BM_EINVALID, "go.mod line %u: repeated %s directive; expected one",
				    l->lineno, verb);
	*seen = 1;
	if (!(*dst = strdup(l->tok[i].text)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	return 0;
}

/* One statement: `verb` with its arguments starting at token `i` of `l`. */
static int statement(struct parser *ps, const char *verb, const struct line *l, size_t i)
{
	int error;
	if (strcmp(verb, "require") == 0)
		return add_require(ps, l, i);
	if (strcmp(verb, "module") == 0) {
		if ((error = expect_path(l, verb, i, "the module path")) < 0 ||
		    (error = expect_end(l, verb, i + 1)) < 0)
			return error;
		return set_once(&ps->mod->module, &ps->seen_module, l, verb, i);
	}
	if (strcmp(verb, "go") == 0) {
		if (i >= l->count || l->tok[i].kind == TOK_PUNCT || !go_version_ok(l->tok[i].text))
			return bm_error_set(BM_EINVALID, "go.mod line %u: go: %s%s%s; expected a Go version "
					    "such as 1.21 or 1.21.0", l->lineno, i < l->count ? "bad version \"" : "missing version",
					    i < l->count ? l->tok[i].text : "", i < l->count ? "\"" : "");
		if ((error = expect_end(l, verb, i + 1)) < 0)
			return error;
		return set_once(&ps->mod->go_version, &ps->seen_go, l, verb, i);
	}
	if (strcmp(verb, "toolchain") == 0) {
		if (i >= l->count || l->tok[i].kind == TOK_PUNCT ||
		    (strncmp(l->tok[i].text, "go", 2) != 0 && strcmp(l->tok[i].text, "default") != 0))
			return bm_error_set(BM_EINVALID, "go.mod line %u: toolchain: expected a toolchain "
					    "name such as go1.21.3", l->lineno);
		if ((error = expect_end(l, verb, i + 1)) < 0)
			return error;
		return set_once(&ps->mod->toolchain, &ps->seen_toolchain, l, verb, i);
	}
	if (strcmp(verb, "exclude") == 0) {
		if ((error = expect_path(l, verb, i, "a module path")) < 0 ||
		    (error = expect_version(l, verb, i + 1, l->tok[i].text)) < 0)
			return error;
		return expect_end(l, verb, i + 2);
	}
	if (strcmp(verb, "replace") == 0)
		return check_replace(l, i);
	if (strcmp(verb, "retract") == 0)
		return check_retract(l, i);
	if (strcmp(verb, "godebug") == 0) {
		const char *eq;
		if (i >= l->count || l->tok[i].kind != TOK_WORD || !(eq = strchr(l->tok[i].text, '=')) ||
		    eq == l->tok[i].text)
			return bm_error_set(BM_EINVALID, "go.mod line %u: godebug: expected key=value", l->lineno);
		return expect_end(l, verb, i + 1);
	}
	if (strcmp(verb, "tool") == 0 || strcmp(verb, "ignore") == 0) {
		if ((error = expect_path(l, verb, i, "a path")) < 0)
			return error;
		return expect_end(l, verb, i + 1);
	}
	return bm_error_set(BM_EINVALID, "go.mod line %u: unknown directive \"%s\"; expected module, "
			    "go, toolchain, godebug, require, exclude, replace, retract, tool or ignore",
			    l->lineno, verb);
}

static int block_allowed(const char *verb)
{
	return strcmp(verb, "require") == 0 || strcmp(verb, "exclude") == 0 ||
	       strcmp(verb, "replace") == 0 || strcmp(verb, "retract") == 0 ||
	       strcmp(verb, "godebug") == 0 || strcmp(verb, "tool") == 0 || strcmp(verb, "ignore") == 0;
}

int bm_gomod_parse(bm_gomod **out, const char *text, size_t len)
{
	struct parser ps;
	struct line l;
	const char *p = text, *end = text + len;
	char *block_verb = NULL;
	unsigned int lineno = 0, block_line = 0;
	int error = 0;

	*out = NULL;
	memset(&ps, 0, sizeof(ps));
	memset(&l, 0, sizeof(l));
	if (len > BM_GOMOD_MAX_SIZE)
		return bm_error_set(BM_ETOOBIG, "go.mod is %zu bytes, over the %u byte bound; "
				    "is this really a go.mod?", len, BM_GOMOD_MAX_SIZE);
	if (len && !text)
		return bm_error_set(BM_EINVALID, "go.mod text is NULL");
	if (len && memchr(text, '\0', len))
		return bm_error_set(BM_EINVALID, "go.mod holds a NUL byte; expected text");
	if (!(ps.mod = calloc(1, sizeof(*ps.mod))))
		return bm_error_set(BM_ENOMEM, "out of memory");

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end;
		lineno++;
		line_clear(&l);
		l.lineno = lineno;
		if ((error = lex_line(&l, p, line_end)) < 0)
			goto done;
		p = eol ? eol + 1 : end;
		if (l.count == 0)
			continue;

		if (block_verb) {
			if (is_tok(&l.tok[0], ")")) {
				if ((error = expect_end(&l, block_verb, 1)) < 0)
					goto done;
				free(block_verb);
				block_verb = NULL;
				continue;
			}
			if (is_tok(&l.tok[0], "(")) {
				error = bm_error_set(BM_EINVALID, "go.mod line %u: '(' inside the %s block opened "
						     "on line %u; expected ')' first", lineno, block_verb, block_line);
				goto done;
			}
			if ((error = statement(&ps, block_verb, &l, 0)) < 0)
				goto done;
			continue;
		}

		if (l.tok[0].kind != TOK_WORD) {
			error = bm_error_set(BM_EINVALID, "go.mod line %u: unexpected \"%s\"; expected a "
					     "directive such as module, go or require", lineno, l.tok[0].text);
			goto done;
		}
		if (l.count >= 2 && is_tok(&l.tok[1], "(")) {
			if (!block_allowed(l.tok[0].text)) {
				error = bm_error_set(BM_EINVALID, "go.mod line %u: %s cannot open a block; expected "
						     "%s on one line", lineno, l.tok[0].text, l.tok[0].text);
				goto done;
			}
			if (l.count == 3 && is_tok(&l.tok[2], ")"))
				continue;  /* `require ()` */
			if ((error = expect_end(&l, l.tok[0].text, 2)) < 0)
				goto done;
			if (!(block_verb = strdup(l.tok[0].text))) {
				error = bm_error_set(BM_ENOMEM, "out of memory");
				goto done;
			}
			block_line = lineno;
			continue;
		}
		if ((error = statement(&ps, l.tok[0].text, &l, 1)) < 0)
			goto done;
	}
	if (block_verb) {
		error = bm_error_set(BM_EINVALID, "go.mod line %u: the %s block opened on line %u is not "
				     "closed; expected ')' on a line of its own", lineno, block_verb, block_line);
		goto done;
	}
	if (!ps.mod->module) {
		error = bm_error_set(BM_EINVALID, "go.mod has no module directive; expected "
				     "`module example.com/path` as its first statement");
		goto done;
	}
	*out = ps.mod;
	ps.mod = NULL;
done:
	line_clear(&l);
	free(block_verb);
	bm_gomod_free(ps.mod);
	return error;
}

void bm_gomod_free(bm_gomod *mod)
{
	size_t i;
	if (!mod)
		return;
	for (i = 0; i < mod->require_count; i++) {
		free(mod->requires[i].module);
		free(mod->requires[i].version);
	}
	free(mod->requires);
	free(mod->module);
	free(mod->go_version);
	free(mod->toolchain);
	free(mod);
}
