/* bootmeta/sign.h: signatures. Two formats, both Ed25519 over libsodium:
 *
 * - minisign (https://jedisct1.github.io/minisign/): key files, .minisig signatures and
 *   trusted comments exactly as the `minisign` program writes and reads them. Binaries and
 *   trusted signer keys (keys/signers/<key-id>.pub in the meta repo) use this format.
 * - SSH signatures (OpenSSH PROTOCOL.sshsig) made with an unencrypted OpenSSH Ed25519 key,
 *   in the armored form git stores in a commit's `gpgsig` header with gpg.format=ssh; so
 *   `git verify-commit` accepts signed meta commits, and readers can check them without git.
 *
 * Secret keys live in sodium_malloc memory and are wiped when freed. Verify functions are
 * BM_WARN_UNUSED: a verification whose result is ignored is a bug. */
#ifndef BOOTMETA_SIGN_H
#define BOOTMETA_SIGN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- minisign ---- */

/* A key id as minisign prints it: 16 upper-case hex digits (the 8 key id bytes read as a
 * little-endian number), e.g. "9B47A03D73E157A9". */
#define BM_MINISIGN_KEYID_HEXSZ 16

/* minisign's password hashing work (scrypt, crypto_pwhash_scryptsalsa208sha256 "sensitive"
 * limits): what bm_minisign_keygen uses for an encrypted key. */
#define BM_MINISIGN_KDF_OPSLIMIT 33554432ULL
#define BM_MINISIGN_KDF_MEMLIMIT 1073741824ULL
/* Key files asking for more scrypt memory than this are refused (BM_ETOOBIG). */
#define BM_MINISIGN_KDF_MEMLIMIT_MAX 2147483648ULL

/* Longest comments minisign accepts (without the "trusted comment: " prefix). */
#define BM_MINISIGN_COMMENT_MAX 1024
#define BM_MINISIGN_TRUSTED_COMMENT_MAX 8192

typedef struct {
	unsigned char key_id[8];   /* as stored in the files */
	unsigned char key[32];     /* the Ed25519 public key */
	char key_id_hex[BM_MINISIGN_KEYID_HEXSZ + 1];
} bm_minisign_pubkey;

/* What a successful verification learned. */
typedef struct {
	char key_id_hex[BM_MINISIGN_KEYID_HEXSZ + 1]; /* the signer */
	size_t key_index;          /* which of the trusted keys matched */
	int prehashed;             /* 1: "ED" (BLAKE2b-512 prehash), 0: legacy "Ed" */
	bm_buf trusted_comment;    /* verified (covered by the global signature) */
	bm_buf untrusted_comment;  /* NOT covered by any signature: for display only */
} bm_minisign_result;
#define BM_MINISIGN_RESULT_INIT { { 0 }, 0, 0, BM_BUF_INIT, BM_BUF_INIT }
BM_EXTERN void bm_minisign_result_dispose(bm_minisign_result *res);

/* A decoded (decrypted) secret key, in sodium_malloc memory. */
typedef struct bm_minisign_seckey bm_minisign_seckey;

/* Make a key pair: `pubkey_file` gets the public key file text ("untrusted comment: minisign
 * public key <ID>\n<base64>\n"), `seckey_file` the secret key file text in minisign's format,
 * encrypted with `password` (scrypt with minisign's limits), or unencrypted when `password`
 * is NULL (as `minisign -G -W`). The buffers are appended to; wipe `seckey_file` with
 * bm_buf_dispose_secret. */
BM_EXTERN int bm_minisign_keygen(bm_buf *pubkey_file, bm_buf *seckey_file, const char *password);
/* The same with explicit scrypt limits (0: minisign's). Lower limits make tests fast; the
 * minisign program reads the limits from the file, so such keys still interoperate. */
BM_EXTERN int bm_minisign_keygen_ex(bm_buf *pubkey_file, bm_buf *seckey_file, const char *password,
				    unsigned long long opslimit, unsigned long long memlimit);

/* Parse a public key: a public key file's text (comment line + base64 line) or the bare
 * base64 line (as `minisign -P` takes). BM_EINVALID for bad base64 or a wrong length,
 * BM_EUNSUPPORTED for a signature algorithm other than Ed25519. */
BM_EXTERN int bm_minisign_pubkey_parse(bm_minisign_pubkey *out, const char *text);
/* The public key file text for a key (appended to `out`). */
BM_EXTERN int bm_minisign_pubkey_format(bm_buf *out, const bm_minisign_pubkey *pk);
/* Format 8 key id bytes as minisign prints them (out: BM_MINISIGN_KEYID_HEXSZ + 1 bytes). */
BM_EXTERN void bm_minisign_key_id_fmt(char *out, const unsigned char key_id[8]);

