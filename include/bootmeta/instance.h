/* bootmeta/instance.h: instance reports (lib/instance.c), the last link of the chain
 * code -> channels -> release -> binaries -> instances: what each running instance (a host,
 * a container) of a project says it is doing.
 *
 * Layout: one append-only, gapless log per instance and project (a host may run several
 * projects, and their logs stay apart):
 *   envs/<env>/instances/<id>/<project>/+reports/<seq/1000 as %07u>/<seq as %010u>.pb
 * of InstanceReport records (instance.proto), bucketed as a channel log is, so no folder
 * grows past 1,000 names. '+' is outside every name's character set, so project `a` and
 * project `a/b` of one instance never meet. The newest entry is what the instance does now.
 *
 * A report is written only when the instance's state, release or error text changes (never
 * a heartbeat per meta commit): bm_instance_report_txn returns 1 and adds nothing when they
 * equal the newest entry's. Records are freed with bm_meta_free() (or bm_record_free). */
#ifndef BOOTMETA_INSTANCE_H
#define BOOTMETA_INSTANCE_H

#include "common.h"
#include "store.h"
#include "bootmeta/v1/instance.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The states of an instance, as the record's `state` string holds them. */
typedef enum {
	BM_INSTANCE_DOWNLOADING = 1, /* "downloading": fetching the binary of the release */
	BM_INSTANCE_INSTALLED,       /* "installed": installed and started, not yet healthy */
	BM_INSTANCE_HEALTHY,         /* "healthy": runs the release and passes its health check */
	BM_INSTANCE_FAILED,          /* "failed": the release did not install, start or get healthy */
	BM_INSTANCE_ROLLED_BACK,     /* "rolled-back": went back to the release it ran before */
} bm_instance_state;

/* "downloading", "installed", "healthy", "failed", "rolled-back"; NULL for another value. */
BM_EXTERN const char *bm_instance_state_str(bm_instance_state state);
/* The state named `s` (as above). BM_EINVALID naming the states when it is none of them. */
BM_EXTERN int bm_instance_state_parse(bm_instance_state *out, const char *s);

/* Bounds of the free-text fields of a report. */
#define BM_INSTANCE_ERROR_MAX 4096   /* bytes of the error text (new lines and tabs allowed) */
#define BM_INSTANCE_AGENT_VERSION_MAX 128

/* envs/<env>/instances/<id>, the log envs/<env>/instances/<id>/<project>/+reports, and the
 * file of its entry `seq` (names are validated; BM_EINVALID with the reason). */
BM_EXTERN int bm_path_instance(bm_buf *out, const char *env, const char *instance);
BM_EXTERN int bm_path_instance_log(bm_buf *out, const char *env, const char *instance, const char *project);
BM_EXTERN int bm_path_instance_report(bm_buf *out, const char *env, const char *instance, const char *project,
				      uint64_t seq);

/* What an instance reports. */
typedef struct {
	unsigned int version;
	const char *env;           /* required; the env must exist (bm_env_add) */
	const char *instance;      /* required: BM_NAME_INSTANCE, e.g. the host name in lower case */
	const char *project;       /* required; the project must exist */
	const char *release;       /* required: the release the state is about; it must exist. For
				    * rolled-back: the release the instance went back to and runs */
	bm_instance_state state;   /* required */
	const char *acted_on;      /* the meta commit the instance acted on: 40 or 64 hex digits
				    * (stored in lower case); NULL or "": not known */
	const char *error;         /* NULL or "": none; text, up to BM_INSTANCE_ERROR_MAX bytes */
	const char *os;            /* NULL or "": not said; else [a-z0-9._-], up to 32 (linux) */
	const char *arch;          /* the same (amd64, arm64) */
	const char *agent_version; /* NULL or "": not said; one line, up to BM_INSTANCE_AGENT_VERSION_MAX */
} bm_instance_report_spec;
#define BM_INSTANCE_REPORT_SPEC_VERSION 1
#define BM_INSTANCE_REPORT_SPEC_INIT \
	{ BM_INSTANCE_REPORT_SPEC_VERSION, NULL, NULL, NULL, NULL, (bm_instance_state)0, NULL, NULL, NULL, NULL, NULL }

