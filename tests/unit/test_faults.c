/* test_faults.c: fault injection over the library's main operations (SQLite's habit).
 *
 * For each operation, run it once to learn what it produces, then again with the 1st, 2nd,
 * 3rd ... allocation failing (the library's own, protobuf-c's and jansson's, and with --git
 * libgit2's; see faultinject.h), until a run makes fewer allocations than N. Writes are also run with the
 * Nth I/O call failing (open, write, fsync, sync_file_range, rename, mkdir, link, unlink,
 * libgit2's own included). Every run must either fail with an error code and a message, or
 * succeed with exactly the result of the clean run; a failed write must leave the repo as it
 * was (same main tip, no lock or temporary file outside objects/, every record still reads)
 * and the same write must then succeed. Leaks are found by LeakSanitizer at exit (make check
 * builds with ASan). Each operation prints how many failures were injected.
 *
 *   test_faults [--verbose [--verbose]] [--crashes] [--git] [OPERATION]
 * --verbose names (twice: with a stack) each failure that was absorbed, --crashes runs each
 * faulted run in a child process so a crash is reported and the loop goes on, --git fails
 * libgit2's allocations too (libgit2 1.5 crashes on some; use with --crashes). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <execinfo.h>
#include <signal.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <git2.h>

#include "bootmeta.h"
#include "bootmeta/v1/core.pb-c.h"
#include "faultinject.h"

#define PROJECT "app/srv"
#define ENV "prod"
/* A bound on the work, so a loaded machine still ends well inside ctest's timeout (600 s):
 * past it, each operation stops and says so. */
#define MAX_N 100000
#define MAX_SECONDS 420

static time_t started;

static char tmpdir[256];
static char tmpl[512];   /* the repo every operation starts from */
static char work[512];   /* a fresh copy of it for each run of a write */
static bm_buf identity = BM_BUF_INIT;
static bm_oid tmpl_tip;
static bm_strlist tmpl_files = BM_STRLIST_INIT; /* files of tmpl outside objects/ */
static bm_buf release_bytes = BM_BUF_INIT;

static long violations;
static const char *only_op; /* argv[1]: run just this operation */
static int discover;         /* --crashes: each faulted run in a child, to list every crash */
static int verbose;          /* --verbose: name every absorbed failure */

static void on_crash(int sig)
{
	void *frames[64];
	int n = backtrace(frames, 64);
	char line[512];
	int len = snprintf(line, sizeof(line), "CRASH (signal %d) at the failed %s in %s; stack:\n", sig,
			   fi_fired_call(), fi_fired_where());
	if (write(2, line, (size_t)len) < 0) {}
	backtrace_symbols_fd(frames, n, 2);
	_exit(99);
}

/* A broken promise: print it and go on, so one run shows every bug; the test fails at the end. */
#define violation(...)                              \
	do {                                        \
		violations++;                       \
		if (violations <= 50) {             \
			printf("FAULT BUG: " __VA_ARGS__); \
			printf("\n");               \
			fflush(stdout);             \
		}                                   \
	} while (0)

static const bm_write_options *wopts(void)
{
	static bm_write_options o = BM_WRITE_OPTIONS_INIT;
	o.actor = "Test <test@example.com>";
	return &o;
}

/* ---- copying and comparing repos (never armed) ---- */

static char copy_dst[512];
static size_t copy_src_len;

static int copy_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char to[1024];
	(void)ftw;
	snprintf(to, sizeof(to), "%s%s", copy_dst, path + copy_src_len);
	if (type == FTW_D)
		return mkdir(to, st->st_mode & 07777) < 0 && errno != EEXIST ? -1 : 0;
	if (type == FTW_F && strstr(path + copy_src_len, "/objects/"))
		return link(path, to); /* git objects are never changed in place */
	if (type == FTW_F) {
		char buf[65536];
		ssize_t n;
		int in = open(path, O_RDONLY | O_CLOEXEC), out, error = 0;
		if (in < 0)
			return -1;
		out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st->st_mode & 07777);
		if (out < 0) {
			close(in);
			return -1;
		}
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				error = -1;
		close(in);
		close(out);
		return error;
	}
	return 0;
}

