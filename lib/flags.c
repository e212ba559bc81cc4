/* flags.c: feature flags: building a flag from its text form, the bootmeta.v1.Flag record,
 * evaluation (flagd's `fractional` bucketing), JSON rendering and the flagd export.
 *
 * Every way of making a bm_flag (from_spec, dup, set_rule, decode) goes through the same
 * checks, so bm_flag_eval can trust the indices and weights it reads and stay branch-light
 * and allocation-free. */
#include "bootmeta/flags.h"
#include "record_int.h"
#include "bootmeta/names.h"
#include "bootmeta/utf8.h"
#include "optcheck.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "bootmeta/v1/flags.pb-c.h"

/* ---- small helpers ---- */

static char *dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static int dup_into(char **out, const char *s)
{
	*out = dupn(s ? s : "", s ? strlen(s) : 0);
	return *out ? 0 : bm_error_set(BM_ENOMEM, "out of memory");
}

/* ---- JSON writing (our own, so numbers print shortest and key order is ours) ---- */

static int put_json_str(bm_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	int error;

	if ((error = bm_buf_putc(out, '"')) < 0)
		return error;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((error = bm_buf_put(out, s + start, i - start)) < 0)
			return error;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if ((error = bm_buf_put(out, esc, elen)) < 0)
			return error;
		start = i + 1;
	}
	if ((error = bm_buf_put(out, s + start, n - start)) < 0)
		return error;
	return bm_buf_putc(out, '"');
}

static int put_str(bm_buf *out, const char *s)
{
	return put_json_str(out, s ? s : "", s ? strlen(s) : 0);
}

/* The fewest significant digits that read back to the same double. */
static int put_number(bm_buf *out, double d)
{
	char tmp[40];
	int prec;
	if (!isfinite(d))
		return bm_error_set(BM_EINVALID, "a number must be finite");
	if (d == 0)
		return bm_buf_puts(out, signbit(d) ? "-0" : "0");
	if (d > -1e16 && d < 1e16 && d == (double)(long long)d)  /* whole: 1000, not 1e+03 */
		return bm_buf_printf(out, "%.0f", d);
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	return bm_buf_puts(out, tmp);
}

static int put_json_value(bm_buf *out, const json_t *v)
{
	int error = 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *item;
		int first = 1;
		if ((error = bm_buf_putc(out, '{')) < 0)
			return error;
		json_object_foreach((json_t *)v, k, item) {
			if (!first && (error = bm_buf_putc(out, ',')) < 0)
				return error;
			first = 0;
			if ((error = put_str(out, k)) < 0 || (error = bm_buf_putc(out, ':')) < 0 ||
			    (error = put_json_value(out, item)) < 0)
				return error;
		}
		return bm_buf_putc(out, '}');
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;
		if ((error = bm_buf_putc(out, '[')) < 0)
			return error;
		json_array_foreach(v, i, item) {
			if (i && (error = bm_buf_putc(out, ',')) < 0)
				return error;
			if ((error = put_json_value(out, item)) < 0)
				return error;
		}
		return bm_buf_putc(out, ']');
	}
	case JSON_STRING:
		return put_json_str(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return bm_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return put_number(out, json_real_value(v));
	case JSON_TRUE:
		return bm_buf_puts(out, "true");
	case JSON_FALSE:
		return bm_buf_puts(out, "false");
	case JSON_NULL:
		return bm_buf_puts(out, "null");
	}
	return bm_error_set(BM_ERROR, "unknown JSON type");
}

/* ---- names of things ---- */

const char *bm_flag_type_str(bm_flag_type type)
{
	switch (type) {
	case BM_FLAG_TYPE_AUTO: return "auto";
	case BM_FLAG_TYPE_BOOL: return "bool";
	case BM_FLAG_TYPE_STRING: return "string";
	case BM_FLAG_TYPE_NUMBER: return "number";
	case BM_FLAG_TYPE_JSON: return "json";
	}
	return "unknown";
}

int bm_flag_type_parse(bm_flag_type *out, const char *s)
{
	static const bm_flag_type all[] = { BM_FLAG_TYPE_AUTO, BM_FLAG_TYPE_BOOL,
		BM_FLAG_TYPE_STRING, BM_FLAG_TYPE_NUMBER, BM_FLAG_TYPE_JSON };
	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(s, bm_flag_type_str(all[i]))) {
			*out = all[i];
			return 0;
		}
	}
	return bm_error_set(BM_EINVALID, "unknown flag type '%s'; use auto, bool, string, number or json",
			    s ? s : "");
}

const char *bm_flag_reason_str(bm_flag_reason reason)
{
	switch (reason) {
	case BM_FLAG_REASON_STATIC: return "STATIC";
	case BM_FLAG_REASON_TARGETING_MATCH: return "TARGETING_MATCH";
	case BM_FLAG_REASON_SPLIT: return "SPLIT";
	case BM_FLAG_REASON_DEFAULT: return "DEFAULT";
	case BM_FLAG_REASON_DISABLED: return "DISABLED";
	}
	return "UNKNOWN";
}

/* ---- values ---- */

/* 1 when s is a JSON number (RFC 8259 grammar). */
static int is_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

static int is_bool_text(const char *s)
{
	return !strcmp(s, "true") || !strcmp(s, "false");
}

static int looks_like_object(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '{';
}

