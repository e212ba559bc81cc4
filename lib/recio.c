/* recio.c: record I/O shared by the record modules (config, env, flags, genlog, imports,
 * meta): packing a protobuf record into a transaction, reading and decoding one through a
 * bm_fs, sequence-numbered record folders, and which meta commit added a record. */
#include "recio.h"
#include "fs.h"
#include "seqlog.h"
#include "bootmeta/record.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- packing and reading ---- */

int bm__strdup(char **out, const char *s)
{
	*out = strdup(s ? s : "");
	return *out ? 0 : bm_error_set(BM_ENOMEM, "out of memory");
}

int bm__rec_pack(bm_buf *out, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	bm_buf_clear(out);
	if (bm_buf_grow(out, n) < 0)
		return BM_ENOMEM;
	out->size = protobuf_c_message_pack(msg, (uint8_t *)out->ptr);
	out->ptr[out->size] = '\0';
	return 0;
}

int bm__rec_add(bm_txn *txn, const char *path, const ProtobufCMessage *msg)
{
	bm_buf b = BM_BUF_INIT;
	int error;
	if ((error = bm__rec_pack(&b, msg)) == 0)
		error = bm_txn_add(txn, path, b.ptr, b.size);
	bm_buf_dispose(&b);
	return error;
}

int bm__rec_check_add(bm_txn *txn, const char *path, const ProtobufCMessage *msg)
{
	bm_buf b = BM_BUF_INIT;
	int error;
	if ((error = bm__rec_pack(&b, msg)) == 0)
		error = bm__txn_check_add(txn, path, b.ptr, b.size);
	bm_buf_dispose(&b);
	return error;
}

int bm__rec_decode(ProtobufCMessage **out, const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
		   const char *path)
{
	int error = bm_record_decode(out, desc, data, len);
	if (error == BM_ENOMEM) /* not a verdict on the file */
		return error;
	if (error < 0) {
		bm_error_prefix(error, "%s does not decode (damaged, or not written by bootmeta)", path);
		return bm_error_set_about(BM_ABOUT_RECORD, path);
	}
	return 0;
}

int bm__rec_read(ProtobufCMessage **out, bm_fs *fs, const char *path, const ProtobufCMessageDescriptor *desc)
{
	bm_buf b = BM_BUF_INIT;
	int error;
	*out = NULL;
	if ((error = bm_fs_read(&b, fs, path)) == 0)
		error = bm__rec_decode(out, desc, b.ptr ? b.ptr : "", b.size, path);
	bm_buf_dispose(&b);
	return error;
}

const char *bm__last_pb(const bm_strlist *l)
{
	size_t i;
	for (i = l->count; i > 0; i--) {
		size_t n = strlen(l->items[i - 1]);
		if (n > 3 && !strcmp(l->items[i - 1] + n - 3, ".pb"))
			return l->items[i - 1];
	}
	return NULL;
}

int bm__latest_seq(bm_buf *path, uint64_t *next_seq, bm_fs *fs, const char *dir)
{
	bm_strlist l = BM_STRLIST_INIT;
	uint64_t last;
	int error;

	if (next_seq)
		*next_seq = 1;
	if ((error = bm_fs_list_or_empty(&l, fs, dir)) < 0)
		goto done;
	/* the folder is a sequence log: no gap, nothing else in it (seqlog.h) */
	if ((error = bm__log_names_check(&last, &l, dir, 1, BM__LOG_SEQ_MAX, 0)) < 0 || !last)
		goto done;
	if (next_seq)
		*next_seq = last + 1;
	bm_buf_clear(path);
	if ((error = bm_buf_printf(path, "%s/%010llu.pb", dir, (unsigned long long)last)) == 0)
		error = 1;
done:
	bm_strlist_dispose(&l);
	return error;
}

uint64_t bm__seq_of(const char *name)
{
	uint64_t v = 0;
	size_t i;
	if (strlen(name) != 13 || strcmp(name + 10, ".pb"))
		return 0;
	for (i = 0; i < 10; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	return v;
}

/* ---- which meta commit added a record ---- */

typedef struct {
	bm_oid *oids;
	size_t count, alloc;
} oid_list;

static int collect_commit(const bm_commit_info *info, void *payload)
{
	oid_list *l = payload;
	if (l->count == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 256;
		bm_oid *p = realloc(l->oids, na * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		l->oids = p;
		l->alloc = na;
	}
	l->oids[l->count++] = info->commit;
	return 0;
}

int bm__find_commits(bm_store *store, const char *const *paths, size_t n, bm_oid *oids, int *has)
{
	oid_list commits = { NULL, 0, 0 };
	bm_fs **views = NULL;
	size_t i;
	int error;

	for (i = 0; i < n; i++)
		has[i] = 0;
	if (!n)
		return 0;
	/* newest first; a record, once added, is in every newer commit (append-only), so the
	 * commit that added it is the oldest one that has it */
	if ((error = bm_store_log(store, NULL, 0, collect_commit, &commits)) < 0)
		goto done;
	if (!commits.count)
		goto done;
	if (!(views = calloc(commits.count, sizeof(*views)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		size_t lo = 0, hi = commits.count;
		if (!paths[i])
			continue;
		/* has(i) holds for [0, k] and not after: find the first index without it */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (!views[mid] && (error = bm_store_fs(&views[mid], store, &commits.oids[mid])) < 0)
				goto done;
			if (bm_fs_exists(views[mid], paths[i]) == 1)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0) {
			oids[i] = commits.oids[lo - 1];
			has[i] = 1;
		}
	}
done:
	if (views)
		for (i = 0; i < commits.count; i++)
			bm_fs_free(views[i]);
	free(views);
	free(commits.oids);
	return error;
}

