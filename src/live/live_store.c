/* live_store.c: how bootmeta-live and bootmeta-agent open the meta repo: as the CLI opens it
 * ($BOOTMETA_* policy), without the CLI's "pushed to" notice. */
#include "cli_env.h"
#include "live.h"

#include <errno.h>
#include <stdlib.h>

int live_parse_uint(unsigned long long *out, const char *s, unsigned long long max)
{
	char *end;
	if (!s || *s < '0' || *s > '9') /* strtoull would take a sign or spaces */
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

int live_open(bm_store **out, bm_cli *cli)
{
	/* as the CLI opens it ($BOOTMETA_* policy), without the CLI's "pushed to" notice */
	bm_store_open_options o;
	bm_buf cache = BM_BUF_INIT;
	int error;
	cli_env_store_options(&o, &cache, cli);
	error = bm_store_open_ext(out, cli->repo, &o);
	bm_buf_dispose(&cache);
	return error;
}

int live_clone(bm_store **out, bm_cli *cli, const char *url, const char *path)
{
	bm_store_open_options o;
	bm_buf cache = BM_BUF_INIT;
	int error;
	cli_env_store_options(&o, &cache, cli);
	error = bm_store_clone_ext(out, url, path, &o);
	bm_buf_dispose(&cache);
	return error;
}
