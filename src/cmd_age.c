/* cmd_age.c: `bootmeta age keygen|encrypt|decrypt`: age v1 files, interoperable with the
 * age and age-keygen programs. Files are streamed (constant memory); an output file named
 * with -o is written under a temporary name in its folder and renamed only on success, so
 * a failed decryption never leaves plaintext behind. */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "cli.h"
#include "cli_hint.h"

int cmd_age(bm_cli *cli, int argc, char **argv);

static const char usage_age[] =
	"usage: bootmeta age keygen [-o FILE]\n"
	"       bootmeta age keygen -y [IDENTITY_FILE]\n"
	"       bootmeta age encrypt (-r RECIPIENT | -R FILE)... [-a] [-o OUT] [INPUT]\n"
	"       bootmeta age encrypt -p [-a] [-o OUT] [INPUT]\n"
	"       bootmeta age decrypt [-i IDENTITY_FILE]... [-o OUT] [INPUT]\n"
	"\n"
	"age v1 encryption (age-encryption.org/v1), interoperable with age(1).\n"
	"INPUT defaults to stdin, OUT to stdout. Passphrases (-p, or decrypting a passphrase\n"
	"file) are read from the terminal, or from $BOOTMETA_PASSPHRASE for scripts.\n";

static const char usage_keygen[] =
	"usage: bootmeta age keygen [-o FILE]\n"
	"       bootmeta age keygen -y [IDENTITY_FILE]\n"
	"\n"
	"Make an X25519 identity (AGE-SECRET-KEY-1...) and print it with its recipient\n"
	"(age1...) as a comment, as age-keygen does. With -o the file is created with mode\n"
	"0600 and never overwritten; the recipient is printed on stderr.\n"
	"-y prints the recipient of each identity in IDENTITY_FILE (or stdin).\n"
	"\n"
	"  -o, --output FILE   write the identity to FILE\n"
	"  -y                  convert identities to recipients\n";

static const char usage_encrypt[] =
	"usage: bootmeta age encrypt (-r RECIPIENT | -R FILE)... [-a] [-o OUT] [INPUT]\n"
	"       bootmeta age encrypt -p [--work-factor N] [-a] [-o OUT] [INPUT]\n"
	"\n"
	"  -r, --recipient age1...   encrypt to this recipient (repeatable)\n"
	"  -R, --recipients-file F   encrypt to every recipient in F, one per line, '#'\n"
	"                            comments (repeatable)\n"
	"  -p, --passphrase          encrypt with a passphrase (scrypt); read from the\n"
	"                            terminal, or from $BOOTMETA_PASSPHRASE\n"
	"      --work-factor N       scrypt log2 work factor for -p (default 18, as age)\n"
	"  -a, --armor               PEM-armored ASCII output\n"
	"  -o, --output OUT          write to OUT (atomically) instead of stdout\n";

static const char usage_decrypt[] =
	"usage: bootmeta age decrypt [-i IDENTITY_FILE]... [-o OUT] [INPUT]\n"
	"\n"
	"Identity files must not be readable by group or others (chmod 600). Without -i, the\n"
	"global --identity / $BOOTMETA_IDENTITY is used; with none at all the file is taken\n"
	"to be passphrase-encrypted (passphrase from the terminal or $BOOTMETA_PASSPHRASE).\n"
	"Armored input is detected. With -o, OUT appears only when the whole file decrypted\n"
	"and authenticated (mode 0600); on stdout, plaintext is streamed as it verifies.\n"
	"\n"
	"  -i, --identity FILE   an identity file (repeatable)\n"
	"  -o, --output OUT      write to OUT instead of stdout\n"
	"      --max-work-factor N  accept scrypt work factors up to 2^N (default 22)\n";

/* ---- output: stdout, or a temporary file renamed into place on success ---- */

typedef struct {
	int fd;
	char *final;  /* NULL: stdout */
	char *tmp;
} output;

