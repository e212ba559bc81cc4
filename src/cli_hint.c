/* cli_hint.c: the CLI's hints for library errors, by code and subject (see cli_hint.h). A
 * hint names bootmeta's commands and flags, which the library cannot know: a server that
 * embeds it shows its own advice, or none. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_env.h"
#include "cli_hint.h"

/* `%s` in a hint (at most one) is replaced by the subject's name. */
static const struct {
	int code; /* 0: any code */
	bm_error_about about;
	const char *hint;
} hints[] = {
	{ BM_ENOTFOUND, BM_ABOUT_PROJECT, "add it with `bootmeta project add %s`, or see `bootmeta project list`" },
	{ BM_ENOTFOUND, BM_ABOUT_RELEASE, "record it with `bootmeta release add`, or see `bootmeta release list %s`" },
	{ BM_ENOTFOUND, BM_ABOUT_ENV, "add it with `bootmeta env add %s`" },
	{ BM_EINVALID, BM_ABOUT_ACTOR, "set --actor or BOOTMETA_ACTOR to \"Name <email>\"" },
	{ BM_EINVALID, BM_ABOUT_DIRTY_SOURCE, "commit them, or pass --allow-dirty" },
	{ BM_ENOTFOUND, BM_ABOUT_ALLOWED_SIGNERS, "set BOOTMETA_ALLOWED_SIGNERS or git config "
						  "bootmeta.allowedSignersFile to a file in git's allowed-signers format" },
	{ BM_ENOTFOUND, BM_ABOUT_IDENTITY, "make one with `bootmeta key gen --age`, or pass --identity FILE / set "
					   "BOOTMETA_IDENTITY" },
	{ BM_EINVALID, BM_ABOUT_IDENTITY, "pass --identity FILE or set BOOTMETA_IDENTITY" },
	{ 0, BM_ABOUT_RECORD, "see `bootmeta log %s`" },
};

const char *cli_error_text(void)
{
	static _Thread_local char text[2048];
	const char *name, *msg = bm_error_last();
	bm_error_about about = bm_error_last_about(&name);
	int code = bm_error_last_code();
	size_t i, n;

	snprintf(text, sizeof(text), "%s", msg ? msg : "");
	n = strlen(text);
	if (about == BM_ABOUT_SSH_HOST_UNKNOWN || about == BM_ABOUT_SSH_HOST_CHANGED) {
		/* name: "host" (port 22) or "[host]:port" */
		char host[300], port[16] = "";
		const char *kh = cli_env_known_hosts(), *close = strchr(name, ']');
		if (name[0] == '[' && close && close[1] == ':') {
			snprintf(host, sizeof(host), "%.*s", (int)(close - name - 1), name + 1);
			snprintf(port, sizeof(port), "-p %.6s ", close + 2);
		} else {
			snprintf(host, sizeof(host), "%s", name);
		}
		if (about == BM_ABOUT_SSH_HOST_CHANGED)
			snprintf(text + n, sizeof(text) - n, "; if the server's key really was replaced, check the new "
				 "fingerprint with its admin, then remove the old line (`ssh-keygen -R '%s' -f %s`) and "
				 "add the new one (`ssh-keyscan %s%s >> %s`)", name, kh ? kh : "FILE", port, host,
				 kh ? kh : "FILE");
		else
			snprintf(text + n, sizeof(text) - n, "; check the fingerprint with the server's admin (`ssh-keygen "
				 "-lf` of its host key), then add it: `ssh-keyscan %s%s >> %s`", port, host,
				 kh ? kh : "~/.ssh/known_hosts");
		return text;
	}
	if (about == BM_ABOUT_REPO) {
		/* a path that does not exist, or nothing found upward from the current folder */
		if (code == BM_ENOTFOUND && *name)
			snprintf(text + n, sizeof(text) - n, "; create one with `bootmeta init %s`", name);
		else if (code == BM_ENOTFOUND)
			snprintf(text + n, sizeof(text) - n, "; pass --repo PATH, set BOOTMETA_REPO, or create one "
				 "with `bootmeta init PATH`");
		return text;
	}
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		if (hints[i].about != about || (hints[i].code && hints[i].code != code))
			continue;
		{
			const char *at = strstr(hints[i].hint, "%s");
			if (at)
				n += (size_t)snprintf(text + n, sizeof(text) - n, "; %.*s%s%s", (int)(at - hints[i].hint),
						      hints[i].hint, name, at + 2);
			else
				n += (size_t)snprintf(text + n, sizeof(text) - n, "; %s", hints[i].hint);
		}
		if (about == BM_ABOUT_ENV && !strncmp(name, "dev/", 4) && n < sizeof(text))
			snprintf(text + n, sizeof(text) - n, " or `bootmeta dev init USER`");
		break;
	}
	return text;
}
