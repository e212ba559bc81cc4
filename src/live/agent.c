/* agent.c: `bootmeta agent`: follow one channel of one project on this host. Each round
 * reads what the channel says (a serve's HTTP API, or a local clone of the meta repo),
 * and when it is not what runs here: download, verify against pinned keys, install under
 * DIR/releases, switch DIR/current, restart, gate on health, then commit the release or
 * go back to the one before. Every state change is reported as an instance record. The
 * host-side steps are in agent_host.c. */
#include "agent.h"
#include "agent_http.h"
#include "agent_metrics.h"
#include "agent_view.h"
#include "cli_keys.h"
#include "cli_net.h"
#include "live.h"
#include "serve_log.h"
#include "serve_nats_msg.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#ifdef BM_AGENT_NATS
#include <nats/nats.h>

#include "serve_nats.h"
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static const char agent_usage[] =
	"usage: bootmeta agent --project P --channel C --env E --install-dir DIR --trusted-keys FILE\n"
	"                      [--server URL [--token-file F] | --repo PATH] [--nats URL] [--id ID]\n"
	"                      [--exec 'CMD ARGS' | --systemd-unit NAME] [--health-url URL | --health-cmd CMD]\n"
	"                      [--health-timeout 60s] [--bake 10s] [--poll 30s] [--download-timeout 10m]\n"
	"                      [--stall-timeout 30s] [--max-meta-age DURATION] [--timestamp-key FILE]\n"
	"                      [--os OS] [--arch ARCH] [--restart-max-delay 60s]\n"
	"                      [--host-retries 5] [--metrics-listen HOST:PORT] [--once]\n\n"
	"Keep this host on what channel C of project P says: download the release's binary for this\n"
	"host's os/arch, verify its size, sha256 and a signature by a key of --trusted-keys (pinned:\n"
	"the meta repo's keys do not count), install it as DIR/releases/<release>/<name>, point\n"
	"DIR/current at it (atomically), restart the app (--exec: the agent runs and supervises it\n"
	"in DIR/current; --systemd-unit: systemctl restart), then gate on health (--health-url\n"
	"answers 2xx or --health-cmd exits 0 within --health-timeout, and keeps doing so for\n"
	"--bake). Healthy: the release is committed. Not: DIR/current goes back, the release before\n"
	"restarts, and the failure is reported; that release is not tried again until the channel\n"
	"moves (unless the release before is not healthy either: then the host is at fault, and the\n"
	"next round tries again, up to --host-retries rounds in a row). Every state change is reported as an instance record of env E: through the serve\n"
	"(--server; token from --token-file or $BOOTMETA_TOKEN), or written to the meta repo\n"
	"(--repo; pushed when it has a remote). The instance id is --id, else the host name.\n"
	"--server: changes arrive by long poll; --repo: fetched every --poll; --nats URL: notices from\n"
	"serve's NATS feed (the long poll is not used; --poll stays the fallback). A channel entry with\n"
	"a lower number than one this agent verified is refused (a replayed view). --max-meta-age:\n"
	"when the source has not answered for longer, that is reported (the host may be behind).\n"
	"--timestamp-key FILE (with --server): serve's minisign public key for its --timestamp-key;\n"
	"an answer must carry a timestamp signed by it, naming the view it came with and a time\n"
	"within --max-meta-age (default then 5m) of this host's clock, else nothing is done on it\n"
	"and that is reported: an answer held back or replayed on the way, mixed or forged.\n"
	"--download-timeout bounds a download, every URL and retry included; --stall-timeout cuts (and\n"
	"retries) a transfer that moves less than 1 KiB a second for that long.\n"
	"--metrics-listen 127.0.0.1:9420: GET /metrics (Prometheus text) on that address (off by default).\n"
	"--once: act once and exit 0 when the host runs (healthy) what the channel says, else 1.\n"
	"SIGTERM or SIGINT: stop the app (--exec) and exit 0.\n";

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

typedef struct {
	agent_config c;
	agent_state st;
	agent_child child;
	bm_cli *cli;
	bm_store *store;            /* --repo */
	bm_trusted_keys keys;
	bm_write_options wopts;
	char *token;
	char id[AGENT_NAME_MAX], os[80], arch[80];
	char since[65];             /* the meta commit of the last view (long poll) */
	char last_report[1024];     /* state/release/error of the last report sent */
	int64_t max_meta_age_ms;    /* --max-meta-age (0: not checked) */
	int64_t fresh_ms;           /* when the source last answered (mono ms) */
	bm_minisign_pubkey ts_key;  /* --timestamp-key: serve's answers must be signed fresh by it */
	int has_ts_key;
	int fetch_failed;           /* the last fetch of the clone failed (read as it was) */
	const char *nats_url;       /* --nats: change notices from serve's NATS feed */
#ifdef BM_AGENT_NATS
	natsConnection *nc;
	natsSubscription *nsub[2];  /* the channel's subject, bootmeta.change.+binaries */
	int nats_down_said;
#endif
	agent_metrics metrics;      /* --metrics-listen */
	int64_t started_ms;         /* when supervise last started the app (0: not it) */
	int64_t restart_delay_ms;   /* the pause before the last restart */
	int64_t restart_max_ms;     /* --restart-max-delay: the longest pause */
	int64_t restart_at;         /* the app is gone: when to start it again (0: not due) */
	int64_t supervised_ms;      /* the last look */
	uint64_t skip_said_seq;     /* the failed entry last said to be skipped */
	char app_down[AGENT_NAME_MAX + 160]; /* the app is down, waiting for its restart: why */
} agent;

typedef agent_view view;

static void view_dispose(view *v)
{
	agent_view_dispose(v);
}

static int64_t mono_ms(void)
{
	return serve_mono_us() / 1000;
}

/* "60s", "500ms", "2m", "1h", or plain seconds. */
static int parse_duration(int64_t *out, const char *s)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		*out = (int64_t)v;
	else if (!*end || !strcmp(end, "s"))
		*out = (int64_t)(v * 1000);
	else if (!strcmp(end, "m"))
		*out = (int64_t)(v * 60000);
	else if (!strcmp(end, "h"))
		*out = (int64_t)(v * 3600000);
	else
		return -1;
	return *out <= 7LL * 24 * 3600 * 1000 ? 0 : -1;
}

/* ---- HTTP (the serve) ---- */

/* GET or POST (body non-NULL) `url`; the status in *status, the answer in out (on the
 * agent's own socket, TLS included; https:// to an IP address through bootmeta-live:
 * agent_http.h). */
static int http_call(long *status, bm_buf *out, agent *g, const char *url, const char *body, int64_t timeout_ms)
{
	return agent_http(status, out, url, body, body ? g->token : NULL, timeout_ms, 4u << 20, &stop_flag);
}

/* The message of a JSON error answer, or the start of the body. */
static const char *answer_error(bm_buf *tmp, const bm_buf *body)
{
	json_t *j = body->ptr ? json_loads(body->ptr, 0, NULL) : NULL;
	const char *m = j ? json_string_value(json_object_get(j, "error")) : NULL;
	bm_buf_clear(tmp);
	bm_buf_printf(tmp, "%.300s", m ? m : body->ptr ? body->ptr : "");
	json_decref(j);
	return tmp->ptr ? tmp->ptr : "";
}

