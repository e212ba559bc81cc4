/* fuzz_pbjson.c: JSON text from outside -> message -> JSON, for every field type
 * (TestAllTypes) and real records (Release; InstanceReport, which agents send). Whatever
 * reads must write, and what is written must read back to the same text: compact, pretty,
 * with defaults, and through the wire format. Any difference aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootmeta.h"
#include "bootmeta/v1/core.pb-c.h"
#include "bootmeta/v1/instance.pb-c.h"
#include "bootmeta/v1/testing.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int ok, const char *what, const char *a, const char *b)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_pbjson: %s\n  first:  %s\n  second: %s\n  error: %s\n", what,
		a ? a : "", b ? b : "", bm_error_last());
	abort();
}

/* Read `json` as `d` and write it as `opts` says; NULL when it does not read. */
static char *reread(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
		    const bm_pbjson_options *opts)
{
	ProtobufCMessage *m = NULL;
	bm_buf out = BM_BUF_INIT;
	if (bm_pbjson_read(&m, d, json, len) < 0)
		return NULL;
	must(bm_pbjson_write(&out, m, opts) == 0, "a message that read does not write", json, NULL);
	bm_record_free(m);
	return bm_buf_detach(&out);
}

static void one(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t size)
{
	bm_pbjson_options pretty = BM_PBJSON_OPTIONS_INIT, defaults = BM_PBJSON_OPTIONS_INIT;
	ProtobufCMessage *m = NULL, *back = NULL;
	bm_buf json = BM_BUF_INIT, wire = BM_BUF_INIT, again = BM_BUF_INIT;
	char *s;
	if (bm_pbjson_read(&m, d, (const char *)data, size) < 0)
		return;
	must(bm_pbjson_write(&json, m, NULL) == 0, "write", NULL, NULL);
	must(bm_utf8_valid(json.ptr, json.size), "output is not UTF-8", json.ptr, NULL);

	s = reread(d, json.ptr, json.size, NULL);
	must(s && strcmp(s, json.ptr) == 0, "compact JSON does not read back the same", json.ptr, s);
	free(s);

	pretty.pretty = 1;
	must(bm_pbjson_write(&again, m, &pretty) == 0, "pretty write", NULL, NULL);
	s = reread(d, again.ptr, again.size, NULL);
	must(s && strcmp(s, json.ptr) == 0, "pretty JSON does not read back the same", json.ptr, s);
	free(s);

	bm_buf_clear(&again);
	defaults.emit_defaults = 1;
	defaults.proto_names = 1;
	must(bm_pbjson_write(&again, m, &defaults) == 0, "write with defaults", NULL, NULL);
	s = reread(d, again.ptr, again.size, NULL);
	must(s && strcmp(s, json.ptr) == 0, "JSON with defaults does not read back the same", json.ptr, s);
	free(s);

	/* through the wire format; a record over the size bound may not encode */
	if (bm_record_encode(&wire, m) == 0) {
		must(bm_record_decode(&back, d, wire.ptr, wire.size) == 0, "encoded record does not decode",
		     json.ptr, NULL);
		bm_buf_clear(&again);
		must(bm_pbjson_write(&again, back, NULL) == 0, "decoded record does not write", NULL, NULL);
		must(strcmp(again.ptr, json.ptr) == 0, "wire round trip changed the JSON", json.ptr, again.ptr);
	}
	bm_record_free(back);
	bm_record_free(m);
	bm_buf_dispose(&json);
	bm_buf_dispose(&wire);
	bm_buf_dispose(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(&bootmeta__v1__test_all_types__descriptor, data, size);
	one(&bootmeta__v1__release__descriptor, data, size);
	one(&bootmeta__v1__instance_report__descriptor, data, size);
	/* and the same bytes as a record file */
	{
		ProtobufCMessage *m = NULL;
		bm_buf out = BM_BUF_INIT;
		if (bm_record_decode(&m, &bootmeta__v1__test_all_types__descriptor, data, size) == 0) {
			must(bm_pbjson_write(&out, m, NULL) == 0, "decoded record does not write", NULL, NULL);
			bm_record_free(m);
			bm_buf_dispose(&out);
		}
	}
	return 0;
}
