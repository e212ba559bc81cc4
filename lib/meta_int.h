/* meta_int.h: what meta.c offers the modules that build on its records (trust.c signs
 * binaries, channel.c moves channels, trace.c reads both), so that the arrows between them run one way: they
 * call meta.c, never the reverse. Not part of the public API. */
#ifndef BM_META_INTERNAL_H
#define BM_META_INTERNAL_H

#include "bootmeta/meta.h"

/* The checks bm_binary_add_digest makes before it reads anything: names and options. */
int bm__binary_check(const char *project, const char *release, const bm_binary_options *opts);
/* Add a Binary record to the transaction (the checks above first); `signature` and
 * `signer_key_id` (may be NULL) must have been verified by the caller. `*out` (may be NULL;
 * else NULL or a record, freed) gets the record. The commit message is not set. */
int bm__binary_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project, const char *release,
		   const char *sha256, uint64_t size, const bm_binary_options *opts, const char *signature,
		   const char *signer_key_id);
/* The commit message of a binary add. */
int bm__binary_message(bm_txn *txn, const Bootmeta__V1__Binary *b);

/* Free text (a note, a reason): one line of text by bm_text_check (bootmeta/text.h), up to
 * BM_META_TEXT_MAX bytes; NULL is fine. `what` names it in the message ("the <what>"). */
int bm__text_check(const char *s, const char *what);
/* A short token such as an OS or architecture name: [a-z0-9._-], up to 32; BM_EINVALID
 * naming `what` and showing `example` (also when `s` is NULL or ""). */
int bm__token_check(const char *s, const char *what, const char *example);
/* The transaction's actor passes bm_actor_check (bm_store_write has checked it already). */
int bm__actor_check(bm_txn *txn);
/* BM_ENOTFOUND (naming what to do) when the project, or the release of it, is not in `fs`. */
int bm__project_must_exist(bm_fs *fs, const char *project);
int bm__release_must_exist(bm_fs *fs, const char *project, const char *release);
/* The entries of projects/<project>/<folder> with `suffix` stripped; none when the folder
 * does not exist yet. */
int bm__project_folder_list(bm_strlist *out, bm_fs *fs, const char *project, const char *folder,
			    const char *suffix);
/* `given`, or the defaults when NULL. */
void bm__write_opts(bm_write_options *w, const bm_write_options *given);
/* Turn the bytes a write committed into the caller's copy of the record (`out` may be NULL). */
int bm__unpack_out(void **out, const ProtobufCMessageDescriptor *d, const bm_buf *packed);

#endif
