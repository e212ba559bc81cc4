/* cli_imports.h: the option parser imports, dependents, pin and stamp share (cmd_imports.c). */
#ifndef BM_CLI_IMPORTS_H
#define BM_CLI_IMPORTS_H

#include "cli_cfg.h"

/* The options of imports, dependents, pin and stamp (cmd_imports.c). */
enum { OPT_VERSION = 256, OPT_CHANNEL, OPT_FORMAT, OPT_MODULE, OPT_AT };
typedef struct {
	const char *version, *channel, *format, *module, *at;
	char **pos;
	int npos;
} cli_iopts;
/* 1: help printed, -1: usage error, 0: parsed. `allowed` lists the OPT_* taken (0 ends). */
int cli_imports_parse(cli_iopts *o, int argc, char **argv, const char *usage, const int *allowed);
#define PARSE(usage, ...)                                                        \
	do {                                                                     \
		static const int allowed_[] = { __VA_ARGS__ };                   \
		int prc_;                                                        \
		argc = cli_take_json(cli, argc, argv);                           \
		if ((prc_ = cli_imports_parse(&o, argc, argv, usage, allowed_)) != 0)        \
			return prc_ > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;            \
	} while (0)

#endif
