/* serve_hooks_out.c: webhooks out of `bootmeta serve`. The subscriptions are records of the
 * meta repo (hooks/<id>/, include/bootmeta/webhook.h), read at start and again whenever a
 * commit changes hooks/; their secrets are decrypted with --identity.
 *
 * Off the request path, always:
 *  - the hub's commit hook only copies the commit (prev, next, changed paths) into a bounded
 *    queue (full: the oldest is dropped and counted) and returns;
 *  - one dispatcher thread takes each commit, re-reads the subscriptions when hooks/ changed,
 *    and for every subscription whose prefix the commit touches builds the event a watcher of
 *    that prefix gets (serve_event_json) and queues it for that subscription (bounded too);
 *  - one sender thread per subscription POSTs its deliveries in order with libcurl, signed
 *    (X-Hub-Signature-256: sha256=HMAC of the body with the secret), with X-Bootmeta-Delivery
 *    (the same id on every attempt) and X-Bootmeta-Event: commit; a connect and a total
 *    timeout on every call. A failure (no answer, not 2xx) is retried after a growing pause
 *    (backoff, doubling) up to --hook-attempts, then the delivery is given up: logged,
 *    counted, and the next one goes. A slow or dead receiver holds up only its own queue.
 * The last HOOK_LOG attempts of each subscription are kept for GET /v1/hooks/{id}/deliveries,
 * in memory and in STATE/hooks/<id>.attempts (so they outlive a restart).
 *
 * Nothing is lost by a restart: each subscription has a cursor in serve's state folder
 * (--state-dir, default <git dir>/bootmeta-serve; hooks/<id>: the commit up to which every
 * delivery is done, delivered or given up), moved on after each delivery. At start a
 * subscription whose cursor is behind main gets one catch-up delivery from the cursor to
 * main (the event a watcher resuming from that commit gets). A delivery's id is derived from
 * the subscription and the commits it spans, so a receiver that got it before the restart
 * sees the same X-Bootmeta-Delivery again and can drop it (at least once, never lost). */
#include "serve.h"
#include "serve_hook.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COMMIT_QUEUE_MAX 1024 /* commits waiting for the dispatcher */
#define SUB_QUEUE_MAX 256     /* deliveries waiting per subscription */
#define HOOK_LOG 100          /* attempts remembered per subscription */
#define BACKOFF_MAX_MS (10 * 60 * 1000)

enum { HR_OK, HR_RETRY, HR_FAILED, HR_DROPPED, HR_N };
static const char *const r_names[HR_N] = { "ok", "retry", "failed", "dropped" };

typedef struct cq_item {
	struct cq_item *next;
	bm_oid prev, next_c;
	int has_prev;
	int truncated; /* paths holds only the first SERVE_CHANGED_MAX */
	bm_strlist paths;
} cq_item;

typedef struct delivery {
	struct delivery *next;
	char id[37];
	char commit[BM_OID_HEXSZ + 1];
	bm_buf body;
} delivery;

typedef struct {
	char delivery[37];
	char commit[BM_OID_HEXSZ + 1];
	unsigned attempt;
	int64_t time_ms;
	long status;
	double dur_ms;
	int result;
	int64_t next_ms; /* when the next attempt is due (retry), else 0 */
	char error[200];
} attempt;

typedef struct sub {
	struct sub *next;
	struct serve_hooks_out *o;
	char id[BM_WEBHOOK_ID_LEN + 1];
	char *url, *prefix;
	bm_buf secret;
	char *error;           /* why it does not deliver (no identity, cannot decrypt) */
	pthread_t th;
	int started, stop;
	pthread_cond_t cond;
	delivery *qhead, *qtail;
	size_t qlen;
	attempt log[HOOK_LOG];
	size_t log_start, log_len;
	unsigned long long n[HR_N];
	CURL *curl;
	char *cursor_file;     /* STATE/hooks/<id>; NULL without a state folder */
	int cursor_warned;
	char *log_file;        /* STATE/hooks/<id>.attempts; NULL without a state folder */
	int log_fd;            /* open for appends, or -1 (the sender's) */
	size_t log_lines;      /* lines in it and queued (it is rewritten at LOG_FILE_LINES) */
	bm_buf log_pending;    /* lines not written yet (o->lock) */
	int log_rewrite;       /* the next flush writes the file from the ring (o->lock) */
	int log_warned;
} sub;

struct serve_hooks_out {
	serve *s;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	cq_item *qhead, *qtail;
	size_t qlen;
	int stop;
	pthread_t dispatcher;
	int started;
	bm_store *st;
	bm_age_identities *ids;
	sub *subs;
	size_t nsubs;
	bm_oid hooks_tree;     /* the hooks/ tree the subscriptions were read from */
	int has_hooks_tree;
	bm_oid last;           /* the commit the subscriptions were last checked at */
	int has_last;
	char *state;           /* STATE/hooks, made at start; NULL: no cursors (said at start) */
	atomic_ullong n[HR_N], commits_dropped;
};

/* ---- the attempt log ---- */

/* On disk, one line per attempt, appended without fsync (a crash may lose the last lines: it
 * is a record for people, not a cursor), rewritten with the last HOOK_LOG attempts when it
 * has LOG_FILE_LINES:
 *   a1 TAB delivery TAB commit TAB attempt TAB timeMs TAB status TAB durationMs TAB result TAB
 *   nextAttemptMs TAB error (control characters as spaces) LF
 * A line that does not parse (another version, a torn write) is skipped when it is read. */
#define LOG_FILE_LINES (4 * HOOK_LOG)
#define LOG_LINE_VERSION "a1"

static attempt *ring_push(sub *u)
{
	attempt *a;
	if (u->log_len == HOOK_LOG) {
		u->log_start = (u->log_start + 1) % HOOK_LOG;
		u->log_len--;
	}
	a = &u->log[(u->log_start + u->log_len++) % HOOK_LOG];
	memset(a, 0, sizeof(*a));
	return a;
}

static void attempt_line(bm_buf *b, const attempt *a)
{
	const char *e;
	bm_buf_printf(b, LOG_LINE_VERSION "\t%s\t%s\t%u\t%lld\t%ld\t%.3f\t%s\t%lld\t", a->delivery, a->commit, a->attempt,
		      (long long)a->time_ms, a->status, a->dur_ms, r_names[a->result], (long long)a->next_ms);
	for (e = a->error; *e; e++)
		bm_buf_putc(b, (unsigned char)*e < 0x20 || *e == 0x7f ? ' ' : *e);
	bm_buf_putc(b, '\n');
}

