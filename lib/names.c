/* names.c: name validation. Every name is checked here before it becomes a path. */
#include "bootmeta/names.h"

#include <string.h>
#include <strings.h>

struct rule {
	const char *what;
	const char *extra;      /* allowed punctuation besides letters and digits */
	size_t max_len;
	unsigned int max_segments; /* 1: no '/' */
	int lower_only;
	const char *form;
};

static const struct rule rules[] = {
	[BM_NAME_PROJECT] = { "project name", "._-", 200, 8, 0, "repo/folder, e.g. maintemplatev2/server" },
	[BM_NAME_RELEASE] = { "release id", "._+-", 128, 1, 0, "letters, digits and . _ + -, e.g. a commit hash or v1.2.3" },
	[BM_NAME_CHANNEL] = { "channel name", "._-", 64, 1, 0, "letters, digits and . _ -, e.g. stable" },
	[BM_NAME_ENV] = { "environment name", "._-", 128, 4, 0, "e.g. prod, stage, dev, dev/alice" },
	[BM_NAME_KEY] = { "key", "._-", 128, 1, 0, "letters, digits and . _ -, e.g. DATABASE_URL" },
	[BM_NAME_USER] = { "user name", "._-", 64, 1, 1, "lower-case letters, digits and . _ -" },
	[BM_NAME_MODULE] = { "module path", "._~-", 256, 16, 0, "e.g. github.com/org/lib" },
	[BM_NAME_KIND] = { "log kind", "._-", 64, 1, 1, "lower-case letters, digits and . _ -" },
	[BM_NAME_INSTANCE] = { "instance id", "._-", 253, 1, 1,
			       "a host name in lower case: letters, digits and . _ -, starting with a letter or digit, "
			       "e.g. web-1 or web-1.eu.example.com" },
};

/* A refused name as the message shows it: printable ASCII as it is, every other byte as
 * \xNN (no byte of it reaches the terminal raw, and a bad byte is not turned into U+FFFD). */
#define SHOWN_MAX (4 * 256 + 4)
static const char *shown(char out[SHOWN_MAX], const char *name)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (; *name && o + 8 < SHOWN_MAX; name++) {
		unsigned char c = (unsigned char)*name;
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (*name)
		out[o++] = '.', out[o++] = '.', out[o++] = '.';
	out[o] = '\0';
	return out;
}

const char *bm_name_kind_str(bm_name_kind kind)
{
	if ((unsigned)kind >= sizeof(rules) / sizeof(rules[0]))
		return "name";
	return rules[kind].what;
}

int bm_name_validate(const char *name, bm_name_kind kind)
{
	const struct rule *r;
	const char *p, *seg;
	char sn[SHOWN_MAX];
	unsigned int segments = 1;
	size_t len;

	if ((unsigned)kind >= sizeof(rules) / sizeof(rules[0]))
		return bm_error_set(BM_EINVALID, "unknown name kind");
	r = &rules[kind];
	if (!name || !*name)
		return bm_error_set(BM_EINVALID, "empty %s (expected %s)", r->what, r->form);
	len = strlen(name);
	if (len > r->max_len)
		return bm_error_set(BM_EINVALID, "%s is %zu characters long, over the limit of %zu",
				    r->what, len, r->max_len);
	if (name[0] == '/')
		return bm_error_set(BM_EINVALID, "%s \"%s\" starts with '/' (expected %s)", r->what, shown(sn, name), r->form);
	/* a host name starts with a letter or digit (and "-x" would read as an option) */
	if (kind == BM_NAME_INSTANCE && (name[0] == '-' || name[0] == '_'))
		return bm_error_set(BM_EINVALID, "%s \"%s\" starts with '%c' (expected %s)", r->what, shown(sn, name),
				    name[0], r->form);
	for (p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '/') {
			if (r->max_segments < 2)
				return bm_error_set(BM_EINVALID, "%s \"%s\" may not contain '/' (expected %s)",
						    r->what, shown(sn, name), r->form);
			if (++segments > r->max_segments)
				return bm_error_set(BM_EINVALID, "%s \"%s\" has more than %u parts", r->what,
						    shown(sn, name), r->max_segments);
			continue;
		}
		if (c >= '0' && c <= '9')
			continue;
		if (c >= 'a' && c <= 'z')
			continue;
		if (c >= 'A' && c <= 'Z' && !r->lower_only)
			continue;
		if (c && strchr(r->extra, c))
			continue;
		if (c < 0x20 || c == 0x7f)
			return bm_error_set(BM_EINVALID, "%s contains a control character (0x%02x) at offset %zu",
					    r->what, c, (size_t)(p - name));
		if (c >= 0x80)
			return bm_error_set(BM_EINVALID, "%s \"%s\" contains '\\x%02x', which is not allowed "
					    "(expected %s)", r->what, shown(sn, name), c, r->form);
		return bm_error_set(BM_EINVALID, "%s \"%s\" contains '%c', which is not allowed (expected %s)",
				    r->what, shown(sn, name), c, r->form);
	}
	/* every segment: not empty, not "." or "..", not starting with '.' (no hidden files),
	 * not ending in ".pb"/".lock" which the store uses itself */
	for (seg = name; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL) {
		size_t n = strcspn(seg, "/");
		if (n == 0)
			return bm_error_set(BM_EINVALID, "%s \"%s\" has an empty part ('//' or a trailing '/')",
					    r->what, shown(sn, name));
		if (seg[0] == '.')
			return bm_error_set(BM_EINVALID, "%s \"%s\": a part may not start with '.' (no \"..\")",
					    r->what, shown(sn, name));
		/* folder keywords of the layout would make a path ambiguous */
		if ((kind == BM_NAME_PROJECT || kind == BM_NAME_ENV) &&
		    ((n == 8 && !strncmp(seg, "releases", 8)) || (n == 8 && !strncmp(seg, "channels", 8)) ||
		     (n == 7 && !strncmp(seg, "secrets", 7)) || (n == 6 && !strncmp(seg, "config", 6)) ||
		     (n == 10 && !strncmp(seg, "recipients", 10))))
			return bm_error_set(BM_EINVALID, "%s \"%s\": \"%.*s\" is reserved by the meta repo layout",
					    r->what, shown(sn, name), (int)n, seg);
		/* git refuses this tree entry: it is ".git" on NTFS (its short name), also with
		 * trailing dots */
		if (n >= 5 && !strncasecmp(seg, "git~1", 5) && strspn(seg + 5, ".") == n - 5)
			return bm_error_set(BM_EINVALID, "%s \"%s\": a part may not be \"%.*s\" (git refuses it: "
					    "it names .git on Windows)", r->what, shown(sn, name), (int)n, seg);
		if (n >= 5 && !strncmp(seg + n - 5, ".lock", 5))
			return bm_error_set(BM_EINVALID, "%s \"%s\": a part may not end in \".lock\"", r->what,
					    shown(sn, name));
	}
	return 0;
}
