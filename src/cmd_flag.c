/* cmd_flag.c: `bootmeta flag set|enable|disable|get|list|history|eval|export`: feature
 * flags per project and env, with rules per release channel. */
#include <stdlib.h>
#include <string.h>

#include "cli_cfg.h"

static const char usage[] =
	"usage: bootmeta flag set PROJECT ENV KEY [--variant NAME=VALUE]... [--type T] [--default NAME]\n"
	"                         [--rule CHANNEL=VARIANT | --rule CHANNEL=V:W,V:W...]...\n"
	"                         [--remove-rule CHANNEL]... [--enabled|--disabled]\n"
	"                         [--allow-unknown-channel] [--dry-run]\n"
	"       bootmeta flag disable|enable PROJECT ENV KEY [--dry-run]\n"
	"       bootmeta flag get PROJECT ENV KEY [--at COMMIT] [--json]\n"
	"       bootmeta flag list PROJECT ENV [--at COMMIT] [--json]\n"
	"       bootmeta flag history PROJECT ENV KEY [--json]\n"
	"       bootmeta flag eval PROJECT ENV KEY --channel C --key UNIT [--attr K=V]... [--at COMMIT] [--json]\n"
	"       bootmeta flag export PROJECT ENV --format flagd [--pretty] [--channel-attr NAME]\n"
	"                            [-o|--output FILE] [--at COMMIT]\n\n"
	"Feature flags: typed variants (bool, string, number, json), a default variant, a kill switch,\n"
	"and per release channel a fixed variant or a weighted rollout (integer weights: on:1,off:999\n"
	"is 0.1%). Every change is a new version of the flag. `set` with --variant defines the flag\n"
	"anew (variants, default, rules as given; a disabled flag stays disabled unless --enabled);\n"
	"without --variant it edits the current version (--default, --rule, --remove-rule).\n"
	"Rules must name channels the project has (a promotion made them) unless\n"
	"--allow-unknown-channel. `disable` is the kill switch: everyone gets the default variant.\n"
	"--dry-run prints the record and the change it would commit, and commits nothing.\n"
	"eval answers what an instance on channel C with targeting key UNIT gets (value, variant,\n"
	"reason); export writes a flagd flag-definition file that OpenFeature's flagd providers read\n"
	"(context attributes: targetingKey and channel).\n";

enum {
	OPT_VARIANT = 256, OPT_TYPE, OPT_DEFAULT, OPT_RULE, OPT_REMOVE_RULE, OPT_ENABLED, OPT_DISABLED,
	OPT_ALLOW_UNKNOWN, OPT_DRY, OPT_AT, OPT_CHANNEL, OPT_KEY, OPT_ATTR, OPT_FORMAT, OPT_PRETTY,
	OPT_CHANNEL_ATTR, OPT_OUTPUT,
};

static const cli_opt all_opts[] = {
	{ OPT_VARIANT, "variant", 0, 1 },
	{ OPT_TYPE, "type", 0, 1 },
	{ OPT_DEFAULT, "default", 0, 1 },
	{ OPT_RULE, "rule", 0, 1 },
	{ OPT_REMOVE_RULE, "remove-rule", 0, 1 },
	{ OPT_ENABLED, "enabled", 0, 0 },
	{ OPT_DISABLED, "disabled", 0, 0 },
	{ OPT_ALLOW_UNKNOWN, "allow-unknown-channel", 0, 0 },
	{ OPT_DRY, "dry-run", 0, 0 },
	{ OPT_AT, "at", 0, 1 },
	{ OPT_CHANNEL, "channel", 0, 1 },
	{ OPT_KEY, "key", 0, 1 },
	{ OPT_ATTR, "attr", 0, 1 },
	{ OPT_FORMAT, "format", 0, 1 },
	{ OPT_PRETTY, "pretty", 0, 0 },
	{ OPT_CHANNEL_ATTR, "channel-attr", 0, 1 },
	{ OPT_OUTPUT, "output", 'o', 1 },
	CLI_OPT_END,
};

