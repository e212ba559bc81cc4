/* serve_route.c: the URL router of `bootmeta serve`, with no HTTP library in it (so the
 * fuzz target fuzz_serve_route drives it alone): which paths are refused outright, how a
 * path splits into parts, where a project name ends, and which write a URL names. */
#include "serve_route.h"

#include <stdlib.h>
#include <string.h>

int serve_path_ok(const char *url)
{
	return url && url[0] == '/' && !serve_path_bad(url);
}

int serve_path_split(bm_strlist *out, const char *url)
{
	const char *p = url, *q;
	int error = 0;
	while (*p == '/')
		p++;
	while (*p && !error) {
		bm_buf part = BM_BUF_INIT;
		q = strchr(p, '/');
		if (!q)
			q = p + strlen(p);
		if ((error = bm_buf_put(&part, p, (size_t)(q - p))) == 0)
			error = bm_strlist_add(out, part.ptr ? part.ptr : "");
		bm_buf_dispose(&part);
		p = *q ? q + 1 : q;
	}
	return error;
}

int serve_path_bad(const char *url)
{
	const char *p = url;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return 1;
	for (p = url; *p;) {
		const char *q = strchr(p + 1, '/');
		size_t n;
		if (*p != '/')
			return 1;
		p++;
		n = q ? (size_t)(q - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 0 && q))
			return 1;
		p += n;
	}
	return 0;
}

int serve_split_project(char **parts, size_t n, size_t from)
{
	size_t i;
	for (i = from + 1; i < n; i++)
		if (!strcmp(parts[i], "channels") || !strcmp(parts[i], "releases") || !strcmp(parts[i], "envs"))
			return (int)i;
	return -1;
}

const char *serve_route_write(const char *method, const char *url, serve_params *pp)
{
	bm_strlist parts = BM_STRLIST_INIT;
	const char *op = NULL;
	char **p;
	size_t n;
	int w;

	memset(pp, 0, sizeof(*pp));
	if (strcmp(method, "POST") && strcmp(method, "PUT") && strcmp(method, "GET") && strcmp(method, "HEAD") &&
	    strcmp(method, "DELETE"))
		return NULL;
	if (strncmp(url, "/v1/", 4) || serve_path_split(&parts, url) < 0)
		goto done;
	p = parts.items;
	n = parts.count;
	if (n >= 1 && !p[n - 1][0])
		n--;
	/* an empty part inside ("instances//reports") names nothing */
	for (size_t k = 0; k < n; k++)
		if (!p[k][0])
			goto done;
	if (n == 2 && !strcmp(p[1], "log")) {
		op = "log";
		goto done;
	}
	if (n == 2 && !strcmp(p[1], "hooks")) {
		if (!strcmp(method, "POST") || !strcmp(method, "PUT"))
			op = "hook";
		goto done;
	}
	if (n == 3 && !strcmp(p[1], "hooks") && strcmp(p[2], "git")) {
		if (!strcmp(method, "DELETE")) {
			pp->hook = strdup(p[2]);
			op = "hook-rm";
		}
		goto done;
	}
	/* /v1/envs/<env>/instances/<id>/reports (env names may hold '/') */
	if (n >= 6 && !strcmp(p[1], "envs") && !strcmp(p[n - 1], "reports") && !strcmp(p[n - 3], "instances")) {
		bm_buf env = BM_BUF_INIT;
		size_t i;
		for (i = 2; i < n - 3; i++)
			bm_buf_printf(&env, "%s%s", i > 2 ? "/" : "", p[i]);
		pp->env = env.ptr;
		pp->instance = strdup(p[n - 2]);
		op = "report";
		goto done;
	}
	if (n < 4 || strcmp(p[1], "projects") || (w = serve_split_project(p, n, 2)) < 0)
		goto done;
	{
		bm_buf proj = BM_BUF_INIT;
		int i;
		for (i = 2; i < w; i++)
			bm_buf_printf(&proj, "%s%s", i > 2 ? "/" : "", p[i]);
		pp->project = proj.ptr;
	}
	if (!strcmp(p[w], "channels") && (size_t)w + 3 == n && !strcmp(p[w + 2], "promote")) {
		pp->channel = strdup(p[w + 1]);
		op = "promote";
	} else if (!strcmp(p[w], "releases") && (size_t)w + 1 == n && strcmp(method, "GET")) {
		op = "release";
	} else if (!strcmp(p[w], "releases") && (size_t)w + 3 == n && !strcmp(p[w + 2], "binaries")) {
		pp->release = strdup(p[w + 1]);
		op = "binary";
	} else if (!strcmp(p[w], "envs") && n > (size_t)w + 2) {
		size_t k;
		bm_buf env = BM_BUF_INIT;
		for (k = (size_t)w + 1; k < n; k++)
			if (!strcmp(p[k], "config") || !strcmp(p[k], "flags"))
				break;
		for (size_t i = (size_t)w + 1; i < k; i++)
			bm_buf_printf(&env, "%s%s", i > (size_t)w + 1 ? "/" : "", p[i]);
		pp->env = env.ptr;
		if (k < n && !strcmp(p[k], "config") && k + 1 == n && strcmp(method, "GET") && strcmp(method, "HEAD"))
			op = "config";
		else if (k < n && !strcmp(p[k], "flags") && k + 2 == n && strcmp(method, "GET") && strcmp(method, "HEAD")) {
			pp->flag = strdup(p[k + 1]);
			op = "flag";
		}
	}
done:
	bm_strlist_dispose(&parts);
	if (!op)
		serve_params_dispose(pp);
	return op;
}

void serve_params_dispose(serve_params *pp)
{
	free(pp->project);
	free(pp->channel);
	free(pp->release);
	free(pp->env);
	free(pp->flag);
	free(pp->instance);
	free(pp->hook);
	memset(pp, 0, sizeof(*pp));
}
