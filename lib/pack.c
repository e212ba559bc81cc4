/* pack.c: a write's new objects as one pack file and its index (git's pack format v2 and
 * index v2, written here from the format's description in git's
 * Documentation/gitformat-pack.txt), the in-memory odb backend that collects them, and the
 * merge that bounds how many packs the writes leave. Every object is stored whole (no
 * deltas; `git gc` finds them later), deflated at zlib's fastest level with one stream
 * reset per object. */
#define _GNU_SOURCE
#include "pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <sodium.h>

#include "bootmeta/common.h"
#include "sha1.h"

/* ---- the in-memory backend ---- */

typedef struct {
	git_oid id;
	git_object_t type;
	size_t len;
	unsigned char *data;
} mem_obj;

typedef struct {
	git_odb_backend parent;
	mem_obj *o;
	size_t n, a;
	uint32_t *slot; /* open addressing: index + 1; 0 is empty */
	size_t nslot;   /* a power of two, at least twice n */
	size_t bytes;   /* the objects' sizes added up */
	int oom;        /* a write ran out of memory: libgit2 may retry it another way, but the
			 * write as a whole fails (bm__pack_write_objbuf says so) */
	unsigned refs;  /* its free() drops one; the last frees it (bm__objbuf_ref) */
} objbuf;

static size_t slot_of(const git_oid *id, size_t nslot)
{
	return ((size_t)id->id[0] | (size_t)id->id[1] << 8 | (size_t)id->id[2] << 16 | (size_t)id->id[3] << 24) &
	       (nslot - 1);
}

static mem_obj *ob_find(objbuf *b, const git_oid *id)
{
	size_t i;
	if (!b->nslot)
		return NULL;
	for (i = slot_of(id, b->nslot); b->slot[i]; i = (i + 1) & (b->nslot - 1))
		if (git_oid_equal(&b->o[b->slot[i] - 1].id, id))
			return &b->o[b->slot[i] - 1];
	return NULL;
}

static int ob_rehash(objbuf *b, size_t nslot)
{
	uint32_t *s = calloc(nslot, sizeof(*s));
	size_t i, j;
	if (!s)
		return -1;
	for (i = 0; i < b->n; i++) {
		for (j = slot_of(&b->o[i].id, nslot); s[j]; j = (j + 1) & (nslot - 1))
			;
		s[j] = (uint32_t)(i + 1);
	}
	free(b->slot);
	b->slot = s;
	b->nslot = nslot;
	return 0;
}

/* A copy of `o` (NULL: not found) in libgit2's buffer, for a read of backend `be`. */
static int obj_out(void **data, size_t *len, git_object_t *type, git_odb_backend *be, const mem_obj *o)
{
	if (!o)
		return GIT_ENOTFOUND;
	if (!(*data = git_odb_backend_data_alloc(be, o->len + 1)))
		return -1;
	memcpy(*data, o->data, o->len);
	*len = o->len;
	*type = o->type;
	return 0;
}

static int ob_read(void **data, size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *id)
{
	return obj_out(data, len, type, be, ob_find((objbuf *)be, id));
}

static int ob_read_header(size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *id)
{
	mem_obj *o = ob_find((objbuf *)be, id);
	if (!o)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int ob_exists(git_odb_backend *be, const git_oid *id)
{
	return ob_find((objbuf *)be, id) != NULL;
}

static int ob_write(git_odb_backend *be, const git_oid *id, const void *data, size_t len, git_object_t type)
{
	objbuf *b = (objbuf *)be;
	mem_obj *o;
	size_t j;
	if (b->oom)
		goto oom;
	if (ob_find(b, id))
		return 0;
	if ((b->n + 1) * 2 > b->nslot && ob_rehash(b, b->nslot ? b->nslot * 2 : 64) < 0)
		goto oom;
	if (b->n == b->a) {
		size_t na = b->a ? b->a * 2 : 32;
		mem_obj *p = realloc(b->o, na * sizeof(*p));
		if (!p)
			goto oom;
		b->o = p;
		b->a = na;
	}
	o = &b->o[b->n];
	if (!(o->data = malloc(len ? len : 1)))
		goto oom;
	memcpy(o->data, data, len);
	git_oid_cpy(&o->id, id);
	o->len = len;
	o->type = type;
	b->bytes += len;
	for (j = slot_of(id, b->nslot); b->slot[j]; j = (j + 1) & (b->nslot - 1))
		;
	b->slot[j] = (uint32_t)(++b->n);
	return 0;
oom:
	b->oom = 1;
	git_error_set_oom();
	return -1;
}

static void ob_free(git_odb_backend *be)
{
	objbuf *b = (objbuf *)be;
	size_t i;
	if (--b->refs > 0)
		return;
	for (i = 0; i < b->n; i++)
		free(b->o[i].data);
	free(b->o);
	free(b->slot);
	free(b);
}

int bm__objbuf_new(git_odb_backend **out)
{
	objbuf *b = calloc(1, sizeof(*b));
	*out = NULL;
	if (!b)
		return bm_error_set(BM_ENOMEM, "out of memory");
	git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION);
	b->parent.read = ob_read;
	b->parent.read_header = ob_read_header;
	b->parent.exists = ob_exists;
	b->parent.write = ob_write;
	b->parent.free = ob_free;
	b->refs = 1;
	*out = &b->parent;
	return 0;
}

