/* cmd_config.c: `bootmeta config set|unset|get|history|revert|diff|resolve`: runtime config
 * per project and env, layered through the env's parents. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "cli_cfg.h"
#include "cli_env.h"
#include "cli_hint.h"

static const char usage[] =
	"usage: bootmeta config set PROJECT ENV KEY[:TYPE]=VALUE... [--type T] [--reason TEXT] [--dry-run]\n"
	"       bootmeta config unset PROJECT ENV KEY... [--reason TEXT] [--dry-run]\n"
	"       bootmeta config get PROJECT ENV KEY [--layer] [--at COMMIT] [--json]\n"
	"       bootmeta config history PROJECT ENV [KEY] [-n|--limit N] [--json]\n"
	"       bootmeta config revert PROJECT ENV KEY --to SEQ|COMMIT [--reason TEXT] [--dry-run]\n"
	"       bootmeta config diff PROJECT ENV_A ENV_B [--at COMMIT] [--json]\n"
	"       bootmeta config diff PROJECT ENV --at COMMIT [--json]\n"
	"       bootmeta config resolve PROJECT [ENV] [--at COMMIT] [--format table|json|env|systemd|docker]\n"
	"                               [--no-commits] [--json]\n"
	"                               [--secrets [--show-secrets] [--secrets-required] [-i FILE]]\n\n"
	"Typed runtime config (string, int64, double, bool, json object or list) per project and env.\n"
	"Every change is a new record; nothing is rewritten. All keys of one set/unset go in one meta\n"
	"commit. --type applies to every KEY=VALUE (default string); KEY:TYPE=VALUE types one key.\n"
	"unset writes a tombstone: the env stops setting the key, which then comes from the parent\n"
	"env again. --dry-run prints the records and the diff it would commit and commits nothing.\n\n"
	"get and resolve read through the env's parent chain (dev -> dev/alice) and say where each\n"
	"value came from (env, seq, meta commit, who, when); get --layer reads ENV alone. revert\n"
	"--to takes a sequence number (from history) or a meta commit (a number is a SEQ). diff\n"
	"compares resolved configs. resolve --format env prints KEY=VALUE lines that systemd's\n"
	"EnvironmentFile= and docker's --env-file both read the same way (values needing quotes are\n"
	"refused: use --format systemd or --format docker). ENV defaults to --env, $BOOTMETA_ENV\n"
	"or the checkout's `bootmeta dev use` file where it is optional.\n\n"
	"resolve --secrets adds, layer by layer, the secrets of PROJECT the caller's identity opens\n"
	"(-i/--identity FILE, else $BOOTMETA_IDENTITY, else ~/.config/bootmeta/identity). The nearest\n"
	"layer that sets a name wins, as for keys (a dev/alice config key beats a dev secret); within\n"
	"one layer a secret beats a config key of the same name. json, env, systemd and docker print\n"
	"the values (they exist to feed a service); the table prints (secret) unless --show-secrets.\n"
	"A secret that does not open (not a recipient, not UTF-8 text) is left out with a warning on\n"
	"stderr naming it, and its name is not filled from a parent layer; the exit code stays 0\n"
	"unless --secrets-required. A secret changed outside bootmeta, or unsigned under\n"
	"--require-signed, fails the command (exit 1, nothing on stdout).\n";

enum { OPT_TYPE = 256, OPT_REASON, OPT_DRY, OPT_LAYER, OPT_AT, OPT_TO, OPT_FORMAT, OPT_NOCOMMITS,
       OPT_SECRETS, OPT_SHOWSECRETS, OPT_SECRETSREQ };

static const cli_opt all_opts[] = {
	{ OPT_TYPE, "type", 0, 1 },
	{ OPT_REASON, "reason", 0, 1 },
	{ OPT_DRY, "dry-run", 0, 0 },
	{ OPT_LAYER, "layer", 0, 0 },
	{ OPT_AT, "at", 0, 1 },
	CLI_OPT_LIMIT,
	{ OPT_TO, "to", 0, 1 },
	{ OPT_FORMAT, "format", 0, 1 },
	{ OPT_NOCOMMITS, "no-commits", 0, 0 },
	{ OPT_SECRETS, "secrets", 0, 0 },
	{ OPT_SHOWSECRETS, "show-secrets", 0, 0 },
	{ OPT_SECRETSREQ, "secrets-required", 0, 0 },
	{ 'i', "identity", 'i', 1 },
	CLI_OPT_END,
};

typedef struct {
	const char *type, *reason, *at, *to, *format, *identity;
	size_t limit;
	int dry_run, layer, no_commits, secrets, show_secrets, secrets_required;
	int npos;
	char **pos;
} opts_t;

/* Parse the options of a subcommand (anywhere among the positionals); `allowed` lists the
 * OPT_* it takes (0-terminated). 1: --help was printed, -1: usage error. */
