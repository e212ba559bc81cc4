/* bootmeta/text.h: the one check of free text that becomes part of a record or a commit
 * (a note, a reason, a description, an actor, a value), and the one escape of text that
 * is shown on a terminal.
 *
 * Every write runs its text through bm_text_check: the operations check their arguments
 * (the message names the argument), and bm_txn_add checks every string field of every
 * record it adds (bm_record_check_text), so a writer that builds its own records (a
 * server, a tool) cannot put bytes into the meta repo that rewrite a reader's screen or
 * forge a row of a table. The actor of a write is checked by bm_store_write. */
#ifndef BOOTMETA_TEXT_H
#define BOOTMETA_TEXT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest one-line text field of a record (a note, a reason, a description, a version). */
#define BM_TEXT_LINE_MAX 4096
/* The longest actor ("Name <email>"). */
#define BM_ACTOR_MAX 512

typedef enum {
	/* One line: no control character at all (no new line, no tab). */
	BM_TEXT_LINE = 0,
	/* Lines: new line, carriage return and tab are allowed, no other control character.
	 * Only the fields that document it: a log message, a config or flag value, the text of
	 * a signature. */
	BM_TEXT_LINES = 1,
} bm_text_kind;

/* Check `len` bytes of `s` (NULL: nothing to check) as text of `kind`: valid UTF-8 (no
 * overlong forms, no surrogates, nothing past U+10FFFF), no NUL, no control character (C0,
 * DEL or C1) except what `kind` allows, at most `max` bytes (0: no bound). BM_ETOOBIG over
 * the bound, BM_EINVALID otherwise, with a message that names `what` ("the reason") and the
 * byte offset, and shows the bad byte as \xNN. */
BM_EXTERN int bm_text_check(const char *s, size_t len, bm_text_kind kind, size_t max, const char *what);

/* Check an actor as git and bootmeta want it: one line of text (bm_text_check, up to
 * BM_ACTOR_MAX bytes), either "Name <email>" (the email not empty, '<' and '>' only around
 * it and nothing after '>') or a plain name with no '<' or '>'; not only spaces. */
BM_EXTERN int bm_actor_check(const char *actor);

typedef enum {
	BM_ESCAPE_DEFAULT = 0,
	/* Escape every byte outside printable ASCII, also valid UTF-8 (for names in error
	 * messages: what was refused is shown byte by byte). */
	BM_ESCAPE_ASCII = 1,
} bm_escape_flags;

/* Append `len` bytes of `s` to `out` for display: printable text as it is; new line, tab
 * and carriage return as \n, \t and \r; every other control character (C0, DEL, C1), every
 * byte that is not part of valid UTF-8, and the Unicode characters that reorder or break
 * lines on display (U+2028, U+2029, U+202A..U+202E, U+2066..U+2069) as \xNN per byte. */
BM_EXTERN int bm_text_escape(bm_buf *out, const char *s, size_t len, unsigned int flags);

#ifdef __cplusplus
}
#endif
#endif
