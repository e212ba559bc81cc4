/* fuzz_agent_wire.c: what bootmeta-agent reads from the network without libcurl
 * (src/agent_wire.c). The first byte picks the parser: 0 a URL (agent_url_parse), 1 an HTTP
 * answer (agent_http_answer), else a request head of the /metrics listener
 * (agent_metrics_request). Invariants: a URL that parses has a host without spaces or
 * control characters, a port in 1..65535 and a target that starts with '/'; an answer that
 * parses has a final status and a body of at most `max` bytes, one that does not has a
 * message; a request head gives 0 only while it is shorter than AGENT_METRICS_HEAD_MAX, else
 * one of the statuses agent_wire.h names, and 200 only with a path that starts with '/', has
 * no '?' and fits. Nothing is left allocated (LeakSanitizer checks). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	if (!size)
		return 0;
	if (data[0] == 0) {
		char *s = malloc(n + 1);
		agent_url u;
		if (!s)
			return 0;
		memcpy(s, p, n);
		s[n] = '\0';
		if (agent_url_parse(&u, s) == 0) {
			long port = strtol(u.port, NULL, 10);
			if (!u.host[0] || port < 1 || port > 65535 || u.target[0] != '/')
				abort();
			for (const char *c = u.host; *c; c++)
				if ((unsigned char)*c <= ' ' || *c == '\x7f')
					abort();
		} else if (!bm_error_last()) {
			abort();
		}
		free(s);
	} else if (data[0] == 1) {
		bm_buf body = BM_BUF_INIT;
		long status;
		size_t max = 1024;
		if (agent_http_answer(&status, &body, p, n, max) == 0) {
			if (status < 200 || status > 999 || body.size > max)
				abort();
		} else if (!bm_error_last()) {
			abort();
		}
		bm_buf_dispose(&body);
	} else {
		char path[256];
		int head, st = agent_metrics_request(path, &head, p, n);
		if (st == 0) {
			if (n >= AGENT_METRICS_HEAD_MAX)
				abort();
		} else if (st == 200) {
			if (path[0] != '/' || strchr(path, '?') || strlen(path) >= sizeof(path))
				abort();
		} else if (st != 400 && st != 405 && st != 414 && st != 431 && st != 505) {
			abort();
		}
	}
	bm_error_clear();
	return 0;
}