static int hex_ok(const char *s, size_t n, int dashes)
{
	size_t i;
	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (dashes && s[i] == '-')))
			return 0;
	return 1;
}

/* one line (no LF) into `a`; -1 when it does not parse */
static int attempt_parse(attempt *a, char *line)
{
	char *f[10], *p = line, *end;
	long long ll;
	int i, r;
	for (i = 0; i < 9; i++) {
		f[i] = p;
		if (!(p = strchr(p, '\t')))
			return -1;
		*p++ = '\0';
	}
	f[9] = p;
	memset(a, 0, sizeof(*a));
	if (strcmp(f[0], LOG_LINE_VERSION) || !hex_ok(f[1], 36, 1) || !hex_ok(f[2], BM_OID_HEXSZ, 0))
		return -1;
	memcpy(a->delivery, f[1], sizeof(a->delivery));
	memcpy(a->commit, f[2], sizeof(a->commit));
	errno = 0;
	ll = strtoll(f[3], &end, 10);
	if (*end || end == f[3] || ll < 0 || ll > 1000)
		return -1;
	a->attempt = (unsigned)ll;
	a->time_ms = strtoll(f[4], &end, 10);
	if (*end || end == f[4])
		return -1;
	a->status = strtol(f[5], &end, 10);
	if (*end || end == f[5])
		return -1;
	a->dur_ms = strtod(f[6], &end);
	if (*end || end == f[6] || !isfinite(a->dur_ms) || a->dur_ms < 0)
		return -1;
	for (r = 0; r < HR_N && strcmp(f[7], r_names[r]); r++)
		;
	if (r == HR_N)
		return -1;
	a->result = r;
	a->next_ms = strtoll(f[8], &end, 10);
	if (*end || end == f[8] || errno)
		return -1;
	snprintf(a->error, sizeof(a->error), "%s", f[9]);
	return 0;
}

static void log_warn(sub *u, int err, const char *what)
{
	if (!u->log_warned) /* once until it works again */
		serve_log("warn", "webhook", "hook=%s file=%s error=\"%s\" what=\"%s\"", u->id, u->log_file, strerror(err),
			  what);
	u->log_warned = 1;
}

/* The file replaced by `lines` (temp file, rename): 0, or -1 (warned). The appends' fd, of
 * the file replaced, is closed. */
static int log_replace(sub *u, const bm_buf *lines)
{
	bm_buf tmp = BM_BUF_INIT;
	int fd, ok = 0, err = 0;
	if (bm_buf_printf(&tmp, "%s.tmp", u->log_file) < 0)
		goto done;
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		err = errno;
		goto done;
	}
	ok = !lines->size || write(fd, lines->ptr, lines->size) == (ssize_t)lines->size;
	if (!ok)
		err = errno ? errno : ENOSPC;
	if (close(fd) < 0 && ok) {
		ok = 0;
		err = errno;
	}
	if (ok && rename(tmp.ptr, u->log_file) < 0) {
		ok = 0;
		err = errno;
	}
	if (!ok)
		unlink(tmp.ptr);
done:
	bm_buf_dispose(&tmp);
	if (!ok) {
		log_warn(u, err ? err : ENOMEM, "the attempts are not saved");
		return -1;
	}
	if (u->log_fd >= 0)
		close(u->log_fd);
	u->log_fd = -1;
	u->log_warned = 0;
	return 0;
}

/* the ring's attempts as lines (o->lock held, or nothing else sees `u`) */
static void ring_lines(bm_buf *out, const sub *u)
{
	size_t i;
	for (i = 0; i < u->log_len; i++)
		attempt_line(out, &u->log[(u->log_start + i) % HOOK_LOG]);
}

/* The attempts of an earlier run, before the sender starts (nothing else sees `u` yet). A
 * file past LOG_FILE_LINES, or whose last line has no end (a write cut short), is written
 * again from what was read. */
static void log_load(sub *u)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	attempt t;
	int torn = 0;
	FILE *f;
	if (!u->log_file || !(f = fopen(u->log_file, "r")))
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		u->log_lines++;
		torn = line[n - 1] != '\n';
		if (!torn)
			line[--n] = '\0';
		/* longer than any line serve writes, or with a NUL in it (a torn write): skipped */
		if (torn || n > 1024 || strlen(line) != (size_t)n || attempt_parse(&t, line) < 0)
			continue;
		*ring_push(u) = t;
	}
	free(line);
	fclose(f);
	if (torn || u->log_lines > LOG_FILE_LINES) {
		bm_buf b = BM_BUF_INIT;
		ring_lines(&b, u);
		if (log_replace(u, &b) == 0)
			u->log_lines = u->log_len;
		bm_buf_dispose(&b);
	}
}

/* The lines log_attempt queued, onto the file: the sender thread only (it alone writes the
 * file), with o->lock NOT held, so no file operation holds up a commit. A failed append (a
 * torn line, maybe) has the next one write the file again from the ring. */
