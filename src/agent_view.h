/* agent_view.h: the agent's reading of serve's answer to GET
 * /v1/projects/P/channels/C/binary?os=&arch= (outside input: fuzz_agent_view). */
#ifndef BM_AGENT_VIEW_H
#define BM_AGENT_VIEW_H

#include "bootmeta.h"

#define AGENT_VIEW_NAME_MAX 256
#define AGENT_VIEW_TS_MAX 1024

typedef struct {
	uint64_t seq;
	char release[AGENT_VIEW_NAME_MAX];
	char meta[65];                 /* the meta commit the answer was read at ("" unknown) */
	Bootmeta__V1__Binary *binary;
	bm_fs *fs;                     /* a memory view with the binary's record and signatures,
					* at their paths, for bm_binary_verify */
	char ts_statement[AGENT_VIEW_TS_MAX]; /* "timestamp" (serve --timestamp-key): "" none; NOT */
	char ts_signature[AGENT_VIEW_TS_MAX]; /* verified here (agent.c checks it) */
} agent_view;

/* Parse `json` (`len` bytes) into `v` (zeroed first). 0, or BM_EINVALID / BM_ENOMEM with a
 * message naming what is wrong. The records are checked as any record is (bm_pbjson_read);
 * signatures that do not decode are left out (verification then says unsigned). On success
 * the binary's path names its sha256. A "timestamp" that is there must be an object of two
 * strings (statement, signature) that fit; it is copied, not checked. */
int agent_view_parse(agent_view *v, const char *json, size_t len);
void agent_view_dispose(agent_view *v);

#endif
