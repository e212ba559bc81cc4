/* follow.c: `bootmeta follow`: keep a local clone of the meta repo current from a serve's
 * change notices (its event stream, or its NATS feed with --nats), with a fetch every
 * --fetch-interval seconds as the fallback when notices stop. The clone is an ordinary
 * bootmeta clone: every read command works on it, with no network. */
#include "cli_hint.h"
#include "live.h"
#include "serve_nats.h"
#include "sse.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char follow_usage[] =
	"usage: bootmeta follow (--server URL | --nats URL) [--from GIT-URL] [--fetch-interval SECONDS]\n"
	"                       [--once] DIR\n\n"
	"Keep DIR, a clone of the meta repo, current: fetch whenever the bootmeta serve at URL\n"
	"announces a new commit, and every --fetch-interval seconds (default 60) when it does not.\n"
	"--nats URL: the notices come from serve's NATS feed (subject bootmeta.commit) instead of its\n"
	"event stream; while NATS is down the periodic fetch goes on, and a fetch follows each reconnect.\n"
	"DIR is made with a clone of --from GIT-URL when it does not exist (the git URL of the meta\n"
	"repo: serve's own repo or its --upstream, not serve's URL). --once: bring DIR up to date and\n"
	"exit. One line per fetch that moved main. SIGTERM or SIGINT: exit 0.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

typedef struct {
	bm_store *store;
	const char *dir;
	unsigned interval;
	time_t last_pull;
	int failed;
} follow_ctx;

static void pull(follow_ctx *f, const char *why)
{
	bm_oid before, after;
	char a[BM_OID_HEXSZ + 1], b[BM_OID_HEXSZ + 1];
	int had = bm_store_tip(&before, f->store) == 0;
	bm_error_clear();
	f->last_pull = time(NULL);
	if (bm_store_pull(&after, f->store) < 0) {
		if (!f->failed)
			fprintf(stderr, "bootmeta: follow: fetch: %s (retrying)\n", cli_error_text());
		f->failed = 1;
		bm_error_clear();
		return;
	}
	f->failed = 0;
	if (!had || !bm_oid_equal(&before, &after)) {
		bm_oid_fmt(b, &after);
		if (had) {
			bm_oid_fmt(a, &before);
			printf("%.12s -> %.12s (%s)\n", a, b, why);
		} else {
			printf("%.12s (%s)\n", b, why);
		}
		fflush(stdout);
	}
}

static int on_event(const char *event, const char *id, const char *data, size_t len, void *payload)
{
	(void)id;
	(void)data;
	(void)len;
	if (!strcmp(event, "commit"))
		pull(payload, "notice");
	return stop_flag != 0;
}

/* nats.c's callbacks (its threads) count the connects; the loop below acts on them. */
static atomic_int nats_connects; /* first connect and every reconnect */
static atomic_int nats_up;

static void nats_connected_cb(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
	atomic_store(&nats_up, 1);
	atomic_fetch_add(&nats_connects, 1);
}

static void nats_disconnected_cb(natsConnection *nc, void *closure)
{
	(void)nc;
	(void)closure;
	atomic_store(&nats_up, 0);
}

/* --nats: a fetch per notice on bootmeta.commit (what queued meanwhile is one fetch), one
 * after each connect (notices sent while away are not replayed; the first connect may come
 * after the catch-up fetch), and the periodic fetch while none come. nats.c reconnects by
 * itself; a connection it closes for good (say, refused credentials) ends follow. */
static int follow_nats(follow_ctx *f, const char *url)
{
	natsOptions *o = NULL;
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	natsStatus st, cst = NATS_ERR;
	int rc = BM_EXIT_FAIL, said = -1, seen = 0, ever = 0;

	if ((st = serve_nats_client_options(&o, url, "bootmeta-follow", nats_connected_cb, NULL)) != NATS_OK ||
	    (st = natsOptions_SetDisconnectedCB(o, nats_disconnected_cb, NULL)) != NATS_OK ||
	    (st = natsOptions_SetReconnectedCB(o, nats_connected_cb, NULL)) != NATS_OK ||
	    ((st = cst = natsConnection_Connect(&nc, o)) != NATS_OK && st != NATS_NOT_YET_CONNECTED) ||
	    (st = natsConnection_SubscribeSync(&sub, nc, "bootmeta.commit")) != NATS_OK) {
		fprintf(stderr, "bootmeta: follow: --nats %s: %s\n", url, natsStatus_GetText(st));
		goto done;
	}
	if (cst == NATS_OK) {
		/* connected at once (nats.c calls no connected callback then); the catch-up fetch
		 * came before the subscription: one more closes that gap */
		atomic_store(&nats_up, 1);
		ever = 1;
		pull(f, "nats connected");
	}
	while (!stop_flag) {
		natsMsg *m = NULL;
		int got = 0, up, connects;
		while ((st = natsSubscription_NextMsg(&m, sub, got ? 0 : 1000)) == NATS_OK) {
			natsMsg_Destroy(m);
			m = NULL;
			got = 1;
		}
		if (st == NATS_CONNECTION_CLOSED || natsConnection_IsClosed(nc)) {
			const char *why = NULL;
			natsConnection_GetLastError(nc, &why);
			fprintf(stderr, "bootmeta: follow: the NATS connection to %s is closed for good (%s); exiting\n", url,
				why && *why ? why : natsStatus_GetText(st));
			goto done;
		}
		up = atomic_load(&nats_up);
		if (up != said) {
			if (up)
				fprintf(stderr, "bootmeta: follow: notices from %s (bootmeta.commit)\n", url);
			else
				fprintf(stderr, "bootmeta: follow: NATS at %s is down; fetching every %u s until it is back\n",
					url, f->interval);
			said = up;
		}
		connects = atomic_load(&nats_connects);
		if (connects != seen) {
			/* notices sent while this was away are not replayed: fetch */
			pull(f, ever ? "nats reconnected" : "nats connected");
			seen = connects;
			ever = 1;
		}
		if (got)
			pull(f, "notice");
		else if (time(NULL) - f->last_pull >= (time_t)f->interval)
			pull(f, "periodic fetch");
	}
	rc = BM_EXIT_OK;
done:
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	nats_Close();
	return rc;
}