typedef struct {
	bm_strlist variants, rules, remove_rules, attrs;
	const char *type, *def, *at, *channel, *key, *format, *channel_attr, *output;
	int enabled, disabled, allow_unknown, dry_run, pretty;
	int npos;
	char **pos;
	/* for the edit */
	const char *project, *env, *flagkey;
	int set_disabled; /* -1 keep, 0 enable, 1 disable */
} fopts;

static void fopts_dispose(fopts *o)
{
	bm_strlist_dispose(&o->variants);
	bm_strlist_dispose(&o->rules);
	bm_strlist_dispose(&o->remove_rules);
	bm_strlist_dispose(&o->attrs);
}

/* 1: --help was printed, -1: usage error, 0: parsed. `allowed` lists the OPT_* taken (0 ends). */
static int parse(fopts *o, bm_cli *cli, int argc, char **argv, const int *allowed)
{
	cli_args a;
	int c;
	cli_args_init(&a, cli, argc, argv, all_opts, usage);
	a.allowed = allowed;
	while ((c = cli_args_next(&a)) > 0) {
		switch (c) {
		case OPT_VARIANT: bm_strlist_add(&o->variants, a.value); break;
		case OPT_RULE: bm_strlist_add(&o->rules, a.value); break;
		case OPT_REMOVE_RULE: bm_strlist_add(&o->remove_rules, a.value); break;
		case OPT_ATTR: bm_strlist_add(&o->attrs, a.value); break;
		case OPT_TYPE: o->type = a.value; break;
		case OPT_DEFAULT: o->def = a.value; break;
		case OPT_ENABLED: o->enabled = 1; break;
		case OPT_DISABLED: o->disabled = 1; break;
		case OPT_ALLOW_UNKNOWN: o->allow_unknown = 1; break;
		case OPT_DRY: o->dry_run = 1; break;
		case OPT_AT: o->at = a.value; break;
		case OPT_CHANNEL: o->channel = a.value; break;
		case OPT_KEY: o->key = a.value; break;
		case OPT_FORMAT: o->format = a.value; break;
		case OPT_PRETTY: o->pretty = 1; break;
		case OPT_CHANNEL_ATTR: o->channel_attr = a.value; break;
		case OPT_OUTPUT: o->output = a.value; break;
		}
	}
	if (c < 0)
		return c == CLI_ARGS_HELP ? 1 : -1;
	o->pos = a.pos;
	o->npos = a.npos;
	return 0;
}

/* ---- writes ---- */

static int edit_fn(bm_flag **next, const bm_flag *cur, void *payload)
{
	fopts *o = payload;
	bm_flag *f = NULL;
	size_t i;
	int error;

	*next = NULL;
	if (o->variants.count) {
		bm_flag_spec spec = BM_FLAG_SPEC_INIT;
		spec.project = o->project;
		spec.env = o->env;
		spec.key = o->flagkey;
		if (o->type && (error = bm_flag_type_parse(&spec.type, o->type)) < 0)
			return error;
		spec.variants = (const char *const *)o->variants.items;
		spec.nvariants = o->variants.count;
		spec.default_variant = o->def;
		spec.rules = (const char *const *)o->rules.items;
		spec.nrules = o->rules.count;
		spec.disabled = o->set_disabled >= 0 ? o->set_disabled : cur ? cur->disabled : 0;
		if ((error = bm_flag_from_spec(&f, &spec)) < 0)
			return error;
		for (i = 0; i < o->remove_rules.count; i++)
			if ((error = bm_flag_remove_rule(f, o->remove_rules.items[i])) < 0)
				goto fail;
	} else {
		if (!cur)
			return bm_error_set(BM_ENOTFOUND, "flag %s of %s in %s does not exist yet: define it with "
					    "--variant NAME=VALUE (and --default, --rule)", o->flagkey, o->project, o->env);
		if (o->type)
			return bm_error_set(BM_EINVALID, "--type only goes with --variant (a new definition)");
		if ((error = bm_flag_dup(&f, cur)) < 0)
			return error;
		if (o->def && (error = bm_flag_set_default(f, o->def)) < 0)
			goto fail;
		for (i = 0; i < o->rules.count; i++)
			if ((error = bm_flag_set_rule(f, o->rules.items[i])) < 0)
				goto fail;
		for (i = 0; i < o->remove_rules.count; i++)
			if ((error = bm_flag_remove_rule(f, o->remove_rules.items[i])) < 0)
				goto fail;
		if (o->set_disabled >= 0)
			bm_flag_set_disabled(f, o->set_disabled);
	}
	*next = f;
	return 0;
fail:
	bm_flag_free(f);
	return error;
}