/* Fill v's value from text as `type` (v->name is set by the caller). */
static int value_parse(bm_flag_variant *v, bm_flag_type type, const char *text)
{
	size_t len = strlen(text);
	if (len > BM_FLAG_MAX_VALUE)
		return bm_error_set(BM_ETOOBIG, "variant '%s': value is %zu bytes, over the %d byte bound",
				    v->name, len, BM_FLAG_MAX_VALUE);
	v->type = type;
	switch (type) {
	case BM_FLAG_TYPE_BOOL:
		if (!is_bool_text(text))
			return bm_error_set(BM_EINVALID, "variant '%s': '%s' is not a bool; use true or false",
					    v->name, text);
		v->bool_value = text[0] == 't';
		return 0;
	case BM_FLAG_TYPE_NUMBER:
		if (!is_json_number(text))
			return bm_error_set(BM_EINVALID,
					    "variant '%s': '%s' is not a number; write a decimal like 42, -1.5 or 2e3",
					    v->name, text);
		errno = 0;
		v->number_value = strtod(text, NULL);
		if (!isfinite(v->number_value))
			return bm_error_set(BM_EINVALID, "variant '%s': '%s' is out of the range of a double",
					    v->name, text);
		return 0;
	case BM_FLAG_TYPE_STRING:
		if (memchr(text, '\0', len) || !bm_utf8_valid(text, len))
			return bm_error_set(BM_EINVALID, "variant '%s': the value is not valid UTF-8", v->name);
		return dup_into(&v->string_value, text);
	case BM_FLAG_TYPE_JSON: {
		json_error_t jerr;
		json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		bm_buf b = BM_BUF_INIT;
		int error;
		if (!j)
			return bm_error_set(BM_EINVALID, "variant '%s': not valid JSON: %s (column %d)",
					    v->name, jerr.text, jerr.column);
		if (!json_is_object(j)) {
			json_decref(j);
			return bm_error_set(BM_EINVALID, "variant '%s': a json flag's values must be JSON objects ({...})",
					    v->name);
		}
		error = put_json_value(&b, j);
		json_decref(j);
		if (error < 0) {
			bm_buf_dispose(&b);
			return error;
		}
		v->string_value = bm_buf_detach(&b);
		return 0;
	}
	case BM_FLAG_TYPE_AUTO:
		break;
	}
	return bm_error_set(BM_EINVALID, "variant '%s': unknown type", v->name);
}

static bm_flag_type infer_type(const char *const *values, size_t n)
{
	size_t i, bools = 0, numbers = 0, objects = 0;
	for (i = 0; i < n; i++) {
		bools += is_bool_text(values[i]);
		numbers += is_json_number(values[i]);
		objects += looks_like_object(values[i]);
	}
	if (n && bools == n)
		return BM_FLAG_TYPE_BOOL;
	if (n && numbers == n)
		return BM_FLAG_TYPE_NUMBER;
	if (n && objects == n)
		return BM_FLAG_TYPE_JSON;
	return BM_FLAG_TYPE_STRING;
}

static int variant_name_check(const char *name)
{
	int error = bm_name_validate(name, BM_NAME_KEY);
	if (error < 0)
		return bm_error_prefix(error, "variant name '%s'", name);
	return 0;
}

/* ---- building and freeing ---- */

static void variant_dispose(bm_flag_variant *v)
{
	free(v->name);
	free(v->string_value);
	memset(v, 0, sizeof(*v));
}

static void rule_dispose(bm_flag_rule *r)
{
	free(r->channel);
	free(r->weights);
	memset(r, 0, sizeof(*r));
}

void bm_flag_free(bm_flag *flag)
{
	size_t i;
	if (!flag)
		return;
	for (i = 0; i < flag->nvariants; i++)
		variant_dispose(&flag->variants[i]);
	for (i = 0; i < flag->nrules; i++)
		rule_dispose(&flag->rules[i]);
	free(flag->variants);
	free(flag->rules);
	free(flag->project);
	free(flag->env);
	free(flag->key);
	free(flag->actor);
	free(flag);
}

int bm_flag_variant_index(const bm_flag *flag, const char *name)
{
	for (size_t i = 0; flag && name && i < flag->nvariants; i++)
		if (!strcmp(flag->variants[i].name, name))
			return (int)i;
	return -1;
}

const bm_flag_rule *bm_flag_rule_find(const bm_flag *flag, const char *channel)
{
	size_t len, i;
	if (!flag || !channel)
		return NULL;
	len = strlen(channel);
	for (i = 0; i < flag->nrules; i++) {
		const bm_flag_rule *r = &flag->rules[i];
		if (r->channel_len == len && !memcmp(r->channel, channel, len))
			return r;
	}
	return NULL;
}

