/* secret.c: age-encrypted secrets per environment and the recipients who may read them.
 * See include/bootmeta/secret.h for the layout and the contract. Every write is one store
 * transaction that re-reads recipients and sequence numbers on each attempt, so a secret is
 * always encrypted to the recipient set of the commit it lands in. */
#include "bootmeta/secret.h"
#include "error_int.h"
#include "record_int.h"
#include "bootmeta/names.h"

#include "bootmeta/age.h"
#include "bootmeta/text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>
#include <sodium.h>

#include "bootmeta/v1/secret.pb-c.h"
#include "seqlog.h"

#define SEQ_FMT "%010llu"
#define SEQ_DIGITS 10
/* Bound on versions, recipients and secrets walked, so a hostile repo cannot make a read
 * loop for ever; far above any real use. */
#define MAX_ENTRIES 100000
#define MAX_RECORD (64 * 1024)
#define MAX_CIPHERTEXT (2 * BM_SECRET_MAX_SIZE + 64 * 1024)

/* ---- Bech32 (BIP 173, without its 90-character limit, as age uses it) ---- */

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t bech32_polymod(const unsigned char *v, size_t n)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };
	uint32_t chk = 1;
	size_t i;
	int j;
	for (i = 0; i < n; i++) {
		uint32_t top = chk >> 25;
		chk = ((chk & 0x1ffffff) << 5) ^ v[i];
		for (j = 0; j < 5; j++)
			if ((top >> j) & 1)
				chk ^= gen[j];
	}
	return chk;
}

int bm_recipient_validate(const char *r)
{
	unsigned char v[128];
	size_t len, i, n = 0, bytes = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (!r || !*r)
		return bm_error_set(BM_EINVALID, "empty age recipient (expected age1... as age-keygen prints it)");
	len = strlen(r);
	if (strncmp(r, "age1", 4)) {
		if (!strncmp(r, "AGE-SECRET-KEY-", 15))
			return bm_error_set(BM_EINVALID, "that is an age identity (a secret key), not a recipient: "
					    "give its public key (age-keygen -y FILE); and keep the identity secret");
		if (!strncmp(r, "ssh-", 4)) {
			bm_error_set(BM_EINVALID, "ssh recipients are not supported; use an age X25519 recipient (age1...)");
			return bm_error_set_about(BM_ABOUT_SSH_RECIPIENT, NULL);
		}
		return bm_error_set(BM_EINVALID, "\"%.80s\" is not an age recipient (expected age1... as age-keygen "
				    "prints it)", r);
	}
	/* "age" + "1" + 52 data characters (32 bytes) + 6 checksum characters */
	if (len != 62)
		return bm_error_set(BM_EINVALID, "age recipient \"%.80s\" has %zu characters, expected 62 "
				    "(an X25519 recipient; plugin recipients are not supported)", r, len);
	v[n++] = 'a' >> 5; v[n++] = 'g' >> 5; v[n++] = 'e' >> 5;
	v[n++] = 0;
	v[n++] = 'a' & 31; v[n++] = 'g' & 31; v[n++] = 'e' & 31;
	for (i = 4; i < len; i++) {
		const char *p = r[i] ? strchr(bech32_charset, r[i]) : NULL;
		if (!p)
			return bm_error_set(BM_EINVALID, "age recipient \"%s\" has '%c' at %zu, which Bech32 does not "
					    "use (lower-case only, no 1 b i o)", r, isprint((unsigned char)r[i]) ? r[i] : '?', i);
		v[n++] = (unsigned char)(p - bech32_charset);
	}
	if (bech32_polymod(v, n) != 1)
		return bm_error_set(BM_EINVALID, "age recipient \"%s\" has a bad checksum (a typo or a cut copy?)", r);
	for (i = 7; i < n - 6; i++) {
		acc = (acc << 5) | v[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			bytes++;
		}
	}
	if (bytes != 32 || (acc & ((1u << bits) - 1)))
		return bm_error_set(BM_EINVALID, "age recipient \"%s\" does not hold a 32-byte X25519 key", r);
	return 0;
}

/* ---- paths and names ---- */

/* A project or secret name part may not look like a version file, which would let two
 * different secrets share a path (project a, secret b vs project a/b), nor be one of the
 * folder keywords that tell record types apart by path (lib/record.c). */
static int check_no_version_suffix(const char *name, const char *what)
{
	const char *seg = name;
	while (seg) {
		size_t n = strcspn(seg, "/");
		if ((n >= 3 && !strncmp(seg + n - 3, ".pb", 3)) || (n >= 4 && !strncmp(seg + n - 4, ".age", 4)))
			return bm_error_set(BM_EINVALID, "%s \"%s\": a part may not end in \".pb\" or \".age\" "
					    "(the names of secret versions)", what, name);
		if ((n == 7 && !strncmp(seg, "secrets", 7)) || (n == 10 && !strncmp(seg, "recipients", 10)))
			return bm_error_set(BM_EINVALID, "%s \"%s\": \"%.*s\" is a folder name the meta repo uses "
					    "itself; pick another", what, name, (int)n, seg);
		seg = seg[n] ? seg + n + 1 : NULL;
	}
	return 0;
}

static int check_secret_names(const char *project, const char *env, const char *name)
{
	int error;
	if (project) {
		if ((error = bm_name_validate(project, BM_NAME_PROJECT)) < 0 ||
		    (error = check_no_version_suffix(project, "project name")) < 0)
			return error;
	}
	if ((error = bm_name_validate(env, BM_NAME_ENV)) < 0)
		return error;
	if (name) {
		if ((error = bm_name_validate(name, BM_NAME_KEY)) < 0 ||
		    (error = check_no_version_suffix(name, "secret name")) < 0)
			return error;
	}
	return 0;
}

static int env_must_exist(bm_fs *fs, const char *env)
{
	char path[512];
	snprintf(path, sizeof(path), "envs/%s/env.pb", env);
	if (bm_fs_exists(fs, path) != 1) {
		bm_error_set(BM_ENOTFOUND, "no environment \"%s\" (no %s)", env, path);
		return bm_error_set_about(BM_ABOUT_ENV, env);
	}
	return 0;
}

static void recipients_dir(char *out, size_t n, const char *env)
{
	if (env)
		snprintf(out, n, "envs/%s/recipients", env);
	else
		snprintf(out, n, "keys/admins");
}