size_t bm__objbuf_count(git_odb_backend *be) { return ((objbuf *)be)->n; }

size_t bm__objbuf_bytes(git_odb_backend *be) { return ((objbuf *)be)->bytes; }

void bm__objbuf_ref(git_odb_backend *be) { ((objbuf *)be)->refs++; }

/* ---- a read-only view of an objbuf someone else owns ---- */

static int freshen_none(git_odb_backend *be, const git_oid *id)
{
	(void)be;
	(void)id;
	return GIT_ENOTFOUND; /* "write it": see pack.h */
}

typedef struct {
	git_odb_backend parent;
	objbuf *t[BM_OBJVIEW_MAX];
	size_t n;
} objview;

static mem_obj *ov_find(git_odb_backend *be, const git_oid *id)
{
	objview *v = (objview *)be;
	mem_obj *o = NULL;
	size_t i;
	for (i = 0; i < v->n && !o; i++)
		o = ob_find(v->t[i], id);
	return o;
}

static int ov_read(void **data, size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *id)
{
	return obj_out(data, len, type, be, ov_find(be, id));
}

static int ov_read_header(size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *id)
{
	mem_obj *o = ov_find(be, id);
	if (!o)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int ov_exists(git_odb_backend *be, const git_oid *id)
{
	return ov_find(be, id) != NULL;
}

static void ov_free(git_odb_backend *be)
{
	objview *v = (objview *)be;
	size_t i;
	for (i = 0; i < v->n; i++)
		ob_free(&v->t[i]->parent);
	free(v);
}

int bm__objbuf_view_new(git_odb_backend **out, git_odb_backend *const *targets, size_t n)
{
	objview *v = calloc(1, sizeof(*v));
	size_t i;
	*out = NULL;
	if (!v)
		return bm_error_set(BM_ENOMEM, "out of memory");
	git_odb_init_backend(&v->parent, GIT_ODB_BACKEND_VERSION);
	v->parent.read = ov_read;
	v->parent.read_header = ov_read_header;
	v->parent.exists = ov_exists;
	v->parent.freshen = freshen_none;
	v->parent.free = ov_free;
	for (i = 0; i < n && v->n < BM_OBJVIEW_MAX; i++) {
		if (!targets[i])
			continue;
		v->t[v->n] = (objbuf *)targets[i];
		v->t[v->n++]->refs++;
	}
	*out = &v->parent;
	return 0;
}

/* ---- the read-through backend ---- */

typedef struct {
	git_odb_backend parent;
	git_odb *real;
} passthrough;

static int pt_copy(void **data, size_t *len, git_object_t *type, git_odb_backend *be, git_odb_object *obj)
{
	size_t n = git_odb_object_size(obj);
	if (!(*data = git_odb_backend_data_alloc(be, n + 1))) {
		git_odb_object_free(obj);
		return -1;
	}
	memcpy(*data, git_odb_object_data(obj), n);
	*len = n;
	*type = git_odb_object_type(obj);
	git_odb_object_free(obj);
	return 0;
}

static int pt_read(void **data, size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *id)
{
	git_odb_object *obj = NULL;
	int rc = git_odb_read(&obj, ((passthrough *)be)->real, id);
	return rc < 0 ? rc : pt_copy(data, len, type, be, obj);
}

static int pt_read_prefix(git_oid *out, void **data, size_t *len, git_object_t *type, git_odb_backend *be,
			  const git_oid *id, size_t n)
{
	git_odb_object *obj = NULL;
	int rc = git_odb_read_prefix(&obj, ((passthrough *)be)->real, id, n);
	if (rc < 0)
		return rc;
	git_oid_cpy(out, git_odb_object_id(obj));
	return pt_copy(data, len, type, be, obj);
}

static int pt_read_header(size_t *len, git_object_t *type, git_odb_backend *be, const git_oid *id)
{
	return git_odb_read_header(len, type, ((passthrough *)be)->real, id);
}

static int pt_exists(git_odb_backend *be, const git_oid *id)
{
	return git_odb_exists(((passthrough *)be)->real, id);
}

static int pt_exists_prefix(git_oid *out, git_odb_backend *be, const git_oid *id, size_t n)
{
	return git_odb_exists_prefix(out, ((passthrough *)be)->real, id, n);
}

static void pt_free(git_odb_backend *be)
{
	git_odb_free(((passthrough *)be)->real);
	free(be);
}

int bm__odb_passthrough_new(git_odb_backend **out, git_odb *real)
{
	passthrough *p = calloc(1, sizeof(*p));
	*out = NULL;
	if (!p)
		return bm_error_set(BM_ENOMEM, "out of memory");
	git_odb_init_backend(&p->parent, GIT_ODB_BACKEND_VERSION);
	p->parent.read = pt_read;
	p->parent.read_prefix = pt_read_prefix;
	p->parent.read_header = pt_read_header;
	p->parent.exists = pt_exists;
	p->parent.exists_prefix = pt_exists_prefix;
	p->parent.freshen = freshen_none;
	p->parent.free = pt_free;
	p->real = real;
	*out = &p->parent;
	return 0;
}

/* ---- the pack writer ---- */

typedef struct {
	git_oid id;
	uint32_t crc;
	uint64_t off;
} pack_entry;

typedef struct {
	const char *dir;
	char tmp_pack[4096], tmp_idx[4096];
	int fd;
	bm__sha1_ctx sha;
	uint64_t off;
	z_stream z;
	int zinit;
	pack_entry *e;
	size_t n, want;
	unsigned char *zbuf;
	size_t zcap;
	unsigned char wbuf[65536];
	size_t wlen;
} packw;

static int pw_flush(packw *w)
{
	size_t done = 0;
	while (done < w->wlen) {
		ssize_t k = write(w->fd, w->wbuf + done, w->wlen - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return bm_error_set(BM_EIO, "writing %s: %s", w->tmp_pack, k < 0 ? strerror(errno) : "short write");
		done += (size_t)k;
	}
	w->wlen = 0;
	return 0;
}

static int pw_put(packw *w, const void *data, size_t n)
{
	const unsigned char *p = data;
	int error;
	bm__sha1_update(&w->sha, p, n);
	w->off += n;
	while (n) {
		size_t take = sizeof(w->wbuf) - w->wlen < n ? sizeof(w->wbuf) - w->wlen : n;
		memcpy(w->wbuf + w->wlen, p, take);
		w->wlen += take, p += take, n -= take;
		if (w->wlen == sizeof(w->wbuf) && (error = pw_flush(w)) < 0)
			return error;
	}
	return 0;
}

static int tmp_open(char *path, size_t size, const char *dir, const char *ext)
{
	unsigned char r[8];
	char hex[17];
	int fd, tries;
	for (tries = 0; tries < 10; tries++) {
		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
		snprintf(path, size, "%s/tmp_bm_%s.%s", dir, hex, ext);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd < 0 && errno == ENOENT && !tries) {
			/* a repo with no objects/pack yet (git makes it at init; an old one may not) */
			if (mkdir(dir, 0777) < 0 && errno != EEXIST)
				return bm_error_set(BM_EIO, "creating %s: %s", dir, strerror(errno));
			continue;
		}
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : bm_error_set(BM_EIO, "creating %s: %s", path, strerror(errno));
	}
	return bm_error_set(BM_EIO, "creating a temporary file in %s: names keep existing", dir);
}

static void pw_dispose(packw *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp_pack[0])
		unlink(w->tmp_pack);
	if (w->tmp_idx[0])
		unlink(w->tmp_idx);
	w->tmp_pack[0] = w->tmp_idx[0] = '\0';
	if (w->zinit)
		deflateEnd(&w->z);
	w->zinit = 0;
	free(w->e);
	free(w->zbuf);
	w->e = NULL;
	w->zbuf = NULL;
}

