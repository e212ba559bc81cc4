/* flagstore.c: feature flags in the meta repo, one Flag record per version under
 * envs/<env>/config/<project>/+flags/<key>/<seq>.pb. */
#include "bootmeta/flagstore.h"
#include "error_int.h"
#include "bootmeta/env.h"
#include "bootmeta/names.h"
#include "recio.h"
#include "store_int.h"
#include "optcheck.h"

#include <stdlib.h>
#include <string.h>

static int check_names(const char *project, const char *env, const char *key)
{
	int error;
	if ((error = bm_name_validate(project, BM_NAME_PROJECT)) < 0)
		return error;
	if ((error = bm_env_name_validate(env)) < 0)
		return error;
	return key ? bm_name_validate(key, BM_NAME_KEY) : 0;
}

static int flags_dir(bm_buf *out, const char *project, const char *env, const char *key)
{
	bm_buf_clear(out);
	if (key)
		return bm_buf_printf(out, "envs/%s/config/%s/+flags/%s", env, project, key);
	return bm_buf_printf(out, "envs/%s/config/%s/+flags", env, project);
}

int bm_path_flag(bm_buf *out, const char *project, const char *env, const char *key)
{
	int error;
	if ((error = check_names(project, env, key)) < 0)
		return error;
	return flags_dir(out, project, env, key);
}

static int read_flag(bm_flag **out, bm_fs *fs, const char *path, const char *project, const char *env,
		     const char *key)
{
	bm_buf b = BM_BUF_INIT;
	int error;
	*out = NULL;
	if ((error = bm_fs_read(&b, fs, path)) < 0)
		goto done;
	if ((error = bm_flag_decode(out, b.ptr ? b.ptr : "", b.size)) < 0) {
		bm_error_prefix(error, "%s", path);
		goto done;
	}
	if (strcmp((*out)->project, project) || strcmp((*out)->env, env) || strcmp((*out)->key, key)) {
		error = bm_error_set(BM_ECORRUPT, "%s holds flag %s of %s in %s, not where it lies; it was made by hand",
				     path, (*out)->key, (*out)->project, (*out)->env);
		bm_flag_free(*out);
		*out = NULL;
	} else if ((*out)->seq != bm__seq_of(strrchr(path, '/') ? strrchr(path, '/') + 1 : path)) {
		error = bm_error_set(BM_ECORRUPT, "%s holds version %llu of flag %s, not the one its name says; it was "
				     "copied or moved by hand (see `git log -- %s`)", path,
				     (unsigned long long)(*out)->seq, key, path);
		bm_flag_free(*out);
		*out = NULL;
	}
done:
	bm_buf_dispose(&b);
	return error;
}

/* The latest record of a flag: 1 found, 0 none; `next_seq` gets the seq after it. */
static int latest(bm_flag **out, bm_buf *path, uint64_t *next_seq, bm_fs *fs, const char *project,
		  const char *env, const char *key)
{
	bm_buf dir = BM_BUF_INIT;
	int error;

	*out = NULL;
	*next_seq = 1;
	if ((error = flags_dir(&dir, project, env, key)) < 0)
		goto done;
	if ((error = bm__latest_seq(path, next_seq, fs, dir.ptr)) <= 0)
		goto done;
	if ((error = read_flag(out, fs, path->ptr, project, env, key)) < 0)
		goto done;
	error = 1;
done:
	bm_buf_dispose(&dir);
	return error;
}

int bm_flag_load(bm_flag **out, bm_fs *fs, const char *project, const char *env, const char *key)
{
	bm_buf path = BM_BUF_INIT;
	uint64_t seq;
	int error;
	*out = NULL;
	if ((error = check_names(project, env, key)) < 0)
		return error;
	error = latest(out, &path, &seq, fs, project, env, key);
	bm_buf_dispose(&path);
	if (error == 0) {
		bm_error_set(BM_ENOTFOUND, "flag %s of %s in %s does not exist", key, project, env);
		return bm__about_words(BM_ABOUT_FLAG, project, env, NULL);
	}
	return error < 0 ? error : 0;
}

void bm_flag_list_dispose(bm_flag_list *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->count; i++) {
		bm_flag_free(l->items[i]);
		free(l->paths[i]);
	}
	free(l->items);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}

static int list_push(bm_flag_list *l, bm_flag *f, const char *path)
{
	bm_flag **ni;
	char **np, *p;
	if (!(p = strdup(path)))
		goto oom;
	ni = realloc(l->items, (l->count + 1) * sizeof(*ni));
	if (!ni)
		goto oom_p;
	l->items = ni;
	np = realloc(l->paths, (l->count + 1) * sizeof(*np));
	if (!np)
		goto oom_p;
	l->paths = np;
	l->items[l->count] = f;
	l->paths[l->count] = p;
	l->count++;
	return 0;
oom_p:
	free(p);
oom:
	bm_flag_free(f);
	return bm_error_set(BM_ENOMEM, "out of memory");
}