/* 1 when a secret key file's text is password-encrypted, 0 when not, < 0 when it is not a
 * minisign secret key. */
BM_EXTERN int bm_minisign_seckey_is_encrypted(const char *seckey_file_text);
/* Decode (and decrypt) a secret key file's text. An encrypted key without `password` is
 * BM_EINVALID; a wrong password (checksum mismatch) BM_EVERIFY. Takes a few seconds and
 * 1 GiB for keys with minisign's scrypt limits: load once, sign many times. */
BM_EXTERN int bm_minisign_seckey_load(bm_minisign_seckey **out, const char *seckey_file_text,
				      const char *password);
BM_EXTERN void bm_minisign_seckey_free(bm_minisign_seckey *sk);
/* The public half of a secret key (as `minisign -R`). */
BM_EXTERN void bm_minisign_seckey_pubkey(bm_minisign_pubkey *out, const bm_minisign_seckey *sk);

#define BM_MINISIGN_SIGN_LEGACY 1u  /* sign the message itself ("Ed"), as `minisign -S -l` */

/* Sign `data` with a loaded key. trusted_comment NULL: "timestamp:<unix time>\thashed"
 * (plus no file name: there is none); untrusted_comment NULL: "signature from minisign
 * secret key". Comments may not hold line breaks. Appends the .minisig text to `out`. */
BM_EXTERN int bm_minisign_sign_with(bm_buf *minisig_text, const bm_minisign_seckey *sk,
				    const void *data, size_t len, const char *trusted_comment,
				    const char *untrusted_comment, unsigned int flags);
/* One-shot: load the secret key (with `password` when it is encrypted) and sign. Prehashed
 * ("ED") as minisign 0.11 signs by default. */
BM_EXTERN int bm_minisign_sign(bm_buf *minisig_text, const void *data, size_t len,
			       const char *seckey_file_text, const char *password,
			       const char *trusted_comment, const char *untrusted_comment);
/* Sign the file at `path`, hashing it in chunks (prehashed; memory does not grow with the
 * file). trusted_comment NULL: "timestamp:<t>\tfile:<base name>\thashed" as minisign. */
BM_EXTERN int bm_minisign_sign_file_with(bm_buf *minisig_text, const bm_minisign_seckey *sk,
					 const char *path, const char *trusted_comment,
					 const char *untrusted_comment);
BM_EXTERN int bm_minisign_sign_file(bm_buf *minisig_text, const char *path,
				    const char *seckey_file_text, const char *password,
				    const char *trusted_comment, const char *untrusted_comment);

/* Verify a .minisig text over `data` against trusted public keys (file texts or bare
 * base64 lines). Accepts prehashed "ED" and legacy "Ed" signatures; checks the key id, the
 * signature and the global signature over signature || trusted comment.
 * BM_EVERIFY: a signature does not verify. BM_ENOTFOUND: the signature's key id is none of
 * the trusted keys. BM_EINVALID / BM_EUNSUPPORTED: the .minisig or a key does not parse.
 * `out` (may be NULL) is filled only on success; dispose it with bm_minisign_result_dispose. */
BM_EXTERN int bm_minisign_verify(bm_minisign_result *out, const char *minisig_text,
				 const void *data, size_t len, const char *const *pubkeys,
				 size_t npubkeys) BM_WARN_UNUSED;
/* The same over the file at `path`, streamed for prehashed signatures (a legacy signature
 * needs the whole file in memory; BM_ETOOBIG past 1 GiB). */
BM_EXTERN int bm_minisign_verify_file(bm_minisign_result *out, const char *minisig_text,
				      const char *path, const char *const *pubkeys,
				      size_t npubkeys) BM_WARN_UNUSED;
/* Verify against an already parsed key (the fast path for many verifications). */
BM_EXTERN int bm_minisign_verify_key(bm_minisign_result *out, const char *minisig_text,
				     const void *data, size_t len,
				     const bm_minisign_pubkey *keys, size_t nkeys) BM_WARN_UNUSED;
BM_EXTERN int bm_minisign_verify_file_key(bm_minisign_result *out, const char *minisig_text,
					  const char *path, const bm_minisign_pubkey *keys,
					  size_t nkeys) BM_WARN_UNUSED;