static int parse(opts_t *o, bm_cli *cli, int argc, char **argv, const int *allowed)
{
	cli_args a;
	int c;
	memset(o, 0, sizeof(*o));
	cli_args_init(&a, cli, argc, argv, all_opts, usage);
	a.allowed = allowed;
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_TYPE: o->type = a.value; break;
		case OPT_REASON: o->reason = a.value; break;
		case OPT_DRY: o->dry_run = 1; break;
		case OPT_LAYER: o->layer = 1; break;
		case OPT_AT: o->at = a.value; break;
		case OPT_TO: o->to = a.value; break;
		case OPT_FORMAT: o->format = a.value; break;
		case OPT_NOCOMMITS: o->no_commits = 1; break;
		case OPT_SECRETS: o->secrets = 1; break;
		case OPT_SHOWSECRETS: o->show_secrets = 1; break;
		case OPT_SECRETSREQ: o->secrets_required = 1; break;
		case 'i': o->identity = a.value; break;
		case CLI_OPT_LIMIT_ID:
			if (cli_take_limit(&o->limit, &a) != BM_EXIT_OK)
				return -1;
			break;
		}
	}
	if (c < 0)
		return c == CLI_ARGS_HELP ? 1 : -1;
	o->pos = a.pos;
	o->npos = a.npos;
	return 0;
}

static int open_at(bm_store **s, bm_oid *at, int *has_at, bm_cli *cli, const char *rev)
{
	if (cli_open(s, cli) < 0)
		return -1;
	*has_at = 0;
	if (rev) {
		if (bm_store_resolve(at, *s, rev) < 0)
			return -1;
		*has_at = 1;
	}
	return 0;
}

/* The proto3 JSON view of a ConfigValue record. */
static json_t *record_json(const bm_config_value *v)
{
	bm_buf b = BM_BUF_INIT;
	json_t *j = NULL;
	if (bm_config_value_record_json(&b, v) == 0)
		j = json_loadb(b.ptr, b.size, 0, NULL);
	bm_buf_dispose(&b);
	return j ? j : json_null();
}

static void print_kv(const char *sign, const bm_config_value *v)
{
	printf("%s%s=", sign, cli_esc(v->key));
	cli_cell(stdout, v->text, 200);
	printf("  (%s)\n", bm_config_type_str(v->type));
}

static int report_changes(bm_cli *cli, const char *verb, const char *project, const char *env,
			  const bm_config_changes *ch, int dry_run)
{
	size_t i, changed = 0;
	char hex[BM_OID_HEXSZ + 1];

	for (i = 0; i < ch->count; i++)
		changed += !ch->items[i].unchanged;
	if (cli->json) {
		json_t *o = json_object(), *a = json_array();
		json_object_set_new(o, "project", cli_jstr(project));
		json_object_set_new(o, "env", cli_jstr(env));
		json_object_set_new(o, "dryRun", json_boolean(dry_run));
		json_object_set_new(o, "metaCommit", cli_joid(&ch->commit, ch->has_commit));
		for (i = 0; i < ch->count; i++) {
			const bm_config_change *c = &ch->items[i];
			json_t *e = json_object();
			json_object_set_new(e, "key", cli_jstr(c->after.key));
			json_object_set_new(e, "unchanged", json_boolean(c->unchanged));
			json_object_set_new(e, "before", c->has_before ? cli_config_value_full_json(&c->before) : json_null());
			if (!c->unchanged) {
				json_object_set_new(e, "path", cli_jstr(c->after.path));
				json_object_set_new(e, "record", record_json(&c->after));
			}
			json_array_append_new(a, e);
		}
		json_object_set_new(o, "changes", a);
		return cli_json_print(o);
	}
	if (dry_run) {
		printf("dry run: nothing committed\n");
		if (changed)
			printf("records it would add:\n");
		for (i = 0; i < ch->count; i++) {
			const bm_config_change *c = &ch->items[i];
			json_t *rec;
			char *js;
			if (c->unchanged)
				continue;
			rec = record_json(&c->after);
			js = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(16));
			json_decref(rec);
			printf("  %s\n    %s\n", cli_esc(c->after.path), cli_esc(js ? js : ""));
			free(js);
		}
		if (changed)
			printf("diff (%s in %s):\n", project, env);
	} else if (ch->has_commit) {
		bm_oid_fmt(hex, &ch->commit);
		printf("config %s %s %s (meta commit %.12s)\n", verb, project, env, hex);
	}
	for (i = 0; i < ch->count; i++) {
		const bm_config_change *c = &ch->items[i];
		if (c->unchanged) {
			printf("  %s unchanged\n", cli_esc(c->after.key));
			continue;
		}
		if (c->has_before)
			print_kv("  -", &c->before);
		if (!c->after.tombstone)
			print_kv("  +", &c->after);
		else
			printf("  (%s unset in %s)\n", cli_esc(c->after.key), cli_esc(env));
	}
	if (!dry_run && !ch->has_commit)
		printf("nothing changed; no commit made\n");
	return BM_EXIT_OK;
}