/* The flag as text lines, to show a change as a diff. */
static void describe(bm_strlist *out, const bm_flag *f)
{
	bm_buf b = BM_BUF_INIT;
	size_t i;
	if (!f)
		return;
	bm_buf_printf(&b, "type %s", bm_flag_type_str(f->type));
	bm_strlist_add(out, b.ptr);
	for (i = 0; i < f->nvariants; i++) {
		bm_buf_clear(&b);
		bm_buf_puts(&b, "variant ");
		bm_flag_variant_format(&b, &f->variants[i]);
		bm_strlist_add(out, b.ptr);
	}
	bm_buf_clear(&b);
	bm_buf_printf(&b, "default %s", f->variants[f->default_variant].name);
	bm_strlist_add(out, b.ptr);
	for (i = 0; i < f->nrules; i++) {
		bm_buf_clear(&b);
		bm_buf_puts(&b, "rule ");
		bm_flag_rule_format(&b, f, &f->rules[i]);
		bm_strlist_add(out, b.ptr);
	}
	bm_strlist_add(out, f->disabled ? "state DISABLED (kill switch on)" : "state ENABLED");
	bm_buf_dispose(&b);
}

static int in_list(const bm_strlist *l, const char *s)
{
	size_t i;
	for (i = 0; i < l->count; i++)
		if (!strcmp(l->items[i], s))
			return 1;
	return 0;
}

/* Append the Flag record the flag encodes to, as proto3 JSON (bm_pbjson_write: the one
 * place a record becomes JSON); "null" for no flag. With `path`, the object also carries
 * "metaCommit" (null when unknown) and "path". */
static int flag_record_json(bm_buf *out, const bm_flag *f, const char *path, const bm_oid *commit, int has_commit)
{
	bm_buf enc = BM_BUF_INIT;
	ProtobufCMessage *m = NULL;
	const ProtobufCMessageDescriptor *d = bm_record_type("Flag");
	int error;
	if (!f)
		return bm_buf_puts(out, "null");
	if (!d)
		return bm_error_set(BM_ERROR, "no Flag record type");
	if ((error = bm_flag_encode(&enc, f)) == 0 && (error = bm_record_decode(&m, d, enc.ptr, enc.size)) == 0 &&
	    (error = cli_record_json(out, m, 0)) == 0 && path) {
		char hex[BM_OID_HEXSZ + 1];
		out->size--; /* the closing brace */
		if (has_commit)
			bm_oid_fmt(hex, commit);
		if ((error = bm_buf_printf(out, has_commit ? ",\"metaCommit\":\"%s\",\"path\":" :
					   ",\"metaCommit\":null,\"path\":", hex)) == 0 &&
		    (error = cli_json_buf_str(out, path)) == 0)
			error = bm_buf_putc(out, '}');
	}
	bm_record_free(m);
	bm_buf_dispose(&enc);
	return error;
}

