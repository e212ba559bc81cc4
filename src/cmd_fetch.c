/* cmd_fetch.c: `bootmeta fetch`: find a binary's record in the meta repo (by sha256, or the
 * binary of a channel's release for a platform), download it from the record's URLs
 * (libbootmeta-net, so this runs in bootmeta-live) and let it appear under -o only once it
 * verifies as `binary verify` checks: size, sha256 and a signature by a trusted key. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli.h"
#include "cli_env.h"
#include "cli_hint.h"
#include "cli_net.h"
#include "cli_trust.h"

static const char usage[] =
	"usage: bootmeta fetch PROJECT --channel CHANNEL [--os OS] [--arch ARCH] -o FILE [OPTIONS]\n"
	"       bootmeta fetch SHA256 -o FILE [OPTIONS]\n"
	"options: [--trusted-keys FILE]... [--deadline DURATION] [--retries N] [--s3-endpoint URL]\n"
	"         [--s3-secret ENV/NAME]\n\n"
	"Downloads a recorded binary to FILE: the binary of the release CHANNEL points at for\n"
	"OS/ARCH (default: this host's, e.g. linux/amd64), or the binary SHA256. The record's\n"
	"URLs (file://, http(s)://, s3://) are tried in order; a broken download resumes (Range),\n"
	"failures are retried a bounded number of times (--retries, default 4) with growing\n"
	"pauses, a server sending more than the record's size is cut off, and the whole fetch has\n"
	"a deadline (--deadline, default 30m; 90s, 10m, 1h ...). Bytes go to FILE.part; FILE\n"
	"appears only when size, sha256 and a signature check out as `bootmeta binary verify`\n"
	"checks them (trusted keys: --trusted-keys, else $BOOTMETA_TRUSTED_KEYS, else\n"
	"~/.config/bootmeta/trusted_keys, else the repo's keys/signers). S3: --s3-endpoint or\n"
	"$BOOTMETA_S3_ENDPOINT, $AWS_REGION, $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY,\n"
	"$AWS_SESSION_TOKEN, or --s3-secret ENV/NAME: those KEY=VALUE lines in a secret of the\n"
	"project (decrypted with your age identity). Progress is shown on stderr on a terminal.\n";

/* this host's platform in Go's names (the names binary add records) */
static void host_platform(char *os, size_t oslen, char *arch, size_t archlen)
{
	struct utsname u;
	const char *a;
	snprintf(os, oslen, "linux");
	if (uname(&u) < 0) {
		snprintf(arch, archlen, "unknown");
		return;
	}
	if (!strcmp(u.sysname, "Darwin"))
		snprintf(os, oslen, "darwin");
	else if (!strcmp(u.sysname, "FreeBSD"))
		snprintf(os, oslen, "freebsd");
	a = u.machine;
	if (!strcmp(a, "x86_64") || !strcmp(a, "amd64"))
		a = "amd64";
	else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64"))
		a = "arm64";
	else if (!strncmp(a, "armv", 4))
		a = "arm";
	else if (!strcmp(a, "i386") || !strcmp(a, "i686"))
		a = "386";
	snprintf(arch, archlen, "%.*s", (int)(archlen > 1 ? archlen - 1 : 0), a);
}

/* The binary of `release` of `project` for os/arch: the records under binaries/ that say so
 * (exactly one). */
static int find_platform_binary(Bootmeta__V1__Binary **out, bm_fs *fs, const char *project, const char *release,
				const char *os, const char *arch)
{
	bm_strlist top = BM_STRLIST_INIT, files = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT, found = BM_BUF_INIT;
	Bootmeta__V1__Binary *b = NULL;
	size_t i, j, n = 0;
	int error;

	*out = NULL;
	if ((error = bm_fs_list_or_empty(&top, fs, "binaries")) < 0)
		goto done;
	for (i = 0; i < top.count; i++) {
		bm_buf_clear(&dir);
		bm_strlist_dispose(&files);
		if ((error = bm_buf_printf(&dir, "binaries/%s", top.items[i])) < 0 ||
		    (error = bm_fs_list_or_empty(&files, fs, dir.ptr)) < 0)
			goto done;
		for (j = 0; j < files.count; j++) {
			const char *f = files.items[j];
			size_t fl = strlen(f);
			char sha[65];
			if (fl != 67 || strcmp(f + 64, ".pb"))
				continue;
			memcpy(sha, f, 64);
			sha[64] = '\0';
			if ((error = bm_binary_get(&b, fs, sha)) < 0)
				goto done;
			if (!strcmp(b->project, project) && !strcmp(b->release, release) && !strcmp(b->os, os) &&
			    !strcmp(b->arch, arch)) {
				n++;
				bm_buf_printf(&found, "%s%s", found.size ? ", " : "", b->sha256);
				if (!*out) {
					*out = b;
					b = NULL;
				}
			}
			bm_meta_free(b);
			b = NULL;
		}
	}
	if (!n) {
		error = bm_error_set(BM_ENOTFOUND, "release %s of %s has no binary for %s/%s (binary add ... --os %s --arch %s)",
				     release, project, os, arch, os, arch);
	} else if (n > 1) {
		error = bm_error_set(BM_EINVALID, "release %s of %s has %zu binaries for %s/%s (%s): fetch one by its SHA256",
				     release, project, n, os, arch, found.ptr);
	}
done:
	if (error < 0) {
		bm_meta_free(*out);
		*out = NULL;
	}
	bm_meta_free(b);
	bm_strlist_dispose(&top);
	bm_strlist_dispose(&files);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&found);
	return error;
}