/* Read a .minisig without checking anything: the signer's key id, whether it is prehashed
 * and both comments, NOT verified (for listings; `key_index` is 0). BM_EINVALID /
 * BM_EUNSUPPORTED when it does not parse. Dispose `out` with bm_minisign_result_dispose. */
BM_EXTERN int bm_minisign_sig_parse(bm_minisign_result *out, const char *minisig_text);
/* Verify only the global signature of a .minisig (the one over signature || trusted
 * comment) against trusted keys: who signed and that the trusted comment is theirs, without
 * the file. It says nothing about the file: use bm_minisign_verify_file_key for that.
 * BM_ENOTFOUND: the key id is none of `keys`; BM_EVERIFY: the comment was changed. */
BM_EXTERN int bm_minisign_verify_comment(bm_minisign_result *out, const char *minisig_text,
					 const bm_minisign_pubkey *keys, size_t nkeys) BM_WARN_UNUSED;

/* ---- SSH signatures (git gpg.format=ssh) ---- */

/* An OpenSSH Ed25519 private key, in sodium_malloc memory. */
typedef struct bm_sshsig_key bm_sshsig_key;

/* Load an unencrypted OpenSSH private key file ("-----BEGIN OPENSSH PRIVATE KEY-----",
 * as `ssh-keygen -t ed25519 -N ''` makes). BM_EUNSUPPORTED for an encrypted key or a key
 * type other than ssh-ed25519; BM_EINVALID for anything malformed. */
BM_EXTERN int bm_sshsig_key_load(bm_sshsig_key **out, const char *path);
/* The same from the file's text. */
BM_EXTERN int bm_sshsig_key_parse(bm_sshsig_key **out, const char *text, size_t len);
BM_EXTERN void bm_sshsig_key_free(bm_sshsig_key *key);
/* The public key as an authorized_keys / allowed-signers key: "ssh-ed25519 <base64>". */
BM_EXTERN int bm_sshsig_key_public(bm_buf *out, const bm_sshsig_key *key);
/* "SHA256:<base64>" as `ssh-keygen -l` prints it. */
BM_EXTERN int bm_sshsig_key_fingerprint(bm_buf *out, const bm_sshsig_key *key);

/* Sign `data` in namespace `ns` (hash sha512); appends the armored "-----BEGIN SSH
 * SIGNATURE-----" block, ending with a newline, as `ssh-keygen -Y sign` writes it. */
BM_EXTERN int bm_sshsig_sign(bm_buf *armored, const void *data, size_t len,
			     const bm_sshsig_key *key, const char *ns);
/* A bm_sign_fn (bootmeta/store.h) for signed meta commits: signs the raw commit content in
 * namespace "git"; `payload` is a bm_sshsig_key *. The armored block has no final newline,
 * as git_commit_create_with_signature wants it (it writes the `gpgsig` header lines). */
BM_EXTERN int bm_sshsig_sign_commit(bm_buf *signature, const char *content, size_t len,
				    void *payload);

/* Verify an armored SSH signature over `data` in namespace "git" against an allowed-signers
 * text (ssh-keygen ALLOWED SIGNERS format: "principals [options] ssh-ed25519 <base64>
 * [comment]", '#' comments). Only ssh-ed25519 keys are used; lines with options other than
 * namespaces="..." (cert-authority, valid-after, valid-before) are skipped, so such keys
 * are not trusted here. `principal_out` (may be NULL) gets the matching line's principals.
 * BM_EVERIFY: bad signature or wrong namespace; BM_ENOTFOUND: the key is not allowed;
 * BM_EINVALID / BM_EUNSUPPORTED: the signature does not parse. */
BM_EXTERN int bm_sshsig_verify(const char *armored_sig, const void *data, size_t len,
			       const char *allowed_signers_text, bm_buf *principal_out) BM_WARN_UNUSED;
/* The same in namespace `ns`. */
BM_EXTERN int bm_sshsig_verify_ns(const char *armored_sig, const void *data, size_t len,
				  const char *ns, const char *allowed_signers_text,
				  bm_buf *principal_out) BM_WARN_UNUSED;
/* Verify a raw git commit object (as `git cat-file commit` prints it) carrying a `gpgsig`
 * header: the signature is taken out of the header and checked over the rest, as git does.
 * BM_ENOTFOUND also when the commit is not signed. */
BM_EXTERN int bm_sshsig_verify_commit(const char *commit_object, size_t len,
				      const char *allowed_signers_text,
				      bm_buf *principal_out) BM_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
