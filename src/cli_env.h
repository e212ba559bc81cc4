/* cli_env.h: the environment variables bootmeta(1) documents, read in one place (cli_env.c)
 * and handed to the library as explicit options: the library itself reads none. */
#ifndef BM_CLI_ENV_H
#define BM_CLI_ENV_H

#include "cli.h"

/* Fill what the command line left unset from the environment: --repo ($BOOTMETA_REPO),
 * --env ($BOOTMETA_ENV), --identity ($BOOTMETA_IDENTITY),
 * --actor ($BOOTMETA_ACTOR); $BOOTMETA_REQUIRE_SIGNED=1 (or true/yes/on) turns the
 * requirement on. No value of it turns a requirement off. */
void cli_env_defaults(bm_cli *cli);
/* The store options of this invocation: the cache for remote repos, the signing key, the
 * allowed signers, the actor, the signed-commit requirement, and for ssh remotes the key
 * ($BOOTMETA_SSH_KEY, else the ssh-agent) and known_hosts file (cli_env_known_hosts). The strings point into the
 * environment or `cli`, or into `cache` (kept by the caller until the store is opened). */
void cli_env_store_options(bm_store_open_options *o, bm_buf *cache, const bm_cli *cli);
/* The known_hosts file ssh host keys are checked against: $BOOTMETA_SSH_KNOWN_HOSTS, else
 * $HOME/.ssh/known_hosts; NULL when neither is set (every ssh remote is then refused). */
const char *cli_env_known_hosts(void);
/* The identity file to read: --identity / $BOOTMETA_IDENTITY (cli->identity), else the
 * default below (written into `def`), else NULL. */
const char *cli_env_identity(const bm_cli *cli, bm_buf *def);
/* The default age identity file: $XDG_CONFIG_HOME/bootmeta/identity, else
 * $HOME/.config/bootmeta/identity. 0, or BM_ENOTFOUND when neither is set. */
int cli_env_identity_default(bm_buf *out);
/* bm_trusted_keys_load with the CLI's default pinned file when no `files` are given:
 * $BOOTMETA_TRUSTED_KEYS (which must exist), else $XDG_CONFIG_HOME/bootmeta/trusted_keys or
 * ~/.config/bootmeta/trusted_keys when that exists; else the view's keys/signers. */
int cli_env_trusted_keys_load(bm_trusted_keys *out, bm_fs *fs, const char *const *files, size_t nfiles);

#endif