static int write_opts(bm_write_options *w, bm_cli *cli)
{
	cli_write_options(w, cli);
	return 0;
}

static int do_set(bm_cli *cli, int argc, char **argv, int unset)
{
	static const int allowed_set[] = { OPT_TYPE, OPT_REASON, OPT_DRY, 0 };
	static const int allowed_unset[] = { OPT_REASON, OPT_DRY, 0 };
	bm_config_write_options co = BM_CONFIG_WRITE_OPTIONS_INIT;
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	bm_config_changes ch;
	bm_config_assign *as = NULL;
	bm_config_type deftype = BM_CONFIG_STRING;
	bm_store *s = NULL;
	char **keep = NULL, **dup = NULL;
	opts_t o;
	int i, n, rc = BM_EXIT_FAIL, prc;

	memset(&ch, 0, sizeof(ch));
	prc = parse(&o, cli, argc, argv, unset ? allowed_unset : allowed_set);
	if (prc) {
		free(keep);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos < 3) {
		free(keep);
		return cli_usage(usage, unset ? "config unset needs PROJECT ENV KEY..." :
				 "config set needs PROJECT ENV KEY=VALUE...");
	}
	if (o.type && bm_config_type_parse(&deftype, o.type) < 0) {
		free(keep);
		return cli_usage(usage, "%s", bm_error_last());
	}
	n = o.npos - 2;
	as = calloc((size_t)n, sizeof(*as));
	dup = calloc((size_t)n, sizeof(*dup));
	if (!as || !dup) {
		rc = cli_error(cli, BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		char *arg = o.pos[2 + i], *eq, *colon;
		if (!(dup[i] = strdup(arg))) {
			rc = cli_error(cli, BM_ENOMEM, "out of memory");
			goto done;
		}
		as[i].type = deftype;
		as[i].key = dup[i];
		if (unset) {
			as[i].unset = 1;
			if (strchr(arg, '=')) {
				rc = cli_usage(usage, "config unset takes KEY names, not KEY=VALUE (\"%s\")", arg);
				goto done;
			}
			continue;
		}
		if (!(eq = strchr(dup[i], '='))) {
			rc = cli_usage(usage, "\"%s\" is not KEY=VALUE", arg);
			goto done;
		}
		*eq = '\0';
		as[i].value = eq + 1;
		if ((colon = strchr(dup[i], ':')) != NULL) {
			*colon = '\0';
			if (bm_config_type_parse(&as[i].type, colon + 1) < 0) {
				rc = cli_usage(usage, "%s: %s", dup[i], bm_error_last());
				goto done;
			}
		}
	}
	co.reason = o.reason;
	co.dry_run = o.dry_run;
	write_opts(&w, cli);
	if (cli_open(&s, cli) < 0 || bm_config_write(&ch, s, o.pos[0], o.pos[1], as, (size_t)n, &co, &w) < 0) {
		rc = cli_fail(cli, unset ? "config unset" : "config set");
		goto done;
	}
	rc = report_changes(cli, unset ? "unset" : "set", o.pos[0], o.pos[1], &ch, o.dry_run);
done:
	if (dup)
		for (i = 0; i < n; i++)
			free(dup[i]);
	free(dup);
	free(as);
	free(keep);
	bm_config_changes_dispose(&ch);
	bm_store_free(s);
	return rc;
}

static int do_revert(bm_cli *cli, int argc, char **argv)
{
	static const int allowed[] = { OPT_TO, OPT_REASON, OPT_DRY, 0 };
	bm_config_write_options co = BM_CONFIG_WRITE_OPTIONS_INIT;
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	bm_config_changes ch;
	bm_store *s = NULL;
	char **keep = NULL;
	opts_t o;
	uint64_t seq = 0;
	const char *commit = NULL;
	int rc = BM_EXIT_FAIL, prc;

	memset(&ch, 0, sizeof(ch));
	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0) {
		free(keep);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos != 3 || !o.to) {
		free(keep);
		return cli_usage(usage, "config revert needs PROJECT ENV KEY --to SEQ|COMMIT");
	}
	if (strspn(o.to, "0123456789") == strlen(o.to) && strlen(o.to) <= 10) {
		seq = strtoull(o.to, NULL, 10);
		if (!seq) {
			free(keep);
			return cli_usage(usage, "--to 0: sequence numbers start at 1");
		}
	} else {
		commit = o.to;
	}
	co.reason = o.reason;
	co.dry_run = o.dry_run;
	write_opts(&w, cli);
	if (cli_open(&s, cli) < 0 ||
	    bm_config_revert(&ch, s, o.pos[0], o.pos[1], o.pos[2], seq, commit, &co, &w) < 0) {
		rc = cli_fail(cli, "config revert");
		goto done;
	}
	rc = report_changes(cli, "revert", o.pos[0], o.pos[1], &ch, o.dry_run);
done:
	free(keep);
	bm_config_changes_dispose(&ch);
	bm_store_free(s);
	return rc;
}

