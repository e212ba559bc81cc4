/* cli_cfg.c: helpers shared by the env, dev, config, flag and log commands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include "cli_cfg.h"

static bm_buf env_source = BM_BUF_INIT;

int cli_env_resolve(bm_cli *cli, bm_buf *out, const char **source)
{
	const char *fromenv = getenv("BOOTMETA_ENV");
	int error;

	bm_buf_clear(out);
	if (cli->env && *cli->env) {
		if (source)
			*source = fromenv && cli->env == fromenv ? "$BOOTMETA_ENV" : "--env";
		if ((error = bm_env_name_validate(cli->env)) < 0)
			return error;
		return bm_buf_puts(out, cli->env);
	}
	bm_buf_clear(&env_source);
	error = bm_checkout_env_read(out, &env_source, NULL);
	if (error == BM_ENOTFOUND)
		return bm_error_set(BM_ENOTFOUND, "no environment given: pass ENV, --env ENV or $BOOTMETA_ENV, or "
				    "run `bootmeta dev use ENV` in your source checkout");
	if (source)
		*source = env_source.ptr;
	return error;
}

int cli_need_project_env(bm_fs *fs, const char *project, const char *env)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm_path_project(&p, project)) == 0 && bm_fs_exists(fs, p.ptr) != 1)
		error = bm_error_set(BM_ENOTFOUND, "no project \"%s\"; add it with `bootmeta project add %s`",
				     project, project);
	bm_buf_dispose(&p);
	if (!error && env && bm_env_exists(fs, env) != 1) {
		bm_env *e = NULL;
		error = bm_env_read(&e, fs, env); /* the message: no environment ...; a bad name says so */
		bm_env_free(e);
		if (!error)
			error = bm_error_set(BM_ENOTFOUND, "no environment \"%s\"; add it with `bootmeta env add %s`",
					     env, env);
	}
	return error;
}

int cli_need_project_env_at(bm_store *store, const bm_oid *at, const char *project, const char *env)
{
	bm_fs *fs = NULL;
	int error;
	if ((error = bm_store_fs(&fs, store, at)) == 0)
		error = cli_need_project_env(fs, project, env);
	bm_fs_free(fs);
	return error;
}

int cli_json_print(json_t *j)
{
	if (!j) {
		fputs("null\n", stdout);
		return BM_EXIT_OK;
	}
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(16));
	fputc('\n', stdout);
	json_decref(j);
	return BM_EXIT_OK;
}

json_t *cli_jstr(const char *s)
{
	json_t *j = json_string(s ? s : "");
	return j ? j : json_stringn_nocheck(s ? s : "", s ? strlen(s) : 0);
}

json_t *cli_jint64(int64_t v)
{
	char t[24];
	snprintf(t, sizeof(t), "%lld", (long long)v);
	return json_string(t);
}

json_t *cli_juint64(uint64_t v)
{
	char t[24];
	snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	return json_string(t);
}

json_t *cli_joid(const bm_oid *oid, int has)
{
	char hex[BM_OID_HEXSZ + 1];
	if (!has || !oid)
		return json_null();
	bm_oid_fmt(hex, oid);
	return json_string(hex);
}

json_t *cli_config_value_json(const bm_config_value *v)
{
	if (v->tombstone)
		return json_null();
	switch (v->type) {
	case BM_CONFIG_INT64: return cli_jint64(v->int64_value); /* proto3: int64 as a string */
	case BM_CONFIG_DOUBLE: return json_real(v->double_value);
	case BM_CONFIG_BOOL: return json_boolean(v->bool_value);
	case BM_CONFIG_JSON: {
		json_t *j = json_loads(v->text ? v->text : "null", JSON_DECODE_ANY, NULL);
		return j ? j : cli_jstr(v->text);
	}
	default: return cli_jstr(v->text);
	}
}

