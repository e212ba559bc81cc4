/* cmd_key.c: `bootmeta key`: make signing keys, show and trust public keys, and sign and
 * verify files with minisign-compatible signatures (drop-in for `minisign -S` / `-V`), plus
 * SSH signatures as git makes them with gpg.format=ssh. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "cli.h"
#include "cli_keys.h"

#define KEYFILE_MAX CLI_KEYFILE_MAX

static const char usage_key[] =
	"usage: bootmeta key gen --sign [-o BASENAME] [--no-password] [--force]\n"
	"       bootmeta key gen --age [-o FILE] [--force]\n"
	"       bootmeta key show-pub FILE\n"
	"       bootmeta key trust FILE [--sign-commit SSHKEY]\n"
	"       bootmeta key sign FILE -k KEYFILE [-t TRUSTED_COMMENT] [-c UNTRUSTED_COMMENT] [-o FILE.minisig] [-l]\n"
	"       bootmeta key verify FILE (-p PUBKEY_FILE | -P PUBKEY)... [-x FILE.minisig] [-H] [-q]\n"
	"       bootmeta key ssh-sign FILE -k SSH_PRIVATE_KEY [-n NAMESPACE] [-o FILE.sig]\n"
	"       bootmeta key ssh-verify FILE -a ALLOWED_SIGNERS [-s FILE.sig] [-n NAMESPACE] [--commit]\n"
	"\n"
	"Signing keys are minisign-compatible Ed25519 key pairs. Passwords come from\n"
	"$BOOTMETA_PASSWORD or the terminal, never from the command line.\n";

static const char usage_gen[] =
	"usage: bootmeta key gen --sign [-o BASENAME] [--no-password] [--force]\n"
	"       bootmeta key gen --age [-o FILE] [--force]\n"
	"\n"
	"--sign writes a minisign key pair: BASENAME.pub (public) and BASENAME.key (secret, mode\n"
	"0600, scrypt-encrypted with a password from $BOOTMETA_PASSWORD or asked twice on the\n"
	"terminal; --no-password leaves it unencrypted). BASENAME defaults to \"bootmeta\".\n"
	"Prints the key id. Existing files are kept unless --force.\n";

static const char usage_show[] =
	"usage: bootmeta key show-pub FILE\n"
	"\n"
	"Print the key id and the base64 public key of a minisign public key file (--json: an object).\n";

static const char usage_trust[] =
	"usage: bootmeta key trust FILE [--sign-commit SSH_PRIVATE_KEY]\n"
	"\n"
	"Add the minisign public key in FILE to the meta repo as keys/signers/<KEY-ID>.pub, so\n"
	"binaries it signs are accepted. --sign-commit signs the meta commit with an unencrypted\n"
	"OpenSSH Ed25519 key (git gpg.format=ssh; also $BOOTMETA_SIGNING_KEY, as every write).\n";

static const char usage_sign[] =
	"usage: bootmeta key sign FILE -k KEYFILE [-t TRUSTED_COMMENT] [-c UNTRUSTED_COMMENT]\n"
	"                         [-o FILE.minisig] [-l]\n"
	"\n"
	"Sign FILE with a minisign secret key (as `minisign -S`): prehashed, with a trusted\n"
	"comment (default \"timestamp:<t>\\tfile:<name>\\thashed\"); -l makes a legacy signature.\n"
	"KEYFILE defaults to $BOOTMETA_MINISIGN_KEY. The password of an encrypted key comes from\n"
	"$BOOTMETA_PASSWORD or the terminal.\n";

static const char usage_verify[] =
	"usage: bootmeta key verify FILE (-p PUBKEY_FILE | -P PUBKEY)... [-x FILE.minisig] [-H] [-q]\n"
	"\n"
	"Verify FILE's minisign signature (default FILE.minisig) against one or more trusted\n"
	"public keys (as `minisign -V`). -H refuses legacy (not prehashed) signatures; -q prints\n"
	"nothing. Prints the trusted comment. Exit 0 verified, 1 not.\n";

static const char usage_ssh_sign[] =
	"usage: bootmeta key ssh-sign FILE -k SSH_PRIVATE_KEY [-n NAMESPACE] [-o FILE.sig]\n"
	"\n"
	"Make an SSH signature of FILE (as `ssh-keygen -Y sign`; namespace default \"git\") with an\n"
	"unencrypted OpenSSH Ed25519 key. -o - writes to stdout.\n";

static const char usage_ssh_verify[] =
	"usage: bootmeta key ssh-verify FILE -a ALLOWED_SIGNERS [-s FILE.sig] [-n NAMESPACE] [--commit]\n"
	"\n"
	"Verify an SSH signature (default FILE.sig; namespace default \"git\") against a git\n"
	"allowed-signers file; prints the signer's principals. With --commit, FILE is a raw\n"
	"commit object (`git cat-file commit REV`; - for stdin) whose gpgsig header is checked.\n";

static int path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ---- key gen ---- */

