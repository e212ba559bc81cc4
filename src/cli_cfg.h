/* cli_cfg.h: helpers shared by the env, dev, config, flag and log commands: which env the
 * caller means, JSON output through jansson, config values as JSON, times. */
#ifndef BM_CLI_CFG_H
#define BM_CLI_CFG_H

#include <jansson.h>

#include "cli.h"

/* The env to use when a command's ENV argument is omitted: --env, else $BOOTMETA_ENV, else the
 * .bootmeta-env file of the current source checkout (`bootmeta dev use`). `source` (may be
 * NULL) gets where it came from ("--env", "$BOOTMETA_ENV" or the file's path; valid until the
 * next call). BM_ENOTFOUND with a message saying how to choose one. Does not check that the env
 * exists in the meta repo. */
int cli_env_resolve(bm_cli *cli, bm_buf *out, const char **source);

/* Reads refuse what the meta repo does not have instead of printing nothing: BM_ENOTFOUND
 * with "no project \"P\"; add it with `bootmeta project add P`" or "no environment \"E\"; add
 * it with `bootmeta env add E`" (the messages of the writes). `env` may be NULL. */
int cli_need_project_env(bm_fs *fs, const char *project, const char *env);
/* The same at the store's tip (or at `at`, when not NULL). */
int cli_need_project_env_at(bm_store *store, const bm_oid *at, const char *project, const char *env);

/* Print `j` (stolen) as one line of compact JSON on stdout; returns BM_EXIT_OK. */
int cli_json_print(json_t *j);
/* A config value's typed value as JSON: a number, a bool, a string, or the embedded JSON. */
json_t *cli_config_value_json(const bm_config_value *v);
/* A config value with its provenance (env, seq, commit, actor, time ...). */
json_t *cli_config_value_full_json(const bm_config_value *v);
/* A string for JSON that is never NULL. */
json_t *cli_jstr(const char *s);
/* A 64-bit integer the proto3 JSON way: a decimal string ("1700000000000"), so readers
 * that hold numbers as doubles lose no digits. Every --json prints int64/uint64 so. */
json_t *cli_jint64(int64_t v);
json_t *cli_juint64(uint64_t v);
/* An oid as hex, or JSON null. */
json_t *cli_joid(const bm_oid *oid, int has);

/* Parse a time: RFC 3339 (2026-01-02T03:04:05Z), a date (2026-01-02, UTC midnight), a
 * duration back from now (90s, 15m, 2h, 7d), or milliseconds since the epoch. */
int cli_time_parse(int64_t *out_ms, const char *s);

/* Print a value for a table cell, escaped as cli_esc does, cut at `max` bytes with "...". */
void cli_cell(FILE *f, const char *s, size_t max);


/* Generator logs (cmd_log_entries.c). `bootmeta log add ...` is cli_log_add; the listing
 * (`bootmeta log entries ...`, or `bootmeta log` with --kind/--project/--env/--since/--until)
 * is cli_log_entries. cli_log_dispatch() applies that rule: it runs the matching one and
 * returns its exit code, or returns -1 when argv is the meta history of a path (cmd_log's
 * own job). argv[0] is "log" for all three. */
int cli_log_add(bm_cli *cli, int argc, char **argv);
int cli_log_entries(bm_cli *cli, int argc, char **argv);
int cli_log_dispatch(bm_cli *cli, int argc, char **argv);

/* Print "added environment NAME (meta commit C)" or its JSON ({"env","metaCommit"}): the
 * output of `env add` and `dev init`. */
void cli_env_added(bm_cli *cli, const char *what, const bm_oid *commit);

#endif
