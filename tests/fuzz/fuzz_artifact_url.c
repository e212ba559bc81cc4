/* fuzz_artifact_url.c: libFuzzer target over what records and command lines give
 * libbootmeta-net: a storage URL (split, then an object URL and an S3 request URL built from
 * it) and a server's error body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"
#include "bootmeta/artifact.h"
#include "artifact_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	bm__url u = BM__URL_INIT;
	bm_buf b = BM_BUF_INIT;
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (bm__url_parse(&u, s) == 0) {
		if (u.scheme == BM_URL_S3) {
			if (bm__s3_request_url(&b, "http://127.0.0.1:9000", NULL, u.bucket, u.path) < 0 ||
			    strncmp(b.ptr, "http://127.0.0.1:9000/", 22))
				abort();
			if (bm__s3_request_url(&b, NULL, "eu-west-1", u.bucket, u.path) < 0)
				abort();
		}
		if (bm_artifact_url(&b, s, "demo/app", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "app") < 0)
			abort(); /* a URL that splits is a base an object URL is built on */
		if (bm__url_parse(&u, b.ptr) < 0)
			abort(); /* and the object URL splits again */
	}
	bm__error_body_text(&b, (const char *)data, size);
	if (b.size > 300)
		abort();
	bm__url_dispose(&u);
	bm_buf_dispose(&b);
	free(s);
	return 0;
}