static int key_gen(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_SIGN = 256, OPT_AGE, OPT_NOPW, OPT_FORCE };
	static const cli_opt opts[] = {
		{ OPT_SIGN, "sign", 0, 0 },
		{ OPT_AGE, "age", 0, 0 },
		{ OPT_NOPW, "no-password", 0, 0 },
		{ OPT_FORCE, "force", 'f', 0 },
		{ 'o', "output", 'o', 1 },
		CLI_OPT_END,
	};
	const char *base = "bootmeta";
	cli_args a;
	int c, sign = 0, age = 0, nopw = 0, force = 0, rc = BM_EXIT_FAIL;
	bm_buf pub = BM_BUF_INIT, sec = BM_BUF_INIT, pubpath = BM_BUF_INIT, secpath = BM_BUF_INIT;
	bm_minisign_pubkey pk;
	char *pw = NULL;

	for (c = 1; c < argc && strcmp(argv[c], "--"); c++)
		if (!strcmp(argv[c], "--age"))
			return cli_key_gen_age(cli, argc, argv); /* src/cmd_key_age.c */
	cli_args_init(&a, cli, argc, argv, opts, usage_gen);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_SIGN: sign = 1; break;
		case OPT_AGE: age = 1; break;
		case OPT_NOPW: nopw = 1; break;
		case OPT_FORCE: force = 1; break;
		case 'o': base = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos > 0)
		return cli_usage(usage_gen, "unexpected argument '%s'", a.pos[0]);
	if (sign == age)
		return cli_usage(usage_gen, "say which key to make: --sign or --age");
	if (!*base)
		return cli_usage(usage_gen, "-o needs a base name");
	if (bm_buf_printf(&pubpath, "%s.pub", base) < 0 || bm_buf_printf(&secpath, "%s.key", base) < 0) {
		rc = cli_fail(cli, "key gen");
		goto done;
	}
	if (!force && (path_exists(pubpath.ptr) || path_exists(secpath.ptr))) {
		rc = cli_error(cli, BM_EEXISTS, "%s or %s already exists; pick another -o or use --force to replace the key pair",
			       pubpath.ptr, secpath.ptr);
		goto done;
	}
	if (!nopw && cli_password_get(cli, &pw, 1) != BM_EXIT_OK)
		goto done;
	if (pw)
		cli_progress(cli, "deriving a key from the password (scrypt, about 1 GiB of memory)...");
	if (bm_minisign_keygen(&pub, &sec, pw) < 0 || bm_minisign_pubkey_parse(&pk, pub.ptr) < 0) {
		rc = cli_fail(cli, "key gen");
		goto done;
	}
	if (bm_file_write_atomic(secpath.ptr, sec.ptr, sec.size, 0600) < 0 ||
	    bm_file_write_atomic(pubpath.ptr, pub.ptr, pub.size, 0644) < 0) {
		rc = cli_fail(cli, "key gen");
		goto done;
	}
	if (cli->json) {
		printf("{\"keyId\":\"%s\",\"publicKeyFile\":", pk.key_id_hex);
		cli_json_str(stdout, pubpath.ptr);
		printf(",\"secretKeyFile\":");
		cli_json_str(stdout, secpath.ptr);
		printf(",\"encrypted\":%s}\n", pw ? "true" : "false");
	} else {
		printf("%s\n", pk.key_id_hex);
		cli_progress(cli, "wrote %s (public) and %s (secret%s; keep it secret)", pubpath.ptr, secpath.ptr,
			     pw ? ", encrypted" : ", NOT encrypted");
		cli_progress(cli, "trust it in the meta repo with: bootmeta key trust %s", pubpath.ptr);
	}
	rc = BM_EXIT_OK;