/* The serve's answer for the host's platform, as records in a memory view, so the binary
 * is verified by the same rules as from a clone (bm_binary_verify with the pinned keys). */
static int view_server(view *v, agent *g)
{
	bm_buf url = BM_BUF_INIT, body = BM_BUF_INIT, tmp = BM_BUF_INIT;
	long status;
	int error;

	bm_buf_printf(&url, "%s/v1/projects/%s/channels/%s/binary?os=%s&arch=%s", g->c.server, g->c.project,
		      g->c.channel, g->os, g->arch);
	if ((error = http_call(&status, &body, g, url.ptr, NULL, 30000)) < 0)
		goto done;
	if (status != 200) {
		error = bm_error_set(status == 404 ? BM_ENOTFOUND : BM_EREMOTE, "%s answered %ld: %s", url.ptr, status,
				     answer_error(&tmp, &body));
		goto done;
	}
	if ((error = agent_view_parse(v, body.ptr ? body.ptr : "", body.size)) < 0)
		error = bm_error_prefix(BM_EREMOTE, "%s", url.ptr);
done:
	bm_buf_dispose(&url);
	bm_buf_dispose(&body);
	bm_buf_dispose(&tmp);
	return error;
}

static int view_repo(view *v, agent *g)
{
	Bootmeta__V1__ChannelEntry *e = NULL;
	bm_oid tip;
	int error;
	g->fetch_failed = 0;
	if (bm_store_has_remote(g->store) && bm_store_pull(&tip, g->store) < 0) {
		agent_log("warn", "fetch failed, reading the clone as it is", "error=\"%s\"", bm_error_last());
		bm_error_clear();
		g->fetch_failed = 1;
	}
	if ((error = bm_store_tip(&tip, g->store)) < 0 || (error = bm_store_fs(&v->fs, g->store, &tip)) < 0 ||
	    (error = bm_channel_current(&e, v->fs, g->c.project, g->c.channel)) < 0)
		goto done;
	bm_oid_fmt(v->meta, &tip);
	v->seq = e->seq;
	snprintf(v->release, sizeof(v->release), "%s", e->release);
	error = bm_binary_find(&v->binary, NULL, v->fs, g->c.project, e->release, g->os, g->arch);
done:
	bm_meta_free(e);
	return error;
}

/* ---- reports ---- */

static void report(agent *g, bm_instance_state state, const char *release, const char *meta, const char *error)
{
	char key[1024];
	snprintf(key, sizeof(key), "%d\n%s\n%s", (int)state, release, error ? error : "");
	agent_metrics_state(&g->metrics, bm_instance_state_str(state));
	if (!strcmp(key, g->last_report))
		return; /* the record would be the same: no write, no request */
	agent_log(state == BM_INSTANCE_FAILED || state == BM_INSTANCE_ROLLED_BACK ? "warn" : "info", "report",
		  "state=%s release=%s meta=%.12s%s%s%s", bm_instance_state_str(state), release, meta,
		  error ? " error=\"" : "", error ? error : "", error ? "\"" : "");
	if (g->c.server) {
		bm_buf url = BM_BUF_INIT, body = BM_BUF_INIT, tmp = BM_BUF_INIT;
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "project", g->c.project, "release", release, "metaCommit",
				      meta, "state", bm_instance_state_str(state), "os", g->os, "arch", g->arch,
				      "agentVersion", "bootmeta-agent " BM_VERSION);
		char *text;
		long status = 0;
		if (j && error && *error)
			json_object_set_new(j, "error", json_string(error));
		text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		bm_buf_printf(&url, "%s/v1/envs/%s/instances/%s/reports", g->c.server, g->c.env, g->id);
		if (!text || http_call(&status, &body, g, url.ptr, text, 15000) < 0 || status != 200) {
			agent_log("warn", "report not delivered", "url=%s status=%ld error=\"%s\"", url.ptr, status,
				  status ? answer_error(&tmp, &body) : bm_error_last());
			bm_error_clear();
			agent_metrics_add(&g->metrics, &g->metrics.reports_failed, 1);
		} else {
			snprintf(g->last_report, sizeof(g->last_report), "%s", key);
			agent_metrics_add(&g->metrics, &g->metrics.reports_sent, 1);
		}
		free(text);
		json_decref(j);
		bm_buf_dispose(&url);
		bm_buf_dispose(&body);
		bm_buf_dispose(&tmp);
		return;
	}
	{
		bm_instance_report_spec s = BM_INSTANCE_REPORT_SPEC_INIT;
		bm_oid commit;
		s.env = g->c.env;
		s.instance = g->id;
		s.project = g->c.project;
		s.release = release;
		s.state = state;
		s.acted_on = meta && *meta ? meta : NULL;
		s.error = error;
		s.os = g->os;
		s.arch = g->arch;
		s.agent_version = "bootmeta-agent " BM_VERSION;
		if (bm_instance_report(NULL, &commit, g->store, &s, &g->wopts) < 0) { /* a clone's write pushes */
			agent_log("warn", "report not written", "error=\"%s\"", bm_error_last());
			bm_error_clear();
			agent_metrics_add(&g->metrics, &g->metrics.reports_failed, 1);
			return;
		}
		snprintf(g->last_report, sizeof(g->last_report), "%s", key);
		agent_metrics_add(&g->metrics, &g->metrics.reports_sent, 1);
	}
}

/* ---- one round ---- */

static int save(agent *g)
{
	agent_metrics_committed(&g->metrics, g->st.committed);
	if (agent_state_save(&g->st, &g->c) < 0) {
		agent_log("error", "state not saved", "error=\"%s\"", bm_error_last());
		bm_error_clear();
		return -1;
	}
	return 0;
}

/* Run `release` (already installed): switch, restart. 0 started; -2 when DIR/current could
 * not be switched and still points where it did (the app was not touched: a fault of the
 * host, not of the release); -1 otherwise. */
static int switch_start(bm_buf *why, agent *g, const char *release)
{
	if (agent_switch(&g->c, release) < 0) {
		char cur[AGENT_NAME_MAX];
		bm_buf_printf(why, "switch: %s", bm_error_last());
		bm_error_clear();
		if (agent_current(cur, &g->c) == 0 && strcmp(cur, release))
			return -2;
		bm_error_clear();
		return -1;
	}
	agent_stop(&g->child, &g->c);
	g->restart_delay_ms = g->restart_at = 0; /* a new start: no crash pause owed */
	g->app_down[0] = '\0';
	g->started_ms = mono_ms();
	if (agent_start(&g->child, &g->c, release) < 0) {
		bm_buf_printf(why, "start: %s", bm_error_last());
		bm_error_clear();
		return -1;
	}
	return 0;
}

/* switch_start, then the health gate. 0 healthy. */
static int try_release(bm_buf *why, agent *g, const char *release)
{
	if (switch_start(why, g, release) < 0)
		return -1;
	return agent_health_gate(why, &g->child, &g->c, &stop_flag);
}

/* With --max-meta-age: the source has not answered for longer; said as a failure of the
 * committed release (the host keeps running it; it may be behind the channel). 1 stale. */
