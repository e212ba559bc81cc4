/* fuzz_sshsig.c: the SSH signature parsers. The input is tried as an armored signature
 * (against a fixed allowed signer and message, so the seed reaches verification), as an
 * allowed-signers text (against a fixed valid signature), as a raw commit object with a
 * gpgsig header, and as an OpenSSH private key file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char allowed[] =
	"signer@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ+/iwu5IAVEfUBsx8S+5DmijhV1aUgahPaEx5dp99HT\n";
static const char fixed_sig[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgn7+LC7kgBUR9QGzHxL7kOaKOFX\n"
	"VpSBqE9oTHl2n30dMAAAADZ2l0AAAAAAAAAAZzaGE1MTIAAABTAAAAC3NzaC1lZDI1NTE5\n"
	"AAAAQG1auo2hqiV4SOqnbwE9If4ZtjMree6+KyafaXfxU3dsJnPf9Ot8ePCYgsfouyr2k1\n"
	"WRyedq31wq1vFEoJFb2Ac=\n"
	"-----END SSH SIGNATURE-----\n";
static const char message[] = "hello, bootmeta\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	bm_buf principal = BM_BUF_INIT;
	bm_sshsig_key *key = NULL;
	char *text;
	int rc;

	if (!initialised) {
		if (bm_global_init() < 0)
			abort();
		/* the fixed signature must verify, or the targets below test nothing */
		if (bm_sshsig_verify(fixed_sig, message, sizeof(message) - 1, allowed, NULL) != 0)
			abort();
		initialised = 1;
	}
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	rc = bm_sshsig_verify(text, message, sizeof(message) - 1, allowed, &principal);
	(void)rc;
	rc = bm_sshsig_verify_ns(text, data, size, "file", allowed, NULL);
	(void)rc;
	rc = bm_sshsig_verify(fixed_sig, message, sizeof(message) - 1, text, &principal);
	(void)rc;
	rc = bm_sshsig_verify_commit(text, size, allowed, NULL);
	(void)rc;
	if (bm_sshsig_key_parse(&key, (const char *)data, size) == 0) {
		bm_buf sig = BM_BUF_INIT, pub = BM_BUF_INIT, allow = BM_BUF_INIT;
		if (bm_sshsig_sign(&sig, data, size, key, "git") < 0 || bm_sshsig_key_public(&pub, key) < 0 ||
		    bm_buf_printf(&allow, "x %s\n", pub.ptr) < 0 ||
		    bm_sshsig_verify(sig.ptr, data, size, allow.ptr, NULL) != 0)
			abort(); /* a key that loads signs what it verifies */
		bm_buf_dispose(&sig);
		bm_buf_dispose(&pub);
		bm_buf_dispose(&allow);
		bm_sshsig_key_free(key);
	}
	bm_buf_dispose(&principal);
	free(text);
	return 0;
}
