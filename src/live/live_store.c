/* live_store.c: how bootmeta-live and bootmeta-agent open the meta repo: as the CLI opens it
 * ($BOOTMETA_* policy), without the CLI's "pushed to" notice. */
#include "cli_env.h"
#include "live.h"

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
