/* trust.c: signed binaries: the keys a verifier trusts (the meta repo's keys/signers, or
 * only its own pinned file), a binary's signatures (its record's own plus BinarySignature
 * records added later), verification of a file before it is installed, and adding a
 * signature to a recorded binary. See bootmeta/trust.h. */
#define _GNU_SOURCE
#include "bootmeta/trust.h"
#include "bootmeta/record.h"
#include "meta_int.h"
#include "optcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SIGNERS_DIR "keys/signers"
#define KEYS_FILE_MAX (1024 * 1024)
#define MINISIG_MAX (16 * 1024)

/* ---- trusted keys ---- */

void bm_trusted_keys_dispose(bm_trusted_keys *k)
{
	if (!k)
		return;
	free(k->keys);
	bm_buf_dispose(&k->source);
	memset(k, 0, sizeof(*k));
}

/* Add one key; the same key twice is kept once, another key with the same id is refused. */
static int keys_push(bm_trusted_keys *k, const bm_minisign_pubkey *pk, const char *what)
{
	size_t i;
	for (i = 0; i < k->count; i++) {
		if (memcmp(k->keys[i].key_id, pk->key_id, 8))
			continue;
		if (!memcmp(k->keys[i].key, pk->key, 32))
			return 0;
		return bm_error_set(BM_EINVALID, "%s: two different keys have the key id %s; remove the wrong one",
				    what, pk->key_id_hex);
	}
	if (k->count == k->alloc) {
		size_t n = k->alloc ? k->alloc * 2 : 8;
		bm_minisign_pubkey *g = realloc(k->keys, n * sizeof(*g));
		if (!g)
			return bm_error_set(BM_ENOMEM, "out of memory");
		k->keys = g;
		k->alloc = n;
	}
	k->keys[k->count++] = *pk;
	return 0;
}

static int source_add(bm_trusted_keys *k, const char *what)
{
	if (k->source.size && bm_buf_puts(&k->source, ", ") < 0)
		return BM_ENOMEM;
	return bm_buf_puts(&k->source, what);
}

int bm_trusted_keys_add_text(bm_trusted_keys *k, const char *text, const char *what)
{
	const char *p = text ? text : "";
	size_t lineno = 0, found = 0;
	int error = 0;

	while (*p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char line[512];
		bm_minisign_pubkey pk;
		lineno++;
		while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		if (n == 0 || *p == '#' || (n >= 18 && !strncmp(p, "untrusted comment:", 18)))
			goto next;
		if (n >= sizeof(line))
			return bm_error_set(BM_EINVALID, "%s line %zu: too long for a minisign public key", what, lineno);
		memcpy(line, p, n);
		line[n] = '\0';
		if ((error = bm_minisign_pubkey_parse(&pk, line)) < 0)
			return bm_error_prefix(error, "%s line %zu is not a minisign public key (one base64 key a "
						      "line, or .pub files one after another)", what, lineno);
		if ((error = keys_push(k, &pk, what)) < 0)
			return error;
		found++;
next:
		p += n;
		while (*p && *p != '\n')
			p++;
		if (*p == '\n')
			p++;
	}
	if (!found)
		return bm_error_set(BM_EINVALID, "%s holds no minisign public key; put one base64 key a line (the "
						 "second line of a .pub file)", what);
	return source_add(k, what);
}

int bm_trusted_keys_add_file(bm_trusted_keys *k, const char *path)
{
	bm_buf text = BM_BUF_INIT;
	struct stat st;
	int error;

	if (!path || !*path)
		return bm_error_set(BM_EINVALID, "no trusted keys file given");
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return bm_error_set(BM_ENOTFOUND, "trusted keys file %s does not exist", path);
		return bm_error_set(BM_EIO, "trusted keys file %s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return bm_error_set(BM_EINVALID, "trusted keys file %s is not a regular file", path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return bm_error_set(BM_EPERM, "trusted keys file %s may be written by others (mode %03o): anyone who "
					      "can write it chooses what you install; chmod go-w %s", path,
				    (unsigned int)(st.st_mode & 0777), path);
	if ((error = bm_file_read(&text, path, KEYS_FILE_MAX)) == 0 && (error = bm_buf_grow(&text, text.size)) == 0) {
		text.ptr[text.size] = '\0';
		error = bm_trusted_keys_add_text(k, text.ptr, path);
	}
	if (!error)
		k->pinned = 1;
	bm_buf_dispose(&text);
	return error;
}