static int do_get(bm_cli *cli, int argc, char **argv)
{
	static const int allowed[] = { OPT_LAYER, OPT_AT, 0 };
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_config *c = NULL;
	bm_config_value *v;
	bm_oid at;
	char **keep = NULL;
	opts_t o;
	int has_at, rc = BM_EXIT_FAIL, prc;

	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0) {
		free(keep);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos != 3) {
		free(keep);
		return cli_usage(usage, "config get needs PROJECT ENV KEY");
	}
	if (bm_name_validate(o.pos[2], BM_NAME_KEY) < 0 || open_at(&s, &at, &has_at, cli, o.at) < 0 ||
	    bm_store_fs(&fs, s, has_at ? &at : NULL) < 0 || cli_need_project_env(fs, o.pos[0], o.pos[1]) < 0) {
		rc = cli_fail(cli, "config get");
		goto done;
	}
	if (o.layer) {
		if (!bm_env_exists(fs, o.pos[1])) {
			bm_env *e = NULL;
			bm_env_read(&e, fs, o.pos[1]);
			rc = cli_fail(cli, "config get");
			goto done;
		}
		if (bm_config_layer_fs(&c, fs, o.pos[0], o.pos[1]) < 0) {
			rc = cli_fail(cli, "config get");
			goto done;
		}
	} else if (bm_config_resolve_fs(&c, fs, o.pos[0], o.pos[1]) < 0) {
		rc = cli_fail(cli, "config get");
		goto done;
	}
	v = (bm_config_value *)bm_config_get(c, o.pos[2]);
	if (!v || v->tombstone) {
		rc = cli_error(cli, BM_ENOTFOUND, "config get: %s is not set for %s in %s%s", o.pos[2], o.pos[0], o.pos[1],
			       o.layer ? " itself (without --layer its parents count too)" : " or its parents");
		goto done;
	}
	if (cli->json) {
		if (bm_config_find_commits(s, v, 1) < 0) {
			rc = cli_fail(cli, "config get");
			goto done;
		}
		rc = cli_json_print(cli_config_value_full_json(v));
	} else {
		printf("%s\n", v->text);
		rc = BM_EXIT_OK;
	}
done:
	free(keep);
	bm_config_free(c);
	bm_fs_free(fs);
	bm_store_free(s);
	return rc;
}