static int flag_alloc(bm_flag **out, const char *project, const char *env, const char *key)
{
	bm_flag *f;
	int error;

	*out = NULL;
	if ((error = bm_name_validate(project ? project : "", BM_NAME_PROJECT)) < 0 ||
	    (error = bm_name_validate(env ? env : "", BM_NAME_ENV)) < 0)
		return error;
	if ((error = bm_name_validate(key ? key : "", BM_NAME_KEY)) < 0)
		return bm_error_prefix(error, "flag key");
	if (!(f = calloc(1, sizeof(*f))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if ((error = dup_into(&f->project, project)) < 0 || (error = dup_into(&f->env, env)) < 0 ||
	    (error = dup_into(&f->key, key)) < 0) {
		bm_flag_free(f);
		return error;
	}
	bm_murmur3_init(&f->key_hash, 0);
	bm_murmur3_update(&f->key_hash, f->key, strlen(f->key));
	*out = f;
	return 0;
}

/* Add a weight to a rule being built: checks the variant is not listed twice and the sum
 * stays within BM_FLAG_WEIGHT_MAX. `weights` has room for every variant. */
static int rule_add_weight(bm_flag_rule *r, const bm_flag *f, int idx, uint64_t weight, const char *ctx)
{
	size_t i;
	if (idx < 0)
		return bm_error_set(BM_EINVALID, "%s: no such variant; the flag's variants are listed by `flag show`", ctx);
	for (i = 0; i < r->nweights; i++)
		if (r->weights[i].variant == (uint32_t)idx)
			return bm_error_set(BM_EINVALID, "%s: variant '%s' is listed twice", ctx, f->variants[idx].name);
	if (weight > BM_FLAG_WEIGHT_MAX || (uint64_t)r->total_weight + weight > BM_FLAG_WEIGHT_MAX)
		return bm_error_set(BM_EINVALID, "%s: the weights add up to more than %u; use smaller weights",
				    ctx, BM_FLAG_WEIGHT_MAX);
	if (r->nweights >= f->nvariants)
		return bm_error_set(BM_EINVALID, "%s: more weights than variants", ctx);
	r->weights[r->nweights].variant = (uint32_t)idx;
	r->weights[r->nweights].weight = (uint32_t)weight;
	r->nweights++;
	r->total_weight += (uint32_t)weight;
	return 0;
}

static int rule_begin(bm_flag_rule *r, const bm_flag *f, const char *channel, size_t channel_len)
{
	int error;
	memset(r, 0, sizeof(*r));
	r->variant = -1;
	if (!(r->channel = dupn(channel, channel_len)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	r->channel_len = channel_len;
	if ((error = bm_name_validate(r->channel, BM_NAME_CHANNEL)) < 0)
		return bm_error_prefix(error, "rule for '%s'", r->channel);
	if (!(r->weights = calloc(f->nvariants ? f->nvariants : 1, sizeof(*r->weights))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	return 0;
}

static int rule_end(bm_flag_rule *r, const char *ctx)
{
	if (r->variant < 0 && r->total_weight == 0)
		return bm_error_set(BM_EINVALID, "%s: the weights add up to zero; give at least one variant a weight above 0",
				    ctx);
	if (r->variant >= 0) {
		free(r->weights);
		r->weights = NULL;
		r->nweights = 0;
	}
	return 0;
}

/* Parse "channel=variant" or "channel=v:w,v:w" into r. */
static int rule_parse(bm_flag_rule *r, const bm_flag *f, const char *text)
{
	const char *eq = strchr(text, '='), *p;
	char ctx[200], name[160];
	int error;

	snprintf(ctx, sizeof(ctx), "rule '%.150s'", text);
	memset(r, 0, sizeof(*r));
	if (!eq)
		return bm_error_set(BM_EINVALID, "%s: write channel=variant or channel=variant:weight,variant:weight", ctx);
	if ((error = rule_begin(r, f, text, (size_t)(eq - text))) < 0)
		return error;
	p = eq + 1;
	if (!strpbrk(p, ":,")) {
		if ((error = variant_name_check(p)) < 0)
			return bm_error_prefix(error, "%s", ctx);
		if ((r->variant = bm_flag_variant_index(f, p)) < 0)
			return bm_error_set(BM_EINVALID, "%s: no variant '%s' in the flag", ctx, p);
		return rule_end(r, ctx);
	}
	for (;;) {
		const char *colon, *end = strchr(p, ',');
		uint64_t w = 0;
		size_t nlen;
		if (!end)
			end = p + strlen(p);
		if (end == p)
			return bm_error_set(BM_EINVALID, "%s: an empty entry between commas", ctx);
		colon = memchr(p, ':', (size_t)(end - p));
		if (!colon)
			return bm_error_set(BM_EINVALID, "%s: '%.*s' has no weight; write variant:weight",
					    ctx, (int)(end - p > 100 ? 100 : end - p), p);
		nlen = (size_t)(colon - p);
		if (nlen == 0)
			return bm_error_set(BM_EINVALID, "%s: a weight without a variant name", ctx);
		if (nlen >= sizeof(name))
			return bm_error_set(BM_EINVALID, "%s: a variant name over 128 characters", ctx);
		memcpy(name, p, nlen);
		name[nlen] = '\0';
		if (colon + 1 == end)
			return bm_error_set(BM_EINVALID, "%s: variant '%s' has an empty weight", ctx, name);
		for (const char *d = colon + 1; d < end; d++) {
			if (!isdigit((unsigned char)*d))
				return bm_error_set(BM_EINVALID, "%s: the weight of '%s' is not a whole number (0 .. %u)",
						    ctx, name, BM_FLAG_WEIGHT_MAX);
			w = w * 10 + (uint64_t)(*d - '0');
			if (w > BM_FLAG_WEIGHT_MAX)
				return bm_error_set(BM_EINVALID, "%s: the weight of '%s' is over %u", ctx, name,
						    BM_FLAG_WEIGHT_MAX);
		}
		if (bm_flag_variant_index(f, name) < 0)
			return bm_error_set(BM_EINVALID, "%s: no variant '%s' in the flag", ctx, name);
		if ((error = rule_add_weight(r, f, bm_flag_variant_index(f, name), w, ctx)) < 0)
			return error;
		if (!*end)
			break;
		p = end + 1;
	}
	return rule_end(r, ctx);
}

/* Insert or replace a rule (takes ownership of *r on success). */
static int flag_put_rule(bm_flag *f, bm_flag_rule *r, int replace)
{
	size_t i;
	for (i = 0; i < f->nrules; i++) {
		if (strcmp(f->rules[i].channel, r->channel))
			continue;
		if (!replace)
			return bm_error_set(BM_EINVALID, "two rules for channel '%s'; give one rule per channel", r->channel);
		rule_dispose(&f->rules[i]);
		f->rules[i] = *r;
		return 0;
	}
	if (f->nrules >= BM_FLAG_MAX_RULES)
		return bm_error_set(BM_ETOOBIG, "over %d channel rules", BM_FLAG_MAX_RULES);
	{
		bm_flag_rule *grown = realloc(f->rules, (f->nrules + 1) * sizeof(*grown));
		if (!grown)
			return bm_error_set(BM_ENOMEM, "out of memory");
		f->rules = grown;
	}
	f->rules[f->nrules++] = *r;
	return 0;
}

static int flag_add_rule_text(bm_flag *f, const char *text, int replace)
{
	bm_flag_rule r;
	int error;
	if ((error = rule_parse(&r, f, text ? text : "")) < 0 || (error = flag_put_rule(f, &r, replace)) < 0)
		rule_dispose(&r);
	return error;
}

int bm_flag_from_spec(bm_flag **out, const bm_flag_spec *spec)
{
	bm_flag *f = NULL;
	const char **values = NULL;
	size_t i;
	int error;

	if (!out || !spec)
		return bm_error_set(BM_EINVALID, "bm_flag_from_spec: NULL argument");
	*out = NULL;
	if ((error = BM_OPTS_CHECK(spec, BM_FLAG_SPEC_VERSION, "bm_flag_spec")) < 0)
		return error;
	if ((error = flag_alloc(&f, spec->project, spec->env, spec->key)) < 0)
		goto done;
	if (spec->nvariants == 0) {
		bm_error_set(BM_EINVALID, "flag '%s' has no variants", spec->key);
		error = bm_error_set_about(BM_ABOUT_FLAG_VARIANTS, NULL);
		goto done;
	}
	if (spec->nvariants > BM_FLAG_MAX_VARIANTS) {
		error = bm_error_set(BM_ETOOBIG, "%zu variants; a flag has at most %d", spec->nvariants,
				     BM_FLAG_MAX_VARIANTS);
		goto done;
	}
	if (!(values = calloc(spec->nvariants, sizeof(*values))) ||
	    !(f->variants = calloc(spec->nvariants, sizeof(*f->variants)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < spec->nvariants; i++) {
		const char *text = spec->variants[i] ? spec->variants[i] : "";
		const char *eq = strchr(text, '=');
		bm_flag_variant *v = &f->variants[i];
		if (!eq) {
			error = bm_error_set(BM_EINVALID, "variant '%.100s': write name=value, e.g. on=true", text);
			goto done;
		}
		if (!(v->name = dupn(text, (size_t)(eq - text)))) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		f->nvariants++;
		if ((error = variant_name_check(v->name)) < 0)
			goto done;
		if (bm_flag_variant_index(f, v->name) != (int)i) {
			error = bm_error_set(BM_EINVALID, "variant '%s' is given twice", v->name);
			goto done;
		}
		values[i] = eq + 1;
	}
	f->type = spec->type == BM_FLAG_TYPE_AUTO ? infer_type(values, spec->nvariants) : spec->type;
	for (i = 0; i < f->nvariants; i++)
		if ((error = value_parse(&f->variants[i], f->type, values[i])) < 0)
			goto done;
	if (spec->default_variant) {
		int idx = bm_flag_variant_index(f, spec->default_variant);
		if (idx < 0) {
			error = bm_error_set(BM_EINVALID, "default variant '%s' is not one of the flag's variants",
					     spec->default_variant);
			goto done;
		}
		f->default_variant = (size_t)idx;
	}
	if (spec->nrules > BM_FLAG_MAX_RULES) {
		error = bm_error_set(BM_ETOOBIG, "%zu rules; a flag has at most %d", spec->nrules, BM_FLAG_MAX_RULES);
		goto done;
	}
	for (i = 0; i < spec->nrules; i++)
		if ((error = flag_add_rule_text(f, spec->rules[i], 0)) < 0)
			goto done;
	f->disabled = spec->disabled != 0;
	*out = f;
	f = NULL;
done:
	free(values);
	bm_flag_free(f);
	return error;
}

int bm_flag_set_rule(bm_flag *flag, const char *text)
{
	if (!flag)
		return bm_error_set(BM_EINVALID, "bm_flag_set_rule: NULL flag");
	return flag_add_rule_text(flag, text, 1);
}

int bm_flag_remove_rule(bm_flag *flag, const char *channel)
{
	size_t i;
	for (i = 0; flag && channel && i < flag->nrules; i++) {
		if (strcmp(flag->rules[i].channel, channel))
			continue;
		rule_dispose(&flag->rules[i]);
		memmove(&flag->rules[i], &flag->rules[i + 1], (flag->nrules - i - 1) * sizeof(flag->rules[0]));
		flag->nrules--;
		return 0;
	}
	return bm_error_set(BM_ENOTFOUND, "flag has no rule for channel '%s'", channel ? channel : "");
}

int bm_flag_set_default(bm_flag *flag, const char *variant)
{
	int idx = bm_flag_variant_index(flag, variant);
	if (idx < 0)
		return bm_error_set(BM_EINVALID, "default variant '%s' is not one of the flag's variants",
				    variant ? variant : "");
	flag->default_variant = (size_t)idx;
	return 0;
}

void bm_flag_set_disabled(bm_flag *flag, int disabled)
{
	if (flag)
		flag->disabled = disabled != 0;
}

int bm_flag_set_meta(bm_flag *flag, int64_t time_ms, const char *actor, uint64_t seq)
{
	char *a;
	if (!flag)
		return bm_error_set(BM_EINVALID, "bm_flag_set_meta: NULL flag");
	if (actor && !bm_utf8_valid(actor, strlen(actor)))
		return bm_error_set(BM_EINVALID, "actor is not valid UTF-8");
	if (!(a = dupn(actor ? actor : "", actor ? strlen(actor) : 0)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	free(flag->actor);
	flag->actor = a;
	flag->time_ms = time_ms;
	flag->seq = seq;
	return 0;
}

int bm_flag_dup(bm_flag **out, const bm_flag *flag)
{
	bm_buf b = BM_BUF_INIT;
	int error;
	if (!out || !flag)
		return bm_error_set(BM_EINVALID, "bm_flag_dup: NULL argument");
	/* The record round trip is the one deep copy that cannot forget a field. */
	if ((error = bm_flag_encode(&b, flag)) == 0)
		error = bm_flag_decode(out, b.ptr, b.size);
	bm_buf_dispose(&b);
	return error;
}

/* ---- text forms ---- */

int bm_flag_variant_format(bm_buf *out, const bm_flag_variant *v)
{
	int error;
	if ((error = bm_buf_printf(out, "%s=", v->name)) < 0)
		return error;
	switch (v->type) {
	case BM_FLAG_TYPE_STRING:
	case BM_FLAG_TYPE_JSON:
		return bm_buf_puts(out, v->string_value);
	default:
		return bm_flag_value_to_json(out, v);
	}
}

int bm_flag_rule_format(bm_buf *out, const bm_flag *flag, const bm_flag_rule *rule)
{
	int error;
	size_t i;
	if ((error = bm_buf_printf(out, "%s=", rule->channel)) < 0)
		return error;
	if (rule->variant >= 0)
		return bm_buf_puts(out, flag->variants[rule->variant].name);
	for (i = 0; i < rule->nweights; i++)
		if ((error = bm_buf_printf(out, "%s%s:%u", i ? "," : "", flag->variants[rule->weights[i].variant].name,
					   rule->weights[i].weight)) < 0)
			return error;
	return 0;
}

/* ---- evaluation ---- */

int bm_flag_eval(bm_flag_result *out, const bm_flag *flag, const char *channel,
		 const char *targeting_key, const bm_flag_attrs *attrs)
{
	size_t idx;
	bm_flag_reason reason;
	(void)attrs;

	if (!out || !flag)
		return bm_error_set(BM_EINVALID, "bm_flag_eval: NULL argument");
	idx = flag->default_variant;
	if (flag->disabled) {
		reason = BM_FLAG_REASON_DISABLED;
	} else if (flag->nrules == 0) {
		reason = BM_FLAG_REASON_STATIC;
	} else {
		const bm_flag_rule *r = bm_flag_rule_find(flag, channel);
		if (!r) {
			reason = BM_FLAG_REASON_DEFAULT;
		} else if (r->variant >= 0) {
			idx = (size_t)r->variant;
			reason = BM_FLAG_REASON_TARGETING_MATCH;
		} else if (!targeting_key || !*targeting_key) {
			/* flagd's fractional gives null without a targeting key: the default. */
			reason = BM_FLAG_REASON_DEFAULT;
		} else {
			bm_murmur3 m = flag->key_hash;
			uint64_t bucket, sum = 0;
			size_t i;
			bm_murmur3_update(&m, targeting_key, strlen(targeting_key));
			bucket = ((uint64_t)bm_murmur3_final(&m) * r->total_weight) >> 32;
			reason = BM_FLAG_REASON_SPLIT;
			/* bucket < total_weight, so some weight always takes it. */
			for (i = 0; i < r->nweights; i++) {
				sum += r->weights[i].weight;
				if (sum > bucket) {
					idx = r->weights[i].variant;
					break;
				}
			}
		}
	}
	out->value = &flag->variants[idx];
	out->variant = flag->variants[idx].name;
	out->variant_index = idx;
	out->reason = reason;
	return 0;
}

/* ---- record ---- */

int bm_flag_encode(bm_buf *out, const bm_flag *f)
{
	Bootmeta__V1__Flag msg = BOOTMETA__V1__FLAG__INIT;
	Bootmeta__V1__FlagVariant *vs = NULL, **vps = NULL;
	Bootmeta__V1__ChannelRule *rs = NULL, **rps = NULL;
	Bootmeta__V1__FlagWeight *ws = NULL, **wps = NULL;
	size_t i, j, nw = 0, wi = 0, len;
	int error = 0;

	if (!out || !f)
		return bm_error_set(BM_EINVALID, "bm_flag_encode: NULL argument");
	for (i = 0; i < f->nrules; i++)
		nw += f->rules[i].nweights;
	vs = calloc(f->nvariants + 1, sizeof(*vs));
	vps = calloc(f->nvariants + 1, sizeof(*vps));
	rs = calloc(f->nrules + 1, sizeof(*rs));
	rps = calloc(f->nrules + 1, sizeof(*rps));
	ws = calloc(nw + 1, sizeof(*ws));
	wps = calloc(nw + 1, sizeof(*wps));
	if (!vs || !vps || !rs || !rps || !ws || !wps) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	msg.project = f->project;
	msg.env = f->env;
	msg.key = f->key;
	msg.default_variant = f->variants[f->default_variant].name;
	msg.disabled = f->disabled;
	msg.time_ms = f->time_ms;
	msg.actor = f->actor ? f->actor : "";
	msg.seq = f->seq;
	for (i = 0; i < f->nvariants; i++) {
		const bm_flag_variant *v = &f->variants[i];
		bootmeta__v1__flag_variant__init(&vs[i]);
		vs[i].name = v->name;
		switch (v->type) {
		case BM_FLAG_TYPE_BOOL:
			vs[i].value_case = BOOTMETA__V1__FLAG_VARIANT__VALUE_BOOL_VALUE;
			vs[i].bool_value = v->bool_value;
			break;
		case BM_FLAG_TYPE_NUMBER:
			vs[i].value_case = BOOTMETA__V1__FLAG_VARIANT__VALUE_NUMBER_VALUE;
			vs[i].number_value = v->number_value;
			break;
		case BM_FLAG_TYPE_STRING:
			vs[i].value_case = BOOTMETA__V1__FLAG_VARIANT__VALUE_STRING_VALUE;
			vs[i].string_value = v->string_value;
			break;
		default:
			vs[i].value_case = BOOTMETA__V1__FLAG_VARIANT__VALUE_JSON_VALUE;
			vs[i].json_value = v->string_value;
			break;
		}
		vps[i] = &vs[i];
	}
	msg.variants = vps;
	msg.n_variants = f->nvariants;
	for (i = 0; i < f->nrules; i++) {
		const bm_flag_rule *r = &f->rules[i];
		bootmeta__v1__channel_rule__init(&rs[i]);
		rs[i].channel = r->channel;
		if (r->variant >= 0)
			rs[i].variant = f->variants[r->variant].name;
		rs[i].weights = wps + wi;
		rs[i].n_weights = r->nweights;
		for (j = 0; j < r->nweights; j++, wi++) {
			bootmeta__v1__flag_weight__init(&ws[wi]);
			ws[wi].variant = f->variants[r->weights[j].variant].name;
			ws[wi].weight = r->weights[j].weight;
			wps[wi] = &ws[wi];
		}
		rps[i] = &rs[i];
	}
	msg.rules = rps;
	msg.n_rules = f->nrules;
	len = bootmeta__v1__flag__get_packed_size(&msg);
	if ((error = bm_buf_grow(out, out->size + len + 1)) < 0)
		goto done;
	bootmeta__v1__flag__pack(&msg, (uint8_t *)out->ptr + out->size);
	out->size += len;
	out->ptr[out->size] = '\0';
done:
	free(vs);
	free(vps);
	free(rs);
	free(rps);
	free(ws);
	free(wps);
	return error;
}

static int decode_variant(bm_flag_variant *v, bm_flag_type *type, const Bootmeta__V1__FlagVariant *pv, size_t i)
{
	bm_flag_type t;
	int error;
	if (!(v->name = dupn(pv->name, strlen(pv->name))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if ((error = variant_name_check(v->name)) < 0)
		return error;
	switch (pv->value_case) {
	case BOOTMETA__V1__FLAG_VARIANT__VALUE_BOOL_VALUE: t = BM_FLAG_TYPE_BOOL; break;
	case BOOTMETA__V1__FLAG_VARIANT__VALUE_NUMBER_VALUE: t = BM_FLAG_TYPE_NUMBER; break;
	case BOOTMETA__V1__FLAG_VARIANT__VALUE_STRING_VALUE: t = BM_FLAG_TYPE_STRING; break;
	case BOOTMETA__V1__FLAG_VARIANT__VALUE_JSON_VALUE: t = BM_FLAG_TYPE_JSON; break;
	default:
		return bm_error_set(BM_EINVALID, "variant '%s' has no value", v->name);
	}
	if (i == 0)
		*type = t;
	else if (t != *type)
		return bm_error_set(BM_EINVALID, "variant '%s' is a %s but the flag is a %s flag", v->name,
				    bm_flag_type_str(t), bm_flag_type_str(*type));
	v->type = t;
	switch (t) {
	case BM_FLAG_TYPE_BOOL:
		v->bool_value = pv->bool_value != 0;
		return 0;
	case BM_FLAG_TYPE_NUMBER:
		if (!isfinite(pv->number_value))
			return bm_error_set(BM_EINVALID, "variant '%s' is not a finite number", v->name);
		v->number_value = pv->number_value;
		return 0;
	case BM_FLAG_TYPE_STRING:
		return value_parse(v, t, pv->string_value ? pv->string_value : "");
	default:
		return value_parse(v, t, pv->json_value ? pv->json_value : "");
	}
}

static int decode_rule(bm_flag_rule *r, const bm_flag *f, const Bootmeta__V1__ChannelRule *pr)
{
	char ctx[120];
	size_t i;
	int error;
	const char *ch = pr->channel ? pr->channel : "";

	snprintf(ctx, sizeof(ctx), "rule for '%.64s'", ch);
	if ((error = rule_begin(r, f, ch, strlen(ch))) < 0)
		return error;
	if (pr->variant && *pr->variant) {
		if (pr->n_weights)
			return bm_error_set(BM_EINVALID, "%s has both a variant and weights", ctx);
		if ((r->variant = bm_flag_variant_index(f, pr->variant)) < 0)
			return bm_error_set(BM_EINVALID, "%s: no variant '%s' in the flag", ctx, pr->variant);
		return rule_end(r, ctx);
	}
	if (!pr->n_weights)
		return bm_error_set(BM_EINVALID, "%s has neither a variant nor weights", ctx);
	for (i = 0; i < pr->n_weights; i++) {
		const Bootmeta__V1__FlagWeight *w = pr->weights[i];
		if ((error = rule_add_weight(r, f, bm_flag_variant_index(f, w->variant), w->weight, ctx)) < 0)
			return error;
	}
	return rule_end(r, ctx);
}

int bm_flag_decode(bm_flag **out, const void *data, size_t len)
{
	Bootmeta__V1__Flag *msg = NULL;
	bm_flag *f = NULL;
	size_t i;
	int error = 0;

	if (!out)
		return bm_error_set(BM_EINVALID, "bm_flag_decode: NULL argument");
	*out = NULL;
	if ((error = bm__pb_unpack((ProtobufCMessage **)&msg, &bootmeta__v1__flag__descriptor, NULL, data, len)) < 0)
		return error == BM_ECORRUPT ? bm_error_set(BM_ECORRUPT, "flag record does not decode as bootmeta.v1.Flag")
					    : error;
	if ((error = flag_alloc(&f, msg->project, msg->env, msg->key)) < 0)
		goto done;
	if (msg->n_variants == 0 || msg->n_variants > BM_FLAG_MAX_VARIANTS) {
		error = bm_error_set(BM_EINVALID, "%zu variants (1 .. %d allowed)", msg->n_variants, BM_FLAG_MAX_VARIANTS);
		goto done;
	}
	if (msg->n_rules > BM_FLAG_MAX_RULES) {
		error = bm_error_set(BM_EINVALID, "%zu rules (at most %d)", msg->n_rules, BM_FLAG_MAX_RULES);
		goto done;
	}
	if (!(f->variants = calloc(msg->n_variants, sizeof(*f->variants)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < msg->n_variants; i++) {
		f->nvariants++;
		if ((error = decode_variant(&f->variants[i], &f->type, msg->variants[i], i)) < 0)
			goto done;
		if (bm_flag_variant_index(f, f->variants[i].name) != (int)i) {
			error = bm_error_set(BM_EINVALID, "variant '%s' appears twice", f->variants[i].name);
			goto done;
		}
	}
	if ((error = bm_flag_set_default(f, msg->default_variant)) < 0)
		goto done;
	for (i = 0; i < msg->n_rules; i++) {
		bm_flag_rule r;
		if ((error = decode_rule(&r, f, msg->rules[i])) < 0 || (error = flag_put_rule(f, &r, 0)) < 0) {
			rule_dispose(&r);
			goto done;
		}
	}
	f->disabled = msg->disabled != 0;
	if ((error = bm_flag_set_meta(f, msg->time_ms, msg->actor, msg->seq)) < 0)
		goto done;
	*out = f;
	f = NULL;
done:
	if (error < 0 && error != BM_ENOMEM)
		error = bm_error_prefix(BM_ECORRUPT, "flag record");
	bm_flag_free(f);
	if (msg)
		bootmeta__v1__flag__free_unpacked(msg, NULL);
	return error;
}

/* ---- JSON ---- */

int bm_flag_value_to_json(bm_buf *out, const bm_flag_variant *v)
{
	switch (v->type) {
	case BM_FLAG_TYPE_BOOL:
		return bm_buf_puts(out, v->bool_value ? "true" : "false");
	case BM_FLAG_TYPE_NUMBER:
		return put_number(out, v->number_value);
	case BM_FLAG_TYPE_STRING:
		return put_str(out, v->string_value);
	case BM_FLAG_TYPE_JSON:
		return bm_buf_puts(out, v->string_value);  /* stored as compact JSON */
	default:
		return bm_error_set(BM_EINVALID, "variant '%s' has no type", v->name);
	}
}

static int put_variants_object(bm_buf *out, const bm_flag *f)
{
	int error;
	size_t i;
	if ((error = bm_buf_putc(out, '{')) < 0)
		return error;
	for (i = 0; i < f->nvariants; i++) {
		if ((i && (error = bm_buf_putc(out, ',')) < 0) || (error = put_str(out, f->variants[i].name)) < 0 ||
		    (error = bm_buf_putc(out, ':')) < 0 || (error = bm_flag_value_to_json(out, &f->variants[i])) < 0)
			return error;
	}
	return bm_buf_putc(out, '}');
}

int bm_flag_to_json(bm_buf *out, const bm_flag *f)
{
	int error;
	size_t i, j;
	if (!out || !f)
		return bm_error_set(BM_EINVALID, "bm_flag_to_json: NULL argument");
	if ((error = bm_buf_puts(out, "{\"project\":")) < 0 || (error = put_str(out, f->project)) < 0 ||
	    (error = bm_buf_puts(out, ",\"env\":")) < 0 || (error = put_str(out, f->env)) < 0 ||
	    (error = bm_buf_puts(out, ",\"key\":")) < 0 || (error = put_str(out, f->key)) < 0 ||
	    (error = bm_buf_printf(out, ",\"type\":\"%s\",\"state\":\"%s\",\"variants\":", bm_flag_type_str(f->type),
				   f->disabled ? "DISABLED" : "ENABLED")) < 0 ||
	    (error = put_variants_object(out, f)) < 0 ||
	    (error = bm_buf_puts(out, ",\"defaultVariant\":")) < 0 ||
	    (error = put_str(out, f->variants[f->default_variant].name)) < 0 ||
	    (error = bm_buf_puts(out, ",\"rules\":[")) < 0)
		return error;
	for (i = 0; i < f->nrules; i++) {
		const bm_flag_rule *r = &f->rules[i];
		if ((error = bm_buf_puts(out, i ? ",{\"channel\":" : "{\"channel\":")) < 0 ||
		    (error = put_str(out, r->channel)) < 0)
			return error;
		if (r->variant >= 0) {
			if ((error = bm_buf_puts(out, ",\"variant\":")) < 0 ||
			    (error = put_str(out, f->variants[r->variant].name)) < 0 || (error = bm_buf_putc(out, '}')) < 0)
				return error;
			continue;
		}
		if ((error = bm_buf_puts(out, ",\"weights\":[")) < 0)
			return error;
		for (j = 0; j < r->nweights; j++)
			if ((error = bm_buf_puts(out, j ? ",{\"variant\":" : "{\"variant\":")) < 0 ||
			    (error = put_str(out, f->variants[r->weights[j].variant].name)) < 0 ||
			    (error = bm_buf_printf(out, ",\"weight\":%u}", r->weights[j].weight)) < 0)
				return error;
		if ((error = bm_buf_puts(out, "]}")) < 0)
			return error;
	}
	if ((error = bm_buf_printf(out, "],\"timeMs\":\"%lld\",\"actor\":", (long long)f->time_ms)) < 0 ||
	    (error = put_str(out, f->actor)) < 0 ||
	    (error = bm_buf_printf(out, ",\"seq\":\"%llu\"}", (unsigned long long)f->seq)) < 0)
		return error;
	return 0;
}

int bm_flag_result_to_json(bm_buf *out, const bm_flag *f, const bm_flag_result *res)
{
	int error;
	if (!out || !f || !res || !res->value)
		return bm_error_set(BM_EINVALID, "bm_flag_result_to_json: NULL argument");
	if ((error = bm_buf_puts(out, "{\"key\":")) < 0 || (error = put_str(out, f->key)) < 0 ||
	    (error = bm_buf_puts(out, ",\"value\":")) < 0 || (error = bm_flag_value_to_json(out, res->value)) < 0 ||
	    (error = bm_buf_puts(out, ",\"variant\":")) < 0 || (error = put_str(out, res->variant)) < 0 ||
	    (error = bm_buf_printf(out, ",\"reason\":\"%s\",\"type\":\"%s\"}", bm_flag_reason_str(res->reason),
				   bm_flag_type_str(res->value->type))) < 0)
		return error;
	return 0;
}

/* ---- flagd export ---- */

static int put_targeting(bm_buf *out, const bm_flag *f, const char *attr)
{
	int error;
	size_t i, j;
	if ((error = bm_buf_puts(out, "{\"if\":[")) < 0)
		return error;
	for (i = 0; i < f->nrules; i++) {
		const bm_flag_rule *r = &f->rules[i];
		if ((error = bm_buf_puts(out, i ? ",{\"==\":[{\"var\":" : "{\"==\":[{\"var\":")) < 0 ||
		    (error = put_str(out, attr)) < 0 || (error = bm_buf_puts(out, "},")) < 0 ||
		    (error = put_str(out, r->channel)) < 0 || (error = bm_buf_puts(out, "]},")) < 0)
			return error;
		if (r->variant >= 0) {
			if ((error = put_str(out, f->variants[r->variant].name)) < 0)
				return error;
			continue;
		}
		/* No bucketing expression: flagd then hashes $flagd.flagKey + targetingKey. */
		if ((error = bm_buf_puts(out, "{\"fractional\":[")) < 0)
			return error;
		for (j = 0; j < r->nweights; j++)
			if ((error = bm_buf_puts(out, j ? ",[" : "[")) < 0 ||
			    (error = put_str(out, f->variants[r->weights[j].variant].name)) < 0 ||
			    (error = bm_buf_printf(out, ",%u]", r->weights[j].weight)) < 0)
				return error;
		if ((error = bm_buf_puts(out, "]}")) < 0)
			return error;
	}
	/* The final else: no rule matched, so flagd answers the default variant (DEFAULT). */
	return bm_buf_puts(out, ",null]}");
}

/* Append `json` (valid JSON text from this file) indented two spaces a level, one member or
 * element a line, ": " after keys; empty objects and arrays stay "{}" / "[]". Whitespace
 * outside strings is dropped; numbers and strings are copied byte for byte. */
static int json_indent(bm_buf *out, const char *json, size_t len)
{
	size_t i, depth = 0;
	int error = 0, in_str = 0;

	for (i = 0; !error && i < len; i++) {
		char c = json[i];
		if (in_str) {
			error = bm_buf_putc(out, c);
			if (c == '\\' && i + 1 < len)
				error = error ? error : bm_buf_putc(out, json[++i]);
			else if (c == '"')
				in_str = 0;
			continue;
		}
		switch (c) {
		case ' ': case '\n': case '\t': case '\r':
			break;
		case '"':
			in_str = 1;
			error = bm_buf_putc(out, c);
			break;
		case '{': case '[': {
			size_t k = i + 1;
			while (k < len && strchr(" \n\t\r", json[k]))
				k++;
			if (k < len && (json[k] == '}' || json[k] == ']')) { /* empty */
				error = bm_buf_putc(out, c);
				if (!error) error = bm_buf_putc(out, json[k]);
				i = k;
				break;
			}
			depth++;
			error = bm_buf_printf(out, "%c\n%*s", c, (int)(depth * 2), "");
			break;
		}
		case '}': case ']':
			depth = depth ? depth - 1 : 0;
			error = bm_buf_printf(out, "\n%*s%c", (int)(depth * 2), "", c);
			break;
		case ',':
			error = bm_buf_printf(out, ",\n%*s", (int)(depth * 2), "");
			break;
		case ':':
			error = bm_buf_puts(out, ": ");
			break;
		default:
			error = bm_buf_putc(out, c);
		}
	}
	return error;
}

static int export_flagd(bm_buf *out, const bm_flag *const *flags, size_t count, const char *attr);

int bm_flag_export_flagd(bm_buf *out, const bm_flag *const *flags, size_t count,
			 const bm_flag_export_options *opts)
{
	const char *attr = opts && opts->channel_attr ? opts->channel_attr : "channel";
	bm_buf compact = BM_BUF_INIT;
	int error;

	if (!out || (count && !flags))
		return bm_error_set(BM_EINVALID, "bm_flag_export_flagd: NULL argument");
	if (opts && opts->version != BM_FLAG_EXPORT_OPTIONS_VERSION)
		return bm_error_set(BM_EINVALID, "bm_flag_export_options version %u; this library knows %d",
				    opts->version, BM_FLAG_EXPORT_OPTIONS_VERSION);
	if (!opts || !opts->pretty)
		return export_flagd(out, flags, count, attr);
	if ((error = export_flagd(&compact, flags, count, attr)) == 0 &&
	    (error = json_indent(out, compact.ptr, compact.size)) == 0)
		error = bm_buf_putc(out, '\n');
	bm_buf_dispose(&compact);
	return error;
}

static int export_flagd(bm_buf *out, const bm_flag *const *flags, size_t count, const char *attr)
{
	size_t i, j;
	int error;

	if (!*attr || !bm_utf8_valid(attr, strlen(attr)))
		return bm_error_set(BM_EINVALID, "the channel attribute must be a non-empty UTF-8 name");
	for (i = 0; i < count; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(flags[i]->key, flags[j]->key))
				return bm_error_set(BM_EINVALID,
						    "two flags with key '%s' (%s in %s, %s in %s); export one project and env at a time",
						    flags[i]->key, flags[j]->project, flags[j]->env, flags[i]->project,
						    flags[i]->env);
	if ((error = bm_buf_puts(out, "{\"$schema\":\"https://flagd.dev/schema/v0/flags.json\",\"flags\":{")) < 0)
		return error;
	for (i = 0; i < count; i++) {
		const bm_flag *f = flags[i];
		if ((error = bm_buf_puts(out, i ? ",\n" : "\n")) < 0 || (error = put_str(out, f->key)) < 0 ||
		    (error = bm_buf_printf(out, ":{\"state\":\"%s\",\"variants\":", f->disabled ? "DISABLED" : "ENABLED")) < 0 ||
		    (error = put_variants_object(out, f)) < 0 ||
		    (error = bm_buf_puts(out, ",\"defaultVariant\":")) < 0 ||
		    (error = put_str(out, f->variants[f->default_variant].name)) < 0)
			return error;
		if (f->nrules && ((error = bm_buf_puts(out, ",\"targeting\":")) < 0 ||
				  (error = put_targeting(out, f, attr)) < 0))
			return error;
		if ((error = bm_buf_putc(out, '}')) < 0)
			return error;
	}
	return bm_buf_puts(out, "\n}}\n");
}