typedef struct {
	bm_fs *fs;
	const Bootmeta__V1__Binary *b;
	const bm_trusted_keys *keys;
	bm_binary_check chk;
	int ran;
} fetch_verify;

static int on_verify(void *payload, const char *path)
{
	fetch_verify *v = payload;
	bm_binary_verify_options vo = BM_BINARY_VERIFY_OPTIONS_INIT;
	int error;
	vo.project = v->b->project;
	vo.sha256 = v->b->sha256;
	vo.keys = v->keys;
	vo.file_sha256 = v->b->sha256; /* bm_artifact_fetch checked the bytes against it */
	v->ran = 1;
	if ((error = bm_binary_verify(&v->chk, v->fs, path, &vo)) < 0)
		return bm_error_prefix(error, "the download does not verify, so it was not kept: ");
	return 0;
}

static int result_json(bm_buf *out, const char *file, const Bootmeta__V1__Binary *b, const bm_artifact_result *r,
		       const fetch_verify *v, const bm_oid *commit)
{
	char hex[BM_OID_HEXSZ + 1];
	int error = bm_buf_puts(out, "{\"file\":");
	if (!error)
		error = cli_json_buf_str(out, file);
	if (!error)
		error = bm_buf_printf(out, ",\"sha256\":\"%s\",\"size\":\"%llu\",\"url\":", b->sha256, (unsigned long long)b->size);
	if (!error)
		error = cli_json_buf_str(out, r->url.ptr ? r->url.ptr : "");
	if (!error)
		error = bm_buf_printf(out, ",\"attempts\":%u,\"retries\":%u,\"resumedBytes\":\"%llu\",\"verified\":true,\"binary\":",
				      r->attempts, r->retries, (unsigned long long)r->resumed_bytes);
	if (!error)
		error = cli_record_json(out, b, 0);
	if (!error)
		error = bm_buf_printf(out, ",\"trustedKeys\":{\"pinned\":%s,\"count\":%zu,\"source\":",
				      v->chk.keys.pinned ? "true" : "false", v->chk.keys.count);
	if (!error)
		error = cli_json_buf_str(out, v->chk.keys.source.ptr ? v->chk.keys.source.ptr : "");
	if (!error)
		error = bm_buf_puts(out, "},\"signatures\":");
	if (!error)
		error = cli_sigs_json(out, &v->chk.sigs);
	if (!error && commit) {
		bm_oid_fmt(hex, commit);
		error = bm_buf_printf(out, ",\"metaCommit\":\"%s\"", hex);
	}
	return error ? error : bm_buf_putc(out, '}');
}