done:
	if (pw)
		sodium_free(pw);
	bm_buf_dispose(&pub);
	bm_buf_dispose_secret(&sec);
	bm_buf_dispose(&pubpath);
	bm_buf_dispose(&secpath);
	return rc;
}

/* ---- reading keys ---- */

static int key_show_pub(bm_cli *cli, int argc, char **argv)
{
	bm_minisign_pubkey pk;
	bm_buf text = BM_BUF_INIT;
	const char *line;
	int rc;

	if (cli_operands(cli, &argc, argv, usage_show, &rc))
		return rc;
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage(usage_show, argc < 2 ? "which public key file?" : "expected one FILE");
	if (cli_pubkey_read(&pk, argv[1]) < 0)
		return cli_fail(cli, NULL);
	if (bm_minisign_pubkey_format(&text, &pk) < 0)
		return cli_fail(cli, "key show-pub");
	line = strchr(text.ptr, '\n') + 1;
	if (cli->json) {
		printf("{\"keyId\":\"%s\",\"publicKey\":\"%.*s\"}\n", pk.key_id_hex, (int)strcspn(line, "\n"), line);
	} else {
		printf("%s\n%s", pk.key_id_hex, line);
	}
	bm_buf_dispose(&text);
	return BM_EXIT_OK;
}

/* ---- key trust ---- */

typedef struct {
	bm_minisign_pubkey pk;
	bm_buf text;
	bm_buf path;
	int already;
} trust_ctx;

static int trust_txn(bm_txn *txn, void *payload)
{
	trust_ctx *t = payload;
	bm_buf old = BM_BUF_INIT;
	int exists, error = 0;

	t->already = 0;
	exists = bm_fs_exists(bm_txn_fs(txn), t->path.ptr);
	if (exists < 0)
		return exists;
	if (exists) {
		if ((error = bm_fs_read(&old, bm_txn_fs(txn), t->path.ptr)) < 0)
			goto done;
		if (old.size == t->text.size && !memcmp(old.ptr, t->text.ptr, old.size)) {
			t->already = 1;
			error = 1; /* nothing to commit */
		} else {
			error = bm_error_set(BM_EEXISTS, "%s exists with different content: another key has the same key id",
					     t->path.ptr);
		}
		goto done;
	}
	if ((error = bm_txn_message(txn, "key trust %s", t->pk.key_id_hex)) < 0)
		goto done;
	error = bm_txn_add(txn, t->path.ptr, t->text.ptr, t->text.size);
done:
	bm_buf_dispose(&old);
	return error;
}

static int key_trust(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_SIGN_COMMIT = 256 };
	static const cli_opt opts[] = {
		{ OPT_SIGN_COMMIT, "sign-commit", 0, 1 },
		CLI_OPT_END,
	};
	trust_ctx t = { .text = BM_BUF_INIT, .path = BM_BUF_INIT };
	bm_write_options wopts = BM_WRITE_OPTIONS_INIT;
	const char *sshkey_path = getenv("BOOTMETA_SIGNING_KEY");
	bm_sshsig_key *sshkey = NULL;
	bm_store *store = NULL;
	bm_oid commit;
	char hex[BM_OID_HEXSZ + 1];
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage_trust);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_SIGN_COMMIT: sshkey_path = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(usage_trust, "expected one public key FILE");
	if (cli_pubkey_read(&t.pk, a.pos[0]) < 0) {
		rc = cli_fail(cli, NULL);
		goto done;
	}
	rc = BM_EXIT_FAIL;
	if (bm_minisign_pubkey_format(&t.text, &t.pk) < 0 ||
	    bm_buf_printf(&t.path, "keys/signers/%s.pub", t.pk.key_id_hex) < 0) {
		rc = cli_fail(cli, "key trust");
		goto done;
	}
	cli_write_options(&wopts, cli);
	if (sshkey_path && *sshkey_path) {
		if (bm_sshsig_key_load(&sshkey, sshkey_path) < 0) {
			rc = cli_fail(cli, "loading the commit signing key");
			goto done;
		}
		wopts.sign = bm_sshsig_sign_commit;
		wopts.sign_payload = sshkey;
	}
	if (cli_open(&store, cli) < 0) {
		rc = cli_fail(cli, "opening the meta repo");
		goto done;
	}
	if (bm_store_write(&commit, store, trust_txn, &t, &wopts) < 0) {
		rc = cli_fail(cli, "key trust");
		goto done;
	}
	bm_oid_fmt(hex, &commit);
	if (cli->json)
		printf("{\"keyId\":\"%s\",\"path\":\"%s\",\"metaCommit\":\"%s\",\"alreadyTrusted\":%s}\n",
		       t.pk.key_id_hex, t.path.ptr, hex, t.already ? "true" : "false");
	else if (t.already)
		printf("%s already trusted (%s)\n", cli_esc(t.pk.key_id_hex), cli_esc(t.path.ptr));
	else
		printf("trusted %s: %s in %s\n", cli_esc(t.pk.key_id_hex), cli_esc(t.path.ptr), hex);
	rc = BM_EXIT_OK;