static int pw_open(packw *w, const char *dir, size_t count)
{
	unsigned char hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };
	memset(w, 0, offsetof(packw, wbuf));
	w->wlen = 0;
	w->fd = -1;
	w->dir = dir;
	w->want = count;
	if (count > UINT32_MAX)
		return bm_error_set(BM_ETOOBIG, "too many objects for one pack");
	if (!(w->e = calloc(count ? count : 1, sizeof(*w->e))))
		return bm_error_set(BM_ENOMEM, "out of memory");
	if (deflateInit2(&w->z, Z_BEST_SPEED, Z_DEFLATED, 15, 6, Z_DEFAULT_STRATEGY) != Z_OK)
		return bm_error_set(BM_ENOMEM, "zlib: cannot start a stream");
	w->zinit = 1;
	if ((w->fd = tmp_open(w->tmp_pack, sizeof(w->tmp_pack), dir, "pack")) < 0) {
		int e = w->fd;
		w->fd = -1;
		w->tmp_pack[0] = '\0';
		return e;
	}
	hdr[8] = (unsigned char)(count >> 24), hdr[9] = (unsigned char)(count >> 16);
	hdr[10] = (unsigned char)(count >> 8), hdr[11] = (unsigned char)count;
	bm__sha1_init(&w->sha);
	return pw_put(w, hdr, sizeof(hdr));
}

