/* serve_nats_msg.c: subjects of changed paths, and NATS write requests as HTTP writes
 * (serve_nats_msg.h). */
#include "serve_nats_msg.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- subjects ---- */

#define PARTS_MAX 48

typedef struct {
	const char *p;
	size_t n;
} part;

static size_t split(part *parts, const char *path)
{
	size_t k = 0;
	const char *s = path;
	for (;;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (k == PARTS_MAX)
			return 0;
		parts[k].p = s;
		parts[k].n = n;
		k++;
		if (!e)
			return k;
		s = e + 1;
	}
}

static int is(const part *x, const char *word)
{
	return x->n == strlen(word) && !memcmp(x->p, word, x->n);
}

/* One token from a name part: '.' as %2E; nothing that is not a name character gets here
 * from the library's layout, but a token never holds a subject's special bytes anyway. */
static int put_token(bm_buf *out, const part *x)
{
	size_t i;
	int error = 0;
	if (!x->n)
		return bm_buf_puts(out, "%00");
	for (i = 0; i < x->n && !error; i++) {
		unsigned char c = (unsigned char)x->p[i];
		if (c == '.' || c == '*' || c == '>' || c == '%' || c <= ' ' || c >= 0x7f)
			error = bm_buf_printf(out, "%%%02X", c);
		else
			error = bm_buf_putc(out, (char)c);
	}
	return error;
}

/* parts [from, to) as tokens joined with '.' */
static int put_name(bm_buf *out, const part *parts, size_t from, size_t to)
{
	size_t i;
	int error = 0;
	for (i = from; i < to && !error; i++) {
		if (i > from)
			error = bm_buf_putc(out, '.');
		if (!error)
			error = put_token(out, &parts[i]);
	}
	return error;
}

/* parts [from, to) of the path as written, then a '/' when `slash` */
static int put_path(bm_buf *out, const part *parts, size_t from, size_t to, int slash)
{
	size_t i;
	int error = 0;
	for (i = from; i < to && !error; i++) {
		error = bm_buf_put(out, parts[i].p, parts[i].n);
		if (!error && (i + 1 < to || slash))
			error = bm_buf_putc(out, '/');
	}
	return error;
}

static const char *const env_words[] = { "env.pb", "config", "secrets", "recipients", "instances", "rollouts", NULL };

static int env_word(const part *x)
{
	size_t i;
	for (i = 0; env_words[i]; i++)
		if (is(x, env_words[i]))
			return 1;
	return 0;
}