json_t *cli_config_value_full_json(const bm_config_value *v)
{
	char t[40];
	json_t *o = json_object();
	cli_time_fmt(t, sizeof(t), v->time_ms);
	json_object_set_new(o, "key", cli_jstr(v->key));
	json_object_set_new(o, "value", cli_config_value_json(v));
	json_object_set_new(o, "type", json_string(bm_config_type_str(v->type)));
	if (v->secret)
		json_object_set_new(o, "secret", json_true());
	if (v->tombstone)
		json_object_set_new(o, "tombstone", json_true());
	json_object_set_new(o, "env", cli_jstr(v->env));
	json_object_set_new(o, "seq", cli_juint64(v->seq));
	json_object_set_new(o, "metaCommit", cli_joid(&v->commit, v->has_commit));
	json_object_set_new(o, "actor", cli_jstr(v->actor));
	json_object_set_new(o, "timeMs", cli_jint64(v->time_ms));
	json_object_set_new(o, "time", json_string(t));
	if (v->reason && *v->reason)
		json_object_set_new(o, "reason", cli_jstr(v->reason));
	if (v->reverted_from_seq)
		json_object_set_new(o, "revertedFromSeq", cli_juint64(v->reverted_from_seq));
	if (v->reverted_from_commit && *v->reverted_from_commit)
		json_object_set_new(o, "revertedFromCommit", cli_jstr(v->reverted_from_commit));
	json_object_set_new(o, "path", cli_jstr(v->path));
	return o;
}

static int64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int cli_time_parse(int64_t *out_ms, const char *s)
{
	struct tm tm;
	char *end;
	long long n;
	size_t len = s ? strlen(s) : 0;

	if (!len)
		return bm_error_set(BM_EINVALID, "empty time");
	/* a duration back from now */
	errno = 0;
	n = strtoll(s, &end, 10);
	if (end != s && n >= 0 && end[0] && !end[1] && strchr("smhdw", end[0])) {
		static const struct { char c; int64_t ms; } u[] = {
			{ 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 }, { 'w', 604800000 },
		};
		size_t i;
		for (i = 0; i < 5; i++)
			if (u[i].c == end[0]) {
				if (n > INT64_MAX / u[i].ms)
					break;
				*out_ms = now_ms() - n * u[i].ms;
				return 0;
			}
	}
	if (end != s && !*end && len >= 10 && errno != ERANGE) { /* milliseconds since the epoch */
		*out_ms = n;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && (*end == 'T' || *end == ' ')) {
		char *e2 = strptime(end + 1, "%H:%M:%S", &tm);
		if (!e2 || (*e2 && strcmp(e2, "Z")))
			end = NULL;
		else
			end = e2 + (*e2 == 'Z');
	}
	if (!end || *end)
		return bm_error_set(BM_EINVALID, "\"%s\" is not a time (expected 2026-01-02, 2026-01-02T03:04:05Z, "
				    "a duration back from now such as 90m, 2h or 7d, or milliseconds since the epoch)", s);
	*out_ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

void cli_cell(FILE *f, const char *s, size_t max)
{
	/* escaped as every text output (cli_esc), then cut at a character boundary */
	const char *e = cli_esc(s);
	size_t n = strlen(e);
	if (max && n > max) {
		n = max;
		while (n && ((unsigned char)e[n] & 0xc0) == 0x80)
			n--;
		fwrite(e, 1, n, f);
		fputs("...", f);
		return;
	}
	fwrite(e, 1, n, f);
}

void cli_env_added(bm_cli *cli, const char *what, const bm_oid *commit)
{
	char hex[BM_OID_HEXSZ + 1];
	bm_oid_fmt(hex, commit);
	if (cli->json) {
		json_t *o = json_object();
		json_object_set_new(o, "env", cli_jstr(what));
		json_object_set_new(o, "metaCommit", json_string(hex));
		cli_json_print(o);
	} else {
		printf("added environment %s (meta commit %.12s)\n", what, hex);
	}
}
