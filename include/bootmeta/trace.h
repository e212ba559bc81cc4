/* bootmeta/trace.h: from a binary or a release id back to the release, its sources, the
 * channels that point at it now and the instances that say they run it (lib/trace.c). */
#ifndef BOOTMETA_TRACE_H
#define BOOTMETA_TRACE_H

#include "common.h"
#include "store.h"
#include "meta.h"
#include "instance.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	Bootmeta__V1__Release *release;
	Bootmeta__V1__ChannelEntry **channels; /* current entries that point at this release */
	size_t nchannels;
	/* the newest report of every instance (of any env) whose newest report for the project
	 * names this release, whatever its state, by env, then instance id; a damaged instance
	 * log is left out */
	Bootmeta__V1__InstanceReport **instances;
	size_t ninstances;
} bm_trace_release;

typedef struct {
	char sha256[65];              /* "" when traced from a release id */
	Bootmeta__V1__Binary *binary; /* NULL when traced from a release id */
	bm_trace_release *releases;   /* one from a binary; one per project holding the id */
	size_t nreleases;
	bm_oid commit;                /* the meta commit read (zero when the view has none) */
	int has_commit;
} bm_trace;

/* Trace `what`: a file (hashed, then looked up as a binary), a sha256 of a recorded binary,
 * or a release id (every project that has it, or only `project` when not NULL) back to the
 * release, every source with its commit, the channels that point at it now and the
 * instances whose newest report names it.
 * BM_ENOTFOUND with a message saying which of those it tried. */
BM_EXTERN int bm_trace_run(bm_trace **out, bm_fs *fs, const char *what, const char *project);
BM_EXTERN void bm_trace_free(bm_trace *t);

#ifdef __cplusplus
}
#endif
#endif
