/* bootmeta/flags.h: feature flags. A flag of a project in an environment has typed
 * variants (bool, string, number or JSON object), a default variant, a kill switch and,
 * per channel, either a fixed variant or a weighted rollout over variants. The record is
 * bootmeta.v1.Flag (proto/bootmeta/v1/flags.proto).
 *
 * Evaluation gives the same variant as flagd (and OpenFeature's flagd-core) evaluating
 * the file bm_flag_export_flagd() writes:
 *
 *   disabled                   default variant   BM_FLAG_REASON_DISABLED
 *   no rules at all            default variant   BM_FLAG_REASON_STATIC
 *   channel has no rule        default variant   BM_FLAG_REASON_DEFAULT
 *   fixed rule                 its variant       BM_FLAG_REASON_TARGETING_MATCH
 *   weighted rule              bucketed variant  BM_FLAG_REASON_SPLIT (flagd says
 *                                                TARGETING_MATCH for `fractional`)
 *   weighted rule, no (empty)
 *   targeting key              default variant   BM_FLAG_REASON_DEFAULT
 *
 * Bucketing is flagd's `fractional`: h = MurmurHash3 x86 32-bit (seed 0) of the flag key
 * bytes followed by the targeting key bytes (no separator); bucket = (h * total) >> 32 in
 * 64-bit unsigned arithmetic, total = the sum of the rule's weights; the result is the
 * first variant (in rule order) whose running sum of weights is greater than bucket.
 *
 * A bm_flag is built only by the functions here (which keep it valid: every index in
 * range, weights summing to 1 .. BM_FLAG_WEIGHT_MAX); its fields are read-only for
 * callers. bm_flag_eval() never allocates and may run on many threads at once on the
 * same flag. */
#ifndef BOOTMETA_FLAGS_H
#define BOOTMETA_FLAGS_H

#include "common.h"
#include "murmur3.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the flag ---- */

typedef enum {
	BM_FLAG_TYPE_AUTO = 0,  /* only as a parse input: infer from the values */
	BM_FLAG_TYPE_BOOL,
	BM_FLAG_TYPE_STRING,
	BM_FLAG_TYPE_NUMBER,
	BM_FLAG_TYPE_JSON,      /* a JSON object */
} bm_flag_type;

/* "bool", "string", "number", "json" ("auto" for BM_FLAG_TYPE_AUTO). */
BM_EXTERN const char *bm_flag_type_str(bm_flag_type type);
/* Parse one of the names above. BM_EINVALID otherwise. */
BM_EXTERN int bm_flag_type_parse(bm_flag_type *out, const char *s);

/* The largest sum of a rule's weights (flagd refuses more: Math.MaxInt32). */
#define BM_FLAG_WEIGHT_MAX 2147483647u
/* Bounds that keep a record small and evaluation cheap. */
#define BM_FLAG_MAX_VARIANTS 64
#define BM_FLAG_MAX_RULES 256
#define BM_FLAG_MAX_VALUE 65536  /* bytes of a string or JSON value */

typedef struct {
	char *name;
	bm_flag_type type;
	int bool_value;          /* BM_FLAG_TYPE_BOOL: 0 or 1 */
	double number_value;     /* BM_FLAG_TYPE_NUMBER: finite */
	char *string_value;      /* BM_FLAG_TYPE_STRING: UTF-8 text; JSON: compact object text */
} bm_flag_variant;

typedef struct {
	uint32_t variant;        /* index into bm_flag.variants */
	uint32_t weight;
} bm_flag_weight;

typedef struct {
	char *channel;
	int32_t variant;         /* fixed rule: a variant index; weighted rule: -1 */
	bm_flag_weight *weights; /* weighted rule: nweights > 0, in bucket order */
	size_t nweights;
	uint32_t total_weight;   /* sum of weights, 1 .. BM_FLAG_WEIGHT_MAX (0 when fixed) */
	size_t channel_len;
} bm_flag_rule;

typedef struct bm_flag {
	char *project;
	char *env;
	char *key;
	bm_flag_type type;       /* the type of every variant */
	bm_flag_variant *variants;
	size_t nvariants;
	size_t default_variant;  /* index into variants */
	int disabled;
	bm_flag_rule *rules;     /* at most one per channel */
	size_t nrules;
	int64_t time_ms;
	char *actor;
	uint64_t seq;
	bm_murmur3 key_hash;     /* murmur3 state after the key: evaluation continues from it */
} bm_flag;

