/* bootmeta/names.h: validation of every name that becomes part of a path in the meta repo.
 * A name is checked before any path is built from it: no "..", no leading "/", a small
 * character set, bounded length. */
#ifndef BOOTMETA_NAMES_H
#define BOOTMETA_NAMES_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	BM_NAME_PROJECT,  /* repo/folder/...: segments of [A-Za-z0-9._-], up to 8, 200 chars */
	BM_NAME_RELEASE,  /* [A-Za-z0-9._+-], up to 128 chars */
	BM_NAME_CHANNEL,  /* [A-Za-z0-9._-], up to 64 chars */
	BM_NAME_ENV,      /* like a project: prod, stage, dev, dev/alice; up to 4 segments */
	BM_NAME_KEY,      /* config keys, flag keys, secret names: [A-Za-z0-9._-], 128 chars */
	BM_NAME_USER,     /* a developer: [a-z0-9._-], up to 64 chars */
	BM_NAME_MODULE,   /* a module path: segments of [A-Za-z0-9._~-], 256 chars */
	BM_NAME_KIND,     /* a log kind: [a-z0-9._-], up to 64 chars */
	BM_NAME_INSTANCE, /* an instance id, host-name-like: [a-z0-9._-], starting with a letter
			   * or digit, up to 253 chars (web-1, web-1.eu.example.com) */
} bm_name_kind;

/* 0 when `name` is a valid name of `kind`; else BM_EINVALID with a message that names the
 * kind, the offending character or rule, and the allowed form. */
BM_EXTERN int bm_name_validate(const char *name, bm_name_kind kind);
BM_EXTERN const char *bm_name_kind_str(bm_name_kind kind);

#ifdef __cplusplus
}
#endif
#endif
