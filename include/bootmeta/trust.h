/* bootmeta/trust.h: signed binaries. Which keys a verifier trusts, where a binary's
 * minisign signatures live, and the check an installer makes before it runs anything.
 *
 * A binary's signatures are the `signature` of its Binary record (signed when it was added:
 * `binary add --sign` / `--signature`) plus one BinarySignature record per signer added
 * later, binaries/<sha256[0:2]>/<sha256>.sig/<KEY-ID>.pb (`binary sign`): a Binary record is
 * never rewritten. Each holds the whole text of a .minisig file, so `minisign -V` reads it.
 *
 * Trusted keys are the meta repo's keys/signers/<KEY-ID>.pub by default. A verifier may pin
 * its own keys in a local file outside the repo; then ONLY those are accepted, so write
 * access to the meta repo alone cannot add a key it will accept.
 *
 * The trusted comment bootmeta signs (bm_binary_trusted_comment) names what was signed:
 *   timestamp:<unix seconds>\tproject:<project>\trelease:<release>\tsha256:<hex>\tsize:<bytes>
 * A verifier checks every `project:`, `release:`, `sha256:` and `size:` field it finds
 * against the record, so a signature cannot be moved to another binary's record or another
 * release; a comment without them (minisign's default, "timestamp:...\tfile:...\thashed")
 * binds the file bytes only. */
#ifndef BOOTMETA_TRUST_H
#define BOOTMETA_TRUST_H

#include "common.h"
#include "store.h"
#include "sign.h"
#include "meta.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- trusted keys ---- */

typedef struct {
	bm_minisign_pubkey *keys;
	size_t count;
	size_t alloc;
	int pinned;      /* 1: from local files (only these count), 0: the meta repo's keys/signers */
	bm_buf source;   /* where they came from, for messages: file names or "keys/signers" */
} bm_trusted_keys;
#define BM_TRUSTED_KEYS_INIT { NULL, 0, 0, 0, BM_BUF_INIT }
BM_EXTERN void bm_trusted_keys_dispose(bm_trusted_keys *k);

/* Add the keys of a pinned keys file: minisign public keys, one base64 line each, or public
 * key files concatenated ("untrusted comment:" lines, blank lines and '#' lines are skipped).
 * Refused when the file is group- or world-writable (BM_EPERM) or holds no key; a line that
 * is not a key is BM_EINVALID naming the line. Marks `k` pinned. */
BM_EXTERN int bm_trusted_keys_add_file(bm_trusted_keys *k, const char *path);
/* The same from text (`what` names it in messages). */
BM_EXTERN int bm_trusted_keys_add_text(bm_trusted_keys *k, const char *text, const char *what);
/* Add every keys/signers/<KEY-ID>.pub of the view (none is not an error). A file whose key
 * id is not its name is BM_ECORRUPT. */
BM_EXTERN int bm_trusted_keys_add_repo(bm_trusted_keys *k, bm_fs *fs);
/* The keys a verifier trusts: `files` when given (pinned), else the view's keys/signers.
 * The library knows no default pinned file (the CLI's: $BOOTMETA_TRUSTED_KEYS, else
 * ~/.config/bootmeta/trusted_keys when it exists; see bootmeta(1)). */
BM_EXTERN int bm_trusted_keys_load(bm_trusted_keys *out, bm_fs *fs, const char *const *files, size_t nfiles);
/* The key with that id (16 hex digits), or NULL. */
BM_EXTERN const bm_minisign_pubkey *bm_trusted_keys_find(const bm_trusted_keys *k, const char *key_id_hex);

/* ---- a binary's signatures ---- */

BM_EXTERN int bm_path_binary_signature(bm_buf *out, const char *sha256, const char *key_id_hex);

/* The trusted comment bootmeta signs for a binary (see the top of this file). */
BM_EXTERN int bm_binary_trusted_comment(bm_buf *out, const char *project, const char *release,
					const char *sha256, uint64_t size, int64_t unix_time);
/* 0 when the `project:`, `release:`, `sha256:` and `size:` fields of a trusted comment (those
 * present) match `b`; BM_EVERIFY naming the first that does not. */
