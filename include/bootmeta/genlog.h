/* bootmeta/genlog.h: generator logs: short records that code generators, CI jobs and
 * operators append to the meta repo ("regenerated the API client", "rotated a key"), kept
 * by day and listed by time.
 *
 * Layout: log/<yyyy>/<mm>/<dd>/<time_ms:%013lld>-<id>.pb, one LogEntry record (core.proto)
 * each, the date being the UTC day of time_ms and id 16 random hex digits. The file name
 * sorts by time, so a listing reads only the days in its range and decodes only what the
 * kind/project/env filters need. */
#ifndef BOOTMETA_GENLOG_H
#define BOOTMETA_GENLOG_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BM_LOG_MESSAGE_MAX 16384      /* bytes of a message */
#define BM_LOG_ATTRS_MAX 64           /* attributes per entry */
#define BM_LOG_ATTR_VALUE_MAX 4096    /* bytes of one attribute value */
#define BM_LOG_ATTRS_BYTES_MAX 32768  /* bytes of all attribute keys and values */

typedef struct {
	char *key;
	char *value;
} bm_log_attr;

typedef struct {
	char *id;
	char *kind;
	char *project;  /* "" when none */
	char *env;      /* "" when none */
	char *message;
	bm_log_attr *attrs;
	size_t nattrs;
	int64_t time_ms;
	char *actor;
	char *path;     /* the record's path in the meta repo */
} bm_log_entry;

BM_EXTERN void bm_log_entry_free(bm_log_entry *e);

typedef struct {
	unsigned int version;
	const char *kind;        /* required: BM_NAME_KIND (lower-case letters, digits, . _ -) */
	const char *project;     /* optional: a project name (need not be registered) */
	const char *env;         /* optional: an env name (need not exist) */
	const char *message;     /* required, UTF-8, up to BM_LOG_MESSAGE_MAX bytes */
	const char *const *attr_keys;   /* BM_NAME_KEY each, no duplicates */
	const char *const *attr_values; /* UTF-8 */
	size_t nattrs;
} bm_log_add_spec;
#define BM_LOG_ADD_SPEC_VERSION 1
#define BM_LOG_ADD_SPEC_INIT { BM_LOG_ADD_SPEC_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/* Check a spec without writing anything: BM_EINVALID (a bad name, missing kind or message,
 * text that is not UTF-8, a duplicate attribute) or BM_ETOOBIG (over a bound), the message
 * naming the field and the bound. */
BM_EXTERN int bm_log_check(const bm_log_add_spec *spec);

/* Append one entry in its own commit. `out` (may be NULL) gets the entry as written. */
BM_EXTERN int bm_log_add(bm_log_entry **out, bm_store *store, const bm_log_add_spec *spec,
			 const bm_write_options *wopts);

/* bm_log_add inside the caller's transaction (several writes in one commit): the same check
 * and the same kind of record, with a new random id on each call. `*out` (may be NULL; else
 * NULL or an entry from an earlier call, which is freed) gets the entry; a re-run of the
 * transaction replaces it. The commit message is not set. On an error abort the
 * transaction. */
BM_EXTERN int bm_log_add_txn(bm_log_entry **out, bm_txn *txn, const bm_log_add_spec *spec);

typedef struct {
	unsigned int version;
	const char *kind;     /* NULL: any */
	const char *project;  /* NULL: any */
	const char *env;      /* NULL: any */
	int64_t since_ms;     /* 0: no lower bound; else time_ms >= since_ms */
	int64_t until_ms;     /* 0: no upper bound; else time_ms < until_ms */
	size_t limit;         /* 0: no limit */
} bm_log_filter;
#define BM_LOG_FILTER_VERSION 1
#define BM_LOG_FILTER_INIT { BM_LOG_FILTER_VERSION, NULL, NULL, NULL, 0, 0, 0 }

/* Called for each matching entry, newest first; the entry is freed after the call. A
 * non-zero return stops the listing and is returned. A record that does not decode is
 * passed to `bad` (may be NULL) with its path and skipped. */
typedef int (*bm_log_entry_cb)(const bm_log_entry *entry, void *payload);
typedef void (*bm_log_bad_cb)(const char *path, const char *error, void *payload);

BM_EXTERN int bm_log_list(bm_fs *fs, const bm_log_filter *filter, bm_log_entry_cb cb, bm_log_bad_cb bad,
			  void *payload);

#ifdef __cplusplus
}
#endif
#endif
