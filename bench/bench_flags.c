/* bench_flags.c: the feature-flag test set shared by the flagd compatibility test and the
 * flag benchmark, so both measure and compare exactly the same flags and keys.
 *
 *   bench_flags --dump DIR [--keys N] [--pretty]
 *                                       write DIR/flags.json (the flagd export; indented
 *                                       with --pretty, as `flag export --pretty`),
 *                                       DIR/meta.json (flag types, channels, the value
 *                                       flagd should fall back to), DIR/keys.txt (targeting
 *                                       keys, one a line; the first is empty = no key) and
 *                                       DIR/evals.tsv (bootmeta's answer for every flag x
 *                                       channel x key: flag, channel, key index, variant,
 *                                       reason, value as JSON)
 *   bench_flags --bench [--evals N]     time N in-process evaluations over the same set;
 *                                       prints "bootmeta <evals/s>" for the whole mix
 *                                       and "bootmeta-rollout <evals/s>" for one 50/50
 *                                       rollout (bool-half on stable: every eval hashes) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootmeta.h"

#define NFLAGS (sizeof(set) / sizeof(set[0]))

struct def {
	const char *key;
	bm_flag_type type;
	const char *variants[8];
	const char *def;
	const char *rules[6];
	int disabled;
};

/* Fixed, 50/50, 1/999, 3-way weighted, zero weights, the largest total, disabled, static,
 * every value type; channels with no rule fall to the default. */
static const struct def set[] = {
	{ "bool-fixed", BM_FLAG_TYPE_BOOL, { "on=true", "off=false" }, "off", { "beta=on", "stable=off" }, 0 },
	{ "bool-half", BM_FLAG_TYPE_BOOL, { "on=true", "off=false" }, "off", { "beta=on", "stable=on:1,off:1" }, 0 },
	{ "bool-tenth-pct", BM_FLAG_TYPE_BOOL, { "on=true", "off=false" }, "off",
	  { "stable=on:1,off:999", "canary=on:1,off:1", "beta=on" }, 0 },
	{ "color", BM_FLAG_TYPE_STRING, { "red=red", "green=green", "blue=the \"blue\" one" }, "red",
	  { "stable=red:5,green:3,blue:2", "beta=green:1,blue:1", "canary=blue" }, 0 },
	{ "timeout", BM_FLAG_TYPE_NUMBER, { "low=0.1", "mid=2.5", "high=-1e3", "big=12345678901234567" }, "mid",
	  { "stable=low:1,mid:1,high:1", "beta=high", "canary=low:7,mid:0,high:2,big:1" }, 0 },
	{ "layout", BM_FLAG_TYPE_JSON,
	  { "small={\"n\":1}", "big={\"n\":1000,\"list\":[1,2.5,\"x\"],\"nested\":{\"a\":true,\"b\":null}}" }, "small",
	  { "stable=small:9,big:1", "canary=big" }, 0 },
	{ "kill-switch", BM_FLAG_TYPE_BOOL, { "on=true", "off=false" }, "off", { "beta=on", "stable=on:1,off:1" }, 1 },
	{ "static-string", BM_FLAG_TYPE_STRING, { "a=alpha", "b=beta" }, "b", { NULL }, 0 },
	{ "edge-weights", BM_FLAG_TYPE_STRING, { "zero=z", "most=m", "one=o" }, "zero",
	  { "stable=zero:0,most:2147483646,one:1", "beta=one:1,most:1,zero:0" }, 0 },
	{ "ten-way", BM_FLAG_TYPE_NUMBER, { "v0=0", "v1=1", "v2=2", "v3=3", "v4=4", "v5=5", "v6=6", "v7=7" }, "v0",
	  { "stable=v0:1,v1:2,v2:3,v3:4,v4:5,v5:6,v6:7,v7:8", "beta=v7:100,v0:1", "canary=v3:1" }, 0 },
};

static const char *const channels[] = { "beta", "stable", "canary", "nightly", NULL };
#define NCHANNELS (sizeof(channels) / sizeof(channels[0]))