static int report(bm_cli *cli, const fopts *o, const bm_flag_change *ch)
{
	bm_strlist a = BM_STRLIST_INIT, b = BM_STRLIST_INIT;
	size_t i;
	char hex[BM_OID_HEXSZ + 1];

	if (cli->json) {
		bm_buf j = BM_BUF_INIT;
		int error;
		char mc[BM_OID_HEXSZ + 3] = "null";
		if (ch->has_commit) {
			mc[0] = '"';
			bm_oid_fmt(mc + 1, &ch->commit);
			mc[BM_OID_HEXSZ + 1] = '"';
			mc[BM_OID_HEXSZ + 2] = '\0';
		}
		error = bm_buf_puts(&j, "{\"project\":");
		if (!error) error = cli_json_buf_str(&j, o->project);
		if (!error) error = bm_buf_puts(&j, ",\"env\":");
		if (!error) error = cli_json_buf_str(&j, o->env);
		if (!error) error = bm_buf_puts(&j, ",\"key\":");
		if (!error) error = cli_json_buf_str(&j, o->flagkey);
		if (!error) error = bm_buf_printf(&j, ",\"dryRun\":%s,\"unchanged\":%s,\"metaCommit\":%s,\"path\":",
						  o->dry_run ? "true" : "false", ch->unchanged ? "true" : "false", mc);
		if (!error) error = ch->path ? cli_json_buf_str(&j, ch->path) : bm_buf_puts(&j, "null");
		if (!error) error = bm_buf_puts(&j, ",\"before\":");
		if (!error) error = flag_record_json(&j, ch->before, NULL, NULL, 0);
		if (!error) error = bm_buf_puts(&j, ",\"after\":");
		if (!error) error = flag_record_json(&j, ch->after, NULL, NULL, 0);
		if (!error && !ch->unchanged) {
			error = bm_buf_puts(&j, ",\"record\":");
			if (!error) error = flag_record_json(&j, ch->after, NULL, NULL, 0);
		}
		if (!error) error = bm_buf_putc(&j, '}');
		if (error < 0) {
			bm_buf_dispose(&j);
			return cli_fail(cli, "flag");
		}
		cli_put(&j);
		bm_buf_dispose(&j);
		return BM_EXIT_OK;
	}
	if (ch->unchanged) {
		printf("flag %s of %s in %s unchanged; no commit made\n", cli_esc(o->flagkey), cli_esc(o->project), cli_esc(o->env));
		return BM_EXIT_OK;
	}
	if (o->dry_run) {
		bm_buf rec = BM_BUF_INIT;
		if (flag_record_json(&rec, ch->after, NULL, NULL, 0) < 0)
			bm_buf_clear(&rec);
		printf("dry run: nothing committed\nrecord it would add:\n  %s\n    %s\n", cli_esc(ch->path), cli_esc(rec.ptr ? rec.ptr : ""));
		bm_buf_dispose(&rec);
	} else {
		bm_oid_fmt(hex, &ch->commit);
		printf("flag %s of %s in %s: version %llu (meta commit %.12s)\n", cli_esc(o->flagkey), cli_esc(o->project), cli_esc(o->env),
		       (unsigned long long)ch->after->seq, hex);
	}
	describe(&a, ch->before);
	describe(&b, ch->after);
	printf("%s\n", ch->before ? "change:" : "new flag:");
	for (i = 0; i < a.count; i++)
		if (!in_list(&b, a.items[i]))
			printf("  -%s\n", cli_esc(a.items[i]));
	for (i = 0; i < b.count; i++)
		if (!in_list(&a, b.items[i]))
			printf("  +%s\n", cli_esc(b.items[i]));
	bm_strlist_dispose(&a);
	bm_strlist_dispose(&b);
	return BM_EXIT_OK;
}

