/* age_stub_secrets_tmp.h: TEMPORARY stand-in for include/bootmeta/age.h (the age
 * engineer's module) so the secrets branch builds before it lands. Delete on merge. */
#ifndef BM_AGE_STUB_SECRETS_TMP_H
#define BM_AGE_STUB_SECRETS_TMP_H
#include "bootmeta/common.h"
int bm_age_keygen(bm_buf *identity, bm_buf *recipient);
int bm_age_recipient_of(bm_buf *recipient, const char *identity);
int bm_age_encrypt_buf(bm_buf *out, const void *plain, size_t len, const char *const *recipients,
		       size_t nrecipients, int armor);
int bm_age_decrypt_buf(bm_buf *out, const void *ciphertext, size_t len, const char *identities_text);
int bm_age_identity_file_read(bm_buf *out, const char *path);
#endif
