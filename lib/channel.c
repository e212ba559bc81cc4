/* channel.c: channels of a project, projects/<project>/channels/<channel>/<bucket>/<seq>.pb:
 * an append-only list of entries, each pointing the channel at a release (promotion). The
 * last entry is the channel's current release; entries are bucketed by seq/1000 so no tree
 * grows past 1,000 names. Builds on meta.c (projects, releases) through meta_int.h. */
#include "bootmeta/channel.h"
#include "error_int.h"
#include "bootmeta/names.h"
#include "meta_int.h"
#include "optcheck.h"
#include "recio.h"
#include "seqlog.h"

#include <stdlib.h>
#include <string.h>

#define CHANNEL_BUCKET 1000u

/* ---- paths ---- */

int bm_path_channel(bm_buf *out, const char *project, const char *channel)
{
	int error;
	if ((error = bm_project_name_check(project)) < 0 || (error = bm_name_validate(channel, BM_NAME_CHANNEL)) < 0)
		return error;
	bm_buf_clear(out);
	return bm_buf_printf(out, "projects/%s/channels/%s", project, channel);
}

int bm_path_channel_entry(bm_buf *out, const char *project, const char *channel, uint64_t seq)
{
	int error;
	if (seq < 1 || seq > BM_CHANNEL_SEQ_MAX)
		return bm_error_set(BM_EINVALID, "channel sequence number %llu is out of range", (unsigned long long)seq);
	if ((error = bm_path_channel(out, project, channel)) < 0)
		return error;
	return bm_buf_printf(out, "/%07llu/%010llu.pb", (unsigned long long)(seq / CHANNEL_BUCKET),
			     (unsigned long long)seq);
}

/* ---- entries ---- */

/* "%07u/" -> bucket; -1 when not a bucket folder. */
static long long bucket_of(const char *name)
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

int bm_channel_last_seq(uint64_t *out, bm_fs *fs, const char *project, const char *channel)
{
	bm_buf dir = BM_BUF_INIT, sub = BM_BUF_INIT;
	bm_strlist buckets = BM_STRLIST_INIT, files = BM_STRLIST_INIT;
	size_t i, j;
	int error;

	*out = 0;
	if ((error = bm_path_channel(&dir, project, channel)) < 0)
		goto done;
	/* fast path: the last name of the last bucket (zero-padded names sort as numbers) */
	if ((error = bm_fs_last(&sub, fs, dir.ptr)) == 0 && bucket_of(sub.ptr) >= 0) {
		bm_buf last = BM_BUF_INIT;
		if ((error = bm_buf_printf(&last, "%s/%s", dir.ptr, sub.ptr)) == 0 &&
		    (error = bm_fs_last(&sub, fs, last.ptr)) == 0)
			*out = bm__seq_of(sub.ptr);
		bm_buf_dispose(&last);
		if (*out)
			goto done;
	}
	if (error < 0 && error != BM_ENOTFOUND)
		goto done;
	bm_error_clear();
	error = 0;
	if ((error = bm_fs_list_or_empty(&buckets, fs, dir.ptr)) < 0)
		goto done;
	/* something that is not an entry sorts last: the last bucket with an entry file holds
	 * the last entry */
	for (i = buckets.count; i-- > 0 && !*out;) {
		if (bucket_of(buckets.items[i]) < 0)
			continue;
		bm_buf_clear(&sub);
		bm_strlist_dispose(&files);
		if ((error = bm_buf_printf(&sub, "%s/%s", dir.ptr, buckets.items[i])) < 0 ||
		    (error = bm_fs_list(&files, fs, sub.ptr)) < 0)
			goto done;
		for (j = files.count; j-- > 0;)
			if ((*out = bm__seq_of(files.items[j])) != 0)
				break;
	}
done:
	bm_strlist_dispose(&files);
	bm_strlist_dispose(&buckets);
	bm_buf_dispose(&sub);
	bm_buf_dispose(&dir);
	return error;
}

static int entry_check(const Bootmeta__V1__ChannelEntry *e, const char *path, const char *project,
		       const char *channel, uint64_t seq)
{
	if (e->seq != seq || strcmp(e->project, project) || strcmp(e->channel, channel))
		return bm_error_set(BM_ECORRUPT, "%s holds entry %llu of %s/%s, not of this path; the file was "
						 "planted or moved (see `git log -- %s`)", path, (unsigned long long)e->seq,
				    e->project, e->channel, path);
	return 0;
}

