/* serve_read.c: the read routes of `bootmeta serve` (doc/http-api.md). Every answer reads
 * one commit (the tip, or ?at=COMMIT) and names it in ETag and X-Bootmeta-Commit. JSON is
 * the proto3 mapping the CLI's --json prints; Accept: application/x-protobuf gives a
 * record's bytes as stored. */
#include "serve.h"
#include "cli_cfg.h"

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* contrib/bootstrap.sh and contrib/systemd/bootmeta-agent@.service (gen/serve_embed.c) */
extern const unsigned char serve_embed_bootstrap_sh[], serve_embed_agent_unit[];
extern const size_t serve_embed_bootstrap_sh_len, serve_embed_agent_unit_len;

static const char *arg(const serve_rq *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* parts[from..to) joined with '/' */
static int join(bm_buf *out, char **parts, size_t from, size_t to)
{
	size_t i;
	int error = 0;
	bm_buf_clear(out);
	for (i = from; i < to && !error; i++)
		error = bm_buf_printf(out, "%s%s", i > from ? "/" : "", parts[i]);
	if (!error && !out->ptr)
		error = bm_buf_puts(out, "");
	return error;
}

int serve_record_json(bm_buf *out, bm_fs *fs, const char *path)
{
	const ProtobufCMessageDescriptor *d = NULL;
	ProtobufCMessage *m = NULL;
	bm_buf data = BM_BUF_INIT;
	int error;
	if ((error = bm_fs_read(&data, fs, path)) < 0)
		goto done;
	switch (bm_record_kind_for_path(path, &d)) {
	case BM_FILE_RECORD:
		if ((error = bm_record_decode(&m, d, data.ptr, data.size)) < 0) {
			error = bm_error_prefix(error, "%s", path);
			goto done;
		}
		if (d == &bootmeta__v1__webhook__descriptor)
			((Bootmeta__V1__Webhook *)m)->secret_age.len = 0; /* serve's answers never carry it */
		{
			bm_pbjson_options o = BM_PBJSON_OPTIONS_INIT;
			error = bm_pbjson_write(out, m, &o);
		}
		bm_record_free(m);
		break;
	case BM_FILE_TEXT:
		if ((error = bm_buf_puts(out, "{\"text\":")) == 0 && (error = bm_json_escape(out, data.ptr ? data.ptr : "")) == 0)
			error = bm_buf_putc(out, '}');
		break;
	case BM_FILE_AGE:
		error = bm_buf_printf(out, "{\"kind\":\"age\",\"size\":\"%zu\"}", data.size);
		break;
	default:
		error = bm_error_set(BM_EUNSUPPORTED, "%s is not a file bootmeta knows the type of", path);
	}
done:
	bm_buf_dispose(&data);
	return error;
}

/* The view to read: ?at=COMMIT or the tip. Fills the answer's ETag. */
static int open_view(bm_fs **fs, bm_store **st, serve *s, const serve_rq *r, serve_answer *a)
{
	const char *at = arg(r, "at");
	bm_oid commit;
	int error;
	*fs = NULL;
	if (!(*st = serve_thread_store(s))) {
		serve_answer_error(a, 503, 0, "the meta repo cannot be opened; see serve's log");
		return -1;
	}
	if (at) {
		if ((error = bm_store_resolve(&commit, *st, at)) < 0) {
			serve_answer_error(a, 404, error, "at=%s: %s", at, bm_error_last());
			return -1;
		}
	} else if ((error = bm_store_tip(&commit, *st)) < 0) {
		serve_answer_error(a, serve_status_of(error), error, "%s", bm_error_last());
		return -1;
	}
	if ((error = bm_store_fs(fs, *st, &commit)) < 0) {
		serve_answer_error(a, serve_status_of(error), error, "%s", bm_error_last());
		return -1;
	}
	bm_oid_fmt(a->etag, &commit);
	return 0;
}

static void lib_error(serve_answer *a, int error)
{
	char etag[sizeof(a->etag)];
	memcpy(etag, a->etag, sizeof(etag));
	serve_answer_error(a, serve_status_of(error), error, "%s", bm_error_last());
	memcpy(a->etag, etag, sizeof(etag));
}

/* a record at `path`: JSON, or its bytes for Accept: application/x-protobuf */
static void answer_record(serve_answer *a, bm_fs *fs, const char *path, int want_proto)
{
	int error;
	if (want_proto && bm_record_type_for_path(path)) {
		if ((error = bm_fs_read(&a->body, fs, path)) < 0) {
			lib_error(a, error);
			return;
		}
		a->ctype = "application/x-protobuf";
		return;
	}
	if ((error = serve_record_json(&a->body, fs, path)) < 0 || (error = bm_buf_putc(&a->body, '\n')) < 0)
		lib_error(a, error);
}

static void answer_ls(serve_answer *a, bm_fs *fs, const char *path)
{
	bm_strlist l = BM_STRLIST_INIT;
	size_t i;
	int error;
	if (bm_fs_exists(fs, path) == 1) {
		serve_answer_error(a, 400, BM_EINVALID, "%s is a file; read it at /v1/records/%s", path, path);
		return;
	}
	if ((error = bm_fs_list(&l, fs, path)) < 0) {
		lib_error(a, error);
		return;
	}
	bm_buf_puts(&a->body, "{\"path\":");
	bm_json_escape(&a->body, path);
	bm_buf_puts(&a->body, ",\"entries\":[");
	for (i = 0; i < l.count; i++) {
		if (i)
			bm_buf_putc(&a->body, ',');
		bm_json_escape(&a->body, l.items[i]);
	}
	bm_buf_puts(&a->body, "]}\n");
	bm_strlist_dispose(&l);
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	return bm_buf_put(data, buf, size) < 0 ? -1 : 0;
}

static void answer_json(serve_answer *a, json_t *j)
{
	if (json_dump_callback(j, dump_cb, &a->body, JSON_COMPACT | JSON_REAL_PRECISION(16)) < 0)
		serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
	else
		bm_buf_putc(&a->body, '\n');
	json_decref(j);
}

static void answer_config(serve_answer *a, bm_fs *fs, const char *project, const char *env, const char *format)
{
	bm_config *c = NULL;
	size_t i;
	int error;
	if (format && strcmp(format, "json") && strcmp(format, "env")) {
		serve_answer_error(a, 400, BM_EINVALID, "format=%s: give json or env", format);
		return;
	}
	if ((error = cli_need_project_env(fs, project, env)) < 0 || (error = bm_config_resolve_fs(&c, fs, project, env)) < 0) {
		lib_error(a, error);
		return;
	}
	if (format && !strcmp(format, "env")) {
		if ((error = bm_config_format_env(&a->body, c, BM_CONFIG_ENV_PORTABLE)) < 0)
			lib_error(a, error);
		a->ctype = "text/plain; charset=utf-8";
	} else {
		json_t *r = json_object(), *ch = json_array(), *vals = json_object();
		json_object_set_new(r, "project", cli_jstr(c->project));
		json_object_set_new(r, "env", cli_jstr(c->env));
		for (i = 0; i < c->chain.count; i++)
			json_array_append_new(ch, cli_jstr(c->chain.items[i]));
		json_object_set_new(r, "chain", ch);
		json_object_set_new(r, "metaCommit", cli_jstr(a->etag));
		for (i = 0; i < c->count; i++)
			json_object_set_new(vals, c->values[i].key, cli_config_value_full_json(&c->values[i]));
		json_object_set_new(r, "values", vals);
		answer_json(a, r);
	}
	bm_config_free(c);
}

static void answer_flag(serve_answer *a, const serve_rq *r, bm_fs *fs, const char *project, const char *env,
			const char *key)
{
	bm_flag *f = NULL;
	bm_flag_result res;
	int error;
	if ((error = cli_need_project_env(fs, project, env)) < 0 || (error = bm_flag_load(&f, fs, project, env, key)) < 0) {
		lib_error(a, error);
		return;
	}
	if ((error = bm_flag_eval(&res, f, arg(r, "channel"), arg(r, "key"), NULL)) < 0 ||
	    (error = bm_flag_result_to_json(&a->body, f, &res)) < 0 || (error = bm_buf_putc(&a->body, '\n')) < 0)
		lib_error(a, error);
	bm_flag_free(f);
}

static void answer_flags(serve_answer *a, const serve_rq *r, bm_fs *fs, const char *project, const char *env)
{
	bm_flag_list l = { 0 };
	const char *format = arg(r, "format");
	size_t i;
	int error;
	if ((error = cli_need_project_env(fs, project, env)) < 0 || (error = bm_flag_load_all(&l, fs, project, env)) < 0) {
		lib_error(a, error);
		return;
	}
	if (format && !strcmp(format, "flagd")) {
		if ((error = bm_flag_export_flagd(&a->body, (const bm_flag *const *)l.items, l.count, NULL)) < 0)
			lib_error(a, error);
	} else if (format && strcmp(format, "json")) {
		serve_answer_error(a, 400, BM_EINVALID, "format=%s: give json or flagd", format);
	} else {
		bm_buf_puts(&a->body, "{\"flags\":[");
		for (i = 0; i < l.count && !error; i++) {
			if (i)
				bm_buf_putc(&a->body, ',');
			error = bm_flag_to_json(&a->body, l.items[i]);
		}
		bm_buf_puts(&a->body, "]}\n");
		if (error < 0)
			lib_error(a, error);
	}
	bm_flag_list_dispose(&l);
}

/* The binary of the release a channel points at, for one platform. The binaries of a
 * release are found by their records (binaries/<aa>/<sha256>.pb name their project and
 * release); the scan is remembered per thread for the tree it read. */
typedef struct {
	bm_oid tree;
	int valid;
	char **paths;       /* binary record paths */
	char **keys;        /* "project\nrelease\nos\narch" */
	size_t n;
} bin_index;

static __thread bin_index *tls_bins;

static void bin_index_clear(bin_index *b)
{
	size_t i;
	for (i = 0; i < b->n; i++) {
		free(b->paths[i]);
		free(b->keys[i]);
	}
	free(b->paths);
	free(b->keys);
	b->paths = b->keys = NULL;
	b->n = 0;
	b->valid = 0;
}

static void bin_index_free(void *p)
{
	if (p) {
		bin_index_clear(p);
		free(p);
	}
}

static pthread_key_t bins_key;
static pthread_once_t bins_once = PTHREAD_ONCE_INIT;
static void bins_key_make(void)
{
	pthread_key_create(&bins_key, bin_index_free);
}

static int bin_index_build(bin_index *b, bm_fs *fs)
{
	bm_strlist top = BM_STRLIST_INIT, sub = BM_STRLIST_INIT;
	bm_buf dir = BM_BUF_INIT, path = BM_BUF_INIT, data = BM_BUF_INIT;
	size_t i, j, cap = 0;
	int error;
	bin_index_clear(b);
	if ((error = bm_fs_list_or_empty(&top, fs, "binaries")) < 0)
		goto done;
	for (i = 0; i < top.count && !error; i++) {
		if (strlen(top.items[i]) != 3 || top.items[i][2] != '/')
			continue;
		bm_buf_clear(&dir);
		bm_strlist_dispose(&sub);
		if ((error = bm_buf_printf(&dir, "binaries/%s", top.items[i])) < 0 ||
		    (error = bm_fs_list(&sub, fs, dir.ptr)) < 0)
			goto done;
		for (j = 0; j < sub.count; j++) {
			Bootmeta__V1__Binary *bin = NULL;
			size_t len = strlen(sub.items[j]);
			if (len != 67 || strcmp(sub.items[j] + 64, ".pb"))
				continue;
			bm_buf_clear(&path);
			bm_buf_clear(&data);
			if ((error = bm_buf_printf(&path, "%s%s", dir.ptr, sub.items[j])) < 0)
				goto done;
			if (bm_fs_read(&data, fs, path.ptr) < 0 ||
			    bm_record_decode((ProtobufCMessage **)&bin, &bootmeta__v1__binary__descriptor, data.ptr, data.size) < 0) {
				bm_error_clear();
				continue; /* a damaged record is not offered to hosts */
			}
			if (b->n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				char **np = realloc(b->paths, nc * sizeof(char *)), **nk;
				if (np)
					b->paths = np;
				nk = np ? realloc(b->keys, nc * sizeof(char *)) : NULL;
				if (!np || !nk) {
					bm_record_free(&bin->base);
					error = bm_error_set(BM_ENOMEM, "out of memory");
					goto done;
				}
				b->keys = nk;
				cap = nc;
			}
			{
				bm_buf k = BM_BUF_INIT;
				bm_buf_printf(&k, "%s\n%s\n%s\n%s", bin->project, bin->release, bin->os, bin->arch);
				b->keys[b->n] = k.ptr;
				b->paths[b->n] = strdup(path.ptr);
				b->n++;
			}
			bm_record_free(&bin->base);
		}
	}
	b->valid = 1;
done:
	bm_strlist_dispose(&top);
	bm_strlist_dispose(&sub);
	bm_buf_dispose(&dir);
	bm_buf_dispose(&path);
	bm_buf_dispose(&data);
	return error;
}

/* One shell variable assignment, the value in single quotes. */
static void sh_var(bm_buf *out, const char *name, const char *value)
{
	bm_buf_printf(out, "%s='", name);
	for (; *value; value++)
		if (*value == '\'')
			bm_buf_puts(out, "'\\''");
		else
			bm_buf_putc(out, *value);
	bm_buf_puts(out, "'\n");
}

/* The binary as shell variables (format=env), for the bootstrap script: no JSON parser on a
 * new host. BM_MINISIG_B64 is the record's own signature (else the first one added later). */
static void answer_binary_env(serve_answer *a, bm_fs *fs, const Bootmeta__V1__ChannelEntry *e, const char *path,
			      size_t matches)
{
	Bootmeta__V1__Binary *bin = NULL;
	bm_buf v = BM_BUF_INIT, sigdir = BM_BUF_INIT;
	bm_strlist sigs = BM_STRLIST_INIT;
	const char *minisig;
	char sha[65], *b64 = NULL;
	Bootmeta__V1__BinarySignature *added = NULL;
	size_t i;
	int error;

	snprintf(sha, sizeof(sha), "%.64s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	if ((error = bm_binary_get(&bin, fs, sha)) < 0) {
		lib_error(a, error);
		goto done;
	}
	minisig = bin->signature;
	if (!*minisig) {
		bm_buf_printf(&sigdir, "%.*s.sig", (int)(strlen(path) - 3), path);
		if (bm_fs_list_or_empty(&sigs, fs, sigdir.ptr) == 0 && sigs.count) {
			bm_buf p = BM_BUF_INIT, data = BM_BUF_INIT;
			bm_buf_printf(&p, "%s/%s", sigdir.ptr, sigs.items[0]);
			if (bm_fs_read(&data, fs, p.ptr) == 0 &&
			    bm_record_decode((ProtobufCMessage **)&added, &bootmeta__v1__binary_signature__descriptor, data.ptr,
					     data.size) == 0)
				minisig = added->signature;
			bm_buf_dispose(&p);
			bm_buf_dispose(&data);
		}
		bm_error_clear();
	}
	a->ctype = "text/plain; charset=utf-8";
	sh_var(&a->body, "BM_PROJECT", e->project);
	sh_var(&a->body, "BM_CHANNEL", e->channel);
	sh_var(&a->body, "BM_RELEASE", e->release);
	bm_buf_printf(&v, "%llu", (unsigned long long)e->seq);
	sh_var(&a->body, "BM_SEQ", v.ptr);
	sh_var(&a->body, "BM_META", a->etag);
	sh_var(&a->body, "BM_SHA256", bin->sha256);
	bm_buf_clear(&v);
	bm_buf_printf(&v, "%llu", (unsigned long long)bin->size);
	sh_var(&a->body, "BM_SIZE", v.ptr);
	sh_var(&a->body, "BM_OS", bin->os);
	sh_var(&a->body, "BM_ARCH", bin->arch);
	for (i = 0; i < bin->n_urls; i++) {
		char name[32];
		snprintf(name, sizeof(name), "BM_URL_%zu", i + 1);
		sh_var(&a->body, name, bin->urls[i]);
	}
	bm_buf_printf(&a->body, "BM_URL_COUNT=%zu\nBM_CANDIDATES=%zu\n", bin->n_urls, matches);
	if (*minisig) {
		size_t n = sodium_base64_ENCODED_LEN(strlen(minisig), sodium_base64_VARIANT_ORIGINAL);
		if (!(b64 = malloc(n))) {
			serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
			goto done;
		}
		sodium_bin2base64(b64, n, (const unsigned char *)minisig, strlen(minisig), sodium_base64_VARIANT_ORIGINAL);
		sh_var(&a->body, "BM_MINISIG_B64", b64);
	} else {
		sh_var(&a->body, "BM_MINISIG_B64", "");
	}
done:
	free(b64);
	bm_meta_free(added);
	bm_meta_free(bin);
	bm_buf_dispose(&v);
	bm_buf_dispose(&sigdir);
	bm_strlist_dispose(&sigs);
}

/* GET /v1/bootstrap.sh: the script, with this serve as its default --server (from the
 * request's Host header, when it is a plain host[:port]). */
static void answer_bootstrap(serve_answer *a, serve *s, const serve_rq *r, int unit)
{
	static const char marker[] = "SERVER=${BOOTMETA_BOOTSTRAP_SERVER:-}";
	const char *text = (const char *)(unit ? serve_embed_agent_unit : serve_embed_bootstrap_sh);
	size_t len = unit ? serve_embed_agent_unit_len : serve_embed_bootstrap_sh_len;
	const char *host = r->conn ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host") : NULL;
	const char *at = unit ? NULL : strstr(text, marker), *h;
	int ok = host && *host && strlen(host) < 256;
	for (h = host; ok && *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') || *h == '.' ||
		      *h == '-' || *h == ':' || *h == '[' || *h == ']'))
			ok = 0;
	a->ctype = unit ? "text/plain; charset=utf-8" : "text/x-shellscript; charset=utf-8";
	if (!at || !ok) {
		bm_buf_put(&a->body, text, len);
		return;
	}
	bm_buf_put(&a->body, text, (size_t)(at - text));
	bm_buf_printf(&a->body, "SERVER=${BOOTMETA_BOOTSTRAP_SERVER:-%s://%s}", s->tls_cert ? "https" : "http", host);
	bm_buf_puts(&a->body, at + strlen(marker));
}

