/* pack.h: the objects of one write kept in memory and written to the repo as ONE pack and
 * its index (pack.c), instead of a loose file per object; and the bound on the number of
 * packs those writes leave (bm__pack_compact). Internal to the library (store.c). */
#ifndef BM_PACK_H
#define BM_PACK_H

#include <time.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>

/* A libgit2 odb backend that keeps every object written to it in memory, in the order
 * written (a repeat is kept once). It reads them back, and has no freshen: an odb made of
 * it and a bm__odb_passthrough writes new objects with no system call at all. */
int bm__objbuf_new(git_odb_backend **out);
size_t bm__objbuf_count(git_odb_backend *objbuf);
/* The bytes its objects hold (uncompressed). */
size_t bm__objbuf_bytes(git_odb_backend *objbuf);
/* One more owner of objbuf `be`: its free() then only drops a reference, the last one frees
 * it (so the objects a write left can outlive the object database the write used). */
void bm__objbuf_ref(git_odb_backend *be);
/* A read-only backend over up to BM_OBJVIEW_MAX objbufs (NULLs skipped), newest first, each
 * of which it holds a reference to until freed. Its freshen says "not here" like the
 * passthrough's, so an object it holds is still written to the write's own objbuf: the view
 * only saves reading it back from a pack. */
#define BM_OBJVIEW_MAX 8
int bm__objbuf_view_new(git_odb_backend **out, git_odb_backend *const *targets, size_t n);

/* A read-only backend that reads through `real` (it takes a reference). Its freshen says
 * "not here", so libgit2 writes every new object to the higher-priority objbuf without
 * probing the object folders (a repeat of an object already on disk lands in the new pack
 * as well: harmless, `git gc` keeps one). */
int bm__odb_passthrough_new(git_odb_backend **out, git_odb *real);

/* Write the objects of `objbuf` as one pack + index into `packdir` (objects/pack, no
 * trailing slash): both written to temporary files (tmp_bm_*), written out to the device
 * (sync_file_range; `full`: fsync), then renamed to pack-<checksum>.{pack,idx}, the index
 * last; `full` also fsyncs the folder. Like the loose objects this replaces, the renames
 * become durable with the next journal commit: the ref update's fsync. 0 when empty. */
int bm__pack_write_objbuf(git_odb_backend *objbuf, const char *packdir, int full);

/* Bound the pack count, in size tiers: a pack of fewer than BM_PACK_LEVEL0 objects is level
 * 0, one BM_PACKS_PER_LEVEL times as big level 1, and so on; when a level holds
 * BM_PACKS_PER_LEVEL plain packs (no .keep, .bitmap, .promisor, .mtimes; nothing at all
 * when a multi-pack-index exists), they are merged into one, a level up. So each object is
 * rewritten once per level (log base 8 of the repo's size), and at most 7 packs wait on
 * each level. A merged object that is whole (bootmeta's packs store no deltas) is copied as
 * it is, its CRC checked; a delta (from git's packs) is read through `odb` and stored
 * whole. The merged pack is durable (its folder fsync'd) before any old pack is retired.
 * A retired pack stays BM_PACK_GRACE_SECS, marked by an empty file of its name in `retdir`
 * (the repo's bootmeta-merged/), and a later call removes it (index first): a reader lists
 * the pack folder, then opens each pack it found, so a pack removed at once could be gone
 * before it opened it while the merged one came after its listing, and an object that is
 * in the repo was "not found" (seen: serve's watch skipped an event under load). With no
 * `retdir`, a grace of 0, or no marker made, old packs go at once. `last_sweep` (or NULL):
 * the caller's record of when it last removed retired packs, so that it looks at their
 * markers' dates at most twice a grace (between, every marker waits). Called under the
 * writers' lock. A pack that went away meanwhile, or one that is not index version 2, ends
 * the merge with no error (nothing was removed). */
#define BM_PACKS_PER_LEVEL 8
#define BM_PACK_LEVEL0 64
#define BM_PACK_GRACE_SECS 2 /* 10 s cost 40% of 1-client writes (doc/benchmarks.md) */
int bm__pack_compact(git_odb *odb, const char *packdir, const char *retdir, int full, time_t *last_sweep);
/* The grace of retired packs in seconds (BM_PACK_GRACE_SECS; tests set 0 or a long one). */
void bm__pack_set_grace(long secs);

/* How many packs (.idx files) `packdir` holds (0 when it does not exist). */
int bm__pack_count(int *out, const char *packdir);

#endif
