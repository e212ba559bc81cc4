/* bootmeta/global.h: process-wide set-up of the libraries bootmeta stands on (lib/global.c). */
#ifndef BOOTMETA_GLOBAL_H
#define BOOTMETA_GLOBAL_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Initialise libgit2 and libsodium; safe to call more than once (reference counted). */
BM_EXTERN int bm_global_init(void);
BM_EXTERN void bm_global_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
