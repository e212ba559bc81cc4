/* serve_nats_msg.h: the parts of serve's NATS side that need no connection, so they are unit
 * tested and fuzzed on their own (src/live/serve_nats.c uses them):
 *
 * - which subject a changed path of the meta repo is published on (serve_nats_subject);
 * - how a write request that came on bootmeta.write.<kind> becomes the HTTP write it stands
 *   for (serve_nats_write_parse): the HTTP route built from the URL parameter fields of the
 *   body, and the HTTP body. The body itself is then parsed by the same code as an HTTP body.
 *
 * Subjects (documented in bootmeta-serve(1)). <P> is the project and <E> the env, each with
 * '/' as '.' and a '.' inside a name as "%2E" (names cannot hold '%'); a '+' marks the
 * tokens no project can be ('+' is outside the project name set):
 *   projects/<P>/project.pb                  bootmeta.change.<P>.project
 *   projects/<P>/releases/...                bootmeta.change.<P>.releases
 *   projects/<P>/channels/<ch>/...           bootmeta.change.<P>.channels.<ch>
 *   envs/<E>/config/<P>/+keys/...            bootmeta.change.<P>.config.<E>
 *   envs/<E>/config/<P>/+flags/...           bootmeta.change.<P>.flags.<E>
 *   envs/<E>/secrets/<P>/...                 bootmeta.change.<P>.secrets.<E>
 *   envs/<E>/env.pb                          bootmeta.change.+envs.<E>.env
 *   envs/<E>/{recipients,instances,rollouts}/... bootmeta.change.+envs.<E>.<word>
 *   {binaries,keys,log,modules}/...          bootmeta.change.+<word>
 * Any other path is only in bootmeta.commit. */
#ifndef BM_SERVE_NATS_MSG_H
#define BM_SERVE_NATS_MSG_H

#include <stddef.h>

#include "bootmeta.h"

#define SERVE_NATS_SUBJECT_ROOT "bootmeta.change."

/* The subject of `path` and the prefix of the paths it carries (a folder ending in '/', or
 * one record's path), both replaced. 0 when set; 1 when the path has no subject of its own;
 * BM_ENOMEM. */
int serve_nats_subject(bm_buf *subject, bm_buf *prefix, const char *path);

/* The write kinds NATS takes and their HTTP routes, as one line for messages:
 * "promote, release, binary, config, flag, log, report, hook, hook-rm". */
const char *serve_nats_write_kinds(void);

/* A write request on bootmeta.write.<kind> (`kind` is the subject's last token): a JSON
 * object, the HTTP body of the kind plus the fields that HTTP takes from the URL:
 *   promote  project, channel          POST /v1/projects/{project}/channels/{channel}/promote
 *   release  project                   POST /v1/projects/{project}/releases
 *   binary   project, release          POST /v1/projects/{project}/releases/{release}/binaries
 *   config   project, env              POST /v1/projects/{project}/envs/{env}/config
 *   flag     project, env, key         POST /v1/projects/{project}/envs/{env}/flags/{key}
 *   log      (none)                    POST /v1/log
 *   report   env, instance             POST /v1/envs/{env}/instances/{instance}/reports
 *   hook     (none)                    POST /v1/hooks
 *   hook-rm  id                        DELETE /v1/hooks/{id} (the caller uses DELETE)
 * Those fields must be strings that pass the library's name checks (hook-rm's id: 16
 * lower-case hex digits); they stay in the body where the HTTP body has them too (every kind
 * but report and hook-rm) and are taken out of it where it does not (report's env and
 * instance, hook-rm's id). `url` gets the route (a decoded path), `body` the HTTP body (the
 * bytes given, or the object written again without the removed fields).
 * 0; BM_ENOTFOUND for an unknown kind; BM_EINVALID for a bad body, with `err` (replaced) as
 * serve's JSON errors say it: "the body is not JSON: ...", "field \"project\": ..."; BM_ENOMEM. */
int serve_nats_write_parse(bm_buf *url, bm_buf *body, const char *kind, const char *data, size_t len, bm_buf *err);

#endif