static int stale_check(agent *g)
{
	char why[256];
	int64_t age = mono_ms() - g->fresh_ms;
	if (!g->max_meta_age_ms || age <= g->max_meta_age_ms || !*g->st.committed)
		return 0;
	snprintf(why, sizeof(why), "the meta view is stale: no answer from %s for %lld s (--max-meta-age %lld s)",
		 g->c.server ? g->c.server : "the clone's remote", (long long)(age / 1000),
		 (long long)(g->max_meta_age_ms / 1000));
	report(g, BM_INSTANCE_FAILED, g->st.committed, g->since, why);
	return 1;
}

/* With --timestamp-key: the answer's statement is signed by that key and names the view it
 * came with (meta commit, entry) and a time within --max-meta-age of this host's clock.
 * 0 fresh; else -1 with why (an answer held back, replayed, mixed or forged: nothing is done
 * on it). Not caught: a serve whose own view is behind (its --upstream unreachable), which
 * signs its old view as of now. */
static int timestamp_check(bm_buf *why, agent *g, const view *v)
{
	bm_minisign_result res = BM_MINISIGN_RESULT_INIT;
	bm_buf want = BM_BUF_INIT;
	const char *t;
	char *end;
	long long when, age, max_s;
	int rc = -1, error;

	if (!*v->ts_statement) {
		bm_buf_printf(why, "serve's answer carries no signed timestamp (start serve with --timestamp-key, or run "
				   "the agent without it): nothing done on it");
		goto done;
	}
	if ((error = bm_minisign_verify_key(&res, v->ts_signature, v->ts_statement, strlen(v->ts_statement),
					    &g->ts_key, 1)) < 0) {
		bm_buf_printf(why, "serve's timestamp is not signed by --timestamp-key %s: %s; nothing done on it",
			      g->ts_key.key_id_hex, bm_error_last());
		bm_error_clear();
		goto done;
	}
	bm_buf_printf(&want, "bootmeta-timestamp v1\nmeta %s\nproject %s\nchannel %s\nseq %llu\nrelease %s\nsha256 %s\ntime ",
		      v->meta, g->c.project, g->c.channel, (unsigned long long)v->seq, v->release, v->binary->sha256);
	t = v->ts_statement + want.size;
	if (strncmp(v->ts_statement, want.ptr, want.size) || *t < '0' || *t > '9' ||
	    (errno = 0, when = strtoll(t, &end, 10), errno) || strcmp(end, "\n")) {
		bm_buf_printf(why, "serve's signed timestamp is of another view than the answer it came with (meta %.12s, "
				   "entry #%llu, release %s): a mixed answer; nothing done on it",
			      v->meta, (unsigned long long)v->seq, v->release);
		goto done;
	}
	/* in seconds, `when` bounded first: no overflow whatever the signer wrote */
	max_s = g->max_meta_age_ms / 1000;
	age = when > 4102444800LL ? -4102444800LL : (long long)time(NULL) - when; /* past 2100: in the future */
	if (age > max_s || age < -max_s) {
		agent_log("warn", "stale timestamp", "meta=%.12s seq=%llu signed_at=%lld age_s=%lld max_s=%lld", v->meta,
			  (unsigned long long)v->seq, when, age, max_s);
		bm_buf_printf(why, "the meta view is stale: serve's signed timestamp is %s than --max-meta-age %llds allows "
				   "(an answer held back or replayed on the way, or this host's clock is off); nothing done on it",
			      age < 0 ? "further ahead" : "older", max_s);
		goto done;
	}
	rc = 0;
done:
	bm_minisign_result_dispose(&res);
	bm_buf_dispose(&want);
	return rc;
}

/* --exec: the committed release's app that ended is started again, at once when it had run
 * for RESTART_RESET_MS or more, else after a pause that doubles from RESTART_FIRST_MS to
 * --restart-max-delay (RESTART_MAX_MS): an app that dies at start neither spins the agent nor makes it read the
 * channel (a request to serve, or a fetch) once per crash. Looked at when a round starts and
 * while the agent waits: for a change (the long poll included) and for a download, so an app
 * that dies meanwhile is not left down until the download ends. */
#define RESTART_FIRST_MS 1000
#define RESTART_MAX_MS 60000
#define RESTART_RESET_MS 10000

static void supervise(agent *g)
{
	char cur[AGENT_NAME_MAX], how[64] = "not started";
	int64_t now = mono_ms(), ran;
	if (stop_flag || !g->c.exec_cmd || !*g->st.committed || !agent_child_gone(&g->child))
		return;
	if (agent_current(cur, &g->c) < 0 || strcmp(cur, g->st.committed)) {
		bm_error_clear();
		return; /* a switch is under way: the health gate watches that app */
	}
	if (!g->restart_at) {
		ran = g->started_ms ? now - g->started_ms : RESTART_RESET_MS;
		if (ran >= RESTART_RESET_MS)
			g->restart_delay_ms = 0;
		else if (!g->restart_delay_ms)
			g->restart_delay_ms = RESTART_FIRST_MS;
		else if ((g->restart_delay_ms *= 2) > g->restart_max_ms)
			g->restart_delay_ms = g->restart_max_ms;
		g->restart_at = now + g->restart_delay_ms;
		if (g->child.exited && WIFEXITED(g->child.status))
			snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(g->child.status));
		else if (g->child.exited && WIFSIGNALED(g->child.status))
			snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(g->child.status));
		agent_log("warn", "the app is not running; starting it", "release=%s how=\"%s\" ran_ms=%lld restart_in_ms=%lld",
			  cur, how, g->started_ms ? (long long)ran : -1LL, (long long)g->restart_delay_ms);
		snprintf(g->app_down, sizeof(g->app_down), "the app of %s is not running (%s); it is started again%s", cur,
			 how, g->restart_delay_ms ? " after a pause (it died soon after its start)" : "");
		/* what its group left is stopped now, while its pid cannot have been given to another
		 * process (it was reaped just now), not when the pause ends */
		agent_stop(&g->child, &g->c);
	}
	if (now < g->restart_at)
		return;
	g->restart_at = 0;
	g->app_down[0] = '\0';
	if (agent_start(&g->child, &g->c, cur) < 0) {
		agent_log("error", "start failed", "error=\"%s\"", bm_error_last());
		bm_error_clear();
	}
	g->started_ms = mono_ms();
}

/* supervise, at most every 200 ms, never inside itself */
static void supervise_tick(void *arg)
{
	static int busy;
	agent *g = arg;
	int64_t now = mono_ms();
	if (busy || now - g->supervised_ms < 200)
		return;
	busy = 1;
	g->supervised_ms = now;
	supervise(g);
	busy = 0;
}

/* A file:// URL of the record: the path (the host part empty or "localhost"), or NULL. */
static const char *file_url_path(const char *url)
{
	if (strncmp(url, "file://", 7))
		return NULL;
	url += 7;
	if (!strncmp(url, "localhost/", 10))
		url += 9;
	return *url == '/' && url[1] ? url : NULL;
}

/* Copy the file of a file:// URL to `tmp` in this process (no `bootmeta-live agent-io`
 * process start, and no 13 MiB helper, for a local copy), then check its size and sha256
 * against the record (the copy is read back: libbootmeta has no streaming hash in its API).
 * 0, or -1 with the cause. */