static int pw_add(packw *w, const git_oid *id, git_object_t type, const void *data, size_t len)
{
	unsigned char hdr[16];
	size_t hn = 0, bound;
	uint64_t sz = len;
	unsigned char c;
	uLong crc;
	int error, zr;
	pack_entry *e;

	if (w->n >= w->want)
		return bm_error_set(BM_ERROR, "pack: more objects than announced");
	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_TAG)
		return bm_error_set(BM_ERROR, "pack: object of type %d", (int)type);
	c = (unsigned char)(((unsigned)type << 4) | (sz & 15));
	sz >>= 4;
	while (sz) {
		hdr[hn++] = c | 0x80;
		c = sz & 0x7f;
		sz >>= 7;
	}
	hdr[hn++] = c;
	bound = deflateBound(&w->z, (uLong)len) + 16;
	if (bound > w->zcap) {
		unsigned char *p = realloc(w->zbuf, bound);
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		w->zbuf = p;
		w->zcap = bound;
	}
	if (deflateReset(&w->z) != Z_OK)
		return bm_error_set(BM_ERROR, "zlib: reset");
	w->z.next_in = (Bytef *)(uintptr_t)data;
	w->z.avail_in = (uInt)len;
	w->z.next_out = w->zbuf;
	w->z.avail_out = (uInt)w->zcap;
	zr = deflate(&w->z, Z_FINISH);
	if (zr != Z_STREAM_END)
		return bm_error_set(BM_ERROR, "zlib: deflate did not finish (%d)", zr);
	e = &w->e[w->n++];
	git_oid_cpy(&e->id, id);
	e->off = w->off;
	crc = crc32(0L, hdr, (uInt)hn);
	crc = crc32(crc, w->zbuf, (uInt)(w->zcap - w->z.avail_out));
	e->crc = (uint32_t)crc;
	if ((error = pw_put(w, hdr, hn)) < 0)
		return error;
	return pw_put(w, w->zbuf, w->zcap - w->z.avail_out);
}

static int cmp_entry(const void *a, const void *b)
{
	return git_oid_cmp(&((const pack_entry *)a)->id, &((const pack_entry *)b)->id);
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
	p[3] = (unsigned char)v;
}