BM_EXTERN int bm_binary_comment_check(const char *trusted_comment, const Bootmeta__V1__Binary *b) BM_WARN_UNUSED;

typedef enum {
	BM_SIG_LISTED = 0,       /* read, nothing checked */
	BM_SIG_VERIFIED,         /* file and trusted comment verify with a trusted key, comment matches */
	BM_SIG_COMMENT_VERIFIED, /* key trusted and its trusted comment verifies (file not checked) */
	BM_SIG_UNTRUSTED_KEY,    /* the key is not among the trusted keys */
	BM_SIG_BAD,              /* does not verify: the file or the signature was changed */
	BM_SIG_MISMATCH,         /* verifies, but the trusted comment names another binary */
	BM_SIG_MALFORMED,        /* not a .minisig */
} bm_sig_status;
/* "verified", "untrusted key" ... */
BM_EXTERN const char *bm_sig_status_name(bm_sig_status s);

typedef struct {
	char key_id[BM_MINISIGN_KEYID_HEXSZ + 1]; /* the key id the signature names ("" if malformed) */
	char *path;             /* the record that holds it */
	char *minisig;          /* the .minisig text */
	char *actor;            /* who added it ("" when unknown) */
	int64_t created_ms;
	int prehashed;
	bm_buf trusted_comment; /* verified when status is VERIFIED, COMMENT_VERIFIED or MISMATCH */
	bm_sig_status status;
	bm_buf detail;          /* why, when it did not verify */
} bm_binary_sig;

typedef struct {
	bm_binary_sig *items;
	size_t count;
} bm_binary_sigs;
#define BM_BINARY_SIGS_INIT { NULL, 0 }
BM_EXTERN void bm_binary_sigs_dispose(bm_binary_sigs *l);

/* Every signature of binary `b`: its record's own, then the added ones in key id order.
 * With `keys`, each trusted comment is checked (BM_SIG_COMMENT_VERIFIED, UNTRUSTED_KEY, BAD
 * or MISMATCH): who signed, without the file. Without, each is BM_SIG_LISTED. A signature
 * record that does not decode is BM_ECORRUPT. */
BM_EXTERN int bm_binary_signatures(bm_binary_sigs *out, bm_fs *fs, const Bootmeta__V1__Binary *b,
				   const bm_trusted_keys *keys);

/* ---- verify before install ---- */

typedef struct {
	unsigned int version;
	const char *project;           /* the record must be of this project (NULL: any) */
	const char *sha256;            /* the digest the caller expects (NULL: the file's own) */
	const bm_trusted_keys *keys;   /* NULL: the view's keys/signers */
	/* version 2: the file's sha256 when the caller computed it over the very bytes of
	 * `file` (a download it just checked, bm_artifact_fetch's verify callback): the file is
	 * then not hashed again. The signatures are still verified over the file itself. */
	const char *file_sha256;
} bm_binary_verify_options;
#define BM_BINARY_VERIFY_OPTIONS_VERSION 2
#define BM_BINARY_VERIFY_OPTIONS_INIT { BM_BINARY_VERIFY_OPTIONS_VERSION, NULL, NULL, NULL, NULL }

typedef struct {
	char sha256[65];               /* of the file */
	uint64_t size;                 /* of the file */
	Bootmeta__V1__Binary *binary;  /* its record (NULL when none) */
	bm_binary_sigs sigs;           /* each signature with its status */
	size_t nverified;
	bm_trusted_keys keys;          /* the keys used (a copy) */
} bm_binary_check;
#define BM_BINARY_CHECK_INIT { { 0 }, 0, NULL, BM_BINARY_SIGS_INIT, 0, BM_TRUSTED_KEYS_INIT }
BM_EXTERN void bm_binary_check_dispose(bm_binary_check *c);

/* Hash `file`, find its Binary record in `fs`, check sha256 and size, and verify every
 * signature against the trusted keys. 0 only when the record matches and at least one
 * signature by a trusted key verifies over the file with a trusted comment that matches the
 * record. BM_ENOTFOUND: the file is not a recorded binary; BM_EVERIFY: another digest than
 * expected, another project, a size mismatch, unsigned, or no trusted signature verifies
 * (the message says which; `out` says per signature). `out` (BM_BINARY_CHECK_INIT, or a
 * check used before: it is disposed first) is filled as far as it got. */