done:
	if (store)
		bm_store_free(store);
	bm_sshsig_key_free(sshkey);
	bm_buf_dispose(&t.text);
	bm_buf_dispose(&t.path);
	return rc;
}

/* ---- key sign / verify (minisign) ---- */

static int write_output(bm_cli *cli, const char *path, const bm_buf *data, unsigned int mode)
{
	if (!strcmp(path, "-")) {
		if (fwrite(data->ptr, 1, data->size, stdout) != data->size || fflush(stdout) != 0)
			return cli_error(cli, BM_EIO, "writing to stdout failed");
		return BM_EXIT_OK;
	}
	if (bm_file_write_atomic(path, data->ptr, data->size, mode) < 0)
		return cli_fail(cli, "writing the signature");
	return BM_EXIT_OK;
}

static int key_sign(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'k', "key", 'k', 1 },
		{ 't', "trusted-comment", 't', 1 },
		{ 'c', "comment", 'c', 1 },
		{ 'o', "output", 'o', 1 },
		{ 'l', "legacy", 'l', 0 },
		CLI_OPT_END,
	};
	const char *keypath = getenv("BOOTMETA_MINISIGN_KEY"), *tc = NULL, *uc = NULL, *out = NULL, *file;
	bm_buf sig = BM_BUF_INIT, outpath = BM_BUF_INIT, content = BM_BUF_INIT;
	bm_minisign_seckey *sk = NULL;
	cli_args a;
	int c, legacy = 0, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage_sign);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'k': keypath = a.value; break;
		case 't': tc = a.value; break;
		case 'c': uc = a.value; break;
		case 'o': out = a.value; break;
		case 'l': legacy = 1; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(usage_sign, "expected one FILE to sign");
	if (!keypath || !*keypath)
		return cli_usage(usage_sign, "which secret key? give -k KEYFILE (or set BOOTMETA_MINISIGN_KEY)");
	file = a.pos[0];
	if (!out) {
		if (bm_buf_printf(&outpath, "%s.minisig", file) < 0)
			goto fail;
		out = outpath.ptr;
	}
	if ((rc = cli_seckey_load(cli, &sk, keypath)) != BM_EXIT_OK)
		goto done;
	rc = BM_EXIT_FAIL;
	if (legacy) {
		char tcbuf[512];
		if (!tc) {
			const char *base = strrchr(file, '/');
			snprintf(tcbuf, sizeof(tcbuf), "timestamp:%lld\tfile:%s", (long long)time(NULL), base ? base + 1 : file);
			tc = tcbuf;
		}
		if (bm_file_read(&content, file, 0) < 0 ||
		    bm_minisign_sign_with(&sig, sk, content.ptr, content.size, tc, uc, BM_MINISIGN_SIGN_LEGACY) < 0)
			goto fail;
	} else if (bm_minisign_sign_file_with(&sig, sk, file, tc, uc) < 0) {
		goto fail;
	}
	rc = write_output(cli, out, &sig, 0644);
	goto done;
fail:
	rc = cli_fail(cli, "key sign");
done:
	bm_minisign_seckey_free(sk);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&outpath);
	bm_buf_dispose(&content);
	return rc;
}