static int read_entry(Bootmeta__V1__ChannelEntry **out, bm_fs *fs, const char *project, const char *channel,
		      uint64_t seq)
{
	bm_buf p = BM_BUF_INIT;
	int error;
	*out = NULL;
	if ((error = bm_path_channel_entry(&p, project, channel, seq)) == 0 &&
	    (error = bm__rec_read((ProtobufCMessage **)out, fs, p.ptr, &bootmeta__v1__channel_entry__descriptor)) == 0 &&
	    (error = entry_check(*out, p.ptr, project, channel, seq)) < 0) {
		bm_meta_free(*out);
		*out = NULL;
	}
	bm_buf_dispose(&p);
	return error;
}

int bm_channel_current(Bootmeta__V1__ChannelEntry **out, bm_fs *fs, const char *project, const char *channel)
{
	uint64_t seq;
	int error;
	*out = NULL;
	if ((error = bm_channel_last_seq(&seq, fs, project, channel)) < 0)
		return error;
	if (seq == 0) {
		if ((error = bm__project_must_exist(fs, project)) < 0)
			return error;
		bm_error_set(BM_ENOTFOUND, "channel %s of project %s has no release yet", channel, project);
		return bm__about_words(BM_ABOUT_CHANNEL, project, channel, NULL);
	}
	return read_entry(out, fs, project, channel, seq);
}

int bm_channel_list(bm_strlist *out, bm_fs *fs, const char *project)
{
	return bm__project_folder_list(out, fs, project, "channels", "/");
}

typedef struct {
	const char *project, *channel;
	bm_channel_entry_cb cb;
	void *payload;
} history_walk;

static int history_entry(const char *path, uint64_t seq, ProtobufCMessage *rec, int rc, void *payload)
{
	history_walk *h = payload;
	const Bootmeta__V1__ChannelEntry *e = (const Bootmeta__V1__ChannelEntry *)rec;
	if (!rc)
		rc = entry_check(e, path, h->project, h->channel, seq);
	return h->cb(path, rc ? NULL : e, rc, h->payload);
}

int bm_channel_history(bm_fs *fs, const char *project, const char *channel, uint64_t from_seq,
		       bm_channel_entry_cb cb, void *payload)
{
	history_walk h = { project, channel, cb, payload };
	bm_buf dir = BM_BUF_INIT;
	int error, missing = 0;

	if ((error = bm__project_must_exist(fs, project)) < 0 || (error = bm_path_channel(&dir, project, channel)) < 0)
		goto done;
	error = bm__log_walk(&missing, fs, dir.ptr, from_seq, &bootmeta__v1__channel_entry__descriptor, history_entry,
			     &h);
	if (!error && missing) {
		bm_error_set(BM_ENOTFOUND, "channel %s of project %s has no entries", channel, project);
		error = bm_error_set_about(BM_ABOUT_CHANNEL_HISTORY, project);
	}
done:
	bm_buf_dispose(&dir);
	return error;
}

/* The release a promotion names must decode and be the one its path says (a release file
 * full of garbage, or another project's release copied in, is not promoted). */
static int release_check(bm_fs *fs, const char *project, const char *release)
{
	Bootmeta__V1__Release *r = NULL;
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm__release_must_exist(fs, project, release)) < 0 || (error = bm_path_release(&p, project, release)) < 0 ||
	    (error = bm__rec_read((ProtobufCMessage **)&r, fs, p.ptr, &bootmeta__v1__release__descriptor)) < 0)
		goto done;
	if (strcmp(r->project, project) || strcmp(r->id, release))
		error = bm_error_set(BM_ECORRUPT, "%s holds release %s of %s, not of this path; the file was planted "
				     "or moved (see `git log -- %s`)", p.ptr, r->id, r->project, p.ptr);
done:
	bm_meta_free(r);
	bm_buf_dispose(&p);
	return error;
}

/* The checks before any transaction: names, text and the options' version. */
static int entry_args_check(const char *project, const char *channel, const char *release,
			    const bm_promote_options *o, Bootmeta__V1__ChannelAction action)
{
	int error;
	if ((error = BM_OPTS_CHECK(o, BM_PROMOTE_OPTIONS_VERSION, "bm_promote_options")) < 0)
		return error;
	if ((error = bm_project_name_check(project)) < 0 || (error = bm_name_validate(channel, BM_NAME_CHANNEL)) < 0 ||
	    (release && (error = bm_name_validate(release, BM_NAME_RELEASE)) < 0) ||
	    (error = bm__text_check(o->reason, "reason")) < 0)
		return error;
	if (action != BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE && (!o->reason || !*o->reason))
		return bm_error_set(BM_EINVALID, "a channel %s needs a reason (it is what the pin says to the next "
				    "person who wants to promote)", bm_channel_action_name(action));
	return 0;
}

