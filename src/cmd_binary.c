/* cmd_binary.c: `bootmeta binary add|show|sign|verify`. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_keys.h"
#include "cli_trust.h"
#include "cli_env.h"
#include "cli_hint.h"
#include "cli_net.h"

#define MINISIG_FILE_MAX (64 * 1024)

static const char usage[] =
	"usage: bootmeta binary add PROJECT RELEASE FILE --os OS --arch ARCH [--url URL]...\n"
	"                           [--sign KEYFILE | --signature FILE.minisig]\n"
	"                           [--upload URL [--name NAME] [--s3-endpoint URL] [--s3-secret ENV/NAME]]\n"
	"       bootmeta binary upload FILE|SHA256 --to URL [--name NAME] [--s3-endpoint URL]\n"
	"                              [--s3-secret ENV/NAME]\n"
	"       bootmeta binary show SHA256\n"
	"       bootmeta binary sign FILE (--key KEYFILE | --signature FILE.minisig)\n"
	"       bootmeta binary verify FILE [--project PROJECT] [--sha256 SHA256] [--trusted-keys FILE]...\n\n"
	"add hashes FILE (sha256 and size, streamed) and records it as built from RELEASE of\n"
	"PROJECT, under binaries/<sha256[0:2]>/<sha256>.pb. --url says where the artifact lives.\n"
	"A binary is recorded once; adding the same file again is refused.\n\n"
	"--upload URL first puts FILE on immutable storage at URL/PROJECT/SHA256/NAME (NAME:\n"
	"--name, else FILE's name) and records that URL too. URL is file:///DIR, http(s)://...\n"
	"(PUT, e.g. nginx's dav module) or s3://BUCKET[/PREFIX] (endpoint: --s3-endpoint or\n"
	"$BOOTMETA_S3_ENDPOINT, else AWS; $AWS_REGION, $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY,\n"
	"$AWS_SESSION_TOKEN; or --s3-secret ENV/NAME, a secret of PROJECT in ENV holding those\n"
	"KEY=VALUE lines, decrypted with your age identity). An object already there with the\n"
	"same bytes is fine; with other\n"
	"bytes it is an error, never an overwrite.\n\n"
	"upload puts a recorded binary at URL the same way and prints the URL: FILE (hashed and\n"
	"found by its sha256), or SHA256 (downloaded from its record's URLs and checked first: a\n"
	"mirror). The record is not changed (records are never rewritten).\n\n"
	"--sign KEYFILE signs FILE with a minisign secret key (password from $BOOTMETA_PASSWORD or\n"
	"the terminal) and stores the .minisig text in the record, in the same commit; the trusted\n"
	"comment is \"timestamp:<t>\\tproject:<P>\\trelease:<R>\\tsha256:<hex>\\tsize:<n>\".\n"
	"--signature attaches a .minisig made elsewhere (`minisign -S`). Either must verify over\n"
	"FILE with a key the meta repo trusts (`bootmeta key trust KEY.pub`), or nothing is written.\n\n"
	"sign adds a signature to a binary recorded earlier (a record is never rewritten):\n"
	"binaries/<sha256[0:2]>/<sha256>.sig/<KEY-ID>.pb, one per key. It needs FILE itself:\n"
	"minisign signs the bytes, not the digest.\n\n"
	"verify hashes FILE, finds its record, checks sha256 and size (and --project, --sha256 when\n"
	"given) and verifies every signature. Trusted keys: --trusted-keys FILE (repeatable), else\n"
	"$BOOTMETA_TRUSTED_KEYS, else ~/.config/bootmeta/trusted_keys when it exists (a pinned\n"
	"file: one minisign public key a line, or .pub files concatenated; then ONLY those keys\n"
	"count), else the meta repo's keys/signers. Exit 0 only when at least one signature by a\n"
	"trusted key verifies over FILE with a trusted comment naming this binary.\n";

static int read_minisig(bm_cli *cli, bm_buf *out, const char *path)
{
	if (cli_read_text(out, path, MINISIG_FILE_MAX) < 0)
		return cli_fail(cli, "reading the signature");
	return BM_EXIT_OK;
}

static int binary_add(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_SIGN = 256, OPT_SIGNATURE, OPT_UPLOAD, OPT_NAME, OPT_S3, OPT_S3SECRET };
	static const cli_opt opts[] = {
		{ 'o', "os", 0, 1 },
		{ 'a', "arch", 0, 1 },
		{ 'u', "url", 0, 1 },
		{ OPT_SIGN, "sign", 0, 1 },
		{ OPT_SIGNATURE, "signature", 0, 1 },
		{ OPT_UPLOAD, "upload", 0, 1 },
		{ OPT_NAME, "name", 0, 1 },
		{ OPT_S3, "s3-endpoint", 0, 1 },
		{ OPT_S3SECRET, "s3-secret", 0, 1 },
		CLI_OPT_END,
	};
	const char *upload = NULL, *name = NULL, *s3 = NULL, *s3secret = NULL;
	bm_buf uploaded = BM_BUF_INIT;
	bm_binary_options bo = BM_BINARY_OPTIONS_INIT;
	bm_write_options w;
	bm_strlist urls = BM_STRLIST_INIT;
	Bootmeta__V1__Binary *b = NULL;
	bm_minisign_seckey *sk = NULL;
	bm_store *s = NULL;
	bm_buf out = BM_BUF_INIT, sig = BM_BUF_INIT;
	bm_oid mc;
	const char *keyfile = NULL, *sigfile = NULL;
	char hex[BM_OID_HEXSZ + 1];
	cli_args a;
	int c, rc = BM_EXIT_FAIL;
	char **orig = cli_net ? NULL : cli_argv_copy(argc, argv);

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'o': bo.os = a.value; break;
		case 'a': bo.arch = a.value; break;
		case 'u': bm_strlist_add(&urls, a.value); break;
		case OPT_SIGN: keyfile = a.value; break;
		case OPT_SIGNATURE: sigfile = a.value; break;
		case OPT_UPLOAD: upload = a.value; break;
		case OPT_NAME: name = a.value; break;
		case OPT_S3: s3 = a.value; break;
		case OPT_S3SECRET: s3secret = a.value; break;
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos != 3) {
		rc = cli_usage(usage, "binary add takes PROJECT, RELEASE and FILE");
		goto done;
	}
	if (!bo.os || !bo.arch) {
		rc = cli_usage(usage, "binary add needs --os and --arch (e.g. --os linux --arch amd64)");
		goto done;
	}
	if (keyfile && sigfile) {
		rc = cli_usage(usage, "give --sign KEYFILE or --signature FILE.minisig, not both");
		goto done;
	}
	if ((name || s3 || s3secret) && !upload) {
		rc = cli_usage(usage, "--name, --s3-endpoint and --s3-secret go with --upload URL");
		goto done;
	}
	if (upload && !cli_net) {
		/* the transfer is libbootmeta-net's: bootmeta-live runs this command */
		rc = orig ? cli_run_live(cli, "binary", argc, orig) : cli_error(cli, BM_ENOMEM, "out of memory");
		goto done;
	}
	if (upload) {
		cli_transfer t;
		const char *base = strrchr(a.pos[2], '/') ? strrchr(a.pos[2], '/') + 1 : a.pos[2];
		if (bm_project_name_check(a.pos[0]) < 0) {
			rc = cli_fail(cli, "binary add");
			goto done;
		}
		cli_transfer_init(&t, cli, "upload", s3, 0, 0);
		if (s3secret) {
			bm_store *ss = NULL;
			bm_fs *sfs = NULL;
			c = cli_open_fs(&ss, &sfs, cli, NULL);
			if (c == 0)
				c = cli_transfer_s3_secret(&t, sfs, a.pos[0], s3secret, s3);
			bm_fs_free(sfs);
			bm_store_free(ss);
			if (c < 0) {
				cli_transfer_dispose(&t);
				rc = cli_fail(cli, "binary add --upload");
				goto done;
			}
		}
		cli_progress(cli, "uploading %s to %s", a.pos[2], upload);
		c = cli_net->upload(&uploaded, upload, a.pos[0], NULL, name ? name : base, a.pos[2], &t.o);
		cli_transfer_dispose(&t);
		if (c < 0) {
			rc = cli_fail(cli, "binary add --upload");
			goto done;
		}
		cli_progress(cli, "uploaded to %s", uploaded.ptr);
		bm_strlist_add(&urls, uploaded.ptr);
	}
	bo.urls = (const char *const *)urls.items;
	bo.nurls = urls.count;
	cli_write_options(&w, cli);
	bo.write = &w;
	if (bm_project_name_check(a.pos[0]) < 0 || bm_name_validate(a.pos[1], BM_NAME_RELEASE) < 0 ||
	    cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "binary add");
		goto done;
	}
	if (keyfile) {
		if ((rc = cli_seckey_load(cli, &sk, keyfile)) != BM_EXIT_OK)
			goto done;
		bo.sign_key = sk;
	} else if (sigfile) {
		if ((rc = read_minisig(cli, &sig, sigfile)) != BM_EXIT_OK)
			goto done;
		bo.signature = sig.ptr;
	}
	rc = BM_EXIT_FAIL;
	cli_progress(cli, "hashing %s and recording it as %s %s%s", a.pos[2], a.pos[0], a.pos[1],
		     keyfile ? " (signed)" : sigfile ? " (with its signature)" : "");
	if (bm_binary_add(&b, &mc, s, a.pos[0], a.pos[1], a.pos[2], &bo) < 0) {
		rc = cli_fail(cli, "binary add");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, b, &mc) < 0) {
			rc = cli_fail(cli, "binary add");
			goto done;
		}
		cli_put(&out);
	} else {
		printf("added binary %s (%llu bytes, %s/%s) of %s %s%s%s (meta commit %s)\n", cli_esc(b->sha256),
		       (unsigned long long)b->size, cli_esc(b->os), cli_esc(b->arch), cli_esc(b->project), cli_esc(b->release),
		       *b->signer_key_id ? ", signed by " : "", cli_esc(b->signer_key_id), cli_short(hex, &mc));
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_buf_dispose(&sig);
	bm_buf_dispose(&uploaded);
	free(orig);
	bm_minisign_seckey_free(sk);
	bm_meta_free(b);
	bm_store_free(s);
	bm_strlist_dispose(&urls);
	return rc;
}

