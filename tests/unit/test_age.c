/* test_age.c: age v1: every C2SP CCTV conformance vector (tests/data/age-cctv), key
 * encodings, round trips across chunk boundaries, passphrases and bounds, tampering, and
 * identity file permissions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <zlib.h>

#include "bootmeta.h"

/* ---- CCTV vectors ---- */

typedef struct {
	char expect[32];
	char payload[65];
	int armored, compressed, unknown_key;
	bm_age_identities *ids;
	bm_buf body;
} vector;

static int inflate_all(bm_buf *out, const unsigned char *in, size_t len)
{
	z_stream zs;
	unsigned char tmp[65536];
	int rc;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return -1;
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = tmp;
		zs.avail_out = sizeof(tmp);
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			inflateEnd(&zs);
			return -1;
		}
		bm_buf_put(out, tmp, sizeof(tmp) - zs.avail_out);
	} while (rc != Z_STREAM_END);
	inflateEnd(&zs);
	return 0;
}

static int vector_load(vector *v, const char *path)
{
	bm_buf raw = BM_BUF_INIT;
	const char *p, *end;
	memset(v, 0, sizeof(*v));
	if (bm_file_read(&raw, path, 0) < 0)
		return -1;
	assert_int_equal(bm_age_identities_new(&v->ids), 0);
	p = raw.ptr;
	end = raw.ptr + raw.size;
	while (p < end && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *colon;
		char key[64], val[256];
		size_t kl, vl;
		assert_non_null(eol);
		colon = memchr(p, ':', (size_t)(eol - p));
		assert_non_null(colon);
		kl = (size_t)(colon - p);
		vl = (size_t)(eol - colon - 2);
		assert_true(kl < sizeof(key) && vl < sizeof(val));
		memcpy(key, p, kl);
		key[kl] = '\0';
		memcpy(val, colon + 2, vl);
		val[vl] = '\0';
		if (!strcmp(key, "expect")) {
			assert_true(vl < sizeof(v->expect));
			memcpy(v->expect, val, vl + 1);
		} else if (!strcmp(key, "payload")) {
			assert_true(vl < sizeof(v->payload));
			memcpy(v->payload, val, vl + 1);
		}
		else if (!strcmp(key, "identity"))
			assert_int_equal(bm_age_identities_add_text(v->ids, val), 0);
		else if (!strcmp(key, "passphrase"))
			assert_int_equal(bm_age_identities_add_passphrase(v->ids, val), 0);
		else if (!strcmp(key, "armored"))
			v->armored = !strcmp(val, "yes");
		else if (!strcmp(key, "compressed"))
			v->compressed = !strcmp(val, "zlib");
		else if (strcmp(key, "file key") && strcmp(key, "comment"))
			v->unknown_key = 1;
		p = eol + 1;
	}
	p++; /* the empty line */
	if (v->compressed)
		assert_int_equal(inflate_all(&v->body, (const unsigned char *)p, (size_t)(end - p)), 0);
	else
		bm_buf_put(&v->body, p, (size_t)(end - p));
	bm_buf_dispose(&raw);
	return 0;
}

struct memrd {
	const unsigned char *p;
	size_t len, pos, step; /* step: at most this many bytes per read (exercise short reads) */
};

static int memrd_read(void *ctx, void *buf, size_t cap, size_t *got)
{
	struct memrd *m = ctx;
	size_t n = m->len - m->pos;
	if (n > cap)
		n = cap;
	if (m->step && n > m->step)
		n = m->step;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	*got = n;
	return 0;
}

static int hash_write(void *ctx, const void *data, size_t len)
{
	crypto_hash_sha256_update(ctx, data, len);
	return 0;
}

static bm_age_failure expect_kind(const char *e)
{
	if (!strcmp(e, "success")) return BM_AGE_FAIL_NONE;
	if (!strcmp(e, "armor failure")) return BM_AGE_FAIL_ARMOR;
	if (!strcmp(e, "header failure")) return BM_AGE_FAIL_HEADER;
	if (!strcmp(e, "HMAC failure")) return BM_AGE_FAIL_HMAC;
	if (!strcmp(e, "no match")) return BM_AGE_FAIL_NO_MATCH;
	if (!strcmp(e, "payload failure")) return BM_AGE_FAIL_PAYLOAD;
	return BM_AGE_FAIL_OTHER;
}