static int build_flags(bm_flag **flags)
{
	for (size_t i = 0; i < NFLAGS; i++) {
		bm_flag_spec spec = BM_FLAG_SPEC_INIT;
		size_t nv = 0, nr = 0;
		while (nv < 8 && set[i].variants[nv])
			nv++;
		while (nr < 6 && set[i].rules[nr])
			nr++;
		spec.project = "shop/server";
		spec.env = "prod";
		spec.key = set[i].key;
		spec.type = set[i].type;
		spec.variants = set[i].variants;
		spec.nvariants = nv;
		spec.default_variant = set[i].def;
		spec.rules = set[i].rules;
		spec.nrules = nr;
		spec.disabled = set[i].disabled;
		if (bm_flag_from_spec(&flags[i], &spec) < 0) {
			fprintf(stderr, "bench_flags: flag %s: %s\n", set[i].key, bm_error_last());
			return -1;
		}
	}
	return 0;
}

/* Deterministic, varied ASCII keys: host names, hex ids, e-mail addresses, long ones.
 * Key 0 is "" (no targeting key). */
static char **make_keys(size_t n)
{
	char **keys = calloc(n, sizeof(*keys));
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;
	if (!keys)
		return NULL;
	for (i = 0; i < n; i++) {
		char buf[160];
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (i % 5) {
		case 0:
			if (i)
				snprintf(buf, sizeof(buf), "host-%zu", i);
			else
				buf[0] = '\0';
			break;
		case 1: snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)x); break;
		case 2: snprintf(buf, sizeof(buf), "user%llu@example.com", (unsigned long long)(x % 1000000)); break;
		case 3: snprintf(buf, sizeof(buf), "%zu", i); break;
		default:
			snprintf(buf, sizeof(buf), "prod/eu-west-1/instance-%llx-%llx/replica-%zu",
				 (unsigned long long)(x >> 20), (unsigned long long)(x & 0xfffff), i % 7);
		}
		if (!(keys[i] = strdup(buf)))
			return NULL;
	}
	return keys;
}

static const char *js_type(bm_flag_type t)
{
	switch (t) {
	case BM_FLAG_TYPE_BOOL: return "boolean";
	case BM_FLAG_TYPE_NUMBER: return "number";
	case BM_FLAG_TYPE_JSON: return "object";
	default: return "string";
	}
}

