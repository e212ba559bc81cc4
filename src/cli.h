/* cli.h: what every `bootmeta` subcommand shares: the global options, opening the store,
 * error reporting and exit codes. One command (group) per src/cmd_*.c file, dispatched
 * from the table in main.c. */
#ifndef BM_CLI_H
#define BM_CLI_H

#include <stdio.h>
#include "bootmeta.h"

/* Exit codes (documented in the man page). */
#define BM_EXIT_OK 0
#define BM_EXIT_FAIL 1
#define BM_EXIT_USAGE 2

typedef struct {
	const char *repo;      /* --repo PATH|URL, else $BOOTMETA_REPO, else discovery */
	const char *actor;     /* --actor */
	const char *env;       /* --env, else $BOOTMETA_ENV, else the checkout's local file */
	const char *identity;  /* --identity, else $BOOTMETA_IDENTITY, else the default file */
	int json;              /* --json */
	int quiet;             /* --quiet: no progress lines */
	int require_signed;    /* --require-signed */
} bm_cli;

/* A subcommand. argv[0] is the command's own name; options after it are the command's.
 * Returns an exit code. */
typedef int (*bm_cmd_fn)(bm_cli *cli, int argc, char **argv);

/* The commands, one per src/cmd_*.c file. */
int cmd_init(bm_cli *cli, int argc, char **argv);
int cmd_project(bm_cli *cli, int argc, char **argv);
int cmd_release(bm_cli *cli, int argc, char **argv);
int cmd_binary(bm_cli *cli, int argc, char **argv);
int cmd_channel(bm_cli *cli, int argc, char **argv);
int cmd_trace(bm_cli *cli, int argc, char **argv);
int cmd_show(bm_cli *cli, int argc, char **argv);
int cmd_ls(bm_cli *cli, int argc, char **argv);
int cmd_log(bm_cli *cli, int argc, char **argv);
int cmd_clone(bm_cli *cli, int argc, char **argv);
int cmd_pull(bm_cli *cli, int argc, char **argv);
int cmd_push(bm_cli *cli, int argc, char **argv);
int cmd_age(bm_cli *cli, int argc, char **argv);
int cmd_key(bm_cli *cli, int argc, char **argv);
int cmd_secret(bm_cli *cli, int argc, char **argv);
int cmd_recipients(bm_cli *cli, int argc, char **argv);
int cmd_env(bm_cli *cli, int argc, char **argv);
int cmd_dev(bm_cli *cli, int argc, char **argv);
int cmd_config(bm_cli *cli, int argc, char **argv);
int cmd_flag(bm_cli *cli, int argc, char **argv);
int cmd_imports(bm_cli *cli, int argc, char **argv);
int cmd_dependents(bm_cli *cli, int argc, char **argv);
int cmd_pin(bm_cli *cli, int argc, char **argv);
int cmd_stamp(bm_cli *cli, int argc, char **argv);

/* `bootmeta key gen --age [-o FILE] [--force]` (src/cmd_key_age.c); argv[0] is "gen". */
int cli_key_gen_age(bm_cli *cli, int argc, char **argv);

/* Open the store named by the global options (prints nothing). */
int cli_open(bm_store **out, bm_cli *cli);
/* Print "bootmeta: <what>: <bm_error_last()>" (or the JSON error object with --json) on
 * stderr and return BM_EXIT_FAIL. */
int cli_fail(bm_cli *cli, const char *what);
/* Print "bootmeta: <message>" (or with --json {"error":"<message>","code":"<name of code>"})
 * on stderr and return BM_EXIT_FAIL. `code` is the BM_E* that fits (BM_ENOMEM, BM_EIO ...). */
int cli_error(bm_cli *cli, int code, const char *fmt, ...) BM_PRINTF(3, 4);
/* Print a usage error plus the usage text and return BM_EXIT_USAGE. */
int cli_usage(const char *usage, const char *fmt, ...) BM_PRINTF(2, 3);
/* Print a progress line on stderr unless --quiet or --json. */
void cli_progress(bm_cli *cli, const char *fmt, ...) BM_PRINTF(2, 3);
/* True when argv has -h or --help before a "--". */
int cli_wants_help(int argc, char **argv);
/* Format a millisecond timestamp as RFC 3339 UTC into `out` (at least 32 bytes). */
void cli_time_fmt(char *out, size_t outlen, int64_t ms);
/* Print a JSON string with escapes. */
void cli_json_str(FILE *f, const char *s);
/* Append a JSON string with escapes to `b`. */
int cli_json_buf_str(bm_buf *b, const char *s);
/* `s` for text output (a table cell, a line): control characters, bytes that are not UTF-8
 * and characters that reorder text are shown as \xNN (\n, \t, \r by name), so a record
 * written by another tool cannot rewrite the reader's screen or forge a row. NULL gives "".
 * The string stays valid for the next 15 calls. */
const char *cli_esc(const char *s);

/* In a --json listing, the record at `path` that could not be read: appended to `out` (a
 * ',' first when `comma`) in its place as {"path":..,"error":..,"code":..} from
 * bm_error_last(), so the listing stays one JSON document that names what failed (the
 * command then exits 1). */
int cli_json_error_item(bm_buf *out, int comma, const char *path);

/* ---- shared by the record commands ---- */

/* Open the store and a view of the tree at `rev` (NULL: the tip). */
int cli_open_fs(bm_store **store, bm_fs **fs, bm_cli *cli, const char *rev);
/* Write options for a write made by this invocation (the actor from --actor). */
void cli_write_options(bm_write_options *w, bm_cli *cli);
/* The one place a record becomes JSON (proto3 JSON mapping, compact). */
int cli_record_json(bm_buf *out, const void *record, int pretty);
/* The record's JSON object with a "metaCommit" member added (the meta commit it was read
 * at or written in; none when `commit` is NULL). */
int cli_record_json_at(bm_buf *out, const void *record, const bm_oid *commit);
/* write(2) all of `len` bytes to `fd` (past EINTR and short writes); -1 with errno. For
 * plaintext secrets, which must not sit in stdio's buffer: fflush(stdout) first. */
int cli_write_all(int fd, const char *p, size_t len);
/* Print `b` and a new line on stdout. */
void cli_put(bm_buf *b);
/* Parse a positive count (-n N). */
int cli_parse_count(size_t *out, const char *s);
/* Short form of a commit for text output. */
const char *cli_short(char buf[BM_OID_HEXSZ + 1], const bm_oid *oid);

#endif
