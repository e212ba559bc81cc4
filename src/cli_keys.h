/* cli_keys.h: what the commands that sign share: passwords (from $BOOTMETA_PASSWORD or the
 * terminal, never argv), reading key files, loading a minisign secret key. */
#ifndef BM_CLI_KEYS_H
#define BM_CLI_KEYS_H

#include "cli.h"

#define CLI_PASSWORD_MAX 1024
#define CLI_KEYFILE_MAX (64 * 1024)

/* bm_file_read, with the text NUL-terminated also for an empty file. */
int cli_read_text(bm_buf *out, const char *path, size_t max);
/* Read a minisign public key file into `pk`: 0, else an error (not printed) that names the
 * file, or says it is a secret key. */
int cli_pubkey_read(bm_minisign_pubkey *pk, const char *path);
/* A password in sodium_malloc memory (free with sodium_free): $BOOTMETA_PASSWORD, else the
 * terminal (asked twice when `twice`). Returns an exit code (the error is printed). */
int cli_password_get(bm_cli *cli, char **out, int twice);
/* Load a minisign secret key file, asking for its password when it is encrypted. Returns an
 * exit code (the error is printed). Free *out with bm_minisign_seckey_free. */
int cli_seckey_load(bm_cli *cli, bm_minisign_seckey **out, const char *path);

#endif
