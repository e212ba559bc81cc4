/* fuzz_minisig.c: the minisign parsers. The input is tried as a .minisig (against a fixed
 * key and message, so the seed signature reaches the verification paths), as a public key
 * and as a secret key file (no password: encrypted keys stop before scrypt). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_pub[] =
	"untrusted comment: minisign public key 32D76E7EA68F9D53\n"
	"RWRTnY+mfm7XMtxIqS/9PlTU+GzrAQTU/z1mpnawc0vvk8nsY+ZYlj2z\n";
static const char message[] = "hello, bootmeta\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	bm_minisign_result res = BM_MINISIGN_RESULT_INIT;
	bm_minisign_pubkey pk, fixed;
	bm_minisign_seckey *sk = NULL;
	const char *keys[2];
	char *text;
	int rc;

	if (!initialised) {
		if (bm_global_init() < 0)
			abort();
		initialised = 1;
	}
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	keys[0] = fixed_pub;
	rc = bm_minisign_verify(&res, text, message, sizeof(message) - 1, keys, 1);
	if (rc == 0 && res.trusted_comment.ptr == NULL)
		abort();
	if (bm_minisign_pubkey_parse(&fixed, fixed_pub) < 0)
		abort();
	rc = bm_minisign_verify_key(NULL, text, data, size, &fixed, 1);
	(void)rc;

	if (bm_minisign_pubkey_parse(&pk, text) == 0) {
		bm_buf out = BM_BUF_INIT;
		bm_minisign_pubkey again;
		if (bm_minisign_pubkey_format(&out, &pk) < 0 || bm_minisign_pubkey_parse(&again, out.ptr) < 0 ||
		    memcmp(&again, &pk, sizeof(pk)) != 0)
			abort(); /* what we parse, we write back the same */
		bm_buf_dispose(&out);
		keys[1] = text;
		rc = bm_minisign_verify(NULL, text, message, sizeof(message) - 1, keys, 2);
		(void)rc;
	}
	rc = bm_minisign_seckey_is_encrypted(text);
	(void)rc;
	if (bm_minisign_seckey_load(&sk, text, NULL) == 0) {
		bm_buf sig = BM_BUF_INIT;
		bm_minisign_pubkey from;
		bm_minisign_seckey_pubkey(&from, sk);
		if (bm_minisign_sign_with(&sig, sk, data, size, "t", NULL, 0) < 0 ||
		    bm_minisign_verify_key(NULL, sig.ptr, data, size, &from, 1) != 0)
			abort(); /* a key that loads signs what it verifies */
		bm_buf_dispose(&sig);
		bm_minisign_seckey_free(sk);
	}
	bm_minisign_result_dispose(&res);
	free(text);
	return 0;
}
