/* fuzz_agent_view.c: the agent's reading of serve's binary answer (src/agent_view.c), the
 * JSON a host takes from the network before it downloads anything. Invariants: 0 with a
 * sequence number >= 1, a valid release name, a binary whose sha256 is 64 hex digits and
 * whose record is in the memory view at its path, a timestamp's two strings both there or
 * both empty and NUL-terminated in their arrays; or a negative code with a message and
 * nothing left allocated (LeakSanitizer checks). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	agent_view v;
	int rc = agent_view_parse(&v, (const char *)data, size);
	if (rc == 0) {
		bm_buf p = BM_BUF_INIT;
		if (!v.seq || bm_name_validate(v.release, BM_NAME_RELEASE) < 0 || !v.binary ||
		    bm_sha256_check(v.binary->sha256) < 0 || bm_path_binary(&p, v.binary->sha256) < 0 ||
		    bm_fs_exists(v.fs, p.ptr) != 1 || !*v.ts_statement != !*v.ts_signature ||
		    strnlen(v.ts_statement, sizeof(v.ts_statement)) == sizeof(v.ts_statement) ||
		    strnlen(v.ts_signature, sizeof(v.ts_signature)) == sizeof(v.ts_signature))
			abort();
		bm_buf_dispose(&p);
		agent_view_dispose(&v);
	} else if (rc > 0 || !bm_error_last() || v.binary || v.fs) {
		abort();
	}
	bm_error_clear();
	return 0;
}
