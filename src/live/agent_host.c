/* agent_host.c: what `bootmeta agent` does on its host: the install folder
 *   DIR/releases/<release>/<binary>   each release, complete before anything points at it
 *   DIR/current -> releases/<release>  switched by rename, so it is always one or the other
 *   DIR/.agent/state.json              what was verified and committed (agent.h)
 *   DIR/.agent/app.pid                 the app the agent runs (--exec)
 * and the app itself: start, stop, health gate. */
#include "agent.h"
#include "agent_http.h"
#include "serve_log.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void agent_log(const char *level, const char *msg, const char *fmt, ...)
{
	char rest[1800];
	va_list ap;
	if (!fmt || !*fmt) {
		serve_log(level, msg, NULL);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	serve_log(level, msg, "%s", rest);
}

static int64_t now_ms(void)
{
	return serve_mono_us() / 1000;
}

static void nap_ms(int64_t ms, volatile int *stop)
{
	while (ms > 0 && !(stop && *stop)) {
		int64_t step = ms < 50 ? ms : 50;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
	if (fd < 0)
		return bm_error_set(BM_EIO, "%s: %s", dir, strerror(errno));
	rc = fsync(fd);
	close(fd);
	return rc ? bm_error_set(BM_EIO, "fsync %s: %s", dir, strerror(errno)) : 0;
}

int agent_fsync_parent(const char *path)
{
	char dir[4200];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	return fsync_dir(*dir ? dir : "/");
}

int agent_mkdir_p(const char *path)
{
	char tmp[4096];
	size_t i, n = strlen(path);
	if (n >= sizeof(tmp))
		return bm_error_set(BM_EINVALID, "%s: path too long", path);
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return bm_error_set(BM_EIO, "cannot make %s: %s", tmp, strerror(errno));
		tmp[i] = path[i];
	}
	return 0;
}

/* ---- the folder ---- */

int agent_release_path(bm_buf *out, const agent_config *c, const char *release, const Bootmeta__V1__Binary *b)
{
	const char *name = NULL, *s;
	size_t len = 0, i;
	char safe[129];
	if (b && b->n_urls) {
		const char *u = b->urls[0], *q = strpbrk(u, "?#");
		size_t ul = q ? (size_t)(q - u) : strlen(u);
		for (s = u + ul; s > u && s[-1] != '/'; s--)
			;
		name = s;
		len = (size_t)(u + ul - s);
	}
	if (!len) {
		name = strrchr(c->project, '/');
		name = name ? name + 1 : c->project;
		len = strlen(name);
	}
	/* a file name of its own: no path, no dot file, no control characters */
	if (len > sizeof(safe) - 1)
		len = sizeof(safe) - 1;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		safe[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
				  ch == '_' || (ch == '.' && i) ? (char)ch : '_';
	}
	safe[len] = '\0';
	bm_buf_clear(out);
	return bm_buf_printf(out, "%s/releases/%s/%s", c->dir, release, safe);
}

int agent_current(char out[AGENT_NAME_MAX], const agent_config *c)
{
	char link[4096], target[AGENT_NAME_MAX + 16];
	ssize_t n;
	out[0] = '\0';
	snprintf(link, sizeof(link), "%s/current", c->dir);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : bm_error_set(BM_EIO, "%s: %s", link, strerror(errno));
	target[n] = '\0';
	if (strncmp(target, "releases/", 9) || strlen(target + 9) >= AGENT_NAME_MAX)
		return bm_error_set(BM_ECORRUPT, "%s points at %s, not at releases/<release>: not this agent's", link,
				    target);
	memcpy(out, target + 9, strlen(target + 9) + 1);
	return 0;
}

int agent_switch(const agent_config *c, const char *release)
{
	char link[4096], tmp[4096], target[AGENT_NAME_MAX + 16];
	snprintf(link, sizeof(link), "%s/current", c->dir);
	if (!release) {
		if (unlink(link) < 0 && errno != ENOENT)
			return bm_error_set(BM_EIO, "cannot remove %s: %s", link, strerror(errno));
		return fsync_dir(c->dir);
	}
	snprintf(tmp, sizeof(tmp), "%s/.current.%ld", c->dir, (long)getpid());
	snprintf(target, sizeof(target), "releases/%s", release);
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return bm_error_set(BM_EIO, "cannot make %s: %s", tmp, strerror(errno));
	if (rename(tmp, link) < 0) {
		int e = errno;
		unlink(tmp);
		return bm_error_set(BM_EIO, "cannot switch %s: %s", link, strerror(e));
	}
	return fsync_dir(c->dir);
}

/* ---- state ---- */

static void state_path(char *out, size_t size, const agent_config *c, const char *name)
{
	snprintf(out, size, "%s/.agent/%s", c->dir, name);
}

static void copy_name(char dst[AGENT_NAME_MAX], const char *src)
{
	snprintf(dst, AGENT_NAME_MAX, "%s", src ? src : "");
}

int agent_state_load(agent_state *s, const agent_config *c)
{
	char path[4096];
	json_error_t je;
	json_t *j;
	memset(s, 0, sizeof(*s));
	state_path(path, sizeof(path), c, "state.json");
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : bm_error_set(BM_EIO, "%s: %s", path, strerror(errno));
	if (!(j = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(j)) {
		bm_buf t = BM_BUF_INIT;
		int e;
		json_decref(j);
		bm_text_escape(&t, je.text, strlen(je.text), BM_ESCAPE_ASCII);
		e = bm_error_set(BM_ECORRUPT, "%s does not decode (%s): move it away to start over", path, t.ptr ? t.ptr : "?");
		bm_buf_dispose(&t);
		return e;
	}
	s->verified_seq = (uint64_t)json_integer_value(json_object_get(j, "verifiedSeq"));
	s->failed_seq = (uint64_t)json_integer_value(json_object_get(j, "failedSeq"));
	copy_name(s->committed, json_string_value(json_object_get(j, "committed")));
	copy_name(s->attempt, json_string_value(json_object_get(j, "attempt")));
	copy_name(s->failed_release, json_string_value(json_object_get(j, "failedRelease")));
	s->host_tries = (unsigned)json_integer_value(json_object_get(j, "hostTries"));
	json_decref(j);
	return 0;
}

int agent_state_save(const agent_state *s, const agent_config *c)
{
	char dir[4096], path[4096], tmp[4096];
	char *text;
	int fd, error = 0;
	size_t len;
	json_t *j = json_pack("{s:I,s:s,s:s,s:I,s:s,s:I}", "verifiedSeq", (json_int_t)s->verified_seq, "committed",
			      s->committed, "attempt", s->attempt, "failedSeq", (json_int_t)s->failed_seq, "failedRelease",
			      s->failed_release, "hostTries", (json_int_t)s->host_tries);
	if (!j)
		return bm_error_set(BM_ENOMEM, "out of memory");
	text = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	if (!text)
		return bm_error_set(BM_ENOMEM, "out of memory");
	snprintf(dir, sizeof(dir), "%s/.agent", c->dir);
	state_path(path, sizeof(path), c, "state.json");
	state_path(tmp, sizeof(tmp), c, "state.json.tmp");
	if ((error = agent_mkdir_p(dir)) < 0)
		goto done;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		error = bm_error_set(BM_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto done;
	}
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		error = bm_error_set(BM_EIO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto done;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		error = bm_error_set(BM_EIO, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto done;
	}
	error = fsync_dir(dir);
done:
	free(text);
	return error;
}

/* ---- the app ---- */

static int run_wait(const char *what, char *const argv[], int64_t timeout_ms, bm_buf *why)
{
	int64_t end = now_ms() + timeout_ms;
	int status;
	pid_t pid = fork(), w;
	if (pid < 0)
		return bm_buf_printf(why, "%s: fork: %s", what, strerror(errno)), -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1); /* a health command's output is not the agent's (its stderr stays) */
		}
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (now_ms() > end) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			bm_buf_printf(why, "%s: no answer within %lld ms", what, (long long)timeout_ms);
			return -1;
		}
		nap_ms(20, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		bm_buf_printf(why, "%s exited with status %d", what, WEXITSTATUS(status));
	else
		bm_buf_printf(why, "%s was killed by signal %d", what, WTERMSIG(status));
	return -1;
}

/* The state, process group and start time (clock ticks since boot) of process `pid`
 * (a decimal string) from /proc/PID/stat: "pid (comm) state ppid pgrp ... starttime" with
 * starttime field 22; comm may hold anything, so the fields are read from its last ')'.
 * 0, or -1 when there is no such process. */
static int proc_stat(const char *pid, char *state, long *pgrp, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	long ppid;
	int fd, i;
	snprintf(path, sizeof(path), "/proc/%.20s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %c %ld %ld", state, &ppid, pgrp) != 3)
		return -1;
	*start = 0;
	for (i = 3, p++; i < 22 && p; i++) /* from field 3 (state) to field 22 */
		p = strchr(p + 1, ' ');
	if (p)
		*start = strtoull(p + 1, NULL, 10);
	return 0;
}