static int do_write(bm_cli *cli, int argc, char **argv, int mode /* 0 set, 1 disable, 2 enable */)
{
	static const int allowed_set[] = { OPT_VARIANT, OPT_TYPE, OPT_DEFAULT, OPT_RULE, OPT_REMOVE_RULE, OPT_ENABLED,
					   OPT_DISABLED, OPT_ALLOW_UNKNOWN, OPT_DRY, 0 };
	static const int allowed_kill[] = { OPT_DRY, 0 };
	bm_flag_write_options fo = BM_FLAG_WRITE_OPTIONS_INIT;
	bm_write_options w = BM_WRITE_OPTIONS_INIT;
	bm_flag_change ch;
	bm_store *s = NULL;
	fopts o;
	int rc, prc;

	memset(&o, 0, sizeof(o));
	memset(&ch, 0, sizeof(ch));
	if ((prc = parse(&o, cli, argc, argv, mode ? allowed_kill : allowed_set)) != 0) {
		fopts_dispose(&o);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos != 3) {
		fopts_dispose(&o);
		return cli_usage(usage, "flag %s needs PROJECT ENV KEY", argv[0]);
	}
	if (o.enabled && o.disabled) {
		fopts_dispose(&o);
		return cli_usage(usage, "--enabled and --disabled contradict each other");
	}
	o.project = o.pos[0];
	o.env = o.pos[1];
	o.flagkey = o.pos[2];
	o.set_disabled = mode == 1 ? 1 : mode == 2 ? 0 : o.disabled ? 1 : o.enabled ? 0 : -1;
	fo.dry_run = o.dry_run;
	fo.allow_unknown_channels = o.allow_unknown;
	cli_write_options(&w, cli);
	if (cli_open(&s, cli) < 0 || bm_flag_write(&ch, s, o.project, o.env, o.flagkey, edit_fn, &o, &fo, &w) < 0)
		rc = cli_fail(cli, "flag");
	else
		rc = report(cli, &o, &ch);
	bm_flag_change_dispose(&ch);
	bm_store_free(s);
	fopts_dispose(&o);
	return rc;
}

/* ---- reads ---- */

/* Open the meta repo at `at` (or its tip); the project and env must exist there. */
static int open_fs(bm_store **s, bm_fs **fs, bm_cli *cli, const char *at, const char *project, const char *env)
{
	bm_oid oid;
	if (cli_open(s, cli) < 0)
		return -1;
	if (at && bm_store_resolve(&oid, *s, at) < 0)
		return -1;
	if (bm_store_fs(fs, *s, at ? &oid : NULL) < 0)
		return -1;
	return cli_need_project_env(*fs, project, env);
}

static void print_flag(const bm_flag *f, const char *path, const bm_oid *commit, int has_commit)
{
	bm_strlist l = BM_STRLIST_INIT;
	char t[40], hex[BM_OID_HEXSZ + 1] = "-";
	size_t i;
	describe(&l, f);
	cli_time_fmt(t, sizeof(t), f->time_ms);
	if (has_commit)
		bm_oid_fmt(hex, commit);
	printf("flag %s of %s in %s, version %llu, %s by %s (meta commit %.12s)\n", cli_esc(f->key), cli_esc(f->project), cli_esc(f->env),
	       (unsigned long long)f->seq, t, cli_esc(f->actor), hex);
	for (i = 0; i < l.count; i++)
		printf("  %s\n", cli_esc(l.items[i]));
	if (path)
		printf("  record %s\n", cli_esc(path));
	bm_strlist_dispose(&l);
}

