/* env.c: environments (envs/<env>/env.pb), their parent chains, and the local file that
 * points a source checkout at one env. */
#include "bootmeta/env.h"
#include "bootmeta/names.h"
#include "recio.h"
#include "optcheck.h"
#include "fs.h"
#include "bootmeta/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2.h>

#include "bootmeta/v1/config.pb-c.h"

/* ---- names ---- */

static const char *const reserved[] = {
	"config", "flags", "secrets", "recipients", "instances", "rollouts", "env.pb",
};

static int is_reserved(const char *seg, size_t n)
{
	size_t i;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == n && !memcmp(reserved[i], seg, n))
			return 1;
	return 0;
}

int bm_env_name_validate(const char *name)
{
	const char *seg;
	int error;
	if ((error = bm_name_validate(name, BM_NAME_ENV)) < 0)
		return error;
	for (seg = strchr(name, '/'); seg; seg = strchr(seg, '/')) {
		size_t n;
		seg++;
		n = strcspn(seg, "/");
		if (is_reserved(seg, n))
			return bm_error_set(BM_EINVALID, "environment name \"%s\": \"%.*s\" is reserved for the "
					    "env's own folders (config, flags, secrets, recipients, instances, "
					    "rollouts); pick another name", name, (int)n, seg);
	}
	return 0;
}

int bm_env_default_parent(bm_buf *out, const char *name)
{
	const char *slash = strrchr(name, '/');
	bm_buf_clear(out);
	if (!slash)
		return bm_buf_puts(out, "");
	return bm_buf_put(out, name, (size_t)(slash - name));
}

int bm_env_path(bm_buf *out, const char *name)
{
	int error;
	if ((error = bm_env_name_validate(name)) < 0)
		return error;
	bm_buf_clear(out);
	return bm_buf_printf(out, "envs/%s/env.pb", name);
}

int bm_env_exists(bm_fs *fs, const char *name)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm_env_path(&p, name)) == 0)
		error = bm_fs_exists(fs, p.ptr) == 1;
	bm_buf_dispose(&p);
	return error;
}

void bm_env_free(bm_env *env)
{
	if (!env)
		return;
	free(env->name);
	free(env->parent);
	free(env->actor);
	free(env->description);
	free(env);
}