/* Parse "<10 digits><ext>"; returns the seq or 0 when `entry` is not such a name. */
static uint64_t seq_of(const char *entry, const char *ext)
{
	uint64_t seq = 0;
	size_t i;
	if (strlen(entry) != SEQ_DIGITS + strlen(ext) || strcmp(entry + SEQ_DIGITS, ext))
		return 0;
	for (i = 0; i < SEQ_DIGITS; i++) {
		if (entry[i] < '0' || entry[i] > '9')
			return 0;
		seq = seq * 10 + (uint64_t)(entry[i] - '0');
	}
	return seq;
}

/* Sequence numbers of the "<seq>.pb" records of `dir`, ascending (the listing is sorted and
 * zero-padded). A missing folder is an empty log. */
static int log_seqs(uint64_t **out, size_t *count, bm_fs *fs, const char *dir, unsigned flags)
{
	bm_strlist l = BM_STRLIST_INIT;
	uint64_t *seqs = NULL;
	size_t i, n = 0;
	int error;

	*out = NULL;
	*count = 0;
	error = bm_fs_list_or_empty(&l, fs, dir);
	if (error < 0)
		return error;
	if (l.count > MAX_ENTRIES) {
		error = bm_error_set(BM_ETOOBIG, "%s has %zu entries, over the limit of %d", dir, l.count, MAX_ENTRIES);
		goto done;
	}
	{ /* a sequence log: 1, 2, 3 ... with no gap (seqlog.h) */
		uint64_t last;
		if ((error = bm__log_names_check(&last, &l, dir, 1, BM__LOG_SEQ_MAX, flags)) < 0)
			goto done;
	}
	if (l.count && !(seqs = calloc(l.count, sizeof(*seqs)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < l.count; i++) {
		uint64_t s = seq_of(l.items[i], ".pb");
		if (s)
			seqs[n++] = s;
	}
	*out = seqs;
	*count = n;
	seqs = NULL;
done:
	free(seqs);
	bm_strlist_dispose(&l);
	return error;
}

/* The seq the next record of the log `dir` takes, after checking what it builds on: no gap,
 * and the newest record decodes as `type` and is the entry its name says (seqlog.h). A
 * secret's folder also holds its .age files and the folders of longer names. */
static int next_seq(uint64_t *out, bm_fs *fs, const char *dir, const ProtobufCMessageDescriptor *type)
{
	bm__log_tail tail = BM__LOG_TAIL_INIT;
	int error = bm__log_tail_read(&tail, fs, dir, type,
				      type == &bootmeta__v1__secret_version__descriptor ? BM__LOG_SECRET : 0);
	*out = tail.last + 1;
	bm__log_tail_dispose(&tail);
	return error;
}

static int read_bounded(bm_buf *out, bm_fs *fs, const char *path, size_t max)
{
	int error = bm_fs_read(out, fs, path);
	if (error < 0)
		return error;
	if (out->size > max)
		return bm_error_set(BM_ETOOBIG, "%s is %zu bytes, over the limit of %zu", path, out->size, max);
	return 0;
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

/* ---- recipients ---- */

void bm_recipient_list_dispose(bm_recipient_list *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->count; i++) {
		free(l->items[i].recipient);
		free(l->items[i].actor);
		free(l->items[i].comment);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static ssize_t recipient_find(const bm_recipient_list *l, const char *r)
{
	size_t i;
	for (i = 0; i < l->count; i++)
		if (!strcmp(l->items[i].recipient, r))
			return (ssize_t)i;
	return -1;
}

/* Fold the log of `env` (NULL: admins) into the current set. */
static int recipients_fold(bm_recipient_list *out, bm_fs *fs, const char *env)
{
	char dir[512], path[600];
	uint64_t *seqs = NULL;
	size_t n = 0, i;
	bm_buf b = BM_BUF_INIT;
	Bootmeta__V1__RecipientChange *rc = NULL;
	int error;

	recipients_dir(dir, sizeof(dir), env);
	if ((error = log_seqs(&seqs, &n, fs, dir, 0)) < 0)
		return error;
	if (n && !(out->items = calloc(n, sizeof(*out->items)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		ssize_t at;
		snprintf(path, sizeof(path), "%s/" SEQ_FMT ".pb", dir, (unsigned long long)seqs[i]);
		bm_buf_clear(&b);
		if ((error = read_bounded(&b, fs, path, MAX_RECORD)) < 0)
			goto done;
		if ((error = bm__pb_unpack((ProtobufCMessage **)&rc, &bootmeta__v1__recipient_change__descriptor,
					   NULL, b.ptr, b.size)) < 0) {
			if (error == BM_ECORRUPT)
				bm_error_set(BM_ECORRUPT, "%s does not decode as a RecipientChange", path);
			goto done;
		}
		if (rc->seq != seqs[i] || strcmp(rc->env, env ? env : "")) {
			error = bm_error_set(BM_ECORRUPT, "%s holds change %llu of %s, not of this path; it was planted, "
					     "copied or moved (see `git log --all -- %s`)", path, (unsigned long long)rc->seq,
					     *rc->env ? rc->env : "the admins", path);
			goto done;
		}
		if (bm_recipient_validate(rc->recipient) < 0) {
			error = bm_error_prefix(BM_ECORRUPT, "%s", path);
			goto done;
		}
		at = recipient_find(out, rc->recipient);
		if (rc->op == BOOTMETA__V1__RECIPIENT_OP__RECIPIENT_OP_ADD && at < 0) {
			bm_recipient *r = &out->items[out->count];
			r->recipient = xstrdup(rc->recipient);
			r->actor = xstrdup(rc->actor);
			r->comment = xstrdup(rc->comment);
			r->seq = seqs[i];
			r->time_ms = rc->time_ms;
			out->count++;
			if (!r->recipient || !r->actor || !r->comment) {
				error = bm_error_set(BM_ENOMEM, "out of memory");
				goto done;
			}
		} else if (rc->op == BOOTMETA__V1__RECIPIENT_OP__RECIPIENT_OP_REMOVE && at >= 0) {
			bm_recipient gone = out->items[at];
			memmove(&out->items[at], &out->items[at + 1], (out->count - (size_t)at - 1) * sizeof(gone));
			out->count--;
			free(gone.recipient);
			free(gone.actor);
			free(gone.comment);
		}
		bootmeta__v1__recipient_change__free_unpacked(rc, NULL);
		rc = NULL;
	}
done:
	if (rc)
		bootmeta__v1__recipient_change__free_unpacked(rc, NULL);
	free(seqs);
	bm_buf_dispose(&b);
	return error;
}

int bm_recipients_list(bm_recipient_list *out, bm_fs *fs, const char *env)
{
	int error;
	out->items = NULL;
	out->count = 0;
	if (env) {
		if ((error = bm_name_validate(env, BM_NAME_ENV)) < 0 || (error = env_must_exist(fs, env)) < 0)
			return error;
	}
	if ((error = recipients_fold(out, fs, env)) < 0)
		bm_recipient_list_dispose(out);
	return error;
}

int bm_recipients_effective(bm_strlist *out, bm_fs *fs, const char *env)
{
	bm_recipient_list e = BM_RECIPIENT_LIST_INIT, a = BM_RECIPIENT_LIST_INIT;
	size_t i;
	int error;

	if ((error = bm_recipients_list(&e, fs, env)) < 0 || (error = recipients_fold(&a, fs, NULL)) < 0)
		goto done;
	for (i = 0; i < e.count && !error; i++)
		error = bm_strlist_add(out, e.items[i].recipient);
	for (i = 0; i < a.count && !error; i++)
		if (recipient_find(&e, a.items[i].recipient) < 0)
			error = bm_strlist_add(out, a.items[i].recipient);
	bm_strlist_sort(out);
done:
	bm_recipient_list_dispose(&e);
	bm_recipient_list_dispose(&a);
	return error;
}

typedef struct {
	const char *env;
	const char *recipient;
	const char *comment;
	int remove;
	uint64_t seq;
} recipient_txn;

static int recipient_change_fn(bm_txn *txn, void *payload)
{
	recipient_txn *p = payload;
	bm_fs *fs = bm_txn_fs(txn);
	bm_recipient_list cur = BM_RECIPIENT_LIST_INIT;
	Bootmeta__V1__RecipientChange rc = BOOTMETA__V1__RECIPIENT_CHANGE__INIT;
	const char *who = p->env ? p->env : "the repo admins";
	char dir[512], path[600];
	uint8_t *packed = NULL;
	size_t len;
	int error;

	if (p->env && (error = env_must_exist(fs, p->env)) < 0)
		goto done;
	if ((error = recipients_fold(&cur, fs, p->env)) < 0)
		goto done;
	if (!p->remove && recipient_find(&cur, p->recipient) >= 0) {
		error = bm_error_set(BM_EEXISTS, "%s is already a recipient of %s", p->recipient, who);
		goto done;
	}
	if (p->remove && recipient_find(&cur, p->recipient) < 0) {
		bm_error_set(BM_ENOTFOUND, "%s is not a recipient of %s", p->recipient, who);
		error = bm_error_set_about(BM_ABOUT_RECIPIENTS, p->env ? p->env : "");
		goto done;
	}
	recipients_dir(dir, sizeof(dir), p->env);
	if ((error = next_seq(&p->seq, fs, dir, &bootmeta__v1__recipient_change__descriptor)) < 0)
		goto done;
	rc.seq = p->seq;
	rc.env = (char *)(p->env ? p->env : "");
	rc.recipient = (char *)p->recipient;
	rc.op = p->remove ? BOOTMETA__V1__RECIPIENT_OP__RECIPIENT_OP_REMOVE : BOOTMETA__V1__RECIPIENT_OP__RECIPIENT_OP_ADD;
	rc.time_ms = bm_txn_time_ms(txn);
	rc.actor = (char *)bm_txn_actor(txn);
	rc.comment = (char *)(p->comment ? p->comment : "");
	len = bootmeta__v1__recipient_change__get_packed_size(&rc);
	if (!(packed = malloc(len ? len : 1))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	bootmeta__v1__recipient_change__pack(&rc, packed);
	snprintf(path, sizeof(path), "%s/" SEQ_FMT ".pb", dir, (unsigned long long)p->seq);
	if ((error = bm_txn_add(txn, path, packed, len)) < 0)
		goto done;
	error = bm_txn_message(txn, "recipients %s %s %s%s%s", p->remove ? "rm" : "add",
			       p->env ? p->env : "--admin", p->recipient, p->comment && *p->comment ? " # " : "",
			       p->comment ? p->comment : "");
done:
	free(packed);
	bm_recipient_list_dispose(&cur);
	return error;
}

static int recipient_change(uint64_t *out_seq, bm_store *store, const char *env, const char *recipient,
			    const char *comment, int remove, const bm_write_options *opts)
{
	recipient_txn p = { env, recipient, comment, remove, 0 };
	int error;

	if (env && (error = bm_name_validate(env, BM_NAME_ENV)) < 0)
		return error;
	if ((error = bm_recipient_validate(recipient)) < 0)
		return error;
	if (comment && (error = bm_text_check(comment, strlen(comment), BM_TEXT_LINE, 1024, "the recipient comment")) < 0)
		return error;
	if ((error = bm_store_write(NULL, store, recipient_change_fn, &p, opts)) < 0)
		return error;
	if (out_seq)
		*out_seq = p.seq;
	return 0;
}

int bm_recipients_add(uint64_t *out_seq, bm_store *store, const char *env, const char *recipient,
		      const char *comment, const bm_write_options *opts)
{
	return recipient_change(out_seq, store, env, recipient, comment, 0, opts);
}

int bm_recipients_rm(uint64_t *out_seq, bm_store *store, const char *env, const char *recipient,
		     const char *comment, const bm_write_options *opts)
{
	return recipient_change(out_seq, store, env, recipient, comment, 1, opts);
}

/* ---- identities ---- */

int bm_secret_identity_load(bm_buf *out, bm_buf *used_path, const char *path)
{
	int error;

	if (!path || !*path) {
		bm_error_set(BM_EINVALID, "no age identity file given");
		return bm_error_set_about(BM_ABOUT_IDENTITY, NULL);
	}
	if (used_path) {
		bm_buf_clear(used_path);
		if ((error = bm_buf_puts(used_path, path)) < 0)
			goto done;
	}
	error = bm_age_identity_file_read(out, path);
	if (error == BM_ENOTFOUND) {
		bm_error_set(BM_ENOTFOUND, "no age identity at %s", path);
		error = bm_error_set_about(BM_ABOUT_IDENTITY, path);
	}
done:
	return error;
}

/* The next identity line of an identity file's text, as bm_age_identities_add_text reads
 * them: white space around it trimmed, empty lines and '#' comments skipped. 0 at the end. */
static int next_identity_line(const char **p, const char **line, size_t *n)
{
	while (*p && **p) {
		const char *s = *p, *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		*p = nl ? nl + 1 : s + len;
		while (len && (*s == ' ' || *s == '\t' || *s == '\r')) {
			s++;
			len--;
		}
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
			len--;
		if (len && *s != '#') {
			*line = s;
			*n = len;
			return 1;
		}
	}
	return 0;
}

int bm_secret_identity_recipient(bm_buf *out, const char *identities)
{
	const char *p = identities, *id;
	char *line;
	size_t n;
	int error;

	/* the first identity line (not one in a comment), as the decryption reads the file */
	if (!next_identity_line(&p, &id, &n))
		return bm_error_set(BM_EINVALID, "no AGE-SECRET-KEY-... identity in the identity file");
	if (!(line = sodium_malloc(n + 1)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	memcpy(line, id, n);
	line[n] = '\0';
	error = bm_age_recipient_of(out, line);
	sodium_free(line);
	return error;
}

static int mkdirs_0700(const char *file)
{
	char dir[4096];
	char *p;
	size_t n = strlen(file);
	if (n >= sizeof(dir))
		return bm_error_set(BM_EINVALID, "path too long: %s", file);
	memcpy(dir, file, n + 1);
	if (!(p = strrchr(dir, '/')) || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return bm_error_set(BM_EIO, "cannot create %s: %s", dir, strerror(errno));
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return bm_error_set(BM_EIO, "cannot create %s: %s", dir, strerror(errno));
	return 0;
}

int bm_secret_identity_create(bm_buf *recipient, bm_buf *used_path, const char *path, int force)
{
	bm_buf def = BM_BUF_INIT, ident = BM_BUF_INIT, text = BM_BUF_INIT;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	int error, fd = -1;

	if (!path || !*path)
		return bm_error_set(BM_EINVALID, "no path given for the new age identity");
	if (used_path && ((error = bm_buf_puts(used_path, path)) < 0))
		goto done;
	if ((error = mkdirs_0700(path)) < 0)
		goto done;
	if (!force && access(path, F_OK) == 0) {
		bm_error_set(BM_EEXISTS, "%s already exists; keep it (its recipient: age-keygen -y %s)", path, path);
		error = bm_error_set_about(BM_ABOUT_IDENTITY, path);
		goto done;
	}
	if ((error = bm_buf_grow(&ident, 128)) < 0 || (error = bm_buf_grow(&text, 512)) < 0)
		goto done;
	if ((error = bm_age_keygen(&ident, recipient)) < 0)
		goto done;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((error = bm_buf_printf(&text, "# created: %s\n# public key: %s\n%s\n", when, recipient->ptr, ident.ptr)) < 0)
		goto done;
	if (force) {
		error = bm_file_write_atomic(path, text.ptr, text.size, 0600);
		goto done;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		error = bm_error_set(errno == EEXIST ? BM_EEXISTS : BM_EIO, "cannot create %s: %s", path, strerror(errno));
		goto done;
	}
	if (write(fd, text.ptr, text.size) != (ssize_t)text.size || fsync(fd) < 0) {
		error = bm_error_set(BM_EIO, "cannot write %s: %s", path, strerror(errno));
		unlink(path);
	}
done:
	if (fd >= 0)
		close(fd);
	bm_buf_dispose_secret(&ident);
	bm_buf_dispose_secret(&text);
	bm_buf_dispose(&def);
	return error;
}

/* ---- secret versions ---- */

void bm_secret_info_dispose(bm_secret_info *info)
{
	if (!info)
		return;
	free(info->project);
	free(info->name);
	free(info->actor);
	free(info->path);
	memset(info, 0, sizeof(*info));
}

void bm_secret_infos_dispose(bm_secret_infos *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->count; i++)
		bm_secret_info_dispose(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static int infos_push(bm_secret_infos *l, bm_secret_info *info)
{
	bm_secret_info *p;
	if ((l->count & (l->count - 1)) == 0) { /* grow at powers of two */
		p = realloc(l->items, (l->count ? l->count * 2 : 1) * sizeof(*p));
		if (!p)
			return bm_error_set(BM_ENOMEM, "out of memory");
		l->items = p;
	}
	l->items[l->count++] = *info;
	memset(info, 0, sizeof(*info));
	return 0;
}

/* Read and check the version record `seq` of a secret folder. The record must say what its
 * path says: a record copied by hand to another env or name is refused. */
static int version_read(Bootmeta__V1__SecretVersion **out, bm_fs *fs, const char *dir, uint64_t seq,
			const char *project, const char *env, const char *name)
{
	char path[1024 + 64];
	bm_buf b = BM_BUF_INIT;
	Bootmeta__V1__SecretVersion *v = NULL;
	int error;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/" SEQ_FMT ".pb", dir, (unsigned long long)seq);
	if ((error = read_bounded(&b, fs, path, MAX_RECORD)) < 0)
		goto done;
	if ((error = bm__pb_unpack((ProtobufCMessage **)&v, &bootmeta__v1__secret_version__descriptor, NULL,
				   b.ptr, b.size)) < 0) {
		if (error == BM_ECORRUPT)
			bm_error_set(BM_ECORRUPT, "%s does not decode as a SecretVersion", path);
		goto done;
	}
	if (v->seq != seq || strcmp(v->project, project) || strcmp(v->env, env) || strcmp(v->name, name)) {
		error = bm_error_set(BM_ECORRUPT, "%s is the record of %s/%s in %s seq %llu, not of this path "
				     "(moved or edited by hand?)", path, v->project, v->name, v->env,
				     (unsigned long long)v->seq);
		goto done;
	}
	if (v->op != BOOTMETA__V1__SECRET_OP__SECRET_OP_SET && v->op != BOOTMETA__V1__SECRET_OP__SECRET_OP_REMOVE &&
	    v->op != BOOTMETA__V1__SECRET_OP__SECRET_OP_REKEY) {
		error = bm_error_set(BM_ECORRUPT, "%s has an unknown operation %d (written by a newer bootmeta?)",
				     path, (int)v->op);
		goto done;
	}
	*out = v;
	v = NULL;
done:
	if (v)
		bootmeta__v1__secret_version__free_unpacked(v, NULL);
	bm_buf_dispose(&b);
	return error;
}

static int same_set(char **a, size_t na, const bm_strlist *b)
{
	size_t i;
	if (na != b->count)
		return 0;
	for (i = 0; i < na; i++) /* both sorted */
		if (strcmp(a[i], b->items[i]))
			return 0;
	return 1;
}

static int info_from(bm_secret_info *info, const Bootmeta__V1__SecretVersion *v, const char *dir,
		     const bm_strlist *current)
{
	char path[1024 + 64];
	memset(info, 0, sizeof(*info));
	if (v->op != BOOTMETA__V1__SECRET_OP__SECRET_OP_REMOVE)
		snprintf(path, sizeof(path), "%s/" SEQ_FMT ".age", dir, (unsigned long long)v->seq);
	else
		path[0] = '\0';
	info->project = xstrdup(v->project);
	info->name = xstrdup(v->name);
	info->actor = xstrdup(v->actor);
	info->path = xstrdup(path);
	info->seq = v->seq;
	info->op = (bm_secret_op)v->op;
	info->time_ms = v->time_ms;
	info->nrecipients = v->n_recipients;
	info->stale = current && v->op != BOOTMETA__V1__SECRET_OP__SECRET_OP_REMOVE &&
		!same_set(v->recipients, v->n_recipients, current);
	if (!info->project || !info->name || !info->actor || !info->path) {
		bm_secret_info_dispose(info);
		return bm_error_set(BM_ENOMEM, "out of memory");
	}
	return 0;
}

static void secret_dir(char *out, size_t n, const char *env, const char *project, const char *name)
{
	snprintf(out, n, "envs/%s/secrets/%s/%s", env, project, name);
}

/* The current version of one secret. BM_ENOTFOUND when it has none. */
static int secret_current(Bootmeta__V1__SecretVersion **out, bm_fs *fs, const char *project, const char *env,
			  const char *name)
{
	char dir[1024];
	uint64_t *seqs = NULL;
	size_t n = 0;
	int error;

	*out = NULL;
	secret_dir(dir, sizeof(dir), env, project, name);
	if ((error = log_seqs(&seqs, &n, fs, dir, BM__LOG_SECRET)) < 0)
		return error;
	if (!n) {
		bm_error_set(BM_ENOTFOUND, "no secret %s of %s in %s", name, project, env);
		error = bm__about_words(BM_ABOUT_SECRET, project, env, NULL);
	} else {
		error = version_read(out, fs, dir, seqs[n - 1], project, env, name);
	}
	free(seqs);
	return error;
}

/* Visit every secret folder under envs/<env>/secrets/<prefix>: a folder holding "<seq>.pb"
 * records is a secret (its parent path is the project); sub-folders are walked too, since a
 * project may be nested (a and a/b). */
typedef int (*secret_visit_fn)(const char *project, const char *name, void *payload);

static int walk_secrets(bm_fs *fs, const char *env, const char *rel, unsigned int depth, size_t *budget,
			secret_visit_fn fn, void *payload)
{
	char dir[1024], child[1024];
	bm_strlist l = BM_STRLIST_INIT;
	size_t i;
	int error, is_secret = 0;

	if (depth > 10)
		return 0; /* deeper than any valid project + name */
	snprintf(dir, sizeof(dir), "envs/%s/secrets%s%s", env, *rel ? "/" : "", rel);
	error = bm_fs_list_or_empty(&l, fs, dir);
	if (error < 0)
		return error;
	if (l.count > *budget) {
		error = bm_error_set(BM_ETOOBIG, "envs/%s/secrets holds more than %d entries", env, MAX_ENTRIES);
		goto done;
	}
	*budget -= l.count;
	for (i = 0; i < l.count; i++)
		if (seq_of(l.items[i], ".pb"))
			is_secret = 1;
	if (is_secret && strchr(rel, '/')) {
		char proj[1024];
		const char *slash = strrchr(rel, '/');
		snprintf(proj, sizeof(proj), "%.*s", (int)(slash - rel), rel);
		/* names that do not validate are not secrets bootmeta wrote: skip them */
		if (!bm_name_validate(proj, BM_NAME_PROJECT) && !bm_name_validate(slash + 1, BM_NAME_KEY)) {
			if ((error = fn(proj, slash + 1, payload)) < 0)
				goto done;
		} else {
			bm_error_clear();
		}
	}
	for (i = 0; i < l.count; i++) {
		size_t n = strlen(l.items[i]);
		if (!n || l.items[i][n - 1] != '/')
			continue;
		snprintf(child, sizeof(child), "%s%s%.*s", rel, *rel ? "/" : "", (int)(n - 1), l.items[i]);
		if ((error = walk_secrets(fs, env, child, depth + 1, budget, fn, payload)) < 0)
			goto done;
	}
done:
	bm_strlist_dispose(&l);
	return error;
}

typedef struct {
	bm_fs *fs;
	const char *env;
	const bm_strlist *current;
	int with_removed;
	bm_secret_infos *out;
} list_ctx;

static int list_visit(const char *project, const char *name, void *payload)
{
	list_ctx *c = payload;
	Bootmeta__V1__SecretVersion *v = NULL;
	bm_secret_info info;
	char dir[1024];
	int error;

	if ((error = secret_current(&v, c->fs, project, c->env, name)) < 0)
		return error;
	if (v->op == BOOTMETA__V1__SECRET_OP__SECRET_OP_REMOVE && !c->with_removed)
		goto done;
	secret_dir(dir, sizeof(dir), c->env, project, name);
	if ((error = info_from(&info, v, dir, c->current)) < 0)
		goto done;
	if ((error = infos_push(c->out, &info)) < 0)
		bm_secret_info_dispose(&info);
done:
	bootmeta__v1__secret_version__free_unpacked(v, NULL);
	return error;
}

static int cmp_info(const void *a, const void *b)
{
	const bm_secret_info *x = a, *y = b;
	int c = strcmp(x->project, y->project);
	return c ? c : strcmp(x->name, y->name);
}

int bm_secret_list(bm_secret_infos *out, bm_fs *fs, const char *project, const char *env, int with_removed)
{
	bm_strlist current = BM_STRLIST_INIT;
	list_ctx c = { fs, env, &current, with_removed, out };
	size_t budget = MAX_ENTRIES;
	int error;

	out->items = NULL;
	out->count = 0;
	if ((error = check_secret_names(project, env, NULL)) < 0)
		return error;
	if ((error = env_must_exist(fs, env)) < 0)
		return error;
	if ((error = bm_recipients_effective(&current, fs, env)) < 0)
		goto done;
	error = walk_secrets(fs, env, project ? project : "", project ? 1 : 0, &budget, list_visit, &c);
	if (!error && project) {
		/* only the secrets of `project` itself, not of projects nested below it */
		size_t i, k = 0;
		for (i = 0; i < out->count; i++) {
			if (!strcmp(out->items[i].project, project))
				out->items[k++] = out->items[i];
			else
				bm_secret_info_dispose(&out->items[i]);
		}
		out->count = k;
	}
	if (!error && out->count > 1)
		qsort(out->items, out->count, sizeof(*out->items), cmp_info);
done:
	if (error < 0)
		bm_secret_infos_dispose(out);
	bm_strlist_dispose(&current);
	return error;
}

int bm_secret_history(bm_secret_infos *out, bm_fs *fs, const char *project, const char *env, const char *name)
{
	char dir[1024];
	uint64_t *seqs = NULL;
	size_t n = 0, i;
	int error;

	out->items = NULL;
	out->count = 0;
	if ((error = check_secret_names(project, env, name)) < 0)
		return error;
	secret_dir(dir, sizeof(dir), env, project, name);
	if ((error = log_seqs(&seqs, &n, fs, dir, BM__LOG_SECRET)) < 0)
		return error;
	if (!n) {
		error = bm_error_set(BM_ENOTFOUND, "no secret %s of %s in %s, now or before", name, project, env);
		goto done;
	}
	for (i = 0; i < n; i++) {
		Bootmeta__V1__SecretVersion *v = NULL;
		bm_secret_info info;
		if ((error = version_read(&v, fs, dir, seqs[i], project, env, name)) < 0)
			goto done;
		error = info_from(&info, v, dir, NULL);
		bootmeta__v1__secret_version__free_unpacked(v, NULL);
		if (error < 0 || (error = infos_push(out, &info)) < 0)
			goto done;
	}
done:
	if (error < 0)
		bm_secret_infos_dispose(out);
	free(seqs);
	return error;
}

/* ---- decrypting ---- */

/* 1 when one of the identities' recipients is in `v`'s recipient list. */
static int identity_listed(const char *identities, const Bootmeta__V1__SecretVersion *v)
{
	const char *p = identities, *id;
	size_t n, i;
	int found = 0;
	while (!found && next_identity_line(&p, &id, &n)) {
		if (n < 256) {
			char *line = sodium_malloc(n + 1);
			bm_buf r = BM_BUF_INIT;
			if (line) {
				memcpy(line, id, n);
				line[n] = '\0';
				if (bm_age_recipient_of(&r, line) == 0)
					for (i = 0; i < v->n_recipients; i++)
						if (!strcmp(r.ptr, v->recipients[i]))
							found = 1;
				sodium_free(line);
			}
			bm_buf_dispose(&r);
		}
	}
	bm_error_clear();
	return found;
}

/* Decrypt the ciphertext of version `v` into `out` (empty on entry). Checks the recorded
 * sha256 first, so a file changed by hand is named as such and never decrypted. On any
 * error `out` is wiped and left empty. */
static int version_decrypt(bm_buf *out, bm_fs *fs, const char *dir, const Bootmeta__V1__SecretVersion *v,
			   const char *identities)
{
	char path[1024 + 64], hex[crypto_hash_sha256_BYTES * 2 + 1];
	unsigned char digest[crypto_hash_sha256_BYTES];
	bm_buf ct = BM_BUF_INIT;
	int error;

	snprintf(path, sizeof(path), "%s/" SEQ_FMT ".age", dir, (unsigned long long)v->seq);
	if ((error = read_bounded(&ct, fs, path, MAX_CIPHERTEXT)) < 0) {
		if (error == BM_ENOTFOUND)
			error = bm_error_set(BM_ECORRUPT, "%s is missing: the record %s/" SEQ_FMT ".pb says it exists",
					     path, dir, (unsigned long long)v->seq);
		goto done;
	}
	crypto_hash_sha256(digest, (const unsigned char *)ct.ptr, ct.size);
	bm_hex_encode(hex, digest, sizeof(digest));
	if (strcmp(hex, v->ciphertext_sha256) || ct.size != v->ciphertext_size) {
		error = bm_error_set(BM_EVERIFY, "%s was changed outside bootmeta: its sha256 is not the one its "
				     "record holds; refusing to decrypt it (see `git log -p -- %s`)", path, path);
		goto done;
	}
	/* room for the whole plaintext up front, so the buffer is never reallocated (a realloc
	 * would leave an unwiped copy of the plaintext behind) */
	if ((error = bm_buf_grow(out, ct.size)) < 0)
		goto done;
	error = bm_age_decrypt_buf(out, ct.ptr, ct.size, identities);
	if (error == BM_ENORECIPIENT) {
		if (identity_listed(identities, v))
			error = bm_error_set(BM_EVERIFY, "%s does not open with your identity although the record "
					     "lists it as a recipient: the file is damaged or was replaced", path);
		else {
			bm_error_set(BM_ENORECIPIENT, "not a recipient of %s: your identity does not open %s/%s "
				     "(encrypted to %zu recipient%s)", v->env, v->project, v->name, v->n_recipients,
				     v->n_recipients == 1 ? "" : "s");
			error = bm_error_set_about(BM_ABOUT_SECRET, v->env);
		}
	} else if (error < 0 && error != BM_ENOMEM) {
		error = bm_error_prefix(BM_EVERIFY, "%s does not decrypt (changed outside bootmeta?)", path);
	}
done:
	if (error < 0) {
		if (out->ptr)
			sodium_memzero(out->ptr, out->asize);
		bm_buf_clear(out);
	}
	bm_buf_dispose(&ct);
	return error;
}

static int secret_open(bm_buf *out, bm_fs *fs, const char *project, const char *env, const char *name,
		       const char *identities, bm_secret_info *info)
{
	Bootmeta__V1__SecretVersion *v = NULL;
	bm_buf plain = BM_BUF_INIT;
	char dir[1024];
	int error;

	secret_dir(dir, sizeof(dir), env, project, name);
	if ((error = secret_current(&v, fs, project, env, name)) < 0)
		goto done;
	if (v->op == BOOTMETA__V1__SECRET_OP__SECRET_OP_REMOVE) {
		bm_error_set(BM_ENOTFOUND, "secret %s of %s in %s was removed (seq %llu); its old values are in history",
			     name, project, env, (unsigned long long)v->seq);
		error = bm__about_words(BM_ABOUT_SECRET_REMOVED, project, env, name);
		goto done;
	}
	if ((error = version_decrypt(&plain, fs, dir, v, identities)) < 0)
		goto done;
	if (!out->ptr) { /* hand the buffer over rather than copy the plaintext */
		*out = plain;
		memset(&plain, 0, sizeof(plain));
	} else if ((error = bm_buf_grow(out, out->size + plain.size)) == 0) {
		error = bm_buf_put(out, plain.ptr, plain.size);
	}
	if (!error && info)
		error = info_from(info, v, dir, NULL);
done:
	bm_buf_dispose_secret(&plain);
	if (v)
		bootmeta__v1__secret_version__free_unpacked(v, NULL);
	return error;
}

int bm_secret_get(bm_buf *out, bm_fs *fs, const char *project, const char *env, const char *name,
		  const char *identities, bm_secret_info *info)
{
	int error;
	if (info)
		memset(info, 0, sizeof(*info));
	if ((error = check_secret_names(project, env, name)) < 0)
		return error;
	if (!identities)
		return bm_error_set(BM_EINVALID, "no identities given");
	if ((error = env_must_exist(fs, env)) < 0)
		return error;
	return secret_open(out, fs, project, env, name, identities, info);
}

void bm_secret_values_dispose(bm_secret_values *v)
{
	size_t i;
	if (!v)
		return;
	for (i = 0; i < v->count; i++) {
		bm_secret_info_dispose(&v->items[i].info);
		bm_buf_dispose_secret(&v->items[i].value);
		free(v->items[i].message);
	}
	free(v->items);
	memset(v, 0, sizeof(*v));
}

int bm_secret_get_all(bm_secret_values *out, bm_fs *fs, const char *project, const char *env,
		      const char *identities)
{
	bm_secret_infos list = BM_SECRET_INFOS_INIT;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if (!identities)
		return bm_error_set(BM_EINVALID, "no identities given");
	if ((error = bm_secret_list(&list, fs, project, env, 0)) < 0)
		return error;
	if (list.count && !(out->items = calloc(list.count, sizeof(*out->items)))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < list.count; i++) {
		bm_secret_value *sv = &out->items[out->count++];
		sv->info = list.items[i];
		memset(&list.items[i], 0, sizeof(list.items[i]));
		error = secret_open(&sv->value, fs, sv->info.project, env, sv->info.name, identities, NULL);
		if (error == BM_ENOMEM)
			goto done;
		if (error < 0) {
			sv->error = error;
			if (!(sv->message = strdup(bm_error_last()))) {
				error = bm_error_set(BM_ENOMEM, "out of memory");
				goto done;
			}
			out->nskipped++;
			error = 0;
		} else {
			out->nopened++;
		}
	}
	bm_error_clear();
done:
	if (error < 0)
		bm_secret_values_dispose(out);
	bm_secret_infos_dispose(&list);
	return error;
}

/* ---- writing ---- */

/* Encrypt `plain` to `rcpts` and add "<seq>.age" + "<seq>.pb" to the transaction. */
static int version_add(bm_txn *txn, const char *project, const char *env, const char *name, uint64_t seq,
		       bm_secret_op op, const void *plain, size_t len, const bm_strlist *rcpts)
{
	Bootmeta__V1__SecretVersion v = BOOTMETA__V1__SECRET_VERSION__INIT;
	char dir[1024], path[1100], hex[crypto_hash_sha256_BYTES * 2 + 1];
	unsigned char digest[crypto_hash_sha256_BYTES];
	bm_buf ct = BM_BUF_INIT;
	uint8_t *packed = NULL;
	size_t plen;
	int error = 0;

	secret_dir(dir, sizeof(dir), env, project, name);
	v.seq = seq;
	v.project = (char *)project;
	v.env = (char *)env;
	v.name = (char *)name;
	v.op = (Bootmeta__V1__SecretOp)op;
	v.time_ms = bm_txn_time_ms(txn);
	v.actor = (char *)bm_txn_actor(txn);
	v.ciphertext_sha256 = (char *)"";
	if (op != BM_SECRET_REMOVE) {
		if ((error = bm_age_encrypt_buf(&ct, plain, len, (const char *const *)rcpts->items, rcpts->count, 1)) < 0)
			goto done;
		crypto_hash_sha256(digest, (const unsigned char *)ct.ptr, ct.size);
		bm_hex_encode(hex, digest, sizeof(digest));
		v.ciphertext_sha256 = hex;
		v.ciphertext_size = ct.size;
		v.recipients = rcpts->items;
		v.n_recipients = rcpts->count;
		snprintf(path, sizeof(path), "%s/" SEQ_FMT ".age", dir, (unsigned long long)seq);
		if ((error = bm_txn_add(txn, path, ct.ptr, ct.size)) < 0)
			goto done;
	}
	plen = bootmeta__v1__secret_version__get_packed_size(&v);
	if (!(packed = malloc(plen ? plen : 1))) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	bootmeta__v1__secret_version__pack(&v, packed);
	snprintf(path, sizeof(path), "%s/" SEQ_FMT ".pb", dir, (unsigned long long)seq);
	error = bm_txn_add(txn, path, packed, plen);
done:
	free(packed);
	bm_buf_dispose(&ct);
	return error;
}

static int need_recipients(bm_strlist *out, bm_fs *fs, const char *env)
{
	int error = bm_recipients_effective(out, fs, env);
	if (!error && !out->count) {
		bm_error_set(BM_ENORECIPIENT, "%s has no recipients and the repo no admins, so nobody could read the "
			     "secret", env);
		error = bm_error_set_about(BM_ABOUT_RECIPIENTS, env);
	}
	return error;
}

typedef struct {
	const char *project, *env, *name;
	const void *plain;
	size_t len;
	int remove;
	uint64_t seq;
} set_txn;

static int set_fn(bm_txn *txn, void *payload)
{
	set_txn *p = payload;
	bm_fs *fs = bm_txn_fs(txn);
	bm_strlist rcpts = BM_STRLIST_INIT;
	Bootmeta__V1__SecretVersion *cur = NULL;
	char dir[1024];
	int error;

	if ((error = env_must_exist(fs, p->env)) < 0)
		goto done;
	if (!p->remove) { /* a new secret belongs to a project the meta repo has */
		char path[1024];
		snprintf(path, sizeof(path), "projects/%s/project.pb", p->project);
		if (bm_fs_exists(fs, path) != 1) {
			bm_error_set(BM_ENOTFOUND, "no project \"%s\"", p->project);
			error = bm_error_set_about(BM_ABOUT_PROJECT, p->project);
			goto done;
		}
	}
	secret_dir(dir, sizeof(dir), p->env, p->project, p->name);
	if (p->remove) {
		if ((error = secret_current(&cur, fs, p->project, p->env, p->name)) < 0)
			goto done;
		if (cur->op == BOOTMETA__V1__SECRET_OP__SECRET_OP_REMOVE) {
			error = bm_error_set(BM_ENOTFOUND, "secret %s of %s in %s is already removed", p->name,
					     p->project, p->env);
			goto done;
		}
	} else if ((error = need_recipients(&rcpts, fs, p->env)) < 0) {
		goto done;
	}
	if ((error = next_seq(&p->seq, fs, dir, &bootmeta__v1__secret_version__descriptor)) < 0)
		goto done;
	if (!cur && p->seq > 1 && (error = version_read(&cur, fs, dir, p->seq - 1, p->project, p->env, p->name)) < 0)
		goto done; /* the version this one follows is the one its path says */
	if ((error = version_add(txn, p->project, p->env, p->name, p->seq, p->remove ? BM_SECRET_REMOVE : BM_SECRET_SET,
				 p->plain, p->len, &rcpts)) < 0)
		goto done;
	if (p->remove)
		error = bm_txn_message(txn, "secret rm %s %s %s (seq %llu; history keeps the old ciphertext)",
				       p->project, p->env, p->name, (unsigned long long)p->seq);
	else
		error = bm_txn_message(txn, "secret set %s %s %s (seq %llu, %zu recipient%s)", p->project, p->env,
				       p->name, (unsigned long long)p->seq, rcpts.count, rcpts.count == 1 ? "" : "s");
done:
	if (cur)
		bootmeta__v1__secret_version__free_unpacked(cur, NULL);
	bm_strlist_dispose(&rcpts);
	return error;
}

int bm_secret_set(uint64_t *out_seq, bm_store *store, const char *project, const char *env, const char *name,
		  const void *plain, size_t len, const bm_write_options *opts)
{
	set_txn p = { project, env, name, plain, len, 0, 0 };
	int error;

	if ((error = check_secret_names(project, env, name)) < 0)
		return error;
	if (!plain && len)
		return bm_error_set(BM_EINVALID, "no value given");
	if (len > BM_SECRET_MAX_SIZE)
		return bm_error_set(BM_ETOOBIG, "the value is %zu bytes, over the limit of %d; keep large files in "
				    "an artifact store and their key here", len, BM_SECRET_MAX_SIZE);
	if ((error = bm_store_write(NULL, store, set_fn, &p, opts)) < 0)
		return error;
	if (out_seq)
		*out_seq = p.seq;
	return 0;
}

int bm_secret_rm(uint64_t *out_seq, bm_store *store, const char *project, const char *env, const char *name,
		 const bm_write_options *opts)
{
	set_txn p = { project, env, name, NULL, 0, 1, 0 };
	int error;

	if ((error = check_secret_names(project, env, name)) < 0)
		return error;
	if ((error = bm_store_write(NULL, store, set_fn, &p, opts)) < 0)
		return error;
	if (out_seq)
		*out_seq = p.seq;
	return 0;
}

typedef struct {
	const char *env;
	const char *identities;
	int only_stale;
	size_t count;
} rekey_txn;

static int rekey_fn(bm_txn *txn, void *payload)
{
	rekey_txn *p = payload;
	bm_fs *fs = bm_txn_fs(txn);
	bm_secret_infos list = BM_SECRET_INFOS_INIT;
	bm_strlist rcpts = BM_STRLIST_INIT;
	bm_buf plain = BM_BUF_INIT;
	size_t i;
	int error;

	p->count = 0;
	if ((error = need_recipients(&rcpts, fs, p->env)) < 0)
		goto done;
	if ((error = bm_secret_list(&list, fs, NULL, p->env, 0)) < 0)
		goto done;
	for (i = 0; i < list.count; i++) {
		const bm_secret_info *s = &list.items[i];
		if (p->only_stale && !s->stale)
			continue;
		if ((error = secret_open(&plain, fs, s->project, p->env, s->name, p->identities, NULL)) < 0) {
			error = bm_error_prefix(error, "cannot rekey %s: %s/%s", p->env, s->project, s->name);
			goto done;
		}
		error = version_add(txn, s->project, p->env, s->name, s->seq + 1, BM_SECRET_REKEY, plain.ptr,
				    plain.size, &rcpts);
		bm_buf_dispose_secret(&plain);
		if (error < 0)
			goto done;
		p->count++;
	}
	if (!p->count) {
		error = 1; /* nothing to do: no commit */
		goto done;
	}
	error = bm_txn_message(txn, "secret rekey %s: %zu secret%s to %zu recipient%s", p->env, p->count,
			       p->count == 1 ? "" : "s", rcpts.count, rcpts.count == 1 ? "" : "s");
done:
	bm_buf_dispose_secret(&plain);
	bm_secret_infos_dispose(&list);
	bm_strlist_dispose(&rcpts);
	return error;
}

int bm_secret_rekey(size_t *out_count, bm_store *store, const char *env, const char *identities, int only_stale,
		    const bm_write_options *opts)
{
	rekey_txn p = { env, identities, only_stale, 0 };
	int error;

	if ((error = check_secret_names(NULL, env, NULL)) < 0)
		return error;
	if (!identities)
		return bm_error_set(BM_EINVALID, "no identities given");
	if ((error = bm_store_write(NULL, store, rekey_fn, &p, opts)) < 0)
		return error;
	if (out_count)
		*out_count = p.count;
	return 0;
}