const char *bm_channel_action_name(Bootmeta__V1__ChannelAction a)
{
	switch (a) {
	case BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK: return "rollback";
	case BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_UNPIN: return "unpin";
	default: return "promote";
	}
}

static int force_of(const bm_promote_options *o)
{
	return o->version >= 2 && o->force;
}

/* Add the next entry of a channel: a promotion of `release`, a rollback to `release` (NULL:
 * the current entry's previous one), or an unpin (release: the current one). */
static int entry_add_txn(Bootmeta__V1__ChannelEntry **out, bm_txn *txn, const char *project, const char *channel,
			 const char *release, const bm_promote_options *opts, Bootmeta__V1__ChannelAction action)
{
	bm_promote_options defaults = BM_PROMOTE_OPTIONS_INIT;
	const bm_promote_options *o = opts ? opts : &defaults;
	Bootmeta__V1__ChannelEntry e = BOOTMETA__V1__CHANNEL_ENTRY__INIT, *prev;
	bm__log_tail tail = BM__LOG_TAIL_INIT;
	bm_buf path = BM_BUF_INIT, packed = BM_BUF_INIT, subject = BM_BUF_INIT;
	uint64_t last;
	int error, pinned;

	if (out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	if ((error = entry_args_check(project, channel, release, o, action)) < 0)
		return error;
	/* build only on a sound log: the entry this one follows decodes and is the one its path
	 * says, the log has no gap (seqlog.h), and the release decodes */
	if ((error = bm__actor_check(txn)) < 0 || (error = bm_path_channel(&path, project, channel)) < 0 ||
	    (error = bm__log_tail_read(&tail, bm_txn_fs(txn), path.ptr, &bootmeta__v1__channel_entry__descriptor,
				       BM__LOG_BUCKETED)) < 0)
		goto done;
	last = tail.last;
	prev = (Bootmeta__V1__ChannelEntry *)tail.record;
	if (prev && (error = entry_check(prev, tail.path.ptr, project, channel, last)) < 0)
		goto done;
	pinned = prev && prev->pinned;
	if (action != BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE && !prev) {
		error = bm_error_set(BM_ENOTFOUND, "channel %s of %s has no entry to %s", channel, project,
				     bm_channel_action_name(action));
		goto done;
	}
	switch (action) {
	case BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE:
		if (pinned && !force_of(o)) {
			bm_buf_printf(&subject, "%s %s", project, channel);
			bm_error_set(BM_ECONFLICT, "channel %s of %s is pinned at %s by a rollback (#%llu by %s: %s)", channel,
				     project, prev->release, (unsigned long long)prev->seq, prev->actor, prev->reason);
			error = bm_error_set_about(BM_ABOUT_CHANNEL_PINNED, subject.ptr ? subject.ptr : "");
			goto done;
		}
		break;
	case BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK:
		if (!release) {
			if (prev->action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK || !*prev->previous_release) {
				error = bm_error_set(BM_EINVALID, "channel %s of %s: %s; name the release to roll back to",
						     channel, project, prev->action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK ?
						     "its last entry is a rollback already" : "it had no release before this one");
				goto done;
			}
			release = prev->previous_release;
		}
		if (!strcmp(release, prev->release)) {
			error = bm_error_set(BM_EINVALID, "channel %s of %s points at %s already", channel, project, release);
			goto done;
		}
		break;
	case BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_UNPIN:
		if (!pinned) {
			error = bm_error_set(BM_EINVALID, "channel %s of %s is not pinned", channel, project);
			goto done;
		}
		release = prev->release;
		break;
	default:
		error = bm_error_set(BM_EINVALID, "unknown channel action %d", (int)action);
		goto done;
	}
	if ((error = release_check(bm_txn_fs(txn), project, release)) < 0)
		goto done;
	if (last >= BM_CHANNEL_SEQ_MAX) {
		error = bm_error_set(BM_ETOOBIG, "channel %s of %s is full (%llu entries)", channel, project,
				     (unsigned long long)last);
		goto done;
	}
	if ((error = bm_path_channel_entry(&path, project, channel, last + 1)) < 0)
		goto done;
	e.seq = last + 1;
	e.project = (char *)project;
	e.channel = (char *)channel;
	e.release = (char *)release;
	e.previous_release = prev ? prev->release : (char *)"";
	e.reason = (char *)(o->reason ? o->reason : "");
	e.time_ms = bm_txn_time_ms(txn);
	e.actor = (char *)bm_txn_actor(txn);
	e.action = action;
	e.pinned = action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK;
	e.forced = action == BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE && pinned;
	if ((error = bm__rec_pack(&packed, &e.base)) < 0 || (error = bm_txn_add(txn, path.ptr, packed.ptr, packed.size)) < 0)
		goto done;
	error = bm__unpack_out((void **)out, &bootmeta__v1__channel_entry__descriptor, &packed);
done:
	bm__log_tail_dispose(&tail);
	bm_buf_dispose(&path);
	bm_buf_dispose(&packed);
	bm_buf_dispose(&subject);
	return error;
}

int bm_channel_promote_txn(Bootmeta__V1__ChannelEntry **out, bm_txn *txn, const char *project, const char *channel,
			   const char *release, const bm_promote_options *opts)
{
	if (!release && out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	if (!release)
		return bm_error_set(BM_EINVALID, "a promotion names a release");
	return entry_add_txn(out, txn, project, channel, release, opts, BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE);
}

int bm_channel_rollback_txn(Bootmeta__V1__ChannelEntry **out, bm_txn *txn, const char *project, const char *channel,
			    const char *to_release, const bm_promote_options *opts)
{
	return entry_add_txn(out, txn, project, channel, to_release, opts, BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK);
}

int bm_channel_unpin_txn(Bootmeta__V1__ChannelEntry **out, bm_txn *txn, const char *project, const char *channel,
			 const bm_promote_options *opts)
{
	return entry_add_txn(out, txn, project, channel, NULL, opts, BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_UNPIN);
}

typedef struct {
	const char *project, *channel, *release;
	const bm_promote_options *o;
	Bootmeta__V1__ChannelAction action;
	Bootmeta__V1__ChannelEntry *entry;
} entry_ctx;

static int entry_fn(bm_txn *txn, void *payload)
{
	entry_ctx *c = payload;
	int error = entry_add_txn(&c->entry, txn, c->project, c->channel, c->release, c->o, c->action);
	if (!error)
		error = bm_txn_message(txn, "channel %s %s %s #%llu: %s%s", bm_channel_action_name(c->action), c->project,
				       c->channel, (unsigned long long)c->entry->seq, c->entry->release,
				       c->entry->forced ? " (forced over a pin)" : "");
	return error;
}

static int entry_add(Bootmeta__V1__ChannelEntry **out, bm_oid *out_commit, bm_store *store, const char *project,
		     const char *channel, const char *release, const bm_promote_options *opts,
		     Bootmeta__V1__ChannelAction action)
{
	bm_promote_options defaults = BM_PROMOTE_OPTIONS_INIT;
	entry_ctx c = { project, channel, release, NULL, action, NULL };
	bm_write_options w;
	int error;

	if (out)
		*out = NULL;
	c.o = opts ? opts : &defaults;
	if ((error = entry_args_check(project, channel, release, c.o, action)) < 0)
		return error;
	bm__write_opts(&w, c.o->write);
	error = bm_store_write(out_commit, store, entry_fn, &c, &w);
	if (!error && out) {
		*out = c.entry;
		c.entry = NULL;
	}
	bm_meta_free(c.entry);
	return error;
}

int bm_channel_promote(Bootmeta__V1__ChannelEntry **out, bm_oid *out_commit, bm_store *store, const char *project,
		       const char *channel, const char *release, const bm_promote_options *opts)
{
	if (!release) {
		if (out)
			*out = NULL;
		return bm_error_set(BM_EINVALID, "a promotion names a release");
	}
	return entry_add(out, out_commit, store, project, channel, release, opts,
			 BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_PROMOTE);
}

int bm_channel_rollback(Bootmeta__V1__ChannelEntry **out, bm_oid *out_commit, bm_store *store, const char *project,
			const char *channel, const char *to_release, const bm_promote_options *opts)
{
	return entry_add(out, out_commit, store, project, channel, to_release, opts,
			 BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_ROLLBACK);
}

int bm_channel_unpin(Bootmeta__V1__ChannelEntry **out, bm_oid *out_commit, bm_store *store, const char *project,
		     const char *channel, const bm_promote_options *opts)
{
	return entry_add(out, out_commit, store, project, channel, NULL, opts,
			 BOOTMETA__V1__CHANNEL_ACTION__CHANNEL_ACTION_UNPIN);
}
