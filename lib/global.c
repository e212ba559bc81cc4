/* global.c: process-wide initialisation of the libraries bootmeta stands on. */
#include "bootmeta/global.h"

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
	/* Keep parsed trees of any size and small records in libgit2's object cache (by default
	 * it caches only trees under 4 KiB and no blobs): a channel bucket of 1,000 entries is a
	 * 40 KiB tree read on every `channel get` of a long-lived reader, and config resolve reads
	 * a key folder per key under one big +keys tree plus one small record per key. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)4 << 20);
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB, (size_t)16 << 10);
	return 0;
}

void bm_global_shutdown(void)
{
	git_libgit2_shutdown();
}