/* `binary upload`: a SHA256 is first fetched from its record's URLs into a temp folder */
static int binary_upload(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_TO = 256, OPT_NAME, OPT_S3, OPT_S3SECRET };
	static const cli_opt opts[] = {
		{ OPT_TO, "to", 0, 1 },
		{ OPT_NAME, "name", 0, 1 },
		{ OPT_S3, "s3-endpoint", 0, 1 },
		{ OPT_S3SECRET, "s3-secret", 0, 1 },
		CLI_OPT_END,
	};
	const char *to = NULL, *name = NULL, *s3 = NULL, *s3secret = NULL, *file;
	bm_artifact_result res = BM_ARTIFACT_RESULT_INIT;
	Bootmeta__V1__Binary *b = NULL;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf url = BM_BUF_INIT, tmpdir = BM_BUF_INIT, tmpfile = BM_BUF_INIT, nm = BM_BUF_INIT, out = BM_BUF_INIT;
	char hex[65];
	uint64_t size;
	cli_transfer t;
	cli_args a;
	int c, rc = BM_EXIT_FAIL;
	char **orig = NULL;

	memset(&t, 0, sizeof(t));
	if (!cli_net) {
		/* parse here (usage errors, --help), then run in bootmeta-live */
		if (!(orig = cli_argv_copy(argc, argv)))
			return cli_error(cli, BM_ENOMEM, "out of memory");
	}
	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_TO: to = a.value; break;
		case OPT_NAME: name = a.value; break;
		case OPT_S3: s3 = a.value; break;
		case OPT_S3SECRET: s3secret = a.value; break;
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos != 1) {
		rc = cli_usage(usage, "binary upload takes one FILE or SHA256");
		goto done;
	}
	if (!to) {
		rc = cli_usage(usage, "binary upload needs --to URL (file:///DIR, https://..., s3://BUCKET/PREFIX)");
		goto done;
	}
	if (!cli_net) {
		rc = cli_run_live(cli, "binary", argc, orig);
		goto done;
	}
	file = a.pos[0];
	if (cli_open_fs(&s, &fs, cli, NULL) < 0) {
		rc = cli_fail(cli, "binary upload");
		goto done;
	}
	cli_transfer_init(&t, cli, "upload", s3, 0, 0);
	if (bm_sha256_check(file) == 0 && access(file, F_OK) != 0) {
		if (bm_binary_get(&b, fs, file) < 0) {
			rc = cli_fail(cli, "binary upload");
			goto done;
		}
	} else {
		if (bm_file_sha256(hex, &size, file) < 0 || bm_binary_get(&b, fs, hex) < 0) {
			rc = cli_fail(cli, "binary upload");
			goto done;
		}
	}
	if (s3secret && cli_transfer_s3_secret(&t, fs, b->project, s3secret, s3) < 0) {
		rc = cli_fail(cli, "binary upload");
		goto done;
	}
	if (bm_sha256_check(file) == 0 && access(file, F_OK) != 0) {
		const char *u0, *slash;
		char tmpl[] = "/tmp/bootmeta-upload-XXXXXX";
		const char *tmp = getenv("TMPDIR");
		if (!name) {
			u0 = b->n_urls ? b->urls[0] : "";
			slash = strrchr(u0, '/');
			bm_buf_puts(&nm, slash ? slash + 1 : u0);
			name = nm.ptr;
		}
		if (tmp && *tmp)
			bm_buf_printf(&tmpdir, "%s/bootmeta-upload-XXXXXX", tmp);
		else
			bm_buf_puts(&tmpdir, tmpl);
		if (!tmpdir.ptr || !mkdtemp(tmpdir.ptr)) {
			rc = cli_error(cli, BM_EIO, "binary upload: cannot make a temp folder %s", tmpdir.ptr ? tmpdir.ptr : "");
			bm_buf_clear(&tmpdir);
			goto done;
		}
		bm_buf_printf(&tmpfile, "%s/%s", tmpdir.ptr, b->sha256);
		t.what = "fetch";
		cli_progress(cli, "fetching %s from its record's URLs", b->sha256);
		c = cli_net->fetch(&res, tmpfile.ptr, b, &t.o);
		cli_transfer_end(&t);
		if (c < 0) {
			rc = cli_fail(cli, "binary upload");
			goto done;
		}
		file = tmpfile.ptr;
		t.what = "upload";
	} else if (!name) {
		name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	}
	cli_progress(cli, "uploading %s to %s", b->sha256, to);
	c = cli_net->upload(&url, to, b->project, b->sha256, name, file, &t.o);
	cli_transfer_end(&t);
	if (c < 0) {
		rc = cli_fail(cli, "binary upload");
		goto done;
	}
	if (cli->json) {
		bm_buf_printf(&out, "{\"sha256\":\"%s\",\"size\":\"%llu\",\"project\":", b->sha256, (unsigned long long)b->size);
		cli_json_buf_str(&out, b->project);
		bm_buf_puts(&out, ",\"url\":");
		cli_json_buf_str(&out, url.ptr);
		bm_buf_putc(&out, '}');
		if (!out.ptr) {
			rc = cli_error(cli, BM_ENOMEM, "out of memory");
			goto done;
		}
		cli_put(&out);
	} else {
		printf("uploaded %s (%llu bytes) to %s\n", cli_esc(b->sha256), (unsigned long long)b->size, cli_esc(url.ptr));
	}
	rc = BM_EXIT_OK;
