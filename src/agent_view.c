/* agent_view.c: serve's answer for the binary a host should run, into records (agent_view.h). */
#include "agent_view.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void agent_view_dispose(agent_view *v)
{
	bm_meta_free(v->binary);
	bm_fs_free(v->fs);
	memset(v, 0, sizeof(*v));
}

static int put_record(bm_fs *fs, const char *path, const ProtobufCMessage *m)
{
	bm_buf packed = BM_BUF_INIT;
	int error = bm_record_encode(&packed, m);
	if (!error)
		error = bm_fs_mem_put(fs, path, packed.ptr, packed.size);
	bm_buf_dispose(&packed);
	return error;
}

static int json_record(ProtobufCMessage **out, json_t *j, const ProtobufCMessageDescriptor *d)
{
	char *text;
	int error;
	if (!json_is_object(j))
		return bm_error_set(BM_EINVALID, "not a JSON object");
	if (!(text = json_dumps(j, JSON_COMPACT)))
		return bm_error_set(BM_ENOMEM, "out of memory");
	error = bm_pbjson_read(out, d, text, strlen(text));
	free(text);
	return error;
}

int agent_view_parse(agent_view *v, const char *json, size_t len)
{
	bm_buf path = BM_BUF_INIT;
	json_t *j, *sigs, *ts;
	const char *s;
	char *end;
	size_t i;
	int error = 0;

	memset(v, 0, sizeof(*v));
	if (!(j = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(j)) {
		json_decref(j);
		return bm_error_set(BM_EINVALID, "the answer is not a JSON object");
	}
	s = json_string_value(json_object_get(j, "seq"));
	v->seq = s && *s >= '1' && *s <= '9' ? strtoull(s, &end, 10) : 0;
	if (!v->seq || *end) {
		error = bm_error_set(BM_EINVALID, "the answer has no valid \"seq\"");
		goto done;
	}
	s = json_string_value(json_object_get(j, "release"));
	if (!s || strlen(s) >= sizeof(v->release) || bm_name_validate(s, BM_NAME_RELEASE) < 0) {
		error = bm_error_set(BM_EINVALID, "the answer has no valid \"release\"");
		goto done;
	}
	memcpy(v->release, s, strlen(s) + 1);
	s = json_string_value(json_object_get(j, "metaCommit"));
	if (s && bm_commit_hash_check(s) == 0)
		memcpy(v->meta, s, strlen(s) + 1);
	bm_error_clear();
	if ((error = json_record((ProtobufCMessage **)&v->binary, json_object_get(j, "binary"),
				 &bootmeta__v1__binary__descriptor)) < 0) {
		error = bm_error_prefix(error, "the binary record");
		goto done;
	}
	if ((error = bm_sha256_check(v->binary->sha256)) < 0) {
		error = bm_error_prefix(error, "the binary record's sha256");
		goto done;
	}
	if ((error = bm_fs_mem(&v->fs)) < 0 || (error = bm_path_binary(&path, v->binary->sha256)) < 0 ||
	    (error = put_record(v->fs, path.ptr, &v->binary->base)) < 0)
		goto done;
	if ((ts = json_object_get(j, "timestamp"))) {
		const char *st = json_string_value(json_object_get(ts, "statement"));
		const char *sg = json_string_value(json_object_get(ts, "signature"));
		if (!st || !sg || !*st || !*sg || strlen(st) >= sizeof(v->ts_statement) ||
		    strlen(sg) >= sizeof(v->ts_signature)) {
			error = bm_error_set(BM_EINVALID, "the answer's \"timestamp\" is not an object of a statement "
						       "and a signature (strings, under %d bytes)", AGENT_VIEW_TS_MAX);
			goto done;
		}
		memcpy(v->ts_statement, st, strlen(st) + 1);
		memcpy(v->ts_signature, sg, strlen(sg) + 1);
	}
	sigs = json_object_get(j, "signatures");
	for (i = 0; json_is_array(sigs) && i < json_array_size(sigs) && i < 64; i++) {
		Bootmeta__V1__BinarySignature *sig = NULL;
		if (json_record((ProtobufCMessage **)&sig, json_array_get(sigs, i),
				&bootmeta__v1__binary_signature__descriptor) == 0 &&
		    bm_path_binary_signature(&path, sig->sha256, sig->signer_key_id) == 0 &&
		    (error = put_record(v->fs, path.ptr, &sig->base)) < 0 && error == BM_ENOMEM) {
			bm_meta_free(sig);
			goto done;
		}
		error = 0;
		bm_error_clear();
		bm_meta_free(sig);
	}
done:
	json_decref(j);
	bm_buf_dispose(&path);
	if (error < 0)
		agent_view_dispose(v); /* frees only: the error stays */
	return error;
}
