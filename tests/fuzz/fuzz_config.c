/* fuzz_config.c: typed config values as `config set` takes them (KEY[:TYPE]=VALUE, split as
 * src/cmd_config.c does, then bm_config_type_parse, bm_name_validate and
 * bm_config_value_parse), the value's record JSON (bm_config_value_record_json) and the env
 * files (bm_config_format_env) in the three styles.
 *
 * Invariants: a value that parses has the type asked for and a text within the limit; its text
 * parses again to the same text and typed value (canonical for int64, double and bool; the
 * input itself for string and json); its record JSON loads and holds that value. An env file
 * that is written reads back, by the rules of systemd's EnvironmentFile= and of docker
 * --env-file (reimplemented below), as exactly the keys and values given; docker and portable
 * files have one line per key; systemd never refuses a value of a valid name, docker only one
 * with a line break, portable only one the two readers would read differently. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXV 8

typedef struct {
	char *key[MAXV + 1];
	char *val[MAXV + 1];
	size_t n;
} pairs;

static void pairs_dispose(pairs *p)
{
	size_t i;
	for (i = 0; i < p->n; i++) {
		free(p->key[i]);
		free(p->val[i]);
	}
	p->n = 0;
}

static int pairs_push(pairs *p, const char *k, size_t kl, const char *v, size_t vl)
{
	if (p->n >= MAXV)
		return -1; /* more lines than keys given */
	if (!(p->key[p->n] = strndup(k, kl)) || !(p->val[p->n] = malloc(vl + 1)))
		abort();
	memcpy(p->val[p->n], v, vl);
	p->val[p->n][vl] = '\0';
	p->n++;
	return 0;
}

/* docker --env-file (docker/cli opts/file.go): bufio.Scanner lines (a trailing \r dropped),
 * leading white space trimmed, '#' lines and empty lines skipped, KEY=VALUE cut at the first
 * '=', the value passed through untouched. */
static int docker_read(pairs *out, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t e = i, n;
		const char *line, *eq;
		while (e < len && s[e] != '\n')
			e++;
		line = s + i;
		n = e - i;
		if (n && line[n - 1] == '\r')
			n--;
		while (n && (*line == ' ' || *line == '\t' || *line == '\v' || *line == '\f' || *line == '\r')) {
			line++;
			n--;
		}
		if (n && *line != '#') {
			if (!(eq = memchr(line, '=', n)) || eq == line)
				return -1;
			if (pairs_push(out, line, (size_t)(eq - line), eq + 1, n - (size_t)(eq - line) - 1) < 0)
				return -1;
		}
		i = e + 1;
	}
	return 0;
}

/* systemd's EnvironmentFile= (parse_env_file_internal in src/basic/env-file.c): the same
 * state machine, without its UTF-8 and name checks. */
static int systemd_read(pairs *out, const char *s, size_t len)
{
	enum { PRE_KEY, KEY, PRE_VALUE, VALUE, VALUE_ESCAPE, SQUOTE, DQUOTE, DQUOTE_ESCAPE, COMMENT,
	       COMMENT_ESCAPE } st = PRE_KEY;
	char *key = malloc(len + 1), *val = malloc(2 * len + 2);
	size_t nk = 0, nv = 0, last_ws = SIZE_MAX, i;
	int rc = 0;

	if (!key || !val)
		abort();
	for (i = 0; i <= len && rc == 0; i++) {
		char c = i < len ? s[i] : '\n'; /* the end of the text ends the last line */
		int nl = c == '\n' || c == '\r', ws = nl || c == ' ' || c == '\t';
		switch (st) {
		case PRE_KEY:
			if (c == '#' || c == ';')
				st = COMMENT;
			else if (!ws) {
				st = KEY;
				nk = 0;
				key[nk++] = c;
			}
			break;
		case KEY:
			if (nl) {
				st = PRE_KEY; /* a line without '=' is ignored */
			} else if (c == '=') {
				st = PRE_VALUE;
				nv = 0;
				last_ws = SIZE_MAX;
			} else {
				key[nk++] = c;
			}
			break;
		case PRE_VALUE:
			if (nl) {
				st = PRE_KEY;
				rc = pairs_push(out, key, nk, val, nv);
			} else if (c == '\'') {
				st = SQUOTE;
			} else if (c == '"') {
				st = DQUOTE;
			} else if (c == '\\') {
				st = VALUE_ESCAPE;
			} else if (!ws) {
				st = VALUE;
				val[nv++] = c;
			}
			break;
		case VALUE:
			if (nl) {
				st = PRE_KEY;
				if (last_ws != SIZE_MAX)
					nv = last_ws; /* trailing white space dropped */
				rc = pairs_push(out, key, nk, val, nv);
			} else if (c == '\\') {
				st = VALUE_ESCAPE;
				last_ws = SIZE_MAX;
			} else {
				if (!ws)
					last_ws = SIZE_MAX;
				else if (last_ws == SIZE_MAX)
					last_ws = nv;
				val[nv++] = c;
			}
			break;
		case VALUE_ESCAPE:
			st = VALUE;
			if (!nl)
				val[nv++] = c;
			break;
		case SQUOTE:
			if (c == '\'')
				st = PRE_VALUE;
			else
				val[nv++] = c;
			break;
		case DQUOTE:
			if (c == '"')
				st = PRE_VALUE;
			else if (c == '\\')
				st = DQUOTE_ESCAPE;
			else
				val[nv++] = c;
			break;
		case DQUOTE_ESCAPE:
			st = DQUOTE;
			if (strchr("\"\\`$", c) && c) {
				val[nv++] = c;
			} else if (c != '\n') {
				val[nv++] = '\\';
				val[nv++] = c;
			}
			break;
		case COMMENT:
			if (c == '\\')
				st = COMMENT_ESCAPE;
			else if (nl)
				st = PRE_KEY;
			break;
		case COMMENT_ESCAPE:
			st = COMMENT;
			break;
		}
	}
	if (st == SQUOTE || st == DQUOTE || st == DQUOTE_ESCAPE)
		rc = -1; /* an open quote at the end */
	free(key);
	free(val);
	return rc;
}