/* What a flag is made from, as the CLI takes it:
 *   --type auto|bool|string|number|json
 *   --variant on=true --variant off=false   ("name=value"; the value is everything after
 *                                            the first '=')
 *   --default off
 *   --rule beta=on --rule stable=on:1,off:999   ("channel=variant" or
 *                                            "channel=variant:weight,variant:weight,...")
 *   --disabled
 * Values by type: bool "true"|"false"; number a JSON number (no NaN/Inf); json a JSON
 * object; string any UTF-8 text. BM_FLAG_TYPE_AUTO infers the type from all values:
 * bool when all are true/false, else number when all are numbers, else json when all are
 * JSON objects, else string. */
typedef struct {
	unsigned int version;
	const char *project;               /* a project name (BM_NAME_PROJECT) */
	const char *env;                   /* an environment name (BM_NAME_ENV) */
	const char *key;                   /* the flag key (BM_NAME_KEY) */
	bm_flag_type type;
	const char *const *variants;       /* "name=value" */
	size_t nvariants;
	const char *default_variant;       /* NULL: the first variant */
	const char *const *rules;          /* "channel=..." */
	size_t nrules;
	int disabled;
} bm_flag_spec;
#define BM_FLAG_SPEC_VERSION 1
#define BM_FLAG_SPEC_INIT { BM_FLAG_SPEC_VERSION, NULL, NULL, NULL, BM_FLAG_TYPE_AUTO, NULL, 0, NULL, NULL, 0, 0 }

/* Build a flag from its text form. BM_EINVALID, with a message naming the offending
 * argument, for: a bad project/env/key/variant/channel name, a value that does not parse
 * as the type, duplicate variants, an unknown default variant, a rule naming an unknown
 * variant (or one variant twice), a weight that is not a decimal integer, weights summing
 * to zero or over BM_FLAG_WEIGHT_MAX, two rules for one channel, no variants; BM_ETOOBIG
 * over the BM_FLAG_MAX_* bounds. time_ms, actor and seq start as 0/NULL (bm_flag_set_meta). */
BM_EXTERN int bm_flag_from_spec(bm_flag **out, const bm_flag_spec *spec);

/* A deep copy (to edit the next version of a flag). */
BM_EXTERN int bm_flag_dup(bm_flag **out, const bm_flag *flag);
BM_EXTERN void bm_flag_free(bm_flag *flag);

/* Set (add or replace) the rule of one channel from "channel=variant" or
 * "channel=v:w,v:w,...". Errors as bm_flag_from_spec; on error the flag is unchanged. */
BM_EXTERN int bm_flag_set_rule(bm_flag *flag, const char *text);
/* Remove the rule of `channel`. BM_ENOTFOUND when it has none. */
BM_EXTERN int bm_flag_remove_rule(bm_flag *flag, const char *channel);
/* Change the default variant. BM_EINVALID when there is no such variant. */
BM_EXTERN int bm_flag_set_default(bm_flag *flag, const char *variant);
BM_EXTERN void bm_flag_set_disabled(bm_flag *flag, int disabled);
/* Set when/who/which version (the store sets these when it writes the record). */
BM_EXTERN int bm_flag_set_meta(bm_flag *flag, int64_t time_ms, const char *actor, uint64_t seq);

/* Index of the variant called `name`, or -1. */
BM_EXTERN int bm_flag_variant_index(const bm_flag *flag, const char *name);
/* The rule of `channel`, or NULL. */
BM_EXTERN const bm_flag_rule *bm_flag_rule_find(const bm_flag *flag, const char *channel);

/* Text forms, as bm_flag_from_spec reads them: "on=true", "beta=on",
 * "stable=on:1,off:999". Appended to `out`. */
BM_EXTERN int bm_flag_variant_format(bm_buf *out, const bm_flag_variant *variant);
BM_EXTERN int bm_flag_rule_format(bm_buf *out, const bm_flag *flag, const bm_flag_rule *rule);

/* ---- the record: bootmeta.v1.Flag protobuf ---- */

/* Append the protobuf encoding of `flag` to `out`. */
BM_EXTERN int bm_flag_encode(bm_buf *out, const bm_flag *flag);
/* Decode and validate a record. BM_ECORRUPT when it does not decode or breaks a rule
 * bm_flag_from_spec enforces (the message says which). */
BM_EXTERN int bm_flag_decode(bm_flag **out, const void *data, size_t len);

/* ---- evaluation ---- */

