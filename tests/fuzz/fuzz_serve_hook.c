/* fuzz_serve_hook.c: webhook push payloads (src/serve_hook.c) of GitHub and GitLab over
 * arbitrary bytes, and the signature check on them. Invariants: a parse gives 0 or
 * BM_EINVALID / BM_ETOOBIG with a printable one-line message; an accepted push has a ref
 * under refs/, full lower-case commit hashes, and URLs of one line without spaces, none twice;
 * the body signed with serve_hook_sign verifies, and fails with one byte of it changed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve_hook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hash_ok(const char *h)
{
	size_t n = strlen(h), i;
	if (n != 40 && n != 64)
		abort();
	for (i = 0; i < n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	serve_push_event e;
	bm_buf err = BM_BUF_INIT;
	char sig[SERVE_HOOK_SIG_LEN + 1];
	serve_hook_source src;
	size_t i, j;
	int rc;

	if (size < 1)
		return 0;
	src = data[0] & 1 ? SERVE_HOOK_GITLAB : SERVE_HOOK_GITHUB;
	rc = serve_push_parse(&e, src, (const char *)data + 1, size - 1, &err);
	if (rc == 0) {
		if (strncmp(e.ref, "refs/", 5) || bm_text_check(e.ref, strlen(e.ref), BM_TEXT_LINE, 0, "ref") < 0)
			abort();
		hash_ok(e.before);
		hash_ok(e.after);
		if (!e.repository)
			abort();
		for (i = 0; i < e.urls.count; i++) {
			if (!*e.urls.items[i] || strchr(e.urls.items[i], ' ') ||
			    bm_text_check(e.urls.items[i], strlen(e.urls.items[i]), BM_TEXT_LINE, 2048, "url") < 0)
				abort();
			for (j = 0; j < i; j++)
				if (!strcmp(e.urls.items[i], e.urls.items[j]))
					abort();
		}
	} else {
		if (rc != BM_EINVALID && rc != BM_ETOOBIG)
			abort();
		for (i = 0; i < err.size; i++)
			if ((unsigned char)err.ptr[i] < 0x20 || err.ptr[i] == 0x7f)
				abort();
	}
	serve_push_event_dispose(&e);
	serve_hook_sign(sig, "fuzz-secret", 11, data, size);
	if (serve_hook_verify_github(sig, "fuzz-secret", 11, data, size, &err) != 0)
		abort();
	{
		uint8_t *copy = malloc(size);
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		copy[size / 2] ^= 1;
		if (serve_hook_verify_github(sig, "fuzz-secret", 11, copy, size, &err) != BM_EVERIFY)
			abort();
		free(copy);
	}
	bm_buf_dispose(&err);
	return 0;
}
