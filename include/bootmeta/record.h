/* bootmeta/record.h: the record types of the meta repo, which file holds which type, and
 * the encode/decode of one record file.
 *
 * A record is one protobuf message in one immutable file. The .proto files under proto/
 * are the contract; this module only knows their protobuf-c descriptors, so a type added
 * in another .proto file joins by one line in the type table of lib/record.c (and one line
 * in its path table when files of that type live under a known folder). */
#ifndef BOOTMETA_RECORD_H
#define BOOTMETA_RECORD_H

#include <protobuf-c/protobuf-c.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest record file bm_record_decode accepts (BM_ETOOBIG past it). Records are
 * small facts; anything bigger belongs in an artifact, not in the meta repo. */
#define BM_RECORD_MAX_SIZE (4u * 1024u * 1024u)

/* The descriptor of a record type by name: the short name ("Release") or the full name
 * ("bootmeta.v1.Release"). NULL when no such type is registered (no error is set). */
BM_EXTERN const ProtobufCMessageDescriptor *bm_record_type(const char *name);

/* The i-th registered record type, 0-based; NULL past the end. For listings and help. */
BM_EXTERN const ProtobufCMessageDescriptor *bm_record_type_at(size_t i);

/* What a file of the meta repo holds, judged by its path alone. */
typedef enum {
	BM_FILE_UNKNOWN = 0, /* not a known place: leave it alone */
	BM_FILE_RECORD,      /* a protobuf record (its type comes with it) */
	BM_FILE_TEXT,        /* UTF-8 text: .bootmeta/format, keys/signers/<id>.pub */
	BM_FILE_AGE,         /* age v1 ciphertext: envs/<env>/secrets/... .age */
} bm_file_kind;

/* Classify `path`, relative to the root of the meta repo ("projects/a/b/releases/ab/x.pb",
 * no leading "/" or "./"). For BM_FILE_RECORD, *type (when `type` is not NULL) is set to
 * the record's descriptor; it is NULL otherwise.
 *
 * Names such as a project may hold '/', so the type is decided by the LAST folder keyword
 * of the path (releases/, channels/ ...), never by a fixed depth:
 *   projects/<project>/project.pb                 Project
 *   projects/<project>/releases/.../<id>.pb       Release
 *   projects/<project>/channels/<ch>/.../<n>.pb   ChannelEntry
 *   binaries/.../<sha256>.pb                      Binary
 *   binaries/<xx>/<sha256>.sig/<key-id>.pb        BinarySignature
 *   log/.../<id>.pb                               LogEntry
 *   modules/.../<release>.pb                      ModuleRef
 *   keys/signers/<id>.pub, .bootmeta/format       text
 *   envs/<env>/secrets/.../<name>.age             age
 *   envs/<env>/instances/<id>/<project>/+reports/<bucket>/<n>.pb   InstanceReport
 *   hooks/<id>/hook.pb, hooks/<id>/removed.pb     Webhook
 * The keyword rule means a name segment that equals a keyword ("releases", "channels")
 * would be misread: names that become paths must not have such segments. */
BM_EXTERN bm_file_kind bm_record_kind_for_path(const char *path, const ProtobufCMessageDescriptor **type);

/* The record type of the file at `path`, or NULL when it is not a record file. */
BM_EXTERN const ProtobufCMessageDescriptor *bm_record_type_for_path(const char *path);

/* Decode one record of type `d` from `len` bytes of `data`. BM_ETOOBIG over
 * BM_RECORD_MAX_SIZE; BM_ECORRUPT when the bytes are not a `d` (bad wire data, or a string
 * field that is not valid UTF-8), with a message naming the type and the problem.
 * Free *out with bm_record_free(). Callers that know the file prefix the error with its
 * path (bm_error_prefix). */
BM_EXTERN int bm_record_decode(ProtobufCMessage **out, const ProtobufCMessageDescriptor *d,
			       const void *data, size_t len) BM_WARN_UNUSED;

/* The checks the bytes of a record of type `d` pass before they are written (bm_txn_add
 * runs them on every record file it adds): the checks of bm_record_decode, and every
 * string field, nested ones too, is text by bm_text_check (bootmeta/text.h): one line of
 * at most BM_TEXT_LINE_MAX bytes, except the fields that hold lines (LogEntry.message,
 * ConfigValue and FlagVariant string_value/json_value, Binary and BinarySignature
 * signature, InstanceReport error), where new lines and tabs are allowed. BM_EINVALID or
 * BM_ETOOBIG with a message that names the field. */
BM_EXTERN int bm_record_check_write(const ProtobufCMessageDescriptor *d, const void *data, size_t len);

/* Append the protobuf encoding of `m` to `out` (the bytes of its record file). */
BM_EXTERN int bm_record_encode(bm_buf *out, const ProtobufCMessage *m);

/* Free a record returned by bm_record_decode or bm_pbjson_read; NULL is fine. */
BM_EXTERN void bm_record_free(ProtobufCMessage *m);

#ifdef __cplusplus
}
#endif
#endif