static void copy_tree(const char *from, const char *to)
{
	snprintf(copy_dst, sizeof(copy_dst), "%s", to);
	copy_src_len = strlen(from);
	assert_int_equal(nftw(from, copy_one, 16, FTW_PHYS), 0);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		assert_int_equal(nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static bm_strlist *list_acc;
static size_t list_root_len;

static int list_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + list_root_len;
	(void)st;
	(void)ftw;
	if (type == FTW_F && strncmp(rel, "/objects/", 9) != 0)
		return bm_strlist_add(list_acc, rel) < 0 ? -1 : 0;
	return 0;
}

static void list_files(bm_strlist *out, const char *root)
{
	bm_strlist_dispose(out);
	list_acc = out;
	list_root_len = strlen(root);
	assert_int_equal(nftw(root, list_one, 16, FTW_PHYS), 0);
	bm_strlist_sort(out);
}

static void join_list(bm_buf *out, const bm_strlist *l)
{
	size_t i;
	for (i = 0; i < l->count; i++)
		assert_int_equal(bm_buf_printf(out, "%s\n", l->items[i]), 0);
}

/* ---- the operations ---- */

typedef struct {
	const char *name;
	int writes;                     /* runs on a fresh copy of tmpl; also run with I/O faults */
	int (*run)(void);               /* the operation, armed; keeps its outputs */
	void (*result)(bm_buf *out);    /* after a successful run, disarmed: what it produced (and
	                                 * for a write, what the repo now holds); frees outputs */
	void (*drop)(void);             /* after a failed run: free what outputs there are */
} op;

/* What the repo at `path` holds that the operations read: the resolved config with
 * secrets, the flag, and the files the store write adds. Used to check a repo after a
 * failed write (it must read as the template does) and after a good one. */
static void repo_summary(bm_buf *out, const char *path)
{
	bm_store *s = NULL;
	bm_config *c = NULL;
	bm_config_resolve_options ro = BM_CONFIG_RESOLVE_OPTIONS_INIT;
	bm_fs *fs = NULL;
	bm_flag *f = NULL;
	bm_buf b = BM_BUF_INIT;
	bm_oid tip;
	size_t i;

	if (bm_store_open(&s, path) < 0 || bm_store_tip(&tip, s) < 0) {
		assert_int_equal(bm_buf_printf(out, "cannot open: %s\n", bm_error_last()), 0);
		goto done;
	}
	assert_int_equal(bm_buf_printf(out, "tip %s\n", bm_oid_equal(&tip, &tmpl_tip) ? "template" : "moved"), 0);
	ro.identities = identity.ptr;
	if (bm_config_resolve(&c, s, PROJECT, ENV, &ro) < 0) {
		assert_int_equal(bm_buf_printf(out, "config resolve: %s\n", bm_error_last()), 0);
	} else {
		for (i = 0; i < c->count; i++)
			assert_int_equal(bm_buf_printf(out, "%s=%s%s\n", c->values[i].key, c->values[i].text,
						       c->values[i].secret ? " (secret)" : ""), 0);
		for (i = 0; i < c->nskipped; i++)
			assert_int_equal(bm_buf_printf(out, "skipped %s: %s\n", c->skipped[i].name,
						       c->skipped[i].message), 0);
	}
	bm_config_free(c);
	if (bm_store_fs(&fs, s, NULL) < 0) {
		assert_int_equal(bm_buf_printf(out, "store fs: %s\n", bm_error_last()), 0);
		goto done;
	}
	if (bm_flag_load(&f, fs, PROJECT, ENV, "checkout") < 0) {
		assert_int_equal(bm_buf_printf(out, "flag load: %s\n", bm_error_last()), 0);
	} else {
		f->time_ms = 0; /* the time of the write differs from run to run */
		assert_int_equal(bm_flag_to_json(out, f), 0);
	}
	bm_flag_free(f);
	for (i = 1; i <= 2; i++) {
		char p[128];
		int rc;
		snprintf(p, sizeof(p), "projects/" PROJECT "/releases/r%zu.pb", i);
		bm_buf_clear(&b);
		rc = bm_fs_read(&b, fs, p);
		if (rc == 0)
			assert_int_equal(bm_buf_printf(out, "\n%s: %zu bytes", p, b.size), 0);
		else if (rc != BM_ENOTFOUND)
			assert_int_equal(bm_buf_printf(out, "\n%s: %s", p, bm_error_last()), 0);
	}
done:
	bm_buf_dispose(&b);
	bm_fs_free(fs);
	bm_store_free(s);
}

/* record decode */
static ProtobufCMessage *decoded;

static int run_decode(void)
{
	return bm_record_decode(&decoded, &bootmeta__v1__release__descriptor, release_bytes.ptr, release_bytes.size);
}

static void result_decode(bm_buf *out)
{
	bm_buf enc = BM_BUF_INIT;
	Bootmeta__V1__Release *r = (Bootmeta__V1__Release *)decoded;
	assert_int_equal(bm_record_encode(&enc, decoded), 0);
	assert_int_equal(enc.size, release_bytes.size);
	assert_memory_equal(enc.ptr, release_bytes.ptr, enc.size);
	assert_int_equal(bm_buf_printf(out, "%s %s %s %zu %zu", r->project, r->id, r->version, r->n_sources,
				       r->n_imports), 0);
	bm_buf_dispose(&enc);
	bm_record_free(decoded);
	decoded = NULL;
}

static void drop_decode(void)
{
	assert_null(decoded);
}

/* config resolve, with secrets */
static bm_config *resolved;

static int run_resolve(void)
{
	bm_store *s = NULL;
	bm_config_resolve_options ro = BM_CONFIG_RESOLVE_OPTIONS_INIT;
	int error;
	ro.identities = identity.ptr;
	if ((error = bm_store_open(&s, tmpl)) < 0)
		return error;
	error = bm_config_resolve(&resolved, s, PROJECT, "dev/alice", &ro);
	bm_store_free(s);
	return error;
}

static void result_resolve(bm_buf *out)
{
	size_t i;
	for (i = 0; i < resolved->count; i++)
		assert_int_equal(bm_buf_printf(out, "%s=%s %s %llu\n", resolved->values[i].key, resolved->values[i].text,
					       resolved->values[i].env,
					       (unsigned long long)resolved->values[i].seq), 0);
	for (i = 0; i < resolved->nskipped; i++)
		assert_int_equal(bm_buf_printf(out, "skipped %s\n", resolved->skipped[i].name), 0);
	join_list(out, &resolved->chain);
	bm_config_free(resolved);
	resolved = NULL;
}

static void drop_resolve(void)
{
	assert_null(resolved);
}

/* secret get */
static bm_buf secret = BM_BUF_INIT;
static bm_secret_info secret_info;

static int run_secret_get(void)
{
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	int error;
	if ((error = bm_store_open(&s, tmpl)) == 0 && (error = bm_store_fs(&fs, s, NULL)) == 0)
		error = bm_secret_get(&secret, fs, PROJECT, ENV, "DB", identity.ptr, &secret_info);
	bm_fs_free(fs);
	bm_store_free(s);
	return error;
}

static void result_secret_get(bm_buf *out)
{
	assert_int_equal(bm_buf_printf(out, "%s seq %llu by %s to %zu", secret.ptr,
				       (unsigned long long)secret_info.seq, secret_info.actor,
				       secret_info.nrecipients), 0);
	bm_buf_dispose_secret(&secret);
	bm_secret_info_dispose(&secret_info);
	memset(&secret_info, 0, sizeof(secret_info));
}

static void drop_secret_get(void)
{
	bm_buf_dispose_secret(&secret);
	bm_secret_info_dispose(&secret_info);
	memset(&secret_info, 0, sizeof(secret_info));
}

/* flag load and eval */
static bm_flag *flag;
static char flag_evals[1024];

static int run_flag_eval(void)
{
	static const char *const channels[] = { NULL, "beta", "stable", "canary" };
	static const char *const keys[] = { "host-1", "host-2", "host-3", "" };
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	size_t i, j, n = 0;
	int error;
	flag_evals[0] = '\0';
	if ((error = bm_store_open(&s, tmpl)) == 0 && (error = bm_store_fs(&fs, s, NULL)) == 0)
		error = bm_flag_load(&flag, fs, PROJECT, ENV, "checkout");
	for (i = 0; !error && i < 4; i++)
		for (j = 0; !error && j < 4; j++) {
			bm_flag_result r;
			if ((error = bm_flag_eval(&r, flag, channels[i], keys[j], NULL)) == 0)
				n += (size_t)snprintf(flag_evals + n, sizeof(flag_evals) - n, "%s:%s ",
						      r.variant, bm_flag_reason_str(r.reason));
		}
	bm_fs_free(fs);
	bm_store_free(s);
	return error;
}

static void result_flag_eval(bm_buf *out)
{
	assert_int_equal(bm_buf_printf(out, "%s\n", flag_evals), 0);
	assert_int_equal(bm_flag_to_json(out, flag), 0);
	bm_flag_free(flag);
	flag = NULL;
}

static void drop_flag_eval(void)
{
	bm_flag_free(flag);
	flag = NULL;
}

/* writes: each result is what the repo holds afterwards */
static void result_repo(bm_buf *out)
{
	repo_summary(out, work);
}

static void drop_nothing(void) {}

/* store write: one transaction adding two records */
static int add_releases(bm_txn *txn, void *payload)
{
	int error;
	(void)payload;
	if ((error = bm_txn_message(txn, "test: two releases")) < 0 ||
	    (error = bm_txn_add(txn, "projects/" PROJECT "/releases/r1.pb", release_bytes.ptr, release_bytes.size)) < 0)
		return error;
	return bm_txn_add(txn, "projects/" PROJECT "/releases/r2.pb", release_bytes.ptr, release_bytes.size);
}

static int run_store_write(void)
{
	bm_store *s = NULL;
	bm_oid c;
	int error;
	if ((error = bm_store_open(&s, work)) == 0)
		error = bm_store_write(&c, s, add_releases, NULL, wopts());
	bm_store_free(s);
	return error;
}

/* config write: change one key, add one */
static int run_config_write(void)
{
	bm_store *s = NULL;
	bm_config_changes ch;
	bm_config_assign a[2] = {
		{ "PORT", BM_CONFIG_INT64, "8080", 0 },
		{ "TIMEOUT", BM_CONFIG_DOUBLE, "2.5", 0 },
	};
	int error;
	memset(&ch, 0, sizeof(ch));
	if ((error = bm_store_open(&s, work)) == 0)
		error = bm_config_write(&ch, s, PROJECT, ENV, a, 2, NULL, wopts());
	if (error == 0 && (!ch.has_commit || ch.count != 2))
		fail_msg("config write: %d changes, commit %d", (int)ch.count, ch.has_commit);
	bm_config_changes_dispose(&ch);
	bm_store_free(s);
	return error;
}

/* secret set: a new version */
static int run_secret_set(void)
{
	bm_store *s = NULL;
	uint64_t seq = 0;
	int error;
	if ((error = bm_store_open(&s, work)) == 0)
		error = bm_secret_set(&seq, s, PROJECT, ENV, "DB", "correct horse", 13, wopts());
	if (error == 0)
		assert_int_equal(seq, 2);
	bm_store_free(s);
	return error;
}

/* flag write: a new version with a rollout */
static const char *const flag_variants[] = { "on=true", "off=false" };

/* payload NULL: the next version (a rollout on stable, canary off, default off);
 * non-NULL: the template's first version */
static int edit_flag(bm_flag **next, const bm_flag *current, void *payload)
{
	static const char *const rules[] = { "beta=on", "stable=on:1,off:3", "canary=off" };
	static const char *const first_rules[] = { "beta=on", "stable=on:1,off:1" };
	bm_flag_spec spec = BM_FLAG_SPEC_INIT;
	(void)current;
	spec.project = PROJECT;
	spec.env = ENV;
	spec.key = "checkout";
	spec.variants = flag_variants;
	spec.nvariants = 2;
	spec.default_variant = payload ? NULL : "off";
	spec.rules = payload ? first_rules : rules;
	spec.nrules = payload ? 2 : 3;
	return bm_flag_from_spec(next, &spec);
}

static int run_flag_write(void)
{
	bm_store *s = NULL;
	bm_flag_change ch;
	bm_flag_write_options fo = BM_FLAG_WRITE_OPTIONS_INIT;
	int error;
	memset(&ch, 0, sizeof(ch));
	fo.allow_unknown_channels = 1;
	if ((error = bm_store_open(&s, work)) == 0)
		error = bm_flag_write(&ch, s, PROJECT, ENV, "checkout", edit_flag, NULL, &fo, wopts());
	if (error == 0 && !ch.has_commit)
		fail_msg("flag write made no commit");
	bm_flag_change_dispose(&ch);
	bm_store_free(s);
	return error;
}

/* instance report: a state change of an instance that reported before (the log's tail is
 * read and checked, entry 2 added) */
static bm_instance_report_spec instance_spec(bm_instance_state state)
{
	bm_instance_report_spec r = BM_INSTANCE_REPORT_SPEC_INIT;
	r.env = ENV;
	r.instance = "web-1";
	r.project = PROJECT;
	r.release = "r0";
	r.state = state;
	r.acted_on = "0123456789abcdef0123456789abcdef01234567";
	r.os = "linux";
	r.arch = "amd64";
	return r;
}

static int run_instance_report(void)
{
	bm_instance_report_spec r = instance_spec(BM_INSTANCE_HEALTHY);
	Bootmeta__V1__InstanceReport *rec = NULL;
	bm_store *s = NULL;
	int error;
	if ((error = bm_store_open(&s, work)) == 0)
		error = bm_instance_report(&rec, NULL, s, &r, wopts());
	if (error == 0 && (!rec || rec->seq != 2))
		fail_msg("instance report: wrote entry %llu", rec ? (unsigned long long)rec->seq : 0ull);
	bm_meta_free(rec);
	bm_store_free(s);
	return error;
}

static const op ops[] = {
	{ "record decode", 0, run_decode, result_decode, drop_decode },
	{ "config resolve", 0, run_resolve, result_resolve, drop_resolve },
	{ "secret get", 0, run_secret_get, result_secret_get, drop_secret_get },
	{ "flag eval", 0, run_flag_eval, result_flag_eval, drop_flag_eval },
	{ "store write", 1, run_store_write, result_repo, drop_nothing },
	{ "config write", 1, run_config_write, result_repo, drop_nothing },
	{ "secret set", 1, run_secret_set, result_repo, drop_nothing },
	{ "flag write", 1, run_flag_write, result_repo, drop_nothing },
	{ "instance report", 1, run_instance_report, result_repo, drop_nothing },
};

/* ---- the loop ---- */

static void fresh_work(void)
{
	rm_tree(work);
	copy_tree(tmpl, work);
}

/* A failed write: the repo must read as the template does, hold no new file outside
 * objects/, and take the same write again. */
static void check_untouched(const op *o, const bm_buf *want_base, const bm_buf *want_after, long n, const char *kind)
{
	bm_buf got = BM_BUF_INIT, files = BM_BUF_INIT, want_files = BM_BUF_INIT;
	bm_strlist l = BM_STRLIST_INIT;

	repo_summary(&got, work);
	list_files(&l, work);
	join_list(&files, &l);
	join_list(&want_files, &tmpl_files);
	if (strcmp(got.ptr, want_base->ptr) != 0) {
		violation("%s, %s fault %ld (%s in %s): the repo changed:\n%s\nwant:\n%s", o->name, kind, n,
			  fi_fired_call(), fi_fired_where(), got.ptr, want_base->ptr);
	} else if (strcmp(files.ptr, want_files.ptr) != 0) {
		violation("%s, %s fault %ld (%s in %s): files left behind:\n%s\nwant:\n%s", o->name, kind, n,
			  fi_fired_call(), fi_fired_where(), files.ptr, want_files.ptr);
	} else if (o->run() < 0) {
		violation("%s, %s fault %ld (%s in %s): the same write then failed: %s", o->name, kind, n,
			  fi_fired_call(), fi_fired_where(), bm_error_last());
	}
	(void)want_after; /* what a good write leaves is checked by every unfaulted run */
	bm_strlist_dispose(&l);
	bm_buf_dispose(&got);
	bm_buf_dispose(&files);
	bm_buf_dispose(&want_files);
}

static void run_faults(const op *o, fi_kind kind)
{
	const char *kname = kind == FI_ALLOC ? "allocation" : "I/O";
	bm_buf want = BM_BUF_INIT, base = BM_BUF_INIT, got = BM_BUF_INIT;
	long n, calls = 0, failed = 0, absorbed = 0, undurable = 0;
	int rc, complete = 0;

	repo_summary(&base, tmpl);
	if (o->writes)
		fresh_work();
	fi_arm(kind, 0);
	rc = o->run();
	calls = fi_disarm();
	if (rc < 0)
		fail_msg("%s: %s", o->name, bm_error_last());
	o->result(&want);

	for (n = 1; n <= MAX_N && time(NULL) - started < MAX_SECONDS; n++) {
		if (o->writes)
			fresh_work();
		bm_error_clear();
		if (discover) {
			pid_t pid = fork();
			int st = 0;
			assert_true(pid >= 0);
			if (pid == 0) {
				signal(SIGSEGV, on_crash);
				signal(SIGBUS, on_crash);
				signal(SIGABRT, on_crash);
				fi_arm(kind, n);
				rc = o->run();
				fi_disarm();
				_exit(fi_fired() ? 0 : 1);
			}
			assert_int_equal(waitpid(pid, &st, 0), pid);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 99)
				violation("%s, %s fault %ld: crash (stack above)", o->name, kname, n);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
				break;
			continue;
		}
		fi_arm(kind, n);
		rc = o->run();
		fi_disarm();
		if (!fi_fired()) {
			/* past the last call: the run is the clean one */
			if (rc < 0)
				fail_msg("%s: unfaulted run %ld failed: %s", o->name, n, bm_error_last());
			bm_buf_clear(&got);
			o->result(&got);
			assert_string_equal(got.ptr, want.ptr);
			complete = 1;
			break;
		}
		if (rc == 0) {
			/* the failure was absorbed (a retry, a fallback): the result must be right */
			bm_buf_clear(&got);
			o->result(&got);
			if (strcmp(got.ptr, want.ptr) != 0)
				violation("%s, %s fault %ld (%s in %s): success with a wrong result:\n%s\nwant:\n%s",
					  o->name, kname, n, fi_fired_call(), fi_fired_where(), got.ptr, want.ptr);
			absorbed++;
			/* libgit2 falls back by design (link, then rename; a second object backend);
			 * bootmeta's own calls must not swallow a failure */
			if (!strncmp(fi_fired_where(), "lib+", 4))
				violation("%s, %s fault %ld (%s in %s): the failure was ignored", o->name, kname, n,
					  fi_fired_call(), fi_fired_where());
			if (verbose) {
				printf("absorbed: %s, %s fault %ld: %s in %s\n", o->name, kname, n, fi_fired_call(),
				       fi_fired_where());
				fflush(stdout);
				if (verbose > 1)
					fi_fired_backtrace(1);
			}
			continue;
		}
		o->drop();
		if (o->writes && kind == FI_IO && strstr(bm_error_last(), "main moved to the new commit")) {
			/* the ref was replaced, then syncing its folder failed: the commit is there and
			 * complete, and the error says it may not be durable */
			bm_buf_clear(&got);
			o->result(&got);
			if (strcmp(got.ptr, want.ptr) != 0)
				violation("%s, I/O fault %ld (%s in %s): main moved, but to a wrong state:\n%s", o->name,
					  n, fi_fired_call(), fi_fired_where(), got.ptr);
			undurable++;
			continue;
		}
		failed++;
		if (!bm_error_last()[0])
			violation("%s, %s fault %ld (%s in %s): error %d without a message", o->name, kname, n,
				  fi_fired_call(), fi_fired_where(), rc);
		else if (kind == FI_ALLOC && rc != BM_ENOMEM)
			violation("%s, allocation fault %ld (%s in %s): error %d (%s) is not BM_ENOMEM: %s", o->name, n,
				  fi_fired_call(), fi_fired_where(), rc, bm_error_name(rc), bm_error_last());
		if (o->writes)
			check_untouched(o, &base, &want, n, kname);
	}
	printf("faults: %-14s %-10s %4ld injected (%ld calls in a clean run): %ld failed cleanly, %ld absorbed, "
	       "%ld committed but not known durable%s\n", o->name, kname, n - 1, calls, failed, absorbed, undurable,
	       complete ? "" : " -- stopped at the time/count bound");
	fflush(stdout);
	bm_buf_dispose(&want);
	bm_buf_dispose(&base);
	bm_buf_dispose(&got);
}

