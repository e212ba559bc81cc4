/* serve.c: `bootmeta serve`: options, start-up, and the clean stop on SIGTERM (new
 * connections refused, queued writes committed and answered, event streams ended, then
 * exit). The parts: serve_http.c (requests), serve_read.c, serve_write.c (group commit),
 * serve_watch.c (events). */
#include "serve.h"
#include "serve_nats.h"
#include "live.h"
#include "serve_token.h"
#include "cli_keys.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char serve_usage[] =
	"usage: bootmeta serve [--repo PATH] [--listen HOST:PORT] [--tokens FILE | --open-writes]\n"
	"                      [--tls-cert FILE --tls-key FILE] [--ready-file FILE]\n"
	"                      [--threads N] [--batch-max N] [--queue-max N] [--body-max BYTES]\n"
	"                      [--conn-limit N] [--conn-timeout SECONDS] [--poll-ms MS]\n"
	"                      [--watch-buffer BYTES] [--header-timeout SECONDS]\n"
	"                      [--upstream URL [--upstream-poll SECONDS]]\n"
	"                      [--nats URL [--nats-stream NAME|off] [--nats-inflight N]]\n"
	"                      [--webhook-secret-file FILE] [--identity FILE] [--hook-attempts N]\n"
	"                      [--hook-backoff-ms MS] [--hook-timeout-ms MS] [--state-dir DIR]\n"
	"                      [--timestamp-key FILE] [--cache-max MIB] [--hooks-max N]\n"
	"       bootmeta serve token add|rm|list ... (see bootmeta-serve(1))\n\n"
	"The live meta server: the HTTP API of doc/http-api.md over the meta repo (reads, watch,\n"
	"group-committed writes), in the foreground, logs on stderr, one line per request and per\n"
	"commit. --listen defaults to 127.0.0.1:8420 (port 0: any free port; --ready-file gets the\n"
	"URL once it listens). Writes need a token from --tokens FILE (`bootmeta serve token add`);\n"
	"--open-writes takes writes from anyone (a machine of your own, never a shared one).\n"
	"--nats URL publishes every commit on bootmeta.commit and bootmeta.change.* (into the JetStream\n"
	"stream --nats-stream, default BOOTMETA) and takes writes on bootmeta.write.KIND (request-reply).\n"
	"Webhooks: POST /v1/hooks/git takes GitHub/GitLab push events signed with the secret of\n"
	"--webhook-secret-file; the subscriptions of `bootmeta hook add` get each change they\n"
	"follow, signed with their secret, decrypted with the age identity --identity FILE (else\n"
	"$BOOTMETA_IDENTITY); a failed delivery is tried --hook-attempts times (default 6), the\n"
	"pause doubling from --hook-backoff-ms (1000), each call bounded by --hook-timeout-ms (10000).\n"
	"--state-dir DIR (default: bootmeta-serve in the repo's git folder) keeps each subscription's\n"
	"cursor, so a restart delivers what the receivers missed, and its last delivery attempts.\n"
	"POST /v1/hooks adds subscriptions (a token of scope hook:PREFIX), up to --hooks-max live\n"
	"ones in the repo (default 64).\n"
	"SIGTERM or SIGINT: stop taking connections, commit and answer the writes queued, end the\n"
	"event streams, exit 0.\n"
	"--upstream URL: the meta repo lives on a git server; --repo PATH is serve's clone of it\n"
	"(made on the first start), writes are pushed there, others' pushes are fetched on a\n"
	"webhook or every --upstream-poll seconds (default 10).\n"
	"--timestamp-key FILE: a minisign secret key (`bootmeta key gen --sign`; a password from\n"
	"$BOOTMETA_PASSWORD) that signs, in each answer of .../channels/C/binary, the meta commit,\n"
	"the entry and the time it was answered; an agent given the public key (--timestamp-key)\n"
	"refuses one older than its --max-meta-age: an answer held back or replayed on the way.\n"
	"--cache-max MIB: the most memory libgit2's object cache holds (default 256): less memory,\n"
	"slower reads of what it no longer holds (/metrics: bootmeta_git_cache_bytes).\n";