static int do_get(bm_cli *cli, int argc, char **argv, int history)
{
	static const int allowed[] = { OPT_AT, 0 };
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_flag_list l = { NULL, NULL, 0 };
	bm_oid *oids = NULL;
	int *has = NULL;
	fopts o;
	size_t i;
	int rc = BM_EXIT_FAIL, prc;

	memset(&o, 0, sizeof(o));
	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0) {
		fopts_dispose(&o);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos != 3) {
		fopts_dispose(&o);
		return cli_usage(usage, "flag %s needs PROJECT ENV KEY", argv[0]);
	}
	if (open_fs(&s, &fs, cli, o.at, o.pos[0], o.pos[1]) < 0) {
		rc = cli_fail(cli, "flag");
		goto done;
	}
	if (history) {
		if (bm_flag_load_history(&l, fs, o.pos[0], o.pos[1], o.pos[2]) < 0) {
			rc = cli_fail(cli, "flag history");
			goto done;
		}
	} else {
		/* the current version is the last of the history (which also names its path) */
		if (bm_flag_load_history(&l, fs, o.pos[0], o.pos[1], o.pos[2]) < 0) {
			rc = cli_fail(cli, "flag get");
			goto done;
		}
		for (i = 0; i + 1 < l.count; i++) {
			bm_flag_free(l.items[i]);
			free(l.paths[i]);
		}
		if (l.count > 1) {
			l.items[0] = l.items[l.count - 1];
			l.paths[0] = l.paths[l.count - 1];
			l.count = 1;
		}
	}
	oids = calloc(l.count + 1, sizeof(*oids));
	has = calloc(l.count + 1, sizeof(*has));
	if (!oids || !has || bm_flag_list_commits(s, &l, oids, has) < 0) {
		rc = cli_fail(cli, "flag");
		goto done;
	}
	if (cli->json) {
		/* history: an array, newest first; get: the one record */
		bm_buf j = BM_BUF_INIT;
		int error = history ? bm_buf_putc(&j, '[') : 0;
		for (i = l.count; !error && i > 0; i--) {
			if (history && i < l.count)
				error = bm_buf_putc(&j, ',');
			if (!error)
				error = flag_record_json(&j, l.items[i - 1], l.paths[i - 1], &oids[i - 1], has[i - 1]);
		}
		if (!error && history)
			error = bm_buf_putc(&j, ']');
		if (error < 0)
			rc = cli_fail(cli, "flag");
		else {
			cli_put(&j);
			rc = BM_EXIT_OK;
		}
		bm_buf_dispose(&j);
		goto done;
	}
	for (i = l.count; i > 0; i--)
		print_flag(l.items[i - 1], l.paths[i - 1], &oids[i - 1], has[i - 1]);
	rc = BM_EXIT_OK;
done:
	free(oids);
	free(has);
	bm_flag_list_dispose(&l);
	bm_fs_free(fs);
	bm_store_free(s);
	fopts_dispose(&o);
	return rc;
}

static int do_list(bm_cli *cli, int argc, char **argv)
{
	static const int allowed[] = { OPT_AT, 0 };
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_flag_list l = { NULL, NULL, 0 };
	fopts o;
	size_t i, j;
	int rc = BM_EXIT_FAIL, prc;

	memset(&o, 0, sizeof(o));
	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0) {
		fopts_dispose(&o);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos != 2) {
		fopts_dispose(&o);
		return cli_usage(usage, "flag list needs PROJECT ENV");
	}
	if (open_fs(&s, &fs, cli, o.at, o.pos[0], o.pos[1]) < 0 || bm_flag_load_all(&l, fs, o.pos[0], o.pos[1]) < 0) {
		rc = cli_fail(cli, "flag list");
		goto done;
	}
	if (cli->json) {
		bm_buf js = BM_BUF_INIT;
		int error = bm_buf_putc(&js, '[');
		for (i = 0; !error && i < l.count; i++)
			if (!(error = i ? bm_buf_putc(&js, ',') : 0))
				error = flag_record_json(&js, l.items[i], NULL, NULL, 0);
		if (!error)
			error = bm_buf_putc(&js, ']');
		if (error < 0)
			rc = cli_fail(cli, "flag list");
		else {
			cli_put(&js);
			rc = BM_EXIT_OK;
		}
		bm_buf_dispose(&js);
		goto done;
	}
	if (!l.count) {
		printf("no flags for %s in %s\n", o.pos[0], o.pos[1]);
		rc = BM_EXIT_OK;
		goto done;
	}
	printf("%-28s %-7s %-9s %-12s %4s  %s\n", "FLAG", "TYPE", "STATE", "DEFAULT", "VER", "RULES");
	for (i = 0; i < l.count; i++) {
		const bm_flag *f = l.items[i];
		bm_buf b = BM_BUF_INIT;
		for (j = 0; j < f->nrules; j++) {
			if (j)
				bm_buf_puts(&b, " ");
			bm_flag_rule_format(&b, f, &f->rules[j]);
		}
		printf("%-28s %-7s %-9s %-12s %4llu  %s\n", cli_esc(f->key), bm_flag_type_str(f->type),
		       f->disabled ? "DISABLED" : "ENABLED", cli_esc(f->variants[f->default_variant].name),
		       (unsigned long long)f->seq, cli_esc(b.ptr ? b.ptr : "-"));
		bm_buf_dispose(&b);
	}
	rc = BM_EXIT_OK;