/* A process's start time, 0 unknown: with its pid and this boot's id (boot_id) it names one
 * process, so a pid file that outlived the app (a reboot, a long-dead agent) cannot make the
 * agent stop whoever has that pid now. */
static unsigned long long proc_start_time(pid_t pid)
{
	char id[24], state;
	long pgrp;
	unsigned long long t;
	snprintf(id, sizeof(id), "%ld", (long)pid);
	return proc_stat(id, &state, &pgrp, &t) == 0 ? t : 0;
}

static void boot_id(char out[40])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	out[0] = '\0';
	if (f) {
		if (!fgets(out, 40, f))
			out[0] = '\0';
		fclose(f);
	}
	out[strcspn(out, "\n")] = '\0';
}

int agent_start(agent_child *ch, const agent_config *c, const char *release)
{
	char cwd[4096], pidfile[4096], rel[AGENT_NAME_MAX + 32];
	pid_t pid;
	memset(ch, 0, sizeof(*ch));
	if (c->unit) {
		bm_buf why = BM_BUF_INIT;
		char *const argv[] = { (char *)"systemctl", (char *)"restart", (char *)c->unit, NULL };
		int rc = run_wait("systemctl restart", argv, 60000, &why);
		if (rc < 0)
			bm_error_set(BM_ERROR, "%s", why.ptr ? why.ptr : "systemctl restart failed");
		bm_buf_dispose(&why);
		return rc < 0 ? BM_ERROR : 0;
	}
	if (!c->exec_cmd)
		return 0;
	snprintf(cwd, sizeof(cwd), "%s/current", c->dir);
	snprintf(rel, sizeof(rel), "%s", release);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return bm_error_set(BM_EIO, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		setsid(); /* its own group: a stop reaches what it started too */
		if (chdir(cwd) < 0)
			_exit(126);
		setenv("BOOTMETA_RELEASE", rel, 1);
		setenv("BOOTMETA_CURRENT", cwd, 1);
		execl("/bin/sh", "sh", "-c", c->exec_cmd, (char *)NULL);
		_exit(127);
	}
	ch->pid = pid;
	state_path(pidfile, sizeof(pidfile), c, "app.pid");
	{
		FILE *f = fopen(pidfile, "we");
		char boot[40];
		boot_id(boot);
		if (f) {
			/* pid, start time, boot: see proc_start_time */
			fprintf(f, "%ld %llu %s\n", (long)pid, proc_start_time(pid), *boot ? boot : "-");
			fclose(f);
		}
	}
	agent_log("info", "started", "release=%s pid=%ld", release, (long)pid);
	return 0;
}