static int write_all(int fd, const void *data, size_t n, const char *path)
{
	const unsigned char *p = data;
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return bm_error_set(BM_EIO, "writing %s: %s", path, k < 0 ? strerror(errno) : "short write");
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int write_out(int fd, const char *path, int wait, int full)
{
	int rc;
	if (full)
		rc = wait ? fdatasync(fd) : 0;
	else
		rc = sync_file_range(fd, 0, 0, wait ? SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
							      SYNC_FILE_RANGE_WAIT_AFTER
						    : SYNC_FILE_RANGE_WRITE);
	if (rc < 0 && errno != ENOSYS)
		return bm_error_set(BM_EIO, "writing out %s: %s", path, strerror(errno));
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), error = 0;
	if (fd < 0)
		return bm_error_set(BM_EIO, "open %s: %s", dir, strerror(errno));
	if (fsync(fd) < 0)
		error = bm_error_set(BM_EIO, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return error;
}

/* Finish the pack: trailer, the index, write-out, renames. `name` gets pack-<hex>. With
 * `dir_sync` the folder is fsync'd after the renames (the merge needs that before it
 * removes anything). */
static int pw_finish(packw *w, char name[64], int full, int dir_sync)
{
	unsigned char sum[20], *idx = NULL, *p;
	char hex[GIT_OID_HEXSZ + 1], final[4200];
	size_t i, nlarge = 0, isz;
	uint32_t fan[256] = { 0 };
	int fd = -1, error = 0;
	bm__sha1_ctx s;

	if (w->n != w->want)
		return bm_error_set(BM_ERROR, "pack: %zu objects announced, %zu written", w->want, w->n);
	bm__sha1_final(sum, &w->sha);
	if (w->wlen + 20 > sizeof(w->wbuf) && (error = pw_flush(w)) < 0)
		return error;
	memcpy(w->wbuf + w->wlen, sum, 20);
	w->wlen += 20;
	if ((error = pw_flush(w)) < 0 || (error = write_out(w->fd, w->tmp_pack, 0, full)) < 0)
		return error;

	/* the index: sorted names, fan-out, CRCs, offsets (large ones in a second table) */
	qsort(w->e, w->n, sizeof(*w->e), cmp_entry);
	for (i = 0; i < w->n; i++) {
		fan[w->e[i].id.id[0]]++;
		if (w->e[i].off >= 0x80000000u)
			nlarge++;
	}
	isz = 8 + 1024 + w->n * 28 + nlarge * 8 + 40;
	if (!(idx = malloc(isz)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	p = idx;
	memcpy(p, "\377tOc\0\0\0\2", 8);
	p += 8;
	for (i = 1; i < 256; i++)
		fan[i] += fan[i - 1];
	for (i = 0; i < 256; i++, p += 4)
		be32(p, fan[i]);
	for (i = 0; i < w->n; i++, p += 20)
		memcpy(p, w->e[i].id.id, 20);
	for (i = 0; i < w->n; i++, p += 4)
		be32(p, w->e[i].crc);
	{
		uint32_t li = 0;
		unsigned char *large = p + w->n * 4;
		for (i = 0; i < w->n; i++, p += 4) {
			if (w->e[i].off < 0x80000000u) {
				be32(p, (uint32_t)w->e[i].off);
			} else {
				be32(p, 0x80000000u | li);
				be32(large + 8 * li, (uint32_t)(w->e[i].off >> 32));
				be32(large + 8 * li + 4, (uint32_t)w->e[i].off);
				li++;
			}
		}
		p = large + 8 * nlarge;
	}
	memcpy(p, sum, 20);
	p += 20;
	bm__sha1_init(&s);
	bm__sha1_update(&s, idx, (size_t)(p - idx));
	bm__sha1_final(p, &s);

	if ((fd = tmp_open(w->tmp_idx, sizeof(w->tmp_idx), w->dir, "idx")) < 0) {
		error = fd;
		fd = -1;
		w->tmp_idx[0] = '\0';
		goto done;
	}
	if ((error = write_all(fd, idx, isz, w->tmp_idx)) < 0 || (error = write_out(fd, w->tmp_idx, 1, full)) < 0 ||
	    (error = write_out(w->fd, w->tmp_pack, 1, full)) < 0)
		goto done;
	close(fd);
	fd = -1;
	close(w->fd);
	w->fd = -1;

	/* the pack first, then its index: a reader finds a pack through its index */
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	snprintf(name, 64, "pack-%s", hex);
	snprintf(final, sizeof(final), "%s/%s.pack", w->dir, name);
	if (rename(w->tmp_pack, final) < 0) {
		error = bm_error_set(BM_EIO, "renaming %s: %s", w->tmp_pack, strerror(errno));
		goto done;
	}
	w->tmp_pack[0] = '\0';
	snprintf(final, sizeof(final), "%s/%s.idx", w->dir, name);
	if (rename(w->tmp_idx, final) < 0) {
		error = bm_error_set(BM_EIO, "renaming %s: %s", w->tmp_idx, strerror(errno));
		goto done;
	}
	w->tmp_idx[0] = '\0';
	if (full || dir_sync)
		error = fsync_dir(w->dir);
done:
	if (fd >= 0)
		close(fd);
	free(idx);
	return error;
}

int bm__pack_write_objbuf(git_odb_backend *be, const char *packdir, int full)
{
	objbuf *b = (objbuf *)be;
	packw w;
	char name[64];
	size_t i;
	int error;

	if (b->oom)
		return bm_error_set(BM_ENOMEM, "out of memory");
	if (!b->n)
		return 0;
	if ((error = pw_open(&w, packdir, b->n)) == 0) {
		for (i = 0; i < b->n && !error; i++)
			error = pw_add(&w, &b->o[i].id, b->o[i].type, b->o[i].data, b->o[i].len);
		if (!error)
			error = pw_finish(&w, name, full, 0);
	}
	pw_dispose(&w);
	return error;
}

/* ---- bounding the pack count ---- */

typedef struct {
	char *name; /* pack-<hex> */
	off_t size; /* of its .idx */
} pack_info;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `names` sorted (bm_strlist_sort): a folder holds three files per pack and as many markers
 * of retired ones, and a merge check asks about each of them several times (a scan of the
 * list per question was 10% of a 1-client writer's CPU). */
static int has_name(const bm_strlist *names, const char *base, const char *ext)
{
	char want[600];
	const char *key = want;
	if ((size_t)snprintf(want, sizeof(want), "%s%s", base, ext) >= sizeof(want))
		return 1; /* cannot be asked: "there", the answer that leaves the pack alone */
	return names->count && bsearch(&key, names->items, names->count, sizeof(*names->items), cmp_name) != NULL;
}

static int list_dir(bm_strlist *out, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int error = 0;
	if (!d)
		return errno == ENOENT ? 0 : bm_error_set(BM_EIO, "reading %s: %s", dir, strerror(errno));
	while (!error && (de = readdir(d)))
		if (de->d_name[0] != '.')
			error = bm_strlist_add(out, de->d_name);
	closedir(d);
	return error;
}

int bm__pack_count(int *out, const char *packdir)
{
	bm_strlist names = BM_STRLIST_INIT;
	size_t i;
	int error;
	*out = 0;
	if ((error = list_dir(&names, packdir)) == 0)
		for (i = 0; i < names.count; i++) {
			size_t l = strlen(names.items[i]);
			if (l > 4 && !strcmp(names.items[i] + l - 4, ".idx"))
				(*out)++;
		}
	bm_strlist_dispose(&names);
	return error;
}

/* ---- reading a pack of ours back for the merge ---- */

typedef struct {
	git_oid id;
	uint32_t crc;
	uint64_t off, len; /* of the whole entry (header + data) in its pack */
	size_t pack;       /* which of the merged packs */
} src_entry;

/* A pack or index of the merge, mapped read-only: the pages are the file's, which the kernel
 * can drop and read again, so merging the biggest packs (the whole repo, at the top level)
 * costs no heap. Read into memory, the merge held every merged pack in the writer's heap at
 * once, and glibc kept that memory for the process (serve: 178 MiB resident after 10,000
 * writes, bench/b_serve.sh). Packs are never changed in place (git writes new ones and
 * removes old ones, and a removed file stays readable through its mapping), so the mapping
 * cannot shrink under the merge. 1: the file is gone (git gc meanwhile). */
static int map_file(unsigned char **out, size_t *len, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), error = 0;
	void *m;
	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? 1 : bm_error_set(BM_EIO, "open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		error = bm_error_set(BM_EIO, "stat %s: %s", path, strerror(errno));
		goto done;
	}
	if (st.st_size == 0) {
		error = 1; /* not a pack or index at all: not ours to merge */
		goto done;
	}
	if ((m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		error = errno == ENOMEM ? bm_error_set(BM_ENOMEM, "out of memory mapping %s", path)
					: bm_error_set(BM_EIO, "mapping %s: %s", path, strerror(errno));
		goto done;
	}
	*out = m;
	*len = (size_t)st.st_size;
done:
	close(fd);
	return error;
}

static void unmap_file(unsigned char *p, size_t len)
{
	if (p)
		munmap(p, len);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int cmp_off(const void *a, const void *b)
{
	uint64_t x = ((const src_entry *)a)->off, y = ((const src_entry *)b)->off;
	return x < y ? -1 : x > y;
}

/* The entries of index `idx` (version 2) for a pack of `packlen` bytes, appended to *es.
 * 1 (no error set) when it is not one to merge: not version 2, or inconsistent. */
static int idx_entries(src_entry **es, size_t *n, size_t *a, const unsigned char *idx, size_t ilen, size_t packlen,
		       size_t which)
{
	uint32_t count, i, nlarge = 0;
	const unsigned char *names, *crcs, *offs, *large;
	size_t first = *n;
	if (ilen < 8 + 1024 + 40 || memcmp(idx, "\377tOc\0\0\0\2", 8) || packlen < 12 + 20)
		return 1; /* not an index, or a pack too short for its header and trailer */
	count = rd32(idx + 8 + 1020);
	if ((uint64_t)ilen < 8 + 1024 + (uint64_t)count * 28 + 40)
		return 1;
	names = idx + 8 + 1024;
	crcs = names + (size_t)count * 20;
	offs = crcs + (size_t)count * 4;
	large = offs + (size_t)count * 4;
	if (*n + count > *a) {
		size_t na = (*n + count) * 2;
		src_entry *p = realloc(*es, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		*es = p;
		*a = na;
	}
	for (i = 0; i < count; i++) {
		src_entry *e = &(*es)[*n + i];
		uint32_t o = rd32(offs + 4 * (size_t)i);
		memcpy(e->id.id, names + 20 * (size_t)i, 20);
		e->crc = rd32(crcs + 4 * (size_t)i);
		if (o & 0x80000000u) {
			uint32_t li = o & 0x7fffffffu;
			if ((uint64_t)(large - idx) + 8 * (uint64_t)li + 8 > ilen - 40)
				return 1;
			e->off = (uint64_t)rd32(large + 8 * (size_t)li) << 32 | rd32(large + 8 * (size_t)li + 4);
			nlarge++;
		} else {
			e->off = o;
		}
		e->pack = which;
	}
	/* each entry runs to the next one's offset; the last to the trailer */
	qsort(*es + first, count, sizeof(src_entry), cmp_off);
	for (i = 0; i < count; i++) {
		src_entry *e = &(*es)[first + i];
		uint64_t end = i + 1 < count ? (*es)[first + i + 1].off : (uint64_t)packlen - 20;
		if (e->off < 12 || end <= e->off || end > (uint64_t)packlen - 20)
			return 1;
		e->len = end - e->off;
	}
	*n += count;
	return 0;
}

static int cmp_src(const void *a, const void *b)
{
	return git_oid_cmp(&((const src_entry *)a)->id, &((const src_entry *)b)->id);
}

/* An entry as it is in its pack: a whole object (copied as is, its CRC checked), else (a
 * delta, from git's own packs) read through the odb and stored whole. */
static int merge_entry(packw *w, git_odb *odb, const src_entry *e, const unsigned char *pack)
{
	const unsigned char *p = pack + e->off;
	unsigned type = (p[0] >> 4) & 7;
	git_odb_object *obj = NULL;
	int error;
	if (type >= 1 && type <= 4 && (uint32_t)crc32(0L, p, (uInt)e->len) == e->crc) {
		pack_entry *pe;
		if (w->n >= w->want)
			return bm_error_set(BM_ERROR, "pack: more objects than announced");
		pe = &w->e[w->n++];
		git_oid_cpy(&pe->id, &e->id);
		pe->off = w->off;
		pe->crc = e->crc;
		return pw_put(w, p, (size_t)e->len);
	}
	if (git_odb_read(&obj, odb, &e->id) < 0) {
		const git_error *ge = git_error_last();
		error = ge && ge->klass == GIT_ERROR_NOMEMORY ? bm_error_set(BM_ENOMEM, "out of memory") : 1;
		git_error_clear();
		return error;
	}
	error = pw_add(w, &e->id, git_odb_object_type(obj), git_odb_object_data(obj), git_odb_object_size(obj));
	git_odb_object_free(obj);
	return error;
}

/* the level of a pack of `n` objects: 0 below BM_PACK_LEVEL0, then one per factor of
 * BM_PACKS_PER_LEVEL */
static int pack_level(off_t idx_size)
{
	long long n = ((long long)idx_size - 1072) / 28, t;
	int level = 0;
	for (t = BM_PACK_LEVEL0; n >= t && level < 30; t *= BM_PACKS_PER_LEVEL)
		level++;
	return level;
}

static long pack_grace = BM_PACK_GRACE_SECS;

void bm__pack_set_grace(long secs)
{
	pack_grace = secs;
}

/* The packs earlier merges retired (a marker of the same name in `retdir`) whose grace is
 * over are removed, index first, then their markers; `waiting` gets those still in it (not
 * to merge again). A marker dated more than the grace ahead (the clock went back a lot) is
 * over too. A retired pack that got a .keep meanwhile is someone else's again: unmarked
 * when its grace is over (asked then, not at every check: one access() per marker).
 * `last` (may be NULL): when this caller last swept; a sweep within half the grace of that
 * only lists the markers (all of them wait): a writer checks every few writes, and an
 * lstat() of each of the hundreds of markers a busy writer leaves in a grace was 8% of its
 * CPU.
 * Only out of memory is an error: a marker not read means a pack merged again (its objects
 * twice, none lost), never a write refused. */
static int sweep_retired(bm_strlist *waiting, const char *packdir, const char *retdir, time_t *last)
{
	bm_strlist names = BM_STRLIST_INIT;
	time_t now = time(NULL);
	char path[4200];
	size_t i;
	int error = 0, list_only = 0;
	if (list_dir(&names, retdir) < 0) {
		bm_error_clear();
		return 0;
	}
	if (last && pack_grace > 0 && now >= *last && now - *last < (pack_grace + 1) / 2)
		list_only = 1;
	else if (last)
		*last = now;
	for (i = 0; i < names.count && !error; i++) {
		const char *nm = names.items[i];
		struct stat st;
		if (strncmp(nm, "pack-", 5) || strlen(nm) > 200)
			continue;
		if (list_only) {
			error = bm_strlist_add(waiting, nm);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", retdir, nm);
		if (lstat(path, &st) < 0)
			continue;
		if ((st.st_mtime <= now && now - st.st_mtime < pack_grace) ||
		    (st.st_mtime > now && st.st_mtime - now <= pack_grace)) {
			error = bm_strlist_add(waiting, nm);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s.keep", packdir, nm);
		if (access(path, F_OK) == 0) {
			snprintf(path, sizeof(path), "%s/%s", retdir, nm);
			unlink(path);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s.idx", packdir, nm);
		if (unlink(path) < 0 && errno != ENOENT) {
			error = bm_strlist_add(waiting, nm); /* its pack stays with its index */
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s.pack", packdir, nm);
		if (unlink(path) < 0 && errno != ENOENT)
			continue; /* the marker stays: the next sweep removes the pack */
		snprintf(path, sizeof(path), "%s/%s", retdir, nm);
		unlink(path);
	}
	bm_strlist_dispose(&names);
	return error;
}

/* Mark pack `name` retired (removed by a later merge once its grace is over): 0, or -1 when
 * it is to go now (no grace, or no marker could be made). */
static int retire(const char *retdir, const char *name)
{
	char path[4200];
	int fd;
	if (pack_grace <= 0 || !retdir)
		return -1;
	if (mkdir(retdir, 0777) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", retdir, name);
	if ((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0666)) < 0)
		return -1;
	close(fd);
	return 0;
}

int bm__pack_compact(git_odb *odb, const char *packdir, const char *retdir, int full, time_t *last_sweep)
{
	bm_strlist names = BM_STRLIST_INIT, waiting = BM_STRLIST_INIT;
	pack_info *packs = NULL;
	unsigned char **bufs = NULL;
	size_t *lens = NULL;
	src_entry *es = NULL;
	size_t i, j, np = 0, nes = 0, aes = 0, take = 0;
	int per[32] = { 0 }, level = -1;
	char path[4200], name[64];
	packw w;
	int error = 0, wopen = 0;

	if ((error = list_dir(&names, packdir)) < 0)
		goto done;
	bm_strlist_sort(&names);
	if (has_name(&names, "multi-pack-index", ""))
		goto done; /* someone runs git's multi-pack index here: leave the packs to them */
	if (retdir && (error = sweep_retired(&waiting, packdir, retdir, last_sweep)) < 0)
		goto done; /* a pack it removed is skipped below: its .pack is gone (stat) */
	bm_strlist_sort(&waiting);
	if (!(packs = calloc(names.count + 1, sizeof(*packs)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < names.count; i++) {
		const char *nm = names.items[i];
		size_t l = strlen(nm);
		struct stat st;
		char base[512];
		if (l < 9 || strncmp(nm, "pack-", 5) || strcmp(nm + l - 4, ".idx") || l - 4 >= sizeof(base))
			continue;
		memcpy(base, nm, l - 4);
		base[l - 4] = '\0';
		if (!has_name(&names, base, ".pack") || has_name(&names, base, ".keep") ||
		    has_name(&names, base, ".bitmap") || has_name(&names, base, ".promisor") ||
		    has_name(&names, base, ".mtimes") || has_name(&waiting, base, ""))
			continue;
		snprintf(path, sizeof(path), "%s/%s", packdir, nm);
		if (stat(path, &st) < 0)
			continue;
		if (!(packs[np].name = strdup(base))) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		packs[np++].size = st.st_size;
	}
	/* size tiers: the lowest level holding BM_PACKS_PER_LEVEL packs is merged into one
	 * (which lands a level up): each object is rewritten once per level */
	for (i = 0; i < np; i++)
		per[pack_level(packs[i].size)]++;
	for (i = 0; i < 32 && level < 0; i++)
		if (per[i] >= BM_PACKS_PER_LEVEL)
			level = (int)i;
	if (level < 0)
		goto done;
	for (i = j = 0; i < np; i++) {
		if (pack_level(packs[i].size) == level) {
			pack_info t = packs[j];
			packs[j++] = packs[i];
			packs[i] = t;
		}
	}
	take = j;
	if (!(bufs = calloc(take, sizeof(*bufs))) || !(lens = calloc(take, sizeof(*lens)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < take; i++) {
		unsigned char *idx = NULL;
		size_t ilen = 0;
		snprintf(path, sizeof(path), "%s/%s.pack", packdir, packs[i].name);
		if ((error = map_file(&bufs[i], &lens[i], path)) != 0)
			goto skip;
		snprintf(path, sizeof(path), "%s/%s.idx", packdir, packs[i].name);
		if ((error = map_file(&idx, &ilen, path)) != 0)
			goto skip;
		error = idx_entries(&es, &nes, &aes, idx, ilen, lens[i], i);
		unmap_file(idx, ilen);
		if (error)
			goto skip;
	}
	qsort(es, nes, sizeof(*es), cmp_src);
	for (i = j = 0; i < nes; i++)
		if (!j || !git_oid_equal(&es[j - 1].id, &es[i].id))
			es[j++] = es[i];
	nes = j;
	wopen = 1;
	if ((error = pw_open(&w, packdir, nes)) < 0)
		goto done;
	for (i = 0; i < nes; i++)
		if ((error = merge_entry(&w, odb, &es[i], bufs[es[i].pack])) != 0)
			goto skip;
	/* durable, folder included, before any of the old packs goes */
	if ((error = pw_finish(&w, name, full, 1)) < 0)
		goto done;
	if (retdir) {
		/* the new pack is no retired one (the same objects again make the same name) */
		snprintf(path, sizeof(path), "%s/%s", retdir, name);
		unlink(path);
	}
	for (i = 0; i < take; i++) {
		if (!strcmp(packs[i].name, name) || retire(retdir, packs[i].name) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s.idx", packdir, packs[i].name);
		if (unlink(path) < 0 && errno != ENOENT)
			continue; /* its pack stays with its index */
		snprintf(path, sizeof(path), "%s/%s.pack", packdir, packs[i].name);
		unlink(path);
	}
	goto done;
skip:
	/* a pack gone meanwhile (git gc), or one not to merge: nothing was removed, no error */
	if (error > 0)
		error = 0;
done:
	if (wopen)
		pw_dispose(&w);
	for (i = 0; bufs && i < take; i++)
		unmap_file(bufs[i], lens[i]);
	free(bufs);
	free(lens);
	for (i = 0; i < np; i++)
		free(packs[i].name);
	free(packs);
	free(es);
	bm_strlist_dispose(&names);
	bm_strlist_dispose(&waiting);
	return error;
}