int bm_env_read(bm_env **out, bm_fs *fs, const char *name)
{
	bm_buf p = BM_BUF_INIT;
	Bootmeta__V1__Env *rec = NULL;
	bm_env *e = NULL;
	int error;

	*out = NULL;
	if ((error = bm_env_path(&p, name)) < 0)
		goto done;
	error = bm__rec_read((ProtobufCMessage **)&rec, fs, p.ptr, &bootmeta__v1__env__descriptor);
	if (error == BM_ENOTFOUND) {
		bm_error_set(BM_ENOTFOUND, "no environment \"%s\"", name);
		error = bm_error_set_about(BM_ABOUT_ENV, name);
		goto done;
	}
	if (error < 0)
		goto done;
	if (!(e = calloc(1, sizeof(*e)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	e->created_ms = rec->created_ms;
	if ((error = bm__strdup(&e->name, name)) < 0 || (error = bm__strdup(&e->parent, rec->parent)) < 0 ||
	    (error = bm__strdup(&e->actor, rec->actor)) < 0 ||
	    (error = bm__strdup(&e->description, rec->description)) < 0)
		goto done;
	if (*e->parent && bm_env_name_validate(e->parent) < 0) {
		error = bm_error_prefix(BM_ECORRUPT, "%s names a bad parent", p.ptr);
		goto done;
	}
	*out = e;
	e = NULL;
done:
	if (rec)
		protobuf_c_message_free_unpacked(&rec->base, NULL);
	bm_env_free(e);
	bm_buf_dispose(&p);
	return error;
}

static int list_under(bm_strlist *out, bm_fs *fs, const char *prefix, unsigned int depth)
{
	bm_strlist l = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT, name = BM_BUF_INIT, rec = BM_BUF_INIT;
	size_t i;
	int error;

	if ((error = bm_buf_printf(&dir, "envs%s%s", *prefix ? "/" : "", prefix)) < 0)
		goto done;
	if ((error = bm_fs_list_or_empty(&l, fs, dir.ptr)) < 0)
		goto done;
	for (i = 0; i < l.count; i++) {
		size_t n = strlen(l.items[i]);
		if (n < 2 || l.items[i][n - 1] != '/')
			continue;
		if (depth > 0 && is_reserved(l.items[i], n - 1))
			continue;
		bm_buf_clear(&name);
		if ((error = bm_buf_printf(&name, "%s%s%.*s", prefix, *prefix ? "/" : "", (int)(n - 1), l.items[i])) < 0)
			goto done;
		if (bm_env_name_validate(name.ptr) < 0) {
			bm_error_clear();
			continue;
		}
		bm_buf_clear(&rec);
		if ((error = bm_buf_printf(&rec, "envs/%s/env.pb", name.ptr)) < 0)
			goto done;
		if (bm_fs_exists(fs, rec.ptr) == 1 && (error = bm_strlist_add(out, name.ptr)) < 0)
			goto done;
		if (depth + 1 < 4 && (error = list_under(out, fs, name.ptr, depth + 1)) < 0)
			goto done;
	}
done:
	bm_strlist_dispose(&l);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&name);
	bm_buf_dispose(&rec);
	return error;
}

int bm_env_list(bm_strlist *out, bm_fs *fs)
{
	int error = list_under(out, fs, "", 0);
	if (!error)
		bm_strlist_sort(out);
	return error;
}

static int chain_str(bm_buf *b, const bm_strlist *l, const char *last)
{
	size_t i;
	for (i = 0; i < l->count; i++)
		if (bm_buf_printf(b, "%s%s", i ? " -> " : "", l->items[i]) < 0)
			return BM_ENOMEM;
	return last ? bm_buf_printf(b, " -> %s", last) : 0;
}

int bm_env_chain(bm_strlist *out, bm_fs *fs, const char *name)
{
	bm_strlist l = BM_STRLIST_INIT;
	bm_buf msg = BM_BUF_INIT, cur = BM_BUF_INIT;
	bm_env *e = NULL;
	size_t i;
	int error;

	if ((error = bm_buf_puts(&cur, name)) < 0)
		goto done;
	for (;;) {
		for (i = 0; i < l.count; i++) {
			if (strcmp(l.items[i], cur.ptr))
				continue;
			chain_str(&msg, &l, cur.ptr);
			error = bm_error_set(BM_ECORRUPT, "the parent chain of environment \"%s\" loops (%s); "
					     "an env record was made by hand: fix it in the meta repo",
					     name, msg.ptr ? msg.ptr : "");
			goto done;
		}
		if (l.count >= BM_ENV_MAX_DEPTH) {
			chain_str(&msg, &l, NULL);
			error = bm_error_set(BM_ECORRUPT, "the parent chain of environment \"%s\" is deeper "
					     "than %d (%s ...)", name, BM_ENV_MAX_DEPTH, msg.ptr ? msg.ptr : "");
			goto done;
		}
		if ((error = bm_env_read(&e, fs, cur.ptr)) < 0) {
			if (l.count)
				bm_error_prefix(error, "the parent chain of \"%s\" is broken", name);
			goto done;
		}
		if ((error = bm_strlist_add(&l, cur.ptr)) < 0)
			goto done;
		if (!*e->parent)
			break;
		bm_buf_clear(&cur);
		if ((error = bm_buf_puts(&cur, e->parent)) < 0)
			goto done;
		bm_env_free(e);
		e = NULL;
	}
	for (i = 0; i < l.count; i++)
		if ((error = bm_strlist_add(out, l.items[i])) < 0)
			goto done;
done:
	bm_env_free(e);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&msg);
	bm_buf_dispose(&cur);
	return error;
}

/* ---- writes ---- */

static int env_add_txn(bm_txn *txn, const char *name, const bm_env_add_options *opts, unsigned int depth)
{
	bm_fs *fs = bm_txn_fs(txn);
	bm_buf parent = BM_BUF_INIT, path = BM_BUF_INIT;
	bm_strlist chain = BM_STRLIST_INIT;
	Bootmeta__V1__Env rec = BOOTMETA__V1__ENV__INIT;
	size_t i;
	int error;

	if (depth > BM_ENV_MAX_DEPTH)
		return bm_error_set(BM_EINVALID, "environment \"%s\": too many missing parents", name);
	if ((error = bm_env_path(&path, name)) < 0)
		goto done;
	if (bm_fs_exists(fs, path.ptr)) {
		bm_error_set(BM_EEXISTS, "environment \"%s\" already exists (env records are never rewritten)", name);
		error = bm_error_set_about(BM_ABOUT_ENV, name);
		goto done;
	}
	if (opts && opts->parent)
		error = bm_buf_puts(&parent, opts->parent);
	else
		error = bm_env_default_parent(&parent, name);
	if (error < 0)
		goto done;
	if (*parent.ptr) {
		if ((error = bm_env_name_validate(parent.ptr)) < 0) {
			bm_error_prefix(error, "parent of \"%s\"", name);
			goto done;
		}
		if (!strcmp(parent.ptr, name)) {
			error = bm_error_set(BM_EINVALID, "environment \"%s\" cannot be its own parent (a parent "
					     "chain may not loop)", name);
			goto done;
		}
		if ((error = bm_env_exists(fs, parent.ptr)) < 0)
			goto done;
		if (!error) {
			if (opts && opts->create_parent) {
				bm_env_add_options po = BM_ENV_ADD_OPTIONS_INIT;
				po.create_parent = 1;
				if ((error = env_add_txn(txn, parent.ptr, &po, depth + 1)) < 0)
					goto done;
			} else {
				bm_error_set(BM_ENOTFOUND, "the parent environment \"%s\" of \"%s\" does not exist",
					     parent.ptr, name);
				error = bm_error_set_about(BM_ABOUT_ENV_PARENT, parent.ptr);
				goto done;
			}
		}
		if ((error = bm_env_chain(&chain, fs, parent.ptr)) < 0)
			goto done;
		for (i = 0; i < chain.count; i++) {
			if (!strcmp(chain.items[i], name)) {
				error = bm_error_set(BM_EINVALID, "environment \"%s\" with parent \"%s\" would make "
						     "the parent chain loop", name, parent.ptr);
				goto done;
			}
		}
	}
	rec.name = (char *)name;
	rec.parent = parent.ptr;
	rec.created_ms = bm_txn_time_ms(txn);
	rec.actor = (char *)bm_txn_actor(txn);
	rec.description = (char *)(opts && opts->description ? opts->description : "");
	if ((error = bm_text_check(rec.description, strlen(rec.description), BM_TEXT_LINE, BM_TEXT_LINE_MAX,
				   "the description")) < 0)
		goto done;
	error = bm__rec_add(txn, path.ptr, &rec.base);
done:
	bm_strlist_dispose(&chain);
	bm_buf_dispose(&parent);
	bm_buf_dispose(&path);
	return error;
}

int bm_env_add_txn(bm_txn *txn, const char *name, const bm_env_add_options *opts)
{
	int error;
	if ((error = BM_OPTS_CHECK(opts, BM_ENV_ADD_OPTIONS_VERSION, "bm_env_add_options")) < 0)
		return error;
	return env_add_txn(txn, name, opts, 0);
}

typedef struct {
	const char *name;
	const bm_env_add_options *opts;
} add_ctx;

static int add_fn(bm_txn *txn, void *payload)
{
	add_ctx *c = payload;
	int error = bm_env_add_txn(txn, c->name, c->opts);
	if (!error)
		error = bm_txn_message(txn, "env add %s", c->name);
	return error;
}

int bm_env_add(bm_oid *out_commit, bm_store *store, const char *name, const bm_env_add_options *opts,
	       const bm_write_options *wopts)
{
	add_ctx c = { name, opts };
	int error;
	if ((error = BM_OPTS_CHECK(opts, BM_ENV_ADD_OPTIONS_VERSION, "bm_env_add_options")) < 0 ||
	    (error = bm_env_name_validate(name)) < 0)
		return error;
	return bm_store_write(out_commit, store, add_fn, &c, wopts);
}

int bm_dev_init(bm_oid *out_commit, bm_store *store, const char *user, const char *description,
		const bm_write_options *wopts)
{
	bm_env_add_options o = BM_ENV_ADD_OPTIONS_INIT;
	bm_buf name = BM_BUF_INIT;
	int error;
	if ((error = bm_name_validate(user, BM_NAME_USER)) < 0)
		return error;
	if ((error = bm_buf_printf(&name, "dev/%s", user)) < 0)
		goto done;
	o.parent = "dev";
	o.description = description;
	o.create_parent = 1;
	error = bm_env_add(out_commit, store, name.ptr, &o, wopts);
done:
	bm_buf_dispose(&name);
	return error;
}

/* ---- the checkout's local env file ---- */

int bm_checkout_top(bm_buf *out, const char *start_dir)
{
	git_repository *repo = NULL;
	const char *wd;
	int error = 0;
	if (git_repository_open_ext(&repo, start_dir ? start_dir : ".", 0, NULL) < 0) {
		git_error_clear();
		return bm_error_set(BM_ENOTFOUND, "%s is not inside a git checkout; run this from your source "
				    "checkout", start_dir ? start_dir : "the current folder");
	}
	if (!(wd = git_repository_workdir(repo))) {
		error = bm_error_set(BM_ENOTFOUND, "%s is inside a bare git repo, not a source checkout",
				     start_dir ? start_dir : "the current folder");
		goto done;
	}
	bm_buf_clear(out);
	if ((error = bm_buf_puts(out, wd)) < 0)
		goto done;
	while (out->size > 1 && out->ptr[out->size - 1] == '/')
		out->ptr[--out->size] = '\0';
done:
	git_repository_free(repo);
	return error;
}

int bm_checkout_env_read(bm_buf *env, bm_buf *file, const char *start_dir)
{
	bm_buf top = BM_BUF_INIT, path = BM_BUF_INIT, data = BM_BUF_INIT;
	char *line, *save = NULL;
	int error, found = 0;

	if ((error = bm_checkout_top(&top, start_dir)) < 0)
		goto done;
	if ((error = bm_buf_printf(&path, "%s/%s", top.ptr, BM_ENV_LOCAL_FILE)) < 0)
		goto done;
	if (file) {
		bm_buf_clear(file);
		if ((error = bm_buf_puts(file, path.ptr)) < 0)
			goto done;
	}
	if ((error = bm_file_read(&data, path.ptr, 4096)) < 0)
		goto done;
	bm_buf_clear(env);
	for (line = strtok_r(data.ptr ? data.ptr : (char *)"", "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n;
		while (*line == ' ' || *line == '\t')
			line++;
		n = strlen(line);
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		if (found++) {
			bm_error_set(BM_EINVALID, "%s names more than one environment", path.ptr);
			error = bm_error_set_about(BM_ABOUT_ENV_FILE, path.ptr);
			goto done;
		}
		if ((error = bm_env_name_validate(line)) < 0) {
			bm_error_prefix(error, "%s", path.ptr);
			goto done;
		}
		if ((error = bm_buf_puts(env, line)) < 0)
			goto done;
	}
	if (!found) {
		bm_error_set(BM_EINVALID, "%s names no environment", path.ptr);
		error = bm_error_set_about(BM_ABOUT_ENV_FILE, path.ptr);
	}
done:
	bm_buf_dispose(&top);
	bm_buf_dispose(&path);
	bm_buf_dispose(&data);
	return error;
}

static int gitignore_names(const char *text)
{
	const char *p = text;
	while (p && *p) {
		size_t n = strcspn(p, "\n");
		size_t m = n;
		while (m && (p[m - 1] == '\r' || p[m - 1] == ' '))
			m--;
		if ((m == strlen(BM_ENV_LOCAL_FILE) && !memcmp(p, BM_ENV_LOCAL_FILE, m)) ||
		    (m == strlen(BM_ENV_LOCAL_FILE) + 1 && p[0] == '/' && !memcmp(p + 1, BM_ENV_LOCAL_FILE, m - 1)))
			return 1;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

int bm_checkout_env_write(bm_buf *file, const char *start_dir, const char *env)
{
	bm_buf top = BM_BUF_INIT, path = BM_BUF_INIT, gi = BM_BUF_INIT, gipath = BM_BUF_INIT, data = BM_BUF_INIT;
	int error;

	if (env && (error = bm_env_name_validate(env)) < 0)
		return error;
	if ((error = bm_checkout_top(&top, start_dir)) < 0)
		goto done;
	if ((error = bm_buf_printf(&path, "%s/%s", top.ptr, BM_ENV_LOCAL_FILE)) < 0)
		goto done;
	if (file) {
		bm_buf_clear(file);
		if ((error = bm_buf_puts(file, path.ptr)) < 0)
			goto done;
	}
	if (!env) {
		if (unlink(path.ptr) < 0 && errno != ENOENT)
			error = bm_error_set(BM_EIO, "removing %s: %s", path.ptr, strerror(errno));
		goto done;
	}
	/* .gitignore first: the env file must never be committed by accident */
	if ((error = bm_buf_printf(&gipath, "%s/.gitignore", top.ptr)) < 0)
		goto done;
	error = bm_file_read(&gi, gipath.ptr, 1 << 20);
	if (error == BM_ENOTFOUND) {
		bm_error_clear();
		error = 0;
	}
	if (error < 0)
		goto done;
	if (!gitignore_names(gi.ptr)) {
		if (gi.size && gi.ptr[gi.size - 1] != '\n' && (error = bm_buf_putc(&gi, '\n')) < 0)
			goto done;
		if ((error = bm_buf_printf(&gi, "/%s\n", BM_ENV_LOCAL_FILE)) < 0)
			goto done;
		if ((error = bm_file_write_atomic(gipath.ptr, gi.ptr, gi.size, 0644)) < 0)
			goto done;
	}
	if ((error = bm_buf_printf(&data, "# written by `bootmeta dev use`: the bootmeta environment of this "
				   "checkout\n# (--env and $BOOTMETA_ENV win over it)\n%s\n", env)) < 0)
		goto done;
	error = bm_file_write_atomic(path.ptr, data.ptr, data.size, 0644);
done:
	bm_buf_dispose(&top);
	bm_buf_dispose(&path);
	bm_buf_dispose(&gi);
	bm_buf_dispose(&gipath);
	bm_buf_dispose(&data);
	return error;
}
