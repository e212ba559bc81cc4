/* serve_ops.h: the write operations of `bootmeta serve`, one table entry per kind: how its
 * body is parsed (with the URL's parameters), which path an If-Match compares, who may do
 * it (the token scope's verb and target) and how it runs inside a group commit. */
#ifndef BM_SERVE_OPS_H
#define BM_SERVE_OPS_H

#include "serve.h"
#include "serve_route.h"


/* What one request wrote, for its answer and its commit trailer. */
typedef struct {
	bm_strlist paths;   /* the records added (the first is "path" in the answer) */
	bm_buf record;      /* the JSON of the main record, or empty */
	uint64_t seq;       /* its sequence number, 0 when the kind has none */
	int unchanged;      /* nothing was added (a report equal to the last one ...) */
	bm_buf summary;     /* one line for the commit message */
	/* a failure */
	int code;
	unsigned status;    /* 0: from code */
	char *errmsg;
} serve_result;
void serve_result_dispose(serve_result *r);

typedef struct serve_op {
	const char *name;       /* promote, release, binary, config, flag, log, report, hook, hook-rm */
	const char *verb;       /* the token scope verb */
	int write_only_route;   /* a GET of the route is 405 (the route has no read) */
	/* parse the body (a JSON object) and the URL parameters; -1 with `err` naming the field */
	int (*parse)(void **req, const serve_params *pp, const char *body, size_t len, bm_buf *err);
	/* after the parse, before the token check (NULL: none): what the scope's target needs
	 * of the repo (hook-rm: the hook's prefix); -1 with the answer in `a` */
	int (*scope)(serve *s, void *req, serve_answer *a);
	/* after the token check (NULL: none): what the request needs of serve (hook: serve's
	 * recipients, the bound of live hooks); -1 with the answer in `a` */
	int (*prepare)(serve *s, void *req, serve_answer *a);
	/* the path If-Match compares (allocated), or NULL when the kind has none */
	int (*target)(char **out, const void *req);
	/* run inside the batch's transaction: 0 added, 1 unchanged (nothing added), < 0 error */
	int (*apply)(bm_txn *txn, void *req, serve_result *res);
	void (*dispose)(void *req);
} serve_op;

const serve_op *serve_op_find(const char *name);
/* Check the request's token for `op` on the parsed request `req` (serve_token.h: the verb is
 * the kind, the target its project, PROJECT@ENV or env): 0 with the actor (the token's name,
 * or "anonymous" with --open-writes) in `actor`; -1 with the 401/403 answer in `a`. */
int serve_auth(serve *s, const serve_rq *r, const serve_op *op, const void *req, bm_buf *actor, serve_answer *a);

#endif
