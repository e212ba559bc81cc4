/* seqlog.c: the check every append to a sequence log runs (see seqlog.h). */
#include "seqlog.h"
#include "bootmeta/record.h"
#include "recio.h"
#include "fs.h"

#include <stdio.h>
#include <string.h>

/* What every refusal ends with: what happened and what to do. */
#define DAMAGED "; the log was changed outside bootmeta, and nothing is appended to a damaged log: restore " \
		"the file from history (`git log --all -- %s` shows the commit that changed it)"
/* Set a refusal that ends with DAMAGED; the caller may point to its own repair tool
 * (BM_ABOUT_DAMAGED_LOG). */
#define damaged_set(...) (bm_error_set(__VA_ARGS__), bm_error_set_about(BM_ABOUT_DAMAGED_LOG, NULL))

uint64_t bm__log_entry_seq(const char *name)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 10; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	return strcmp(name + 10, ".pb") ? 0 : v;
}

long long bm__log_bucket_of(const char *name)
{
	long long v = 0;
	int i;
	for (i = 0; i < 7; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return strcmp(name + 7, "/") ? -1 : v;
}

/* "<10 digits>.age": a secret version's ciphertext */
static int is_age_name(const char *name)
{
	int i;
	for (i = 0; i < 10; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return !strcmp(name + 10, ".age");
}

/* The check of bm__log_names_check, one name at a time (bm__fs_each's callback). */
typedef struct {
	const char *dir;
	uint64_t first, want, max;
	unsigned flags;
} names_ck;

static int names_ck_one(const char *n, int is_dir, void *payload)
{
	names_ck *c = payload;
	char at[1100];
	uint64_t seq;
	if ((c->flags & BM__LOG_SECRET) && (is_dir || is_age_name(n)))
		return 0; /* a secret whose name goes on below this one, or a ciphertext */
	seq = is_dir ? 0 : bm__log_entry_seq(n);
	if (seq && seq <= c->max && seq == c->want) {
		c->want++;
		return 0; /* the common case: nothing to format (a bucket holds 1,000) */
	}
	snprintf(at, sizeof(at), "%s/%s%s", c->dir, n, is_dir ? "/" : "");
	if (!seq)
		return damaged_set(BM_ECORRUPT, "%s is not an entry of the log %s (entries are "
				    "<10-digit seq>.pb)" DAMAGED, at, c->dir, at);
	if (seq > c->max)
		return damaged_set(BM_ECORRUPT, "%s is outside the range of its folder (%llu..%llu)" DAMAGED, at,
				    (unsigned long long)c->first, (unsigned long long)c->max, at);
	snprintf(at, sizeof(at), "%s/%010llu.pb", c->dir, (unsigned long long)c->want);
	return damaged_set(BM_ECORRUPT, "%s is missing: the log %s has %s after it" DAMAGED, at, c->dir, n, at);
}

int bm__log_names_check(uint64_t *last, const bm_strlist *names, const char *dir, uint64_t first, uint64_t max,
			unsigned flags)
{
	names_ck c = { dir, first, first, max, flags };
	size_t i;
	int error = 0;
	*last = first - 1;
	for (i = 0; i < names->count && !error; i++) {
		const char *n = names->items[i];
		size_t len = strlen(n);
		if (len && n[len - 1] == '/') {
			char d[1024];
			snprintf(d, sizeof(d), "%.*s", (int)(len - 1), n);
			error = names_ck_one(d, 1, &c);
		} else {
			error = names_ck_one(n, 0, &c);
		}
	}
	if (!error)
		*last = c.want - 1;
	return error;
}

/* The same over folder `dir` of `fs` as it is (no listing on a git tree); a folder that is
 * not there has no entry. */
static int fs_names_check(uint64_t *last, bm_fs *fs, const char *dir, uint64_t first, uint64_t max, unsigned flags)
{
	names_ck c = { dir, first, first, max, flags };
	int error = bm__fs_each(fs, dir, names_ck_one, &c);
	*last = first - 1;
	if (error == BM_ENOTFOUND) {
		bm_error_clear();
		error = 0;
	}
	if (!error)
		*last = c.want - 1;
	return error;
}

uint64_t bm__log_record_seq(const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "seq");
	if (!f || f->type != PROTOBUF_C_TYPE_UINT64 || f->label == PROTOBUF_C_LABEL_REPEATED)
		return 0;
	return *(const uint64_t *)((const char *)m + f->offset);
}

void bm__log_tail_dispose(bm__log_tail *t)
{
	if (!t)
		return;
	bm_record_free(t->record);
	t->record = NULL;
	bm_buf_dispose(&t->path);
	t->last = 0;
}

/* A listing of `dir`; 0 with an empty list when there is no such folder. */
static int list_or_empty(bm_strlist *out, bm_fs *fs, const char *dir)
{
	int error = bm_fs_list(out, fs, dir);
	if (error == BM_ENOTFOUND) {
		bm_error_clear();
		return 0;
	}
	return error;
}

/* The folders of a channel log are the buckets 0, 1, 2 ... with none missing. */
static int buckets_check(const bm_strlist *buckets, const char *dir)
{
	char at[1100];
	size_t i;
	for (i = 0; i < buckets->count; i++) {
		long long v = bm__log_bucket_of(buckets->items[i]);
		snprintf(at, sizeof(at), "%s/%s", dir, buckets->items[i]);
		if (v < 0)
			return damaged_set(BM_ECORRUPT, "%s is not a bucket of the log %s (buckets are "
					    "<7-digit seq/1000>/)" DAMAGED, at, dir, at);
		if ((uint64_t)v != i) {
			snprintf(at, sizeof(at), "%s/%07zu", dir, i);
			return damaged_set(BM_ECORRUPT, "%s/ is missing: the log %s has %s after it" DAMAGED, at,
					    dir, buckets->items[i], at);
		}
	}
	return 0;
}

/* A channel log: the buckets are 0..B with none missing, bucket B's names check, and bucket
 * B-1 ends with the entry just before bucket B's first. */
static int bucketed_last(uint64_t *last, bm_buf *path, bm_fs *fs, const char *dir)
{
	bm_strlist buckets = BM_STRLIST_INIT;
	bm_buf sub = BM_BUF_INIT, name = BM_BUF_INIT;
	uint64_t b, first;
	int error;

	*last = 0;
	if ((error = list_or_empty(&buckets, fs, dir)) < 0 || !buckets.count ||
	    (error = buckets_check(&buckets, dir)) < 0)
		goto done;
	b = buckets.count - 1;
	first = b ? b * BM__LOG_BUCKET : 1;
	if ((error = bm_buf_printf(&sub, "%s/%07llu", dir, (unsigned long long)b)) < 0 ||
	    (error = fs_names_check(last, fs, sub.ptr, first, b * BM__LOG_BUCKET + BM__LOG_BUCKET - 1, 0)) < 0)
		goto done;
	if (*last < first) {
		error = damaged_set(BM_ECORRUPT, "the bucket %s/ of the log holds no entry" DAMAGED, sub.ptr,
				     sub.ptr);
		goto done;
	}
	if (b) { /* the bucket before ends just before this one starts: O(1) on a git tree */
		uint64_t want = first - 1;
		bm_buf_clear(&sub);
		if ((error = bm_buf_printf(&sub, "%s/%07llu", dir, (unsigned long long)(b - 1))) < 0)
			goto done;
		error = bm_fs_last(&name, fs, sub.ptr);
		if (error < 0 && error != BM_ENOTFOUND)
			goto done;
		bm_error_clear();
		if (error < 0 || bm__log_entry_seq(name.ptr) != want) {
			char miss[1100];
			snprintf(miss, sizeof(miss), "%s/%010llu.pb", sub.ptr, (unsigned long long)want);
			error = damaged_set(BM_ECORRUPT, "%s is missing: the log %s goes on in the next "
					     "bucket" DAMAGED, miss, dir, miss);
			goto done;
		}
	}
	bm_buf_clear(path);
	error = bm_buf_printf(path, "%s/%07llu/%010llu.pb", dir, (unsigned long long)b, (unsigned long long)*last);
done:
	bm_strlist_dispose(&buckets);
	bm_buf_dispose(&sub);
	bm_buf_dispose(&name);
	return error;
}

static int flat_last(uint64_t *last, bm_buf *path, bm_fs *fs, const char *dir, unsigned flags)
{
	int error;

	*last = 0;
	if ((error = fs_names_check(last, fs, dir, 1, BM__LOG_SEQ_MAX, flags)) == 0 && *last) {
		bm_buf_clear(path);
		error = bm_buf_printf(path, "%s/%010llu.pb", dir, (unsigned long long)*last);
	}
	return error;
}

int bm__log_tail_read(bm__log_tail *out, bm_fs *fs, const char *dir, const ProtobufCMessageDescriptor *type,
		      unsigned flags)
{
	bm_buf data = BM_BUF_INIT;
	uint64_t seq;
	int error;

	bm__log_tail_dispose(out);
	if ((error = (flags & BM__LOG_BUCKETED) ? bucketed_last(&out->last, &out->path, fs, dir)
						 : flat_last(&out->last, &out->path, fs, dir, flags)) < 0 ||
	    !out->last)
		goto done;
	if ((error = bm_fs_read(&data, fs, out->path.ptr)) < 0)
		goto done;
	if ((error = bm_record_decode(&out->record, type, data.ptr ? data.ptr : "", data.size)) < 0) {
		if (error == BM_ENOMEM) /* not a verdict on the file */
			goto done;
		error = bm_error_prefix(BM_ECORRUPT, "the newest entry of the log %s, %s, does not decode", dir,
					out->path.ptr);
		bm_buf_clear(&data);
		if (bm_buf_printf(&data, "%s" DAMAGED, bm_error_last(), out->path.ptr) == 0)
			damaged_set(BM_ECORRUPT, "%s", data.ptr);
		goto done;
	}
	if ((seq = bm__log_record_seq(out->record)) != out->last) {
		error = damaged_set(BM_ECORRUPT, "%s holds entry %llu, not entry %llu: the file was planted, copied or "
				     "moved" DAMAGED, out->path.ptr, (unsigned long long)seq,
				     (unsigned long long)out->last, out->path.ptr);
		goto done;
	}
	if (out->last >= BM__LOG_SEQ_MAX)
		error = bm_error_set(BM_ETOOBIG, "the log %s is full (%llu entries)", dir, (unsigned long long)out->last);
done:
	bm_buf_dispose(&data);
	if (error < 0)
		bm__log_tail_dispose(out);
	return error;
}

int bm__log_check_all(uint64_t *entries, bm_fs *fs, const char *dir, unsigned flags)
{
	bm_strlist names = BM_STRLIST_INIT;
	bm_buf sub = BM_BUF_INIT;
	uint64_t last = 0;
	size_t i;
	int error;

	*entries = 0;
	if (!(flags & BM__LOG_BUCKETED)) {
		if ((error = list_or_empty(&names, fs, dir)) == 0 &&
		    (error = bm__log_names_check(&last, &names, dir, 1, BM__LOG_SEQ_MAX, flags)) == 0)
			*entries = last;
		goto done;
	}
	if ((error = list_or_empty(&names, fs, dir)) < 0 || (error = buckets_check(&names, dir)) < 0)
		goto done;
	for (i = 0; i < names.count; i++) {
		bm_strlist files = BM_STRLIST_INIT;
		uint64_t first = i ? i * BM__LOG_BUCKET : 1, max = i * BM__LOG_BUCKET + BM__LOG_BUCKET - 1;
		bm_buf_clear(&sub);
		if ((error = bm_buf_printf(&sub, "%s/%07zu", dir, i)) == 0 && (error = list_or_empty(&files, fs, sub.ptr)) == 0)
			error = bm__log_names_check(&last, &files, sub.ptr, first, max, 0);
		bm_strlist_dispose(&files);
		if (error < 0)
			goto done;
		if (last < first) {
			error = damaged_set(BM_ECORRUPT, "the bucket %s/ of the log holds no entry" DAMAGED, sub.ptr,
					     sub.ptr);
			goto done;
		}
		if (i + 1 < names.count && last != max) {
			char miss[1100];
			snprintf(miss, sizeof(miss), "%s/%010llu.pb", sub.ptr, (unsigned long long)(last + 1));
			error = damaged_set(BM_ECORRUPT, "%s is missing: the log %s goes on in the next "
					     "bucket" DAMAGED, miss, dir, miss);
			goto done;
		}
		*entries = last;
	}
done:
	bm_strlist_dispose(&names);
	bm_buf_dispose(&sub);
	return error;
}

int bm__log_walk(int *missing, bm_fs *fs, const char *dir, uint64_t from_seq, const ProtobufCMessageDescriptor *type,
		 bm__log_entry_fn fn, void *payload)
{
	bm_buf sub = BM_BUF_INIT, path = BM_BUF_INIT, data = BM_BUF_INIT;
	bm_strlist buckets = BM_STRLIST_INIT, files = BM_STRLIST_INIT;
	size_t i, j;
	int error;

	*missing = 0;
	if ((error = bm_fs_list(&buckets, fs, dir)) < 0) {
		if (error == BM_ENOTFOUND) {
			bm_error_clear();
			*missing = 1;
			error = 0;
		}
		goto done;
	}
	for (i = 0; i < buckets.count && !error; i++) {
		long long b = bm__log_bucket_of(buckets.items[i]);
		if (b < 0 || (uint64_t)b * BM__LOG_BUCKET + BM__LOG_BUCKET - 1 < from_seq)
			continue;
		bm_buf_clear(&sub);
		bm_strlist_dispose(&files);
		if ((error = bm_buf_printf(&sub, "%s/%s", dir, buckets.items[i])) < 0 ||
		    (error = bm_fs_list(&files, fs, sub.ptr)) < 0)
			goto done;
		for (j = 0; j < files.count && !error; j++) {
			uint64_t seq = bm__log_entry_seq(files.items[j]);
			ProtobufCMessage *rec = NULL;
			int rc;
			if (!seq || seq < from_seq)
				continue;
			bm_buf_clear(&path);
			bm_buf_clear(&data);
			if ((error = bm_buf_printf(&path, "%s%s", sub.ptr, files.items[j])) < 0)
				goto done;
			rc = bm_fs_read(&data, fs, path.ptr);
			if (!rc)
				rc = bm__rec_decode(&rec, type, data.ptr, data.size, path.ptr);
			if (rc == BM_ENOMEM) {
				error = rc;
				goto done;
			}
			error = fn(path.ptr, seq, rc ? NULL : rec, rc, payload);
			bm_record_free(rec);
		}
	}
done:
	bm_strlist_dispose(&files);
	bm_strlist_dispose(&buckets);
	bm_buf_dispose(&data);
	bm_buf_dispose(&path);
	bm_buf_dispose(&sub);
	return error;
}
