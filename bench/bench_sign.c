/* bench_sign.c: in-process minisign verifications per second (key parsed once, signature
 * text parsed each time, as an agent checking many binaries would), and SSH signature
 * verifications per second. Usage: bench_sign [message bytes] [seconds]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootmeta.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t size = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1024;
	double secs = argc > 2 ? atof(argv[2]) : 1.0, t0, dt;
	bm_buf pub = BM_BUF_INIT, sec = BM_BUF_INIT, sig = BM_BUF_INIT;
	bm_minisign_pubkey pk;
	unsigned char *msg = malloc(size ? size : 1);
	unsigned long n;
	size_t i;

	if (!msg || bm_global_init() < 0)
		return 1;
	for (i = 0; i < size; i++)
		msg[i] = (unsigned char)(i * 31);
	if (bm_minisign_keygen(&pub, &sec, NULL) < 0 || bm_minisign_pubkey_parse(&pk, pub.ptr) < 0 ||
	    bm_minisign_sign(&sig, msg, size, sec.ptr, NULL, "bench", NULL) < 0) {
		fprintf(stderr, "bench_sign: %s\n", bm_error_last());
		return 1;
	}
	t0 = now();
	for (n = 0; (dt = now() - t0) < secs; n++) {
		if (bm_minisign_verify_key(NULL, sig.ptr, msg, size, &pk, 1) != 0) {
			fprintf(stderr, "bench_sign: %s\n", bm_error_last());
			return 1;
		}
	}
	printf("in-process minisign verify (%zu-byte message): %.0f verifications/s\n", size, (double)n / dt);
	{
		bm_sshsig_key *key = NULL;
		bm_buf ssig = BM_BUF_INIT, spub = BM_BUF_INIT, allowed = BM_BUF_INIT;
		const char *dir = getenv("BM_SRCDIR");
		char path[4096];
		snprintf(path, sizeof(path), "%s/tests/data/sign/id_ed25519", dir ? dir : ".");
		if (bm_sshsig_key_load(&key, path) == 0 && bm_sshsig_sign(&ssig, msg, size, key, "git") == 0 &&
		    bm_sshsig_key_public(&spub, key) == 0 && bm_buf_printf(&allowed, "a@b %s\n", spub.ptr) == 0) {
			t0 = now();
			for (n = 0; (dt = now() - t0) < secs; n++)
				if (bm_sshsig_verify(ssig.ptr, msg, size, allowed.ptr, NULL) != 0)
					return 1;
			printf("in-process ssh signature verify (%zu-byte message): %.0f verifications/s\n", size, (double)n / dt);
		}
		bm_sshsig_key_free(key);
		bm_buf_dispose(&ssig);
		bm_buf_dispose(&spub);
		bm_buf_dispose(&allowed);
	}
	bm_buf_dispose(&pub);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&sig);
	free(msg);
	bm_global_shutdown();
	return 0;
}
