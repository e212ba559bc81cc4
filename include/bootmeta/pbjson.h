/* bootmeta/pbjson.h: the JSON view of records. Every `--json` output and every JSON
 * answer of `bootmeta serve` goes through bm_pbjson_write, so one record always looks the
 * same wherever it is shown.
 *
 * The mapping is proto3's canonical JSON mapping, driven by the protobuf-c descriptor:
 *   - field names in lowerCamelCase derived from the .proto name as protoc does
 *     ("created_ms" -> "createdMs"); (protobuf-c descriptors keep no json_name option)
 *   - int32, uint32, sint32, fixed32, sfixed32: JSON numbers
 *   - int64, uint64, sint64, fixed64, sfixed64: decimal strings ("12")
 *   - float, double: numbers, shortest text that reads back to the same value ("%g"
 *     style: 0.1, 1e+300; negative zero as -0.0 so it keeps its sign);
 *     NaN and infinities as "NaN", "Infinity", "-Infinity"
 *   - bool: true/false; string: a JSON string; bytes: standard base64 with padding
 *   - enum: the value's name (the number when the value has no name)
 *   - message: an object; repeated: an array; map<K,V>: an object keyed by the key's text
 *   - oneof: only the member that is set (even when it holds a zero value)
 *   - fields without presence that hold their zero value ("", 0, false, empty list/map)
 *     are left out unless emit_defaults is set; unset message fields are always left out
 *   - unknown fields of a decoded record are not shown
 * Strings: '"', '\\' and control characters are escaped (\b \f \n \r \t, else \u00XX);
 * U+2028/U+2029 as \u2028/\u2029; other valid UTF-8 passes through as is; each byte of an
 * invalid UTF-8 sequence becomes U+FFFD (so the output is always valid UTF-8 JSON).
 * Well-known types (google.protobuf.Timestamp ...) get no special form. */
#ifndef BOOTMETA_PBJSON_H
#define BOOTMETA_PBJSON_H

#include <protobuf-c/protobuf-c.h>

#include "common.h"
#include "utf8.h" /* bm_utf8_valid, declared here before */

#ifdef __cplusplus
extern "C" {
#endif

/* The largest JSON text bm_pbjson_read accepts (BM_ETOOBIG past it). */
#define BM_PBJSON_MAX_INPUT (16u * 1024u * 1024u)
/* How deep messages may nest, in either direction (BM_ETOOBIG past it). */
#define BM_PBJSON_MAX_DEPTH 64

typedef struct {
	unsigned int version;   /* BM_PBJSON_OPTIONS_VERSION */
	int pretty;             /* 1: one field a line, 2-space indent; 0: compact, one line */
	int emit_defaults;      /* 1: also show fields without presence at their zero value */
	int proto_names;        /* 1: the .proto field names ("created_ms") not lowerCamelCase */
} bm_pbjson_options;

#define BM_PBJSON_OPTIONS_VERSION 1
#define BM_PBJSON_OPTIONS_INIT { BM_PBJSON_OPTIONS_VERSION, 0, 0, 0 }

/* Append the JSON text of `m` to `out` (no trailing newline). `opts` NULL: compact, zero
 * values left out. BM_ETOOBIG when messages nest deeper than BM_PBJSON_MAX_DEPTH.
 * Pretty output looks like
 *   {
 *     "project": "maintemplatev2/server",
 *     "sources": [
 *       {
 *         "url": "https://git.example.com/maintemplatev2.git"
 *       }
 *     ]
 *   }
 * and an empty message is "{}" in both forms. */
BM_EXTERN int bm_pbjson_write(bm_buf *out, const ProtobufCMessage *m, const bm_pbjson_options *opts);

/* Parse `len` bytes of JSON text into a new message of type `d` (proto3 JSON mapping, as
 * bm_pbjson_write writes it, and what other proto3 JSON writers produce):
 *   - a field may be named in lowerCamelCase or by its .proto name (not both at once)
 *   - 64-bit integers as strings or numbers; 32-bit integers as numbers or strings;
 *     a number with an exponent or ".0" is accepted when it is a whole number in range
 *     (a uint64 above 2^63-1 must be a string: the JSON parser has no wider integer)
 *   - floats as numbers or "NaN", "Infinity", "-Infinity" or a numeric string
 *   - bytes in standard or URL-safe base64, with or without padding
 *   - enums by name or number; null for any field means "not set"
 * BM_EINVALID when the text is not JSON, or names an unknown field, or a value does not
 * fit its field; the message names the field by its path ("sources[1].commit").
 * BM_ETOOBIG over BM_PBJSON_MAX_INPUT or BM_PBJSON_MAX_DEPTH. Free *out with
 * bm_record_free() (bootmeta/record.h) or protobuf_c_message_free_unpacked(). */
BM_EXTERN int bm_pbjson_read(ProtobufCMessage **out, const ProtobufCMessageDescriptor *d,
			     const char *json, size_t len) BM_WARN_UNUSED;

/* Append `s` as a quoted JSON string (the escaping above) to `out`. NULL is written as "". */
BM_EXTERN int bm_json_escape(bm_buf *out, const char *s);
/* The same for `len` bytes that may hold NUL (written as \u0000). */
BM_EXTERN int bm_json_escape_len(bm_buf *out, const char *s, size_t len);

/* The lowerCamelCase JSON name of a .proto field name, as protoc derives it: each '_' is
 * dropped and the letter after it upper-cased ("previous_release" -> "previousRelease").
 * Writes at most `size` bytes including the NUL; returns the length it needed
 * (like snprintf), so a result >= size means it was cut. */
BM_EXTERN size_t bm_pbjson_field_name(char *out, size_t size, const char *proto_name);

#ifdef __cplusplus
}
#endif
#endif
