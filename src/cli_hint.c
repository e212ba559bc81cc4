/* cli_hint.c: the CLI's hints for library errors, by code and subject (see cli_hint.h). A
 * hint names bootmeta's commands and flags, which the library cannot know: a server that
 * embeds it shows its own advice, or none. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_env.h"
#include "cli_hint.h"

/* How a hint joins the library's message: appended, or put inside the message's closing
 * parenthesis ("(nothing to unset)" -> "(nothing to unset; see ...)"). Each `%s` of a
 * hint is replaced by the subject's name (its words, for a name such as "PROJECT ENV"). */
enum { AT_END = 0, INSIDE };

static const struct {
	int code; /* 0: any code */
	bm_error_about about;
	int where;
	const char *hint;
} hints[] = {
	{ BM_ENOTFOUND, BM_ABOUT_PROJECT, AT_END, "; add it with `bootmeta project add %s`, or see `bootmeta project list`" },
	{ BM_EEXISTS, BM_ABOUT_PROJECT, AT_END, " (see `bootmeta project show %s`)" },
	{ BM_ENOTFOUND, BM_ABOUT_RELEASE, AT_END, "; record it with `bootmeta release add`, or see `bootmeta release list %s`" },
	{ BM_EEXISTS, BM_ABOUT_RELEASE, AT_END, ": give a new --id" },
	{ BM_ENOTFOUND, BM_ABOUT_ENV, AT_END, "; add it with `bootmeta env add %s`" },
	{ BM_EEXISTS, BM_ABOUT_ENV, INSIDE, "; see `bootmeta env show %s`" },
	{ BM_EINVALID, BM_ABOUT_ACTOR, AT_END, "; set --actor or BOOTMETA_ACTOR to \"Name <email>\"" },
	{ BM_EINVALID, BM_ABOUT_DIRTY_SOURCE, AT_END, "; commit them, or pass --allow-dirty" },
	{ BM_ENOTFOUND, BM_ABOUT_ALLOWED_SIGNERS, AT_END, "; set BOOTMETA_ALLOWED_SIGNERS or git config "
							 "bootmeta.allowedSignersFile to a file in git's allowed-signers format" },
	{ BM_ENOTFOUND, BM_ABOUT_IDENTITY, AT_END, "; make one with `bootmeta key gen --age`, or pass --identity FILE / "
						   "set BOOTMETA_IDENTITY" },
	{ BM_EINVALID, BM_ABOUT_IDENTITY, AT_END, "; pass --identity FILE or set BOOTMETA_IDENTITY" },
	{ BM_EEXISTS, BM_ABOUT_IDENTITY, AT_END, ", or pass --force to replace it (secrets encrypted to it are then lost "
						 "to you)" },
	{ 0, BM_ABOUT_RECORD, AT_END, "; see `bootmeta log %s`" },
	{ 0, BM_ABOUT_RECORD_HISTORY, AT_END, " (bootmeta log %s)" },
	{ BM_ENOTFOUND, BM_ABOUT_CHANNEL, AT_END, "; promote one with `bootmeta channel promote %s RELEASE`" },
	{ BM_ENOTFOUND, BM_ABOUT_CHANNEL_HISTORY, AT_END, "; see `bootmeta channel list %s`" },
	{ BM_ENOTFOUND, BM_ABOUT_CHANNEL_RELEASE, AT_END, " (promote a release with `bootmeta channel promote %s RELEASE`)" },
	{ BM_EINVALID, BM_ABOUT_CONFIG_JSON, AT_END, "; use --type string, int64, double or bool for a scalar" },
	{ BM_ENOTFOUND, BM_ABOUT_CONFIG_KEY, INSIDE, "; see `bootmeta config resolve %s`" },
	{ BM_ENOTFOUND, BM_ABOUT_CONFIG_SEQ, AT_END, " (see `bootmeta config history %s`)" },
	{ BM_EINVALID, BM_ABOUT_ENV_FILE_FORMAT, AT_END, " (use --format systemd or --format docker)" },
	{ BM_ENOTFOUND, BM_ABOUT_GIT_REPO, AT_END, "; pass --repo PATH" },
	{ BM_ENOTFOUND, BM_ABOUT_ENV_PARENT, AT_END, "; add it first with `bootmeta env add %s`" },
	{ BM_EINVALID, BM_ABOUT_ENV_FILE, AT_END, "; run `bootmeta dev use ENV`" },
	{ BM_ENOTFOUND, BM_ABOUT_FLAG, AT_END, " (see `bootmeta flag list %s`)" },
	{ BM_EINVALID, BM_ABOUT_FLAG_VARIANTS, AT_END, "; add --variant name=value" },
	{ BM_EINVALID, BM_ABOUT_FLAG_CHANNEL, AT_END, "; check the name, or pass --allow-unknown-channel to set the rule "
						      "ahead of the first promotion" },
	{ BM_ENOTFOUND, BM_ABOUT_RELEASE_ID, AT_END, " (see `bootmeta release list %s`)" },
	{ BM_ENOTFOUND, BM_ABOUT_SOURCE_DIR, AT_END, "; give --source URL@COMMIT instead" },
	{ BM_ENOTFOUND, BM_ABOUT_BINARY, AT_END, "; record it with `bootmeta binary add`" },
	{ BM_EVERIFY, BM_ABOUT_BINARY, AT_END, "; sign it with `bootmeta binary sign %s --key KEYFILE`" },
	{ BM_ENOTFOUND, BM_ABOUT_BINARY_FILE, AT_END, " (`bootmeta binary add`)" },
	{ BM_ENOTFOUND, BM_ABOUT_BINARY_TO_SIGN, AT_END, "; record it (and sign it in the same commit) with `bootmeta "
							 "binary add PROJECT RELEASE %s --sign KEYFILE ...`" },
	{ BM_ENOTFOUND, BM_ABOUT_SIGNER, AT_END, "; trust it first with `bootmeta key trust KEY.pub`" },
	{ BM_EINVALID, BM_ABOUT_SSH_RECIPIENT, INSIDE, ", from `bootmeta key gen --age` or age-keygen" },
	{ BM_EUNSUPPORTED, BM_ABOUT_SSH_RECIPIENT, INSIDE, "; see 'bootmeta age keygen'" },
	{ BM_ENOTFOUND, BM_ABOUT_RECIPIENTS, AT_END, " (see `bootmeta recipients list %s`)" },
	{ BM_ENORECIPIENT, BM_ABOUT_RECIPIENTS, AT_END, ": run `bootmeta recipients add %s age1...` first" },
	{ BM_ENOTFOUND, BM_ABOUT_SECRET, AT_END, " (see `bootmeta secret list %s`)" },
	{ BM_ENORECIPIENT, BM_ABOUT_SECRET, AT_END, "; ask a recipient to run `bootmeta recipients add %s <your age1... "
						       "recipient>` then `bootmeta secret rekey %s`" },
	{ BM_EINVALID, BM_ABOUT_SECRET, AT_END, "; read it with `bootmeta secret get`" },
	{ BM_ENOTFOUND, BM_ABOUT_SECRET_REMOVED, AT_END, ": `bootmeta secret history %s`" },
	{ 0, BM_ABOUT_DAMAGED_LOG, AT_END, " or see `bootmeta doctor`" },
	{ 0, BM_ABOUT_REVISION, AT_END, "; see `bootmeta log`" },
	{ BM_ECONFLICT, BM_ABOUT_UNPUSHED, AT_END, "; run `bootmeta push` first" },
	{ BM_ECONFLICT, BM_ABOUT_REMOTE_MOVED, AT_END, "; run `bootmeta pull` and write again" },
	{ BM_ENOTFOUND, BM_ABOUT_TRACE, AT_END, "; see `bootmeta release list PROJECT`" },
	{ BM_EINVALID, BM_ABOUT_LOG_KIND, AT_END, " (--kind, e.g. codegen or deploy)" },
	{ BM_EINVALID, BM_ABOUT_LOG_MESSAGE, AT_END, " (--message TEXT)" },
	{ BM_ECONFLICT, BM_ABOUT_CHANNEL_PINNED, AT_END, "; release the pin with `bootmeta channel unpin %s --reason TEXT`, "
						     "or promote with --force (recorded in the entry)" },
};