done:
	free(orig);
	cli_transfer_dispose(&t);
	if (tmpfile.size)
		unlink(tmpfile.ptr);
	if (tmpdir.size)
		rmdir(tmpdir.ptr);
	if (cli_net)
		cli_net->result_dispose(&res);
	bm_buf_dispose(&url);
	bm_buf_dispose(&tmpdir);
	bm_buf_dispose(&tmpfile);
	bm_buf_dispose(&nm);
	bm_buf_dispose(&out);
	bm_meta_free(b);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int binary_show(bm_cli *cli, int argc, char **argv)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	Bootmeta__V1__Binary *b = NULL;
	bm_binary_sigs sigs = BM_BINARY_SIGS_INIT;
	bm_buf out = BM_BUF_INIT;
	char when[40];
	size_t i;
	int rc = BM_EXIT_FAIL;

	if (cli_operands(cli, &argc, argv, usage, &rc))
		return rc;
	if (argc != 2)
		return cli_usage(usage, "binary show takes one SHA256");
	if (bm_sha256_check(argv[1]) < 0 || cli_open_fs(&s, &fs, cli, NULL) < 0 || bm_binary_get(&b, fs, argv[1]) < 0 ||
	    cli_binary_signers(&sigs, cli, fs, b) < 0) {
		rc = cli_fail(cli, "binary show");
		goto done;
	}
	if (cli->json) {
		/* the record (its `signature` is the .minisig text as `minisign -V -x` reads it),
		 * plus every signature with who signed it */
		if (cli_record_json_at(&out, b, bm_fs_commit(fs)) < 0 || (out.size--, bm_buf_puts(&out, ",\"signatures\":")) < 0 ||
		    cli_sigs_json(&out, &sigs) < 0 || bm_buf_putc(&out, '}') < 0) {
			rc = cli_fail(cli, "binary show");
			goto done;
		}
		cli_put(&out);
	} else {
		cli_time_fmt(when, sizeof(when), b->created_ms);
		printf("sha256    %s\nsize      %llu\nplatform  %s/%s\nproject   %s\nrelease   %s\n", cli_esc(b->sha256),
		       (unsigned long long)b->size, cli_esc(b->os), cli_esc(b->arch), cli_esc(b->project), cli_esc(b->release));
		for (i = 0; i < b->n_urls; i++)
			printf("url       %s\n", cli_esc(b->urls[i]));
		cli_sigs_text(&sigs, "signed    ");
		printf("created   %s by %s\n", when, cli_esc(b->actor));
	}
	rc = BM_EXIT_OK;