static void log_flush(sub *u)
{
	struct serve_hooks_out *o = u->o;
	bm_buf lines = BM_BUF_INIT;
	int rewrite;
	if (!u->log_file)
		return;
	pthread_mutex_lock(&o->lock);
	rewrite = u->log_rewrite;
	if (rewrite) {
		ring_lines(&lines, u);
		bm_buf_clear(&u->log_pending);
		u->log_rewrite = 0;
		u->log_lines = u->log_len;
	} else {
		bm_buf t = lines;
		lines = u->log_pending;
		u->log_pending = t;
	}
	pthread_mutex_unlock(&o->lock);
	if (rewrite) {
		if (log_replace(u, &lines) < 0) {
			pthread_mutex_lock(&o->lock);
			u->log_rewrite = 1;
			pthread_mutex_unlock(&o->lock);
		}
	} else if (lines.size) {
		int err = 0;
		if (u->log_fd < 0 && (u->log_fd = open(u->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
			err = errno;
		else if (write(u->log_fd, lines.ptr, lines.size) != (ssize_t)lines.size)
			err = errno ? errno : ENOSPC;
		if (err) {
			log_warn(u, err, "the attempts are not saved");
			pthread_mutex_lock(&o->lock);
			u->log_rewrite = 1;
			pthread_mutex_unlock(&o->lock);
		} else {
			u->log_warned = 0;
		}
	}
	bm_buf_dispose(&lines);
}

static void log_attempt(sub *u, const delivery *d, unsigned n, long status, double dur_ms, int result,
			int64_t next_ms, const char *error)
{
	attempt *a = ring_push(u);
	memcpy(a->delivery, d->id, sizeof(a->delivery));
	memcpy(a->commit, d->commit, sizeof(a->commit));
	a->attempt = n;
	a->time_ms = serve_now_ms();
	a->status = status;
	a->dur_ms = dur_ms;
	a->result = result;
	a->next_ms = next_ms;
	snprintf(a->error, sizeof(a->error), "%s", error ? error : "");
	u->n[result]++;
	atomic_fetch_add(&u->o->n[result], 1);
	/* queued for the file (log_flush); o->lock is held */
	if (u->log_file) {
		if (u->log_lines + 1 > LOG_FILE_LINES) {
			u->log_rewrite = 1;
		} else {
			attempt_line(&u->log_pending, a);
			u->log_lines++;
		}
	}
}

static void delivery_free(delivery *d)
{
	if (!d)
		return;
	bm_buf_dispose(&d->body);
	free(d);
}

/* ---- the cursor of a subscription (serve's state folder) ---- */

/* make `path` and the folders above it that are missing (0700: serve's own) */
static int mkdirs_private(char *path)
{
	char *p;
	for (p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		{
			char c = *p;
			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				*p = c;
				return -1;
			}
			*p = c;
		}
		if (!*p)
			return 0;
	}
}

/* o->state: STATE/hooks, STATE from --state-dir or <git dir>/bootmeta-serve */
static int state_open(struct serve_hooks_out *o)
{
	bm_buf b = BM_BUF_INIT;
	struct stat sb;
	int e = 0;
	if (o->s->state_dir) {
		e = bm_buf_printf(&b, "%s/hooks", o->s->state_dir);
	} else if ((e = bm_buf_printf(&b, "%s/.git", bm_store_path(o->st))) == 0) {
		/* a repo with a work tree: its .git folder; a bare one: itself */
		if (stat(b.ptr, &sb) < 0 || !S_ISDIR(sb.st_mode))
		{
			bm_buf_clear(&b);
			e = bm_buf_puts(&b, bm_store_path(o->st));
		}
		if (!e)
			e = bm_buf_puts(&b, "/bootmeta-serve/hooks");
	}
	if (e < 0 || mkdirs_private(b.ptr) < 0) {
		serve_log("error", "webhook", "state=%s error=\"%s\" what=\"serve's state folder cannot be made: give "
			  "--state-dir a folder serve may write\"", b.ptr ? b.ptr : "?", e < 0 ? "out of memory" : strerror(errno));
		bm_buf_dispose(&b);
		return -1;
	}
	o->state = bm_buf_detach(&b);
	return 0;
}

/* 1 and the commit when the subscription has a cursor, 0 when it has none */
static int cursor_load(bm_oid *out, const sub *u)
{
	char hex[BM_OID_HEXSZ + 2];
	FILE *f;
	size_t n;
	if (!u->cursor_file || !(f = fopen(u->cursor_file, "r")))
		return 0;
	n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	hex[n] = '\0';
	if (n && hex[n - 1] == '\n')
		hex[--n] = '\0';
	if (n != BM_OID_HEXSZ || bm_oid_parse(out, hex) < 0) {
		bm_error_clear();
		serve_log("warn", "webhook", "hook=%s file=%s what=\"the cursor does not parse: deliveries start from main\"",
			  u->id, u->cursor_file);
		return 0;
	}
	return 1;
}

/* the cursor at `hex`: written to a temp file and renamed over (not fsync'd: a cursor that
 * comes back older after a crash means a delivery goes twice, with the same id) */
static void cursor_save(sub *u, const char *hex)
{
	char tmp[4096];
	FILE *f;
	int ok;
	if (!u->cursor_file || snprintf(tmp, sizeof(tmp), "%s.tmp", u->cursor_file) >= (int)sizeof(tmp))
		return;
	if ((f = fopen(tmp, "w"))) {
		ok = fprintf(f, "%s\n", hex) > 0;
		ok = (fclose(f) == 0) && ok;
		if (ok && rename(tmp, u->cursor_file) == 0) {
			u->cursor_warned = 0;
			return;
		}
		unlink(tmp);
	}
	if (!u->cursor_warned) /* once until it works again: the log is not flooded */
		serve_log("warn", "webhook", "hook=%s file=%s error=\"%s\" what=\"the cursor is not saved: a restart "
			  "re-delivers from the last saved one\"", u->id, u->cursor_file, strerror(errno));
	u->cursor_warned = 1;
}

/* The delivery id of the event from `prev` (NULL: none) to `next` for subscription `id`: a
 * UUID (version 8, RFC 9562) from sha256 of the three, the same after a restart. */
static void delivery_id(char out[37], const char *id, const bm_oid *prev, const bm_oid *next)
{
	crypto_hash_sha256_state st;
	unsigned char h[32];
	char hex[65];
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)"bootmeta-delivery\0", 18);
	crypto_hash_sha256_update(&st, (const unsigned char *)id, strlen(id));
	if (prev)
		crypto_hash_sha256_update(&st, prev->id, sizeof(prev->id));
	crypto_hash_sha256_update(&st, next->id, sizeof(next->id));
	crypto_hash_sha256_final(&st, h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x80);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	bm_hex_encode(hex, h, 16);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---- one POST ---- */

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static int progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	sub *u = ud;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	/* the stop flags are read without the lock: a late look only delays the stop */
	return __atomic_load_n(&u->stop, __ATOMIC_RELAXED) || atomic_load(&u->o->s->stopping);
}

