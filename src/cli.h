/* cli.h: what every `bootmeta` subcommand shares: the global options, the command tables and
 * the option parser, opening the store, error reporting and exit codes. One command per
 * src/cmd_*.c file, dispatched from the table in main.c; a command with subcommands
 * (`channel get`) dispatches them from its own table with cli_run_sub(). */
#ifndef BM_CLI_H
#define BM_CLI_H

#include <stdio.h>
#include "bootmeta.h"
#include "bootmeta/artifact.h"

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
	const char *group;     /* the command being run ("channel" for `channel get`) */
	unsigned flags;        /* CLI_* properties of the command (and subcommand) being run */
} bm_cli;

/* A subcommand. argv[0] is the command's own name; options after it are the command's.
 * Returns an exit code. */
typedef int (*bm_cmd_fn)(bm_cli *cli, int argc, char **argv);

/* ---- command tables ----
 * Properties of a command, as git.c's RUN_SETUP: they say what the command does and are
 * held to it. A command (or subcommand) that opens the meta repo without CLI_STORE gets an
 * error from cli_open(); one that writes without CLI_WRITES fails an assertion in
 * cli_write_options(); --json (before or after the command name) is a usage error for a
 * command without CLI_JSON. A subcommand's properties add to its command's. */
#define CLI_STORE 0x1u  /* opens the meta repo (--repo, $BOOTMETA_REPO, discovery) */
#define CLI_WRITES 0x2u /* makes meta commits (--actor names the writer) */
#define CLI_JSON 0x4u   /* has --json output */

typedef struct {
	const char *name;
	const char *alias;   /* a second accepted name ("ls" for "list"), or NULL */
	bm_cmd_fn fn;
	unsigned flags;      /* CLI_* */
	const char *summary; /* one line for `bootmeta --help` (commands; NULL for subcommands) */
} cli_command;

/* Run the subcommand argv[1] of the command argv[0] from `subs` (`n` entries): global options
 * between the two names (--json, --require-signed) are taken; `-h`, `--help` or `help` prints
 * `usage` on stdout; no subcommand or an unknown one is a usage error. */
int cli_run_sub(bm_cli *cli, const cli_command *subs, size_t n, const char *usage, int argc, char **argv);
#define CLI_RUN_SUB(cli, subs, usage, argc, argv) \
	cli_run_sub(cli, subs, sizeof(subs) / sizeof((subs)[0]), usage, argc, argv)

/* ---- the option parser ----
 * One parser for every command, in the GNU getopt_long style users know: long options
 * `--name value` or `--name=value` (a unique prefix of the name also works), short options
 * `-n 5`, `-n5` and clusters (`-ao FILE`), options and operands in any order, `--` ends the
 * options, an option given again is returned again (repeatable ones add up, others: the last
 * wins). Every command also takes -h/--help (its usage on stdout, exit 0), --json (with
 * CLI_JSON) and --require-signed here, after its name, as well as before it. An unknown
 * option, a missing value, a value given to an option that takes none: "bootmeta: CMD: ..."
 * and the usage on stderr, exit 2. */
typedef struct {
	int id;           /* > 0, returned by cli_args_next; a short option's letter by custom */
	const char *name; /* long name without "--", or NULL */
	char short_name;  /* or 0 */
	int has_value;
} cli_opt;
#define CLI_OPT_END { 0, NULL, 0, 0 }

#define CLI_ARGS_HELP (-1)  /* --help: the usage was printed on stdout */
#define CLI_ARGS_USAGE (-2) /* a usage error was printed on stderr */
/* The exit code for a negative cli_args_next(). */
#define CLI_ARGS_EXIT(rc) ((rc) == CLI_ARGS_HELP ? BM_EXIT_OK : BM_EXIT_USAGE)

#define CLI_ARGS_STOP 1u   /* stop at the first operand (main.c: the command name) */
#define CLI_ARGS_GLOBAL 2u /* main.c's own table: no global options added */

typedef struct {
	bm_cli *cli;
	int argc;
	char **argv;
	const cli_opt *opts;
	const char *usage;
	const int *allowed; /* when set: the ids (0 ends) this command takes out of a shared table */
	unsigned flags;     /* CLI_ARGS_* */
	int i;              /* the next argv index (after the end with CLI_ARGS_STOP: the operand) */
	const char *cluster;
	int ended;          /* "--" was seen */
	const char *value;  /* the value of the option just returned */
	char spelled[64];   /* the option just returned, for messages ("--limit", "-n") */
	char **pos;         /* the operands, in order (argv is reordered in place) */
	int npos;
} cli_args;

/* argv[0] is the command's name. */
void cli_args_init(cli_args *a, bm_cli *cli, int argc, char **argv, const cli_opt *opts, const char *usage);
/* The id of the next option (its value in a->value); 0 when all are read (the operands in
 * a->pos, a->npos); or CLI_ARGS_HELP / CLI_ARGS_USAGE. */
int cli_args_next(cli_args *a);
/* For a command that takes operands only (and the global options, --help, "--"): 0 with the
 * operands at argv[1..] and *argc one more than their count; or 1 when the command is done
 * (--help printed, or a usage error) with its exit code in *rc. */