/* Check a spec without reading or writing anything: names, state, the commit hash and the
 * text fields. BM_EINVALID or BM_ETOOBIG with a message naming the field. */
BM_EXTERN int bm_instance_report_check(const bm_instance_report_spec *spec);

/* Inside the caller's transaction (the same checks and files as bm_instance_report; no
 * commit message is set; on an error the caller aborts the whole transaction):
 * - the env, the project and the release must exist (BM_ENOTFOUND), the spec passes
 *   bm_instance_report_check, and the instance's log for the project is sound (gapless, the
 *   newest entry decodes and is the one its path says; BM_ECORRUPT naming the file);
 * - when the newest entry has the same state, release and error text, nothing is added and
 *   1 is returned (a new meta commit, agent version, os or arch alone is no change);
 * - else entry seq = newest + 1 is added with time_ms = bm_txn_time_ms(txn), actor =
 *   bm_txn_actor(txn), since_ms = the newest entry's since_ms when state and release are the
 *   same (only the error changed), else time_ms; 0 is returned.
 * `out` (may be NULL) gets the entry written, or with 1 the newest entry there is; a value
 * it holds is freed first, so it may be passed again when the transaction re-runs. */
BM_EXTERN int bm_instance_report_txn(Bootmeta__V1__InstanceReport **out, bm_txn *txn,
				     const bm_instance_report_spec *spec);
/* The same in its own meta commit ("instance report ENV ID PROJECT: STATE RELEASE"). 1 when
 * nothing changed (no commit is made; `out_commit` gets the tip). `out` and `out_commit`
 * may be NULL. */
BM_EXTERN int bm_instance_report(Bootmeta__V1__InstanceReport **out, bm_oid *out_commit, bm_store *store,
				 const bm_instance_report_spec *spec, const bm_write_options *wopts);

/* One instance log as a listing shows it: its newest entry. */
typedef struct {
	char *env;
	char *instance;
	char *project;
	char *path;    /* the newest entry's file (also when it does not decode), or the log's
			* folder when no entry file could be found in it */
	Bootmeta__V1__InstanceReport *report; /* the newest entry; NULL when error < 0 */
	int64_t since_ms; /* the time of the first entry of the newest run of entries with this
			   * state and release: report->since_ms, or report->time_ms when the
			   * record has none */
	int error;     /* 0, or the BM_E* code of a log that could not be read */
	char *message; /* NULL, or what is wrong with the log (bm_error_last() of the read) */
} bm_instance_status;

/* The newest entry of every instance log of `env` (only those of `project` when it is not
 * NULL), sorted by instance id, then project. *count gets the number. A log that cannot be
 * read (a damaged newest entry) is an item with `error` and `message` set, not a failure of
 * the listing. BM_ENOTFOUND when the env (or the project) does not exist. Each log costs
 * O(1) reads on a git tree (the newest bucket's last name), not a listing of the log. */
BM_EXTERN int bm_instance_list(bm_instance_status **out, size_t *count, bm_fs *fs, const char *env,
			       const char *project);
BM_EXTERN void bm_instance_list_free(bm_instance_status *items, size_t count);

/* The newest entry of one instance log. BM_ENOTFOUND when the instance has reported nothing
 * for the project; BM_ECORRUPT when the entry does not decode or is not the one its path
 * says. */
BM_EXTERN int bm_instance_current(Bootmeta__V1__InstanceReport **out, bm_fs *fs, const char *env,
				  const char *instance, const char *project);

/* Called for each entry, in sequence order. `report` is NULL and `error` < 0 (detail in
 * bm_error_last()) for a file that does not decode or is not the entry its path says; return
 * non-zero to stop the walk (that value is returned). `path` is the entry's file. */
typedef int (*bm_instance_report_cb)(const char *path, const Bootmeta__V1__InstanceReport *report, int error,
				     void *payload);
/* Walk one instance log from `from_seq` (0 or 1: the first) onward. BM_ENOTFOUND for an
 * unknown env, or when the instance has reported nothing for the project. */
BM_EXTERN int bm_instance_history(bm_fs *fs, const char *env, const char *instance, const char *project,
				  uint64_t from_seq, bm_instance_report_cb cb, void *payload);

#ifdef __cplusplus
}
#endif
#endif
