/* bootmeta/channel.h: channels (lib/channel.c). A channel of a project (stable, beta ...)
 * is an append-only list of entries under
 *   projects/<project>/channels/<channel>/<seq/1000 as %07u>/<seq as %010u>.pb
 * each pointing the channel at a release; the last one is where the channel points now.
 * Promotion adds an entry; nothing is ever rewritten, so the list is the channel's history.
 * Entries are ChannelEntry records (core.proto); free them with bm_meta_free(). */
#ifndef BOOTMETA_CHANNEL_H
#define BOOTMETA_CHANNEL_H

#include "common.h"
#include "store.h"
#include "meta.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The highest channel sequence number the layout holds (%010u file names). */
#define BM_CHANNEL_SEQ_MAX 9999999999ull

/* projects/<project>/channels/<channel> and the file of entry `seq` in it (names are
 * validated; BM_EINVALID with the reason). */
BM_EXTERN int bm_path_channel(bm_buf *out, const char *project, const char *channel);
BM_EXTERN int bm_path_channel_entry(bm_buf *out, const char *project, const char *channel, uint64_t seq);

typedef struct {
	unsigned int version;
	const char *reason;            /* required (non-empty) for a rollback and an unpin */
	const bm_write_options *write;
	int force;                     /* (version 2) promote over a pin; recorded as `forced` */
} bm_promote_options;
#define BM_PROMOTE_OPTIONS_VERSION 2
#define BM_PROMOTE_OPTIONS_INIT { BM_PROMOTE_OPTIONS_VERSION, NULL, NULL, 0 }

/* Point `channel` of `project` at `release`: a new entry with seq = last + 1 (the
 * transaction re-runs on conflict, so concurrent promotions never share or skip a number).
 * BM_ENOTFOUND for an unknown project or release. BM_ECONFLICT (about
 * BM_ABOUT_CHANNEL_PINNED) when the channel is pinned by a rollback and opts->force is not
 * set; with force the entry records `forced` and the pin is gone. */
BM_EXTERN int bm_channel_promote(Bootmeta__V1__ChannelEntry **out, bm_oid *out_commit, bm_store *store,
				 const char *project, const char *channel, const char *release,
				 const bm_promote_options *opts);
/* bm_channel_promote inside the caller's transaction (several writes in one commit): the
 * same checks and the same entry file, with seq = last + 1 of what the transaction sees
 * (entries this transaction added count). `*out` (may be NULL; else NULL or an entry from an
 * earlier call, which is freed) gets the entry; a re-run of the transaction replaces it.
 * opts->write is not used, and the commit message is not set (bm_txn_message is the
 * caller's). On an error the transaction may hold part of the call's files: abort it. */
BM_EXTERN int bm_channel_promote_txn(Bootmeta__V1__ChannelEntry **out, bm_txn *txn, const char *project,
				     const char *channel, const char *release, const bm_promote_options *opts);
/* Pin the channel at `to_release` (NULL: the current entry's previous release; refused when
 * the current entry is itself a rollback, so a second rollback names its target): a new
 * entry with action CHANNEL_ACTION_ROLLBACK and `pinned` set. Followers go to that release
 * and promotions are refused until bm_channel_unpin. opts->reason is required. BM_EINVALID
 * when the target is the release the channel points at already. */
BM_EXTERN int bm_channel_rollback(Bootmeta__V1__ChannelEntry **out, bm_oid *out_commit, bm_store *store,
				  const char *project, const char *channel, const char *to_release,
				  const bm_promote_options *opts);
BM_EXTERN int bm_channel_rollback_txn(Bootmeta__V1__ChannelEntry **out, bm_txn *txn, const char *project,
				      const char *channel, const char *to_release, const bm_promote_options *opts);
/* Release the pin: a new entry with the same release, action CHANNEL_ACTION_UNPIN, `pinned`
 * clear. opts->reason is required. BM_EINVALID when the channel is not pinned. */
BM_EXTERN int bm_channel_unpin(Bootmeta__V1__ChannelEntry **out, bm_oid *out_commit, bm_store *store,
			       const char *project, const char *channel, const bm_promote_options *opts);
BM_EXTERN int bm_channel_unpin_txn(Bootmeta__V1__ChannelEntry **out, bm_txn *txn, const char *project,
				   const char *channel, const bm_promote_options *opts);
/* The name of an action ("promote", "rollback", "unpin"). */
BM_EXTERN const char *bm_channel_action_name(Bootmeta__V1__ChannelAction a);

/* The last entry of the channel in `fs` (the view's commit is bm_fs_commit(fs)).
 * BM_ENOTFOUND when the channel has no entry; BM_ECORRUPT when the last entry does not
 * decode or does not match its path. */
BM_EXTERN int bm_channel_current(Bootmeta__V1__ChannelEntry **out, bm_fs *fs, const char *project,
				 const char *channel);
/* The sequence number of the last entry (0 when none), from the file names alone. */
BM_EXTERN int bm_channel_last_seq(uint64_t *out, bm_fs *fs, const char *project, const char *channel);
/* The channel names of `project`, sorted (empty when none). */
BM_EXTERN int bm_channel_list(bm_strlist *out, bm_fs *fs, const char *project);

/* Called for each entry, in sequence order. `entry` is NULL and `error` < 0 (detail in
 * bm_error_last()) for a file that does not decode; return non-zero to stop the walk (that
 * value is returned). `path` is the entry's file. */
typedef int (*bm_channel_entry_cb)(const char *path, const Bootmeta__V1__ChannelEntry *entry, int error,
				   void *payload);
/* Walk the entries of a channel from `from_seq` (0 or 1: the first) onward. BM_ENOTFOUND
 * for an unknown project or channel. */
BM_EXTERN int bm_channel_history(bm_fs *fs, const char *project, const char *channel, uint64_t from_seq,
				 bm_channel_entry_cb cb, void *payload);

#ifdef __cplusplus
}
#endif
#endif