done:
	bm_flag_list_dispose(&l);
	bm_fs_free(fs);
	bm_store_free(s);
	fopts_dispose(&o);
	return rc;
}

static int do_eval(bm_cli *cli, int argc, char **argv)
{
	static const int allowed[] = { OPT_AT, OPT_CHANNEL, OPT_KEY, OPT_ATTR, 0 };
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_flag *f = NULL;
	bm_flag_attr *attrs = NULL;
	bm_flag_attrs av = { NULL, 0 };
	bm_flag_result r;
	bm_buf b = BM_BUF_INIT;
	fopts o;
	size_t i;
	int rc = BM_EXIT_FAIL, prc;

	memset(&o, 0, sizeof(o));
	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0) {
		fopts_dispose(&o);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos != 3) {
		fopts_dispose(&o);
		return cli_usage(usage, "flag eval needs PROJECT ENV KEY --channel C --key UNIT");
	}
	if (!o.channel) {
		fopts_dispose(&o);
		return cli_usage(usage, "flag eval needs --channel (the instance's release channel)");
	}
	if (bm_name_validate(o.channel, BM_NAME_CHANNEL) < 0) {
		rc = cli_fail(cli, "flag eval");
		goto done;
	}
	if (o.attrs.count && !(attrs = calloc(o.attrs.count, sizeof(*attrs)))) {
		rc = cli_error(cli, BM_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < o.attrs.count; i++) {
		char *eq = strchr(o.attrs.items[i], '=');
		if (!eq) {
			rc = cli_usage(usage, "--attr takes K=V (\"%s\")", o.attrs.items[i]);
			goto done;
		}
		*eq = '\0';
		attrs[i].key = o.attrs.items[i];
		attrs[i].value = eq + 1;
	}
	av.items = attrs;
	av.count = o.attrs.count;
	if (open_fs(&s, &fs, cli, o.at, o.pos[0], o.pos[1]) < 0 || bm_flag_load(&f, fs, o.pos[0], o.pos[1], o.pos[2]) < 0 ||
	    bm_flag_eval(&r, f, o.channel, o.key, &av) < 0) {
		rc = cli_fail(cli, "flag eval");
		goto done;
	}
	if (cli->json) {
		json_t *j;
		bm_flag_result_to_json(&b, f, &r);
		j = json_loadb(b.ptr ? b.ptr : "null", b.size, JSON_DECODE_ANY, NULL);
		if (json_is_object(j)) {
			json_object_set_new(j, "channel", cli_jstr(o.channel));
			json_object_set_new(j, "targetingKey", cli_jstr(o.key));
			json_object_set_new(j, "flagVersion", cli_juint64(f->seq));
			json_object_set_new(j, "metaCommit", cli_joid(bm_fs_commit(fs), bm_fs_commit(fs) != NULL));
		}
		rc = cli_json_print(j);
	} else {
		bm_flag_value_to_json(&b, r.value);
		printf("%s\t%s\t%s\n", b.ptr ? b.ptr : "", r.variant, bm_flag_reason_str(r.reason));
		rc = BM_EXIT_OK;
	}
done:
	free(attrs);
	bm_buf_dispose(&b);
	bm_flag_free(f);
	bm_fs_free(fs);
	bm_store_free(s);
	fopts_dispose(&o);
	return rc;
}