static int cmp_hist(const void *a, const void *b)
{
	const bm_config_value *x = a, *y = b;
	int c;
	if (x->time_ms != y->time_ms)
		return x->time_ms > y->time_ms ? -1 : 1;
	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

static int do_history(bm_cli *cli, int argc, char **argv)
{
	static const int allowed[] = { CLI_OPT_LIMIT_ID, OPT_AT, 0 };
	bm_config_resolve_options ro = BM_CONFIG_RESOLVE_OPTIONS_INIT;
	bm_store *s = NULL;
	bm_config *c = NULL;
	bm_oid at;
	char **keep = NULL;
	opts_t o;
	size_t i, n;
	int has_at, rc = BM_EXIT_FAIL, prc;

	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0) {
		free(keep);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos != 2 && o.npos != 3) {
		free(keep);
		return cli_usage(usage, "config history needs PROJECT ENV [KEY]");
	}
	if (open_at(&s, &at, &has_at, cli, o.at) < 0) {
		rc = cli_fail(cli, "config history");
		goto done;
	}
	ro.at = has_at ? &at : NULL;
	ro.with_commits = 1;
	if (cli_need_project_env_at(s, ro.at, o.pos[0], o.pos[1]) < 0 ||
	    bm_config_history(&c, s, o.pos[0], o.pos[1], o.npos == 3 ? o.pos[2] : NULL, &ro) < 0) {
		rc = cli_fail(cli, "config history");
		goto done;
	}
	if (c->count > 1)
		qsort(c->values, c->count, sizeof(*c->values), cmp_hist);
	n = o.limit && o.limit < c->count ? o.limit : c->count;
	if (cli->json) {
		json_t *a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, cli_config_value_full_json(&c->values[i]));
		rc = cli_json_print(a);
		goto done;
	}
	if (!c->count) {
		printf("no config history for %s in %s%s%s\n", o.pos[0], o.pos[1], o.npos == 3 ? " for key " : "",
		       o.npos == 3 ? o.pos[2] : "");
		rc = BM_EXIT_OK;
		goto done;
	}
	printf("%-20s %-24s %5s  %-12s %-7s %-28s %s\n", "WHEN", "KEY", "SEQ", "COMMIT", "TYPE", "BY", "VALUE");
	for (i = 0; i < n; i++) {
		const bm_config_value *v = &c->values[i];
		char t[40], hex[BM_OID_HEXSZ + 1] = "-";
		cli_time_fmt(t, sizeof(t), v->time_ms);
		if (v->has_commit)
			bm_oid_fmt(hex, &v->commit);
		printf("%-20s %-24s %5llu  %-12.12s %-7s %-28s ", t, cli_esc(v->key), (unsigned long long)v->seq, hex,
		       bm_config_type_str(v->type), cli_esc(v->actor));
		if (v->tombstone)
			fputs("(unset)", stdout);
		else
			cli_cell(stdout, v->text, 80);
		if (v->reverted_from_seq)
			printf("  [revert to seq %llu]", (unsigned long long)v->reverted_from_seq);
		else if (v->reverted_from_commit && *v->reverted_from_commit)
			printf("  [revert to %.12s]", v->reverted_from_commit);
		if (v->reason && *v->reason) {
			fputs("  # ", stdout);
			cli_cell(stdout, v->reason, 80);
		}
		fputc('\n', stdout);
	}
	rc = BM_EXIT_OK;
done:
	free(keep);
	bm_config_free(c);
	bm_store_free(s);
	return rc;
}