int serve_nats_subject(bm_buf *subject, bm_buf *prefix, const char *path)
{
	part p[PARTS_MAX];
	size_t n = split(p, path), w, k, i;
	int error = 0;

	bm_buf_clear(subject);
	bm_buf_clear(prefix);
	if (n < 2)
		return 1;
	for (i = 0; i < n; i++)
		if (!p[i].n)
			return 1;
	if (is(&p[0], "projects")) {
		/* the project ends at the first of the layout's words (no project part is one) */
		for (w = 2; w < n; w++)
			if (is(&p[w], "project.pb") || is(&p[w], "releases") || is(&p[w], "channels"))
				break;
		if (w >= n)
			return 1;
		if ((error = bm_buf_puts(subject, SERVE_NATS_SUBJECT_ROOT)) < 0 || (error = put_name(subject, p, 1, w)) < 0 ||
		    (error = bm_buf_putc(subject, '.')) < 0 || (error = put_path(prefix, p, 0, w, 1)) < 0)
			return error;
		if (is(&p[w], "project.pb") && w + 1 == n)
			error = bm_buf_puts(subject, "project") < 0 || bm_buf_puts(prefix, "project.pb") < 0 ? BM_ENOMEM : 0;
		else if (is(&p[w], "releases") && w + 1 < n)
			error = bm_buf_puts(subject, "releases") < 0 || bm_buf_puts(prefix, "releases/") < 0 ? BM_ENOMEM : 0;
		else if (is(&p[w], "channels") && w + 2 < n)
			error = bm_buf_puts(subject, "channels.") < 0 || put_token(subject, &p[w + 1]) < 0 ||
					put_path(prefix, p, w, w + 2, 1) < 0
				? BM_ENOMEM
				: 0;
		else
			return 1;
		return error;
	}
	if (is(&p[0], "envs")) {
		/* the env ends at the first of its folder words after its first part */
		for (w = 2; w < n; w++)
			if (env_word(&p[w]))
				break;
		if (w >= n)
			return 1;
		if (is(&p[w], "env.pb") || is(&p[w], "recipients") || is(&p[w], "instances") || is(&p[w], "rollouts")) {
			int file = is(&p[w], "env.pb");
			if (file != (w + 1 == n))
				return 1;
			if ((error = bm_buf_puts(subject, SERVE_NATS_SUBJECT_ROOT "+envs.")) < 0 ||
			    (error = put_name(subject, p, 1, w)) < 0 ||
			    (error = bm_buf_printf(subject, ".%s", file ? "env" : "")) < 0 ||
			    (!file && (error = put_token(subject, &p[w])) < 0) || (error = put_path(prefix, p, 0, w + 1, !file)) < 0)
				return error;
			return 0;
		}
		if (is(&p[w], "config")) {
			/* envs/<E>/config/<P>/+keys|+flags/<key>/<seq>.pb */
			for (k = w + 2; k < n; k++)
				if (is(&p[k], "+keys") || is(&p[k], "+flags"))
					break;
			if (k + 1 >= n)
				return 1;
			if ((error = bm_buf_puts(subject, SERVE_NATS_SUBJECT_ROOT)) < 0 ||
			    (error = put_name(subject, p, w + 1, k)) < 0 ||
			    (error = bm_buf_puts(subject, is(&p[k], "+keys") ? ".config." : ".flags.")) < 0 ||
			    (error = put_name(subject, p, 1, w)) < 0 || (error = put_path(prefix, p, 0, k + 1, 1)) < 0)
				return error;
			return 0;
		}
		/* secrets: envs/<E>/secrets/<P>/<name>/<seq>.{pb,age} */
		if (n < w + 4)
			return 1;
		if ((error = bm_buf_puts(subject, SERVE_NATS_SUBJECT_ROOT)) < 0 ||
		    (error = put_name(subject, p, w + 1, n - 2)) < 0 || (error = bm_buf_puts(subject, ".secrets.")) < 0 ||
		    (error = put_name(subject, p, 1, w)) < 0 || (error = put_path(prefix, p, 0, n - 2, 1)) < 0)
			return error;
		return 0;
	}
	if (is(&p[0], "binaries") || is(&p[0], "keys") || is(&p[0], "log") || is(&p[0], "modules")) {
		if ((error = bm_buf_puts(subject, SERVE_NATS_SUBJECT_ROOT "+")) < 0 || (error = put_token(subject, &p[0])) < 0 ||
		    (error = put_path(prefix, p, 0, 1, 1)) < 0)
			return error;
		return 0;
	}
	return 1;
}

/* ---- write requests ---- */

typedef struct {
	const char *field;
	bm_name_kind name;
	int url_only; /* the HTTP body does not take it: removed */
} wparam;

#define NAME_HOOK_ID ((bm_name_kind)-2) /* bm_webhook_id_validate */

static int param_check(const char *v, bm_name_kind kind)
{
	if (kind == NAME_HOOK_ID)
		return bm_webhook_id_validate(v);
	return kind == BM_NAME_PROJECT ? bm_project_name_check(v) : bm_name_validate(v, kind);
}

static const struct wkind {
	const char *kind;
	const char *route; /* {field} is replaced by the field's value */
	wparam params[3];
} kinds[] = {
	{ "promote", "/v1/projects/{project}/channels/{channel}/promote",
	  { { "project", BM_NAME_PROJECT, 0 }, { "channel", BM_NAME_CHANNEL, 0 } } },
	{ "release", "/v1/projects/{project}/releases", { { "project", BM_NAME_PROJECT, 0 } } },
	{ "binary", "/v1/projects/{project}/releases/{release}/binaries",
	  { { "project", BM_NAME_PROJECT, 0 }, { "release", BM_NAME_RELEASE, 0 } } },
	{ "config", "/v1/projects/{project}/envs/{env}/config",
	  { { "project", BM_NAME_PROJECT, 0 }, { "env", BM_NAME_ENV, 0 } } },
	{ "flag", "/v1/projects/{project}/envs/{env}/flags/{key}",
	  { { "project", BM_NAME_PROJECT, 0 }, { "env", BM_NAME_ENV, 0 }, { "key", BM_NAME_KEY, 0 } } },
	{ "log", "/v1/log", { { NULL, 0, 0 } } },
	{ "report", "/v1/envs/{env}/instances/{instance}/reports",
	  { { "env", BM_NAME_ENV, 1 }, { "instance", BM_NAME_KEY, 1 } } },
	{ "hook", "/v1/hooks", { { NULL, 0, 0 } } },
	{ "hook-rm", "/v1/hooks/{id}", { { "id", NAME_HOOK_ID, 1 } } },
};

