/* bootmeta.h: the public API of libbootmeta, deployment metadata kept in git.
 *
 * Link with `pkg-config --libs bootmeta`. Call bm_global_init() once before anything else.
 * Every function returns 0 or a negative BM_E* code, with the detail in bm_error_last()
 * (thread-local); see bootmeta/common.h for the conventions. */
#ifndef BOOTMETA_H
#define BOOTMETA_H

#include "bootmeta/common.h"
#include "bootmeta/names.h"
#include "bootmeta/text.h"
#include "bootmeta/store.h"
#include "bootmeta/diff.h"
#include "bootmeta/doctor.h"
#include "bootmeta/env.h"
#include "bootmeta/config.h"
#include "bootmeta/genlog.h"
#include "bootmeta/murmur3.h"
#include "bootmeta/flags.h"
#include "bootmeta/flagstore.h"
#include "bootmeta/imports.h"
#include "bootmeta/age.h"
#include "bootmeta/record.h"
#include "bootmeta/utf8.h"
#include "bootmeta/pbjson.h"
#include "bootmeta/meta.h"
#include "bootmeta/channel.h"
#include "bootmeta/instance.h"
#include "bootmeta/webhook.h"
#include "bootmeta/trace.h"
#include "bootmeta/buildinfo.h"
#include "bootmeta/sign.h"
#include "bootmeta/secret.h"
#include "bootmeta/trust.h"

#include "bootmeta/global.h"

#endif
