/* seqlog.h: the sequence logs of the meta repo, and the one check every append runs.
 *
 * A sequence log is a folder of "<seq %010u>.pb" records numbered 1, 2, 3 ... with no gaps:
 * config values (+keys/<key>/), flag versions (+flags/<key>/), recipients
 * (envs/<env>/recipients/), admins (keys/admins/) and secret versions
 * (envs/<env>/secrets/<project>/<name>/, with "<seq>.age" beside a version's record). A
 * channel log (and an instance log, envs/<env>/instances/<id>/<project>/+reports/) is the
 * same, bucketed: <seq/1000 %07u>/<seq %010u>.pb, bucket 0 starting at 1.
 *
 * Before a write appends entry N+1 it checks what it builds on (bm__log_tail): the names of
 * the newest folder are entries numbered without a gap, for a channel the buckets before it
 * are there and the one before ends where it must, and entry N decodes as the log's type
 * and says it is entry N. That is one listing of one folder (at most 1,000 names for a
 * channel) and one record read: no scan of the whole log. The caller then checks the fields
 * that tie the record to its path (project, env, name) with its own reader. `bootmeta
 * doctor` (lib/doctor.c) checks every folder of every log with the same name check. */
#ifndef BM_SEQLOG_H
#define BM_SEQLOG_H

#include <protobuf-c/protobuf-c.h>

#include "bootmeta/common.h"
#include "bootmeta/store.h"

#define BM__LOG_BUCKETED 1u /* a channel log, an instance log */
#define BM__LOG_SECRET 2u   /* "<seq>.age" files and sub-folders (other secrets) may sit beside */

#define BM__LOG_BUCKET 1000u
#define BM__LOG_SEQ_MAX 9999999999ull

/* "<10 digits>.pb" -> seq; 0 when `name` is not an entry name (seq 0 is not one either). */
uint64_t bm__log_entry_seq(const char *name);
/* "<7 digits>/" -> bucket; -1 when `name` is not a bucket folder. */
long long bm__log_bucket_of(const char *name);

/* Check one sorted folder listing of a log (`dir` names the folder in messages): every entry
 * is an entry name, the entries are first, first+1, ... with no gap, none past `max`. *last
 * gets the last seq (first - 1 when the folder has no entry). BM_ECORRUPT naming the first
 * missing or stray file. */
int bm__log_names_check(uint64_t *last, const bm_strlist *names, const char *dir, uint64_t first, uint64_t max,
			unsigned flags);

/* The newest entry of a log, checked as above. */
typedef struct {
	uint64_t last;            /* its seq; 0: the log is empty (or the folder does not exist) */
	bm_buf path;              /* its path */
	ProtobufCMessage *record; /* decoded, of the log's type; NULL when empty */
} bm__log_tail;
#define BM__LOG_TAIL_INIT { 0, BM_BUF_INIT, NULL }

/* Read and check the tail of the log at `dir` whose records are `type` (a type with a `seq`
 * field). BM_ECORRUPT naming the damaged file; BM_ETOOBIG when the log is full. */
int bm__log_tail_read(bm__log_tail *out, bm_fs *fs, const char *dir, const ProtobufCMessageDescriptor *type,
		      unsigned flags);
void bm__log_tail_dispose(bm__log_tail *t);

/* Check a whole log (every folder of a channel log): what bm__log_tail_read checks of its
 * newest folder, for all of them. *entries gets the number of entries. For doctor. */
int bm__log_check_all(uint64_t *entries, bm_fs *fs, const char *dir, unsigned flags);

/* Walk a bucketed log (a channel log, an instance log) at `dir` from entry `from_seq` on,
 * oldest first: each entry file is read and decoded as `type` and handed to `fn` with rc 0,
 * or, when it does not read or decode, with that error (< 0, the message naming the file)
 * and a NULL record, and the walk goes on. Names that are no bucket or entry are passed over
 * (doctor names them). The record is freed when `fn` returns. Stops at the first non-zero
 * return of `fn` (returned) and at an allocation failure (BM_ENOMEM). *missing gets 1 when
 * the log folder does not exist (0 is returned, `fn` never called; the caller says what is
 * missing), else 0. */
typedef int (*bm__log_entry_fn)(const char *path, uint64_t seq, ProtobufCMessage *record, int rc, void *payload);
int bm__log_walk(int *missing, bm_fs *fs, const char *dir, uint64_t from_seq, const ProtobufCMessageDescriptor *type,
		 bm__log_entry_fn fn, void *payload);

/* The `seq` field of a record (0 when the type has none). */
uint64_t bm__log_record_seq(const ProtobufCMessage *m);

#endif