typedef enum {
	BM_FLAG_REASON_STATIC = 1,      /* the flag has no rules */
	BM_FLAG_REASON_TARGETING_MATCH, /* the channel's fixed variant */
	BM_FLAG_REASON_SPLIT,           /* the channel's weighted rollout */
	BM_FLAG_REASON_DEFAULT,         /* no rule for the channel, or no targeting key for a rollout */
	BM_FLAG_REASON_DISABLED,        /* the kill switch is on */
} bm_flag_reason;

/* "STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED" (OpenFeature's names). */
BM_EXTERN const char *bm_flag_reason_str(bm_flag_reason reason);

/* Evaluation context attributes beyond channel and targeting key. Reserved for rules on
 * other attributes (region, host ...): today's rules key on the channel only, so these do
 * not change the result. */
typedef struct {
	const char *key;
	const char *value;
} bm_flag_attr;

typedef struct {
	const bm_flag_attr *items;
	size_t count;
} bm_flag_attrs;

/* The result borrows from the flag: valid while the flag lives and is not changed. */
typedef struct {
	const bm_flag_variant *value;   /* the variant: its type, name and value */
	const char *variant;            /* == value->name */
	size_t variant_index;
	bm_flag_reason reason;
} bm_flag_result;

/* Evaluate `flag` for an instance on `channel` (NULL: none, so the default variant) with
 * `targeting_key` (the stable identity bucketed by rollouts: instance id, user id; NULL or
 * "" means none). `attrs` may be NULL. No allocation; thread-safe. BM_EINVALID only when
 * `out` or `flag` is NULL. */
BM_EXTERN int bm_flag_eval(bm_flag_result *out, const bm_flag *flag, const char *channel,
			   const char *targeting_key, const bm_flag_attrs *attrs);

/* ---- JSON ---- */

/* Append a readable view of the flag as one JSON object (the CLI's --json prints the Flag
 * record itself, through bm_pbjson_write; this view adds "type" and "state" and keys
 * variants by name). 64-bit numbers are strings, as in proto3 JSON:
 *   {"project":..,"env":..,"key":..,"type":"bool","state":"ENABLED"|"DISABLED",
 *    "variants":{"on":true,..},"defaultVariant":"off",
 *    "rules":[{"channel":"beta","variant":"on"},
 *             {"channel":"stable","weights":[{"variant":"on","weight":1},..]}],
 *    "timeMs":"1700000000000","actor":..,"seq":"3"} */
BM_EXTERN int bm_flag_to_json(bm_buf *out, const bm_flag *flag);
/* Append an evaluation result:
 *   {"key":..,"value":<typed>,"variant":"on","reason":"SPLIT","type":"bool"} */
BM_EXTERN int bm_flag_result_to_json(bm_buf *out, const bm_flag *flag, const bm_flag_result *result);
/* Append the JSON text of a variant's value (true, "text", 1.5, {"a":1}); numbers are
 * printed with the fewest digits that read back to the same double. */
BM_EXTERN int bm_flag_value_to_json(bm_buf *out, const bm_flag_variant *variant);

/* ---- flagd export ---- */

typedef struct {
	unsigned int version;
	/* The evaluation-context attribute that carries the channel; NULL: "channel". */
	const char *channel_attr;
	int pretty;              /* indent the output (2 spaces a level); 0: one line per flag */
} bm_flag_export_options;
#define BM_FLAG_EXPORT_OPTIONS_VERSION 1
#define BM_FLAG_EXPORT_OPTIONS_INIT { BM_FLAG_EXPORT_OPTIONS_VERSION, NULL, 0 }

/* Append a flagd flag-definition file for `flags` (opts may be NULL):
 *   {"$schema":"https://flagd.dev/schema/v0/flags.json","flags":{KEY:{"state":..,
 *    "variants":{..},"defaultVariant":..,"targeting":{..}}}}
 * Rules become {"if":[{"==":[{"var":"channel"},"beta"]},"on",
 *                     {"==":[{"var":"channel"},"stable"]},{"fractional":[["on",1],["off",999]]},
 *                     null]}
 * (no targeting for a flag without rules), so flagd evaluates with the context
 * {"targetingKey": .., "channel": ..} to the same variant as bm_flag_eval. BM_EINVALID
 * when two flags share a key (a flagd file holds one environment of one project). The text
 * ends with one newline. */
BM_EXTERN int bm_flag_export_flagd(bm_buf *out, const bm_flag *const *flags, size_t count,
				   const bm_flag_export_options *opts);

#ifdef __cplusplus
}
#endif
#endif
