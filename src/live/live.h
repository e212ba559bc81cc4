/* live.h: the commands of bootmeta-live, the program that runs the long-running side of
 * bootmeta (`bootmeta serve`, `watch`, `follow`); `bootmeta` runs it for those commands. */
#ifndef BM_LIVE_H
#define BM_LIVE_H

#include "cli.h"

int live_serve(bm_cli *cli, int argc, char **argv);
int live_watch(bm_cli *cli, int argc, char **argv);
int live_follow(bm_cli *cli, int argc, char **argv);
int live_agent(bm_cli *cli, int argc, char **argv);
/* bootmeta-agent's transfers that need libcurl (agent_io.c; not a user command) */
int live_agent_io(bm_cli *cli, int argc, char **argv);
/* Open the meta repo the way the CLI does (--repo, $BOOTMETA_REPO, discovery). */
int live_open(bm_store **out, bm_cli *cli);
/* A decimal option value from 0 to `max`: digits only (no sign, no space, no suffix).
 * 0, or -1 (the caller says what to give). */
int live_parse_uint(unsigned long long *out, const char *s, unsigned long long max);
/* Clone `url` into `path` with the CLI's policy (ssh key, known_hosts ...). */
int live_clone(bm_store **out, bm_cli *cli, const char *url, const char *path);

#endif
