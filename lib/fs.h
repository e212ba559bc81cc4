/* fs.h: internals of the bm_fs view shared by fs.c and store.c. */
#ifndef BM_FS_INTERNAL_H
#define BM_FS_INTERNAL_H

#include "bootmeta/common.h"
#include "bootmeta/store.h"

typedef struct {
	int (*read)(bm_buf *out, bm_fs *fs, const char *path);
	int (*list)(bm_strlist *out, bm_fs *fs, const char *dir); /* unsorted is fine */
	int (*exists)(bm_fs *fs, const char *path);
	void (*free)(bm_fs *fs);
	/* optional: the last entry name of `dir` in bytewise order (sub-folders end with '/');
	 * NULL: bm_fs_last lists the folder */
	int (*last)(bm_buf *name, bm_fs *fs, const char *dir);
	/* optional: a view of folder `dir` (see bm__fs_sub); NULL: the generic prefix view */
	int (*sub)(bm_fs **out, bm_fs *fs, const char *dir);
	/* optional: bm__fs_each without a listing; it may set *declined (before any call of
	 * `cb`, returning 0) to say "list it", as when NULL */
	int (*each)(bm_fs *fs, const char *dir, int (*cb)(const char *name, int is_dir, void *payload),
		    void *payload, int *declined);
} bm_fs_ops;

/* Call `cb` with each entry of folder `dir` in bytewise order of the listing (`is_dir`: a
 * folder, its name without the '/'), up to the first that returns non-zero, which this
 * returns. BM_ENOTFOUND when `dir` is not a folder. On a git tree it allocates nothing (a
 * bucket of a log holds 1,000 names: a listing was 15% of a 1-client writer's CPU). */
int bm__fs_each(bm_fs *fs, const char *dir, int (*cb)(const char *name, int is_dir, void *payload),
		void *payload);

struct bm_fs {
	const bm_fs_ops *ops;
	bm_oid commit;
	int has_commit;
};

/* 0 when `path` is a clean relative path. */
int bm_path_check(const char *path);
/* Add the direct children of `dir` found in `paths` to `out` (no duplicates); returns 1 when
 * any path was under `dir`, 0 when none, < 0 on error. */
int bm_fs_children(bm_strlist *out, const char *dir, const char *const *paths, size_t n);

/* A view of folder `dir` of `fs`: paths are relative to `dir`. `fs` must outlive it. For a
 * commit's tree the view holds the folder's tree, so reads below it skip the walk from the
 * root (config resolve reads hundreds of records under one folder). BM_ENOTFOUND when `dir`
 * is not a folder of `fs`. Free with bm_fs_free. */
int bm__fs_sub(bm_fs **out, bm_fs *fs, const char *dir);

#endif
