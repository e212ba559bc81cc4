/* net.h: the network set-up global.c makes on demand, for the store (not installed). */
#ifndef BM_LIB_NET_H
#define BM_LIB_NET_H

/* Before libgit2 opens a connection to `url`: for an https URL, run libgit2's TLS set-up
 * when bm_global_init_opts deferred it (BM_NET_SETUP_ON_DEMAND), and load the CA
 * certificates it named (ca_file, ca_dir). Once per process; a failure is left for the https
 * operation to report (without certificates, verification fails closed). */
void bm__tls_prepare(const char *url);

#endif