static int output_open(output *o, bm_cli *cli, const char *path, mode_t mode)
{
	char *dircopy = NULL, *basecopy = NULL;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	o->fd = STDOUT_FILENO;
	if (!path || !strcmp(path, "-"))
		return 0;
	dircopy = strdup(path);
	basecopy = strdup(path);
	o->final = strdup(path);
	if (!dircopy || !basecopy || !o->final ||
	    asprintf(&o->tmp, "%s/.%s.bootmeta-XXXXXX", dirname(dircopy), basename(basecopy)) < 0) {
		o->tmp = NULL;
		rc = cli_error(cli, BM_ENOMEM, "out of memory");
		goto done;
	}
	o->fd = mkstemp(o->tmp);
	if (o->fd >= 0)
		cli_tmp_add(o->tmp);
	if (o->fd < 0) {
		rc = cli_error(cli, BM_EIO, "cannot create a file next to %s: %s", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		goto done;
	}
	if (fchmod(o->fd, mode) < 0) {
		rc = cli_error(cli, BM_EIO, "cannot set the mode of %s: %s", o->tmp, strerror(errno));
		goto done;
	}
done:
	free(dircopy);
	free(basecopy);
	return rc;
}

/* Keep the output (rename into place) when `ok`, else remove it. */
static int output_close(output *o, bm_cli *cli, int ok)
{
	int rc = 0;
	if (o->tmp) {
		if (ok && fsync(o->fd) < 0) {
			rc = cli_error(cli, BM_EIO, "cannot write %s: %s", o->final, strerror(errno));
			ok = 0;
		}
		close(o->fd);
		if (ok && rename(o->tmp, o->final) < 0) {
			rc = cli_error(cli, BM_EIO, "cannot rename %s to %s: %s", o->tmp, o->final, strerror(errno));
			ok = 0;
		}
		if (!ok)
			unlink(o->tmp);
		cli_tmp_forget(o->tmp); /* after: a signal before it only unlinks a name now gone */
	}
	free(o->tmp);
	free(o->final);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	return rc;
}

static int input_open(bm_cli *cli, const char *path, int *fd)
{
	if (!path || !strcmp(path, "-")) {
		*fd = STDIN_FILENO;
		return 0;
	}
	/* age reads its input as a stream (a pipe, <(...)), as age does */
	if (bm_file_open_read(fd, path, BM_FILE_STREAM) < 0)
		return cli_fail(cli, "age");
	return 0;
}

/* ---- passphrases ---- */

/* Read one line from the terminal without echo. */
static int tty_read_secret(bm_buf *out, const char *prompt)
{
	struct termios old, quiet;
	int fd, error = 0, restore = 0;
	char c;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return bm_error_set(BM_EINVALID, "cannot read a passphrase: no terminal (%s); set BOOTMETA_PASSPHRASE for scripts",
				    strerror(errno));
	if (write(fd, prompt, strlen(prompt)) < 0) {
		error = bm_error_set(BM_EIO, "cannot write to the terminal: %s", strerror(errno));
		goto done;
	}
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		if (c == '\r')
			continue;
		if (out->size + 2 > out->asize) {
			error = bm_error_set(BM_ETOOBIG, "the passphrase is too long");
			goto done;
		}
		out->ptr[out->size++] = c;
		out->ptr[out->size] = '\0';
	}
done:
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	c = 0;
	close(fd);
	return error;
}

/* The passphrase from $BOOTMETA_PASSPHRASE, else the terminal (twice when `confirm`). */
static int get_passphrase(bm_buf *out, int confirm)
{
	const char *env = getenv("BOOTMETA_PASSPHRASE");
	bm_buf again = BM_BUF_INIT;
	int error;

	bm_buf_dispose_secret(out);
	/* fixed room: the terminal reader never reallocates secret bytes */
	if ((error = bm_buf_grow(out, 1024)) < 0)
		return error;
	bm_buf_clear(out);
	if (env && *env)
		return bm_buf_puts(out, env);
	if ((error = tty_read_secret(out, "Enter passphrase: ")) < 0)
		goto done;
	if (out->size == 0) {
		error = bm_error_set(BM_EINVALID, "the passphrase is empty");
		goto done;
	}
	if (confirm) {
		if ((error = bm_buf_grow(&again, 1024)) < 0)
			goto done;
		bm_buf_clear(&again);
		if ((error = tty_read_secret(&again, "Confirm passphrase: ")) < 0)
			goto done;
		if (again.size != out->size || memcmp(again.ptr, out->ptr, out->size)) {
			error = bm_error_set(BM_EINVALID, "the passphrases do not match");
			goto done;
		}
	}
done:
	bm_buf_dispose_secret(&again);
	return error;
}

static int ask_passphrase(bm_buf *out, void *ctx)
{
	(void)ctx;
	return get_passphrase(out, 0);
}

/* ---- keygen ---- */