int bm_flag_load_all(bm_flag_list *out, bm_fs *fs, const char *project, const char *env)
{
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT;
	bm_strlist l = BM_STRLIST_INIT;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = check_names(project, env, NULL)) < 0)
		return error;
	if ((error = flags_dir(&dir, project, env, NULL)) < 0)
		goto done;
	if ((error = bm_fs_list_or_empty(&l, fs, dir.ptr)) < 0)
		goto done;
	for (i = 0; i < l.count; i++) {
		size_t n = strlen(l.items[i]);
		bm_flag *f = NULL;
		uint64_t seq;
		if (n < 2 || l.items[i][n - 1] != '/')
			continue;
		l.items[i][n - 1] = '\0';
		if (bm_name_validate(l.items[i], BM_NAME_KEY) < 0) {
			bm_error_clear();
			continue;
		}
		if ((error = latest(&f, &path, &seq, fs, project, env, l.items[i])) < 0)
			goto done;
		if (error == 1 && (error = list_push(out, f, path.ptr)) < 0)
			goto done;
		error = 0;
	}
done:
	if (error < 0)
		bm_flag_list_dispose(out);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&path);
	return error;
}

int bm_flag_load_history(bm_flag_list *out, bm_fs *fs, const char *project, const char *env, const char *key)
{
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT;
	bm_strlist l = BM_STRLIST_INIT;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = check_names(project, env, key)) < 0)
		return error;
	if ((error = flags_dir(&dir, project, env, key)) < 0)
		goto done;
	if ((error = bm_fs_list(&l, fs, dir.ptr)) < 0) {
		if (error == BM_ENOTFOUND)
			error = bm_error_set(BM_ENOTFOUND, "flag %s of %s in %s does not exist", key, project, env);
		goto done;
	}
	for (i = 0; i < l.count; i++) {
		bm_flag *f = NULL;
		if (!bm__seq_of(l.items[i]))
			continue;
		bm_buf_clear(&path);
		if ((error = bm_buf_printf(&path, "%s/%s", dir.ptr, l.items[i])) < 0)
			goto done;
		if ((error = read_flag(&f, fs, path.ptr, project, env, key)) < 0)
			goto done;
		if ((error = list_push(out, f, path.ptr)) < 0)
			goto done;
	}
done:
	if (error < 0)
		bm_flag_list_dispose(out);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&path);
	return error;
}

int bm_flag_list_commits(bm_store *store, const bm_flag_list *l, bm_oid *oids, int *has)
{
	return bm__find_commits(store, (const char *const *)l->paths, l->count, oids, has);
}