int cli_operands(bm_cli *cli, int *argc, char **argv, const char *usage, int *rc);
/* A usage error about the option just read (a bad value): prints "bootmeta: CMD: MESSAGE" and
 * the usage; returns BM_EXIT_USAGE. */
int cli_args_fail(cli_args *a, const char *fmt, ...) BM_PRINTF(2, 3);

/* The commands, one per src/cmd_*.c file. */
int cmd_init(bm_cli *cli, int argc, char **argv);
int cmd_project(bm_cli *cli, int argc, char **argv);
int cmd_release(bm_cli *cli, int argc, char **argv);
int cmd_binary(bm_cli *cli, int argc, char **argv);
int cmd_channel(bm_cli *cli, int argc, char **argv);
int cmd_trace(bm_cli *cli, int argc, char **argv);
int cmd_instances(bm_cli *cli, int argc, char **argv);
int cmd_instance(bm_cli *cli, int argc, char **argv);
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
int cmd_doctor(bm_cli *cli, int argc, char **argv);
int cmd_serve(bm_cli *cli, int argc, char **argv);
int cmd_watch(bm_cli *cli, int argc, char **argv);
int cmd_follow(bm_cli *cli, int argc, char **argv);
int cmd_agent(bm_cli *cli, int argc, char **argv);
int cmd_hook(bm_cli *cli, int argc, char **argv);
int cmd_fetch(bm_cli *cli, int argc, char **argv);
/* `serve token add|rm|list` (src/cmd_serve_token.c); argv[0] is "token". */
int cmd_serve_token(bm_cli *cli, int argc, char **argv);

/* `bootmeta key gen --age [-o FILE] [--force]` (src/cmd_key_age.c); argv[0] is "gen". */
int cli_key_gen_age(bm_cli *cli, int argc, char **argv);

/* Run the command in bootmeta-live, the program next to this one (src/cmd_serve.c): exec
 * it with the global options of `cli` and `group` (the command, "binary", when argv[0] is
 * its subcommand; NULL when argv[0] is the command) then argv. Returns only on failure. */
int cli_run_live(bm_cli *cli, const char *group, int argc, char **argv);
/* In bootmeta-live and bootmeta-agent: read the global options cli_run_live passes on
 * (--repo, --actor, --json, --quiet, --require-signed) into `cli`; the index of the first
 * argument after them. */
int cli_live_globals(bm_cli *cli, int argc, char **argv);
/* A copy of argv's pointers (NULL-terminated; free() it), taken before cli_args reorders
 * argv, for cli_run_live. NULL when out of memory. */
char **cli_argv_copy(int argc, char **argv);
/* The artifact transfers of libbootmeta-net (bootmeta/artifact.h), which only bootmeta-live
 * links: it sets `cli_net` at start. In `bootmeta` it is NULL, and a command that moves
 * bytes (`fetch`, `binary upload`, `binary add --upload`) runs again in bootmeta-live. */
typedef struct {
	int (*upload)(bm_buf *out_url, const char *base_url, const char *project, const char *sha256,
		      const char *file_name, const char *path, const bm_transfer_options *opts);
	int (*fetch)(bm_artifact_result *out, const char *dest, const Bootmeta__V1__Binary *b,
		     const bm_transfer_options *opts);
	void (*result_dispose)(bm_artifact_result *r);
} cli_net_api;
extern const cli_net_api *cli_net;

/* Open the store named by the global options (prints nothing). */
int cli_open(bm_store **out, bm_cli *cli);
/* After a write this process pushed to the remote: its URL (else NULL); and the one line
 * saying so on stderr ("bootmeta: pushed to origin (URL)"; with --json {"pushedTo":URL};
 * none with --quiet), printed by main when the command ends. */
const char *cli_pushed_to(void);
void cli_say_pushed(bm_cli *cli);
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
 * cli_error_text() (the message with the CLI's hint, as the text output shows it), so the
 * listing stays one JSON document that names what failed (the command then exits 1). */
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
/* The one spelling of "how many entries": -n N, --limit N (and --max-count N, git's name, as an
 * alias). Commands that list put CLI_OPT_LIMIT in their table and call cli_take_limit() for
 * it: N is a positive count; 0 is taken as "no limit" (what --limit 0 always meant). */
#define CLI_OPT_LIMIT_ID 'n'
#define CLI_OPT_LIMIT { CLI_OPT_LIMIT_ID, "limit", 'n', 1 }, { CLI_OPT_LIMIT_ID, "max-count", 0, 1 }
/* BM_EXIT_OK with *out set, or the usage error printed and BM_EXIT_USAGE. */
int cli_take_limit(size_t *out, cli_args *a);
/* A temporary file that must not outlive the process: removed if SIGTERM, SIGINT, SIGHUP,
 * SIGPIPE or SIGQUIT ends it (signals the caller ignores stay ignored). `path` must stay
 * valid until cli_tmp_forget(path), called once the file is renamed into place or removed. */
void cli_tmp_add(const char *path);
void cli_tmp_forget(const char *path);
/* Short form of a commit for text output. */
const char *cli_short(char buf[BM_OID_HEXSZ + 1], const bm_oid *oid);

#endif
