/* agent_metrics.h: the agent's Prometheus text endpoint (--metrics-listen HOST:PORT): GET
 * /metrics on a listener of its own, one thread with a blocking socket, one request at a
 * time (a request head is at most AGENT_METRICS_HEAD_MAX bytes and must arrive within 1 s). */
#ifndef BM_LIVE_AGENT_METRICS_H
#define BM_LIVE_AGENT_METRICS_H

#include <pthread.h>
#include <stdint.h>

#include "agent.h"

typedef struct {
	pthread_mutex_t mu;
	const agent_config *c;
	const char *id;
	char state[32];                 /* the state last reported ("" none yet) */
	char committed[AGENT_NAME_MAX];
	uint64_t seq;                   /* the channel entry last read */
	uint64_t rounds, downloads_ok, downloads_failed, download_bytes, rollbacks, reports_sent, reports_failed;
	int64_t meta_read_ms;           /* unix ms of the last successful read of the channel (0 never) */
	int fd;                         /* the listening socket, -1 none */
	int running;
	volatile int *stop;
	pthread_t thread;
} agent_metrics;

/* Zero the counters (no listener). */
void agent_metrics_init(agent_metrics *m, const agent_config *c, const char *id, volatile int *stop);
/* Listen on `addr` ("HOST:PORT", "[V6]:PORT" or ":PORT" for 127.0.0.1) and serve from a
 * thread until *stop. 0, or -1 with bm_error set. */
int agent_metrics_start(agent_metrics *m, const char *addr);
void agent_metrics_stop(agent_metrics *m);
/* The page (text exposition format 0.0.4). */
int agent_metrics_render(bm_buf *out, agent_metrics *m);

/* Updates from the agent's loop (lock held inside). */
void agent_metrics_add(agent_metrics *m, uint64_t *counter, uint64_t n);
void agent_metrics_state(agent_metrics *m, const char *state);
void agent_metrics_committed(agent_metrics *m, const char *release);
void agent_metrics_read(agent_metrics *m, uint64_t seq);

#endif