done:
	bm_binary_sigs_dispose(&sigs);
	bm_buf_dispose(&out);
	bm_meta_free(b);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int binary_sign(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_SIGNATURE = 256 };
	static const cli_opt opts[] = {
		{ 'k', "key", 'k', 1 },
		{ OPT_SIGNATURE, "signature", 0, 1 },
		CLI_OPT_END,
	};
	bm_binary_sign_options so = BM_BINARY_SIGN_OPTIONS_INIT;
	bm_write_options w;
	Bootmeta__V1__BinarySignature *rec = NULL;
	bm_minisign_seckey *sk = NULL;
	bm_store *s = NULL;
	bm_buf out = BM_BUF_INIT, sig = BM_BUF_INIT;
	bm_oid mc;
	const char *keyfile = NULL, *sigfile = NULL, *file;
	char hex[BM_OID_HEXSZ + 1];
	cli_args a;
	int c, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'k': keyfile = a.value; break;
		case OPT_SIGNATURE: sigfile = a.value; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_usage(usage, "binary sign takes one FILE");
	if (!keyfile == !sigfile)
		return cli_usage(usage, "binary sign needs --key KEYFILE or --signature FILE.minisig");
	file = a.pos[0];
	if (bm_sha256_check(file) == 0 && !strchr(file, '/') && access(file, F_OK) != 0)
		return cli_usage(usage, "binary sign needs the FILE, not its sha256: minisign signs the bytes");
	cli_write_options(&w, cli);
	so.write = &w;
	if (cli_open(&s, cli) < 0) {
		rc = cli_fail(cli, "binary sign");
		goto done;
	}
	if (keyfile) {
		if ((rc = cli_seckey_load(cli, &sk, keyfile)) != BM_EXIT_OK)
			goto done;
		so.key = sk;
	} else {
		if ((rc = read_minisig(cli, &sig, sigfile)) != BM_EXIT_OK)
			goto done;
		so.signature = sig.ptr;
	}
	rc = BM_EXIT_FAIL;
	if (bm_binary_sign(&rec, &mc, s, file, &so) < 0) {
		rc = cli_fail(cli, "binary sign");
		goto done;
	}
	if (cli->json) {
		if (cli_record_json_at(&out, rec, &mc) < 0) {
			rc = cli_fail(cli, "binary sign");
			goto done;
		}
		cli_put(&out);
	} else {
		printf("signed binary %s by %s (meta commit %s)\n", cli_esc(rec->sha256), cli_esc(rec->signer_key_id), cli_short(hex, &mc));
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&out);
	bm_buf_dispose(&sig);
	bm_minisign_seckey_free(sk);
	bm_meta_free(rec);
	bm_store_free(s);
	return rc;
}

