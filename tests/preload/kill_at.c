/* kill_at.c: an LD_PRELOAD shim for the crash tests. It kills its process with SIGKILL at
 * one chosen moment, so a test can leave exactly what a writer killed there leaves:
 *   BM_KILL_BEFORE_RENAME=S  just before a rename(2) whose source path contains S (or a
 *                            link(2): libgit2 moves a finished file into place with link)
 *   BM_KILL_AFTER_RENAME=S   just after such a rename or link
 * Everything else passes through to the C library. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *from, const char *to);
int link(const char *from, const char *to);

static int hit(const char *var, const char *path)
{
	const char *s = getenv(var);
	return s && *s && path && strstr(path, s);
}

int rename(const char *from, const char *to)
{
	int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	int rc;
	if (hit("BM_KILL_BEFORE_RENAME", from))
		raise(SIGKILL);
	rc = real(from, to);
	if (hit("BM_KILL_AFTER_RENAME", from))
		raise(SIGKILL);
	return rc;
}

int link(const char *from, const char *to)
{
	int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "link");
	int rc;
	if (hit("BM_KILL_BEFORE_RENAME", from))
		raise(SIGKILL);
	rc = real(from, to);
	if (hit("BM_KILL_AFTER_RENAME", from))
		raise(SIGKILL);
	return rc;
}