int cmd_fetch(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_CHANNEL = 256, OPT_OS, OPT_ARCH, OPT_KEYS, OPT_DEADLINE, OPT_RETRIES, OPT_S3, OPT_S3SECRET };
	static const cli_opt opts[] = {
		{ OPT_CHANNEL, "channel", 'c', 1 },
		{ OPT_OS, "os", 0, 1 },
		{ OPT_ARCH, "arch", 0, 1 },
		{ 'o', "output", 'o', 1 },
		{ OPT_KEYS, "trusted-keys", 0, 1 },
		{ OPT_DEADLINE, "deadline", 0, 1 },
		{ OPT_RETRIES, "retries", 0, 1 },
		{ OPT_S3, "s3-endpoint", 0, 1 },
		{ OPT_S3SECRET, "s3-secret", 0, 1 },
		CLI_OPT_END,
	};
	const char *channel = NULL, *os = NULL, *arch = NULL, *output = NULL, *s3 = NULL, *s3secret = NULL;
	unsigned int deadline = 0, retries = 0;
	char hos[32], harch[80];
	bm_strlist files = BM_STRLIST_INIT;
	bm_trusted_keys keys = BM_TRUSTED_KEYS_INIT;
	bm_artifact_result res = BM_ARTIFACT_RESULT_INIT;
	Bootmeta__V1__ChannelEntry *e = NULL;
	Bootmeta__V1__Binary *b = NULL;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_buf out = BM_BUF_INIT;
	fetch_verify v;
	cli_transfer t;
	cli_args a;
	int c, rc = BM_EXIT_FAIL, error;

	char **orig = cli_net ? NULL : cli_argv_copy(argc, argv);

	memset(&v, 0, sizeof(v));
	v.chk = (bm_binary_check)BM_BINARY_CHECK_INIT;
	memset(&t, 0, sizeof(t));
	cli_args_init(&a, cli, argc, argv, opts, usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_CHANNEL: channel = a.value; break;
		case OPT_OS: os = a.value; break;
		case OPT_ARCH: arch = a.value; break;
		case 'o': output = a.value; break;
		case OPT_KEYS: bm_strlist_add(&files, a.value); break;
		case OPT_S3: s3 = a.value; break;
		case OPT_S3SECRET: s3secret = a.value; break;
		case OPT_DEADLINE:
			if (cli_duration_ms(&deadline, a.value) < 0) {
				rc = cli_args_fail(&a, "--deadline '%s' is not a duration (90s, 10m, 1h)", a.value);
				goto done;
			}
			break;
		case OPT_RETRIES: {
			char *end;
			unsigned long n = strtoul(a.value, &end, 10);
			if (!*a.value || *end || n > 100) {
				rc = cli_args_fail(&a, "--retries '%s' is not a number from 0 to 100", a.value);
				goto done;
			}
			retries = n ? (unsigned int)n : BM_TRANSFER_NO_RETRIES; /* 0 is the library's default */
			break;
		}
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos != 1) {
		rc = cli_usage(usage, "fetch takes one PROJECT (with --channel) or SHA256");
		goto done;
	}
	if (!output) {
		rc = cli_usage(usage, "fetch needs -o FILE");
		goto done;
	}
	if (!channel && bm_sha256_check(a.pos[0]) < 0) {
		rc = cli_usage(usage, "fetch %s: give --channel CHANNEL for a project, or a binary's SHA256", cli_esc(a.pos[0]));
		goto done;
	}
	if (!channel && (os || arch)) {
		rc = cli_usage(usage, "--os and --arch pick a binary of a channel's release: give --channel too");
		goto done;
	}
	/* the transfers are in libbootmeta-net, which bootmeta-live links */
	if (!cli_net) {
		rc = orig ? cli_run_live(cli, NULL, argc, orig) : cli_error(cli, BM_ENOMEM, "out of memory");
		goto done;
	}
	if (cli_open_fs(&s, &fs, cli, NULL) < 0) {
		rc = cli_fail(cli, "fetch");
		goto done;
	}
	if (channel) {
		host_platform(hos, sizeof(hos), harch, sizeof(harch));
		if (bm_project_name_check(a.pos[0]) < 0 || bm_name_validate(channel, BM_NAME_CHANNEL) < 0 ||
		    bm_channel_current(&e, fs, a.pos[0], channel) < 0 || cli_check_signed_entry(cli, s, fs, e) < 0 ||
		    find_platform_binary(&b, fs, a.pos[0], e->release, os ? os : hos, arch ? arch : harch) < 0) {
			rc = cli_fail(cli, "fetch");
			goto done;
		}
	} else if (bm_binary_get(&b, fs, a.pos[0]) < 0) {
		rc = cli_fail(cli, "fetch");
		goto done;
	}
	if (cli_env_trusted_keys_load(&keys, fs, (const char *const *)files.items, files.count) < 0) {
		rc = cli_fail(cli, "fetch");
		goto done;
	}
	v.fs = fs;
	v.b = b;
	v.keys = &keys;
	cli_transfer_init(&t, cli, "fetch", s3, deadline, retries);
	if (s3secret && cli_transfer_s3_secret(&t, fs, b->project, s3secret, s3) < 0) {
		rc = cli_fail(cli, "fetch");
		goto done;
	}
	t.o.verify = on_verify;
	t.o.verify_payload = &v;
	cli_progress(cli, "fetching %s %s (%s/%s, %llu bytes, %s) to %s", b->project, b->release, b->os, b->arch,
		     (unsigned long long)b->size, b->sha256, output);
	error = cli_net->fetch(&res, output, b, &t.o);
	cli_transfer_end(&t);
	if (error < 0) {
		rc = cli_fail(cli, "fetch");
		goto done;
	}
	if (cli->json) {
		if (result_json(&out, output, b, &res, &v, bm_fs_commit(fs)) < 0) {
			rc = cli_fail(cli, "fetch");
			goto done;
		}
		cli_put(&out);
	} else {
		size_t i;
		printf("fetched %s (%llu bytes) from %s to %s\n", cli_esc(b->sha256), (unsigned long long)b->size,
		       cli_esc(res.url.ptr), cli_esc(output));
		for (i = 0; i < v.chk.sigs.count; i++)
			if (v.chk.sigs.items[i].status == BM_SIG_VERIFIED)
				printf("verified: signed by %s (%s)\n", v.chk.sigs.items[i].key_id,
				       v.chk.keys.pinned ? "pinned key" : "keys/signers");
		if (res.retries || res.resumed_bytes)
			printf("retries %u, resumed %llu bytes\n", res.retries, (unsigned long long)res.resumed_bytes);
	}
	rc = BM_EXIT_OK;
done:
	free(orig);
	cli_transfer_dispose(&t);
	if (cli_net)
		cli_net->result_dispose(&res);
	bm_buf_dispose(&out);
	bm_binary_check_dispose(&v.chk);
	bm_trusted_keys_dispose(&keys);
	bm_strlist_dispose(&files);
	bm_meta_free(b);
	bm_meta_free(e);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}