static int verify_json(bm_buf *out, const bm_binary_check *c, int verified, const bm_oid *commit)
{
	char hex[BM_OID_HEXSZ + 1];
	int error;
	error = bm_buf_printf(out, "{\"verified\":%s,\"file\":{\"sha256\":\"%s\",\"size\":\"%llu\"}", verified ? "true" : "false",
			      c->sha256, (unsigned long long)c->size);
	if (!error && c->binary) {
		error = bm_buf_puts(out, ",\"binary\":");
		if (!error)
			error = cli_record_json(out, c->binary, 0);
	}
	if (!error)
		error = bm_buf_printf(out, ",\"trustedKeys\":{\"pinned\":%s,\"count\":%zu,\"source\":",
				      c->keys.pinned ? "true" : "false", c->keys.count);
	if (!error)
		error = cli_json_buf_str(out, c->keys.source.ptr);
	if (!error)
		error = bm_buf_puts(out, "},\"signatures\":");
	if (!error)
		error = cli_sigs_json(out, &c->sigs);
	if (!error && commit) {
		bm_oid_fmt(hex, commit);
		error = bm_buf_printf(out, ",\"metaCommit\":\"%s\"", hex);
	}
	return error ? error : bm_buf_putc(out, '}');
}

static int binary_verify(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'p', "project", 0, 1 },
		{ 's', "sha256", 0, 1 },
		{ 'k', "trusted-keys", 0, 1 },
		CLI_OPT_END,
	};
	bm_binary_verify_options vo = BM_BINARY_VERIFY_OPTIONS_INIT;
	bm_binary_check chk = BM_BINARY_CHECK_INIT;
	bm_trusted_keys keys = BM_TRUSTED_KEYS_INIT;
	bm_strlist files = BM_STRLIST_INIT;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf out = BM_BUF_INIT, msg = BM_BUF_INIT;
	cli_args a;
	int c, error, rc = BM_EXIT_FAIL;

	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'p': vo.project = a.value; break;
		case 's': vo.sha256 = a.value; break;
		case 'k': bm_strlist_add(&files, a.value); break;
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos != 1) {
		rc = cli_usage(usage, "binary verify takes one FILE");
		goto done;
	}
	if (cli_open_fs(&s, &fs, cli, NULL) < 0 ||
	    cli_env_trusted_keys_load(&keys, fs, (const char *const *)files.items, files.count) < 0) {
		rc = cli_fail(cli, "binary verify");
		goto done;
	}
	vo.keys = &keys;
	error = bm_binary_verify(&chk, fs, a.pos[0], &vo);
	if (error < 0 && !chk.binary) {
		rc = cli_fail(cli, "binary verify");
		goto done;
	}
	if (error < 0)
		bm_buf_puts(&msg, cli_error_text());
	if (cli->json) {
		if (verify_json(&out, &chk, error == 0, bm_fs_commit(fs)) < 0) {
			rc = cli_fail(cli, "binary verify");
			goto done;
		}
		cli_put(&out);
	} else {
		printf("file      %s\nsha256    %s\nsize      %llu\n", cli_esc(a.pos[0]), cli_esc(chk.sha256), (unsigned long long)chk.size);
		printf("binary    %s %s (%s/%s)\n", cli_esc(chk.binary->project), cli_esc(chk.binary->release), cli_esc(chk.binary->os),
		       cli_esc(chk.binary->arch));
		printf("keys      %zu trusted, from %s%s\n", keys.count, cli_esc(keys.source.ptr ? keys.source.ptr : "nowhere"),
		       keys.pinned ? " (pinned)" : "");
		if (chk.keys.source.size) /* else it stopped before the signatures */
			cli_sigs_text(&chk.sigs, "signed    ");
		printf("verified  %s\n", error == 0 ? "yes" : "NO");
	}
	if (error < 0) {
		bm_error_set(error, "%s", msg.ptr ? msg.ptr : "not verified");
		rc = cli_fail(cli, "binary verify");
		goto done;
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&msg);
	bm_buf_dispose(&out);
	bm_binary_check_dispose(&chk);
	bm_trusted_keys_dispose(&keys);
	bm_strlist_dispose(&files);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

int cmd_binary(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "add", NULL, binary_add, CLI_WRITES, NULL },
		{ "upload", NULL, binary_upload, 0, NULL },
		{ "show", NULL, binary_show, 0, NULL },
		{ "sign", NULL, binary_sign, CLI_WRITES, NULL },
		{ "verify", NULL, binary_verify, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
