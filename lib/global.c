/* global.c: process-wide initialisation of the libraries bootmeta stands on. */
#include "bootmeta.h"

#include <git2.h>
#include <sodium.h>

int bm_global_init(void)
{
	if (sodium_init() < 0)
		return bm_error_set(BM_ERROR, "libsodium failed to initialise");
	if (git_libgit2_init() < 0)
		return bm_error_set(BM_ERROR, "libgit2 failed to initialise");
	/* bootmeta makes its own durability choices: one sync per transaction (store.c) */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	return 0;
}

void bm_global_shutdown(void)
{
	git_libgit2_shutdown();
}
