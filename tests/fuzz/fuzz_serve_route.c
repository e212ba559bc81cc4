/* fuzz_serve_route.c: serve's URL router (src/live/serve_route.c) over arbitrary paths and
 * methods. Invariants: no crash or leak; a path serve_path_ok takes has no "." / ".." part,
 * no "//" inside and no control character; a write route found is one of the nine kinds,
 * and every parameter it gives is a non-empty part-wise substring of the path (the project
 * and env may hold '/'), never holding ".." as a part when the path is ok. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void param_ok(const char *v, const char *url, int ok)
{
	if (!v)
		return;
	if (!*v || !strstr(url, v))
		abort();
	if (ok && (!strcmp(v, "..") || !strncmp(v, "../", 3) || strstr(v, "/../") ||
		   (strlen(v) >= 3 && !strcmp(v + strlen(v) - 3, "/..")) || strstr(v, "//")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH" };
	static const char *const kinds[] = { "promote", "release", "binary", "config", "flag", "log", "report",
					     "hook", "hook-rm" };
	const size_t nkinds = sizeof(kinds) / sizeof(kinds[0]);
	serve_params pp;
	bm_strlist parts = BM_STRLIST_INIT;
	const char *kind;
	char *url;
	size_t i;
	int ok;

	if (size < 1)
		return 0;
	if (!(url = malloc(size)))
		return 0;
	memcpy(url, data + 1, size - 1);
	url[size - 1] = '\0';
	ok = serve_path_ok(url);
	if (ok) {
		const char *p;
		for (p = url; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
		if (strstr(url, "/../") || strstr(url, "/./") || strstr(url, "//"))
			abort();
	}
	if (serve_path_split(&parts, url) == 0 && ok) {
		for (i = 0; i < parts.count; i++)
			if (!strcmp(parts.items[i], "..") || !strcmp(parts.items[i], "."))
				abort();
		if (parts.count > 2)
			(void)serve_split_project(parts.items, parts.count, 2);
	}
	bm_strlist_dispose(&parts);
	kind = serve_route_write(methods[data[0] % 6], url, &pp);
	if (kind) {
		for (i = 0; i < nkinds; i++)
			if (!strcmp(kind, kinds[i]))
				break;
		if (i == nkinds)
			abort();
		/* the hook routes: POST/PUT /v1/hooks, DELETE /v1/hooks/{id}; never /v1/hooks/git */
		if (!strcmp(kind, "hook-rm") && (strcmp(methods[data[0] % 6], "DELETE") || !pp.hook || !strcmp(pp.hook, "git")))
			abort();
		param_ok(pp.project, url, ok);
		param_ok(pp.channel, url, ok);
		param_ok(pp.release, url, ok);
		param_ok(pp.env, url, ok);
		param_ok(pp.flag, url, ok);
		param_ok(pp.hook, url, ok);
		param_ok(pp.instance, url, ok);
	} else if (pp.project || pp.env || pp.channel || pp.hook) {
		abort(); /* no route: no parameters */
	}
	serve_params_dispose(&pp);
	free(url);
	return 0;
}