static void rfc3339_now(char *out, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	char z[8];
	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(z, sizeof(z), "%z", &tm);
	if (!strcmp(z, "+0000"))
		snprintf(out + strlen(out), len - strlen(out), "Z");
	else if (strlen(z) == 5)
		snprintf(out + strlen(out), len - strlen(out), "%.3s:%.2s", z, z + 3);
}

static int keygen_convert(bm_cli *cli, const char *path)
{
	bm_buf text = BM_BUF_INIT, r = BM_BUF_INIT;
	char *line, *save = NULL;
	int rc = BM_EXIT_OK, found = 0;

	if (path && strcmp(path, "-")) {
		if (bm_age_identity_file_read(&text, path) < 0)
			return cli_fail(cli, "keygen -y");
	} else {
		char buf[4096];
		ssize_t n;
		if (bm_buf_grow(&text, 1 << 20) < 0)
			return cli_fail(cli, "keygen -y");
		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 && text.size + (size_t)n < (1 << 20))
			bm_buf_put(&text, buf, (size_t)n);
		sodium_memzero(buf, sizeof(buf));
	}
	for (line = strtok_r(text.ptr ? text.ptr : (char *)"", "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		if (bm_age_recipient_of(&r, line) < 0) {
			rc = cli_fail(cli, "keygen -y");
			goto done;
		}
		printf("%s\n", r.ptr);
		found = 1;
	}
	if (!found)
		rc = cli_error(cli, BM_ENOTFOUND, "keygen -y: no identity (AGE-SECRET-KEY-1...) found");
done:
	bm_buf_dispose_secret(&text);
	bm_buf_dispose(&r);
	return rc;
}

static int age_keygen(bm_cli *cli, int argc, char **argv)
{
	static const cli_opt opts[] = {
		{ 'o', "output", 'o', 1 },
		{ 'y', NULL, 'y', 0 },
		CLI_OPT_END,
	};
	const char *outpath = NULL;
	bm_buf id = BM_BUF_INIT, r = BM_BUF_INIT, text = BM_BUF_INIT;
	char created[64];
	cli_args a;
	int c, convert = 0, rc = BM_EXIT_OK, fd = -1;

	cli_args_init(&a, cli, argc, argv, opts, usage_keygen);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'o': outpath = a.value; break;
		case 'y': convert = 1; break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (convert) {
		if (outpath)
			return cli_usage(usage_keygen, "-y and -o do not go together");
		if (a.npos > 1)
			return cli_usage(usage_keygen, "-y takes at most one file");
		return keygen_convert(cli, a.npos > 0 ? a.pos[0] : NULL);
	}
	if (a.npos != 0)
		return cli_usage(usage_keygen, "unexpected argument '%s'", a.pos[0]);
	if (bm_age_keygen(&id, &r) < 0) {
		rc = cli_fail(cli, "keygen");
		goto done;
	}
	rfc3339_now(created, sizeof(created));
	if (bm_buf_grow(&text, 512) < 0 ||
	    bm_buf_printf(&text, "# created: %s\n# public key: %s\n%s\n", created, r.ptr, id.ptr) < 0) {
		rc = cli_fail(cli, "keygen");
		goto done;
	}
	if (outpath) {
		fd = open(outpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			int exists = errno == EEXIST;
			rc = cli_error(cli, exists ? BM_EEXISTS : BM_EIO,
				       exists ? "keygen: %s already exists; not overwriting a key (remove it first)"
					      : "keygen: cannot create %s: %s",
				       outpath, strerror(errno));
			goto done;
		}
		if (bm_age_fd_write(&fd, text.ptr, text.size) < 0 || fsync(fd) < 0) {
			rc = cli_fail(cli, "keygen");
			close(fd);
			unlink(outpath);
			goto done;
		}
		close(fd);
		fprintf(stderr, "Public key: %s\n", r.ptr);
	} else {
		fputs(text.ptr, stdout);
		fflush(stdout);
	}
done:
	bm_buf_dispose_secret(&id);
	bm_buf_dispose_secret(&text);
	bm_buf_dispose(&r);
	return rc;
}

/* ---- encrypt ---- */