int agent_child_gone(agent_child *ch)
{
	int status;
	pid_t w;
	if (!ch->pid)
		return 1;
	if (ch->exited)
		return 1;
	w = waitpid(ch->pid, &status, WNOHANG);
	if (w == ch->pid) {
		ch->exited = 1;
		ch->status = status;
		return 1;
	}
	return 0;
}

/* SIGTERM to pid and its group, SIGKILL at `end` (ms, now_ms's clock) */
static void stop_pid(pid_t pid, int64_t end, int is_child)
{
	int status;
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	while (now_ms() < end) {
		if (is_child ? waitpid(pid, &status, WNOHANG) == pid : kill(pid, 0) < 0)
			return;
		nap_ms(20, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	if (is_child)
		waitpid(pid, &status, 0);
}

/* 1 when a process of group pgid runs (a zombie does not count: an orphan's zombie waits
 * for init to reap it, and kill(-pgid, 0) still finds it) */
static int group_alive(pid_t pgid)
{
	DIR *d;
	struct dirent *e;
	int alive = 0;
	if (kill(-pgid, 0) < 0)
		return 0;
	if (!(d = opendir("/proc")))
		return 1;
	while (!alive && (e = readdir(d))) {
		char state;
		long pgrp;
		unsigned long long start;
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && proc_stat(e->d_name, &state, &pgrp, &start) == 0 &&
		    pgrp == (long)pgid && state != 'Z' && state != 'X')
			alive = 1;
	}
	closedir(d);
	return alive;
}

/* What is left of the process group of an app whose first process exited (the group is
 * its pid: setsid; a shell that ran it and died leaves its children, which may still hold
 * the app's port): SIGTERM, then SIGKILL at `end`. The group's id is not given to another
 * process while a member is alive, and the first process was reaped just now. */
static void stop_group_left(pid_t pgid, int64_t end)
{
	if (!group_alive(pgid))
		return;
	agent_log("info", "stopping what the app left running", "pgid=%ld", (long)pgid);
	kill(-pgid, SIGTERM);
	while (now_ms() < end) {
		if (!group_alive(pgid))
			return;
		nap_ms(20, NULL);
	}
	kill(-pgid, SIGKILL);
}

void agent_stop(agent_child *ch, const agent_config *c)
{
	char pidfile[4096];
	/* one deadline for the app and what it leaves: a stop takes the stop timeout at most */
	int64_t end = now_ms() + c->stop_timeout_ms;
	state_path(pidfile, sizeof(pidfile), c, "app.pid");
	if (ch->pid && !agent_child_gone(ch)) {
		stop_pid(ch->pid, end, 1);
		agent_log("info", "stopped", "pid=%ld", (long)ch->pid);
		stop_group_left(ch->pid, end); /* its children that outlive it */
	} else if (ch->pid && c->exec_cmd) {
		stop_group_left(ch->pid, end);
	} else if (!ch->pid && c->exec_cmd) {
		/* an app left by an agent that was killed: stop it before starting another */
		FILE *f = fopen(pidfile, "re");
		long old = 0;
		unsigned long long started = 0;
		char boot[40] = "", now_boot[40];
		int n = 0, alive;
		if (f) {
			if ((n = fscanf(f, "%ld %llu %39s", &old, &started, boot)) < 1)
				old = 0;
			fclose(f);
		}
		boot_id(now_boot);
		alive = old > 1 && kill((pid_t)old, 0) == 0;
		/* the file of an older agent has the pid only: taken as it was */
		if (alive && n == 3 && (strcmp(boot, now_boot) || !started || proc_start_time((pid_t)old) != started)) {
			agent_log("info", "the app a previous agent left is gone; its pid is another process's now",
				  "pid=%ld", old);
			alive = 0;
		}
		if (alive) {
			agent_log("info", "stopping the app a previous agent left", "pid=%ld", old);
			stop_pid((pid_t)old, end, 0);
			/* and its group (its pid: setsid); only when that pid still ran: a pid file
			 * that outlived a reboot may name anyone's process by now */
			stop_group_left((pid_t)old, end);
		}
	}
	unlink(pidfile);
	memset(ch, 0, sizeof(*ch));
}

/* ---- health ---- */

static int health_url_once(bm_buf *why, const char *url, int64_t timeout_ms)
{
	static volatile int no_stop;
	bm_buf body = BM_BUF_INIT;
	long status = 0;
	int rc = agent_http(&status, &body, url, NULL, NULL, timeout_ms, 1u << 20, &no_stop);
	bm_buf_dispose(&body);
	bm_buf_clear(why);
	if (rc < 0) {
		bm_buf_printf(why, "%s", bm_error_last());
		bm_error_clear();
		return -1;
	}
	if (status < 200 || status > 299)
		return bm_buf_printf(why, "%s answered %ld", url, status), -1;
	return 0;
}

static int health_once(bm_buf *why, agent_child *ch, const agent_config *c)
{
	if (ch->pid && agent_child_gone(ch)) {
		bm_buf_clear(why);
		if (WIFEXITED(ch->status))
			bm_buf_printf(why, "the app exited with status %d", WEXITSTATUS(ch->status));
		else
			bm_buf_printf(why, "the app was killed by signal %d", WTERMSIG(ch->status));
		return -2; /* final: it will not get healthy */
	}
	if (c->health_url)
		return health_url_once(why, c->health_url, 2000);
	if (c->health_cmd) {
		char *const argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)c->health_cmd, NULL };
		bm_buf_clear(why);
		return run_wait("the health command", argv, 5000, why);
	}
	return 0;
}