static void test_alloc_faults(void **state)
{
	size_t i;
	(void)state;
	violations = 0;
	for (i = 0; i < sizeof(ops) / sizeof(*ops); i++)
		if (!only_op || !strcmp(only_op, ops[i].name))
			run_faults(&ops[i], FI_ALLOC);
	assert_int_equal(violations, 0);
}

static void test_io_faults(void **state)
{
	size_t i;
	(void)state;
	violations = 0;
	for (i = 0; i < sizeof(ops) / sizeof(*ops); i++)
		if (ops[i].writes && (!only_op || !strcmp(only_op, ops[i].name)))
			run_faults(&ops[i], FI_IO);
	assert_int_equal(violations, 0);
}

/* ---- the template repo ---- */

static int add_project(bm_txn *txn, void *payload)
{
	(void)payload;
	return bm_txn_add(txn, "projects/" PROJECT "/project.pb", "", 0);
}

/* release r0 for the instance reports (the bytes of r1: its path is all they check) */
static int add_release_r0(bm_txn *txn, void *payload)
{
	(void)payload;
	return bm_txn_add(txn, "projects/" PROJECT "/releases/r0.pb", release_bytes.ptr, release_bytes.size);
}

static void make_release(void)
{
	Bootmeta__V1__Release r = BOOTMETA__V1__RELEASE__INIT;
	Bootmeta__V1__Source src[2] = { BOOTMETA__V1__SOURCE__INIT, BOOTMETA__V1__SOURCE__INIT };
	Bootmeta__V1__Source *srcs[2] = { &src[0], &src[1] };
	Bootmeta__V1__ModuleImport imp = BOOTMETA__V1__MODULE_IMPORT__INIT;
	Bootmeta__V1__ModuleImport *imps[1] = { &imp };
	r.project = (char *)PROJECT;
	r.id = (char *)"0123456789abcdef";
	r.version = (char *)"1.2.3";
	r.note = (char *)"fault injection: a release with sources and imports";
	r.created_ms = 1764547200000;
	r.actor = (char *)"Test <test@example.com>";
	src[0].url = (char *)"https://git.example.com/app/srv.git";
	src[0].commit = (char *)"0123456789abcdef0123456789abcdef01234567";
	src[1].url = (char *)"https://git.example.com/app/lib.git";
	src[1].commit = (char *)"89abcdef0123456789abcdef0123456789abcdef";
	r.n_sources = 2;
	r.sources = srcs;
	imp.module = (char *)"example.com/lib";
	imp.version = (char *)"v1.4.0";
	r.n_imports = 1;
	r.imports = imps;
	assert_int_equal(bm_record_encode(&release_bytes, &r.base), 0);
}