static int on_tick(void *payload)
{
	follow_ctx *f = payload;
	if (stop_flag)
		return 1;
	if (time(NULL) - f->last_pull >= (time_t)f->interval)
		pull(f, "periodic fetch");
	return 0;
}

int live_follow(bm_cli *cli, int argc, char **argv)
{
	enum { O_SERVER = 256, O_NATS, O_FROM, O_INTERVAL, O_ONCE };
	static const cli_opt opts[] = {
		{ O_SERVER, "server", 0, 1 }, { O_NATS, "nats", 0, 1 }, { O_FROM, "from", 0, 1 },
		{ O_INTERVAL, "fetch-interval", 0, 1 }, { O_ONCE, "once", 0, 0 }, CLI_OPT_END,
	};
	follow_ctx f;
	cli_args a;
	const char *server = NULL, *nats_url = NULL, *from = NULL;
	char last[64] = "";
	struct sigaction sa;
	int c, once = 0, rc = BM_EXIT_FAIL;
	long v;

	memset(&f, 0, sizeof(f));
	f.interval = 60;
	cli_args_init(&a, cli, argc, argv, opts, follow_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case O_SERVER: server = a.value; break;
		case O_NATS: nats_url = a.value; break;
		case O_FROM: from = a.value; break;
		case O_ONCE: once = 1; break;
		case O_INTERVAL:
			v = strtol(a.value, NULL, 10);
			if (v <= 0 || v > 86400)
				return cli_args_fail(&a, "--fetch-interval: give seconds from 1 to 86400");
			f.interval = (unsigned)v;
			break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos != 1)
		return cli_args_fail(&a, "follow takes one DIR");
	f.dir = a.pos[0];
	if (server && nats_url)
		return cli_args_fail(&a, "give --server or --nats, not both: the notices come from one of them");
	if (!server && !nats_url)
		server = getenv("BOOTMETA_SERVER");
	if (nats_url && strncmp(nats_url, "nats://", 7) && strncmp(nats_url, "tls://", 6))
		return cli_args_fail(&a, "--nats: give a nats:// (or tls://) URL, not '%s'", nats_url);
	if (!once && !nats_url && (!server || !*server))
		return cli_args_fail(&a, "give --server URL (or $BOOTMETA_SERVER), or --nats URL: where the notices "
					 "come from");
	if (access(f.dir, F_OK) != 0) {
		if (!from)
			return cli_args_fail(&a, "%s does not exist: give --from GIT-URL to clone it", f.dir);
		if (live_clone(&f.store, cli, from, f.dir) < 0) {
			fprintf(stderr, "bootmeta: follow: clone %s: %s\n", from, cli_error_text());
			if (strstr(cli_error_text(), "404"))
				fprintf(stderr, "bootmeta: follow: --from is the git URL of the meta repo (a path, file://, "
						"ssh://, or a git server's https://); bootmeta serve does not serve git\n");
			return BM_EXIT_FAIL;
		}
		{
			bm_oid tip;
			char hex[BM_OID_HEXSZ + 1];
			if (bm_store_tip(&tip, f.store) == 0) {
				bm_oid_fmt(hex, &tip);
				printf("%.12s (cloned from %s)\n", hex, from);
				fflush(stdout);
			}
			bm_error_clear();
		}
	} else {
		/* with the CLI's policy (ssh key, known_hosts): the fetches need it */
		const char *repo = cli->repo;
		int e;
		cli->repo = f.dir;
		e = live_open(&f.store, cli);
		cli->repo = repo;
		if (e < 0) {
			if (from)
				fprintf(stderr, "bootmeta: follow: %s exists and is not a clone of a meta repo (%s); remove it, "
						"or give a new DIR for --from to clone into\n", f.dir, bm_error_last());
			else
				fprintf(stderr, "bootmeta: follow: %s\n", cli_error_text());
			return BM_EXIT_FAIL;
		}
	}
	if (!bm_store_has_remote(f.store)) {
		fprintf(stderr, "bootmeta: follow: %s has no remote to fetch from: make it with --from GIT-URL\n", f.dir);
		goto done;
	}
	pull(&f, "catch up");
	if (once) {
		rc = f.failed ? BM_EXIT_FAIL : BM_EXIT_OK;
		goto done;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (nats_url) {
		rc = follow_nats(&f, nats_url);
		goto done;
	}
	while (!stop_flag) {
		bm_oid tip;
		int r;
		if (bm_store_tip(&tip, f.store) == 0)
			bm_oid_fmt(last, &tip);
		bm_error_clear();
		r = live_sse_follow(server, "", last, on_event, on_tick, &f, "follow");
		if (r == 0)
			break;
		if (r == 410) {
			/* our tip is not in the server's history: fetch, then follow from there */
			pull(&f, "the server's history moved");
			sleep(1);
			continue;
		}
		fprintf(stderr, "bootmeta: follow: %s answered %d\n", server, r);
		goto done;
	}
	rc = BM_EXIT_OK;
done:
	bm_store_free(f.store);
	return rc;
}
