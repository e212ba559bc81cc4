/* bootmeta/doctor.h: check a meta repo for damage, and move main back after objects were
 * deleted under it.
 *
 * bm_doctor checks, in order: that refs/heads/main exists; that every object reachable from
 * it is in the object store (a missing object is told apart from a missing branch: `git
 * prune --expire=now` run beside a writer deletes objects the writer has written but not
 * referenced yet); that every record at the tip decodes as the kind its path says, and a
 * log entry says the seq its name says; and that every sequence log (channels, config
 * values, flags, recipients, admins, secret versions) runs 1, 2, 3 ... with no gap or stray
 * file.
 *
 * When main is missing or broken, it plans a repair: the newest entry of main's reflog
 * whose objects are all present, and the commits (with the records they added) that moving
 * main back there loses. With `repair`, it applies the plan: the old tip is kept under
 * refs/bootmeta/lost/<UTC time> (when its commit object is there), main moves by
 * compare-and-swap with a reflog entry, and the records of the new tip are checked. Nothing
 * is ever deleted. */
#ifndef BOOTMETA_DOCTOR_H
#define BOOTMETA_DOCTOR_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	BM_DOCTOR_NO_MAIN = 1,    /* refs/heads/main does not exist */
	BM_DOCTOR_MISSING_OBJECT, /* an object main reaches is not in the object store */
	BM_DOCTOR_BAD_RECORD,     /* a record does not decode, or is not the one its path says */
	BM_DOCTOR_LOG_GAP,        /* a sequence log has a gap, or a file that is not an entry */
	BM_DOCTOR_FORMAT,         /* main's tree is not a meta repo this bootmeta reads */
	BM_DOCTOR_NO_REFLOG,      /* main has no reflog: a repair would have nothing to go back to */
} bm_doctor_kind;

/* "noMain", "missingObject", "badRecord", "logGap", "format", "noReflog" */
BM_EXTERN const char *bm_doctor_kind_name(bm_doctor_kind kind);

typedef struct {
	bm_doctor_kind kind;
	char *path;    /* the file, folder or ref it is about */
	char *message; /* what is wrong and what to do */
	/* a problem that is a library error: its code and subject (bm_error_last_about), so a
	 * caller can add its own advice; 0 and BM_ABOUT_NONE otherwise */
	int code;
	bm_error_about about;
	char about_name[256];
} bm_doctor_problem;

/* One commit a repair loses. */
typedef struct {
	bm_oid commit;
	int missing;        /* the commit object itself is gone */
	char *summary;      /* first line of its message ("" when missing) */
	bm_strlist added;   /* the files it added (empty when they cannot be listed) */
	int added_unknown;  /* 1 when its trees are gone, so `added` could not be listed */
} bm_doctor_lost;

typedef struct {
	char *path;               /* the repo */
	int has_main;
	bm_oid main;              /* main before any repair */
	bm_doctor_problem *problems;
	size_t nproblems;
	uint64_t records;         /* records checked (0 when main was too broken to read) */
	uint64_t logs;            /* sequence logs checked */
	int checked_records;      /* 1 when the records of a complete tip were checked */

	/* the repair plan: set when main is missing or broken and the reflog has a good entry */
	int has_plan;
	bm_oid plan_to;           /* the reflog entry main goes back to */
	size_t plan_index;        /* its index in main's reflog (0: newest), as main@{N} */
	char *plan_summary;       /* first line of that commit's message */
	bm_doctor_lost *lost;     /* the commits moving main back loses, newest first */
	size_t nlost;
	int lost_truncated;       /* more commits are lost than the 1,000 listed */
	int repaired;             /* the plan was applied */
	char *lost_ref;           /* the ref that keeps the old tip (NULL when none was written) */
} bm_doctor_report;
#define BM_DOCTOR_REPORT_INIT { 0 }

typedef struct {
	unsigned int version;
	int repair;         /* apply the repair plan */
	const char *actor;  /* who the reflog entry of a repair names; NULL: bm_actor_default() */
} bm_doctor_options;
#define BM_DOCTOR_OPTIONS_VERSION 1
#define BM_DOCTOR_OPTIONS_INIT { BM_DOCTOR_OPTIONS_VERSION, 0, NULL }

/* Check the meta repo at `path` (NULL: found upward from the current folder) and fill `out`
 * (dispose it with bm_doctor_report_dispose, also on error). Returns 0 when the checks ran,
 * whatever they found (out->nproblems says); < 0 when they could not (no git repo there, a
 * repair that could not be applied). After a repair, the problems are those of the new tip
 * (the ones the repair fixed are no longer listed). */
BM_EXTERN int bm_doctor(bm_doctor_report *out, const char *path, const bm_doctor_options *opts);
BM_EXTERN void bm_doctor_report_dispose(bm_doctor_report *r);

#ifdef __cplusplus
}
#endif
#endif