static int do_diff(bm_cli *cli, int argc, char **argv)
{
	static const int allowed[] = { OPT_AT, 0 };
	bm_store *s = NULL;
	bm_fs *fa = NULL, *fb = NULL;
	bm_config *a = NULL, *b = NULL;
	bm_oid at;
	char **keep = NULL;
	char la[200], lb[200];
	opts_t o;
	size_t i = 0, j = 0, ndiff = 0;
	json_t *jadd = NULL, *jrem = NULL, *jchg = NULL;
	int has_at, rc = BM_EXIT_FAIL, prc;

	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0) {
		free(keep);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (!(o.npos == 3 || (o.npos == 2 && o.at))) {
		free(keep);
		return cli_usage(usage, "config diff needs PROJECT ENV_A ENV_B, or PROJECT ENV --at COMMIT");
	}
	if (open_at(&s, &at, &has_at, cli, o.at) < 0) {
		rc = cli_fail(cli, "config diff");
		goto done;
	}
	if (o.npos == 3) {
		if (bm_store_fs(&fa, s, has_at ? &at : NULL) < 0 || cli_need_project_env(fa, o.pos[0], o.pos[1]) < 0 ||
		    cli_need_project_env(fa, o.pos[0], o.pos[2]) < 0 || bm_config_resolve_fs(&a, fa, o.pos[0], o.pos[1]) < 0 ||
		    bm_config_resolve_fs(&b, fa, o.pos[0], o.pos[2]) < 0) {
			rc = cli_fail(cli, "config diff");
			goto done;
		}
		snprintf(la, sizeof(la), "%s", o.pos[1]);
		snprintf(lb, sizeof(lb), "%s", o.pos[2]);
	} else {
		char hex[BM_OID_HEXSZ + 1];
		if (bm_store_fs(&fa, s, &at) < 0 || bm_store_fs(&fb, s, NULL) < 0 ||
		    cli_need_project_env(fb, o.pos[0], o.pos[1]) < 0 || bm_config_resolve_fs(&a, fa, o.pos[0], o.pos[1]) < 0 ||
		    bm_config_resolve_fs(&b, fb, o.pos[0], o.pos[1]) < 0) {
			rc = cli_fail(cli, "config diff");
			goto done;
		}
		bm_oid_fmt(hex, &at);
		snprintf(la, sizeof(la), "%s@%.12s", o.pos[1], hex);
		snprintf(lb, sizeof(lb), "%s@tip", o.pos[1]);
	}
	if (cli->json) {
		jadd = json_object();
		jrem = json_object();
		jchg = json_object();
	} else {
		printf("--- %s %s\n+++ %s %s\n", o.pos[0], la, o.pos[0], lb);
	}
	while (i < a->count || j < b->count) {
		int c = i == a->count ? 1 : j == b->count ? -1 : strcmp(a->values[i].key, b->values[j].key);
		if (c < 0) {
			ndiff++;
			if (jrem)
				json_object_set_new(jrem, a->values[i].key, cli_config_value_full_json(&a->values[i]));
			else
				print_kv("-", &a->values[i]);
			i++;
		} else if (c > 0) {
			ndiff++;
			if (jadd)
				json_object_set_new(jadd, b->values[j].key, cli_config_value_full_json(&b->values[j]));
			else
				print_kv("+", &b->values[j]);
			j++;
		} else {
			if (a->values[i].type != b->values[j].type || strcmp(a->values[i].text, b->values[j].text)) {
				ndiff++;
				if (jchg) {
					json_t *p = json_object();
					json_object_set_new(p, "a", cli_config_value_full_json(&a->values[i]));
					json_object_set_new(p, "b", cli_config_value_full_json(&b->values[j]));
					json_object_set_new(jchg, a->values[i].key, p);
				} else {
					print_kv("-", &a->values[i]);
					print_kv("+", &b->values[j]);
				}
			}
			i++;
			j++;
		}
	}
	if (cli->json) {
		json_t *r = json_object();
		json_object_set_new(r, "project", cli_jstr(o.pos[0]));
		json_object_set_new(r, "a", cli_jstr(la));
		json_object_set_new(r, "b", cli_jstr(lb));
		json_object_set_new(r, "onlyInA", jrem);
		json_object_set_new(r, "onlyInB", jadd);
		json_object_set_new(r, "changed", jchg);
		jadd = jrem = jchg = NULL;
		cli_json_print(r);
	} else if (!ndiff) {
		printf("(no differences)\n");
	}
	rc = BM_EXIT_OK;
done:
	json_decref(jadd);
	json_decref(jrem);
	json_decref(jchg);
	free(keep);
	bm_config_free(a);
	bm_config_free(b);
	bm_fs_free(fa);
	bm_fs_free(fb);
	bm_store_free(s);
	return rc;
}

/* jansson's memory, while a resolve holds secrets: every block is wiped before it is freed
 * (the JSON text and its strings hold plaintext). */