/* The error code each failure class must come with. */
static int code_fits(bm_age_failure kind, int code)
{
	switch (kind) {
	case BM_AGE_FAIL_NONE: return code == 0;
	case BM_AGE_FAIL_ARMOR: return code == BM_ECORRUPT;
	case BM_AGE_FAIL_HEADER: return code == BM_ECORRUPT || code == BM_ETOOBIG || code == BM_EUNSUPPORTED;
	case BM_AGE_FAIL_HMAC: return code == BM_EVERIFY;
	case BM_AGE_FAIL_NO_MATCH: return code == BM_ENORECIPIENT;
	case BM_AGE_FAIL_PAYLOAD: return code == BM_EVERIFY;
	default: return 0;
	}
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_cctv_vectors(void **state)
{
	const char *base = getenv("BM_TESTDATA");
	char dir[1024], path[1400];
	DIR *d;
	struct dirent *de;
	bm_strlist names = BM_STRLIST_INIT;
	size_t i, passed = 0, failed = 0, skipped = 0, counts[8] = { 0 };
	(void)state;

	assert_non_null(base);
	snprintf(dir, sizeof(dir), "%s/age-cctv", base);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "README.md"))
			bm_strlist_add(&names, de->d_name);
	closedir(d);
	qsort(names.items, names.count, sizeof(char *), cmpstr);
	assert_true(names.count >= 100);

	for (i = 0; i < names.count; i++) {
		vector v;
		crypto_hash_sha256_state hs;
		unsigned char digest[32];
		char hex[65];
		bm_age_failure got = BM_AGE_FAIL_NONE, want;
		int rc, ok, step;

		snprintf(path, sizeof(path), "%s/%s", dir, names.items[i]);
		assert_int_equal(vector_load(&v, path), 0);
		if (v.unknown_key) {
			skipped++;
			goto next;
		}
		want = expect_kind(v.expect);
		assert_int_not_equal(want, BM_AGE_FAIL_OTHER);
		/* whole reads, then 1-byte and odd-sized reads: the outcome must not depend on them */
		ok = 1;
		for (step = 0; step < 3 && ok; step++) {
			static const size_t steps[] = { 0, 1, 4093 };
			struct memrd m = { (const unsigned char *)v.body.ptr, v.body.size, 0, steps[step] };
			if (step == 1 && v.body.size > 300000)
				continue; /* byte-at-a-time over megabytes is slow under ASan */
			crypto_hash_sha256_init(&hs);
			bm_error_clear();
			rc = bm_age_decrypt_stream(hash_write, &hs, memrd_read, &m, v.ids,
						   v.armored ? BM_AGE_ARMOR_YES : BM_AGE_ARMOR_AUTO, &got);
			crypto_hash_sha256_final(&hs, digest);
			bm_hex_encode(hex, digest, 32);
			ok = got == want && code_fits(want, rc);
			if (ok && v.payload[0] && strcmp(hex, v.payload))
				ok = 0;
			if (!ok)
				print_message("FAIL %s (reads of %zu): expected %s, got %s (rc %d: %s); payload %s want %s\n",
					      names.items[i], steps[step], v.expect, bm_age_failure_name(got), rc,
					      bm_error_last(), hex, v.payload[0] ? v.payload : "-");
		}
		if (ok) {
			passed++;
			counts[want]++;
		} else {
			failed++;
		}
next:
		bm_age_identities_free(v.ids);
		bm_buf_dispose(&v.body);
	}
	print_message("age-cctv: %zu vectors passed, %zu failed, %zu skipped "
		      "(success %zu, armor %zu, header %zu, HMAC %zu, no match %zu, payload %zu)\n",
		      passed, failed, skipped, counts[BM_AGE_FAIL_NONE], counts[BM_AGE_FAIL_ARMOR],
		      counts[BM_AGE_FAIL_HEADER], counts[BM_AGE_FAIL_HMAC], counts[BM_AGE_FAIL_NO_MATCH],
		      counts[BM_AGE_FAIL_PAYLOAD]);
	bm_strlist_dispose(&names);
	assert_int_equal(failed, 0);
	assert_int_equal(skipped, 0);
}