static int key_verify(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'p', "pubkey-file", 'p', 1 },
		{ 'P', "pubkey", 'P', 1 },
		{ 'x', "signature", 'x', 1 },
		{ 'H', "require-prehashed", 'H', 0 },
		{ 'q', "quiet", 'q', 0 },
		CLI_OPT_END,
	};
	bm_minisign_pubkey *keys = NULL;
	size_t nkeys = 0;
	bm_minisign_result res = BM_MINISIGN_RESULT_INIT;
	bm_buf sig = BM_BUF_INIT, sigpath = BM_BUF_INIT;
	const char *sigfile = NULL, *file;
	cli_args a;
	int c, prehashed_only = 0, quiet = 0, rc = BM_EXIT_FAIL, error;

	if (!(keys = calloc((size_t)argc, sizeof(*keys))))
		return cli_error(cli, BM_ENOMEM, "out of memory");
	cli_args_init(&a, cli, argc, argv, opts, usage_verify);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'p':
			if (cli_pubkey_read(&keys[nkeys], a.value) < 0) {
				rc = cli_fail(cli, NULL);
				goto done;
			}
			nkeys++;
			break;
		case 'P':
			if (bm_minisign_pubkey_parse(&keys[nkeys], a.value) < 0) {
				rc = cli_fail(cli, "-P");
				goto done;
			}
			nkeys++;
			break;
		case 'x': sigfile = a.value; break;
		case 'H': prehashed_only = 1; break;
		case 'q': quiet = 1; break;
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	rc = BM_EXIT_FAIL;
	if (a.npos != 1) {
		rc = cli_usage(usage_verify, "expected one FILE to verify");
		goto done;
	}
	if (!nkeys) {
		rc = cli_usage(usage_verify, "which key to trust? give -p PUBKEY_FILE or -P PUBKEY");
		goto done;
	}
	file = a.pos[0];
	if (!sigfile) {
		if (bm_buf_printf(&sigpath, "%s.minisig", file) < 0)
			goto fail;
		sigfile = sigpath.ptr;
	}
	if (cli_read_text(&sig, sigfile, KEYFILE_MAX) < 0)
		goto fail;
	error = bm_minisign_verify_file_key(&res, sig.ptr, file, keys, nkeys);
	if (error < 0)
		goto fail;
	if (prehashed_only && !res.prehashed) {
		rc = cli_error(cli, BM_EVERIFY, "key verify: legacy signature (not prehashed) refused by -H");
		goto done;
	}
	if (cli->json) {
		printf("{\"verified\":true,\"keyId\":\"%s\",\"prehashed\":%s,\"trustedComment\":",
		       res.key_id_hex, res.prehashed ? "true" : "false");
		cli_json_str(stdout, res.trusted_comment.ptr);
		printf("}\n");
	} else if (!quiet) {
		printf("Signature and comment signature verified\nTrusted comment: %s\n", cli_esc(res.trusted_comment.ptr));
	}
	rc = BM_EXIT_OK;
	goto done;
fail:
	rc = cli_fail(cli, "key verify");
done:
	free(keys);
	bm_minisign_result_dispose(&res);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&sigpath);
	return rc;
}

/* ---- SSH signatures ---- */

static int read_input(bm_buf *out, const char *path)
{
	char chunk[65536];
	size_t n;
	if (strcmp(path, "-"))
		return cli_read_text(out, path, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (bm_buf_put(out, chunk, n) < 0)
			return BM_ENOMEM;
	if (ferror(stdin))
		return bm_error_set(BM_EIO, "reading stdin failed");
	if (bm_buf_grow(out, out->size) < 0)
		return BM_ENOMEM;
	out->ptr[out->size] = '\0';
	return 0;
}

static int key_ssh_sign(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'k', "key", 'k', 1 },
		{ 'n', "namespace", 'n', 1 },
		{ 'o', "output", 'o', 1 },
		CLI_OPT_END,
	};
	const char *keypath = NULL, *ns = "git", *out = NULL;
	bm_buf data = BM_BUF_INIT, sig = BM_BUF_INIT, outpath = BM_BUF_INIT;
	bm_sshsig_key *key = NULL;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage_ssh_sign);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'k': keypath = a.value; break;
		case 'n': ns = a.value; break;
		case 'o': out = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(usage_ssh_sign, "expected one FILE to sign");
	if (!keypath)
		return cli_usage(usage_ssh_sign, "which key? give -k SSH_PRIVATE_KEY");
	if (!out) {
		if (!strcmp(a.pos[0], "-"))
			out = "-";
		else if (bm_buf_printf(&outpath, "%s.sig", a.pos[0]) < 0)
			goto fail;
		else
			out = outpath.ptr;
	}
	if (bm_sshsig_key_load(&key, keypath) < 0 || read_input(&data, a.pos[0]) < 0 ||
	    bm_sshsig_sign(&sig, data.ptr, data.size, key, ns) < 0)
		goto fail;
	rc = write_output(cli, out, &sig, 0644);
	goto done;