static int copy_local(agent *g, unsigned long long *bytes, const char *src, const char *tmp,
		      const Bootmeta__V1__Binary *b, int64_t timeout_ms)
{
	char hex[65], buf[65536];
	uint64_t size = 0;
	int64_t end = mono_ms() + timeout_ms;
	struct stat st;
	int in, out = -1, error = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return bm_error_set(errno == ENOENT ? BM_ENOTFOUND : BM_EIO, "%s: %s", src, strerror(errno));
	if (fstat(in, &st) < 0) {
		error = bm_error_set(BM_EIO, "%s: %s", src, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = bm_error_set(BM_EVERIFY, "%s: not a regular file: refused", src);
		goto done;
	}
	if ((uint64_t)st.st_size != b->size) {
		error = bm_error_set(BM_EVERIFY, "%s: the file has %llu bytes, %s the %llu bytes the record says: refused", src,
				     (unsigned long long)st.st_size, (uint64_t)st.st_size > b->size ? "more than" : "fewer than",
				     (unsigned long long)b->size);
		goto done;
	}
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		error = bm_error_set(BM_EIO, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			error = bm_error_set(BM_EIO, "read %s: %s", src, strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		if (cli_write_all(out, buf, (size_t)r) < 0) {
			error = bm_error_set(BM_EIO, "write %s: %s", tmp, strerror(errno));
			goto done;
		}
		size += (uint64_t)r;
		if (size > b->size) {
			error = bm_error_set(BM_EVERIFY, "%s: the file grew to more than the %llu bytes the record says "
					     "while it was copied: refused", src, (unsigned long long)b->size);
			goto done;
		}
		if (stop_flag || mono_ms() > end) {
			error = bm_error_set(BM_EREMOTE, "%s: %s", src,
					     stop_flag ? "stopped" : "the copy took longer than --download-timeout");
			goto done;
		}
		supervise_tick(g);
	}
	if (fsync(out) < 0) {
		error = bm_error_set(BM_EIO, "fsync %s: %s", tmp, strerror(errno));
		goto done;
	}
	if ((error = bm_file_sha256(hex, &size, tmp)) < 0)
		goto done;
	if (size != b->size || strcmp(hex, b->sha256))
		error = bm_error_set(BM_EVERIFY, "%s: the file has sha256 %s, the record says %s: refused", src, hex,
				     b->sha256);
	else
		*bytes = size;
done:
	if (out >= 0 && close(out) < 0 && !error)
		error = bm_error_set(BM_EIO, "close %s: %s", tmp, strerror(errno));
	close(in);
	if (error < 0)
		unlink(tmp);
	return error;
}

/* Download the binary of `v` to `dest`, under a temporary name next to it: a file:// URL is
 * copied here (copy_local); the others go to `bootmeta-live agent-io fetch` (libbootmeta-net:
 * Range resume, retries, size cap, deadline, S3; size and sha256 checked). Then this process
 * checks the signature against the pinned keys (bm_binary_verify) and only then renames it:
 * only a file signed by a pinned key ever appears under DIR/releases. */
static int download(bm_buf *why, agent *g, view *v, const char *dest, const bm_binary_verify_options *vo)
{
	bm_binary_check chk = BM_BINARY_CHECK_INIT;
	bm_binary_verify_options o = *vo;
	bm_buf tmp = BM_BUF_INIT, rec = BM_BUF_INIT, out = BM_BUF_INIT;
	char tms[32], sms[32], url[2048] = "";
	const char *args[] = { "fetch", NULL, tms, sms, NULL };
	const char *slash = strrchr(dest, '/');
	unsigned long long bytes = 0, resumed = 0;
	unsigned int attempts = 0;
	size_t n, i;
	int error, others;

	bm_buf_printf(&tmp, "%.*s.%s.fetched", slash ? (int)(slash + 1 - dest) : 0, dest, slash ? slash + 1 : dest);
	if (!tmp.ptr) {
		error = bm_error_set(BM_ENOMEM, "out of memory");
		goto done;
	}
	if (!v->binary->n_urls) {
		error = bm_error_set(BM_EINVALID, "the binary record of %s has no URL", v->release);
		goto done;
	}
	/* file:// URLs first, in the record's order; the others (or when none of those has it) by
	 * the helper */
	for (i = 0, others = 0, error = -1; error < 0 && i < v->binary->n_urls; i++) {
		const char *path = file_url_path(v->binary->urls[i]);
		if (!path) {
			others = 1;
			continue;
		}
		attempts++;
		if ((error = copy_local(g, &bytes, path, tmp.ptr, v->binary, g->c.download_timeout_ms)) == 0)
			snprintf(url, sizeof(url), "%s", v->binary->urls[i]);
		else if (!stop_flag)
			agent_log("warn", "copy failed", "release=%s url=%s error=\"%s\"", v->release, v->binary->urls[i],
				  bm_error_last());
	}
	if (error < 0 && (stop_flag || !others))
		goto done;
	if (error < 0) {
		n = bootmeta__v1__binary__get_packed_size(v->binary);
		if ((error = bm_buf_grow(&rec, n + 1)) < 0)
			goto done;
		bootmeta__v1__binary__pack(v->binary, (uint8_t *)rec.ptr);
		args[1] = tmp.ptr;
		snprintf(tms, sizeof(tms), "%lld", (long long)g->c.download_timeout_ms);
		snprintf(sms, sizeof(sms), "%lld", (long long)g->c.stall_timeout_ms);
		agent_http_on_wait(supervise_tick, g);
		error = agent_io_run(&out, args, rec.ptr, n, g->c.download_timeout_ms + 30000, &stop_flag);
		agent_http_on_wait(NULL, NULL);
		if (error < 0)
			goto done;
		if (out.ptr && sscanf(out.ptr, "%llu %u %llu %2047s", &bytes, &attempts, &resumed, url) < 3) {
			error = bm_error_set(BM_EREMOTE, "bootmeta-live agent-io fetch: an answer this agent does not read");
			goto done;
		}
	}
	o.file_sha256 = v->binary->sha256; /* copy_local or agent-io checked the bytes against it */
	if ((error = bm_binary_verify(&chk, v->fs, tmp.ptr, &o)) < 0)
		goto done;
	if (rename(tmp.ptr, dest) < 0) {
		error = bm_error_set(BM_EIO, "rename %s: %s", dest, strerror(errno));
		goto done;
	}
	if ((error = agent_fsync_parent(dest)) < 0)
		goto done;
	agent_log("info", "downloaded", "release=%s bytes=%llu url=%s attempts=%u resumed_bytes=%llu", v->release, bytes,
		  url, attempts, resumed);
	agent_metrics_add(&g->metrics, &g->metrics.download_bytes, bytes);
done:
	if (error < 0) {
		bm_buf_printf(why, "%s", bm_error_last());
		if (tmp.ptr)
			unlink(tmp.ptr); /* a .part of it is kept for a resume; the whole file is not */
	}
	agent_metrics_add(&g->metrics, error < 0 ? &g->metrics.downloads_failed : &g->metrics.downloads_ok, 1);
	bm_error_clear();
	bm_binary_check_dispose(&chk);
	bm_buf_dispose(&tmp);
	bm_buf_dispose(&rec);
	bm_buf_dispose(&out);
	return error;
}

/* 1 when the entry `v` is the one that failed its health gate here last (state.json) */
static int failed_here(const agent *g, const view *v)
{
	return v->seq == g->st.failed_seq && !strcmp(v->release, g->st.failed_release);
}

/* 0: the host runs what the channel says, healthy; 1: it does not (reported). */
static int round_once(agent *g)
{
	view v;
	bm_binary_verify_options vo = BM_BINARY_VERIFY_OPTIONS_INIT;
	bm_binary_check chk = BM_BINARY_CHECK_INIT;
	bm_buf dest = BM_BUF_INIT, why = BM_BUF_INIT;
	char cur[AGENT_NAME_MAX];
	int rc = 1, have, sw;
	unsigned tries;

	memset(&v, 0, sizeof(v));
	if ((g->c.server ? view_server(&v, g) : view_repo(&v, g)) < 0) {
		agent_log("warn", "cannot read the channel", "error=\"%s\"", bm_error_last());
		bm_error_clear();
		stale_check(g);
		goto done;
	}
	if (g->has_ts_key && timestamp_check(&why, g, &v) < 0) {
		/* the long poll goes on from this view: a refused one is not asked for again at once */
		snprintf(g->since, sizeof(g->since), "%s", v.meta);
		report(g, BM_INSTANCE_FAILED, *g->st.committed ? g->st.committed : v.release, v.meta, why.ptr);
		goto done;
	}
	if (!g->fetch_failed) {
		g->fresh_ms = mono_ms();
		agent_metrics_read(&g->metrics, v.seq);
	}
	snprintf(g->since, sizeof(g->since), "%s", v.meta);
	if (g->fetch_failed && stale_check(g))
		goto done;
	snprintf(g->since, sizeof(g->since), "%s", v.meta);
	if (v.seq < g->st.verified_seq) {
		bm_buf_printf(&why, "channel %s entry #%llu is older than entry #%llu this agent verified: a replayed "
			      "or rolled-back view of the meta repo; ignored", g->c.channel, (unsigned long long)v.seq,
			      (unsigned long long)g->st.verified_seq);
		report(g, BM_INSTANCE_FAILED, v.release, v.meta, why.ptr);
		goto done;
	}
	/* the record must be of the release the entry names, for this host (a serve's answer
	 * could pair an entry with another release's or platform's binary, signed and all: the
	 * signature names project, release and digest, not the entry it is served with) */
	if (strcmp(v.binary->project, g->c.project) || strcmp(v.binary->release, v.release) ||
	    strcmp(v.binary->os, g->os) || strcmp(v.binary->arch, g->arch)) {
		bm_buf_printf(&why, "channel %s entry #%llu names release %s, but the binary offered (%.12s) is of %s release "
			      "%s for %s/%s, not of %s %s for %s/%s: refused (another release's or platform's binary)",
			      g->c.channel, (unsigned long long)v.seq, v.release, v.binary->sha256, v.binary->project,
			      v.binary->release, v.binary->os, v.binary->arch, g->c.project, v.release, g->os, g->arch);
		report(g, BM_INSTANCE_FAILED, v.release, v.meta, why.ptr);
		goto done;
	}
	if (agent_current(cur, &g->c) < 0) {
		agent_log("error", "install dir", "error=\"%s\"", bm_error_last());
		bm_error_clear();
		goto done;
	}
	supervise(g); /* the committed release's app that died is started again */
	if (!strcmp(v.release, g->st.committed) && !strcmp(cur, v.release)) {
		if (*g->app_down) { /* a crash loop is not healthy, though the release is the right one */
			report(g, BM_INSTANCE_FAILED, v.release, v.meta, g->app_down);
			goto done;
		}
		report(g, BM_INSTANCE_HEALTHY, v.release, v.meta, NULL);
		rc = 0;
		goto done;
	}
	if (failed_here(g, &v) &&
	    (!g->st.host_tries || g->st.host_tries > g->c.host_retries)) {
		rc = 1; /* failed its health gate already; wait for the channel to move */
		if (g->c.once || g->skip_said_seq != v.seq) { /* said once an entry, not every poll */
			if (g->st.host_tries)
				agent_log("info", "not tried again", "release=%s seq=%llu rounds=%u what=\"it and the release "
					  "before it failed their health gates here %u rounds in a row (--host-retries %u): "
					  "mend the host; it is tried again when the channel moves (promote it again to "
					  "retry)\"", v.release, (unsigned long long)v.seq, g->st.host_tries,
					  g->st.host_tries, g->c.host_retries);
			else
				agent_log("info", "not tried again", "release=%s seq=%llu what=\"it failed its health gate "
					  "here; it is tried again when the channel moves (promote it again to retry)\"",
					  v.release, (unsigned long long)v.seq);
		}
		g->skip_said_seq = v.seq;
		goto done;
	}
	if (agent_release_path(&dest, &g->c, v.release, v.binary) < 0)
		goto done;
	vo.project = g->c.project;
	vo.sha256 = v.binary->sha256;
	vo.keys = &g->keys;
	/* a file already there is used only after it verifies again */
	have = access(dest.ptr, F_OK) == 0 && bm_binary_verify(&chk, v.fs, dest.ptr, &vo) == 0;
	bm_error_clear();
	if (!have) {
		char dir[4200], *slash, again[AGENT_NAME_MAX + 16];
		/* trying again after this release failed here is not a new state: the failure
		 * stays the newest report until a round gets further (not two records a round
		 * while a server is down) */
		snprintf(again, sizeof(again), "%d\n%s\n", (int)BM_INSTANCE_FAILED, v.release);
		if (strncmp(g->last_report, again, strlen(again)))
			report(g, BM_INSTANCE_DOWNLOADING, v.release, v.meta, NULL);
		snprintf(dir, sizeof(dir), "%s", dest.ptr);
		if ((slash = strrchr(dir, '/')))
			*slash = '\0';
		if (agent_mkdir_p(dir) < 0) {
			bm_buf_printf(&why, "install dir: %s", bm_error_last());
			bm_error_clear();
			report(g, BM_INSTANCE_FAILED, v.release, v.meta, why.ptr);
			goto done;
		}
		bm_buf_puts(&why, "download: ");
		if (download(&why, g, &v, dest.ptr, &vo) < 0) {
			rmdir(dir); /* made for it: nothing left behind, unless a .part to resume */
			if (!stop_flag)
				report(g, BM_INSTANCE_FAILED, v.release, v.meta, why.ptr);
			goto done;
		}
		bm_buf_clear(&why);
		chmod(dest.ptr, 0755);
	}
	/* verified: only now does the agent remember this entry (verify, then persist) */
	if (v.seq > g->st.verified_seq)
		g->st.verified_seq = v.seq;
	snprintf(g->st.attempt, sizeof(g->st.attempt), "%s", v.release);
	if (agent_state_save(&g->st, &g->c) < 0) {
		bm_buf_printf(&why, "state: %s", bm_error_last());
		bm_error_clear();
		g->st.attempt[0] = '\0';
		report(g, BM_INSTANCE_FAILED, v.release, v.meta, why.ptr);
		goto done;
	}
	agent_log("info", "switching", "release=%s from=%s seq=%llu", v.release, *cur ? cur : "(none)",
		  (unsigned long long)v.seq);
	if ((sw = switch_start(&why, g, v.release)) == -2) {
		/* current did not move: not the release's fault; tried again next round */
		g->st.attempt[0] = '\0';
		save(g);
		report(g, BM_INSTANCE_FAILED, v.release, v.meta, why.ptr);
		goto done;
	}
	if (sw == 0) {
		report(g, BM_INSTANCE_INSTALLED, v.release, v.meta, NULL);
		if (agent_health_gate(&why, &g->child, &g->c, &stop_flag) < 0)
			goto unhealthy;
		snprintf(g->st.committed, sizeof(g->st.committed), "%s", v.release);
		g->st.attempt[0] = '\0';
		g->st.host_tries = 0;
		save(g);
		report(g, BM_INSTANCE_HEALTHY, v.release, v.meta, NULL);
		rc = 0;
		goto done;
	}
unhealthy:
	if (stop_flag)
		goto done;
	agent_log("warn", "not healthy", "release=%s why=\"%s\"", v.release, why.ptr ? why.ptr : "");
	tries = failed_here(g, &v) ? g->st.host_tries : 0;
	g->st.failed_seq = v.seq;
	snprintf(g->st.failed_release, sizeof(g->st.failed_release), "%s", v.release);
	g->st.host_tries = 0;
	g->st.attempt[0] = '\0';
	if (*g->st.committed) {
		bm_buf back = BM_BUF_INIT;
		int ok = try_release(&back, g, g->st.committed) == 0;
		char more[200] = "";
		if (!ok && !stop_flag) {
			/* the release before fails too: the host is at fault (a unit systemctl cannot
			 * restart, a port taken, a database down), not the release; it is tried again
			 * next round instead of waiting for a promotion nobody knows is needed, but
			 * not for ever: a release that breaks the host for the one before it too
			 * looks the same */
			g->st.host_tries = tries + 1;
			if (g->st.host_tries <= g->c.host_retries)
				snprintf(more, sizeof(more), " (so the host is at fault, not the release: it is tried again next "
					 "round, %u of --host-retries %u)", g->st.host_tries, g->c.host_retries);
			else
				snprintf(more, sizeof(more), " (so the host is at fault, or the release breaks the host: %u rounds "
					 "in a row; not tried again until the channel moves)", g->st.host_tries);
		} else if (!ok) {
			/* stopped: the round says nothing of the host; the count stands as it was */
			g->st.host_tries = tries;
			snprintf(more, sizeof(more), " (stopped before its health gate ended)");
		}
		save(g);
		bm_buf_printf(&why, "; back on %s%s%s%s", g->st.committed, ok ? "" : ", which is not healthy either: ",
			      ok ? "" : back.ptr ? back.ptr : "", more);
		agent_metrics_add(&g->metrics, &g->metrics.rollbacks, 1);
		report(g, BM_INSTANCE_ROLLED_BACK, g->st.committed, v.meta, why.ptr);
		bm_buf_dispose(&back);
	} else {
		agent_stop(&g->child, &g->c);
		agent_switch(&g->c, NULL);
		bm_error_clear();
		save(g);
		report(g, BM_INSTANCE_FAILED, v.release, v.meta, why.ptr);
	}
done:
	bm_binary_check_dispose(&chk);
	bm_buf_dispose(&dest);
	bm_buf_dispose(&why);
	view_dispose(&v);
	return rc;
}

#ifdef BM_AGENT_NATS
/* --nats: subscribe to the subjects serve publishes the channel's changes (and added binary
 * signatures) on. nats.c reconnects by itself; while it is down the poll goes on. */
static int nats_open(agent *g)
{
	natsOptions *o = NULL;
	natsStatus st;
	bm_buf subject = BM_BUF_INIT, prefix = BM_BUF_INIT, path = BM_BUF_INIT;
	int error = 0;
	if ((st = serve_nats_client_options(&o, g->nats_url, "bootmeta-agent", NULL, NULL)) != NATS_OK ||
	    ((st = natsConnection_Connect(&g->nc, o)) != NATS_OK && st != NATS_NOT_YET_CONNECTED)) {
		error = bm_error_set(BM_EREMOTE, "--nats %s: %s", g->nats_url, natsStatus_GetText(st));
		goto done;
	}
	bm_buf_printf(&path, "projects/%s/channels/%s/x.pb", g->c.project, g->c.channel);
	if (serve_nats_subject(&subject, &prefix, path.ptr) != 0) {
		error = bm_error_set(BM_EINVALID, "no NATS subject for %s", path.ptr);
		goto done;
	}
	if ((st = natsConnection_SubscribeSync(&g->nsub[0], g->nc, subject.ptr)) != NATS_OK ||
	    (st = natsConnection_SubscribeSync(&g->nsub[1], g->nc, SERVE_NATS_SUBJECT_ROOT "+binaries")) != NATS_OK) {
		error = bm_error_set(BM_EREMOTE, "--nats %s: subscribe %s: %s", g->nats_url, subject.ptr, natsStatus_GetText(st));
		goto done;
	}
	agent_log("info", "nats", "url=%s subject=%s", g->nats_url, subject.ptr);
done:
	natsOptions_Destroy(o);
	bm_buf_dispose(&subject);
	bm_buf_dispose(&prefix);
	bm_buf_dispose(&path);
	return error;
}

static void nats_close(agent *g)
{
	int i;
	for (i = 0; i < 2; i++)
		natsSubscription_Destroy(g->nsub[i]);
	natsConnection_Destroy(g->nc);
	g->nc = NULL;
	nats_Close();
}

/* One notice, or none within `ms`; drains what else is queued. 1 when a notice came. */
static int nats_wait(agent *g, int64_t ms)
{
	natsMsg *m = NULL;
	int got = 0, i;
	for (i = 0; i < 2; i++)
		while (natsSubscription_NextMsg(&m, g->nsub[i], i == 0 && !got ? ms : 0) == NATS_OK) {
			natsMsg_Destroy(m);
			m = NULL;
			got = 1;
		}
	if (!got && natsConnection_Status(g->nc) != NATS_CONN_STATUS_CONNECTED) {
		if (!g->nats_down_said)
			agent_log("warn", "nats is down; polling until it is back", "url=%s", g->nats_url);
		g->nats_down_said = 1;
	} else if (natsConnection_Status(g->nc) == NATS_CONN_STATUS_CONNECTED) {
		g->nats_down_said = 0;
	}
	return got;
}

#endif

/* Wait for the channel to change (a NATS notice, a long poll on the serve) or for the poll
 * interval. */
static void wait_change(agent *g)
{
	int64_t end = mono_ms() + g->c.poll_ms;
#ifdef BM_AGENT_NATS
	if (g->nc) {
		while (!stop_flag && mono_ms() < end) {
			if (nats_wait(g, 200))
				return;
			supervise_tick(g);
		}
		return;
	}
#endif
	if (g->c.server && *g->since) {
		bm_buf url = BM_BUF_INIT, body = BM_BUF_INIT;
		long status = 0;
		int rc;
		int64_t wait_s = g->c.poll_ms / 1000 > 0 ? g->c.poll_ms / 1000 : 1;
		if (wait_s > 300)
			wait_s = 300;
		bm_buf_printf(&url, "%s/v1/watch?prefix=projects/%s/channels/%s/&since=%s&wait=%llds", g->c.server,
			      g->c.project, g->c.channel, g->since, (long long)wait_s);
		agent_http_on_wait(supervise_tick, g); /* the app is watched during the long poll too */
		rc = http_call(&status, &body, g, url.ptr, NULL, (wait_s + 15) * 1000);
		agent_http_on_wait(NULL, NULL);
		if (rc == 0 && status == 200)
			goto out; /* an event, or the wait is over: read again */
		if (!stop_flag)
			agent_log("warn", "watch failed; polling", "status=%ld error=\"%s\"", status,
				  status ? "" : bm_error_last());
		bm_error_clear();
	out:
		bm_buf_dispose(&url);
		bm_buf_dispose(&body);
		if (status == 200)
			return;
	}
	while (!stop_flag && mono_ms() < end) {
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
		supervise_tick(g); /* the app died: started again (after its pause) */
	}
}

static void host_defaults(agent *g)
{
	struct utsname u;
	const char *m = "unknown";
	if (uname(&u) == 0) {
		m = u.machine;
		if (!*g->id) {
			size_t i;
			snprintf(g->id, sizeof(g->id), "%s", u.nodename);
			for (i = 0; g->id[i]; i++)
				if (g->id[i] >= 'A' && g->id[i] <= 'Z')
					g->id[i] = (char)(g->id[i] - 'A' + 'a');
		}
	}
	if (!*g->os)
		snprintf(g->os, sizeof(g->os), "linux");
	if (!*g->arch)
		snprintf(g->arch, sizeof(g->arch), "%s",
			 !strcmp(m, "x86_64") ? "amd64" : !strcmp(m, "aarch64") ? "arm64" : !strncmp(m, "armv7", 5) ? "arm" : m);
}

static int read_token(agent *g, const char *file)
{
	FILE *f;
	char line[512];
	size_t n;
	const char *env = getenv("BOOTMETA_TOKEN");
	if (!file) {
		if (env && *env && !(g->token = strdup(env)))
			return -1;
		return 0;
	}
	if (!(f = fopen(file, "re"))) {
		fprintf(stderr, "bootmeta: agent: --token-file %s: %s\n", file, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (!n) {
		fprintf(stderr, "bootmeta: agent: --token-file %s is empty\n", file);
		return -1;
	}
	return (g->token = strdup(line)) ? 0 : -1;
}

int live_agent(bm_cli *cli, int argc, char **argv)
{
	enum {
		O_PROJECT = 256, O_CHANNEL, O_ENV, O_DIR, O_ID, O_SERVER, O_EXEC, O_UNIT, O_HURL, O_HCMD, O_HTIMEOUT, O_BAKE,
		O_POLL, O_KEYS, O_ONCE, O_OS, O_ARCH, O_TOKEN, O_DLTIMEOUT, O_MAXAGE, O_NATS, O_METRICS, O_STALL,
		O_HOSTRETRIES, O_TSKEY, O_RESTARTMAX
	};
	static const cli_opt opts[] = {
		{ O_PROJECT, "project", 0, 1 },	    { O_CHANNEL, "channel", 0, 1 },	   { O_ENV, "env", 0, 1 },
		{ O_DIR, "install-dir", 0, 1 },	    { O_ID, "id", 0, 1 },		   { O_SERVER, "server", 0, 1 },
		{ O_EXEC, "exec", 0, 1 },	    { O_UNIT, "systemd-unit", 0, 1 },	   { O_HURL, "health-url", 0, 1 },
		{ O_HCMD, "health-cmd", 0, 1 },	    { O_HTIMEOUT, "health-timeout", 0, 1 }, { O_BAKE, "bake", 0, 1 },
		{ O_POLL, "poll", 0, 1 },	    { O_KEYS, "trusted-keys", 0, 1 },	   { O_ONCE, "once", 0, 0 },
		{ O_OS, "os", 0, 1 },		    { O_ARCH, "arch", 0, 1 },		   { O_TOKEN, "token-file", 0, 1 },
		{ O_DLTIMEOUT, "download-timeout", 0, 1 }, { O_MAXAGE, "max-meta-age", 0, 1 },
		{ O_NATS, "nats", 0, 1 },	    { O_METRICS, "metrics-listen", 0, 1 },
		{ O_STALL, "stall-timeout", 0, 1 }, { O_HOSTRETRIES, "host-retries", 0, 1 },
		{ O_TSKEY, "timestamp-key", 0, 1 }, { O_RESTARTMAX, "restart-max-delay", 0, 1 }, CLI_OPT_END,
	};
	agent g;
	cli_args a;
	const char *keys_file = NULL, *token_file = NULL, *metrics_addr = NULL, *ts_key_file = NULL;
	struct sigaction sa;
	char cur[AGENT_NAME_MAX];
	int c, rc = BM_EXIT_FAIL;
	int64_t *dur;

	memset(&g, 0, sizeof(g));
	g.cli = cli;
	agent_metrics_init(&g.metrics, &g.c, g.id, &stop_flag);
	g.c.health_timeout_ms = 60000;
	g.c.bake_ms = 10000;
	g.c.poll_ms = 30000;
	g.c.download_timeout_ms = 600000;
	g.c.stall_timeout_ms = 30000;
	g.c.stop_timeout_ms = 10000;
	g.c.host_retries = 5;
	g.restart_max_ms = RESTART_MAX_MS;
	g.fresh_ms = mono_ms();
	cli_args_init(&a, cli, argc, argv, opts, agent_usage);
	while ((c = cli_args_next(&a)) > 0) {
		dur = NULL;
		switch (c) {
		case O_PROJECT: g.c.project = a.value; break;
		case O_CHANNEL: g.c.channel = a.value; break;
		case O_ENV: g.c.env = a.value; break;
		case O_DIR: g.c.dir = a.value; break;
		case O_ID: snprintf(g.id, sizeof(g.id), "%s", a.value); break;
		case O_SERVER: g.c.server = a.value; break;
		case O_EXEC: g.c.exec_cmd = a.value; break;
		case O_UNIT: g.c.unit = a.value; break;
		case O_HURL: g.c.health_url = a.value; break;
		case O_HCMD: g.c.health_cmd = a.value; break;
		case O_KEYS: keys_file = a.value; break;
		case O_ONCE: g.c.once = 1; break;
		case O_OS: snprintf(g.os, sizeof(g.os), "%s", a.value); break;
		case O_ARCH: snprintf(g.arch, sizeof(g.arch), "%s", a.value); break;
		case O_TOKEN: token_file = a.value; break;
		case O_HTIMEOUT: dur = &g.c.health_timeout_ms; break;
		case O_BAKE: dur = &g.c.bake_ms; break;
		case O_POLL: dur = &g.c.poll_ms; break;
		case O_DLTIMEOUT: dur = &g.c.download_timeout_ms; break;
		case O_STALL: dur = &g.c.stall_timeout_ms; break;
		case O_MAXAGE: dur = &g.max_meta_age_ms; break;
		case O_RESTARTMAX: dur = &g.restart_max_ms; break;
		case O_NATS: g.nats_url = a.value; break;
		case O_METRICS: metrics_addr = a.value; break;
		case O_TSKEY: ts_key_file = a.value; break;
		case O_HOSTRETRIES: {
			unsigned long long n;
			if (live_parse_uint(&n, a.value, 1000) < 0)
				return cli_args_fail(&a, "--host-retries %s: give a count from 0 to 1000", a.value);
			g.c.host_retries = (unsigned)n;
			break;
		}
		}
		if (dur && parse_duration(dur, a.value) < 0)
			return cli_args_fail(&a, "%s %s: give a duration (60s, 500ms, 2m)", a.spelled, a.value);
	}
	if (c < 0)
		return CLI_ARGS_EXIT(c);
	if (a.npos)
		return cli_args_fail(&a, "agent takes no operands");
	if (!g.c.project || !g.c.channel || !g.c.env || !g.c.dir)
		return cli_args_fail(&a, "give --project, --channel, --env and --install-dir");
	if (!keys_file)
		return cli_args_fail(&a, "give --trusted-keys FILE: the keys a binary must be signed by (pinned on "
					 "this host; the meta server alone cannot make it run a binary)");
	if (g.c.exec_cmd && g.c.unit)
		return cli_args_fail(&a, "--exec and --systemd-unit: choose one way to run the app");
	if (g.c.health_url && g.c.health_cmd)
		return cli_args_fail(&a, "--health-url and --health-cmd: choose one health check");
	if (g.c.once && g.c.exec_cmd)
		return cli_args_fail(&a, "--once with --exec would leave the app without its supervisor: use "
					 "--systemd-unit, or no runner (another supervisor restarts the app)");
#ifndef BM_AGENT_NATS
	if (g.nats_url)
		return cli_args_fail(&a, "--nats: this bootmeta-agent has no NATS client; run `bootmeta agent --nats ...` "
					 "(it runs bootmeta-live, which has nats.c)");
#endif
	if (g.restart_max_ms < RESTART_FIRST_MS)
		return cli_args_fail(&a, "--restart-max-delay: give 1s or more (the first pause is 1s)");
	if (ts_key_file && !g.c.server)
		return cli_args_fail(&a, "--timestamp-key needs --server URL: only serve signs when it answered (a "
					 "clone's view has no signed time)");
	if (ts_key_file && !g.max_meta_age_ms)
		g.max_meta_age_ms = 300000; /* 5 minutes */
	if (g.c.stall_timeout_ms < 1000)
		return cli_args_fail(&a, "--stall-timeout: give 1s or more (the transfer library counts whole seconds)");
	if (g.c.poll_ms < 100)
		g.c.poll_ms = 100;
	if (bm_project_name_check(g.c.project) < 0 || bm_name_validate(g.c.channel, BM_NAME_CHANNEL) < 0 ||
	    bm_name_validate(g.c.env, BM_NAME_ENV) < 0) {
		fprintf(stderr, "bootmeta: agent: %s\n", bm_error_last());
		return BM_EXIT_USAGE;
	}
	host_defaults(&g);
	if (bm_name_validate(g.id, BM_NAME_INSTANCE) < 0) {
		fprintf(stderr, "bootmeta: agent: instance id \"%s\": %s; give --id\n", g.id, bm_error_last());
		return BM_EXIT_USAGE;
	}
	if (bm_trusted_keys_add_file(&g.keys, keys_file) < 0) {
		fprintf(stderr, "bootmeta: agent: --trusted-keys %s: %s\n", keys_file, bm_error_last());
		goto done;
	}
	if (ts_key_file) {
		if (cli_pubkey_read(&g.ts_key, ts_key_file) < 0) {
			fprintf(stderr, "bootmeta: agent: --timestamp-key: %s (give serve's minisign public key file)\n",
				bm_error_last());
			goto done;
		}
		g.has_ts_key = 1;
	}
	if (read_token(&g, token_file) < 0)
		goto done;
	if (agent_mkdir_p(g.c.dir) < 0 || access(g.c.dir, W_OK) < 0) {
		fprintf(stderr, "bootmeta: agent: --install-dir %s is not a folder this agent can write: %s\n", g.c.dir,
			bm_error_last() ? bm_error_last() : strerror(errno));
		goto done;
	}
	if (!g.c.server) {
		if (live_open(&g.store, cli) < 0) {
			fprintf(stderr, "bootmeta: agent: %s (give --server URL or --repo PATH)\n", bm_error_last());
			goto done;
		}
		cli_write_options(&g.wopts, cli);
		if (!g.wopts.actor) {
			static char actor[AGENT_NAME_MAX + 64];
			snprintf(actor, sizeof(actor), "bootmeta agent <agent@%s>", g.id);
			g.wopts.actor = actor;
		}
	}
	if (agent_state_load(&g.st, &g.c) < 0) {
		fprintf(stderr, "bootmeta: agent: %s\n", bm_error_last());
		goto done;
	}
	agent_metrics_committed(&g.metrics, g.st.committed);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (metrics_addr && agent_metrics_start(&g.metrics, metrics_addr) < 0) {
		fprintf(stderr, "bootmeta: agent: %s\n", bm_error_last());
		goto done;
	}

	/* pick up where a previous run stopped: a switch that was not committed goes back */
	if (agent_current(cur, &g.c) < 0) {
		fprintf(stderr, "bootmeta: agent: %s\n", bm_error_last());
		goto done;
	}
	if (*g.st.attempt || (*cur && strcmp(cur, g.st.committed))) {
		agent_log("warn", "resuming: the last switch was not committed", "current=%s committed=%s",
			  *cur ? cur : "(none)", *g.st.committed ? g.st.committed : "(none)");
		agent_switch(&g.c, *g.st.committed ? g.st.committed : NULL);
		g.st.attempt[0] = '\0';
		save(&g);
		bm_error_clear();
	}
	agent_stop(&g.child, &g.c); /* an app a killed agent left */
	if (g.c.exec_cmd && *g.st.committed) {
		g.started_ms = mono_ms();
		agent_start(&g.child, &g.c, g.st.committed);
	}
	agent_log("info", "agent", "project=%s channel=%s env=%s id=%s os=%s arch=%s source=%s committed=%s", g.c.project,
		  g.c.channel, g.c.env, g.id, g.os, g.arch, g.c.server ? g.c.server : bm_store_path(g.store),
		  *g.st.committed ? g.st.committed : "(none)");
	if (g.c.once) {
		rc = round_once(&g) == 0 ? BM_EXIT_OK : BM_EXIT_FAIL;
		goto done;
	}
#ifdef BM_AGENT_NATS
	if (g.nats_url && nats_open(&g) < 0) {
		agent_log("warn", "nats not used; polling", "error=\"%s\"", bm_error_last());
		bm_error_clear();
		nats_close(&g);
	}
#endif
	while (!stop_flag) {
		round_once(&g);
		if (!stop_flag)
			wait_change(&g);
	}
	agent_stop(&g.child, &g.c);
	agent_log("info", "stopped", NULL);
	rc = BM_EXIT_OK;
done:
	stop_flag = 1; /* the metrics thread ends */
	agent_metrics_stop(&g.metrics);
#ifdef BM_AGENT_NATS
	if (g.nc || g.nats_url)
		nats_close(&g);
#endif
	bm_trusted_keys_dispose(&g.keys);
	bm_store_free(g.store);
	free(g.token);
	return rc;
}