static int env_name(const char *k)
{
	const char *p;
	if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_'))
		return 0;
	for (p = k; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static void reads_back(const pairs *got, const bm_config *c)
{
	size_t i;
	if (got->n != c->count)
		abort();
	for (i = 0; i < c->count; i++)
		if (strcmp(got->key[i], c->values[i].key) || strcmp(got->val[i], c->values[i].text))
			abort();
}

/* 1 when both readers read "K=<v>\n" as v. */
static int both_read_bare(const char *v)
{
	bm_buf line = BM_BUF_INIT;
	pairs d = { { 0 }, { 0 }, 0 }, s = { { 0 }, { 0 }, 0 };
	int same;
	if (bm_buf_printf(&line, "K=%s\n", v) < 0)
		abort();
	same = docker_read(&d, line.ptr, line.size) == 0 && systemd_read(&s, line.ptr, line.size) == 0 &&
	       d.n == 1 && s.n == 1 && !strcmp(d.val[0], v) && !strcmp(s.val[0], v);
	pairs_dispose(&d);
	pairs_dispose(&s);
	bm_buf_dispose(&line);
	return same;
}

static void check_env(const bm_config *c)
{
	static const bm_config_env_style styles[] = { BM_CONFIG_ENV_PORTABLE, BM_CONFIG_ENV_SYSTEMD,
						      BM_CONFIG_ENV_DOCKER };
	size_t i, k;
	int names_ok = 1, bare_ok = 1, no_nl = 1;

	for (i = 0; i < c->count; i++) {
		names_ok &= env_name(c->values[i].key);
		bare_ok &= both_read_bare(c->values[i].text);
		no_nl &= !strpbrk(c->values[i].text, "\r\n");
	}
	for (k = 0; k < 3; k++) {
		bm_buf out = BM_BUF_INIT;
		pairs got = { { 0 }, { 0 }, 0 };
		int rc = bm_config_format_env(&out, c, styles[k]);
		if (rc < 0) {
			if (rc != BM_EINVALID)
				abort();
			if (names_ok && styles[k] == BM_CONFIG_ENV_SYSTEMD)
				abort(); /* systemd's quoting holds any text */
			if (names_ok && styles[k] == BM_CONFIG_ENV_DOCKER && no_nl)
				abort();
			if (names_ok && styles[k] == BM_CONFIG_ENV_PORTABLE && bare_ok)
				abort(); /* refused a value both read alike */
		} else {
			if (!names_ok)
				abort();
			if (out.size && memchr(out.ptr, '\0', out.size))
				abort();
			if (styles[k] != BM_CONFIG_ENV_SYSTEMD) {
				size_t lines = 0, j;
				for (j = 0; j < out.size; j++)
					lines += out.ptr[j] == '\n';
				if (lines != c->count || memchr(out.ptr ? out.ptr : "", '\r', out.size))
					abort(); /* one line per key */
				if (docker_read(&got, out.ptr ? out.ptr : "", out.size) < 0)
					abort();
				reads_back(&got, c);
				pairs_dispose(&got);
			}
			if (styles[k] != BM_CONFIG_ENV_DOCKER) {
				if (systemd_read(&got, out.ptr ? out.ptr : "", out.size) < 0)
					abort();
				reads_back(&got, c);
				pairs_dispose(&got);
			}
		}
		bm_buf_dispose(&out);
	}
}

static void check_record_json(const bm_config_value *v)
{
	bm_buf out = BM_BUF_INIT;
	json_t *root, *f;
	json_error_t jerr;

	if (bm_config_value_record_json(&out, v) < 0)
		abort();
	if (!(root = json_loadb(out.ptr, out.size, JSON_REJECT_DUPLICATES, &jerr)) || !json_is_object(root))
		abort(); /* the record's JSON view is JSON */
	switch (v->type) {
	case BM_CONFIG_STRING:
		f = json_object_get(root, "stringValue");
		if (*v->text && (!json_is_string(f) || strcmp(json_string_value(f), v->text)))
			abort();
		break;
	case BM_CONFIG_JSON:
		f = json_object_get(root, "jsonValue");
		if (!json_is_string(f) || strcmp(json_string_value(f), v->text))
			abort();
		break;
	case BM_CONFIG_INT64:
		f = json_object_get(root, "int64Value");
		if (v->int64_value && (!json_is_string(f) || strtoll(json_string_value(f), NULL, 10) != v->int64_value))
			abort();
		break;
	case BM_CONFIG_DOUBLE:
		f = json_object_get(root, "doubleValue");
		if (v->double_value != 0 && (!json_is_number(f) || json_number_value(f) != v->double_value))
			abort(); /* printed exactly */
		break;
	case BM_CONFIG_BOOL:
		f = json_object_get(root, "boolValue");
		if (v->bool_value && !json_is_true(f))
			abort();
		break;
	}
	json_decref(root);
	bm_buf_dispose(&out);
}

/* Parse `text` as `type`; on success check the value and add it to `c` under `key`. */
static void check_value(bm_config *c, const char *key, bm_config_type type, const char *text)
{
	bm_config_value v, again;
	int rc;

	memset(&v, 0, sizeof(v));
	memset(&again, 0, sizeof(again));
	rc = bm_config_value_parse(&v, type, text);
	if (rc < 0) {
		if (rc != BM_EINVALID && rc != BM_ETOOBIG && rc != BM_ENOMEM)
			abort();
		if (v.text)
			abort(); /* nothing set on error */
		return;
	}
	if (v.type != type || !v.text || strlen(v.text) > BM_CONFIG_VALUE_MAX)
		abort();
	if ((type == BM_CONFIG_STRING || type == BM_CONFIG_JSON) && strcmp(v.text, text))
		abort(); /* kept as given */
	if (bm_config_value_parse(&again, type, v.text) < 0 || strcmp(again.text, v.text) ||
	    again.int64_value != v.int64_value || again.bool_value != v.bool_value ||
	    memcmp(&again.double_value, &v.double_value, sizeof(double)))
		abort(); /* the text parses to itself */
	if (type == BM_CONFIG_DOUBLE && !isfinite(v.double_value))
		abort();
	if ((type == BM_CONFIG_INT64 || type == BM_CONFIG_DOUBLE) && text[0] && strchr(" \t\n\v\f\r", text[0]))
		abort(); /* no white space around a number ("5\n" is refused, so "\n5" must be) */
	bm_config_value_dispose(&again);
	if (!(v.key = strdup(key)))
		abort();
	check_record_json(&v);
	if (c->count < MAXV)
		c->values[c->count++] = v;
	else
		bm_config_value_dispose(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	static const char *const names[] = { "STR", "INT", "DBL", "BOOL", "JSON" };
	bm_config_value values[MAXV];
	bm_config c;
	char *text, *value, *eq, *colon;
	bm_config_type type = BM_CONFIG_STRING;
	int t, key_ok = 0, type_ok = 1, rc;
	size_t i;

	if (!initialised) {
		if (bm_global_init() < 0)
			abort();
		initialised = 1;
	}
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&c, 0, sizeof(c));
	memset(values, 0, sizeof(values));
	c.values = values;

	/* KEY[:TYPE]=VALUE, as `config set` splits it */
	value = text;
	if ((eq = strchr(text, '=')) != NULL) {
		*eq = '\0';
		value = eq + 1;
		if ((colon = strchr(text, ':')) != NULL) {
			*colon = '\0';
			rc = bm_config_type_parse(&type, colon + 1);
			if (rc < 0 && rc != BM_EINVALID)
				abort();
			type_ok = rc == 0;
			if (type_ok && strcmp(bm_config_type_str(type), "unknown") == 0)
				abort();
		}
		rc = bm_name_validate(text, BM_NAME_KEY);
		if (rc < 0 && rc != BM_EINVALID)
			abort();
		key_ok = rc == 0;
		if (key_ok && type_ok)
			check_value(&c, text, type, value);
	}
	/* the value as every type, under env-file names */
	for (t = BM_CONFIG_STRING; t <= BM_CONFIG_JSON; t++)
		check_value(&c, names[t - 1], (bm_config_type)t, value);
	check_env(&c);

	for (i = 0; i < c.count; i++)
		bm_config_value_dispose(&values[i]);
	bm_error_clear();
	free(text);
	return 0;
}
