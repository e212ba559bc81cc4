/* fuzz_text.c: the free-text check, the actor rule and the display escape over arbitrary
 * bytes. What the escape prints is always one line of clean text (it passes the check), with
 * BM_ESCAPE_ASCII only printable ASCII; what the check accepts as one line also passes as
 * lines and is valid UTF-8; an accepted actor holds no '\n' and its '<' '>' enclose the
 * email once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	bm_buf esc = BM_BUF_INIT, ascii = BM_BUF_INIT;
	char *actor;
	size_t i;
	int line, lines;

	line = bm_text_check(s, size, BM_TEXT_LINE, 0, "fuzz");
	lines = bm_text_check(s, size, BM_TEXT_LINES, 0, "fuzz");
	if (line == 0 && (lines != 0 || !bm_utf8_valid(s, size) || memchr(s, '\n', size)))
		abort();
	if ((line != 0 && line != BM_EINVALID) || (lines != 0 && lines != BM_EINVALID))
		abort();
	if (bm_text_check(s, size, BM_TEXT_LINE, size ? size - 1 : 0, "fuzz") == 0 && size > 1)
		abort();

	if (bm_text_escape(&esc, s, size, 0) < 0 || bm_text_escape(&ascii, s, size, BM_ESCAPE_ASCII) < 0)
		abort();
	if (esc.size < size || bm_text_check(esc.ptr, esc.size, BM_TEXT_LINE, 0, "escaped") != 0)
		abort();
	for (i = 0; i < ascii.size; i++)
		if ((unsigned char)ascii.ptr[i] < 0x20 || (unsigned char)ascii.ptr[i] >= 0x7f)
			abort();
	/* clean one-line ASCII is shown as it is */
	if (line == 0 && ascii.size == size && memcmp(ascii.ptr, s, size) != 0)
		abort();

	if ((actor = malloc(size + 1))) {
		memcpy(actor, data, size);
		actor[size] = '\0';
		if (bm_actor_check(actor) == 0) {
			const char *lt = strchr(actor, '<'), *gt = strchr(actor, '>');
			if (strchr(actor, '\n') || !*actor || (!lt) != (!gt) || (lt && (gt < lt || strchr(lt + 1, '<') ||
										 strchr(gt + 1, '>'))))
				abort();
		}
		free(actor);
	}
	bm_buf_dispose(&esc);
	bm_buf_dispose(&ascii);
	return 0;
}