static int add_recipients_file(bm_cli *cli, bm_strlist *list, const char *path)
{
	bm_buf text = BM_BUF_INIT;
	char *line, *next;
	size_t lineno = 0, before = list->count;
	int rc = 0;

	if (bm_file_read(&text, path, 1 << 20) < 0)
		return cli_fail(cli, path);
	for (line = text.ptr; line && *line; line = next) {
		char *end;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		end = line + strlen(line);
		while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*line || *line == '#')
			continue;
		if (bm_age_recipient_check(line) < 0) {
			rc = cli_error(cli, bm_error_last_code(), "%s:%zu: %s", path, lineno, cli_error_text());
			goto done;
		}
		bm_strlist_add(list, line);
	}
	if (list->count == before)
		rc = cli_error(cli, BM_ENOTFOUND, "%s: no recipient in the file", path);
done:
	bm_buf_dispose(&text);
	return rc;
}

static int age_encrypt(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_WORK = 256 };
	static const cli_opt opts[] = {
		{ 'r', "recipient", 'r', 1 },
		{ 'R', "recipients-file", 'R', 1 },
		{ 'p', "passphrase", 'p', 0 },
		{ OPT_WORK, "work-factor", 0, 1 },
		{ 'a', "armor", 'a', 0 },
		{ 'o', "output", 'o', 1 },
		CLI_OPT_END,
	};
	bm_strlist rcpts = BM_STRLIST_INIT;
	bm_age_encryptor *enc = NULL;
	bm_buf pass = BM_BUF_INIT;
	output out = { -1, NULL, NULL };
	const char *outpath = NULL;
	unsigned char *buf = NULL;
	cli_args a;
	int c, rc = BM_EXIT_OK, armor = 0, passphrase = 0, work = 0, in = -1, opened = 0;

	cli_args_init(&a, cli, argc, argv, opts, usage_encrypt);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'r':
			if (bm_age_recipient_check(a.value) < 0) {
				rc = cli_fail(cli, "encrypt");
				goto done;
			}
			bm_strlist_add(&rcpts, a.value);
			break;
		case 'R':
			if ((rc = add_recipients_file(cli, &rcpts, a.value)) != 0)
				goto done;
			break;
		case 'p': passphrase = 1; break;
		case OPT_WORK: {
			char *end;
			long v = strtol(a.value, &end, 10);
			if (*end || v < 1 || v > 30) {
				rc = cli_usage(usage_encrypt, "--work-factor takes a number from 1 to 30");
				goto done;
			}
			work = (int)v;
			break;
		}
		case 'a': armor = 1; break;
		case 'o': outpath = a.value; break;
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos > 1) {
		rc = cli_usage(usage_encrypt, "at most one INPUT file");
		goto done;
	}
	if (passphrase && rcpts.count) {
		rc = cli_usage(usage_encrypt, "-p does not go with -r/-R: a passphrase file has no other recipients");
		goto done;
	}
	if (!passphrase && !rcpts.count) {
		rc = cli_usage(usage_encrypt, "give at least one recipient (-r age1..., -R FILE) or -p");
		goto done;
	}
	if (work && !passphrase) {
		rc = cli_usage(usage_encrypt, "--work-factor only goes with -p");
		goto done;
	}
	if ((!outpath || !strcmp(outpath, "-")) && !armor && isatty(STDOUT_FILENO)) {
		rc = cli_error(cli, BM_EINVALID,
			       "encrypt: refusing to write binary age output to a terminal; use -a (armor) or -o FILE");
		goto done;
	}
	if ((rc = input_open(cli, a.npos > 0 ? a.pos[0] : NULL, &in)) != 0)
		goto done;
	if (passphrase && get_passphrase(&pass, 1) < 0) {
		rc = cli_fail(cli, "encrypt");
		goto done;
	}
	{
		mode_t um = umask(0);
		umask(um);
		if ((rc = output_open(&out, cli, outpath, 0666 & ~um)) != 0)
			goto done;
		opened = 1;
	}
	if (passphrase) {
		if (bm_age_encryptor_new_passphrase(&enc, pass.ptr, work, armor, bm_age_fd_write, &out.fd) < 0) {
			rc = cli_fail(cli, "encrypt");
			goto done;
		}
	} else if (bm_age_encryptor_new(&enc, (const char *const *)rcpts.items, rcpts.count, armor,
					bm_age_fd_write, &out.fd) < 0) {
		rc = cli_fail(cli, "encrypt");
		goto done;
	}
	if (!(buf = malloc(4 * BM_AGE_CHUNK_SIZE))) {
		rc = cli_error(cli, BM_ENOMEM, "out of memory");
		goto done;
	}
	for (;;) {
		size_t got = 0;
		if (bm_age_fd_read(&in, buf, 4 * BM_AGE_CHUNK_SIZE, &got) < 0 ||
		    (got && bm_age_encryptor_write(enc, buf, got) < 0)) {
			rc = cli_fail(cli, "encrypt");
			goto done;
		}
		if (!got)
			break;
	}
	if (bm_age_encryptor_finish(enc) < 0)
		rc = cli_fail(cli, "encrypt");
