/* cmd_key_age.c: `bootmeta key gen --age`: a new age identity for reading secrets.
 * src/cmd_key.c's `key gen` hands any argv holding --age to cli_key_gen_age. */
#include <getopt.h>
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
	static const struct option opts[] = {
		{ "age", no_argument, NULL, OPT_AGE },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bm_buf recipient = BM_BUF_INIT, path = BM_BUF_INIT, def = BM_BUF_INIT;
	const char *out = NULL;
	int c, force = 0, rc = BM_EXIT_FAIL;

	if (cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return BM_EXIT_OK;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_AGE: break;
		case 'o': out = optarg; break;
		case OPT_FORCE: case 'f': force = 1; break;
		default: return cli_usage(usage, NULL);
		}
	}
	if (optind != argc)
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