static int do_export(bm_cli *cli, int argc, char **argv)
{
	static const int allowed[] = { OPT_AT, OPT_FORMAT, OPT_PRETTY, OPT_CHANNEL_ATTR, OPT_OUTPUT, 0 };
	bm_flag_export_options eo = BM_FLAG_EXPORT_OPTIONS_INIT;
	bm_store *s = NULL;
	bm_fs *fs = NULL;
	bm_flag_list l = { NULL, NULL, 0 };
	bm_buf b = BM_BUF_INIT;
	fopts o;
	int rc = BM_EXIT_FAIL, prc;

	memset(&o, 0, sizeof(o));
	if ((prc = parse(&o, cli, argc, argv, allowed)) != 0) {
		fopts_dispose(&o);
		return prc > 0 ? BM_EXIT_OK : BM_EXIT_USAGE;
	}
	if (o.npos != 2) {
		fopts_dispose(&o);
		return cli_usage(usage, "flag export needs PROJECT ENV");
	}
	if (o.format && strcmp(o.format, "flagd")) {
		fopts_dispose(&o);
		return cli_usage(usage, "unknown --format %s (flagd is the one format)", o.format);
	}
	eo.channel_attr = o.channel_attr;
	eo.pretty = o.pretty;
	if (open_fs(&s, &fs, cli, o.at, o.pos[0], o.pos[1]) < 0 || bm_flag_load_all(&l, fs, o.pos[0], o.pos[1]) < 0 ||
	    bm_flag_export_flagd(&b, (const bm_flag *const *)l.items, l.count, &eo) < 0) {
		rc = cli_fail(cli, "flag export");
		goto done;
	}
	if (o.output) {
		if (bm_file_write_atomic(o.output, b.ptr, b.size, 0644) < 0) {
			rc = cli_fail(cli, "flag export");
			goto done;
		}
		cli_progress(cli, "wrote %zu flag%s to %s", l.count, l.count == 1 ? "" : "s", o.output);
	} else {
		fwrite(b.ptr, 1, b.size, stdout);
	}
	rc = BM_EXIT_OK;
done:
	bm_buf_dispose(&b);
	bm_flag_list_dispose(&l);
	bm_fs_free(fs);
	bm_store_free(s);
	fopts_dispose(&o);
	return rc;
}

static int do_set(bm_cli *cli, int argc, char **argv)
{
	return do_write(cli, argc, argv, 0);
}

static int do_disable(bm_cli *cli, int argc, char **argv)
{
	return do_write(cli, argc, argv, 1);
}

static int do_enable(bm_cli *cli, int argc, char **argv)
{
	return do_write(cli, argc, argv, 2);
}

static int do_get1(bm_cli *cli, int argc, char **argv)
{
	return do_get(cli, argc, argv, 0);
}

static int do_history(bm_cli *cli, int argc, char **argv)
{
	return do_get(cli, argc, argv, 1);
}

int cmd_flag(bm_cli *cli, int argc, char **argv)
{
	static const cli_command subs[] = {
		{ "set", NULL, do_set, CLI_WRITES, NULL },
		{ "disable", NULL, do_disable, CLI_WRITES, NULL },
		{ "enable", NULL, do_enable, CLI_WRITES, NULL },
		{ "get", NULL, do_get1, 0, NULL },
		{ "history", NULL, do_history, 0, NULL },
		{ "list", "ls", do_list, 0, NULL },
		{ "eval", NULL, do_eval, 0, NULL },
		{ "export", NULL, do_export, 0, NULL },
	};
	return CLI_RUN_SUB(cli, subs, usage, argc, argv);
}
