/* cli_hint.h: the CLI's advice after a library error. The library's message says what is
 * wrong and bm_error_last_about() what it is about; the CLI adds what to run, in its own
 * commands and flags (cli_hint.c holds the table). */
#ifndef BM_CLI_HINT_H
#define BM_CLI_HINT_H

#include <stddef.h>

#include "bootmeta/common.h"

/* bm_error_last() followed by the CLI's hint for the error's code and subject (none when it
 * has no subject). Valid until the next call on this thread. */
const char *cli_error_text(void);
/* Append the CLI's hint for (code, about, name) to the message in `text` (a buffer of
 * `size` bytes, truncated to fit); returns `text`. For messages the library kept, such as
 * the secrets bm_config_resolve left out. */
const char *cli_hint_add(char *text, size_t size, int code, bm_error_about about, const char *name);

#endif
