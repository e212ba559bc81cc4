/* global.c: process-wide initialisation of the libraries bootmeta stands on, and every
 * process-wide setting it makes (each is listed in bootmeta/global.h). */
#include "bootmeta/global.h"
#include "net.h"
#include "optcheck.h"

#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The network set-up of the process, from the first bm_global_init_opts call. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int init_count;
static bm_net_setup net_setup = BM_NET_SETUP_AT_INIT;
static char *ca_file, *ca_dir;
static int tls_deferred; /* libgit2's TLS set-up was skipped at init (wrapper below) */
static int tls_done;     /* bm__tls_prepare ran */

/* Set-up on demand with a static libgit2 (BM_NET_SETUP_ON_DEMAND).
 *
 * libgit2 1.5 (as Debian builds it: mbedTLS, libssh2 on OpenSSL) sets up both transports
 * inside git_libgit2_init(): mbedTLS seeds its random generator and parses the whole CA
 * bundle (some 50 million instructions), libssh2 starts OpenSSL (engines, error strings).
 * libgit2 has no setting to skip either. A program that links libgit2 statically (bootmeta's
 * release CLI) links with -Wl,--wrap=git_mbedtls_stream_global_init -Wl,--wrap=libssh2_init,
 * so libgit2's calls to those come here:
 *  - TLS: with ON_DEMAND, nothing is done at init; bm__tls_prepare runs libgit2's own TLS
 *    set-up before the first https operation. Every https operation of the library goes
 *    through bm__tls_prepare; until then libgit2 has no TLS configuration at all.
 *  - SSH: with ON_DEMAND, libssh2_init is skipped; libssh2 starts itself (the same crypto
 *    set-up) in libssh2_session_init_ex, the first call libgit2 makes for an ssh remote.
 * A program without these link options (libbootmeta.so with a shared libgit2) never calls
 * the wrappers, and libgit2 sets everything up at init. The __real_ functions are weak: they
 * exist only in a link that wraps. */
int __wrap_git_mbedtls_stream_global_init(void);
extern int __real_git_mbedtls_stream_global_init(void) __attribute__((weak));
int __wrap_libssh2_init(int flags);
extern int __real_libssh2_init(int flags) __attribute__((weak));

int __wrap_git_mbedtls_stream_global_init(void)
{
	if (!__real_git_mbedtls_stream_global_init)
		return -1;
	if (net_setup == BM_NET_SETUP_ON_DEMAND) {
		tls_deferred = 1;
		return 0;
	}
	return __real_git_mbedtls_stream_global_init();
}

int __wrap_libssh2_init(int flags)
{
	if (!__real_libssh2_init)
		return -1;
	if (net_setup == BM_NET_SETUP_ON_DEMAND)
		return 0;
	return __real_libssh2_init(flags);
}

void bm__tls_prepare(const char *url)
{
	if (!url || strncmp(url, "https://", 8))
		return;
	pthread_mutex_lock(&lock);
	if (tls_done)
		goto done;
	tls_done = 1;
	if (tls_deferred && __real_git_mbedtls_stream_global_init() < 0)
		goto done; /* the https operation fails: libgit2 has no TLS configuration */
	tls_deferred = 0;
	if ((ca_file || ca_dir) && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca_file, ca_dir) < 0)
		git_error_clear(); /* no such bundle: the https operation fails verification */
done:
	pthread_mutex_unlock(&lock);
}

int bm_global_init_opts(const bm_global_options *opts)
{
	int error = 0;

	if ((error = BM_OPTS_CHECK(opts, BM_GLOBAL_OPTIONS_VERSION, "bm_global_options")) < 0)
		return error;
	if (opts && opts->net_setup != BM_NET_SETUP_AT_INIT && opts->net_setup != BM_NET_SETUP_ON_DEMAND)
		return bm_error_set(BM_EINVALID, "bm_global_options: unknown net_setup %d", (int)opts->net_setup);
	pthread_mutex_lock(&lock);
	/* the first call decides the process's network set-up (later calls only count) */
	if (init_count == 0) {
		free(ca_file);
		free(ca_dir);
		ca_file = opts && opts->ca_file ? strdup(opts->ca_file) : NULL;
		ca_dir = opts && opts->ca_dir ? strdup(opts->ca_dir) : NULL;
		if (opts && ((opts->ca_file && !ca_file) || (opts->ca_dir && !ca_dir))) {
			error = bm_error_set(BM_ENOMEM, "out of memory");
			goto done;
		}
		net_setup = opts ? opts->net_setup : BM_NET_SETUP_AT_INIT;
		tls_deferred = tls_done = 0;
	}
	if (sodium_init() < 0) {
		error = bm_error_set(BM_ERROR, "libsodium failed to initialise");
		goto done;
	}
	if (git_libgit2_init() < 0) {
		error = bm_error_set(BM_ERROR, "libgit2 failed to initialise");
		goto done;
	}
	init_count++;
	/* bootmeta makes its own durability choices: one sync per transaction (store.c) */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	/* Keep parsed trees of any size and small records in libgit2's object cache (by default
	 * it caches only trees under 4 KiB and no blobs): a channel bucket of 1,000 entries is a
	 * 40 KiB tree read on every `channel get` of a long-lived reader, and config resolve reads
	 * a key folder per key under one big +keys tree plus one small record per key. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)4 << 20);
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB, (size_t)16 << 10);
done:
	pthread_mutex_unlock(&lock);
	return error;
}

int bm_global_cache_limit(size_t max_bytes)
{
	if (!max_bytes || max_bytes > (size_t)SSIZE_MAX)
		return bm_error_set(BM_EINVALID, "object cache limit %zu bytes: give 1 byte to SSIZE_MAX", max_bytes);
	if (git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)max_bytes) < 0)
		return bm_error_set(BM_ERROR, "libgit2 refused the object cache limit (is bm_global_init done?)");
	return 0;
}

int bm_global_cache_usage(size_t *used, size_t *max_bytes)
{
	ssize_t cur = 0, allowed = 0;
	if (git_libgit2_opts(GIT_OPT_GET_CACHED_MEMORY, &cur, &allowed) < 0)
		return bm_error_set(BM_ERROR, "libgit2 did not say its object cache's size");
	*used = cur > 0 ? (size_t)cur : 0;
	*max_bytes = allowed > 0 ? (size_t)allowed : 0;
	return 0;
}

int bm_global_init(void)
{
	return bm_global_init_opts(NULL);
}

void bm_global_shutdown(void)
{
	pthread_mutex_lock(&lock);
	if (init_count > 0 && --init_count == 0) {
		free(ca_file);
		free(ca_dir);
		ca_file = ca_dir = NULL;
	}
	pthread_mutex_unlock(&lock);
	git_libgit2_shutdown();
}
