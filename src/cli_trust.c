/* cli_trust.c: signers of binaries for display, and --require-signed for channel reads. */
#include <stdlib.h>
#include <string.h>

#include "cli_trust.h"
#include "cli_env.h"
#include "cli_hint.h"

int cli_require_signed(bm_cli *cli, bm_store *s)
{
	return cli->require_signed || bm_store_require_signed(s);
}

int cli_check_signed_entry(bm_cli *cli, bm_store *s, bm_fs *fs, const Bootmeta__V1__ChannelEntry *e)
{
	bm_buf path = BM_BUF_INIT, why = BM_BUF_INIT;
	int error;

	if (!cli_require_signed(cli, s))
		return 0;
	if ((error = bm_path_channel_entry(&path, e->project, e->channel, e->seq)) < 0)
		goto done;
	if ((error = bm_store_verify_path(NULL, NULL, s, path.ptr, bm_fs_commit(fs), NULL)) == 0)
		goto done;
	bm_buf_puts(&why, cli_error_text());
	error = bm_error_set(error, "--require-signed: refusing channel entry %s %s #%llu (release %s): %s%s", e->project,
			     e->channel, (unsigned long long)e->seq, e->release, why.ptr ? why.ptr : "",
			     error == BM_ENOTFOUND ? "" :
			     ". Writers sign with BOOTMETA_SIGNING_KEY or git config bootmeta.signingKey (an "
			     "ssh-ed25519 key); readers list the signers' public keys in an allowed-signers file "
			     "(BOOTMETA_ALLOWED_SIGNERS or git config bootmeta.allowedSignersFile, as "
			     "gpg.ssh.allowedSignersFile)");
done:
	bm_buf_dispose(&why);
	bm_buf_dispose(&path);
	return error;
}

int cli_binary_signers(bm_binary_sigs *out, bm_cli *cli, bm_fs *fs, const Bootmeta__V1__Binary *b)
{
	bm_trusted_keys keys = BM_TRUSTED_KEYS_INIT;
	int error, have_keys = 1;

	if (cli_env_trusted_keys_load(&keys, fs, NULL, 0) < 0) {
		if (!cli->quiet)
			fprintf(stderr, "bootmeta: warning: signers not checked: %s\n", cli_error_text());
		bm_error_clear();
		have_keys = 0;
	}
	error = bm_binary_signatures(out, fs, b, have_keys ? &keys : NULL);
	bm_trusted_keys_dispose(&keys);
	return error;
}

static int key_trusted(const bm_binary_sig *s)
{
	return s->status == BM_SIG_VERIFIED || s->status == BM_SIG_COMMENT_VERIFIED || s->status == BM_SIG_MISMATCH;
}

void cli_sigs_text(const bm_binary_sigs *l, const char *indent)
{
	size_t i;
	if (!l->count)
		printf("%s(none)\n", indent);
	for (i = 0; i < l->count; i++) {
		const bm_binary_sig *s = &l->items[i];
		printf("%s%s  %s", indent, cli_esc(*s->key_id ? s->key_id : "?"), bm_sig_status_name(s->status));
		if (s->trusted_comment.size) {
			const char *p;
			fputs("  \"", stdout);
			for (p = s->trusted_comment.ptr; *p; p++)
				putchar(*p == '\t' ? ' ' : *p);
			putchar('"');
		}
		if (s->detail.size && s->status != BM_SIG_UNTRUSTED_KEY)
			printf("  (%s)", cli_esc(s->detail.ptr));
		printf("\n");
	}
}

int cli_sigs_json(bm_buf *out, const bm_binary_sigs *l)
{
	size_t i;
	int error = bm_buf_putc(out, '[');
	for (i = 0; !error && i < l->count; i++) {
		const bm_binary_sig *s = &l->items[i];
		error = bm_buf_printf(out, "%s{\"keyId\":\"%s\",\"status\":\"%s\",\"keyTrusted\":%s,\"prehashed\":%s,"
				      "\"createdMs\":\"%lld\",\"path\":", i ? "," : "", s->key_id,
				      bm_sig_status_name(s->status), key_trusted(s) ? "true" : "false",
				      s->prehashed ? "true" : "false", (long long)s->created_ms);
		if (!error)
			error = cli_json_buf_str(out, s->path);
		if (!error && (error = bm_buf_puts(out, ",\"actor\":")) == 0)
			error = cli_json_buf_str(out, s->actor);
		if (!error && (error = bm_buf_puts(out, ",\"trustedComment\":")) == 0)
			error = cli_json_buf_str(out, s->trusted_comment.ptr);
		if (!error && s->detail.size && (error = bm_buf_puts(out, ",\"detail\":")) == 0)
			error = cli_json_buf_str(out, s->detail.ptr);
		if (!error && (error = bm_buf_puts(out, ",\"signature\":")) == 0)
			error = cli_json_buf_str(out, s->minisig);
		if (!error)
			error = bm_buf_putc(out, '}');
	}
	return error ? error : bm_buf_putc(out, ']');
}
