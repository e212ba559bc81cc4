/* cli_env.c: the one place the CLI reads the environment for the library (see cli_env.h).
 * A program that embeds libbootmeta (a server, an agent) is steered by the options it
 * passes, never by the variables of the process it runs in. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli_env.h"

/* A variable's value, NULL when unset or empty. */
static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* $XDG_<kind>_HOME/bootmeta/<rest> (an absolute XDG path only), else $HOME/<dot>/bootmeta/<rest>. */
static int xdg_path(bm_buf *out, const char *xdg_var, const char *home_dot, const char *rest)
{
	const char *xdg = env(xdg_var), *home = env("HOME");
	bm_buf_clear(out);
	if (xdg && xdg[0] == '/')
		return bm_buf_printf(out, "%s/bootmeta/%s", xdg, rest);
	if (!home)
		return BM_ENOTFOUND;
	return bm_buf_printf(out, "%s/%s/bootmeta/%s", home, home_dot, rest);
}

int cli_env_identity_default(bm_buf *out)
{
	int error = xdg_path(out, "XDG_CONFIG_HOME", ".config", "identity");
	if (error == BM_ENOTFOUND)
		return bm_error_set(BM_ENOTFOUND, "$HOME is not set, so there is no default identity file; "
				    "pass --identity FILE or set BOOTMETA_IDENTITY");
	return error;
}

static int truthy(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

void cli_env_defaults(bm_cli *cli)
{
	if (!cli->repo)
		cli->repo = env("BOOTMETA_REPO");
	if (cli->repo && !*cli->repo)
		cli->repo = NULL; /* --repo "": discovery */
	if (!cli->env)
		cli->env = env("BOOTMETA_ENV");
	if (!cli->actor)
		cli->actor = env("BOOTMETA_ACTOR");
	if (!cli->identity)
		cli->identity = env("BOOTMETA_IDENTITY");
	/* raise only: a requirement from git config or --require-signed stays whatever this says */
	if (truthy(getenv("BOOTMETA_REQUIRE_SIGNED")))
		cli->require_signed = 1;
}

const char *cli_env_identity(const bm_cli *cli, bm_buf *def)
{
	if (cli->identity && *cli->identity)
		return cli->identity;
	if (cli_env_identity_default(def) == 0)
		return def->ptr;
	bm_error_clear();
	return NULL;
}

void cli_env_store_options(bm_store_open_options *o, bm_buf *cache, const bm_cli *cli)
{
	bm_store_open_options init = BM_STORE_OPEN_OPTIONS_INIT;
	*o = init;
	if (xdg_path(cache, "XDG_CACHE_HOME", ".cache", "repos") == 0)
		o->cache_dir = cache->ptr;
	o->signing_key = env("BOOTMETA_SIGNING_KEY");
	o->allowed_signers = env("BOOTMETA_ALLOWED_SIGNERS");
	o->actor = cli->actor;
	o->require_signed = cli->require_signed;
	o->ssh_key = env("BOOTMETA_SSH_KEY");
	o->ssh_known_hosts = cli_env_known_hosts();
}

const char *cli_env_known_hosts(void)
{
	static bm_buf def = BM_BUF_INIT; /* the process's one default, kept to the end */
	const char *home = env("HOME");
	if (env("BOOTMETA_SSH_KNOWN_HOSTS"))
		return env("BOOTMETA_SSH_KNOWN_HOSTS");
	if (!def.size && home && bm_buf_printf(&def, "%s/.ssh/known_hosts", home) < 0) {
		bm_error_clear();
		return NULL;
	}
	return def.size ? def.ptr : NULL;
}

int cli_env_trusted_keys_load(bm_trusted_keys *out, bm_fs *fs, const char *const *files, size_t nfiles)
{
	bm_buf def = BM_BUF_INIT;
	const char *pinned = env("BOOTMETA_TRUSTED_KEYS"), *one[1];
	struct stat st;
	int error;

	if (nfiles)
		return bm_trusted_keys_load(out, fs, files, nfiles);
	if (!pinned && xdg_path(&def, "XDG_CONFIG_HOME", ".config", "trusted_keys") == 0 && stat(def.ptr, &st) == 0)
		pinned = def.ptr;
	one[0] = pinned;
	error = bm_trusted_keys_load(out, fs, one, pinned ? 1 : 0); /* $BOOTMETA_TRUSTED_KEYS must exist */
	bm_buf_dispose(&def);
	return error;
}