/* ---- keys ---- */

static void test_keys(void **state)
{
	bm_buf id = BM_BUF_INIT, rcpt = BM_BUF_INIT, back = BM_BUF_INIT;
	(void)state;
	/* the example pair of the age specification */
	assert_int_equal(bm_age_recipient_of(&back,
		"AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n"), 0);
	assert_string_equal(back.ptr, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
	assert_int_equal(bm_age_recipient_check(back.ptr), 0);

	assert_int_equal(bm_age_keygen(&id, &rcpt), 0);
	assert_int_equal(strncmp(id.ptr, "AGE-SECRET-KEY-1", 16), 0);
	assert_int_equal(strlen(id.ptr), 74);
	assert_int_equal(strncmp(rcpt.ptr, "age1", 4), 0);
	assert_int_equal(strlen(rcpt.ptr), 62);
	assert_int_equal(bm_age_recipient_of(&back, id.ptr), 0);
	assert_string_equal(back.ptr, rcpt.ptr);

	/* a changed character breaks the checksum; mixed case is refused */
	rcpt.ptr[10] = rcpt.ptr[10] == 'q' ? 'p' : 'q';
	assert_int_equal(bm_age_recipient_check(rcpt.ptr), BM_EINVALID);
	assert_int_equal(bm_age_recipient_check("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwJ"), BM_EINVALID);
	assert_int_equal(bm_age_recipient_check(""), BM_EINVALID);
	assert_int_equal(bm_age_recipient_check("ssh-ed25519 AAAA"), BM_EUNSUPPORTED);
	/* an identity is not a recipient and vice versa */
	assert_int_equal(bm_age_recipient_check(id.ptr), BM_EINVALID);
	assert_int_equal(bm_age_recipient_of(&back, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"), BM_EINVALID);
	/* the secret must not appear in the message */
	assert_null(strstr(bm_error_last(), "zvkyg2"));
	bm_buf_dispose_secret(&id);
	bm_buf_dispose(&rcpt);
	bm_buf_dispose(&back);
}

static void test_identities_text(void **state)
{
	bm_age_identities *ids = NULL;
	bm_buf id1 = BM_BUF_INIT, id2 = BM_BUF_INIT, r = BM_BUF_INIT, text = BM_BUF_INIT;
	(void)state;
	assert_int_equal(bm_age_keygen(&id1, &r), 0);
	assert_int_equal(bm_age_keygen(&id2, &r), 0);
	bm_buf_printf(&text, "# created: now\n# public key: %s\n%s\r\n\n  %s  \n", r.ptr, id1.ptr, id2.ptr);
	assert_int_equal(bm_age_identities_new(&ids), 0);
	assert_int_equal(bm_age_identities_add_text(ids, text.ptr), 0);
	assert_int_equal(bm_age_identities_count(ids), 2);
	assert_int_equal(bm_age_identities_add_text(ids, "# only a comment\n"), BM_EINVALID);
	assert_int_equal(bm_age_identities_add_text(ids, "AGE-SECRET-KEY-1QQQQ\n"), BM_EINVALID);
	assert_non_null(strstr(bm_error_last(), "line 1"));
	assert_int_equal(bm_age_identities_add_text(ids, "AGE-PLUGIN-YUBIKEY-1XYZ\n"), BM_EUNSUPPORTED);
	assert_int_equal(bm_age_identities_count(ids), 2);
	bm_age_identities_free(ids);
	bm_buf_dispose_secret(&id1);
	bm_buf_dispose_secret(&id2);
	bm_buf_dispose_secret(&text);
	bm_buf_dispose(&r);
}

/* ---- round trips ---- */

static void fill_pattern(unsigned char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 131 + (i >> 8));
}

static void test_roundtrip_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 47, 48, 49, 65535, 65536, 65537, 131072, 200 * 1024 + 7 };
	bm_buf id = BM_BUF_INIT, r = BM_BUF_INIT, ct = BM_BUF_INIT, pt = BM_BUF_INIT;
	unsigned char *plain = malloc(200 * 1024 + 7);
	size_t i;
	int armor;
	(void)state;
	assert_non_null(plain);
	fill_pattern(plain, 200 * 1024 + 7);
	assert_int_equal(bm_age_keygen(&id, &r), 0);
	for (armor = 0; armor <= 1; armor++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			const char *rcpts[] = { r.ptr };
			size_t chunks = sizes[i] ? (sizes[i] + 65535) / 65536 : 1;
			assert_int_equal(bm_age_encrypt_buf(&ct, plain, sizes[i], rcpts, 1, armor), 0);
			if (armor) {
				assert_memory_equal(ct.ptr, "-----BEGIN AGE ENCRYPTED FILE-----\n", 35);
				assert_non_null(strstr(ct.ptr, "\n-----END AGE ENCRYPTED FILE-----\n"));
			} else {
				size_t hlen = 0;
				assert_int_equal(bm_age_header_parse(ct.ptr, ct.size, &hlen, NULL), 0);
				/* header + nonce + chunks with tags: exactly */
				assert_int_equal(ct.size, hlen + 16 + sizes[i] + 16 * chunks);
			}
			assert_int_equal(bm_age_decrypt_buf(&pt, ct.ptr, ct.size, id.ptr), 0);
			assert_int_equal(pt.size, sizes[i]);
			if (sizes[i])
				assert_memory_equal(pt.ptr, plain, sizes[i]);
		}
	}
	bm_buf_dispose_secret(&id);
	bm_buf_dispose_secret(&pt);
	bm_buf_dispose(&r);
	bm_buf_dispose(&ct);
	free(plain);
}

