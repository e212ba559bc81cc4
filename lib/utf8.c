/* utf8.c: the one UTF-8 validator (see bootmeta/utf8.h). Byte ranges follow Unicode's
 * table 3-7 ("well-formed UTF-8 byte sequences"), so overlongs, surrogates and code points
 * past U+10FFFF are refused by the second byte's range, not after decoding. */
#include "bootmeta/utf8.h"

size_t bm_utf8_char(uint32_t *cp, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t v;
	if (!n)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

int bm_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;
	while (i < len) {
		size_t n;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (!(n = bm_utf8_char(&cp, s + i, len - i)))
			return 0;
		i += n;
	}
	return 1;
}