int bm_trusted_keys_add_repo(bm_trusted_keys *k, bm_fs *fs)
{
	bm_strlist names = BM_STRLIST_INIT;
	bm_buf path = BM_BUF_INIT, text = BM_BUF_INIT;
	size_t i;
	int error;

	if ((error = bm_fs_list_or_empty(&names, fs, SIGNERS_DIR)) < 0)
		goto done;
	for (i = 0; i < names.count; i++) {
		const char *n = names.items[i];
		size_t len = strlen(n);
		bm_minisign_pubkey pk;
		if (len < 5 || strcmp(n + len - 4, ".pub"))
			continue;
		bm_buf_clear(&path);
		bm_buf_clear(&text);
		if ((error = bm_buf_printf(&path, SIGNERS_DIR "/%s", n)) < 0 ||
		    (error = bm_fs_read(&text, fs, path.ptr)) < 0 || (error = bm_buf_grow(&text, text.size)) < 0)
			goto done;
		text.ptr[text.size] = '\0';
		if ((error = bm_minisign_pubkey_parse(&pk, text.ptr)) < 0) {
			error = bm_error_prefix(BM_ECORRUPT, "%s", path.ptr);
			goto done;
		}
		if (len - 4 != BM_MINISIGN_KEYID_HEXSZ || strncmp(n, pk.key_id_hex, BM_MINISIGN_KEYID_HEXSZ)) {
			bm_error_set(BM_ECORRUPT, "%s holds key %s, not the key its name says", path.ptr, pk.key_id_hex);
			error = bm_error_set_about(BM_ABOUT_RECORD, path.ptr);
			goto done;
		}
		if ((error = keys_push(k, &pk, path.ptr)) < 0)
			goto done;
	}
	error = source_add(k, "the meta repo's " SIGNERS_DIR);
done:
	bm_buf_dispose(&text);
	bm_buf_dispose(&path);
	bm_strlist_dispose(&names);
	return error;
}

int bm_trusted_keys_load(bm_trusted_keys *out, bm_fs *fs, const char *const *files, size_t nfiles)
{
	size_t i;
	int error = 0;

	for (i = 0; i < nfiles && !error; i++)
		error = bm_trusted_keys_add_file(out, files[i]);
	if (!error && !nfiles)
		error = bm_trusted_keys_add_repo(out, fs);
	return error;
}

const bm_minisign_pubkey *bm_trusted_keys_find(const bm_trusted_keys *k, const char *key_id_hex)
{
	size_t i;
	for (i = 0; k && key_id_hex && i < k->count; i++)
		if (!strcmp(k->keys[i].key_id_hex, key_id_hex))
			return &k->keys[i];
	return NULL;
}

/* ---- paths and trusted comments ---- */

static int key_id_check(const char *id)
{
	size_t i;
	if (!id || strlen(id) != BM_MINISIGN_KEYID_HEXSZ)
		return bm_error_set(BM_EINVALID, "\"%s\" is not a minisign key id (16 upper-case hex digits)", id ? id : "");
	for (i = 0; i < BM_MINISIGN_KEYID_HEXSZ; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'F')))
			return bm_error_set(BM_EINVALID, "\"%s\" is not a minisign key id (16 upper-case hex digits)", id);
	return 0;
}

static int sig_dir(bm_buf *out, const char *sha256)
{
	int error;
	if ((error = bm_path_binary(out, sha256)) < 0)
		return error;
	out->size -= 3; /* ".pb" */
	return bm_buf_puts(out, ".sig");
}

int bm_path_binary_signature(bm_buf *out, const char *sha256, const char *key_id_hex)
{
	int error;
	if ((error = key_id_check(key_id_hex)) < 0 || (error = sig_dir(out, sha256)) < 0)
		return error;
	return bm_buf_printf(out, "/%s.pb", key_id_hex);
}

int bm_binary_trusted_comment(bm_buf *out, const char *project, const char *release, const char *sha256,
			      uint64_t size, int64_t unix_time)
{
	return bm_buf_printf(out, "timestamp:%lld\tproject:%s\trelease:%s\tsha256:%s\tsize:%llu", (long long)unix_time,
			     project, release, sha256, (unsigned long long)size);
}

