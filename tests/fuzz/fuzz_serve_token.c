/* fuzz_serve_token.c: serve's token file (src/serve_token.c) over arbitrary bytes.
 * Invariants: a parse gives 0 or BM_EINVALID / BM_ETOOBIG with a one-line printable message;
 * every token it accepts has a valid name and scopes that serve_scope_check accepts; its
 * lines written back with serve_token_line parse to the same table; removing a token's line
 * leaves a file that parses without it; scope matching never crashes, and a scope covers the
 * target it was derived from when its pattern is that target. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const bm_buf *b)
{
	size_t i;
	for (i = 0; i < b->size; i++)
		if ((unsigned char)b->ptr[i] < 0x20 || b->ptr[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	serve_token_list l = SERVE_TOKEN_LIST_INIT, again = SERVE_TOKEN_LIST_INIT, less = SERVE_TOKEN_LIST_INIT;
	bm_buf err = BM_BUF_INIT, text = BM_BUF_INIT, rest = BM_BUF_INIT, target = BM_BUF_INIT;
	size_t i, j;
	int rc;

	rc = serve_token_file_parse(&l, (const char *)data, size, "fuzz", &err);
	if (rc < 0) {
		if ((rc != BM_EINVALID && rc != BM_ETOOBIG) || l.count || !err.size)
			abort();
		printable(&err);
		goto done;
	}
	for (i = 0; i < l.count; i++) {
		for (j = 0; j < l.items[i].scopes.count; j++) {
			const char *sc = l.items[i].scopes.items[j], *colon = strchr(sc, ':');
			if (serve_scope_check(sc, &err) < 0 || !colon)
				abort();
			/* a pattern without '*' covers itself as a target */
			if (!strchr(colon + 1, '*') && colon[1] && sc[0] != '*') {
				bm_buf_clear(&target);
				bm_buf_puts(&target, colon + 1);
				if ((!strncmp(sc, "config:", 7) || !strncmp(sc, "flag:", 5)) && !strchr(colon + 1, '@'))
					bm_buf_puts(&target, "@env");
				bm_buf_clear(&rest);
				bm_buf_put(&rest, sc, (size_t)(colon - sc));
				if (!serve_scope_covers(sc, rest.ptr, target.ptr))
					abort();
			}
			serve_scope_covers(sc, "promote", "acme/server");
			serve_scope_covers(sc, "config", "a@b");
		}
		if (serve_token_line(&text, l.items[i].name, l.items[i].hash, (const char *const *)l.items[i].scopes.items,
				     l.items[i].scopes.count, &err) < 0)
			abort();
	}
	if (serve_token_file_parse(&again, text.ptr ? text.ptr : "", text.size, "again", &err) < 0 || again.count != l.count)
		abort();
	for (i = 0; i < l.count; i++)
		if (strcmp(again.items[i].name, l.items[i].name) || memcmp(again.items[i].hash, l.items[i].hash, 32) ||
		    again.items[i].scopes.count != l.items[i].scopes.count)
			abort();
	if (l.count) {
		if (serve_token_file_without(&rest, (const char *)data, size, l.items[0].name) < 0)
			abort();
		if (serve_token_file_parse(&less, rest.ptr, rest.size, "less", &err) < 0 || less.count != l.count - 1)
			abort();
		for (i = 0; i < less.count; i++)
			if (!strcmp(less.items[i].name, l.items[0].name))
				abort();
	}
done:
	serve_token_list_dispose(&l);
	serve_token_list_dispose(&again);
	serve_token_list_dispose(&less);
	bm_buf_dispose(&err);
	bm_buf_dispose(&text);
	bm_buf_dispose(&rest);
	bm_buf_dispose(&target);
	return 0;
}
