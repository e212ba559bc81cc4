/* cli_keys.c: passwords and secret keys for the commands that sign (`key`, `binary`),
 * shared so that each asks the same way and wipes what it read. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>

#include "cli_keys.h"

/* bm_buf_grow on an empty buffer does not write the terminator: do it here. */
int cli_read_text(bm_buf *out, const char *path, size_t max)
{
	int error = bm_file_read(out, path, max);
	if (!error && out->ptr)
		out->ptr[out->size] = '\0';
	return error;
}

int cli_pubkey_read(bm_minisign_pubkey *pk, const char *path)
{
	bm_buf text = BM_BUF_INIT;
	int error;
	if ((error = cli_read_text(&text, path, CLI_KEYFILE_MAX)) < 0)
		error = bm_error_prefix(error, "reading the public key");
	else if ((error = bm_minisign_pubkey_parse(pk, text.ptr)) < 0)
		error = strstr(text.ptr, "secret key")
				? bm_error_set(BM_EINVALID, "%s is a secret key; give the public key (.pub) file", path)
				: bm_error_prefix(error, "%s", path);
	bm_buf_dispose_secret(&text);
	return error;
}

/* ---- passwords ---- */

/* Read one line from the terminal without echo. 0, or -1 when there is no terminal. */
static int tty_read_password(char *buf, size_t size, const char *prompt)
{
	struct termios old, quiet;
	size_t n = 0;
	int fd, rc = -1, restored = 0;
	char c;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSANOW, &quiet);
		restored = 1;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		goto done;
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	sodium_memzero(&c, sizeof(c));
	rc = 0;
done:
	if (restored)
		tcsetattr(fd, TCSANOW, &old);
	if (write(fd, "\n", 1) < 0) {
		/* nothing to do: the prompt line just stays open */
	}
	close(fd);
	return rc;
}

int cli_password_get(bm_cli *cli, char **out, int twice)
{
	const char *env = getenv("BOOTMETA_PASSWORD");
	char *pw = sodium_malloc(CLI_PASSWORD_MAX), *again = NULL;
	int rc = BM_EXIT_FAIL;

	*out = NULL;
	if (!pw)
		return cli_error(cli, BM_ENOMEM, "out of memory");
	if (env) {
		if (strlen(env) >= CLI_PASSWORD_MAX) {
			cli_error(cli, BM_ETOOBIG, "BOOTMETA_PASSWORD is longer than %d bytes", CLI_PASSWORD_MAX - 1);
			goto done;
		}
		memcpy(pw, env, strlen(env) + 1);
	} else {
		if (tty_read_password(pw, CLI_PASSWORD_MAX, "Password: ") < 0) {
			cli_error(cli, BM_EINVALID, "a password is needed and there is no terminal to ask on: set BOOTMETA_PASSWORD%s",
				  twice ? ", or use --no-password" : "");
			goto done;
		}
		if (twice) {
			if (!(again = sodium_malloc(CLI_PASSWORD_MAX))) {
				cli_error(cli, BM_ENOMEM, "out of memory");
				goto done;
			}
			if (tty_read_password(again, CLI_PASSWORD_MAX, "Password (again): ") < 0 || strcmp(pw, again) != 0) {
				cli_error(cli, BM_EINVALID, "the passwords do not match");
				goto done;
			}
		}
	}
	if (!*pw) {
		cli_error(cli, BM_EINVALID, "empty password; use --no-password for an unencrypted key");
		goto done;
	}
	*out = pw;
	pw = NULL;
	rc = BM_EXIT_OK;
done:
	if (pw)
		sodium_free(pw);
	if (again)
		sodium_free(again);
	return rc;
}

int cli_seckey_load(bm_cli *cli, bm_minisign_seckey **out, const char *path)
{
	bm_buf keytext = BM_BUF_INIT;
	char *pw = NULL;
	int enc, rc = BM_EXIT_FAIL;

	*out = NULL;
	if (cli_read_text(&keytext, path, CLI_KEYFILE_MAX) < 0) {
		rc = cli_fail(cli, "reading the secret key");
		goto done;
	}
	if ((enc = bm_minisign_seckey_is_encrypted(keytext.ptr)) < 0) {
		rc = cli_fail(cli, path);
		goto done;
	}
	if (enc) {
		if (cli_password_get(cli, &pw, 0) != BM_EXIT_OK)
			goto done;
		cli_progress(cli, "deriving the key from the password (scrypt)...");
	}
	if (bm_minisign_seckey_load(out, keytext.ptr, pw) < 0) {
		rc = cli_fail(cli, path);
		goto done;
	}
	rc = BM_EXIT_OK;
done:
	if (pw)
		sodium_free(pw);
	bm_buf_dispose_secret(&keytext);
	return rc;
}