int bm_binary_comment_check(const char *tc, const Bootmeta__V1__Binary *b)
{
	const char *p = tc ? tc : "";
	char size[32];
	snprintf(size, sizeof(size), "%llu", (unsigned long long)b->size);
	while (*p) {
		size_t n = strcspn(p, "\t");
		static const char *const keys[] = { "project:", "release:", "sha256:", "size:" };
		const char *want[4];
		size_t i;
		want[0] = b->project;
		want[1] = b->release;
		want[2] = b->sha256;
		want[3] = size;
		for (i = 0; i < 4; i++) {
			size_t kl = strlen(keys[i]);
			if (n < kl || strncmp(p, keys[i], kl))
				continue;
			if (n - kl != strlen(want[i]) || strncmp(p + kl, want[i], n - kl))
				return bm_error_set(BM_EVERIFY, "the signed trusted comment says %.*s, but the record says "
								"%s%s: the signature was made for another binary",
						    (int)n, p, keys[i], want[i]);
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/* ---- a binary's signatures ---- */

const char *bm_sig_status_name(bm_sig_status s)
{
	switch (s) {
	case BM_SIG_LISTED: return "listed";
	case BM_SIG_VERIFIED: return "verified";
	case BM_SIG_COMMENT_VERIFIED: return "trusted key";
	case BM_SIG_UNTRUSTED_KEY: return "untrusted key";
	case BM_SIG_BAD: return "bad signature";
	case BM_SIG_MISMATCH: return "signed for another binary";
	case BM_SIG_MALFORMED: return "malformed";
	}
	return "?";
}

void bm_binary_sigs_dispose(bm_binary_sigs *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->count; i++) {
		free(l->items[i].path);
		free(l->items[i].minisig);
		free(l->items[i].actor);
		bm_buf_dispose(&l->items[i].trusted_comment);
		bm_buf_dispose(&l->items[i].detail);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static int detail_from_error(bm_binary_sig *s)
{
	bm_buf_clear(&s->detail);
	return bm_buf_puts(&s->detail, bm_error_last());
}

/* Read the signature (key id, comment) and, with keys, check who signed it. */
static int sig_assess(bm_binary_sig *s, const Bootmeta__V1__Binary *b, const bm_trusted_keys *keys,
		      const char *path_key_id)
{
	bm_minisign_result r = BM_MINISIGN_RESULT_INIT;
	int error, rc;

	if ((error = bm_minisign_sig_parse(&r, s->minisig)) < 0) {
		s->status = BM_SIG_MALFORMED;
		error = detail_from_error(s);
		bm_error_clear();
		goto done;
	}
	memcpy(s->key_id, r.key_id_hex, sizeof(s->key_id));
	s->prehashed = r.prehashed;
	if ((error = bm_buf_put(&s->trusted_comment, r.trusted_comment.ptr, r.trusted_comment.size)) < 0)
		goto done;
	if (path_key_id && strcmp(path_key_id, s->key_id)) {
		s->status = BM_SIG_MISMATCH;
		error = bm_buf_printf(&s->detail, "%s names key %s but holds a signature by %s", s->path, path_key_id,
				      s->key_id);
		goto done;
	}
	if (!keys)
		goto done;
	rc = bm_minisign_verify_comment(NULL, s->minisig, keys->keys, keys->count);
	if (rc == BM_ENOTFOUND) {
		s->status = BM_SIG_UNTRUSTED_KEY;
	} else if (rc < 0) {
		s->status = BM_SIG_BAD;
	} else if (bm_binary_comment_check(s->trusted_comment.ptr, b) < 0) {
		s->status = BM_SIG_MISMATCH;
	} else {
		s->status = BM_SIG_COMMENT_VERIFIED;
		goto done;
	}
	error = detail_from_error(s);
	bm_error_clear();
done:
	bm_minisign_result_dispose(&r);
	return error;
}

static int sigs_push(bm_binary_sigs *l, bm_binary_sig **out)
{
	bm_binary_sig *g = realloc(l->items, (l->count + 1) * sizeof(*g));
	if (!g)
		return bm_error_set(BM_ENOMEM, "out of memory");
	l->items = g;
	*out = &g[l->count++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static char *dup_or_fail(const char *s, int *error)
{
	char *d = strdup(s ? s : "");
	if (!d)
		*error = bm_error_set(BM_ENOMEM, "out of memory");
	return d;
}

int bm_binary_signatures(bm_binary_sigs *out, bm_fs *fs, const Bootmeta__V1__Binary *b, const bm_trusted_keys *keys)
{
	bm_strlist names = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT, data = BM_BUF_INIT;
	bm_binary_sig *s = NULL;
	size_t i;
	int error = 0;

	if (*b->signature) {
		if ((error = sigs_push(out, &s)) < 0 || (error = bm_path_binary(&path, b->sha256)) < 0)
			goto done;
		s->created_ms = b->created_ms;
		if (!(s->path = dup_or_fail(path.ptr, &error)) || !(s->minisig = dup_or_fail(b->signature, &error)) ||
		    !(s->actor = dup_or_fail(b->actor, &error)))
			goto done;
		if ((error = sig_assess(s, b, keys, NULL)) < 0)
			goto done;
	}
	if ((error = sig_dir(&dir, b->sha256)) < 0)
		goto done;
	if ((error = bm_fs_list_or_empty(&names, fs, dir.ptr)) < 0)
		goto done;
	for (i = 0; i < names.count; i++) {
		const char *n = names.items[i];
		size_t len = strlen(n);
		Bootmeta__V1__BinarySignature *rec = NULL;
		char id[BM_MINISIGN_KEYID_HEXSZ + 1];
		if (len != BM_MINISIGN_KEYID_HEXSZ + 3 || strcmp(n + BM_MINISIGN_KEYID_HEXSZ, ".pb"))
			continue;
		memcpy(id, n, BM_MINISIGN_KEYID_HEXSZ);
		id[BM_MINISIGN_KEYID_HEXSZ] = '\0';
		bm_buf_clear(&path);
		bm_buf_clear(&data);
		if ((error = bm_buf_printf(&path, "%s/%s", dir.ptr, n)) < 0 || (error = bm_fs_read(&data, fs, path.ptr)) < 0)
			goto done;
		if ((error = bm_record_decode((ProtobufCMessage **)&rec, &bootmeta__v1__binary_signature__descriptor,
					      data.ptr, data.size)) < 0) {
			bm_error_prefix(error, "%s does not decode", path.ptr);
			error = bm_error_set_about(BM_ABOUT_RECORD, path.ptr);
			goto done;
		}
		if ((error = sigs_push(out, &s)) == 0) {
			s->created_ms = rec->created_ms;
			if ((s->path = dup_or_fail(path.ptr, &error)) && (s->minisig = dup_or_fail(rec->signature, &error)) &&
			    (s->actor = dup_or_fail(rec->actor, &error))) {
				if (strcmp(rec->sha256, b->sha256)) {
					s->status = BM_SIG_MISMATCH;
					error = bm_buf_printf(&s->detail, "%s is for binary %s", path.ptr, rec->sha256);
				} else {
					error = sig_assess(s, b, keys, id);
				}
			}
		}
		bm_record_free(&rec->base);
		if (error < 0)
			goto done;
	}
done:
	bm_buf_dispose(&data);
	bm_buf_dispose(&path);
	bm_buf_dispose(&dir);
	bm_strlist_dispose(&names);
	return error;
}

/* ---- verify before install ---- */

void bm_binary_check_dispose(bm_binary_check *c)
{
	if (!c)
		return;
	bm_meta_free(c->binary);
	bm_binary_sigs_dispose(&c->sigs);
	bm_trusted_keys_dispose(&c->keys);
	memset(c, 0, sizeof(*c));
}

static int keys_copy(bm_trusted_keys *dst, const bm_trusted_keys *src)
{
	size_t i;
	int error = 0;
	for (i = 0; i < src->count && !error; i++)
		error = keys_push(dst, &src->keys[i], "trusted keys");
	dst->pinned = src->pinned;
	if (!error && src->source.size)
		error = bm_buf_puts(&dst->source, src->source.ptr);
	return error;
}

/* Why nothing verified, from the per-signature details. */
static int no_trusted_signature(const bm_binary_check *c, const char *file)
{
	bm_buf why = BM_BUF_INIT;
	size_t i;
	int untrusted_only = 1;
	for (i = 0; i < c->sigs.count; i++) {
		const bm_binary_sig *s = &c->sigs.items[i];
		if (s->status != BM_SIG_UNTRUSTED_KEY)
			untrusted_only = 0;
		bm_buf_printf(&why, "%s%s: %s", i ? "; " : "", *s->key_id ? s->key_id : s->path,
			      s->detail.size ? s->detail.ptr : bm_sig_status_name(s->status));
	}
	if (untrusted_only)
		bm_error_set(BM_EVERIFY, "%s is signed only by keys you do not trust (%s); trusted keys come from %s%s",
			     file, why.ptr ? why.ptr : "", c->keys.source.size ? c->keys.source.ptr : "nowhere",
			     c->keys.pinned ? " (pinned: the meta repo's keys/signers do not count)" : "");
	else
		bm_error_set(BM_EVERIFY, "no trusted signature of %s verifies: %s", file, why.ptr ? why.ptr : "");
	bm_buf_dispose(&why);
	return BM_EVERIFY;
}

int bm_binary_verify(bm_binary_check *out, bm_fs *fs, const char *file, const bm_binary_verify_options *opts)
{
	bm_binary_verify_options defaults = BM_BINARY_VERIFY_OPTIONS_INIT;
	const bm_binary_verify_options *o = opts ? opts : &defaults;
	const Bootmeta__V1__Binary *b;
	const char *sha;
	size_t i;
	int error;

	bm_binary_check_dispose(out); /* the verdict counts only what this call verified */
	if ((error = BM_OPTS_CHECK(o, BM_BINARY_VERIFY_OPTIONS_VERSION, "bm_binary_verify_options")) < 0)
		return error;
	if (o->sha256 && (error = bm_sha256_check(o->sha256)) < 0)
		return error;
	if (o->version >= 2 && o->file_sha256) {
		/* the caller hashed these bytes as it wrote them: not again */
		struct stat st;
		if ((error = bm_sha256_check(o->file_sha256)) < 0)
			return error;
		if (stat(file, &st) < 0)
			return bm_error_set(errno == ENOENT ? BM_ENOTFOUND : BM_EIO, "%s: %s", file, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return bm_error_set(BM_EINVALID, "%s is not a regular file", file);
		memcpy(out->sha256, o->file_sha256, sizeof(out->sha256));
		out->size = (uint64_t)st.st_size;
	} else if ((error = bm_file_sha256(out->sha256, &out->size, file)) < 0) {
		return error;
	}
	sha = o->sha256 ? o->sha256 : out->sha256;
	if ((error = bm_binary_get(&out->binary, fs, sha)) < 0) {
		if (error == BM_ENOTFOUND && !o->sha256) {
			bm_error_set(BM_ENOTFOUND, "%s (sha256 %s, %llu bytes) is not a recorded binary: it was changed, "
						   "or never recorded", file, out->sha256, (unsigned long long)out->size);
			bm_error_set_about(BM_ABOUT_BINARY_FILE, file);
		}
		return error;
	}
	b = out->binary;
	if (strcmp(out->sha256, sha))
		return bm_error_set(BM_EVERIFY, "%s has sha256 %s, not %s: the file was changed (or is another file)",
				    file, out->sha256, sha);
	if (strcmp(b->sha256, sha))
		return bm_error_set(BM_EVERIFY, "the record of binary %s says sha256 %s: the meta repo was changed by "
						"hand", sha, b->sha256);
	if (b->size != out->size)
		return bm_error_set(BM_EVERIFY, "%s is %llu bytes but binary %s was recorded with %llu bytes",
				    file, (unsigned long long)out->size, sha, (unsigned long long)b->size);
	if (o->project && strcmp(o->project, b->project))
		return bm_error_set(BM_EVERIFY, "%s is a binary of project %s (release %s), not of %s", file, b->project,
				    b->release, o->project);
	if (o->keys)
		error = keys_copy(&out->keys, o->keys);
	else
		error = bm_trusted_keys_load(&out->keys, fs, NULL, 0);
	if (error < 0 || (error = bm_binary_signatures(&out->sigs, fs, b, &out->keys)) < 0)
		return error;
	if (!out->sigs.count) {
		bm_error_set(BM_EVERIFY, "binary %s (%s %s) is not signed", sha, b->project, b->release);
		return bm_error_set_about(BM_ABOUT_BINARY, file);
	}
	for (i = 0; i < out->sigs.count; i++) {
		bm_binary_sig *s = &out->sigs.items[i];
		const bm_minisign_pubkey *pk;
		int rc;
		if (s->status != BM_SIG_COMMENT_VERIFIED || !(pk = bm_trusted_keys_find(&out->keys, s->key_id)))
			continue;
		rc = bm_minisign_verify_file_key(NULL, s->minisig, file, pk, 1);
		if (rc == BM_EIO || rc == BM_ENOMEM || rc == BM_ENOTFOUND) /* the file, not the signature */
			return rc;
		if (rc < 0) {
			s->status = BM_SIG_BAD;
			if ((error = detail_from_error(s)) < 0)
				return error;
			bm_error_clear();
			continue;
		}
		s->status = BM_SIG_VERIFIED;
		out->nverified++;
	}
	if (!out->nverified)
		return no_trusted_signature(out, file);
	return 0;
}

/* ---- adding signatures ---- */

int bm_binary_signature_check(char key_id[BM_MINISIGN_KEYID_HEXSZ + 1], bm_fs *fs, const char *file,
			      const char *minisig, const Bootmeta__V1__Binary *b)
{
	bm_trusted_keys keys = BM_TRUSTED_KEYS_INIT;
	bm_minisign_result r = BM_MINISIGN_RESULT_INIT;
	int error;

	key_id[0] = '\0';
	if (!minisig || strlen(minisig) > MINISIG_MAX)
		return bm_error_set(BM_EINVALID, "the signature is empty or over %d bytes; give a .minisig file",
				    MINISIG_MAX);
	if ((error = bm_trusted_keys_add_repo(&keys, fs)) < 0)
		goto done;
	error = bm_minisign_verify_file_key(&r, minisig, file, keys.keys, keys.count);
	if (error == BM_ENOTFOUND && bm_minisign_sig_parse(&r, minisig) == 0) {
		bm_error_set(BM_ENOTFOUND, "the signature is by key %s, which the meta repo does not trust (no "
					   "keys/signers/%s.pub)", r.key_id_hex, r.key_id_hex);
		error = bm_error_set_about(BM_ABOUT_SIGNER, r.key_id_hex);
		goto done;
	}
	if (error < 0) {
		bm_error_prefix(error, "the signature of %s", file);
		goto done;
	}
	if ((error = bm_binary_comment_check(r.trusted_comment.ptr, b)) < 0)
		goto done;
	memcpy(key_id, r.key_id_hex, BM_MINISIGN_KEYID_HEXSZ + 1);
done:
	bm_minisign_result_dispose(&r);
	bm_trusted_keys_dispose(&keys);
	return error;
}

/* ---- adding a binary with its signature ---- */

/* Sign (or take the given signature) and check it against the keys/signers of the view the
 * record is written on (the transaction's), so the key that vouches is one the same commit
 * trusts. */
static int binary_signature_prepare(bm_buf *minisig, char key_id[BM_MINISIGN_KEYID_HEXSZ + 1], bm_fs *fs,
				    const bm_binary_options *o, const char *project, const char *release,
				    const char *sha256, uint64_t size, const char *file)
{
	Bootmeta__V1__Binary b = BOOTMETA__V1__BINARY__INIT;
	bm_buf tc = BM_BUF_INIT;
	int error;

	bm_buf_clear(minisig);
	b.sha256 = (char *)sha256;
	b.size = size;
	b.project = (char *)project;
	b.release = (char *)release;
	if (o->sign_key) {
		if ((error = bm_binary_trusted_comment(&tc, project, release, sha256, size,
						       (int64_t)time(NULL))) < 0 ||
		    (error = bm_minisign_sign_file_with(minisig, o->sign_key, file, tc.ptr, NULL)) < 0)
			goto done;
	} else if ((error = bm_buf_puts(minisig, o->signature)) < 0) {
		goto done;
	}
	error = bm_binary_signature_check(key_id, fs, file, minisig->ptr, &b);
done:
	bm_buf_dispose(&tc);
	return error;
}

/* The part of bm_binary_add after the file is hashed: sign or check the signature, then the
 * record, in `txn`. */
static int binary_file_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project, const char *release,
			   const char *file, const char *sha256, uint64_t size, const bm_binary_options *o)
{
	bm_buf minisig = BM_BUF_INIT;
	char key_id[BM_MINISIGN_KEYID_HEXSZ + 1];
	int error, signed_ = o->sign_key || o->signature;

	if (out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	if (signed_ && (error = binary_signature_prepare(&minisig, key_id, bm_txn_fs(txn), o, project, release, sha256,
							 size, file)) < 0)
		goto done;
	error = bm__binary_txn(out, txn, project, release, sha256, size, o, signed_ ? minisig.ptr : NULL,
			       signed_ ? key_id : NULL);
done:
	bm_buf_dispose(&minisig);
	return error;
}

/* 1 when the trusted comment has a `sha256:` field (its value is checked by
 * bm_binary_comment_check) */
static int comment_names_digest(const char *tc)
{
	const char *p = tc ? tc : "";
	while (*p) {
		size_t n = strcspn(p, "\t");
		if (n > 7 && !strncmp(p, "sha256:", 7))
			return 1;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

int bm_binary_add_digest_signed_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project,
				    const char *release, const char *sha256, uint64_t size, const bm_binary_options *opts)
{
	Bootmeta__V1__Binary b = BOOTMETA__V1__BINARY__INIT;
	bm_trusted_keys keys = BM_TRUSTED_KEYS_INIT;
	bm_minisign_result r = BM_MINISIGN_RESULT_INIT;
	int error;

	if (out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	if ((error = BM_OPTS_CHECK(opts, BM_BINARY_OPTIONS_VERSION, "bm_binary_options")) < 0)
		return error;
	if (!opts || !opts->signature || opts->sign_key)
		return bm_error_set(BM_EINVALID, "bm_binary_add_digest_signed_txn takes a .minisig made elsewhere "
						 "(opts->signature), never a key: signing needs the file");
	if ((error = bm__binary_check(project, release, opts)) < 0 || (error = bm_sha256_check(sha256)) < 0)
		return error;
	if (strlen(opts->signature) > MINISIG_MAX)
		return bm_error_set(BM_EINVALID, "the signature is over %d bytes; give a .minisig file", MINISIG_MAX);
	if ((error = bm_minisign_sig_parse(&r, opts->signature)) < 0) {
		bm_error_prefix(error, "the signature");
		goto done;
	}
	if ((error = bm_trusted_keys_add_repo(&keys, bm_txn_fs(txn))) < 0)
		goto done;
	bm_minisign_result_dispose(&r);
	error = bm_minisign_verify_comment(&r, opts->signature, keys.keys, keys.count);
	if (error == BM_ENOTFOUND && bm_minisign_sig_parse(&r, opts->signature) == 0) {
		bm_error_set(BM_ENOTFOUND, "the signature is by key %s, which the meta repo does not trust (no "
					   "keys/signers/%s.pub)", r.key_id_hex, r.key_id_hex);
		error = bm_error_set_about(BM_ABOUT_SIGNER, r.key_id_hex);
		goto done;
	}
	if (error < 0) {
		bm_error_prefix(error, "the signature's trusted comment");
		goto done;
	}
	if (!comment_names_digest(r.trusted_comment.ptr)) {
		error = bm_error_set(BM_EVERIFY, "the signature's trusted comment (%s) does not name the binary's sha256: "
						 "without the file, only a comment with sha256:<hex> ties a signature to it",
				     r.trusted_comment.ptr ? r.trusted_comment.ptr : "");
		goto done;
	}
	b.sha256 = (char *)sha256;
	b.size = size;
	b.project = (char *)project;
	b.release = (char *)release;
	if ((error = bm_binary_comment_check(r.trusted_comment.ptr, &b)) < 0)
		goto done;
	{
		bm_binary_options plain = *opts;
		plain.signature = NULL;
		error = bm__binary_txn(out, txn, project, release, sha256, size, &plain, opts->signature, r.key_id_hex);
	}
done:
	bm_minisign_result_dispose(&r);
	bm_trusted_keys_dispose(&keys);
	return error;
}

int bm_binary_add_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project, const char *release,
		      const char *file, const bm_binary_options *opts)
{
	bm_binary_options defaults = BM_BINARY_OPTIONS_INIT;
	const bm_binary_options *o = opts ? opts : &defaults;
	char hex[65];
	uint64_t size;
	int error;

	if (out) {
		bm_meta_free(*out);
		*out = NULL;
	}
	/* names first: a bad name is reported before the file is read */
	if ((error = bm__binary_check(project, release, o)) < 0 || (error = bm_file_sha256(hex, &size, file)) < 0)
		return error;
	return binary_file_txn(out, txn, project, release, file, hex, size, o);
}

typedef struct {
	const char *project, *release, *file, *sha256;
	uint64_t size;
	const bm_binary_options *o;
	Bootmeta__V1__Binary *rec;
} binary_file_ctx;

static int binary_file_fn(bm_txn *txn, void *payload)
{
	binary_file_ctx *c = payload;
	int error = binary_file_txn(&c->rec, txn, c->project, c->release, c->file, c->sha256, c->size, c->o);
	return error ? error : bm__binary_message(txn, c->rec);
}

int bm_binary_add(Bootmeta__V1__Binary **out, bm_oid *out_commit, bm_store *store, const char *project,
		  const char *release, const char *file, const bm_binary_options *opts)
{
	bm_binary_options defaults = BM_BINARY_OPTIONS_INIT;
	binary_file_ctx c = { project, release, file, NULL, 0, NULL, NULL };
	bm_write_options w;
	char hex[65];
	int error;

	if (out)
		*out = NULL;
	c.o = opts ? opts : &defaults;
	/* names first: a bad name is reported before the file is read; the file is hashed once */
	if ((error = bm__binary_check(project, release, c.o)) < 0 || (error = bm_file_sha256(hex, &c.size, file)) < 0)
		return error;
	c.sha256 = hex;
	bm__write_opts(&w, c.o->write);
	error = bm_store_write(out_commit, store, binary_file_fn, &c, &w);
	if (!error && out) {
		*out = c.rec;
		c.rec = NULL;
	}
	bm_meta_free(c.rec);
	return error;
}

typedef struct {
	const char *sha256, *key_id, *minisig;
	bm_buf packed;
} sign_ctx;

static int sign_txn(bm_txn *txn, void *payload)
{
	sign_ctx *c = payload;
	Bootmeta__V1__BinarySignature rec = BOOTMETA__V1__BINARY_SIGNATURE__INIT;
	Bootmeta__V1__Binary *b = NULL;
	bm_minisign_result r = BM_MINISIGN_RESULT_INIT;
	bm_buf path = BM_BUF_INIT;
	int error;

	if ((error = bm_binary_get(&b, bm_txn_fs(txn), c->sha256)) < 0 ||
	    (error = bm_path_binary_signature(&path, c->sha256, c->key_id)) < 0)
		goto done;
	if (*b->signature && bm_minisign_sig_parse(&r, b->signature) == 0 && !strcmp(r.key_id_hex, c->key_id)) {
		error = bm_error_set(BM_EEXISTS, "binary %s is already signed by key %s (in its record)", c->sha256,
				     c->key_id);
		goto done;
	}
	bm_error_clear();
	if (bm_fs_exists(bm_txn_fs(txn), path.ptr)) {
		error = bm_error_set(BM_EEXISTS, "binary %s is already signed by key %s (%s); a signature is never "
						 "rewritten", c->sha256, c->key_id, path.ptr);
		goto done;
	}
	rec.sha256 = (char *)c->sha256;
	rec.signature = (char *)c->minisig;
	rec.signer_key_id = (char *)c->key_id;
	rec.created_ms = bm_txn_time_ms(txn);
	rec.actor = (char *)bm_txn_actor(txn);
	bm_buf_clear(&c->packed);
	if ((error = bm_record_encode(&c->packed, &rec.base)) < 0 ||
	    (error = bm_txn_add(txn, path.ptr, c->packed.ptr, c->packed.size)) < 0)
		goto done;
	error = bm_txn_message(txn, "binary sign %.16s by %s (%s %s)", c->sha256, c->key_id, b->project, b->release);
done:
	bm_minisign_result_dispose(&r);
	bm_buf_dispose(&path);
	bm_meta_free(b);
	return error;
}

int bm_binary_sign(Bootmeta__V1__BinarySignature **out, bm_oid *out_commit, bm_store *store, const char *file,
		   const bm_binary_sign_options *opts)
{
	bm_binary_sign_options defaults = BM_BINARY_SIGN_OPTIONS_INIT;
	const bm_binary_sign_options *o = opts ? opts : &defaults;
	Bootmeta__V1__Binary *b = NULL;
	bm_fs *fs = NULL;
	bm_buf tc = BM_BUF_INIT, made = BM_BUF_INIT;
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	char sha[65], key_id[BM_MINISIGN_KEYID_HEXSZ + 1];
	sign_ctx c = { NULL, NULL, NULL, BM_BUF_INIT };
	uint64_t size = 0;
	int error;

	if (out)
		*out = NULL;
	if ((error = BM_OPTS_CHECK(o, BM_BINARY_SIGN_OPTIONS_VERSION, "bm_binary_sign_options")) < 0)
		return error;
	if (!o->key == !o->signature)
		return bm_error_set(BM_EINVALID, "give either a key to sign with or a signature made elsewhere");
	if ((error = bm_file_sha256(sha, &size, file)) < 0 || (error = bm_store_fs(&fs, store, NULL)) < 0)
		goto done;
	if ((error = bm_binary_get(&b, fs, sha)) < 0) {
		if (error == BM_ENOTFOUND) {
			bm_error_set(error, "%s (sha256 %s) is not a recorded binary", file, sha);
			bm_error_set_about(BM_ABOUT_BINARY_TO_SIGN, file);
		}
		goto done;
	}
	if (o->key) {
		if ((error = bm_binary_trusted_comment(&tc, b->project, b->release, sha, size, (int64_t)time(NULL))) < 0 ||
		    (error = bm_minisign_sign_file_with(&made, o->key, file, tc.ptr, NULL)) < 0)
			goto done;
	}
	c.minisig = o->key ? made.ptr : o->signature;
	if ((error = bm_binary_signature_check(key_id, fs, file, c.minisig, b)) < 0)
		goto done;
	c.sha256 = sha;
	c.key_id = key_id;
	if (o->write)
		w = *o->write;
	if ((error = bm_store_write(out_commit, store, sign_txn, &c, &w)) < 0)
		goto done;
	if (out && !(*out = (Bootmeta__V1__BinarySignature *)protobuf_c_message_unpack(
			     &bootmeta__v1__binary_signature__descriptor, NULL, c.packed.size, (const uint8_t *)c.packed.ptr)))
		error = bm_error_set(BM_ENOMEM, "out of memory");
done:
	bm_buf_dispose(&c.packed);
	bm_buf_dispose(&made);
	bm_buf_dispose(&tc);
	bm_meta_free(b);
	bm_fs_free(fs);
	return error;
}
