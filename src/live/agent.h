/* agent.h: the parts of `bootmeta agent` (agent.c: options, the loop, the view of the
 * channel, reports; agent_host.c: what it does on the host: install, switch, run, health). */
#ifndef BM_LIVE_AGENT_H
#define BM_LIVE_AGENT_H

#include <stdint.h>
#include <sys/types.h>

#include "bootmeta.h"

#define AGENT_NAME_MAX 256

typedef struct {
	/* what the agent follows and where it installs */
	const char *project, *channel, *env, *dir, *id, *os, *arch;
	const char *server;      /* --server URL, or NULL: the local clone (--repo) */
	const char *exec_cmd;    /* --exec: the agent runs and supervises it */
	const char *unit;        /* --systemd-unit: systemctl restart */
	const char *health_url, *health_cmd;
	int64_t health_timeout_ms, bake_ms, poll_ms, download_timeout_ms, stall_timeout_ms, stop_timeout_ms;
	int once;
	unsigned host_retries;              /* --host-retries */
} agent_config;

/* What the agent keeps between runs (DIR/.agent/state.json), written after each decision. */
typedef struct {
	uint64_t verified_seq;              /* the highest channel entry whose binary verified */
	char committed[AGENT_NAME_MAX];     /* the release that was last healthy ("" none) */
	char attempt[AGENT_NAME_MAX];       /* the release `current` was switched to, not yet healthy */
	uint64_t failed_seq;                /* the entry whose release failed its health gate */
	char failed_release[AGENT_NAME_MAX];
	unsigned host_tries;                /* rounds in a row it failed with the release before it */
} agent_state;

/* The app the agent runs (--exec). */
typedef struct {
	pid_t pid;            /* 0: not running */
	int exited;           /* it ended by itself; status in `status` */
	int status;
} agent_child;

/* ---- agent_host.c ---- */
/* DIR/releases/<release>/<name>, and the name a binary gets (its URL's last part, else the
 * project's last part). */
int agent_release_path(bm_buf *out, const agent_config *c, const char *release, const Bootmeta__V1__Binary *b);
/* Point DIR/current at releases/<release> (symlink to a temp name, rename, fsync DIR);
 * release NULL removes it. */
int agent_switch(const agent_config *c, const char *release);
/* The release DIR/current points at ("" when none). */
int agent_current(char out[AGENT_NAME_MAX], const agent_config *c);
/* Start the app (--exec) in DIR/current, or restart the unit; stop it. */
int agent_start(agent_child *ch, const agent_config *c, const char *release);
void agent_stop(agent_child *ch, const agent_config *c);
/* Reap the child if it ended; 1 when it is not running (any more). */
int agent_child_gone(agent_child *ch);
/* The health gate: healthy within the timeout, then for the whole bake time; 0 when it
 * passed, else -1 with the reason in `why`. `stop` is polled (SIGTERM). */
int agent_health_gate(bm_buf *why, agent_child *ch, const agent_config *c, volatile int *stop);
/* State file I/O (0 / -1 with bm_error set). */
int agent_state_load(agent_state *s, const agent_config *c);
int agent_state_save(const agent_state *s, const agent_config *c);
/* fsync the folder `path` is in. */
int agent_fsync_parent(const char *path);
/* mkdir -p (0755). */
int agent_mkdir_p(const char *path);

void agent_log(const char *level, const char *msg, const char *fmt, ...) BM_PRINTF(3, 4);

#endif
