/* recio.h: record I/O inside the library (recio.c): packing and unpacking protobuf records
 * through bm_fs and transactions, sequence-numbered record folders, and the meta commit that
 * added a record. Not part of the public API. */
#ifndef BM_RECIO_H
#define BM_RECIO_H

#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "bootmeta/common.h"
#include "bootmeta/store.h"

/* Pack `msg` and stage it at `path` in `txn`. */
int bm__rec_add(bm_txn *txn, const char *path, const ProtobufCMessage *msg);
/* bm__rec_add's checks (bm_txn_add's) without staging anything, for a dry run. */
int bm__rec_check_add(bm_txn *txn, const char *path, const ProtobufCMessage *msg);
/* Pack `msg` into `out` (cleared first). */
int bm__rec_pack(bm_buf *out, const ProtobufCMessage *msg);
/* Decode `len` bytes read from `path` with bm_record_decode (size limit, wire check, UTF-8
 * strings); BM_ECORRUPT/BM_ETOOBIG name the path. The caller frees *out with
 * protobuf_c_message_free_unpacked. */
int bm__rec_decode(ProtobufCMessage **out, const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
		   const char *path);
/* Read and decode the record at `path` (bm__rec_decode); BM_ENOTFOUND when it is absent. */
int bm__rec_read(ProtobufCMessage **out, bm_fs *fs, const char *path, const ProtobufCMessageDescriptor *desc);
/* strdup that reports BM_ENOMEM: 0 or BM_ENOMEM. */
int bm__strdup(char **out, const char *s);
/* The last entry of a folder listing that ends in ".pb" (NULL when none). */
const char *bm__last_pb(const bm_strlist *l);
/* Parse a "%010u.pb" sequence file name: the number, or 0 when it is not one. */
uint64_t bm__seq_of(const char *name);
/* The newest sequence-numbered record in folder `dir`: 1 with `path` set to it, 0 when the
 * folder has none (or does not exist); `next_seq` (may be NULL) gets the seq the next record
 * takes. BM_ECORRUPT when the newest .pb is not sequence-numbered. */
int bm__latest_seq(bm_buf *path, uint64_t *next_seq, bm_fs *fs, const char *dir);

/* For each of `n` record paths, the meta commit that added it (has[i] 0 when not found):
 * one walk of main's history, then a binary search per path over it (records are never
 * removed, so a path is in every commit from the one that added it on). */
int bm__find_commits(bm_store *store, const char *const *paths, size_t n, bm_oid *oids, int *has);

#endif
