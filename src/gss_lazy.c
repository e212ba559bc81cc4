/* gss_lazy.c: GSSAPI for the release CLI, loaded only when an https server asks for it.
 *
 * The release CLI links libgit2 statically (BM_STATIC_DEPS). libgit2 calls GSSAPI only for
 * the "Negotiate" (Kerberos) authentication of an https remote, but linking Debian's
 * libgssapi_krb5.so.2 (there is no static one) would map it and five krb5 libraries at every
 * start, ~60 page faults. The link redirects libgit2's references to these functions
 * (-Wl,--wrap=gss_...); each one opens libgssapi_krb5.so.2 with dlopen on first use and calls
 * the real function. Without the library, they fail with GSS_S_FAILURE and libgit2 reports
 * that Negotiate authentication failed. */
#ifdef BM_STATIC_DEPS
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>

typedef uint32_t OM_uint32;
typedef struct {
	OM_uint32 length;
	void *elements;
} gss_oid_desc_;
#define GSS_FAILURE ((OM_uint32)13 << 16) /* GSS_S_FAILURE */

/* gss_OID GSS_C_NT_HOSTBASED_SERVICE: { 1 2 840 113554 1 2 1 4 } (RFC 2743), until the
 * library's own is known */
static gss_oid_desc_ hostbased = { 10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04" };
extern void *__wrap_GSS_C_NT_HOSTBASED_SERVICE;
void *__wrap_GSS_C_NT_HOSTBASED_SERVICE = &hostbased;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *lib;

static void load(void)
{
	void **oid;
	if (!(lib = dlopen("libgssapi_krb5.so.2", RTLD_NOW | RTLD_LOCAL)))
		return;
	if ((oid = dlsym(lib, "GSS_C_NT_HOSTBASED_SERVICE")) && *oid)
		__wrap_GSS_C_NT_HOSTBASED_SERVICE = *oid;
}

static void *sym(const char *name)
{
	pthread_once(&once, load);
	return lib ? dlsym(lib, name) : NULL;
}

/* Define __wrap_NAME(ARGS) forwarding to the real NAME(ARGS) */
#define FORWARD(name, params, args)                                   \
	OM_uint32 __wrap_##name params;                               \
	OM_uint32 __wrap_##name params                                \
	{                                                             \
		static OM_uint32(*real) params;                       \
		if (!real && !(*(void **)&real = sym(#name))) {       \
			if (minor)                                    \
				*minor = 0;                           \
			return GSS_FAILURE;                           \
		}                                                     \
		return real args;                                     \
	}

FORWARD(gss_indicate_mechs, (OM_uint32 *minor, void **mechs), (minor, mechs))
FORWARD(gss_import_name, (OM_uint32 *minor, void *input, void *type, void **out), (minor, input, type, out))
FORWARD(gss_init_sec_context,
	(OM_uint32 *minor, void *cred, void **ctx, void *target, void *mech, OM_uint32 req_flags,
	 OM_uint32 time_req, void *bindings, void *input, void **actual_mech, void *output, OM_uint32 *ret_flags,
	 OM_uint32 *time_rec),
	(minor, cred, ctx, target, mech, req_flags, time_req, bindings, input, actual_mech, output, ret_flags,
	 time_rec))
FORWARD(gss_delete_sec_context, (OM_uint32 *minor, void **ctx, void *output), (minor, ctx, output))
FORWARD(gss_display_status,
	(OM_uint32 *minor, OM_uint32 status, int type, void *mech, OM_uint32 *msg_ctx, void *out),
	(minor, status, type, mech, msg_ctx, out))
FORWARD(gss_release_buffer, (OM_uint32 *minor, void *buf), (minor, buf))
FORWARD(gss_release_name, (OM_uint32 *minor, void **name), (minor, name))
FORWARD(gss_release_oid_set, (OM_uint32 *minor, void **set), (minor, set))
#endif