void bm_flag_change_dispose(bm_flag_change *c)
{
	if (!c)
		return;
	bm_flag_free(c->before);
	bm_flag_free(c->after);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* 1 when the definitions are equal (meta left out), 0 when not, < 0 on an error (out of
 * memory: not an answer, or an unchanged flag would get a new version). */
static int same_flag(const bm_flag *a, const bm_flag *b)
{
	bm_flag *x = NULL, *y = NULL;
	bm_buf ea = BM_BUF_INIT, eb = BM_BUF_INIT;
	int error;
	if ((error = bm_flag_dup(&x, a)) < 0 || (error = bm_flag_dup(&y, b)) < 0 ||
	    (error = bm_flag_set_meta(x, 0, NULL, 0)) < 0 || (error = bm_flag_set_meta(y, 0, NULL, 0)) < 0 ||
	    (error = bm_flag_encode(&ea, x)) < 0 || (error = bm_flag_encode(&eb, y)) < 0)
		goto done;
	error = ea.size == eb.size && !memcmp(ea.ptr, eb.ptr, ea.size);
done:
	bm_flag_free(x);
	bm_flag_free(y);
	bm_buf_dispose(&ea);
	bm_buf_dispose(&eb);
	return error;
}

int bm_flag_write_txn(bm_flag_change *out, bm_txn *txn, const char *project, const char *env, const char *key,
		      bm_flag_edit_fn edit, void *payload, const bm_flag_write_options *opts)
{
	bm_fs *fs = bm_txn_fs(txn);
	bm_buf path = BM_BUF_INIT, p = BM_BUF_INIT, enc = BM_BUF_INIT;
	uint64_t seq;
	size_t i;
	int error;

	bm_flag_change_dispose(out);
	if ((error = BM_OPTS_CHECK(opts, BM_FLAG_WRITE_OPTIONS_VERSION, "bm_flag_write_options")) < 0 ||
	    (error = check_names(project, env, key)) < 0)
		return error;
	if (!edit)
		return bm_error_set(BM_EINVALID, "no flag edit function given");
	if ((error = bm_buf_printf(&p, "projects/%s/project.pb", project)) < 0)
		goto done;
	if (bm_fs_exists(fs, p.ptr) != 1) {
		bm_error_set(BM_ENOTFOUND, "no project \"%s\"", project);
		error = bm_error_set_about(BM_ABOUT_PROJECT, project);
		goto done;
	}
	if ((error = bm_env_exists(fs, env)) <= 0) { /* < 0: out of memory */
		bm_env *e = NULL;
		if (error == 0)
			error = bm_env_read(&e, fs, env);
		bm_env_free(e);
		goto done;
	}
	error = 0;
	if ((error = latest(&out->before, &path, &seq, fs, project, env, key)) < 0)
		goto done;
	if ((error = edit(&out->after, out->before, payload)) < 0)
		goto done;
	if (!out->after) {
		error = bm_error_set(BM_EINVALID, "the flag edit made no flag");
		goto done;
	}
	if (strcmp(out->after->project, project) || strcmp(out->after->env, env) || strcmp(out->after->key, key)) {
		error = bm_error_set(BM_EINVALID, "the flag edit changed the flag's project, env or key");
		goto done;
	}
	for (i = 0; !(opts && opts->allow_unknown_channels) && i < out->after->nrules; i++) {
		const char *ch = out->after->rules[i].channel;
		/* a channel the current version has a rule for was checked when that rule was set */
		if (out->before && bm_flag_rule_find(out->before, ch))
			continue;
		bm_buf_clear(&p);
		if ((error = bm_buf_printf(&p, "projects/%s/channels/%s", project, ch)) < 0)
			goto done;
		if (bm_fs_exists(fs, p.ptr) != 2) {
			bm_error_set(BM_EINVALID, "rule for channel \"%s\": %s has no channel %s yet (no release was "
				     "promoted to it)", ch, project, ch);
			error = bm_error_set_about(BM_ABOUT_FLAG_CHANNEL, ch);
			goto done;
		}
	}
	if (out->before && (error = same_flag(out->before, out->after)) != 0) {
		if (error > 0)
			out->unchanged = 1;
		goto done;
	}
	if ((error = bm_flag_set_meta(out->after, bm_txn_time_ms(txn), bm_txn_actor(txn), seq)) < 0)
		goto done;
	bm_buf_clear(&path);
	if ((error = bm_buf_printf(&path, "envs/%s/config/%s/+flags/%s/%010llu.pb", env, project, key,
				   (unsigned long long)seq)) < 0)
		goto done;
	if ((error = bm__strdup(&out->path, path.ptr)) < 0)
		goto done;
	if ((error = bm_flag_encode(&enc, out->after)) < 0)
		goto done;
	/* a dry run adds nothing, but says what the write would refuse */
	if (opts && opts->dry_run) {
		if ((error = bm__txn_check_add(txn, path.ptr, enc.ptr, enc.size)) == 0)
			error = 1;
		goto done;
	}
	error = bm_txn_add(txn, path.ptr, enc.ptr, enc.size);
done:
	bm_buf_dispose(&path);
	bm_buf_dispose(&p);
	bm_buf_dispose(&enc);
	return error;
}

typedef struct {
	const char *project, *env, *key;
	bm_flag_edit_fn edit;
	void *payload;
	const bm_flag_write_options *opts;
	bm_flag_change *out;
} write_ctx;

static int write_fn(bm_txn *txn, void *payload)
{
	write_ctx *w = payload;
	int error = bm_flag_write_txn(w->out, txn, w->project, w->env, w->key, w->edit, w->payload, w->opts);
	if (error)
		return error;
	return bm_txn_message(txn, "flag %s %s %s: %s (version %llu)", w->project, w->env, w->key,
			      w->out->after->disabled ? "disabled" : "enabled", (unsigned long long)w->out->after->seq);
}

int bm_flag_write(bm_flag_change *out, bm_store *store, const char *project, const char *env, const char *key,
		  bm_flag_edit_fn edit, void *payload, const bm_flag_write_options *opts, const bm_write_options *wopts)
{
	write_ctx w = { project, env, key, edit, payload, opts, out };
	bm_oid commit;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = BM_OPTS_CHECK(opts, BM_FLAG_WRITE_OPTIONS_VERSION, "bm_flag_write_options")) < 0 ||
	    (error = check_names(project, env, key)) < 0)
		return error;
	if ((error = bm_store_write(&commit, store, write_fn, &w, wopts)) < 0) {
		bm_flag_change_dispose(out);
		return error;
	}
	if (!(opts && opts->dry_run) && !out->unchanged) {
		out->commit = commit;
		out->has_commit = 1;
	}
	return 0;
}