static int buf_sink(void *ctx, const void *data, size_t len)
{
	return bm_buf_put(ctx, data, len);
}

static void test_streaming_and_recipients(void **state)
{
	bm_buf id[3] = { BM_BUF_INIT, BM_BUF_INIT, BM_BUF_INIT }, r[3] = { BM_BUF_INIT, BM_BUF_INIT, BM_BUF_INIT };
	bm_buf ct = BM_BUF_INIT, pt = BM_BUF_INIT;
	bm_age_encryptor *enc = NULL;
	unsigned char *plain = malloc(300000);
	const char *rcpts[2];
	size_t off, step = 1;
	int k;
	(void)state;
	assert_non_null(plain);
	fill_pattern(plain, 300000);
	for (k = 0; k < 3; k++)
		assert_int_equal(bm_age_keygen(&id[k], &r[k]), 0);
	rcpts[0] = r[0].ptr;
	rcpts[1] = r[1].ptr;
	assert_int_equal(bm_age_encryptor_new(&enc, rcpts, 2, 1, buf_sink, &ct), 0);
	/* writes of growing odd sizes cross every boundary */
	for (off = 0; off < 300000; off += step, step = step * 3 + 1) {
		size_t n = 300000 - off < step ? 300000 - off : step;
		assert_int_equal(bm_age_encryptor_write(enc, plain + off, n), 0);
	}
	assert_int_equal(bm_age_encryptor_finish(enc), 0);
	assert_int_equal(bm_age_encryptor_write(enc, "x", 1), BM_EINVALID);
	bm_age_encryptor_free(enc);
	/* either recipient opens it; the third does not */
	for (k = 0; k < 3; k++) {
		int rc = bm_age_decrypt_buf(&pt, ct.ptr, ct.size, id[k].ptr);
		if (k < 2) {
			assert_int_equal(rc, 0);
			assert_int_equal(pt.size, 300000);
			assert_memory_equal(pt.ptr, plain, 300000);
		} else {
			assert_int_equal(rc, BM_ENORECIPIENT);
			assert_non_null(strstr(bm_error_last(), "no identity matched"));
			assert_int_equal(pt.size, 0);
		}
	}
	for (k = 0; k < 3; k++) {
		bm_buf_dispose_secret(&id[k]);
		bm_buf_dispose(&r[k]);
	}
	bm_buf_dispose(&ct);
	bm_buf_dispose_secret(&pt);
	free(plain);
}