/* 0 when the receiver answered 2xx; else -1 with `error` set. `status` 0 when no answer. */
static int post(sub *u, const delivery *d, long *status, char *error, size_t errlen)
{
	serve *s = u->o->s;
	struct curl_slist *h = NULL;
	char sig[SERVE_HOOK_SIG_LEN + 1], line[SERVE_HOOK_SIG_LEN + 64];
	char cerr[CURL_ERROR_SIZE];
	CURLcode rc;
	int ok = -1;

	*status = 0;
	error[0] = '\0';
	cerr[0] = '\0';
	if (!u->curl && !(u->curl = curl_easy_init())) {
		snprintf(error, errlen, "libcurl: cannot make a handle");
		return -1;
	}
	curl_easy_reset(u->curl);
	serve_hook_sign(sig, u->secret.ptr, u->secret.size, d->body.ptr, d->body.size);
	snprintf(line, sizeof(line), "X-Hub-Signature-256: %s", sig);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Bootmeta-Delivery: %s", d->id);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "X-Bootmeta-Event: commit");
	snprintf(line, sizeof(line), "X-Bootmeta-Commit: %s", d->commit);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "Expect:");
	if (!h) {
		snprintf(error, errlen, "out of memory");
		return -1;
	}
	curl_easy_setopt(u->curl, CURLOPT_URL, u->url);
	curl_easy_setopt(u->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(u->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(u->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(u->curl, CURLOPT_POSTFIELDS, d->body.ptr ? d->body.ptr : "");
	curl_easy_setopt(u->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body.size);
	curl_easy_setopt(u->curl, CURLOPT_USERAGENT, "bootmeta-serve/" BM_VERSION);
	curl_easy_setopt(u->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->hook_timeout_ms < 5000 ? s->hook_timeout_ms : 5000));
	curl_easy_setopt(u->curl, CURLOPT_TIMEOUT_MS, (long)s->hook_timeout_ms);
	curl_easy_setopt(u->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(u->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(u->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(u->curl, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(u->curl, CURLOPT_XFERINFODATA, u);
	curl_easy_setopt(u->curl, CURLOPT_ERRORBUFFER, cerr);
	rc = curl_easy_perform(u->curl);
	if (rc != CURLE_OK) {
		snprintf(error, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(u->curl, CURLINFO_RESPONSE_CODE, status);
		if (*status >= 200 && *status < 300)
			ok = 0;
		else
			snprintf(error, errlen, "the receiver answered %ld", *status);
	}
	curl_easy_setopt(u->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(h);
	return ok;
}

/* Wait until `deadline_us` (monotonic) or a stop; lock held. 1 when stopped. */
static int pause_until(sub *u, int64_t deadline_us)
{
	struct serve_hooks_out *o = u->o;
	while (!u->stop && !atomic_load(&o->s->stopping)) {
		int64_t left = deadline_us - serve_mono_us();
		struct timespec ts;
		if (left <= 0)
			return 0;
		if (left > 100000)
			left = 100000; /* look at serve's stop flag every 0.1 s */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000000;
		ts.tv_nsec += (long)(left % 1000000) * 1000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&u->cond, &o->lock, &ts);
	}
	return 1;
}

static void *sender_main(void *arg)
{
	sub *u = arg;
	struct serve_hooks_out *o = u->o;
	serve *s = o->s;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		delivery *d;
		unsigned n;
		int finished;
		/* idle: a new delivery wakes it at once (dispatch signals), a stop within 0.1 s */
		while (!u->stop && !atomic_load(&s->stopping) && !u->qhead) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&u->cond, &o->lock, &ts);
		}
		if (u->stop || atomic_load(&s->stopping))
			break;
		d = u->qhead;
		u->qhead = d->next;
		if (!u->qhead)
			u->qtail = NULL;
		u->qlen--;
		finished = 0;
		for (n = 1;; n++) {
			char err[200];
			long status;
			int64_t t0 = serve_mono_us(), backoff_ms;
			int rc;
			double dur;
			pthread_mutex_unlock(&o->lock);
			log_flush(u); /* the attempts before this one */
			rc = post(u, d, &status, err, sizeof(err));
			dur = (double)(serve_mono_us() - t0) / 1000.0;
			pthread_mutex_lock(&o->lock);
			if (rc == 0) {
				log_attempt(u, d, n, status, dur, HR_OK, 0, NULL);
				serve_log("info", "webhook", "hook=%s delivery=%s commit=%.12s attempt=%u status=%ld dur_ms=%.3f", u->id,
					  d->id, d->commit, n, status, dur);
				finished = 1;
				break;
			}
			if (n >= s->hook_attempts) {
				log_attempt(u, d, n, status, dur, HR_FAILED, 0, err);
				serve_log("warn", "webhook-failed", "hook=%s delivery=%s commit=%.12s attempts=%u error=\"%s\" "
					  "what=\"given up\"", u->id, d->id, d->commit, n, err);
				finished = 1;
				break;
			}
			backoff_ms = (int64_t)s->hook_backoff_ms << (n - 1 < 20 ? n - 1 : 20);
			if (backoff_ms > BACKOFF_MAX_MS)
				backoff_ms = BACKOFF_MAX_MS;
			log_attempt(u, d, n, status, dur, HR_RETRY, serve_now_ms() + backoff_ms, err);
			serve_log("warn", "webhook-retry", "hook=%s delivery=%s commit=%.12s attempt=%u error=\"%s\" retry_ms=%lld",
				  u->id, d->id, d->commit, n, err, (long long)backoff_ms);
			pthread_mutex_unlock(&o->lock);
			log_flush(u);
			pthread_mutex_lock(&o->lock);
			if (pause_until(u, serve_mono_us() + backoff_ms * 1000))
				break;
		}
		if (finished) { /* (a stop in a pause leaves it to the next start) */
			pthread_mutex_unlock(&o->lock);
			log_flush(u);
			cursor_save(u, d->commit);
			pthread_mutex_lock(&o->lock);
		}
		delivery_free(d);
	}
	pthread_mutex_unlock(&o->lock);
	log_flush(u);
	return NULL;
}

/* ---- subscriptions ---- */

static void sub_free(sub *u)
{
	delivery *d, *nx;
	if (!u)
		return;
	for (d = u->qhead; d; d = nx) {
		nx = d->next;
		delivery_free(d);
	}
	if (u->curl)
		curl_easy_cleanup(u->curl);
	pthread_cond_destroy(&u->cond);
	bm_buf_dispose_secret(&u->secret);
	free(u->url);
	free(u->prefix);
	free(u->error);
	free(u->cursor_file);
	if (u->log_fd >= 0)
		close(u->log_fd);
	free(u->log_file);
	bm_buf_dispose(&u->log_pending);
	free(u);
}

/* Stop its sender (lock not held) and free it. */
static void sub_end(struct serve_hooks_out *o, sub *u)
{
	pthread_mutex_lock(&o->lock);
	u->stop = 1;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&o->lock);
	if (u->started)
		pthread_join(u->th, NULL);
	sub_free(u);
}

static void catch_up(struct serve_hooks_out *o, sub *u, const bm_oid *from, const bm_oid *to);

/* A live subscription for record `h`, read at commit `at`: a new one (no cursor yet) starts
 * at `at`; one with a cursor behind `at` first gets what it missed. */
static sub *sub_new(struct serve_hooks_out *o, const Bootmeta__V1__Webhook *h, const bm_oid *at)
{
	sub *u = calloc(1, sizeof(*u));
	bm_buf f = BM_BUF_INIT;
	bm_oid cur;
	if (!u)
		return NULL;
	u->o = o;
	u->log_fd = -1;
	memcpy(u->id, h->id, BM_WEBHOOK_ID_LEN);
	pthread_cond_init(&u->cond, NULL);
	if (!(u->url = strdup(h->url)) || !(u->prefix = strdup(h->prefix)) ||
	    (o->state && (bm_buf_printf(&f, "%s/%s", o->state, u->id) < 0 || !(u->cursor_file = bm_buf_detach(&f)) ||
			  bm_buf_printf(&f, "%s/%s.attempts", o->state, u->id) < 0 || !(u->log_file = bm_buf_detach(&f))))) {
		bm_buf_dispose(&f);
		sub_free(u);
		return NULL;
	}
	log_load(u);
	if (!o->ids) {
		u->error = strdup("serve has no --identity to decrypt the secret with: nothing is delivered");
	} else if (bm_webhook_secret(&u->secret, h, o->ids) < 0) {
		bm_buf m = BM_BUF_INIT;
		bm_buf_printf(&m, "%s: nothing is delivered", bm_error_last());
		u->error = bm_buf_detach(&m);
		bm_error_clear();
	}
	if (u->error) {
		serve_log("error", "webhook", "hook=%s url=\"%s\" error=\"%s\"", u->id, u->url, u->error);
		return u;
	}
	if (pthread_create(&u->th, NULL, sender_main, u) != 0) {
		u->error = strdup("cannot start its thread");
		return u;
	}
	u->started = 1;
	serve_log("info", "webhook", "hook=%s url=\"%s\" prefix=\"%s\" what=\"delivering\"", u->id, u->url, u->prefix);
	if (at) {
		char hex[BM_OID_HEXSZ + 1];
		if (!cursor_load(&cur, u)) {
			bm_oid_fmt(hex, at);
			cursor_save(u, hex);
		} else if (!bm_oid_equal(&cur, at)) {
			catch_up(o, u, &cur, at);
		}
	}
	return u;
}

/* The subscriptions as of `commit` (dispatcher thread, or start): new ones start, removed ones
 * stop. */
static int reload(struct serve_hooks_out *o, const bm_oid *commit)
{
	bm_fs *fs = NULL;
	bm_webhook_item *items = NULL;
	size_t n = 0, i;
	sub **pp, *gone = NULL, *u;
	int error = 0;

	if (bm_store_fs(&fs, o->st, commit) < 0 || bm_webhook_list(&items, &n, fs, 0) < 0) {
		serve_log("error", "webhook", "what=\"cannot read the subscriptions\" error=\"%s\"", bm_error_last());
		bm_error_clear();
		error = -1;
		goto done;
	}
	/* the ones that went */
	pthread_mutex_lock(&o->lock);
	for (pp = &o->subs; *pp;) {
		int keep = 0;
		for (i = 0; i < n && !keep; i++)
			keep = !strcmp(items[i].hook->id, (*pp)->id);
		if (keep) {
			pp = &(*pp)->next;
			continue;
		}
		u = *pp;
		*pp = u->next;
		u->next = gone;
		gone = u;
		o->nsubs--;
	}
	pthread_mutex_unlock(&o->lock);
	while ((u = gone)) {
		gone = u->next;
		serve_log("info", "webhook", "hook=%s what=\"removed: delivering stops\"", u->id);
		sub_end(o, u);
	}
	/* the new ones */
	for (i = 0; i < n; i++) {
		int have = 0;
		pthread_mutex_lock(&o->lock);
		for (u = o->subs; u && !have; u = u->next)
			have = !strcmp(u->id, items[i].hook->id);
		pthread_mutex_unlock(&o->lock);
		if (have || !(u = sub_new(o, items[i].hook, commit)))
			continue;
		pthread_mutex_lock(&o->lock);
		u->next = o->subs;
		o->subs = u;
		o->nsubs++;
		pthread_mutex_unlock(&o->lock);
	}
done:
	bm_webhook_list_free(items, n);
	bm_fs_free(fs);
	return error;
}

/* Re-read the subscriptions when `commit`'s hooks/ tree is not the one they came from:
 * 0, or -1 when they could not be read (logged; the next event checks again). */
static int maybe_reload(struct serve_hooks_out *o, const bm_oid *commit)
{
	bm_oid t;
	int has = bm_store_path_id(&t, o->st, commit, "hooks") == 0;
	bm_error_clear();
	if (has == o->has_hooks_tree && (!has || bm_oid_equal(&t, &o->hooks_tree)))
		return 0;
	if (reload(o, commit) < 0)
		return -1;
	o->has_hooks_tree = has;
	if (has)
		o->hooks_tree = t;
	return 0;
}

/* Checked at `commit` whatever it is: the dispatcher's own record of where it is. */
static void reload_at(struct serve_hooks_out *o, const bm_oid *commit)
{
	o->has_last = maybe_reload(o, commit) == 0;
	o->last = *commit;
}

static void enqueue(struct serve_hooks_out *o, sub *u, delivery *d);

/* 1 when the event of `c` may have changed hooks/: a path under it, or paths that may not
 * be all of them (none, a list the hub cut, or an event from nothing, which is how
 * main moved to another history appears), or an event that does not follow the last one
 * dispatched (commits between them were dropped: a full queue, no memory). Otherwise the
 * subscriptions stand, and no git read is needed (a look at a commit in a pack newer than
 * this thread's object database has seen rescans the pack folder). */
static int may_touch_hooks(const struct serve_hooks_out *o, const cq_item *c)
{
	size_t i;
	if (!c->has_prev || !c->paths.count || c->truncated)
		return 1;
	if (!o->has_last || !bm_oid_equal(&o->last, &c->prev))
		return 1;
	for (i = 0; i < c->paths.count; i++)
		if (!strncmp(c->paths.items[i], "hooks/", 6))
			return 1;
	return 0;
}

/* Queue the event of one commit for every subscription it concerns (dispatcher thread). Only
 * this thread adds or removes subscriptions, so it walks the list without the lock and takes
 * the lock only to queue (the event is built outside it: the hub never waits on git here). */
static void dispatch(struct serve_hooks_out *o, cq_item *c)
{
	sub *u;
	char hex[BM_OID_HEXSZ + 1];
	bm_oid_fmt(hex, &c->next_c);
	/* a failed read is tried again at the next event (it does not follow a "last") */
	o->has_last = !may_touch_hooks(o, c) || maybe_reload(o, &c->next_c) == 0;
	o->last = c->next_c;
	for (u = o->subs; u; u = u->next) {
		Bootmeta__V1__Webhook probe = BOOTMETA__V1__WEBHOOK__INIT;
		bm_strlist own = BM_STRLIST_INIT;
		const bm_strlist *paths = &c->paths;
		delivery *d;
		size_t i;
		int hit = 0, unread = 0;
		if (!u->started)
			continue;
		if (c->truncated && *u->prefix) {
			/* the list of all paths was cut: this prefix's own, from git */
			if (serve_paths_under(&own, o->st, c->has_prev ? &c->prev : NULL, &c->next_c, u->prefix) == 0) {
				paths = &own;
			} else {
				/* never dropped: a paths-only event ("truncated"), the receiver reads */
				serve_log("warn", "webhook", "hook=%s commit=%.12s error=\"%s\" what=\"its paths cannot be "
					  "listed: sent truncated\"", u->id, hex, bm_error_last());
				unread = hit = 1;
			}
			bm_error_clear();
		}
		probe.prefix = u->prefix;
		for (i = 0; i < paths->count && !hit; i++)
			hit = bm_webhook_matches(&probe, paths->items[i]);
		if (!hit || !(d = calloc(1, sizeof(*d)))) {
			bm_strlist_dispose(&own);
			continue;
		}
		delivery_id(d->id, u->id, c->has_prev ? &c->prev : NULL, &c->next_c);
		memcpy(d->commit, hex, sizeof(hex));
		if (unread) {
			serve_event_json_paths(&d->body, c->has_prev ? &c->prev : NULL, &c->next_c, paths, u->prefix,
					       SIZE_MAX);
		} else if (serve_event_json(&d->body, o->st, c->has_prev ? &c->prev : NULL, &c->next_c, paths, u->prefix) < 0) {
			/* never dropped: the paths, and the receiver reads the records itself */
			serve_log("warn", "webhook", "hook=%s commit=%.12s error=\"%s\" what=\"sent without its records\"",
				  u->id, hex, bm_error_last());
			bm_error_clear();
			serve_event_json_paths(&d->body, c->has_prev ? &c->prev : NULL, &c->next_c, paths, u->prefix,
					       SIZE_MAX);
		}
		bm_strlist_dispose(&own);
		enqueue(o, u, d);
	}
}

/* Queue `d` for `u` (bounded: full, the oldest goes, logged and counted). */
static void enqueue(struct serve_hooks_out *o, sub *u, delivery *d)
{
	pthread_mutex_lock(&o->lock);
	if (u->qlen >= SUB_QUEUE_MAX) {
		delivery *old = u->qhead;
		u->qhead = old->next;
		if (!u->qhead)
			u->qtail = NULL;
		u->qlen--;
		log_attempt(u, old, 0, 0, 0, HR_DROPPED, 0, "the receiver's queue was full: dropped, oldest first");
		serve_log("warn", "webhook-dropped", "hook=%s delivery=%s commit=%.12s queued=%d", u->id, old->id,
			  old->commit, SUB_QUEUE_MAX);
		delivery_free(old);
	}
	if (u->qtail)
		u->qtail->next = d;
	else
		u->qhead = d;
	u->qtail = d;
	u->qlen++;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&o->lock);
}

/* What `u` missed while serve was down: its cursor `from` is behind `to`. One delivery, the
 * event of a watcher resuming at `from` (nothing when no path under the prefix changed). */
static void catch_up(struct serve_hooks_out *o, sub *u, const bm_oid *from, const bm_oid *to)
{
	char fhex[BM_OID_HEXSZ + 1], thex[BM_OID_HEXSZ + 1];
	bm_strlist paths = BM_STRLIST_INIT;
	delivery *d = NULL;
	int anc = 0, e;

	bm_oid_fmt(fhex, from);
	bm_oid_fmt(thex, to);
	if (bm_store_is_ancestor(&anc, o->st, from, to) < 0 || !anc) {
		bm_error_clear();
		serve_log("warn", "webhook", "hook=%s cursor=%.12s main=%.12s what=\"the cursor is not in main's history "
			  "(rewritten?): nothing is re-delivered; deliveries go on from main\"", u->id, fhex, thex);
		cursor_save(u, thex);
		return;
	}
	e = bm_store_changed(&paths, o->st, from, to, u->prefix, SERVE_CHANGED_MAX);
	if (e < 0 && e != BM_ETOOBIG) {
		serve_log("warn", "webhook", "hook=%s cursor=%.12s error=\"%s\" what=\"nothing is re-delivered\"", u->id, fhex,
			  bm_error_last());
		bm_error_clear();
		goto done;
	}
	bm_error_clear();
	if (!paths.count) {
		cursor_save(u, thex);
		goto done;
	}
	if (!(d = calloc(1, sizeof(*d))))
		goto done;
	delivery_id(d->id, u->id, from, to);
	memcpy(d->commit, thex, sizeof(thex));
	if (serve_event_json(&d->body, o->st, from, to, &paths, u->prefix) < 0) {
		serve_log("warn", "webhook", "hook=%s commit=%.12s error=\"%s\" what=\"sent without its records\"",
			  u->id, thex, bm_error_last());
		bm_error_clear();
		serve_event_json_paths(&d->body, from, to, &paths, u->prefix, SIZE_MAX);
	}
	serve_log("info", "webhook", "hook=%s cursor=%.12s main=%.12s paths=%zu what=\"catching up: one delivery for "
		  "what changed while serve was away\"", u->id, fhex, thex, paths.count);
	enqueue(o, u, d);
done:
	bm_strlist_dispose(&paths);
}

static void cq_free(cq_item *c)
{
	if (!c)
		return;
	bm_strlist_dispose(&c->paths);
	free(c);
}

static void *dispatcher_main(void *arg)
{
	struct serve_hooks_out *o = arg;
	for (;;) {
		cq_item *c;
		pthread_mutex_lock(&o->lock);
		while (!o->stop && !o->qhead)
			pthread_cond_wait(&o->cond, &o->lock);
		if (o->stop) {
			pthread_mutex_unlock(&o->lock);
			break;
		}
		c = o->qhead;
		o->qhead = c->next;
		if (!o->qhead)
			o->qtail = NULL;
		o->qlen--;
		pthread_mutex_unlock(&o->lock);
		dispatch(o, c);
		cq_free(c);
	}
	return NULL;
}

/* The hub's hook: copy and queue, never wait on a receiver. */
static void on_commit(serve *s, const bm_oid *prev, const bm_oid *next, const bm_strlist *paths, int truncated,
		      void *payload)
{
	struct serve_hooks_out *o = payload;
	cq_item *c = calloc(1, sizeof(*c));
	size_t i;
	(void)s;
	if (!c) {
		/* the next commit's event does not follow the last one: the dispatcher re-reads */
		atomic_fetch_add(&o->commits_dropped, 1);
		return;
	}
	c->next_c = *next;
	c->truncated = truncated;
	if (prev) {
		c->prev = *prev;
		c->has_prev = 1;
	}
	for (i = 0; i < paths->count; i++)
		if (bm_strlist_add(&c->paths, paths->items[i]) < 0) {
			cq_free(c);
			bm_error_clear();
			atomic_fetch_add(&o->commits_dropped, 1);
			return;
		}
	pthread_mutex_lock(&o->lock);
	if (o->qlen >= COMMIT_QUEUE_MAX) {
		cq_item *old = o->qhead;
		o->qhead = old->next;
		if (!o->qhead)
			o->qtail = NULL;
		o->qlen--;
		atomic_fetch_add(&o->commits_dropped, 1);
		cq_free(old);
	}
	if (o->qtail)
		o->qtail->next = c;
	else
		o->qhead = c;
	o->qtail = c;
	o->qlen++;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

/* The recipient of each identity line ("AGE-SECRET-KEY-1...", in either case, around it
 * blanks) of an identity file's text; '#' lines are comments, as age has them. */
static int own_recipients(bm_strlist *out, const char *text)
{
	bm_buf line = BM_BUF_INIT, r = BM_BUF_INIT;
	const char *p = text;
	int error = 0;
	while (*p && !error) {
		size_t n;
		p += strspn(p, " \t");
		n = strcspn(p, "\r\n");
		if (n > 16 && !strncasecmp(p, "AGE-SECRET-KEY-1", 16)) {
			bm_buf_clear(&line);
			if ((error = bm_buf_put(&line, p, n)) == 0 && (error = bm_age_recipient_of(&r, line.ptr)) == 0)
				error = bm_strlist_add(out, r.ptr);
		}
		p += n;
		p += strspn(p, "\r\n");
	}
	bm_buf_dispose_secret(&line);
	bm_buf_dispose(&r);
	return error;
}

int serve_hooks_recipients(serve *s)
{
	bm_buf text = BM_BUF_INIT;
	int e;
	if (!s->identity_file)
		return 0;
	if ((e = bm_age_identity_file_read(&text, s->identity_file)) == 0)
		e = own_recipients(&s->hook_recipients, text.ptr ? text.ptr : "");
	bm_buf_dispose_secret(&text);
	if (e < 0) {
		serve_log("error", "identity", "file=%s error=\"%s\"", s->identity_file, bm_error_last());
		return -1;
	}
	return 0;
}

int serve_hooks_out_start(serve *s)
{
	struct serve_hooks_out *o;
	bm_oid tip;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		serve_log("error", "webhook", "error=\"libcurl does not start\"");
		return -1;
	}
	if (!(o = calloc(1, sizeof(*o)))) {
		curl_global_cleanup();
		return -1;
	}
	o->s = s;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	s->hout = o;
	if (bm_store_open(&o->st, s->repo) < 0) {
		serve_log("error", "webhook", "repo=%s error=\"%s\"", s->repo, bm_error_last());
		goto fail;
	}
	if (s->identity_file) {
		bm_buf text = BM_BUF_INIT;
		int e = bm_age_identity_file_read(&text, s->identity_file);
		if (e == 0 && (e = bm_age_identities_new(&o->ids)) == 0)
			e = bm_age_identities_add_text(o->ids, text.ptr ? text.ptr : "");
		bm_buf_dispose_secret(&text);
		if (e < 0) {
			serve_log("error", "identity", "file=%s error=\"%s\"", s->identity_file, bm_error_last());
			goto fail;
		}
	}
	if (state_open(o) < 0)
		goto fail;
	if (bm_store_tip(&tip, o->st) == 0)
		reload_at(o, &tip);
	bm_error_clear();
	if (serve_add_commit_hook(s, on_commit, o) < 0) {
		serve_log("error", "webhook", "error=\"no room for another commit hook\"");
		goto fail;
	}
	if (pthread_create(&o->dispatcher, NULL, dispatcher_main, o) != 0) {
		serve_log("error", "webhook", "error=\"cannot start the dispatcher thread\"");
		goto fail;
	}
	o->started = 1;
	return 0;
fail:
	serve_hooks_out_stop(s);
	return -1;
}

void serve_hooks_out_stop(serve *s)
{
	struct serve_hooks_out *o = s->hout;
	sub *u;
	cq_item *c;
	if (!o)
		return;
	pthread_mutex_lock(&o->lock);
	o->stop = 1;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
	if (o->started)
		pthread_join(o->dispatcher, NULL);
	while ((u = o->subs)) {
		o->subs = u->next;
		sub_end(o, u);
	}
	while ((c = o->qhead)) {
		o->qhead = c->next;
		cq_free(c);
	}
	bm_age_identities_free(o->ids);
	bm_store_free(o->st);
	free(o->state);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	free(o);
	s->hout = NULL;
	curl_global_cleanup();
}

/* ---- GET /v1/hooks, GET /v1/hooks/{id}/deliveries ---- */

static void sub_json(bm_buf *b, const sub *u)
{
	bm_buf_printf(b, "{\"id\":\"%s\",\"url\":", u->id);
	bm_json_escape(b, u->url);
	bm_buf_puts(b, ",\"prefix\":");
	bm_json_escape(b, u->prefix);
	bm_buf_printf(b, ",\"state\":\"%s\"", u->error ? "error" : "delivering");
	if (u->error) {
		bm_buf_puts(b, ",\"error\":");
		bm_json_escape(b, u->error);
	}
	bm_buf_printf(b, ",\"queued\":%zu,\"delivered\":%llu,\"retried\":%llu,\"failed\":%llu,\"dropped\":%llu}", u->qlen,
		      u->n[HR_OK], u->n[HR_RETRY], u->n[HR_FAILED], u->n[HR_DROPPED]);
}

int serve_hooks_out_http(serve *s, const serve_rq *r, serve_answer *a)
{
	struct serve_hooks_out *o = s->hout;
	const char *url = r->url[9] ? r->url + 10 : r->url + 9; /* after "/v1/hooks/" */
	char id[BM_WEBHOOK_ID_LEN + 1];
	sub *u;
	size_t i;

	if (!o) {
		serve_answer_error(a, 503, 0, "serve is stopping");
		return 0;
	}
	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
		/* the writes of these routes (POST /v1/hooks, DELETE /v1/hooks/{id}) are not here */
		const char *allow = !*url ? "GET, HEAD, POST" : !strchr(url, '/') ? "DELETE" : "GET, HEAD";
		serve_answer_error(a, 405, 0, "%s takes %s", r->url, allow);
		serve_answer_header(a, "Allow", allow);
		return 0;
	}
	if (!*url) {
		int first = 1;
		bm_buf_puts(&a->body, "{\"hooks\":[");
		pthread_mutex_lock(&o->lock);
		for (u = o->subs; u; u = u->next) {
			if (!first)
				bm_buf_putc(&a->body, ',');
			first = 0;
			sub_json(&a->body, u);
		}
		pthread_mutex_unlock(&o->lock);
		bm_buf_puts(&a->body, "]}\n");
		return 0;
	}
	if (strlen(url) != BM_WEBHOOK_ID_LEN + 11 || strcmp(url + BM_WEBHOOK_ID_LEN, "/deliveries")) {
		serve_answer_error(a, 404, 0, "no route %s %s; the routes are in doc/http-api.md", r->method, r->url);
		return 0;
	}
	memcpy(id, url, BM_WEBHOOK_ID_LEN);
	id[BM_WEBHOOK_ID_LEN] = '\0';
	if (bm_webhook_id_validate(id) < 0) {
		serve_answer_error(a, 400, BM_EINVALID, "%s", bm_error_last());
		bm_error_clear();
		return 0;
	}
	pthread_mutex_lock(&o->lock);
	for (u = o->subs; u && strcmp(u->id, id); u = u->next)
		;
	if (!u) {
		pthread_mutex_unlock(&o->lock);
		serve_answer_error(a, 404, BM_ENOTFOUND, "no live webhook %s in serve (see `bootmeta hook list`)", id);
		return 0;
	}
	bm_buf_puts(&a->body, "{\"hook\":");
	sub_json(&a->body, u);
	bm_buf_puts(&a->body, ",\"attempts\":[");
	for (i = 0; i < u->log_len; i++) {
		const attempt *t = &u->log[(u->log_start + i) % HOOK_LOG];
		if (i)
			bm_buf_putc(&a->body, ',');
		bm_buf_printf(&a->body,
			      "{\"delivery\":\"%s\",\"commit\":\"%s\",\"attempt\":%u,\"timeMs\":\"%lld\",\"status\":%ld,"
			      "\"durationMs\":%.3f,\"result\":\"%s\"",
			      t->delivery, t->commit, t->attempt, (long long)t->time_ms, t->status, t->dur_ms, r_names[t->result]);
		if (t->next_ms)
			bm_buf_printf(&a->body, ",\"nextAttemptMs\":\"%lld\"", (long long)t->next_ms);
		if (t->error[0]) {
			bm_buf_puts(&a->body, ",\"error\":");
			bm_json_escape(&a->body, t->error);
		}
		bm_buf_putc(&a->body, '}');
	}
	pthread_mutex_unlock(&o->lock);
	bm_buf_printf(&a->body, "],\"limit\":%d}\n", HOOK_LOG);
	return 0;
}

