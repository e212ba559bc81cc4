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
	/* Reads walk the same trees again and again (config resolve reads a key folder per key
	 * under one big +keys tree): keep trees of any size and small records in libgit2's object
	 * cache. Its defaults cache only trees up to 4 KiB and no blobs, so a 500-key folder was
	 * inflated from its loose object once per key. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)4 << 20);
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB, (size_t)16 << 10);
	return 0;
}

void bm_global_shutdown(void)
{
	git_libgit2_shutdown();
}