static int ask_passphrase(bm_buf *out, void *ctx)
{
	(*(int *)ctx)++;
	return bm_buf_puts(out, "correct horse");
}

static void test_passphrase(void **state)
{
	bm_buf ct = BM_BUF_INIT, pt = BM_BUF_INIT;
	bm_age_identities *ids = NULL;
	bm_age_failure f;
	int asked = 0;
	(void)state;
	assert_int_equal(bm_age_encrypt_buf_passphrase(&ct, "hello", 5, "correct horse", 10, 0), 0);
	assert_non_null(strstr(ct.ptr, "\n-> scrypt "));
	assert_non_null(strstr(ct.ptr, " 10\n"));
	assert_int_equal(bm_age_identities_new(&ids), 0);
	/* no passphrase at all */
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size, ids, &f), BM_ENORECIPIENT);
	assert_int_equal(f, BM_AGE_FAIL_NO_MATCH);
	assert_non_null(strstr(bm_error_last(), "passphrase"));
	/* asked for lazily, once */
	bm_age_identities_set_passphrase_fn(ids, ask_passphrase, &asked);
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size, ids, &f), 0);
	assert_int_equal(asked, 1);
	assert_int_equal(f, BM_AGE_FAIL_NONE);
	assert_string_equal(pt.ptr, "hello");
	/* a wrong one */
	bm_age_identities_set_passphrase_fn(ids, NULL, NULL);
	assert_int_equal(bm_age_identities_add_passphrase(ids, "wrong"), 0);
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size, ids, &f), BM_ENORECIPIENT);
	assert_non_null(strstr(bm_error_last(), "wrong passphrase"));
	assert_int_equal(bm_age_identities_add_passphrase(ids, "correct horse"), 0);
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size, ids, &f), 0);
	/* the work factor bound */
	assert_int_equal(bm_age_identities_set_max_work_factor(ids, 9), 0);
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size, ids, &f), BM_ETOOBIG);
	assert_int_equal(f, BM_AGE_FAIL_HEADER);
	assert_non_null(strstr(bm_error_last(), "2^10 is over the limit 2^9"));
	assert_int_equal(bm_age_identities_set_max_work_factor(ids, 31), BM_EINVALID);
	assert_int_equal(bm_age_encrypt_buf_passphrase(&ct, "x", 1, "", 10, 0), BM_EINVALID);
	bm_age_identities_free(ids);
	bm_buf_dispose(&ct);
	bm_buf_dispose_secret(&pt);
}