void serve_hooks_out_metrics(serve *s, bm_buf *out)
{
	struct serve_hooks_out *o = s->hout;
	size_t nsubs = 0, queued = 0;
	unsigned long long dropped = 0;
	sub *u;
	int i;
	if (o) {
		dropped = (unsigned long long)atomic_load(&o->commits_dropped);
		pthread_mutex_lock(&o->lock);
		nsubs = o->nsubs;
		for (u = o->subs; u; u = u->next)
			queued += u->qlen;
		pthread_mutex_unlock(&o->lock);
	}
	bm_buf_puts(out, "# HELP bootmeta_webhook_deliveries_total Outgoing webhook attempts by result (failed: given "
			 "up after --hook-attempts; dropped: the receiver's queue was full).\n"
			 "# TYPE bootmeta_webhook_deliveries_total counter\n");
	for (i = 0; i < HR_N; i++) {
		unsigned long long v = o ? (unsigned long long)atomic_load(&o->n[i]) : 0ULL;
		bm_buf_printf(out, "bootmeta_webhook_deliveries_total{result=\"%s\"} %llu\n", r_names[i], v);
	}
	bm_buf_printf(out,
		      "# HELP bootmeta_webhook_commits_dropped_total Commits dropped before webhook dispatch (queue full, or no memory).\n"
		      "# TYPE bootmeta_webhook_commits_dropped_total counter\nbootmeta_webhook_commits_dropped_total %llu\n"
		      "# HELP bootmeta_webhooks Live webhook subscriptions.\n# TYPE bootmeta_webhooks gauge\n"
		      "bootmeta_webhooks %zu\n"
		      "# HELP bootmeta_webhook_queue Deliveries waiting, all subscriptions.\n"
		      "# TYPE bootmeta_webhook_queue gauge\nbootmeta_webhook_queue %zu\n",
		      dropped, nsubs, queued);
}
