/* fuzz_age_identity.c: age identity files and recipients as text: bm_age_identities_add_text
 * (AGE-SECRET-KEY-1... lines, '#' comments, blank lines), bm_age_recipient_of,
 * bm_secret_identity_recipient (the recipient of an identity file, for `recipients add --me`)
 * and the two recipient checks (bm_age_recipient_check in age.c, bm_recipient_validate in
 * secret.c, two Bech32 decoders).
 *
 * Invariants: an identity text that loads adds one identity per key line and nothing when it
 * does not load (also on top of an identity already held); the recipient of each identity
 * passes both recipient checks, and a file encrypted to it decrypts with the identities; the
 * recipient bm_secret_identity_recipient names is the first identity's. The recipient checks
 * agree: what secret.c accepts age.c accepts and can encrypt to, and what age.c accepts in
 * the canonical form (lower case, no white space) secret.c accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_identity[] = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

/* The key lines of an identity text, as bm_age_identities_add_text documents them: each line
 * trimmed of ASCII white space, empty ones and those starting with '#' skipped. The first one
 * goes to `first` (NUL-terminated). */
static size_t key_lines(const char *text, char *first, size_t cap)
{
	const char *p = text;
	size_t count = 0;
	first[0] = '\0';
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *s = p;
		while (n && (*s == ' ' || *s == '\t' || *s == '\r')) {
			s++;
			n--;
		}
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
			n--;
		if (n && *s != '#') {
			if (!count++ && n < cap) {
				memcpy(first, s, n);
				first[n] = '\0';
			}
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	return count;
}

static void check_recipient_text(const char *r)
{
	int a = bm_age_recipient_check(r), b = bm_recipient_validate(r);
	size_t i, n = strlen(r);
	int canonical = n == 62;
	bm_buf ct = BM_BUF_INIT;

	for (i = 0; i < n && canonical; i++)
		canonical = r[i] > ' ' && r[i] <= '~' && !(r[i] >= 'A' && r[i] <= 'Z');
	if (b == 0 && a != 0)
		abort(); /* secret.c lets in a recipient age.c cannot encrypt to */
	if (a == 0 && canonical && b != 0)
		abort(); /* age.c takes a canonical recipient secret.c refuses */
	if (a == 0) {
		const char *rs[1];
		rs[0] = r;
		if (bm_age_encrypt_buf(&ct, "x", 1, rs, 1, 0) < 0)
			abort();
	}
	bm_buf_dispose(&ct);
}

static void check_identities(const char *text)
{
	bm_age_identities *ids = NULL, *two = NULL;
	bm_buf r = BM_BUF_INIT, r2 = BM_BUF_INIT, ct = BM_BUF_INIT, pt = BM_BUF_INIT;
	char first[256];
	size_t lines = key_lines(text, first, sizeof(first));
	int rc, rc2;

	if (bm_age_identities_new(&ids) < 0 || bm_age_identities_new(&two) < 0 ||
	    bm_age_identities_add_text(two, fixed_identity) < 0)
		abort();
	rc = bm_age_identities_add_text(ids, text);
	rc2 = bm_age_identities_add_text(two, text);
	if ((rc == 0) != (rc2 == 0))
		abort(); /* what is held already does not change what loads */
	if (rc < 0) {
		if (rc != BM_EINVALID && rc != BM_EUNSUPPORTED && rc != BM_ENOMEM)
			abort();
		if (bm_age_identities_count(ids) != 0 || bm_age_identities_count(two) != 1)
			abort(); /* nothing added on error */
		goto done;
	}
	if (!lines || bm_age_identities_count(ids) != lines || bm_age_identities_count(two) != lines + 1)
		abort();
	if (strlen(first) >= sizeof(first) - 1)
		abort(); /* an identity line is short */
	/* the first identity: its recipient, and a round trip through it */
	if (bm_age_recipient_of(&r, first) < 0 || r.size != 62 || strncmp(r.ptr, "age1", 4))
		abort();
	check_recipient_text(r.ptr);
	if (bm_recipient_validate(r.ptr) != 0)
		abort();
	{
		const char *rs[1];
		rs[0] = r.ptr;
		if (bm_age_encrypt_buf(&ct, "secret", 6, rs, 1, 0) < 0 ||
		    bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size, two, NULL) < 0 || pt.size != 6 ||
		    memcmp(pt.ptr, "secret", 6))
			abort();
	}
	/* `recipients add --me` adds the recipient of the identity the file holds first */
	if (bm_secret_identity_recipient(&r2, text) < 0 || strcmp(r2.ptr, r.ptr))
		abort();
done:
	bm_buf_dispose(&r);
	bm_buf_dispose(&r2);
	bm_buf_dispose(&ct);
	bm_buf_dispose_secret(&pt);
	bm_age_identities_free(ids);
	bm_age_identities_free(two);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	bm_buf r = BM_BUF_INIT;
	char *text;

	if (!initialised) {
		if (bm_global_init() < 0)
			abort();
		initialised = 1;
	}
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_identities(text);
	check_recipient_text(text);
	/* one identity string (white space around it allowed): its recipient passes both checks */
	if (bm_age_recipient_of(&r, text) == 0 && (bm_recipient_validate(r.ptr) != 0 || bm_age_recipient_check(r.ptr) != 0))
		abort();
	bm_buf_dispose(&r);
	bm_error_clear();
	free(text);
	return 0;
}