done:
	if (opened && output_close(&out, cli, rc == BM_EXIT_OK) != 0)
		rc = BM_EXIT_FAIL;
	if (in > STDIN_FILENO)
		close(in);
	bm_age_encryptor_free(enc);
	if (buf) {
		sodium_memzero(buf, 4 * BM_AGE_CHUNK_SIZE);
		free(buf);
	}
	bm_strlist_dispose(&rcpts);
	bm_buf_dispose_secret(&pass);
	return rc;
}

/* ---- decrypt ---- */

static int add_identity_file(bm_cli *cli, bm_age_identities *ids, const char *path)
{
	bm_buf text = BM_BUF_INIT;
	int rc = 0;
	if (bm_age_identity_file_read(&text, path) < 0) {
		rc = cli_fail(cli, "decrypt");
	} else if (bm_age_identities_add_text(ids, text.ptr) < 0) {
		bm_error_prefix(bm_error_last_code(), "%s", path);
		rc = cli_fail(cli, "decrypt");
	}
	bm_buf_dispose_secret(&text);
	return rc;
}

static int age_decrypt(bm_cli *cli, int argc, char **argv)
{
	enum { OPT_MAXWORK = 256 };
	static const cli_opt opts[] = {
		{ 'i', "identity", 'i', 1 },
		{ 'o', "output", 'o', 1 },
		{ OPT_MAXWORK, "max-work-factor", 0, 1 },
		CLI_OPT_END,
	};
	bm_age_identities *ids = NULL;
	bm_age_failure failure = BM_AGE_FAIL_NONE;
	output out = { -1, NULL, NULL };
	const char *outpath = NULL;
	cli_args a;
	int c, rc = BM_EXIT_OK, in = -1, opened = 0, nfiles = 0;

	if (bm_age_identities_new(&ids) < 0)
		return cli_fail(cli, "decrypt");
	cli_args_init(&a, cli, argc, argv, opts, usage_decrypt);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case 'i':
			nfiles++;
			if ((rc = add_identity_file(cli, ids, a.value)) != 0)
				goto done;
			break;
		case 'o': outpath = a.value; break;
		case OPT_MAXWORK: {
			char *end;
			long v = strtol(a.value, &end, 10);
			if (*end || bm_age_identities_set_max_work_factor(ids, (int)(v > 99 ? 99 : v)) < 0) {
				rc = cli_usage(usage_decrypt, "--max-work-factor takes a number from 1 to 30");
				goto done;
			}
			break;
		}
		}
	}
	if (c < 0) {
		rc = CLI_ARGS_EXIT(c);
		goto done;
	}
	if (a.npos > 1) {
		rc = cli_usage(usage_decrypt, "at most one INPUT file");
		goto done;
	}
	if (!nfiles && cli->identity && *cli->identity) {
		nfiles++;
		if ((rc = add_identity_file(cli, ids, cli->identity)) != 0)
			goto done;
	}
	if (!nfiles)
		bm_age_identities_set_passphrase_fn(ids, ask_passphrase, NULL);
	if ((rc = input_open(cli, a.npos > 0 ? a.pos[0] : NULL, &in)) != 0)
		goto done;
	if ((rc = output_open(&out, cli, outpath, 0600)) != 0)
		goto done;
	opened = 1;
	if (bm_age_decrypt_fd(out.fd, in, ids, &failure) < 0) {
		rc = cli_fail(cli, "decrypt");
		goto done;
	}
done:
	if (opened && output_close(&out, cli, rc == BM_EXIT_OK) != 0)
		rc = BM_EXIT_FAIL;
	if (in > STDIN_FILENO)
		close(in);
	bm_age_identities_free(ids);
	return rc;
}

int cmd_age(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "keygen", NULL, age_keygen, 0, NULL },
		{ "encrypt", NULL, age_encrypt, 0, NULL },
		{ "decrypt", NULL, age_decrypt, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage_age, argc, argv);
}
