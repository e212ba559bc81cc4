/* bench_spawn.c: the wall time of whole processes, several commands measured in turn.
 *
 *   bench_spawn RUNS CMD1 [ARGS...] -- CMD2 [ARGS...] [-- CMD3 ...]
 *
 * Runs the commands one after another, RUNS rounds (round i runs each command once, in
 * order, so a busy moment of the machine falls on all of them alike), stdout and stderr to
 * /dev/null, and prints one line per command: "<median ms> <mean ms> <min ms>". A command
 * that exits non-zero stops the run (exit 1). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char **cmds[16];
	int ncmds = 0, runs, i, c;
	double *t[16];
	posix_spawn_file_actions_t fa;

	if (argc < 3 || (runs = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: bench_spawn RUNS CMD [ARGS...] [-- CMD [ARGS...]]...\n");
		return 2;
	}
	cmds[ncmds++] = &argv[2];
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--"))
			continue;
		argv[i] = NULL;
		if (i + 1 >= argc || ncmds == 16) {
			fprintf(stderr, "bench_spawn: a command after -- is missing, or too many\n");
			return 2;
		}
		cmds[ncmds++] = &argv[i + 1];
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (c = 0; c < ncmds; c++)
		if (!(t[c] = calloc((size_t)runs, sizeof(double))))
			return 1;
	for (i = 0; i < runs; i++) {
		for (c = 0; c < ncmds; c++) {
			pid_t pid;
			int st, e;
			double t0 = now_ms();
			if ((e = posix_spawnp(&pid, cmds[c][0], &fa, NULL, cmds[c], environ))) {
				fprintf(stderr, "bench_spawn: %s: %s\n", cmds[c][0], strerror(e));
				return 1;
			}
			while (waitpid(pid, &st, 0) < 0)
				if (errno != EINTR)
					return 1;
			t[c][i] = now_ms() - t0;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				fprintf(stderr, "bench_spawn: %s failed (status %d)\n", cmds[c][0], st);
				return 1;
			}
		}
	}
	for (c = 0; c < ncmds; c++) {
		double sum = 0;
		for (i = 0; i < runs; i++)
			sum += t[c][i];
		qsort(t[c], (size_t)runs, sizeof(double), cmp_double);
		printf("%.3f %.3f %.3f\n", t[c][runs / 2], sum / runs, t[c][0]);
		free(t[c]);
	}
	posix_spawn_file_actions_destroy(&fa);
	return 0;
}