static int parse_listen(serve *s, const char *spec)
{
	const char *colon = strrchr(spec, ':');
	unsigned long long port;
	size_t hl;
	if (!colon || colon == spec)
		return -1;
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(s->host) || live_parse_uint(&port, colon + 1, 65535) < 0)
		return -1;
	memcpy(s->host, spec, hl);
	s->host[hl] = '\0';
	s->port = (unsigned)port;
	return 0;
}

static int write_ready(const char *file, const serve *s)
{
	char tmp[4096];
	FILE *f;
	int ok;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp))
		return -1;
	if (!(f = fopen(tmp, "w")))
		return -1;
	ok = fprintf(f, "%s://%s%s%s:%u\n", s->tls_cert ? "https" : "http", strchr(s->host, ':') ? "[" : "", s->host,
		     strchr(s->host, ':') ? "]" : "", s->port) > 0;
	ok = (fclose(f) == 0) && ok;
	return ok && rename(tmp, file) == 0 ? 0 : -1;
}

int live_serve(bm_cli *cli, int argc, char **argv)
{
	enum { O_LISTEN = 256, O_TOKENS, O_OPEN, O_CERT, O_KEY, O_STATE, O_READY, O_THREADS, O_BATCH, O_QUEUE, O_BODY,
	       O_CONNS, O_CTIMEOUT, O_POLL, O_UPSTREAM, O_UPOLL, O_WBUF, O_HTIMEOUT, O_NATS, O_NSTREAM,
	       O_NINFLIGHT, O_HSECRET, O_IDENTITY, O_HATTEMPTS, O_HBACKOFF, O_HKTIMEOUT, O_TSKEY, O_CACHEMAX,
	       O_HOOKSMAX };
	static const cli_opt opts[] = {
		{ O_LISTEN, "listen", 0, 1 },     { O_TOKENS, "tokens", 0, 1 },	   { O_OPEN, "open-writes", 0, 0 },
		{ O_CERT, "tls-cert", 0, 1 },     { O_KEY, "tls-key", 0, 1 },	   { O_STATE, "state-dir", 0, 1 },
		{ O_READY, "ready-file", 0, 1 },  { O_THREADS, "threads", 0, 1 },  { O_BATCH, "batch-max", 0, 1 },
		{ O_QUEUE, "queue-max", 0, 1 },   { O_BODY, "body-max", 0, 1 },	   { O_CONNS, "conn-limit", 0, 1 },
		{ O_CTIMEOUT, "conn-timeout", 0, 1 }, { O_POLL, "poll-ms", 0, 1 },
		{ O_UPSTREAM, "upstream", 0, 1 }, { O_UPOLL, "upstream-poll", 0, 1 },
		{ O_WBUF, "watch-buffer", 0, 1 }, { O_HTIMEOUT, "header-timeout", 0, 1 },
		{ O_NATS, "nats", 0, 1 }, { O_NSTREAM, "nats-stream", 0, 1 }, { O_NINFLIGHT, "nats-inflight", 0, 1 },
		{ O_HSECRET, "webhook-secret-file", 0, 1 }, { O_IDENTITY, "identity", 0, 1 },
		{ O_HATTEMPTS, "hook-attempts", 0, 1 }, { O_HBACKOFF, "hook-backoff-ms", 0, 1 },
		{ O_HKTIMEOUT, "hook-timeout-ms", 0, 1 }, { O_TSKEY, "timestamp-key", 0, 1 },
		{ O_CACHEMAX, "cache-max", 0, 1 }, { O_HOOKSMAX, "hooks-max", 0, 1 }, CLI_OPT_END,
	};
	serve s;
	cli_args a;
	const char *ready = NULL, *ts_key_file = NULL;
	size_t cache_max = 0;
	unsigned long long v;
	sigset_t sigs;
	struct rlimit rl;
	int c, sig = 0, rc = BM_EXIT_FAIL;
	int writer = 0, hub = 0, http = 0, upstream = 0, nats = 0, nats_sub = 0, hooks = 0;
	serve_nats_options no = { NULL, "BOOTMETA", 256, 7 * 86400, 1LL << 30 };

	memset(&s, 0, sizeof(s));
	s.repo = cli->repo;
	s.batch_max = 256;
	s.queue_max = 8192;
	s.body_max = 1u << 20;
	s.conn_limit = 20000;
	s.conn_timeout = 30;
	s.header_timeout = 10;
	s.threads = 2;
	s.poll_ms = 1000;
	s.upstream_poll = 10;
	s.watch_buf = SERVE_WATCH_BUF;
	s.hook_attempts = 6;
	s.hook_backoff_ms = 1000;
	s.hook_timeout_ms = 10000;
	s.hooks_max = 64;
	s.identity_file = cli->identity;
	parse_listen(&s, "127.0.0.1:8420");

	cli_args_init(&a, cli, argc, argv, opts, serve_usage);
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case O_LISTEN:
			if (parse_listen(&s, a.value) < 0)
				return cli_args_fail(&a, "'%s' is not HOST:PORT (127.0.0.1:8420, [::1]:8420)", a.value);
			s.listen = a.value;
			break;
		case O_TOKENS: s.tokens_file = a.value; break;
		case O_OPEN: s.open_writes = 1; break;
		case O_CERT: s.tls_cert = a.value; break;
		case O_KEY: s.tls_key = a.value; break;
		case O_STATE: s.state_dir = a.value; break;
		case O_READY: ready = a.value; break;
		case O_THREADS:
			if (live_parse_uint(&v, a.value, 64) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a thread count from 1 to 64", a.value);
			s.threads = (unsigned)v;
			break;
		case O_BATCH:
			if (live_parse_uint(&v, a.value, 4096) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a batch size from 1 to 4096", a.value);
			s.batch_max = (size_t)v;
			break;
		case O_QUEUE:
			if (live_parse_uint(&v, a.value, 1000000) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a queue length from 1 to 1000000", a.value);
			s.queue_max = (size_t)v;
			break;
		case O_BODY:
			if (live_parse_uint(&v, a.value, 64u << 20) < 0 || v < 1024)
				return cli_args_fail(&a, "'%s' is not a byte count from 1024 to 67108864", a.value);
			s.body_max = (size_t)v;
			break;
		case O_CONNS:
			if (live_parse_uint(&v, a.value, 1000000) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a connection count", a.value);
			s.conn_limit = (unsigned)v;
			break;
		case O_CTIMEOUT:
			if (live_parse_uint(&v, a.value, 86400) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a number of seconds from 1 to 86400", a.value);
			s.conn_timeout = (unsigned)v;
			break;
		case O_UPSTREAM: s.upstream = a.value; break;
		case O_UPOLL:
			if (live_parse_uint(&v, a.value, 86400) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a number of seconds from 1 to 86400", a.value);
			s.upstream_poll = (unsigned)v;
			break;
		case O_HTIMEOUT:
			if (live_parse_uint(&v, a.value, 3600) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a number of seconds from 1 to 3600", a.value);
			s.header_timeout = (unsigned)v;
			break;
		case O_WBUF:
			if (live_parse_uint(&v, a.value, 1u << 30) < 0 || v < 4096)
				return cli_args_fail(&a, "'%s' is not a byte count from 4096", a.value);
			s.watch_buf = (size_t)v;
			break;
		case O_NATS: no.url = a.value; break;
		case O_NSTREAM:
			nats_sub = 1;
			if (!strcmp(a.value, "off")) {
				no.stream = NULL;
				break;
			}
			if (!*a.value || strlen(a.value) > 64 || strpbrk(a.value, ". *>/\\\t\r\n"))
				return cli_args_fail(&a, "'%s' is not a JetStream stream name (letters, digits, - and _), or off",
						     a.value);
			no.stream = a.value;
			break;
		case O_NINFLIGHT:
			nats_sub = 1;
			if (live_parse_uint(&v, a.value, 100000) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a request count from 1 to 100000", a.value);
			no.inflight = (unsigned)v;
			break;
		case O_POLL:
			if (live_parse_uint(&v, a.value, 3600000) < 0 || v < 10)
				return cli_args_fail(&a, "'%s' is not a number of milliseconds from 10", a.value);
			s.poll_ms = (unsigned)v;
			break;
		case O_HSECRET: s.webhook_secret_file = a.value; break;
		case O_IDENTITY: s.identity_file = a.value; break;
		case O_TSKEY: ts_key_file = a.value; break;
		case O_CACHEMAX:
			if (live_parse_uint(&v, a.value, 1u << 20) < 0 || v < 1)
				return cli_args_fail(&a, "--cache-max '%s': give MiB from 1 to 1048576", a.value);
			cache_max = (size_t)v << 20;
			break;
		case O_HOOKSMAX:
			if (live_parse_uint(&v, a.value, 10000) < 0 || v == 0)
				return cli_args_fail(&a, "--hooks-max '%s': give a number of subscriptions from 1 to 10000", a.value);
			s.hooks_max = (unsigned)v;
			break;
		case O_HATTEMPTS:
			if (live_parse_uint(&v, a.value, 20) < 0 || v == 0)
				return cli_args_fail(&a, "'%s' is not a number of attempts from 1 to 20", a.value);
			s.hook_attempts = (unsigned)v;
			break;
		case O_HBACKOFF:
			if (live_parse_uint(&v, a.value, 600000) < 0 || v < 10)
				return cli_args_fail(&a, "'%s' is not a number of milliseconds from 10 to 600000", a.value);
			s.hook_backoff_ms = (unsigned)v;
			break;
		case O_HKTIMEOUT:
			if (live_parse_uint(&v, a.value, 300000) < 0 || v < 100)
				return cli_args_fail(&a, "'%s' is not a number of milliseconds from 100 to 300000", a.value);
			s.hook_timeout_ms = (unsigned)v;
			break;
		}
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	s.repo = cli->repo; /* --repo may come after the command too */
	if (a.npos)
		return cli_args_fail(&a, "serve takes no operands ('%s')", a.pos[0]);
	if (!s.tls_cert != !s.tls_key)
		return cli_args_fail(&a, "--tls-cert and --tls-key go together");
	if (!no.url && nats_sub)
		return cli_args_fail(&a, "--nats-stream and --nats-inflight go with --nats URL");
	if (s.tokens_file && s.open_writes)
		return cli_args_fail(&a, "--tokens and --open-writes exclude each other");

	/* many idle connections (watchers) each hold a descriptor */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* every thread started from here inherits the mask: the signals come to sigwait below */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (s.upstream && (!s.repo || !*s.repo))
		return cli_args_fail(&a, "--upstream needs --repo PATH: where serve keeps its clone");
	if (cache_max && bm_global_cache_limit(cache_max) < 0) {
		serve_log("error", "cache-max", "error=\"%s\"", bm_error_last());
		goto done;
	}
	if (ts_key_file && cli_seckey_load(cli, &s.ts_key, ts_key_file) != BM_EXIT_OK) {
		serve_log("error", "timestamp-key", "file=%s error=\"cannot load it (above)\"", ts_key_file);
		goto done;
	}
	if (s.upstream && access(s.repo, F_OK) != 0) {
		bm_store *cl = NULL;
		serve_log("info", "clone", "url=%s repo=%s", s.upstream, s.repo);
		if (live_clone(&cl, cli, s.upstream, s.repo) < 0) {
			serve_log("error", "clone", "url=%s repo=%s error=\"%s\"", s.upstream, s.repo, bm_error_last());
			goto done;
		}
		bm_store_free(cl);
	}
	if (live_open(&s.wstore, cli) < 0 || live_open(&s.hstore, cli) < 0 ||
	    (s.upstream && live_open(&s.ustore, cli) < 0)) {
		serve_log("error", "open", "repo=%s error=\"%s\"", s.repo ? s.repo : ".", bm_error_last());
		goto done;
	}
	s.repo = bm_store_path(s.wstore);
	if (s.upstream && (!bm_store_remote_url(s.wstore) || strcmp(bm_store_remote_url(s.wstore), s.upstream))) {
		serve_log("error", "upstream", "repo=%s origin=%s upstream=%s error=\"the repo is not a clone of the "
			  "upstream: give --repo a new folder (serve clones into it) or the clone of that URL\"",
			  s.repo, bm_store_remote_url(s.wstore) ? bm_store_remote_url(s.wstore) : "(none)", s.upstream);
		goto done;
	}
	if (s.tokens_file) {
		bm_buf err = BM_BUF_INIT;
		if (serve_tokens_open(&s.tokens, s.tokens_file, &err) < 0) {
			serve_log("error", "tokens", "file=%s error=\"%s\"", s.tokens_file, err.ptr ? err.ptr : "cannot load");
			bm_buf_dispose(&err);
			goto done;
		}
		bm_buf_dispose(&err);
	}
	if (serve_hooks_recipients(&s) < 0)
		goto done;
	if (serve_writer_start(&s) < 0)
		goto done;
	writer = 1;
	/* before the hub: it registers its commit hook */
	nats = no.url != NULL;
	if (nats && serve_nats_start(&s, &no) < 0)
		goto done;
	if (serve_hooks_start(&s) < 0)
		goto done;
	hooks = 1;
	if (serve_hub_start(&s) < 0)
		goto done;
	hub = 1;
	if (s.upstream) {
		if (serve_upstream_start(&s) < 0)
			goto done;
		upstream = 1;
		if (nats && serve_nats_notices(&s) < 0)
			goto done;
	}
	if (serve_http_start(&s) < 0)
		goto done;
	http = 1;
	serve_log("info", "listening", "addr=%s:%u repo=%s upstream=%s writes=%s threads=%u", s.host, s.port, s.repo,
		  s.upstream ? s.upstream : "-", s.tokens_file ? "tokens" : s.open_writes ? "open" : "off", s.threads);
	if (ready && write_ready(ready, &s) < 0) {
		serve_log("error", "ready-file", "file=%s error=\"%s\"", ready, strerror(errno));
		goto done;
	}
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			serve_log("info", "sighup", "what=\"tokens are re-read when their file changes; nothing to do\"");
			continue;
		}
		break;
	}
	serve_log("info", "stopping", "signal=%s queued=%zu", sig == SIGTERM ? "TERM" : "INT", s.qlen);
	rc = BM_EXIT_OK;
done:
	atomic_store(&s.stopping, 1);
	if (http)
		MHD_quiesce_daemon(s.mhd);
	if (nats)
		serve_nats_quiesce(&s);
	if (writer)
		serve_writer_stop(&s);
	if (upstream)
		serve_upstream_stop(&s);
	if (hub)
		serve_hub_stop(&s);
	if (nats)
		serve_nats_stop(&s);
	if (http)
		serve_http_stop(&s);
	if (hooks)
		serve_hooks_stop(&s);
	if (hub)
		serve_hub_free(&s);
	bm_store_free(s.wstore);
	bm_store_free(s.hstore);
	bm_store_free(s.ustore);
	serve_tokens_free(s.tokens);
	bm_minisign_seckey_free(s.ts_key);
	bm_strlist_dispose(&s.hook_recipients);
	if (rc == BM_EXIT_OK)
		serve_log("info", "stopped", "commits=%llu writes=%llu", (unsigned long long)s.m.commits,
			  (unsigned long long)s.m.writes_ok);
	return rc;
}
