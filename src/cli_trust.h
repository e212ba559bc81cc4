/* cli_trust.h: what the reading commands share about trust: showing a binary's signers
 * (`binary show`, `binary verify`, `trace`) and refusing channel entries whose meta commit
 * is not signed by an allowed signer (--require-signed). */
#ifndef BM_CLI_TRUST_H
#define BM_CLI_TRUST_H

#include "cli.h"

/* 1 when this invocation must refuse unsigned records (--require-signed, or the repo's
 * bootmeta.requireSigned / $BOOTMETA_REQUIRE_SIGNED). */
int cli_require_signed(bm_cli *cli, bm_store *s);
/* With cli_require_signed: 0 when the commit that added entry `e` (read in `fs`) is signed
 * by an allowed signer, else < 0 with a message naming the entry, the commit and how to
 * configure allowed signers. 0 without it. */
int cli_check_signed_entry(bm_cli *cli, bm_store *s, bm_fs *fs, const Bootmeta__V1__ChannelEntry *e);

/* The signatures of binary `b` with who signed them, checked against the keys a verifier
 * trusts here (the pinned file, else keys/signers). A pinned file that does not load is
 * reported on stderr and the signatures are listed unchecked. */
int cli_binary_signers(bm_binary_sigs *out, bm_cli *cli, bm_fs *fs, const Bootmeta__V1__Binary *b);
/* One "signed by" line per signature (`indent` first: "signed    "). */
void cli_sigs_text(const bm_binary_sigs *l, const char *indent);
/* The signatures as a JSON array. */
int cli_sigs_json(bm_buf *out, const bm_binary_sigs *l);

#endif