static void make_template(void)
{
	bm_store *s = NULL;
	bm_env_add_options eo = BM_ENV_ADD_OPTIONS_INIT;
	bm_buf recipient = BM_BUF_INIT, used = BM_BUF_INIT;
	bm_config_changes ch;
	bm_config_assign prod[3] = {
		{ "PORT", BM_CONFIG_INT64, "80", 0 },
		{ "HOST", BM_CONFIG_STRING, "db.internal", 0 },
		{ "DEBUG", BM_CONFIG_BOOL, "false", 0 },
	};
	bm_config_assign dev[2] = {
		{ "DEBUG", BM_CONFIG_BOOL, "true", 0 },
		{ "LIMITS", BM_CONFIG_JSON, "{\"rps\":10}", 0 },
	};
	bm_flag_change fc;
	bm_flag_write_options fo = BM_FLAG_WRITE_OPTIONS_INIT;
	char keyfile[512];

	snprintf(tmpl, sizeof(tmpl), "%s/template", tmpdir);
	snprintf(work, sizeof(work), "%s/work", tmpdir);
	snprintf(keyfile, sizeof(keyfile), "%s/alice.key", tmpdir);
	assert_int_equal(bm_secret_identity_create(&recipient, &used, keyfile, 0), 0);
	assert_int_equal(bm_secret_identity_load(&identity, NULL, keyfile), 0);

	assert_int_equal(bm_store_init(&s, tmpl), 0);
	assert_int_equal(bm_store_write(NULL, s, add_project, NULL, wopts()), 0);
	assert_int_equal(bm_env_add(NULL, s, ENV, &eo, wopts()), 0);
	assert_int_equal(bm_dev_init(NULL, s, "alice", NULL, wopts()), 0);
	assert_int_equal(bm_recipients_add(NULL, s, ENV, recipient.ptr, "alice", wopts()), 0);
	assert_int_equal(bm_recipients_add(NULL, s, "dev/alice", recipient.ptr, "alice", wopts()), 0);
	assert_int_equal(bm_secret_set(NULL, s, PROJECT, ENV, "DB", "hunter2", 7, wopts()), 0);
	assert_int_equal(bm_secret_set(NULL, s, PROJECT, "dev/alice", "TOKEN", "t0k3n", 5, wopts()), 0);
	assert_int_equal(bm_config_write(&ch, s, PROJECT, ENV, prod, 3, NULL, wopts()), 0);
	bm_config_changes_dispose(&ch);
	assert_int_equal(bm_config_write(&ch, s, PROJECT, "dev/alice", dev, 2, NULL, wopts()), 0);
	bm_config_changes_dispose(&ch);
	fo.allow_unknown_channels = 1;
	memset(&fc, 0, sizeof(fc));
	assert_int_equal(bm_flag_write(&fc, s, PROJECT, ENV, "checkout", edit_flag, (void *)1, &fo, wopts()), 0);
	bm_flag_change_dispose(&fc);
	assert_int_equal(bm_store_write(NULL, s, add_release_r0, NULL, wopts()), 0);
	{
		bm_instance_report_spec r = instance_spec(BM_INSTANCE_DOWNLOADING);
		assert_int_equal(bm_instance_report(NULL, NULL, s, &r, wopts()), 0);
	}
	assert_int_equal(bm_store_tip(&tmpl_tip, s), 0);
	bm_store_free(s);
	/* one pack instead of a folder per object prefix: each run of a write starts from a copy */
	{
		char cmd[2048];
		snprintf(cmd, sizeof(cmd), "git -C '%s' repack -a -d -q && git -C '%s' prune-packed && rm -rf '%s/hooks'",
			 tmpl, tmpl, tmpl);
		assert_int_equal(system(cmd), 0);
	}
	list_files(&tmpl_files, tmpl);
	bm_buf_dispose(&recipient);
	bm_buf_dispose(&used);
}

static int setup(void **state)
{
	char empty[300];
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bm-test-faults-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	if (bm_global_init() < 0)
		return -1;
	started = time(NULL);
	/* no user or system git config may change what the operations do */
	snprintf(empty, sizeof(empty), "%s/noconfig", tmpdir);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, empty);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, empty);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, empty);
	fi_install();
	make_release();
	make_template();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(tmpdir);
	bm_buf_dispose_secret(&identity);
	bm_buf_dispose(&release_bytes);
	bm_strlist_dispose(&tmpl_files);
	bm_global_shutdown();
	return 0;
}

int main(int argc, char **argv)
{
	int i;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_faults),
		cmocka_unit_test(test_io_faults),
	};
	/* test_faults [--crashes] [--git] [--verbose] [OPERATION] */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--crashes"))
			discover = 1;
		else if (!strcmp(argv[i], "--verbose"))
			verbose++;
		else if (!strcmp(argv[i], "--git"))
			fi_fail_git(1);
		else
			only_op = argv[i];
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