static int write_file(const char *dir, const char *name, const bm_buf *b)
{
	char path[4096];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w")) || fwrite(b->ptr, 1, b->size, f) != b->size || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

static int dump(const char *dir, bm_flag **flags, char **keys, size_t nkeys, int pretty)
{
	bm_flag_export_options eo = BM_FLAG_EXPORT_OPTIONS_INIT;
	bm_buf b = BM_BUF_INIT;
	size_t i, c, k;
	int rc = -1;

	eo.pretty = pretty;
	if (bm_flag_export_flagd(&b, (const bm_flag *const *)flags, NFLAGS, &eo) < 0) {
		fprintf(stderr, "bench_flags: export: %s\n", bm_error_last());
		goto done;
	}
	if (write_file(dir, "flags.json", &b) < 0)
		goto done;

	bm_buf_clear(&b);
	bm_buf_puts(&b, "{\"flags\":[");
	for (i = 0; i < NFLAGS; i++) {
		bm_buf_printf(&b, "%s{\"key\":\"%s\",\"type\":\"%s\",\"default\":", i ? "," : "", flags[i]->key,
			      js_type(flags[i]->type));
		bm_flag_value_to_json(&b, &flags[i]->variants[flags[i]->default_variant]);
		bm_buf_putc(&b, '}');
	}
	bm_buf_puts(&b, "],\"channels\":[");
	for (c = 0; c < NCHANNELS; c++)
		bm_buf_printf(&b, "%s%s%s%s", c ? "," : "", channels[c] ? "\"" : "", channels[c] ? channels[c] : "null",
			      channels[c] ? "\"" : "");
	bm_buf_puts(&b, "]}\n");
	if (write_file(dir, "meta.json", &b) < 0)
		goto done;

	bm_buf_clear(&b);
	for (k = 0; k < nkeys; k++)
		bm_buf_printf(&b, "%s\n", keys[k]);
	if (write_file(dir, "keys.txt", &b) < 0)
		goto done;

	bm_buf_clear(&b);
	for (i = 0; i < NFLAGS; i++) {
		for (c = 0; c < NCHANNELS; c++) {
			for (k = 0; k < nkeys; k++) {
				bm_flag_result r;
				if (bm_flag_eval(&r, flags[i], channels[c], keys[k], NULL) < 0) {
					fprintf(stderr, "bench_flags: eval: %s\n", bm_error_last());
					goto done;
				}
				bm_buf_printf(&b, "%s\t%s\t%zu\t%s\t%s\t", flags[i]->key, channels[c] ? channels[c] : "",
					      k, r.variant, bm_flag_reason_str(r.reason));
				bm_flag_value_to_json(&b, r.value);
				if (bm_buf_putc(&b, '\n') < 0)
					goto done;
			}
		}
	}
	if (write_file(dir, "evals.tsv", &b) < 0)
		goto done;
	printf("bench_flags: %zu flags x %zu channels x %zu keys = %zu evaluations written to %s\n",
	       NFLAGS, NCHANNELS, nkeys, NFLAGS * NCHANNELS * nkeys, dir);
	rc = 0;
done:
	bm_buf_dispose(&b);
	return rc;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The rollout case: one weighted rule, so every evaluation hashes (bool-half on stable). */
static int bench_rollout(bm_flag **flags, char **keys, size_t nkeys, size_t nevals)
{
	volatile size_t sink = 0;
	size_t n = 0, k, acc = 0;
	double t0, t1;
	bm_flag_result r;

	for (k = 0; k < nkeys; k++)
		if (bm_flag_eval(&r, flags[1], "stable", keys[k], NULL) == 0)
			acc += r.variant_index;
	t0 = now();
	while (n < nevals) {
		for (k = 0; k < nkeys && n < nevals; k++, n++) {
			bm_flag_eval(&r, flags[1], "stable", keys[k], NULL);
			acc += r.variant_index;
		}
	}
	t1 = now();
	sink = acc;
	(void)sink;
	printf("bootmeta-rollout %.0f evals/s (%zu evaluations in %.3f s, 1 thread)\n", (double)n / (t1 - t0), n, t1 - t0);
	return 0;
}

/* The same mix the node benchmark runs: every flag, channel and key in turn. */
static int bench(bm_flag **flags, char **keys, size_t nkeys, size_t nevals)
{
	volatile size_t sink = 0;
	size_t n = 0, i, c, k, acc = 0;
	double t0, t1;
	bm_flag_result r;

	for (k = 0; k < nkeys && k < 2000; k++)   /* warm-up */
		for (i = 0; i < NFLAGS; i++)
			for (c = 0; c < NCHANNELS; c++)
				if (bm_flag_eval(&r, flags[i], channels[c], keys[k], NULL) == 0)
					acc += r.variant_index;
	t0 = now();
	while (n < nevals) {
		for (k = 0; k < nkeys && n < nevals; k++) {
			for (i = 0; i < NFLAGS; i++) {
				for (c = 0; c < NCHANNELS; c++) {
					bm_flag_eval(&r, flags[i], channels[c], keys[k], NULL);
					acc += r.variant_index;
				}
			}
			n += NFLAGS * NCHANNELS;
		}
	}
	t1 = now();
	sink = acc;
	(void)sink;
	printf("bootmeta %.0f evals/s (%zu evaluations in %.3f s, 1 thread)\n", (double)n / (t1 - t0), n, t1 - t0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	size_t nkeys = 10000, nevals = 20000000, i;
	int do_bench = 0, pretty = 0, rc = 1;
	bm_flag *flags[NFLAGS] = { 0 };
	char **keys = NULL;

	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--dump") && i + 1 < (size_t)argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--keys") && i + 1 < (size_t)argc)
			nkeys = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--evals") && i + 1 < (size_t)argc)
			nevals = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--bench"))
			do_bench = 1;
		else if (!strcmp(argv[i], "--pretty"))
			pretty = 1;
		else {
			fprintf(stderr, "usage: bench_flags --dump DIR [--keys N] [--pretty] | --bench [--evals N] [--keys N]\n");
			return 2;
		}
	}
	if ((!dir && !do_bench) || nkeys == 0) {
		fprintf(stderr, "usage: bench_flags --dump DIR [--keys N] [--pretty] | --bench [--evals N] [--keys N]\n");
		return 2;
	}
	if (build_flags(flags) < 0 || !(keys = make_keys(nkeys)))
		goto done;
	if (dir && dump(dir, flags, keys, nkeys, pretty) < 0)
		goto done;
	if (do_bench && (bench(flags, keys, nkeys, nevals) < 0 || bench_rollout(flags, keys, nkeys, nevals) < 0))
		goto done;
	rc = 0;
done:
	for (i = 0; i < NFLAGS; i++)
		bm_flag_free(flags[i]);
	for (i = 0; keys && i < nkeys; i++)
		free(keys[i]);
	free(keys);
	return rc;
}
