/* tls_lazy.c: keep Debian's libgit2 from parsing the whole CA bundle at every start.
 *
 * libgit2 1.5 as Debian builds it (mbedTLS) parses /etc/ssl/certs/ca-certificates.crt inside
 * git_libgit2_init(): about 85% of the instructions of a `bootmeta channel get` process, and
 * nearly all of it for commands that never open a network connection. This program-level
 * definition of mbedtls_x509_crt_parse_file interposes on libmbedx509's for calls from
 * libgit2: it leaves the chain empty until the store is about to use an https remote, when
 * it sets bm__tls_certs_wanted and asks libgit2 to load the bundle again, which then goes
 * through to the real parser. If interposition did not happen, libgit2 loaded the bundle at
 * init as usual; if certificates were never loaded, TLS verification fails closed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

struct mbedtls_x509_crt;

extern int bm__tls_certs_wanted;

int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path);
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path)
{
	static int (*real)(struct mbedtls_x509_crt *, const char *);
	if (!bm__tls_certs_wanted)
		return 0;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "mbedtls_x509_crt_parse_file");
	return real ? real(chain, path) : -1;
}
