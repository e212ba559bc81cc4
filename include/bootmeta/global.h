/* bootmeta/global.h: process-wide set-up of the libraries bootmeta stands on (lib/global.c). */
#ifndef BOOTMETA_GLOBAL_H
#define BOOTMETA_GLOBAL_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* When the network transports of libgit2 are set up. */
typedef enum {
	/* When libgit2 initialises, as libgit2 does: TLS (mbedTLS's random generator seeded,
	 * the CA bundle parsed: most of the start-up cost of a small command) and SSH
	 * (libssh2, OpenSSL's libcrypto). */
	BM_NET_SETUP_AT_INIT = 0,
	/* Only when a remote of that kind is first used: TLS before the first https fetch,
	 * push or clone of the process, SSH when libgit2 opens its first ssh session; a process
	 * that reads a local meta repo sets up neither. libgit2 1.5 has no setting for this; it
	 * takes effect when the program links libgit2 statically with
	 *   -Wl,--wrap=git_mbedtls_stream_global_init -Wl,--wrap=libssh2_init
	 * (as bootmeta's release CLI does; the library supplies the wrappers). Without those
	 * link options libgit2 sets everything up at init as usual and this mode changes
	 * nothing. */
	BM_NET_SETUP_ON_DEMAND = 1,
} bm_net_setup;

typedef struct {
	unsigned int version;      /* BM_GLOBAL_OPTIONS_VERSION */
	bm_net_setup net_setup;
	/* The CA bundle file and/or folder of hashed certificates to trust for https remotes
	 * instead of libgit2's compiled-in bundle (a program may take them from SSL_CERT_FILE
	 * and SSL_CERT_DIR; the library reads no environment). Loaded before the first https
	 * operation. */
	const char *ca_file;
	const char *ca_dir;
} bm_global_options;
#define BM_GLOBAL_OPTIONS_VERSION 1
#define BM_GLOBAL_OPTIONS_INIT { BM_GLOBAL_OPTIONS_VERSION, BM_NET_SETUP_AT_INIT, NULL, NULL }

/* Initialise libsodium and libgit2; call it before any other bm_ function. Safe to call
 * more than once and from several threads (reference counted: call bm_global_shutdown once
 * for each); `opts` (NULL: BM_GLOBAL_OPTIONS_INIT) of the first call decides the network
 * set-up of the process, later calls' options are ignored. BM_EINVALID for an unknown options version.
 *
 * Process-wide settings made here (they hold for every libgit2 user of the process, as
 * git_libgit2_opts() settings do):
 *  - GIT_OPT_ENABLE_FSYNC_GITDIR off: libgit2 does not fsync each object and ref file it
 *    writes; bootmeta's store syncs once per transaction instead (objects, then the ref),
 *    see bm_store_write. A program that writes other repos through libgit2 and wants
 *    libgit2's per-file syncs turns it back on after this call.
 *  - GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION on: every object read is checked against its
 *    hash (libgit2's default, set explicitly).
 *  - GIT_OPT_SET_CACHE_OBJECT_LIMIT: trees up to 4 MiB and blobs up to 16 KiB are kept in
 *    libgit2's object cache (its default caches trees under 4 KiB and no blobs).
 *  - Network set-up: see bm_net_setup; with ca_file/ca_dir, GIT_OPT_SET_SSL_CERT_LOCATIONS
 *    before the first https operation.
 * libsodium's sodium_init() has no settings; it picks its CPU-specific code once. */
BM_EXTERN int bm_global_init_opts(const bm_global_options *opts);
/* The most bytes of parsed objects libgit2 keeps in its object cache, for the whole process
 * (GIT_OPT_SET_CACHE_MAX_SIZE; libgit2's default is 256 MiB). A long-running reader trades
 * memory for speed here: the cache is what makes repeated reads of the same trees cheap.
 * Call it after bm_global_init; it holds until changed. BM_EINVALID for 0 or more than
 * SSIZE_MAX. */
BM_EXTERN int bm_global_cache_limit(size_t max_bytes);
/* The bytes libgit2's object cache holds now, and its limit. */
BM_EXTERN int bm_global_cache_usage(size_t *used, size_t *max_bytes);
/* bm_global_init_opts(NULL). */
BM_EXTERN int bm_global_init(void);
BM_EXTERN void bm_global_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
