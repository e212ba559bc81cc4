/* bootmeta/buildinfo.h: what a binary was built from, read without a meta repo.
 *
 * Three readers and one writer, none of which needs a store:
 *   - go.mod: the module path, go version and every require (direct or `// indirect`);
 *   - build stamps: a short self-checking string bootmeta compiles into a binary (C header,
 *     Go -ldflags or JSON) that leads back to the release, its sources and the meta commit;
 *     and a scanner that finds and verifies it in any binary;
 *   - Go build info: what the Go toolchain embeds in every binary (`go version -m`).
 *
 * Every input here may be hostile (a downloaded binary, a go.mod from a pull request): all
 * lengths are bounded and checked against the input, errors say where and what was expected. */
#ifndef BOOTMETA_BUILDINFO_H
#define BOOTMETA_BUILDINFO_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- go.mod ------------------------------------------------------------------------- */

/* Largest go.mod bm_gomod_parse accepts (BM_ETOOBIG above it). */
#define BM_GOMOD_MAX_SIZE (4u * 1024u * 1024u)

typedef struct {
	char *module;   /* module path, unquoted */
	char *version;  /* as written: v1.2.3, v0.0.0-2023...-abcdef, v2.0.0+incompatible */
	int indirect;   /* 1 when the line carries a `// indirect` comment */
} bm_gomod_require;

typedef struct {
	char *module;      /* the `module` directive's path */
	char *go_version;  /* the `go` directive (1.21, 1.21.0, 1.22rc1); NULL when absent */
	char *toolchain;   /* the `toolchain` directive (go1.21.3); NULL when absent */
	bm_gomod_require *requires;  /* in file order */
	size_t require_count;
} bm_gomod;

/* Parse the text of a go.mod file. `module`, `go`, `toolchain` and every `require` (single
 * line or block) are kept; `replace`, `exclude`, `retract`, `godebug`, `tool` and `ignore`
 * are checked for shape and skipped. BM_EINVALID with "go.mod line N: ..." naming what was
 * expected for an unterminated block, a missing or malformed version (versions start with
 * v: v1.2.3), a stray token or an unknown directive; BM_ETOOBIG over BM_GOMOD_MAX_SIZE. */
BM_EXTERN int bm_gomod_parse(bm_gomod **out, const char *text, size_t len);
BM_EXTERN void bm_gomod_free(bm_gomod *mod);

/* ---- build stamps ------------------------------------------------------------------- */

/* A stamp is one line of printable ASCII with no space, quote or backslash:
 *
 *   BOOTMETA-STAMP-v1:<n>:<payload>:<check>:BMEND
 *
 * <n> is the payload's length in decimal; <payload> is `key=value` fields joined by ';' in
 * this order: p=<project>;r=<release>[;v=<version>];m=<meta commit>{;s=<url>@<commit>}.
 * Values are percent-encoded: every byte outside [A-Za-z0-9._~/:+,-] is %XX (upper-case
 * hex), so '@', ';', '=' and '%' never appear raw in a value. <check> is the lower-case hex
 * of the first 8 bytes of SHA-256 over <payload>. Readers ignore fields with keys they do
 * not know (a later v1 may add some) but refuse a stamp whose length, check or end marker
 * does not match. */
#define BM_STAMP_MAGIC "BOOTMETA-STAMP-v1:"
#define BM_STAMP_END ":BMEND"
#define BM_STAMP_MAX_PAYLOAD 32768u
#define BM_STAMP_MAX_SOURCES 64u
#define BM_STAMP_MAX_URL 1024u
/* Longest whole stamp: magic, length, payload, check and end marker. */
#define BM_STAMP_MAX_SIZE (sizeof(BM_STAMP_MAGIC) - 1 + 6 + BM_STAMP_MAX_PAYLOAD + 1 + 16 + sizeof(BM_STAMP_END) - 1)

typedef struct {
	char *url;     /* source repo URL */
	char *commit;  /* full hex commit hash (40 or 64 digits) */
} bm_stamp_source;

typedef struct {
	char *project;      /* a project name (bm_name_validate BM_NAME_PROJECT) */
	char *release;      /* a release id (BM_NAME_RELEASE) */
	char *version;      /* optional (NULL or ""): text as bm_stamp_version_check wants */
	char *meta_commit;  /* hex commit of the meta repo the stamp was made at (40 or 64) */
	bm_stamp_source *sources;
	size_t source_count;
	uint64_t offset;    /* set by the finders: byte offset of the stamp in the data/file */
} bm_stamp;

typedef enum {
	BM_STAMP_FORMAT_C,          /* a C header defining `bootmeta_stamp[]` */
	BM_STAMP_FORMAT_GO_LDFLAGS, /* -X flags for `go build -ldflags` */
	BM_STAMP_FORMAT_JSON,       /* the fields and the stamp string as a JSON object */
} bm_stamp_format;

/* A release version a stamp can carry (release add checks it, so every recorded version can
 * be stamped): one line of text (bm_text_check, up to BM_TEXT_LINE_MAX bytes), not holding
 * both ' and ". The stamp percent-encodes it; the C header escapes it; go-ldflags quotes it
 * when it has a space. */
BM_EXTERN int bm_stamp_version_check(const char *version);

/* "c", "go-ldflags" or "json" to a format; BM_EINVALID otherwise. */
BM_EXTERN int bm_stamp_format_from_str(bm_stamp_format *out, const char *name);

/* Append the bare stamp string for `stamp` to `out`. Every field is validated first:
 * BM_EINVALID names the bad field; BM_ETOOBIG when the payload would pass
 * BM_STAMP_MAX_PAYLOAD or there are more than BM_STAMP_MAX_SOURCES sources. */
