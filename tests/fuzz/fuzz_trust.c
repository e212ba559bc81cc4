/* fuzz_trust.c: the pinned trusted-keys file (bm_trusted_keys_add_text: minisign public keys
 * one base64 line each, or .pub files one after another, '#' comments) and the check of a
 * signature's trusted comment against a binary record (bm_binary_comment_check).
 *
 * Invariants: a text that loads holds at least one key, no two keys share a key id, every key
 * is found by its id; loading it again into the same set changes nothing; the keys written
 * back as .pub files (and as bare base64 lines) load as the same keys in the same order; a
 * text that does not load is refused with BM_EINVALID (or BM_EUNSUPPORTED for a non-Ed25519
 * key). The comment a binary is signed with always passes the check for that binary. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_keys(const bm_trusted_keys *a, const bm_trusted_keys *b)
{
	size_t i;
	if (a->count != b->count)
		abort();
	for (i = 0; i < a->count; i++)
		if (memcmp(&a->keys[i], &b->keys[i], sizeof(a->keys[i])) != 0)
			abort();
}

static void check_keys(const char *text)
{
	bm_trusted_keys k = BM_TRUSTED_KEYS_INIT, again = BM_TRUSTED_KEYS_INIT, bare = BM_TRUSTED_KEYS_INIT;
	bm_buf pubs = BM_BUF_INIT, lines = BM_BUF_INIT, one = BM_BUF_INIT;
	size_t i, j, count;
	int rc;

	rc = bm_trusted_keys_add_text(&k, text, "fuzz");
	if (rc < 0) {
		if (rc != BM_EINVALID && rc != BM_EUNSUPPORTED && rc != BM_ENOMEM)
			abort();
		goto done;
	}
	if (k.count == 0 || k.count > strlen(text) / 40 + 1 || !k.source.size)
		abort();
	for (i = 0; i < k.count; i++) {
		const bm_minisign_pubkey *pk = &k.keys[i];
		char hex[BM_MINISIGN_KEYID_HEXSZ + 1];
		bm_minisign_key_id_fmt(hex, pk->key_id);
		if (strcmp(hex, pk->key_id_hex) || bm_trusted_keys_find(&k, pk->key_id_hex) != pk)
			abort();
		for (j = 0; j < i; j++)
			if (!memcmp(k.keys[j].key_id, pk->key_id, 8))
				abort(); /* one key per key id */
		bm_buf_clear(&one);
		if (bm_minisign_pubkey_format(&one, pk) < 0 || bm_buf_puts(&pubs, one.ptr) < 0)
			abort();
		/* the base64 line of the .pub file */
		{
			const char *nl = strchr(one.ptr, '\n');
			if (!nl || bm_buf_puts(&lines, nl + 1) < 0)
				abort();
		}
	}
	/* the same text again: every key is already there */
	count = k.count;
	if (bm_trusted_keys_add_text(&k, text, "fuzz again") < 0 || k.count != count)
		abort();
	/* written back as .pub files one after another, and as bare lines */
	if (bm_trusted_keys_add_text(&again, pubs.ptr, "pubs") < 0 ||
	    bm_trusted_keys_add_text(&bare, lines.ptr, "lines") < 0)
		abort();
	same_keys(&k, &again);
	same_keys(&k, &bare);
done:
	bm_buf_dispose(&one);
	bm_buf_dispose(&pubs);
	bm_buf_dispose(&lines);
	bm_trusted_keys_dispose(&k);
	bm_trusted_keys_dispose(&again);
	bm_trusted_keys_dispose(&bare);
}

static void check_comment(const char *text)
{
	Bootmeta__V1__Binary b = BOOTMETA__V1__BINARY__INIT;
	bm_buf tc = BM_BUF_INIT;
	int rc;

	b.project = (char *)"acme/server";
	b.release = (char *)"v1.2.3";
	b.sha256 = (char *)"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	b.size = 4096;
	rc = bm_binary_comment_check(text, &b);
	if (rc != 0 && rc != BM_EVERIFY)
		abort();
	/* a comment that names none of the checked fields cannot mismatch */
	if (rc != 0 && !strstr(text, "project:") && !strstr(text, "release:") && !strstr(text, "sha256:") &&
	    !strstr(text, "size:"))
		abort();
	/* the fuzz text as a field we do not check, after the ones we write: still passes */
	if (bm_binary_trusted_comment(&tc, b.project, b.release, b.sha256, b.size, 1700000000) < 0 ||
	    bm_binary_comment_check(tc.ptr, &b) != 0)
		abort();
	if (!strchr(text, '\t') && strncmp(text, "project:", 8) && strncmp(text, "release:", 8) &&
	    strncmp(text, "sha256:", 7) && strncmp(text, "size:", 5)) {
		if (bm_buf_printf(&tc, "\t%s", text) < 0 || bm_binary_comment_check(tc.ptr, &b) != 0)
			abort();
	}
	bm_buf_dispose(&tc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	char *text;

	if (!initialised) {
		if (bm_global_init() < 0)
			abort();
		initialised = 1;
	}
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_keys(text);
	check_comment(text);
	bm_error_clear();
	free(text);
	return 0;
}