/* With --timestamp-key: `"timestamp":{"statement":S,"signature":MINISIG}` for the binary
 * answer of the tip (never of ?at=: that would sign an old view as current), S naming the
 * meta commit, the entry, the binary and the time of the answer (doc/http-api.md), so an
 * agent that pins the key tells a fresh answer from one replayed later. */
static int answer_timestamp(serve_answer *a, const serve *s, const char *project, const char *channel,
			    const Bootmeta__V1__ChannelEntry *e, const char *sha256)
{
	bm_buf st = BM_BUF_INIT, sig = BM_BUF_INIT;
	int error;
	bm_buf_printf(&st,
		      "bootmeta-timestamp v1\nmeta %s\nproject %s\nchannel %s\nseq %llu\nrelease %s\nsha256 %s\ntime %lld\n",
		      a->etag, project, channel, (unsigned long long)e->seq, e->release, sha256, (long long)time(NULL));
	if ((error = bm_minisign_sign_with(&sig, s->ts_key, st.ptr, st.size, "bootmeta-timestamp", NULL, 0)) == 0) {
		bm_buf_puts(&a->body, ",\"timestamp\":{\"statement\":");
		bm_json_escape(&a->body, st.ptr);
		bm_buf_puts(&a->body, ",\"signature\":");
		bm_json_escape(&a->body, sig.ptr);
		bm_buf_putc(&a->body, '}');
	}
	bm_buf_dispose(&st);
	bm_buf_dispose(&sig);
	return error;
}