BM_EXTERN int bm_stamp_encode(bm_buf *out, const bm_stamp *stamp);

/* Append the stamp in `format` to `out`:
 *  - C: a header to include in exactly one .c file of the program. It defines
 *    `static const char bootmeta_stamp[]` (marked used/retain so compiler and linker keep
 *    it) and BOOTMETA_STAMP_PROJECT, _RELEASE, _VERSION, _META_COMMIT string macros.
 *  - go-ldflags: one line, `-X main.bootmetaStamp=<stamp> -X main.bootmetaProject=<p>
 *    -X main.bootmetaRelease=<r> -X main.bootmetaMetaCommit=<hex>` (and
 *    `-X main.bootmetaVersion=<v>` when there is a version; quoted as -X 'main.bootmetaVersion=<v>'
 *    (or with ") when <v> has a space, which Go's flag splitting keeps together). Declare
 *    `var bootmetaStamp string` in package main and *use* it (print it in --version):
 *    the Go linker drops variables nothing reads. -X on a missing variable is ignored.
 *  - JSON: one line of compact JSON and a newline, lowerCamelCase as every --json:
 *    {"format":"bootmeta-stamp-v1","project","release","version"?,"metaCommit",
 *    "sources":[{"url","commit"}],"stamp"}. */
BM_EXTERN int bm_stamp_emit(bm_buf *out, const bm_stamp *stamp, bm_stamp_format format);

/* Decode the stamp that starts at `text` (which begins with BM_STAMP_MAGIC); `len` is how
 * many bytes are available (more than the stamp is fine). BM_ECORRUPT for a truncated,
 * forged or malformed stamp (the message says which part), BM_ENOTFOUND when `text` does
 * not start with the magic followed by a length. */
BM_EXTERN int bm_stamp_decode(bm_stamp **out, const char *text, size_t len);

/* Find the first stamp in `data` (any bytes: a binary, a log). A magic not followed by a
 * digit is not a stamp and is skipped (the scanner's own string constant); the first one
 * followed by a length decides: BM_ECORRUPT when it does not decode and verify.
 * BM_ENOTFOUND when there is no stamp. (*out)->offset is where it starts. */
BM_EXTERN int bm_stamp_find(bm_stamp **out, const void *data, size_t len);
/* The same over a file, read in 1 MiB chunks (any size; never loaded whole). */
BM_EXTERN int bm_stamp_find_file(bm_stamp **out, const char *path);
BM_EXTERN void bm_stamp_free(bm_stamp *stamp);

/* ---- Go build info ------------------------------------------------------------------ */

/* Largest version or modinfo string accepted from a binary (BM_ECORRUPT above). */
#define BM_GOBUILDINFO_MAX_STRING (4u * 1024u * 1024u)

typedef struct bm_gomodule {
	char *path;
	char *version;             /* "(devel)" for the main module of a local build */
	char *sum;                 /* "h1:..." or "" */
	struct bm_gomodule *replace;  /* the `=>` replacement, NULL when none */
} bm_gomodule;

typedef struct {
	char *key;    /* -ldflags, CGO_ENABLED, GOOS, vcs.revision, vcs.time, vcs.modified ... */
	char *value;  /* unquoted */
} bm_gobuild_setting;

typedef struct {
	char *go_version;  /* go1.21.3 */
	char *path;        /* main package path; "" when the binary has no module info */
	bm_gomodule main;  /* main module; path "" when absent */
	bm_gomodule *deps;
	size_t dep_count;
	bm_gobuild_setting *settings;  /* in the binary's order */
	size_t setting_count;
	uint64_t offset;   /* file offset of the "\xff Go buildinf:" header (0 for modinfo text) */
	int ptr_size;      /* 4 or 8, from the header */
	int big_endian;
	int inline_strings;  /* 1: Go 1.18+ format (strings follow the header) */
} bm_gobuildinfo;

/* Read the build info of a Go binary. ELF files are read through their section and
 * program headers (the .go.buildinfo section, else the first writable segment, else a
 * scan); anything else is scanned in chunks for the 16-byte aligned header. Handles the
 * Go 1.18+ inline format and the older pointer format (the latter needs ELF to map
 * addresses). BM_ENOTFOUND: not a Go binary; BM_ECORRUPT: truncated header, a length or
 * address past the end of the file, a modinfo line that does not parse (with its line);
 * BM_EIO; BM_EUNSUPPORTED: pointer format in a non-ELF file. */
BM_EXTERN int bm_gobuildinfo_read(bm_gobuildinfo **out, const char *path);
/* The same over bytes in memory (a whole file image, or any bytes holding the header). */
BM_EXTERN int bm_gobuildinfo_parse(bm_gobuildinfo **out, const void *data, size_t len);
/* Parse modinfo text alone (runtime/debug.BuildInfo.String() without the `go` line, or
 * with it: a `go` line sets go_version). BM_ECORRUPT with the line number on bad lines. */
BM_EXTERN int bm_gobuildinfo_parse_modinfo(bm_gobuildinfo **out, const char *text, size_t len);
/* The value of build setting `key`, or NULL. */
BM_EXTERN const char *bm_gobuildinfo_setting(const bm_gobuildinfo *bi, const char *key);
/* Append the modinfo as `go version -m` prints it: path, mod, dep, => and build lines,
 * each with a leading tab, values quoted as Go quotes them. */
BM_EXTERN int bm_gobuildinfo_format(bm_buf *out, const bm_gobuildinfo *bi);
BM_EXTERN void bm_gobuildinfo_free(bm_gobuildinfo *bi);

#ifdef __cplusplus
}
#endif
#endif