static void test_tamper(void **state)
{
	bm_buf id = BM_BUF_INIT, r = BM_BUF_INIT, ct = BM_BUF_INIT, pt = BM_BUF_INIT;
	bm_age_identities *ids = NULL;
	bm_age_failure f;
	unsigned char plain[70000];
	const char *rcpts[1];
	size_t hlen = 0;
	(void)state;
	fill_pattern(plain, sizeof(plain));
	assert_int_equal(bm_age_keygen(&id, &r), 0);
	rcpts[0] = r.ptr;
	assert_int_equal(bm_age_identities_new(&ids), 0);
	assert_int_equal(bm_age_identities_add_text(ids, id.ptr), 0);
	assert_int_equal(bm_age_encrypt_buf(&ct, plain, sizeof(plain), rcpts, 1, 0), 0);
	assert_int_equal(bm_age_header_parse(ct.ptr, ct.size, &hlen, NULL), 0);

	/* a payload byte in the second chunk: the first chunk was released, then failure */
	ct.ptr[ct.size - 10] ^= 1;
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size, ids, &f), BM_EVERIFY);
	assert_int_equal(f, BM_AGE_FAIL_PAYLOAD);
	assert_int_equal(pt.size, 0); /* the buffer API keeps nothing */
	ct.ptr[ct.size - 10] ^= 1;
	/* truncated: drop the final chunk */
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size - (70000 - 65536 + 16), ids, &f), BM_EVERIFY);
	assert_int_equal(f, BM_AGE_FAIL_PAYLOAD);
	/* the MAC */
	ct.ptr[hlen - 5] = ct.ptr[hlen - 5] == 'A' ? 'B' : 'A';
	assert_true(bm_age_decrypt_buf_ex(&pt, ct.ptr, ct.size, ids, &f) < 0);
	assert_true(f == BM_AGE_FAIL_HMAC || f == BM_AGE_FAIL_HEADER);
	/* not an age file */
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, "hello\n", 6, ids, &f), BM_ECORRUPT);
	assert_int_equal(f, BM_AGE_FAIL_HEADER);
	assert_non_null(strstr(bm_error_last(), "not an age file"));
	assert_int_equal(bm_age_decrypt_buf_ex(&pt, "age-encryption.org/v2\n", 22, ids, &f), BM_EUNSUPPORTED);
	assert_int_equal(f, BM_AGE_FAIL_HEADER);
	bm_age_identities_free(ids);
	bm_buf_dispose_secret(&id);
	bm_buf_dispose(&r);
	bm_buf_dispose(&ct);
	bm_buf_dispose_secret(&pt);
}

static void test_armor_decode(void **state)
{
	bm_buf out = BM_BUF_INIT;
	(void)state;
	assert_int_equal(bm_age_armor_decode(&out,
		"\n-----BEGIN AGE ENCRYPTED FILE-----\naGVsbG8=\n-----END AGE ENCRYPTED FILE-----\n  \n", 81), 0);
	assert_string_equal(out.ptr, "hello");
	assert_int_equal(bm_age_armor_decode(&out,
		"-----BEGIN AGE ENCRYPTED FILE-----\naGVsbG9=\n-----END AGE ENCRYPTED FILE-----\n", 77), BM_ECORRUPT);
	assert_int_equal(bm_age_armor_decode(&out,
		"-----BEGIN AGE ENCRYPTED FILE-----\naGVsbG8\n-----END AGE ENCRYPTED FILE-----\n", 76), BM_ECORRUPT);
	assert_int_equal(bm_age_armor_decode(&out, "", 0), BM_ECORRUPT);
	bm_buf_dispose(&out);
}

static void test_identity_file(void **state)
{
	char dir[] = "/tmp/bm-age-test-XXXXXX", path[128];
	bm_buf out = BM_BUF_INIT, id = BM_BUF_INIT, r = BM_BUF_INIT;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key.txt", dir);
	assert_int_equal(bm_age_keygen(&id, &r), 0);
	assert_int_equal(bm_file_write_atomic(path, id.ptr, id.size, 0644), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(bm_age_identity_file_read(&out, path), BM_EPERM);
	assert_non_null(strstr(bm_error_last(), "permissions 0644"));
	assert_non_null(strstr(bm_error_last(), "chmod 600"));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(bm_age_identity_file_read(&out, path), BM_EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(bm_age_identity_file_read(&out, path), 0);
	assert_string_equal(out.ptr, id.ptr);
	assert_int_equal(bm_age_identity_file_read(&out, "/nonexistent/key"), BM_ENOTFOUND);
	assert_int_equal(bm_age_identity_file_read(&out, dir), BM_EINVALID);
	unlink(path);
	rmdir(dir);
	bm_buf_dispose_secret(&out);
	bm_buf_dispose_secret(&id);
	bm_buf_dispose(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cctv_vectors),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_identities_text),
		cmocka_unit_test(test_roundtrip_sizes),
		cmocka_unit_test(test_streaming_and_recipients),
		cmocka_unit_test(test_passphrase),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_armor_decode),
		cmocka_unit_test(test_identity_file),
	};
	if (bm_global_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