static void wiping_free(void *p)
{
	if (p)
		sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

static int dump_to_buf(const char *p, size_t n, void *data)
{
	return bm_buf_put(data, p, n) < 0 ? -1 : 0;
}

/* A skipped secret that only means "not for you" (exit 0 unless --secrets-required); any
 * other reason (changed outside bootmeta, unsigned under --require-signed, a bad record) is
 * an error. */
static int soft_skip(int error)
{
	return error == BM_ENORECIPIENT || error == BM_EINVALID;
}

/* A left-out secret's message with the CLI's advice for its error (the library names no
 * command): a secret you are not a recipient of, or one that is not text. */
static const char *skipped_text(const bm_config_skipped *k)
{
	static char text[2048];
	snprintf(text, sizeof(text), "%s", k->message ? k->message : "");
	if (k->error == BM_ENORECIPIENT || k->error == BM_EINVALID)
		cli_hint_add(text, sizeof(text), k->error, BM_ABOUT_SECRET, k->env);
	return text;
}

/* Say on stderr which secrets were left out and why; returns 1 when the command must fail. */
static int report_skipped(bm_cli *cli, const bm_config *c, const char *project, int required, const char *ident,
			  const char *ident_path)
{
	size_t i;
	int fatal = 0, notrcpt = 0;
	for (i = 0; i < c->nskipped; i++) {
		const bm_config_skipped *k = &c->skipped[i];
		int hard = required || !soft_skip(k->error);
		fatal |= hard;
		notrcpt |= k->error == BM_ENORECIPIENT;
		fprintf(stderr, "bootmeta: config resolve: %s: secret %s of %s in %s (seq %llu) %s: %s\n",
			hard ? "error" : "warning", k->name, project, k->env, (unsigned long long)k->seq,
			hard ? "cannot be added" : "left out", skipped_text(k));
	}
	if (notrcpt) {
		bm_buf r = BM_BUF_INIT;
		if (bm_secret_identity_recipient(&r, ident) == 0)
			fprintf(stderr, "bootmeta: your identity %s is recipient %s\n", ident_path, r.ptr);
		bm_buf_dispose(&r);
	}
	if (fatal)
		fprintf(stderr, "bootmeta: config resolve: %s; nothing printed\n",
			required ? "--secrets-required and a secret was left out" :
			"a secret failed verification");
	return fatal;
}

static json_t *skipped_json(const bm_config *c)
{
	json_t *a = json_array();
	size_t i;
	for (i = 0; i < c->nskipped; i++) {
		const bm_config_skipped *k = &c->skipped[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", cli_jstr(k->name));
		json_object_set_new(o, "env", cli_jstr(k->env));
		json_object_set_new(o, "seq", cli_juint64(k->seq));
		json_object_set_new(o, "error", cli_jstr(k->error == BM_ENORECIPIENT ? "not a recipient" :
							k->error == BM_EINVALID ? "not text" : "verify"));
		json_object_set_new(o, "message", cli_jstr(skipped_text(k)));
		json_array_append_new(a, o);
	}
	return a;
}

static int do_resolve(bm_cli *cli, int argc, char **argv)
{
	static const int allowed[] = { OPT_AT, OPT_FORMAT, OPT_NOCOMMITS, OPT_SECRETS, OPT_SHOWSECRETS,
				       OPT_SECRETSREQ, 'i', 0 };
	bm_config_resolve_options ro = BM_CONFIG_RESOLVE_OPTIONS_INIT;
	bm_store *s = NULL;
	bm_config *c = NULL;
	bm_buf env = BM_BUF_INIT, out = BM_BUF_INIT, ident = BM_BUF_INIT, used = BM_BUF_INIT;
	bm_oid at;
	const char *format;
	opts_t o;
	size_t i;
	int has_at, rc = BM_EXIT_FAIL, prc, envfmt = -1;

	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0)
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	if (o.npos != 1 && o.npos != 2)
		return cli_usage(usage, "config resolve needs PROJECT [ENV]");
	if (!o.secrets && (o.show_secrets || o.secrets_required || o.identity))
		return cli_usage(usage, "--show-secrets, --secrets-required and --identity go with --secrets");
	format = o.format ? o.format : cli->json ? "json" : "table";
	if (!strcmp(format, "env"))
		envfmt = BM_CONFIG_ENV_PORTABLE;
	else if (!strcmp(format, "systemd"))
		envfmt = BM_CONFIG_ENV_SYSTEMD;
	else if (!strcmp(format, "docker"))
		envfmt = BM_CONFIG_ENV_DOCKER;
	else if (strcmp(format, "json") && strcmp(format, "table"))
		return cli_usage(usage, "unknown --format %s (expected table, json, env, systemd or docker)", format);
	if (o.secrets)
		json_set_alloc_funcs(malloc, wiping_free); /* before any JSON value exists */
	if (o.npos == 2 ? bm_buf_puts(&env, o.pos[1]) < 0 : cli_env_resolve(cli, &env, NULL) < 0) {
		rc = cli_fail(cli, "config resolve");
		goto done;
	}
	if (open_at(&s, &at, &has_at, cli, o.at) < 0) {
		rc = cli_fail(cli, "config resolve");
		goto done;
	}
	if (o.secrets) {
		/* the identity as `secret get` finds it: -i, --identity, $BOOTMETA_IDENTITY, the default */
		bm_buf def = BM_BUF_INIT;
		int loaded = bm_secret_identity_load(&ident, &used, o.identity ? o.identity : cli_env_identity(cli, &def));
		bm_buf_dispose(&def);
		if (loaded < 0) {
			rc = cli_fail(cli, "config resolve --secrets");
			goto done;
		}
		ro.identities = ident.ptr;
		ro.require_signed = cli->require_signed;
	}
	ro.at = has_at ? &at : NULL;
	ro.with_commits = envfmt < 0 && !o.no_commits;
	if (cli_need_project_env_at(s, ro.at, o.pos[0], env.ptr) < 0 || bm_config_resolve(&c, s, o.pos[0], env.ptr, &ro) < 0) {
		rc = cli_fail(cli, "config resolve");
		goto done;
	}
	if (c->nskipped && report_skipped(cli, c, o.pos[0], o.secrets_required, ident.ptr, used.ptr))
		goto done;
	if (envfmt >= 0) {
		if (bm_config_format_env(&out, c, (bm_config_env_style)envfmt) < 0) {
			rc = cli_fail(cli, "config resolve");
			goto done;
		}
		goto print;
	}
	if (!strcmp(format, "json")) {
		json_t *r = json_object(), *ch = json_array(), *vals = json_object();
		int dumped;
		json_object_set_new(r, "project", cli_jstr(c->project));
		json_object_set_new(r, "env", cli_jstr(c->env));
		for (i = 0; i < c->chain.count; i++)
			json_array_append_new(ch, cli_jstr(c->chain.items[i]));
		json_object_set_new(r, "chain", ch);
		json_object_set_new(r, "metaCommit", cli_joid(&c->at, c->has_at));
		for (i = 0; i < c->count; i++)
			json_object_set_new(vals, c->values[i].key, cli_config_value_full_json(&c->values[i]));
		json_object_set_new(r, "values", vals);
		if (o.secrets)
			json_object_set_new(r, "skippedSecrets", skipped_json(c));
		dumped = json_dump_callback(r, dump_to_buf, &out, JSON_COMPACT | JSON_REAL_PRECISION(16));
		json_decref(r);
		if (dumped < 0 || bm_buf_putc(&out, '\n') < 0) {
			rc = cli_error(cli, BM_ENOMEM, "config resolve: out of memory");
			goto done;
		}
		goto print;
	}
	{
		char hex[BM_OID_HEXSZ + 1] = "-";
		if (c->has_at)
			bm_oid_fmt(hex, &c->at);
		printf("# %s in %s (", cli_esc(c->project), cli_esc(c->env));
		for (i = 0; i < c->chain.count; i++)
			printf("%s%s", i ? " <- " : "", cli_esc(c->chain.items[c->chain.count - 1 - i]));
		printf("), meta commit %.12s\n", hex);
	}
	if (!c->count) {
		printf("(no config)\n");
		rc = BM_EXIT_OK;
		goto done;
	}
	printf("%-24s %-32s %-7s %-14s %5s %-12s %-20s %s\n", "KEY", "VALUE", "TYPE", "FROM", "SEQ", "COMMIT", "WHEN", "BY");
	for (i = 0; i < c->count; i++) {
		const bm_config_value *v = &c->values[i];
		const char *text = v->secret && !o.show_secrets ? "(secret)" : v->text;
		char t[40], hex[BM_OID_HEXSZ + 1] = "-";
		cli_time_fmt(t, sizeof(t), v->time_ms);
		if (v->has_commit)
			bm_oid_fmt(hex, &v->commit);
		printf("%-24s ", cli_esc(v->key));
		{
			/* pad the value cell */
			size_t len = strlen(text);
			cli_cell(stdout, text, 29);
			if (len < 32 && !strpbrk(text, "\n\t\r"))
				printf("%*s", (int)(32 - len), "");
		}
		printf(" %-7s %-14s %5llu %-12.12s %-20s %s\n", cli_esc(v->secret ? "secret" : bm_config_type_str(v->type)),
		       cli_esc(v->env), (unsigned long long)v->seq, hex, t, cli_esc(v->actor));
	}
	rc = BM_EXIT_OK;
	goto done;
print:
	/* straight to fd 1, not through stdio's buffer, then wiped */
	fflush(stdout);
	if (cli_write_all(1, out.ptr ? out.ptr : "", out.size) < 0) {
		rc = cli_error(cli, BM_EIO, "config resolve: cannot write to stdout: %s", strerror(errno));
		goto done;
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&env);
	bm_buf_dispose_secret(&out);
	bm_buf_dispose_secret(&ident);
	bm_buf_dispose(&used);
	bm_config_free(c);
	bm_store_free(s);
	return rc;
}

static int do_setkeys(bm_cli *cli, int argc, char **argv)
{
	return do_set(cli, argc, argv, 0);
}

static int do_unset(bm_cli *cli, int argc, char **argv)
{
	return do_set(cli, argc, argv, 1);
}

int cmd_config(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "set", NULL, do_setkeys, CLI_WRITES, NULL },
		{ "unset", NULL, do_unset, CLI_WRITES, NULL },
		{ "get", NULL, do_get, 0, NULL },
		{ "history", NULL, do_history, 0, NULL },
		{ "revert", NULL, do_revert, CLI_WRITES, NULL },
		{ "diff", NULL, do_diff, 0, NULL },
		{ "resolve", NULL, do_resolve, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