fail:
	rc = cli_fail(cli, "key ssh-sign");
done:
	bm_sshsig_key_free(key);
	bm_buf_dispose(&data);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&outpath);
	return rc;
}

static int key_ssh_verify(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_COMMIT = 256 };
	static const cli_opt opts[] = {
		{ 'a', "allowed-signers", 'a', 1 },
		{ 's', "signature", 's', 1 },
		{ 'n', "namespace", 'n', 1 },
		{ OPT_COMMIT, "commit", 0, 0 },
		CLI_OPT_END,
	};
	const char *allowed_path = NULL, *sigfile = NULL, *ns = "git";
	bm_buf data = BM_BUF_INIT, sig = BM_BUF_INIT, allowed = BM_BUF_INIT, sigpath = BM_BUF_INIT, principal = BM_BUF_INIT;
	cli_args a;
	int c, commit = 0, rc = BM_EXIT_FAIL, error;

	cli_args_init(&a, cli, argc, argv, opts, usage_ssh_verify);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'a': allowed_path = a.value; break;
		case 's': sigfile = a.value; break;
		case 'n': ns = a.value; break;
		case OPT_COMMIT: commit = 1; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(usage_ssh_verify, "expected one FILE");
	if (!allowed_path)
		return cli_usage(usage_ssh_verify, "give the allowed signers with -a FILE");
	if (commit && (sigfile || strcmp(ns, "git")))
		return cli_usage(usage_ssh_verify, "--commit takes the signature from the commit, in namespace git");
	if (cli_read_text(&allowed, allowed_path, 0) < 0 || read_input(&data, a.pos[0]) < 0)
		goto fail;
	if (commit) {
		error = bm_sshsig_verify_commit(data.ptr, data.size, allowed.ptr, &principal);
	} else {
		if (!sigfile) {
			if (bm_buf_printf(&sigpath, "%s.sig", a.pos[0]) < 0)
				goto fail;
			sigfile = sigpath.ptr;
		}
		if (cli_read_text(&sig, sigfile, 1024 * 1024) < 0)
			goto fail;
		error = bm_sshsig_verify_ns(sig.ptr, data.ptr, data.size, ns, allowed.ptr, &principal);
	}
	if (error < 0)
		goto fail;
	if (cli->json) {
		printf("{\"verified\":true,\"principals\":");
		cli_json_str(stdout, principal.ptr);
		printf("}\n");
	} else {
		printf("Good signature from %s\n", cli_esc(principal.ptr));
	}
	rc = BM_EXIT_OK;
	goto done;
fail:
	rc = cli_fail(cli, "key ssh-verify");
done:
	bm_buf_dispose(&data);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&allowed);
	bm_buf_dispose(&sigpath);
	bm_buf_dispose(&principal);
	return rc;
}

int cmd_key(bm_cli *cli, int argc, char **argv);
int cmd_key(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "gen", NULL, key_gen, 0, NULL },
		{ "show-pub", NULL, key_show_pub, 0, NULL },
		{ "trust", NULL, key_trust, CLI_STORE | CLI_WRITES, NULL },
		{ "sign", NULL, key_sign, 0, NULL },
		{ "verify", NULL, key_verify, 0, NULL },
		{ "ssh-sign", NULL, key_ssh_sign, 0, NULL },
		{ "ssh-verify", NULL, key_ssh_verify, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage_key, argc, argv);
}
