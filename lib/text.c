/* text.c: the check of free text before it is written, the actor rule, and the escape of
 * text for display. The contract is in bootmeta/text.h. */
#include "bootmeta/text.h"
#include "bootmeta/utf8.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp;
	return bm_utf8_char(&cp, (const char *)p, n);
}

static const char *control_name(unsigned char c)
{
	switch (c) {
	case '\n': return "a new line";
	case '\r': return "a carriage return";
	case '\t': return "a tab";
	case 0x1b: return "an escape character";
	case 0x7f: return "a delete character";
	default: return "a control character";
	}
}

int bm_text_check(const char *s, size_t len, bm_text_kind kind, size_t max, const char *what)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *rule = kind == BM_TEXT_LINES ? "only new lines and tabs are allowed"
						 : "it is one line of text with no control characters";
	size_t i = 0, n;

	if (!s)
		return 0;
	if (!what)
		what = "the text";
	if (max && len > max)
		return bm_error_set(BM_ETOOBIG, "%s is %zu bytes long, over the limit of %zu", what, len, max);
	while (i < len) {
		unsigned char c = p[i];
		if (c == 0)
			return bm_error_set(BM_EINVALID, "%s holds a NUL byte at byte %zu", what, i);
		if (c < 0x20 || c == 0x7f) {
			if (kind == BM_TEXT_LINES && (c == '\n' || c == '\r' || c == '\t')) {
				i++;
				continue;
			}
			return bm_error_set(BM_EINVALID, "%s holds %s (\\x%02x) at byte %zu; %s", what,
					    control_name(c), c, i, rule);
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (!(n = utf8_len(p + i, len - i)))
			return bm_error_set(BM_EINVALID, "%s is not valid UTF-8 (byte %zu is \\x%02x)", what, i, c);
		if (c == 0xc2 && p[i + 1] <= 0x9f) /* U+0080..U+009F, the C1 controls (CSI is U+009B) */
			return bm_error_set(BM_EINVALID, "%s holds a C1 control character (\\xc2\\x%02x) at byte "
					    "%zu; %s", what, p[i + 1], i, rule);
		i += n;
	}
	return 0;
}

int bm_actor_check(const char *actor)
{
	const char *lt, *gt, *p;
	size_t len;
	int error;

	if (!actor || !*actor)
		return bm_error_set(BM_EINVALID, "the actor is empty; expected \"Name <email>\" or a name");
	len = strlen(actor);
	if ((error = bm_text_check(actor, len, BM_TEXT_LINE, BM_ACTOR_MAX, "the actor")) < 0)
		return error;
	lt = strchr(actor, '<');
	gt = strchr(actor, '>');
	if (!lt && !gt) {
		if (strspn(actor, " ") == len)
			return bm_error_set(BM_EINVALID, "the actor is only spaces; expected \"Name <email>\" or a name");
		return 0;
	}
	if (!lt || !gt || gt < lt || strchr(lt + 1, '<') || strchr(gt + 1, '>'))
		return bm_error_set(BM_EINVALID, "the actor \"%s\" is not \"Name <email>\" or a plain name: '<' and "
				    "'>' may only enclose the email, once", actor);
	for (p = gt + 1; *p == ' '; p++)
		;
	if (*p)
		return bm_error_set(BM_EINVALID, "the actor \"%s\" has text after the email's '>'; expected "
				    "\"Name <email>\"", actor);
	for (p = lt + 1; p < gt && *p == ' '; p++)
		;
	if (p == gt)
		return bm_error_set(BM_EINVALID, "the actor \"%s\" has an empty email; expected \"Name <email>\" or "
				    "a name without '<' and '>'", actor);
	return 0;
}

/* U+2028, U+2029 (line and paragraph separators), U+202A..U+202E and U+2066..U+2069
 * (bidirectional embeddings, overrides and isolates): shown, they move or break text. */
static int reorders(const unsigned char *p, size_t n)
{
	if (n != 3 || p[0] != 0xe2)
		return 0;
	return (p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae) || (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
}

static int put_hex(bm_buf *out, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	int error = 0;
	for (i = 0; i < n && !error; i++) {
		char e[4] = { '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15] };
		error = bm_buf_put(out, e, 4);
	}
	return error;
}

int bm_text_escape(bm_buf *out, const char *s, size_t len, unsigned int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0, n;
	int error = 0;

	if (!s)
		return bm_buf_grow(out, out->size);
	while (i < len && !error) {
		unsigned char c = p[i];
		const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		n = c < 0x80 || (flags & BM_ESCAPE_ASCII) ? 0 : utf8_len(p + i, len - i);
		if (n && !(c == 0xc2 && p[i + 1] <= 0x9f) && !reorders(p + i, n)) {
			i += n;
			continue;
		}
		if (!n)
			n = 1;
		if ((error = bm_buf_put(out, s + start, i - start)) < 0)
			break;
		error = named ? bm_buf_puts(out, named) : put_hex(out, p + i, n);
		i += n;
		start = i;
	}
	if (!error)
		error = bm_buf_put(out, s + start, i - start);
	return error ? error : bm_buf_grow(out, out->size);
}
