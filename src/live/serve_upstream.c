/* serve_upstream.c: the meta repo on a git server (--upstream URL): serve keeps a local
 * clone, its writes are pushed with the store's compare-and-swap-and-replay, and commits
 * others pushed are fetched on a notice (a push webhook) or by a poll. */
#include "serve.h"

void serve_upstream_fetch_soon(serve *s)
{
	serve_hub_kick(s);
}
