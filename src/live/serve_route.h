/* serve_route.h: the URL router of `bootmeta serve` (serve_route.c): no HTTP library, no
 * server state, so it is fuzzed alone (tests/fuzz/fuzz_serve_route.c). */
#ifndef BM_SERVE_ROUTE_H
#define BM_SERVE_ROUTE_H

#include "bootmeta.h"

/* The parameters a write's URL carries (NULL when the route has none), allocated. */
typedef struct {
	char *project, *channel, *release, *env, *flag, *instance, *hook;
} serve_params;
void serve_params_dispose(serve_params *pp);

/* 1 when every route may look at `url`: it starts with '/', has no "." or ".." part, no empty
 * part inside ("//"), no control character and no backslash. */
int serve_path_ok(const char *url);
/* The opposite of serve_path_ok for a path that starts with '/'. */
int serve_path_bad(const char *url);
/* Split a path at '/' (a leading '/' dropped; a trailing one gives a last empty part). */
int serve_path_split(bm_strlist *out, const char *url);
/* In /v1/projects/<project>/<word>/..., split into `parts`: the project's end is the first
 * part after `from` that is a route word (channels, releases, envs: names.c refuses them as
 * project parts). Returns the index of the word, or -1. */
int serve_split_project(char **parts, size_t n, size_t from);
/* The kind of write (promote, release, binary, config, flag, log, report, hook, hook-rm) a
 * METHOD and URL name, with the URL's parameters in `pp` (dispose it); NULL when the URL is
 * no write route (`pp` is then empty). /v1/hooks is hook for POST and PUT (GET lists the
 * hooks: no write), /v1/hooks/{id} hook-rm for DELETE only; /v1/hooks/git is never a write. */
const char *serve_route_write(const char *method, const char *url, serve_params *pp);

#endif
