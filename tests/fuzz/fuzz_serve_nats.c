/* fuzz_serve_nats.c: the connection-free parts of serve's NATS side (src/serve_nats_msg.c).
 * The first byte picks the write kind (or an unknown one), the rest is the request body, and
 * the same bytes are also a path of the meta repo for the subject mapping. Invariants: a write
 * is 0 with a route under /v1/ and no ".." or control byte in it, or BM_EINVALID/BM_ENOTFOUND
 * with a one-line message; a subject is bootmeta.change. and non-empty tokens without
 * whitespace or wildcards, and its prefix is a prefix of the path. (The HTTP body that comes
 * out is then parsed by src/serve_body.c, which fuzz_serve_body covers.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve_route.h"

#include "serve_nats_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = { "promote", "release", "binary", "config", "flag", "log", "report", "x.y",
				     "hook", "hook-rm" };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static void check_subject(const char *path)
{
	bm_buf s = BM_BUF_INIT, p = BM_BUF_INIT;
	int rc = serve_nats_subject(&s, &p, path);
	if (rc == 0) {
		const char *t;
		size_t tok = 0;
		if (strncmp(s.ptr, SERVE_NATS_SUBJECT_ROOT, strlen(SERVE_NATS_SUBJECT_ROOT)) || strncmp(path, p.ptr, p.size))
			abort();
		for (t = s.ptr; *t; t++) {
			unsigned char c = (unsigned char)*t;
			if (c <= ' ' || c >= 0x7f || c == '*' || c == '>')
				abort();
			if (c == '.') {
				if (!tok)
					abort();
				tok = 0;
			} else {
				tok++;
			}
		}
		if (!tok)
			abort();
	} else if (rc != 1) {
		abort();
	}
	bm_buf_dispose(&s);
	bm_buf_dispose(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bm_buf url = BM_BUF_INIT, body = BM_BUF_INIT, err = BM_BUF_INIT;
	char *path;
	int rc;
	if (size < 1)
		return 0;
	rc = serve_nats_write_parse(&url, &body, kinds[data[0] % NKINDS], (const char *)data + 1, size - 1, &err);
	if (rc == 0) {
		const char *u;
		/* ".." inside a name (a.b..c) is a name; as a part of the path it is refused */
		if (strncmp(url.ptr, "/v1/", 4) || !serve_path_ok(url.ptr) || !body.ptr)
			abort();
		for (u = url.ptr; *u; u++)
			if ((unsigned char)*u < 0x20)
				abort();
	} else if (rc == BM_EINVALID || rc == BM_ENOTFOUND) {
		if (!err.ptr || strchr(err.ptr, '\n'))
			abort();
	} else if (rc != BM_ENOMEM) {
		abort();
	}
	bm_buf_dispose(&url);
	bm_buf_dispose(&body);
	bm_buf_dispose(&err);
	bm_error_clear();
	if ((path = malloc(size)) != NULL) {
		memcpy(path, data + 1, size - 1);
		path[size - 1] = '\0';
		check_subject(path);
		free(path);
	}
	return 0;
}