static void answer_binary(serve_answer *a, const serve_rq *r, const serve *s, bm_store *st, bm_fs *fs,
			  const char *project, const char *channel)
{
	Bootmeta__V1__ChannelEntry *e = NULL;
	const char *os = arg(r, "os"), *archp = arg(r, "arch");
	bm_oid tree, commit;
	bm_buf key = BM_BUF_INIT, sigdir = BM_BUF_INIT;
	bm_strlist sigs = BM_STRLIST_INIT;
	bin_index *b;
	size_t i, found = (size_t)-1, matches = 0;
	int error;

	if (!os || !archp) {
		serve_answer_error(a, 400, BM_EINVALID, "give the platform: ?os=linux&arch=amd64");
		return;
	}
	if ((error = bm_channel_current(&e, fs, project, channel)) < 0) {
		lib_error(a, error);
		return;
	}
	pthread_once(&bins_once, bins_key_make);
	if (!(b = pthread_getspecific(bins_key))) {
		if (!(b = calloc(1, sizeof(*b)))) {
			serve_answer_error(a, 500, BM_ENOMEM, "out of memory");
			goto done;
		}
		pthread_setspecific(bins_key, b);
	}
	tls_bins = b;
	bm_oid_parse(&commit, a->etag);
	if (bm_store_path_id(&tree, st, &commit, "binaries") < 0) {
		bm_error_clear();
		memset(&tree, 0, sizeof(tree));
	}
	if (!b->valid || !bm_oid_equal(&tree, &b->tree)) {
		if ((error = bin_index_build(b, fs)) < 0) {
			lib_error(a, error);
			goto done;
		}
		b->tree = tree;
	}
	bm_buf_printf(&key, "%s\n%s\n%s\n%s", project, e->release, os, archp);
	for (i = 0; i < b->n; i++)
		if (!strcmp(b->keys[i], key.ptr)) {
			if (found == (size_t)-1)
				found = i;
			matches++;
		}
	if (found == (size_t)-1) {
		serve_answer_error(a, 404, BM_ENOTFOUND, "release %s of %s (channel %s, entry %llu) has no binary for %s/%s",
				   e->release, project, channel, (unsigned long long)e->seq, os, archp);
		goto done;
	}
	if (arg(r, "format") && !strcmp(arg(r, "format"), "env")) {
		answer_binary_env(a, fs, e, b->paths[found], matches);
		goto done;
	}
	if (arg(r, "format") && strcmp(arg(r, "format"), "json")) {
		serve_answer_error(a, 400, BM_EINVALID, "format=%s: give json or env", arg(r, "format"));
		goto done;
	}
	bm_buf_puts(&a->body, "{\"project\":");
	bm_json_escape(&a->body, project);
	bm_buf_puts(&a->body, ",\"channel\":");
	bm_json_escape(&a->body, channel);
	bm_buf_printf(&a->body, ",\"seq\":\"%llu\",\"release\":", (unsigned long long)e->seq);
	bm_json_escape(&a->body, e->release);
	bm_buf_puts(&a->body, ",\"metaCommit\":");
	bm_json_escape(&a->body, a->etag);
	bm_buf_puts(&a->body, ",\"path\":");
	bm_json_escape(&a->body, b->paths[found]);
	bm_buf_puts(&a->body, ",\"binary\":");
	if ((error = serve_record_json(&a->body, fs, b->paths[found])) < 0) {
		lib_error(a, error);
		goto done;
	}
	/* signatures added later: binaries/<aa>/<sha256>.sig/<KEY-ID>.pb */
	bm_buf_printf(&sigdir, "%.*s.sig", (int)(strlen(b->paths[found]) - 3), b->paths[found]);
	bm_buf_puts(&a->body, ",\"signatures\":[");
	if (bm_fs_list_or_empty(&sigs, fs, sigdir.ptr) == 0) {
		size_t n = 0;
		for (i = 0; i < sigs.count; i++) {
			bm_buf p = BM_BUF_INIT;
			size_t mark = a->body.size;
			bm_buf_printf(&p, "%s/%s", sigdir.ptr, sigs.items[i]);
			if (n)
				bm_buf_putc(&a->body, ',');
			if (serve_record_json(&a->body, fs, p.ptr) == 0)
				n++;
			else {
				a->body.size = mark;
				a->body.ptr[mark] = '\0';
				bm_error_clear();
			}
			bm_buf_dispose(&p);
		}
	}
	bm_buf_printf(&a->body, "],\"candidates\":%zu", matches);
	if (s->ts_key && !arg(r, "at")) { /* binaries/<aa>/<sha256>.pb */
		const char *base = strrchr(b->paths[found], '/');
		char sha[65];
		snprintf(sha, sizeof(sha), "%.64s", base ? base + 1 : b->paths[found]);
		if ((error = answer_timestamp(a, s, project, channel, e, sha)) < 0) {
			lib_error(a, error);
			goto done;
		}
	}
	bm_buf_puts(&a->body, "}\n");
done:
	bm_strlist_dispose(&sigs);
	bm_buf_dispose(&sigdir);
	bm_buf_dispose(&key);
	bm_meta_free(e);
}