const char *serve_nats_write_kinds(void)
{
	return "promote, release, binary, config, flag, log, report, hook, hook-rm";
}

static int field_error(bm_buf *err, const char *field, const char *what)
{
	bm_buf_clear(err);
	bm_buf_printf(err, "field \"%s\": %s", field, what);
	return BM_EINVALID;
}

int serve_nats_write_parse(bm_buf *url, bm_buf *body, const char *kind, const char *data, size_t len, bm_buf *err)
{
	const struct wkind *k = NULL;
	const char *values[3] = { NULL, NULL, NULL };
	json_error_t je;
	json_t *o = NULL;
	const char *r;
	size_t i;
	int error = 0, strip = 0;

	bm_buf_clear(url);
	bm_buf_clear(body);
	bm_buf_clear(err);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].kind, kind))
			k = &kinds[i];
	if (!k) {
		bm_buf_puts(err, "no write kind \"");
		for (r = kind; *r && r - kind < 64; r++)
			bm_buf_putc(err, (unsigned char)*r < 0x20 || (unsigned char)*r >= 0x7f || *r == '"' ? '?' : *r);
		bm_buf_printf(err, "\" (bootmeta.write.KIND, KIND one of %s)", serve_nats_write_kinds());
		return BM_ENOTFOUND;
	}
	if (!(o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je))) {
		/* jansson quotes the text near the error raw: a newline there would split the log line */
		bm_buf_puts(err, "the body is not JSON: ");
		bm_text_escape(err, je.text, strlen(je.text), BM_ESCAPE_ASCII);
		bm_buf_printf(err, " (line %d, column %d)", je.line, je.column);
		return BM_EINVALID;
	}
	if (!json_is_object(o)) {
		bm_buf_puts(err, "the body must be a JSON object");
		error = BM_EINVALID;
		goto done;
	}
	for (i = 0; i < 3 && k->params[i].field; i++) {
		const wparam *pm = &k->params[i];
		json_t *v = json_object_get(o, pm->field);
		if (!v || json_is_null(v)) {
			error = field_error(err, pm->field, "required (a NATS write names in its body what HTTP has in the URL)");
			goto done;
		}
		if (!json_is_string(v)) {
			error = field_error(err, pm->field, "must be a string");
			goto done;
		}
		values[i] = json_string_value(v);
		if (strlen(values[i]) != json_string_length(v)) {
			error = field_error(err, pm->field, "holds a NUL character");
			goto done;
		}
		if (param_check(values[i], pm->name) < 0) {
			error = field_error(err, pm->field, bm_error_last());
			bm_error_clear();
			goto done;
		}
		strip |= pm->url_only;
	}
	/* the route: the template with the fields' values (checked names: no "..", no '%') */
	for (r = k->route; *r && !error;) {
		if (*r == '{') {
			const char *e = strchr(r, '}');
			for (i = 0; i < 3 && k->params[i].field; i++)
				if (strlen(k->params[i].field) == (size_t)(e - r - 1) && !strncmp(r + 1, k->params[i].field, (size_t)(e - r - 1)))
					break;
			error = bm_buf_puts(url, values[i]);
			r = e + 1;
		} else {
			error = bm_buf_putc(url, *r++);
		}
	}
	if (error)
		goto done;
	if (!strip) {
		error = bm_buf_put(body, data, len);
		goto done;
	}
	for (i = 0; i < 3 && k->params[i].field; i++)
		if (k->params[i].url_only)
			json_object_del(o, k->params[i].field);
	{
		char *text = json_dumps(o, JSON_COMPACT);
		if (!text) {
			error = BM_ENOMEM;
			goto done;
		}
		error = bm_buf_puts(body, text);
		free(text);
	}
done:
	json_decref(o);
	if (error == BM_ENOMEM) {
		bm_buf_clear(err);
		bm_buf_puts(err, "out of memory");
	}
	return error;
}
