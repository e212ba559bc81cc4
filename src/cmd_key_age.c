/* cmd_key_age.c: `bootmeta key gen --age`: a new age identity for reading secrets.
 * src/cmd_key.c's `key gen` hands any argv holding --age to cli_key_gen_age. */
#include <string.h>

#include "cli.h"
#include "cli_env.h"

static const char usage[] =
	"usage: bootmeta key gen --age [-o FILE] [--force]\n\n"
	"Make an age X25519 identity (the secret key that opens secrets) and write it to FILE,\n"
	"default ~/.config/bootmeta/identity, mode 0600, in the format age-keygen writes (so the\n"
	"age program reads it too). Prints its recipient (age1...): give that to someone who can\n"
	"run `bootmeta recipients add ENV age1...` and `bootmeta secret rekey ENV`. Refuses to\n"
	"overwrite an existing identity unless --force.\n";

int cli_key_gen_age(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_AGE = 256, OPT_FORCE };
	static const cli_opt opts[] = {
		{ OPT_AGE, "age", 0, 0 },
		{ 'o', "output", 'o', 1 },
		{ OPT_FORCE, "force", 'f', 0 },
		CLI_OPT_END,
	};
	bm_buf recipient = BM_BUF_INIT, path = BM_BUF_INIT, def = BM_BUF_INIT;
	const char *out = NULL;
	cli_args a;
	int c, force = 0, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_AGE: break;
		case 'o': out = a.value; break;
		case OPT_FORCE: force = 1; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 0)
		return cli_usage(usage, "key gen --age takes no arguments (the file is -o FILE)");
	if ((!out && cli_env_identity_default(&def) < 0) ||
	    bm_secret_identity_create(&recipient, &path, out ? out : def.ptr, force) < 0) {
		rc = cli_fail(cli, "key gen --age");
		goto done;
	}
	if (cli->json) {
		printf("{\"identityFile\":");
		cli_json_str(stdout, path.ptr);
		printf(",\"recipient\":\"%s\"}\n", recipient.ptr);
	} else {
		cli_progress(cli, "wrote age identity %s (mode 0600); its recipient:", path.ptr);
		printf("%s\n", recipient.ptr);
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&recipient);
	bm_buf_dispose(&path);
	bm_buf_dispose(&def);
	return rc;
}
