/* serve_log.h: the one-line logs and clocks of serve_log.c, for the programs without the
 * HTTP server (bootmeta-agent includes this, not serve.h, so it needs no libmicrohttpd). */
#ifndef BM_LIVE_SERVE_LOG_H
#define BM_LIVE_SERVE_LOG_H

#include <stdint.h>

#include "bootmeta.h"

/* one line each, key=value, on stderr */
void serve_log(const char *level, const char *msg, const char *fmt, ...) BM_PRINTF(3, 4);
int64_t serve_now_ms(void);
/* monotonic, for durations and deadlines */
int64_t serve_mono_us(void);

#endif
