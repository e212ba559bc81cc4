/* cli_net.h: what the commands that move artifacts share (`fetch`, `binary upload`, `binary
 * add --upload`): the transfer options of libbootmeta-net from the command line and the
 * environment (the library reads neither), a progress line on a terminal, durations. */
#ifndef BM_CLI_NET_H
#define BM_CLI_NET_H

#include "cli.h"

typedef struct {
	bm_transfer_options o;
	bm_cli *cli;
	int tty;             /* progress on stderr */
	int shown;           /* a progress line is on the screen */
	uint64_t last_ms;
	const char *what;    /* "fetch", "upload" */
	bm_buf secret;       /* --s3-secret's plaintext, which o's S3 fields may point into */
} cli_transfer;

/* The options: S3 endpoint `s3_endpoint` (--s3-endpoint), else $BOOTMETA_S3_ENDPOINT; region
 * $AWS_REGION, else $AWS_DEFAULT_REGION; keys $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY,
 * $AWS_SESSION_TOKEN; CAs $SSL_CERT_FILE, $SSL_CERT_DIR; deadline and retries (0: the
 * library's defaults); a progress line when stderr is a terminal (not with --quiet/--json). */
void cli_transfer_init(cli_transfer *t, bm_cli *cli, const char *what, const char *s3_endpoint, unsigned int deadline_ms,
		       unsigned int retries);
/* End the progress line, if one is shown. */
void cli_transfer_end(cli_transfer *t);
/* --s3-secret ENV/NAME: S3 settings from secret NAME of `project` in env ENV (ENV may
 * have '/': dev/alice), decrypted with the age identity (--identity, $BOOTMETA_IDENTITY,
 * ~/.config/bootmeta/identity). Its lines are KEY=VALUE: AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, BOOTMETA_S3_ENDPOINT ('#' lines and
 * blank lines skipped; another key is an error); what it sets wins over the environment,
 * --s3-endpoint over both. Prints nothing; < 0 with the error. */
int cli_transfer_s3_secret(cli_transfer *t, bm_fs *fs, const char *project, const char *spec, const char *endpoint_flag);
/* Wipe and free what cli_transfer_s3_secret read (and end the progress line). */
void cli_transfer_dispose(cli_transfer *t);
/* "90s", "500ms", "15m", "2h", or a number of seconds, into milliseconds (1 ms to 7 days).
 * 0, or -1 when it is not one. */
int cli_duration_ms(unsigned int *out, const char *s);

#endif
