/* fs.c: the read path's one small file-system interface (the role afero plays for Go
 * programs). Record code reads through a bm_fs and never knows whether it is a git tree at
 * a commit, a plain folder, memory, or a transaction's overlay. */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int bm_fs_read(bm_buf *out, bm_fs *fs, const char *path)
{
	return fs->ops->read(out, fs, path);
}

int bm_fs_list(bm_strlist *out, bm_fs *fs, const char *dir)
{
	size_t had = out->count;
	int error = fs->ops->list(out, fs, dir ? dir : "");
	if (!error) {
		bm_strlist_sort(out);
		return 0;
	}
	/* a listing that failed half-way (out of memory) adds nothing */
	while (out->count > had)
		free(out->items[--out->count]);
	if (!out->count)
		bm_strlist_dispose(out);
	return error;
}

int bm_fs_list_or_empty(bm_strlist *out, bm_fs *fs, const char *dir)
{
	int error = bm_fs_list(out, fs, dir);
	if (error == BM_ENOTFOUND) {
		bm_error_clear();
		error = 0;
	}
	return error;
}

int bm__fs_each(bm_fs *fs, const char *dir, int (*cb)(const char *name, int is_dir, void *payload),
		void *payload)
{
	bm_strlist l = BM_STRLIST_INIT;
	size_t i;
	int error, declined = 0;
	if (fs->ops->each && ((error = fs->ops->each(fs, dir ? dir : "", cb, payload, &declined)) < 0 || !declined))
		return error;
	if ((error = bm_fs_list(&l, fs, dir)) < 0)
		return error;
	for (i = 0; i < l.count && !error; i++) {
		size_t len = strlen(l.items[i]);
		int is_dir = len && l.items[i][len - 1] == '/';
		if (is_dir)
			l.items[i][len - 1] = '\0';
		error = cb(l.items[i], is_dir, payload);
	}
	bm_strlist_dispose(&l);
	return error;
}

int bm_fs_last(bm_buf *name, bm_fs *fs, const char *dir)
{
	bm_strlist l = BM_STRLIST_INIT;
	size_t i, best = 0;
	int error;
	bm_buf_clear(name);
	if (fs->ops->last)
		return fs->ops->last(name, fs, dir ? dir : "");
	if ((error = fs->ops->list(&l, fs, dir ? dir : "")) == 0) {
		for (i = 1; i < l.count; i++)
			if (strcmp(l.items[i], l.items[best]) > 0)
				best = i;
		error = l.count ? bm_buf_puts(name, l.items[best])
				: bm_error_set(BM_ENOTFOUND, "%s: empty folder", dir ? dir : "");
	}
	bm_strlist_dispose(&l);
	return error;
}

int bm_fs_exists(bm_fs *fs, const char *path)
{
	return fs->ops->exists(fs, path);
}

const bm_oid *bm_fs_commit(bm_fs *fs)
{
	return fs->has_commit ? &fs->commit : NULL;
}

void bm_fs_free(bm_fs *fs)
{
	if (fs && fs->ops->free)
		fs->ops->free(fs);
}

/* ---- a folder of another view ---- */

typedef struct {
	bm_fs base;
	bm_fs *parent;
	bm_buf prefix; /* "dir/" */
} sub_fs;

static int sub_path(bm_buf *out, sub_fs *s, const char *path)
{
	bm_buf_clear(out);
	if (bm_buf_put(out, s->prefix.ptr, s->prefix.size) < 0 || bm_buf_puts(out, path ? path : "") < 0)
		return BM_ENOMEM;
	while (out->size && out->ptr[out->size - 1] == '/')
		out->ptr[--out->size] = '\0';
	return 0;
}

static int sub_read(bm_buf *out, bm_fs *fs, const char *path)
{
	bm_buf p = BM_BUF_INIT;
	int error = sub_path(&p, (sub_fs *)fs, path);
	if (!error)
		error = bm_fs_read(out, ((sub_fs *)fs)->parent, p.ptr);
	bm_buf_dispose(&p);
	return error;
}

static int sub_list(bm_strlist *out, bm_fs *fs, const char *dir)
{
	bm_buf p = BM_BUF_INIT;
	int error = sub_path(&p, (sub_fs *)fs, dir);
	if (!error)
		error = ((sub_fs *)fs)->parent->ops->list(out, ((sub_fs *)fs)->parent, p.ptr);
	bm_buf_dispose(&p);
	return error;
}

static int sub_exists(bm_fs *fs, const char *path)
{
	bm_buf p = BM_BUF_INIT;
	int rc = sub_path(&p, (sub_fs *)fs, path) < 0 ? 0 : bm_fs_exists(((sub_fs *)fs)->parent, p.ptr);
	bm_buf_dispose(&p);
	return rc;
}

static void sub_free(bm_fs *fs)
{
	bm_buf_dispose(&((sub_fs *)fs)->prefix);
	free(fs);
}

