/* knownhosts.h: checking an ssh server's host key against an OpenSSH known_hosts file, for
 * ssh remotes (libgit2 hands the key to store.c's certificate callback; the file is the
 * caller's, never looked up here). Not part of the public API. */
#ifndef BM_KNOWNHOSTS_H
#define BM_KNOWNHOSTS_H

#include <stddef.h>

#include "bootmeta/common.h"

/* Check `key` (the host key blob, in the ssh wire format) that the ssh server `host` on
 * `port` offered, against the known_hosts file `path`. The host is named as OpenSSH names
 * it: `host` on port 22, else `[host]:port`. Plain and hashed (`|1|salt|hash`) host fields,
 * comma lists, `*`/`?` patterns and `!` negations are read; `@revoked` lines refuse a key;
 * `@cert-authority` lines are skipped (host certificates are not supported).
 * 0: a line for the host has this key. BM_EVERIFY with a message naming the host, the key's
 * type and SHA256 fingerprint and the file when the host has no line with this key type
 * (about BM_ABOUT_SSH_HOST_UNKNOWN), has a line with another key of the same type
 * (BM_ABOUT_SSH_HOST_CHANGED, with the line number), or the key is revoked. A file that does
 * not exist is an empty one; one that cannot be read is BM_EIO. */
int bm__known_hosts_check(const char *path, const char *host, int port, const unsigned char *key, size_t len);

/* HMAC-SHA1 (RFC 2104), which hashed known_hosts lines use. */
void bm__hmac_sha1(unsigned char out[20], const unsigned char *key, size_t klen, const unsigned char *msg,
		   size_t mlen);

#endif