/* Append `hint` to `text` (n bytes used of size), each %s replaced by `name`. */
static size_t put_hint(char *text, size_t n, size_t size, const char *hint, const char *name)
{
	const char *p;
	for (p = hint; *p && n + 1 < size; p++) {
		if (p[0] == '%' && p[1] == 's') {
			n += (size_t)snprintf(text + n, size - n, "%s", name);
			if (n >= size)
				return size - 1;
			p++;
			continue;
		}
		text[n++] = *p;
	}
	text[n] = '\0';
	return n;
}

const char *cli_hint_add(char *text, size_t size, int code, bm_error_about about, const char *name)
{
	size_t i, n = strlen(text);

	if (!name)
		name = "";
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
			snprintf(text + n, size - n, "; if the server's key really was replaced, check the new "
				 "fingerprint with its admin, then remove the old line (`ssh-keygen -R '%s' -f %s`) and "
				 "add the new one (`ssh-keyscan %s%s >> %s`)", name, kh ? kh : "FILE", port, host,
				 kh ? kh : "FILE");
		else
			snprintf(text + n, size - n, "; check the fingerprint with the server's admin (`ssh-keygen "
				 "-lf` of its host key), then add it: `ssh-keyscan %s%s >> %s`", port, host,
				 kh ? kh : "~/.ssh/known_hosts");
		return text;
	}
	if (about == BM_ABOUT_REPO) {
		/* a path that does not exist, or nothing found upward from the current folder */
		if (code == BM_ENOTFOUND && *name)
			snprintf(text + n, size - n, "; create one with `bootmeta init %s`", name);
		else if (code == BM_ENOTFOUND)
			snprintf(text + n, size - n, "; pass --repo PATH, set BOOTMETA_REPO, or create one "
				 "with `bootmeta init PATH`");
		else if (code == BM_EFORMAT)
			snprintf(text + n, size - n, "; use --repo, or create one with `bootmeta init PATH`");
		return text;
	}
	if (about == BM_ABOUT_RECIPIENTS && !*name)
		name = "--admin"; /* the admins' list */
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		if (hints[i].about != about || (hints[i].code && hints[i].code != code))
			continue;
		if (hints[i].where == INSIDE && n && text[n - 1] == ')') {
			char tail[2] = ")";
			n = put_hint(text, n - 1, size - 1, hints[i].hint, name);
			put_hint(text, n, size, tail, "");
			n = strlen(text);
		} else {
			n = put_hint(text, n, size, hints[i].hint, name);
		}
		if (about == BM_ABOUT_ENV && code == BM_ENOTFOUND && !strncmp(name, "dev/", 4) && n < size)
			snprintf(text + n, size - n, " or `bootmeta dev init USER`");
		break;
	}
	return text;
}

const char *cli_error_text(void)
{
	static _Thread_local char text[2048];
	const char *name, *msg = bm_error_last();
	bm_error_about about = bm_error_last_about(&name);

	snprintf(text, sizeof(text), "%s", msg ? msg : "");
	return cli_hint_add(text, sizeof(text), bm_error_last_code(), about, name);
}
