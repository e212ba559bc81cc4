/* age_codec.h (internal): the encodings and the key derivation age is built from:
 * canonical base64 (unpadded for the header, padded for the armor), Bech32 (BIP 173) for
 * keys, and HKDF-SHA-256 (RFC 5869) over libsodium's HMAC-SHA-256. */
#ifndef BM_AGE_CODEC_H
#define BM_AGE_CODEC_H

#include <stddef.h>

/* Length of the unpadded base64 of `n` bytes. */
#define AGE_B64_RAW_LEN(n) (((n) * 4 + 2) / 3)

/* 1 when `c` is in the standard base64 alphabet (no '='). */
int age_b64_is_char(unsigned char c);
/* Unpadded standard base64 of `len` bytes into `out` (AGE_B64_RAW_LEN(len) + 1 bytes,
 * NUL-terminated). Returns the length written. */
size_t age_b64_encode_raw(char *out, const unsigned char *in, size_t len);
/* Padded standard base64 of `len` bytes into `out` (4 * ceil(len/3) bytes, no NUL).
 * Returns the length written. */
size_t age_b64_encode_padded(char *out, const unsigned char *in, size_t len);
/* Decode canonical unpadded base64: no '=', no other characters, unused trailing bits zero.
 * Writes at most `cap` bytes; returns 0 and the length in *outlen, or -1 when the text is
 * not canonical base64 or does not fit. */
int age_b64_decode_raw(unsigned char *out, size_t cap, size_t *outlen, const char *in, size_t len);
/* Decode canonical padded base64 (len a multiple of 4, '=' only as the last one or two
 * characters). Same contract. */
int age_b64_decode_padded(unsigned char *out, size_t cap, size_t *outlen, const char *in, size_t len);

/* Bech32 of `hrp` (lowercase) and `len` data bytes into `out` (`cap` bytes with the NUL),
 * all uppercase when `upper`. Returns the length, or -1 when it does not fit. */
int age_bech32_encode(char *out, size_t cap, const char *hrp, const unsigned char *data,
		      size_t len, int upper);
/* Decode Bech32 `s` (`len` chars; uniform case). The human-readable part goes lowercase
 * into `hrp` (`hrpcap` with the NUL), the data into `data` (at most `cap`, *datalen).
 * Returns 0, or -1 on a bad checksum, character, case mix, padding or size. */
int age_bech32_decode(char *hrp, size_t hrpcap, unsigned char *data, size_t cap,
		      size_t *datalen, const char *s, size_t len);

/* HKDF-SHA-256 with a 32-byte output: Extract(salt, ikm) then Expand(info). */
void age_hkdf(unsigned char out[32], const unsigned char *salt, size_t saltlen,
	      const unsigned char *ikm, size_t ikmlen, const char *info);

#endif