static const bm_fs_ops sub_ops = { sub_read, sub_list, sub_exists, sub_free, NULL, NULL };

int bm__fs_sub(bm_fs **out, bm_fs *fs, const char *dir)
{
	sub_fs *s;
	int error;
	*out = NULL;
	if ((error = bm_path_check(dir)) < 0)
		return error;
	if (fs->ops->sub)
		return fs->ops->sub(out, fs, dir);
	if (bm_fs_exists(fs, dir) != 2)
		return bm_error_set(BM_ENOTFOUND, "%s: no such folder", dir);
	if (!(s = calloc(1, sizeof(*s))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	s->base.ops = &sub_ops;
	s->base.commit = fs->commit;
	s->base.has_commit = fs->has_commit;
	s->parent = fs;
	if (bm_buf_printf(&s->prefix, "%s/", dir) < 0) {
		sub_free(&s->base);
		return BM_ENOMEM;
	}
	*out = &s->base;
	return 0;
}

/* A clean relative path: no leading '/', no empty, "." or ".." parts. */
int bm_path_check(const char *path)
{
	const char *seg;
	if (!path || !*path)
		return bm_error_set(BM_EINVALID, "empty path");
	if (path[0] == '/')
		return bm_error_set(BM_EINVALID, "path \"%s\" is absolute; paths are relative to the meta repo", path);
	for (seg = path; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL) {
		size_t n = strcspn(seg, "/");
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return bm_error_set(BM_EINVALID, "path \"%s\" has an empty, \".\" or \"..\" part", path);
		if (n == 4 && !strncmp(seg, ".git", 4))
			return bm_error_set(BM_EINVALID, "path \"%s\" names .git", path);
	}
	for (seg = path; *seg; seg++)
		if ((unsigned char)*seg < 0x20 || *seg == 0x7f || *seg == '\\')
			return bm_error_set(BM_EINVALID, "path \"%s\" has a control character or backslash", path);
	return 0;
}

/* ---- plain folder ---- */

typedef struct {
	bm_fs base;
	char *root;
} dir_fs;

static int dir_full(bm_buf *full, dir_fs *d, const char *path)
{
	if (*path && bm_path_check(path) < 0)
		return BM_EINVALID;
	return bm_buf_printf(full, "%s/%s", d->root, path);
}

static int dir_read(bm_buf *out, bm_fs *fs, const char *path)
{
	bm_buf full = BM_BUF_INIT;
	int error;
	if ((error = dir_full(&full, (dir_fs *)fs, path)) == 0)
		error = bm_file_read(out, full.ptr, 0);
	bm_buf_dispose(&full);
	return error;
}

static int dir_list(bm_strlist *out, bm_fs *fs, const char *dirpath)
{
	bm_buf full = BM_BUF_INIT;
	DIR *dir = NULL;
	struct dirent *de;
	int error;
	if ((error = dir_full(&full, (dir_fs *)fs, dirpath)) < 0)
		goto done;
	if (!(dir = opendir(full.ptr))) {
		error = errno == ENOENT || errno == ENOTDIR
				? bm_error_set(BM_ENOTFOUND, "%s: no such folder", dirpath)
				: bm_error_set(BM_EIO, "%s: %s", full.ptr, strerror(errno));
		goto done;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;
		bm_buf ent = BM_BUF_INIT;
		if (de->d_name[0] == '.')
			continue;
		if ((error = bm_buf_printf(&ent, "%s/%s", full.ptr, de->d_name)) < 0)
			goto done;
		if (stat(ent.ptr, &st) == 0 && S_ISDIR(st.st_mode)) {
			bm_buf_clear(&ent);
			error = bm_buf_printf(&ent, "%s/", de->d_name);
			if (!error)
				error = bm_strlist_add(out, ent.ptr);
		} else {
			error = bm_strlist_add(out, de->d_name);
		}
		bm_buf_dispose(&ent);
		if (error < 0)
			goto done;
	}
done:
	if (dir)
		closedir(dir);
	bm_buf_dispose(&full);
	return error;
}

static int dir_exists(bm_fs *fs, const char *path)
{
	bm_buf full = BM_BUF_INIT;
	struct stat st;
	int rc = 0;
	if (dir_full(&full, (dir_fs *)fs, path) == 0 && stat(full.ptr, &st) == 0)
		rc = S_ISDIR(st.st_mode) ? 2 : 1;
	bm_buf_dispose(&full);
	return rc;
}

static void dir_free(bm_fs *fs)
{
	dir_fs *d = (dir_fs *)fs;
	free(d->root);
	free(d);
}

static const bm_fs_ops dir_ops = { dir_read, dir_list, dir_exists, dir_free };

int bm_fs_dir(bm_fs **out, const char *folder)
{
	dir_fs *d;
	struct stat st;
	*out = NULL;
	if (stat(folder, &st) < 0 || !S_ISDIR(st.st_mode))
		return bm_error_set(BM_ENOTFOUND, "%s: not a folder", folder);
	if (!(d = calloc(1, sizeof(*d))) || !(d->root = strdup(folder))) {
		free(d);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	d->base.ops = &dir_ops;
	*out = &d->base;
	return 0;
}

/* ---- memory ---- */

typedef struct {
	char *path;
	bm_buf data;
} mem_file;

typedef struct {
	bm_fs base;
	mem_file *files;
	size_t count, alloc;
} mem_fs;

static mem_file *mem_find(mem_fs *m, const char *path)
{
	size_t i;
	for (i = 0; i < m->count; i++)
		if (!strcmp(m->files[i].path, path))
			return &m->files[i];
	return NULL;
}

static int mem_read(bm_buf *out, bm_fs *fs, const char *path)
{
	mem_file *f = mem_find((mem_fs *)fs, path);
	if (!f)
		return bm_error_set(BM_ENOTFOUND, "%s: no such file", path);
	return bm_buf_put(out, f->data.ptr ? f->data.ptr : "", f->data.size);
}

/* The direct children of `dir` among `paths`, as names (folders with a trailing '/'). */
int bm_fs_children(bm_strlist *out, const char *dir, const char *const *paths, size_t n)
{
	size_t dl = strlen(dir), i, j;
	int found = 0, error;
	while (dl && dir[dl - 1] == '/')
		dl--;
	for (i = 0; i < n; i++) {
		const char *rest, *slash;
		size_t len;
		if (dl) {
			if (strncmp(paths[i], dir, dl) || paths[i][dl] != '/')
				continue;
			rest = paths[i] + dl + 1;
		} else {
			rest = paths[i];
		}
		found = 1;
		slash = strchr(rest, '/');
		len = slash ? (size_t)(slash - rest) + 1 : strlen(rest);
		for (j = 0; j < out->count; j++)
			if (strlen(out->items[j]) == len && !strncmp(out->items[j], rest, len))
				break;
		if (j == out->count && (error = bm_strlist_addn(out, rest, len)) < 0)
			return error;
	}
	return found;
}

static int mem_list(bm_strlist *out, bm_fs *fs, const char *dir)
{
	mem_fs *m = (mem_fs *)fs;
	const char **paths = calloc(m->count + 1, sizeof(char *));
	size_t i;
	int rc;
	if (!paths)
		return bm_error_set(BM_ENOMEM, "out of memory");
	for (i = 0; i < m->count; i++)
		paths[i] = m->files[i].path;
	rc = bm_fs_children(out, dir, paths, m->count);
	free(paths);
	if (rc < 0)
		return rc;
	if (rc == 0 && *dir)
		return bm_error_set(BM_ENOTFOUND, "%s: no such folder", dir);
	return 0;
}

static int mem_exists(bm_fs *fs, const char *path)
{
	mem_fs *m = (mem_fs *)fs;
	size_t i, pl = strlen(path);
	if (mem_find(m, path))
		return 1;
	for (i = 0; i < m->count; i++)
		if (!strncmp(m->files[i].path, path, pl) && m->files[i].path[pl] == '/')
			return 2;
	return 0;
}

static void mem_free(bm_fs *fs)
{
	mem_fs *m = (mem_fs *)fs;
	size_t i;
	for (i = 0; i < m->count; i++) {
		free(m->files[i].path);
		bm_buf_dispose(&m->files[i].data);
	}
	free(m->files);
	free(m);
}

static const bm_fs_ops mem_ops = { mem_read, mem_list, mem_exists, mem_free };

int bm_fs_mem(bm_fs **out)
{
	mem_fs *m = calloc(1, sizeof(*m));
	*out = NULL;
	if (!m)
		return bm_error_set(BM_ENOMEM, "out of memory");
	m->base.ops = &mem_ops;
	*out = &m->base;
	return 0;
}

int bm_fs_mem_put(bm_fs *fs, const char *path, const void *data, size_t len)
{
	mem_fs *m = (mem_fs *)fs;
	mem_file *f;
	int error;
	if (fs->ops != &mem_ops)
		return bm_error_set(BM_EINVALID, "not a memory view");
	if ((error = bm_path_check(path)) < 0)
		return error;
	if ((f = mem_find(m, path)) != NULL) {
		bm_buf_clear(&f->data);
		return bm_buf_put(&f->data, data, len);
	}
	if (m->count == m->alloc) {
		size_t na = m->alloc ? m->alloc * 2 : 16;
		mem_file *p = realloc(m->files, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		m->files = p;
		m->alloc = na;
	}
	f = &m->files[m->count];
	memset(f, 0, sizeof(*f));
	if (!(f->path = strdup(path)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if ((error = bm_buf_put(&f->data, data, len)) < 0) {
		free(f->path);
		return error;
	}
	m->count++;
	return 0;
}