int agent_health_gate(bm_buf *why, agent_child *ch, const agent_config *c, volatile int *stop)
{
	int64_t start = now_ms(), end = start + c->health_timeout_ms, bake_end;
	int rc = -1;
	bm_buf last = BM_BUF_INIT;
	while (!*stop) {
		rc = health_once(&last, ch, c);
		if (rc == 0 || rc == -2 || now_ms() >= end)
			break;
		nap_ms(100, stop);
	}
	if (*stop) {
		bm_buf_puts(why, "stopped (SIGTERM) before the health check ended");
		rc = -1;
		goto done;
	}
	if (rc != 0) {
		if (rc == -2)
			bm_buf_printf(why, "%s", last.ptr ? last.ptr : "");
		else
			bm_buf_printf(why, "not healthy within %lld ms: %s", (long long)c->health_timeout_ms,
				      last.ptr ? last.ptr : "");
		rc = -1;
		goto done;
	}
	bake_end = now_ms() + c->bake_ms;
	while (!*stop && now_ms() < bake_end) {
		nap_ms(200, stop);
		if ((rc = health_once(&last, ch, c)) != 0) {
			bm_buf_printf(why, "healthy, then failed during the %lld ms bake: %s", (long long)c->bake_ms,
				      last.ptr ? last.ptr : "");
			rc = -1;
			goto done;
		}
	}
	rc = *stop ? -1 : 0;
	if (rc)
		bm_buf_puts(why, "stopped (SIGTERM) during the bake");
done:
	bm_buf_dispose(&last);
	return rc;
}