BM_EXTERN int bm_binary_verify(bm_binary_check *out, bm_fs *fs, const char *file,
			       const bm_binary_verify_options *opts) BM_WARN_UNUSED;

/* ---- adding signatures ---- */

/* Check a new signature of `file` (sha256 `sha256`, recorded or about to be recorded as
 * `project` `release`) before it is written: it must verify over the file with a key the
 * view's keys/signers trust, with a trusted comment that does not name another binary.
 * `key_id` gets the signer. BM_ENOTFOUND (with "bootmeta key trust") when the key is not
 * trusted; BM_EVERIFY when it does not verify. */
BM_EXTERN int bm_binary_signature_check(char key_id[BM_MINISIGN_KEYID_HEXSZ + 1], bm_fs *fs, const char *file,
					const char *minisig, const Bootmeta__V1__Binary *b) BM_WARN_UNUSED;

typedef struct {
	unsigned int version;
	const bm_minisign_seckey *key; /* sign here (with bm_binary_trusted_comment) ... */
	const char *signature;         /* ... or attach this .minisig text made elsewhere */
	const bm_write_options *write;
} bm_binary_sign_options;
#define BM_BINARY_SIGN_OPTIONS_VERSION 1
#define BM_BINARY_SIGN_OPTIONS_INIT { BM_BINARY_SIGN_OPTIONS_VERSION, NULL, NULL, NULL }

/* ---- adding binaries with their signatures ---- */

/* Record the binary `file` (hashed here; bm_binary_add_digest in bootmeta/meta.h takes a
 * digest) as built from `release` of `project`, signed when
 * the options say so (bm_binary_options). A signature whose key is not in keys/signers is BM_ENOTFOUND, one
 * that does not verify BM_EVERIFY; nothing is written then. */
BM_EXTERN int bm_binary_add(Bootmeta__V1__Binary **out, bm_oid *out_commit, bm_store *store,
			    const char *project, const char *release, const char *file,
			    const bm_binary_options *opts);
/* bm_binary_add inside the caller's transaction: the same checks (the file is hashed here,
 * and signed or its signature verified against the keys/signers the transaction sees) and
 * the same record. `*out` (may be NULL; else NULL or a record from an earlier call, which is
 * freed) gets the record; a re-run of the transaction replaces it (and signs again).
 * opts->write is not used and the commit message is not set. On an error the transaction
 * may hold part of the call's files: abort it. */
BM_EXTERN int bm_binary_add_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project,
				const char *release, const char *file, const bm_binary_options *opts);
/* bm_binary_add_digest_txn (bootmeta/meta.h) with opts->signature, a .minisig made where the
 * file is (a build machine; serve's binary add has no file). The signature is checked as far
 * as it can be without the bytes: made by a key of the transaction's keys/signers, its trusted
 * comment verifying with that key and naming this binary: `sha256:` is required (a comment
 * that does not name the digest could belong to any file), `project:`, `release:` and `size:`
 * must match where present. The signature over the bytes is checked where they are: every
 * agent and `bootmeta fetch` verify it (bm_binary_verify) before anything is installed.
 * BM_ENOTFOUND when the key is not trusted, BM_EVERIFY when the comment does not verify or
 * names another binary, BM_EINVALID without a signature or with opts->sign_key (signing needs
 * the file: bm_binary_add_txn). Nothing is added then. */
BM_EXTERN int bm_binary_add_digest_signed_txn(Bootmeta__V1__Binary **out, bm_txn *txn, const char *project,
					      const char *release, const char *sha256, uint64_t size,
					      const bm_binary_options *opts);
/* Add a signature of the recorded binary `file` as a BinarySignature record. The signer's
 * key must be in keys/signers (checked with bm_binary_signature_check on the tip).
 * BM_ENOTFOUND when the file is not recorded; BM_EEXISTS when that key signed it already. */
BM_EXTERN int bm_binary_sign(Bootmeta__V1__BinarySignature **out, bm_oid *out_commit, bm_store *store,
			     const char *file, const bm_binary_sign_options *opts);

#ifdef __cplusplus
}
#endif
#endif
