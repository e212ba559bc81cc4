/* cli_history.h: the printing `channel history` and `instance history` share. A history
 * callback gathers one line per entry (oldest first, as the library walks the log); the
 * command then prints them newest first, at most --limit, as a table under its header or
 * as one JSON array in which a damaged entry is an error item in its place. */
#ifndef BM_CLI_HISTORY_H
#define BM_CLI_HISTORY_H

#include "cli.h"

typedef struct {
	bm_cli *cli;
	const char *what;  /* the command, for its error lines ("channel history") */
	bm_strlist lines;  /* one printed line (text or JSON) per entry, oldest first */
	int bad;           /* an entry was damaged (or refused): the command exits 1 */
} cli_history;
#define CLI_HISTORY_INIT(cli, what) { (cli), (what), BM_STRLIST_INIT, 0 }

/* An entry at `path` that is damaged or refused (detail in the last error): named, not
 * shown; in text said on stderr at once, in JSON an error item in its place. The walk goes
 * on: 0, or BM_ENOMEM. */
int cli_history_bad(cli_history *h, const char *path);
/* An entry: its JSON (with --json) or the text line of `fmt`. */
int cli_history_add(cli_history *h, const void *record, const char *fmt, ...) BM_PRINTF(3, 4);
/* Print the lines newest first (at most `limit`, 0: all), under `header` in text (without
 * its new line); the command's exit code. */
int cli_history_print(const cli_history *h, size_t limit, const char *header);
void cli_history_dispose(cli_history *h);

#endif
