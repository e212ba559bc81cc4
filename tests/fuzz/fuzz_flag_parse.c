/* fuzz_flag_parse.c: the flag text parser (variants, default, rules as the CLI takes
 * them) and the record decoder. Input: lines
 *   type bool|string|number|json|auto
 *   variant NAME=VALUE
 *   default NAME
 *   rule CHANNEL=VARIANT | CHANNEL=V:W,V:W...
 *   disabled
 * Whatever parses must survive the record round trip unchanged, re-read its own rule
 * text identically, evaluate to a valid variant and export. The raw input is also fed to
 * bm_flag_decode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"

#define MAXV 80
#define MAXR 300

static void check(int cond)
{
	if (!cond)
		abort();
}

static void same_json(const bm_flag *a, const bm_flag *b)
{
	bm_buf ja = BM_BUF_INIT, jb = BM_BUF_INIT;
	check(bm_flag_to_json(&ja, a) == 0);
	check(bm_flag_to_json(&jb, b) == 0);
	check(ja.size == jb.size && !memcmp(ja.ptr, jb.ptr, ja.size));
	bm_buf_dispose(&ja);
	bm_buf_dispose(&jb);
}

static void exercise(bm_flag *f)
{
	static const char *const keys[] = { NULL, "", "host-1", "user@example.com", "\xff\xfe" };
	bm_flag *g = NULL, *h = NULL;
	bm_buf b = BM_BUF_INIT;
	bm_flag_result r;
	size_t i, k;

	check(bm_flag_encode(&b, f) == 0);
	check(bm_flag_decode(&g, b.ptr, b.size) == 0);
	same_json(f, g);

	/* Each rule's text form reads back to the same rule. */
	check(bm_flag_dup(&h, f) == 0);
	for (i = 0; i < f->nrules; i++) {
		bm_buf_clear(&b);
		check(bm_flag_rule_format(&b, f, &f->rules[i]) == 0);
		check(bm_flag_set_rule(h, b.ptr) == 0);
	}
	same_json(f, h);

	for (i = 0; i <= f->nrules; i++) {
		const char *ch = i < f->nrules ? f->rules[i].channel : "no-such-channel";
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			check(bm_flag_eval(&r, f, ch, keys[k], NULL) == 0);
			check(r.variant_index < f->nvariants && r.value == &f->variants[r.variant_index]);
			bm_buf_clear(&b);
			check(bm_flag_result_to_json(&b, f, &r) == 0);
		}
	}
	bm_buf_clear(&b);
	{
		const bm_flag *list[1] = { f };
		check(bm_flag_export_flagd(&b, list, 1, NULL) == 0);
	}
	bm_flag_free(g);
	bm_flag_free(h);
	bm_buf_dispose(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bm_flag_spec spec = BM_FLAG_SPEC_INIT;
	const char *variants[MAXV], *rules[MAXR];
	char *text, *line, *save = NULL;
	bm_flag *f = NULL;

	/* The decoder must refuse or accept, never crash; what it accepts must be usable. */
	if (bm_flag_decode(&f, data, size) == 0) {
		exercise(f);
		bm_flag_free(f);
		f = NULL;
	}

	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	spec.project = "shop/server";
	spec.env = "prod";
	spec.key = "fuzz-flag";
	spec.variants = variants;
	spec.rules = rules;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "type ", 5)) {
			bm_flag_type t;
			if (bm_flag_type_parse(&t, line + 5) == 0)
				spec.type = t;
		} else if (!strncmp(line, "variant ", 8) && spec.nvariants < MAXV) {
			variants[spec.nvariants++] = line + 8;
		} else if (!strncmp(line, "default ", 8)) {
			spec.default_variant = line + 8;
		} else if (!strncmp(line, "rule ", 5) && spec.nrules < MAXR) {
			rules[spec.nrules++] = line + 5;
		} else if (!strcmp(line, "disabled")) {
			spec.disabled = 1;
		}
	}
	if (bm_flag_from_spec(&f, &spec) == 0) {
		exercise(f);
		bm_flag_free(f);
	} else {
		check(f == NULL && bm_error_last()[0] != '\0');
	}
	free(text);
	return 0;
}