static void answer_channel(serve_answer *a, bm_fs *fs, const char *project, const char *channel, int want_proto)
{
	uint64_t seq;
	bm_buf p = BM_BUF_INIT;
	int error;
	if ((error = bm_channel_last_seq(&seq, fs, project, channel)) < 0) {
		lib_error(a, error);
		return;
	}
	if (seq == 0) {
		Bootmeta__V1__ChannelEntry *e = NULL;
		error = bm_channel_current(&e, fs, project, channel); /* says why */
		bm_meta_free(e);
		lib_error(a, error < 0 ? error : BM_ENOTFOUND);
		return;
	}
	if ((error = bm_path_channel_entry(&p, project, channel, seq)) < 0)
		lib_error(a, error);
	else
		answer_record(a, fs, p.ptr, want_proto);
	bm_buf_dispose(&p);
}

static void answer_list_json(serve_answer *a, const char *name, const bm_strlist *l)
{
	size_t i;
	bm_buf_printf(&a->body, "{\"%s\":[", name);
	for (i = 0; i < l->count; i++) {
		if (i)
			bm_buf_putc(&a->body, ',');
		bm_json_escape(&a->body, l->items[i]);
	}
	bm_buf_puts(&a->body, "]}\n");
}

int serve_read(serve *s, const serve_rq *r, serve_answer *a)
{
	bm_strlist parts = BM_STRLIST_INIT, l = BM_STRLIST_INIT;
	bm_buf project = BM_BUF_INIT, rest = BM_BUF_INIT;
	bm_store *st = NULL;
	bm_fs *fs = NULL;
	char **p;
	size_t n;
	int rc = 0, error, w;

	if (strncmp(r->url, "/v1/", 4) || serve_path_split(&parts, r->url) < 0) {
		rc = 1;
		goto done;
	}
	p = parts.items;
	n = parts.count;
	/* no "." or ".." part, no empty part: a path names one record or folder */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p[i], "..") || !strcmp(p[i], ".") || (!p[i][0] && i + 1 < n)) {
			serve_answer_error(a, 400, BM_EINVALID, "the path may not hold \".\", \"..\" or \"//\"");
			goto done;
		}
	if (n >= 2 && !p[n - 1][0])
		n--; /* a trailing '/' */
	if (n == 2 && !strcmp(p[1], "bootstrap.sh")) {
		answer_bootstrap(a, s, r, 0);
		goto done;
	}
	if (n == 3 && !strcmp(p[1], "bootstrap") && !strcmp(p[2], "bootmeta-agent@.service")) {
		answer_bootstrap(a, s, r, 1);
		goto done;
	}
	if (n == 2 && !strcmp(p[1], "head")) {
		if (open_view(&fs, &st, s, r, a) == 0)
			bm_buf_printf(&a->body, "{\"metaCommit\":\"%s\"}\n", a->etag);
		goto done;
	}
	if (n >= 2 && (!strcmp(p[1], "records") || !strcmp(p[1], "ls"))) {
		join(&rest, p, 2, n);
		if (open_view(&fs, &st, s, r, a) < 0)
			goto done;
		if (!strcmp(p[1], "ls"))
			answer_ls(a, fs, rest.ptr);
		else if (n == 2 || bm_fs_exists(fs, rest.ptr) == 2)
			serve_answer_error(a, 400, BM_EINVALID, "/%s is a folder; list it at /v1/ls/%s", rest.ptr, rest.ptr);
		else
			answer_record(a, fs, rest.ptr, r->want_proto);
		goto done;
	}
	if (n >= 2 && !strcmp(p[1], "projects")) {
		if (open_view(&fs, &st, s, r, a) < 0)
			goto done;
		if (n == 2) {
			if ((error = bm_project_list(&l, fs)) < 0)
				lib_error(a, error);
			else
				answer_list_json(a, "projects", &l);
			goto done;
		}
		w = serve_split_project(p, n, 2);
		join(&project, p, 2, w < 0 ? n : (size_t)w);
		if ((error = bm_project_name_check(project.ptr)) < 0) {
			lib_error(a, error);
			goto done;
		}
		if (w < 0) {
			bm_buf path = BM_BUF_INIT;
			if ((error = bm_path_project(&path, project.ptr)) < 0)
				lib_error(a, error);
			else
				answer_record(a, fs, path.ptr, r->want_proto);
			bm_buf_dispose(&path);
			goto done;
		}
		if (!strcmp(p[w], "channels")) {
			if ((size_t)w + 1 == n) {
				if ((error = bm_channel_list(&l, fs, project.ptr)) < 0)
					lib_error(a, error);
				else
					answer_list_json(a, "channels", &l);
			} else if ((size_t)w + 2 == n) {
				answer_channel(a, fs, project.ptr, p[w + 1], r->want_proto);
			} else if ((size_t)w + 3 == n && !strcmp(p[w + 2], "binary")) {
				answer_binary(a, r, s, st, fs, project.ptr, p[w + 1]);
			} else {
				rc = 1;
			}
			goto done;
		}
		if (!strcmp(p[w], "releases")) {
			if ((size_t)w + 1 == n) {
				if ((error = bm_release_list(&l, fs, project.ptr)) < 0)
					lib_error(a, error);
				else
					answer_list_json(a, "releases", &l);
			} else if ((size_t)w + 2 == n) {
				bm_buf path = BM_BUF_INIT;
				if ((error = bm_path_release(&path, project.ptr, p[w + 1])) < 0)
					lib_error(a, error);
				else
					answer_record(a, fs, path.ptr, r->want_proto);
				bm_buf_dispose(&path);
			} else {
				rc = 1;
			}
			goto done;
		}
		/* envs/<env>/config, envs/<env>/flags[/<flag>]: env names may hold '/' (dev/alice) */
		{
			size_t k;
			for (k = (size_t)w + 1; k < n; k++)
				if (!strcmp(p[k], "config") || !strcmp(p[k], "flags"))
					break;
			if (k == n || k == (size_t)w + 1) {
				rc = 1;
				goto done;
			}
			join(&rest, p, (size_t)w + 1, k);
			if (!strcmp(p[k], "config") && k + 1 == n)
				answer_config(a, fs, project.ptr, rest.ptr, arg(r, "format"));
			else if (!strcmp(p[k], "flags") && k + 1 == n)
				answer_flags(a, r, fs, project.ptr, rest.ptr);
			else if (!strcmp(p[k], "flags") && k + 2 == n)
				answer_flag(a, r, fs, project.ptr, rest.ptr, p[k + 1]);
			else
				rc = 1;
		}
		goto done;
	}
	rc = 1;
done:
	bm_fs_free(fs);
	bm_strlist_dispose(&parts);
	bm_strlist_dispose(&l);
	bm_buf_dispose(&project);
	bm_buf_dispose(&rest);
	return rc;
}
