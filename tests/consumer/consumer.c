/* consumer.c: a program outside bootmeta that uses the installed library.
 *
 *   cc -o consumer consumer.c $(pkg-config --cflags --libs bootmeta)
 *   consumer META_REPO PROJECT CHANNEL ENV FLAG TARGETING_KEY
 *
 * It opens the meta repo, reads what CHANNEL of PROJECT points at (the
 * entry and the release it names), resolves the config of PROJECT in ENV,
 * evaluates feature flag FLAG for an instance on CHANNEL, decodes the
 * release record by its path with the generated descriptor, builds a record
 * of its own, and prints one "name=value" line per fact. */
#include <bootmeta.h>

#include <stdio.h>

static int fail(const char *what)
{
	fprintf(stderr, "consumer: %s: %s (%s)\n", what, bm_error_last(),
		bm_error_name(bm_error_last_code()));
	return 1;
}

int main(int argc, char **argv)
{
	bm_store *store = NULL;
	bm_fs *fs = NULL;
	Bootmeta__V1__ChannelEntry *entry = NULL;
	Bootmeta__V1__Release *release = NULL;
	Bootmeta__V1__Release made = BOOTMETA__V1__RELEASE__INIT;
	ProtobufCMessage *raw = NULL;
	bm_config *config = NULL;
	bm_config_resolve_options ropts = BM_CONFIG_RESOLVE_OPTIONS_INIT;
	bm_flag *flag = NULL;
	bm_flag_result result;
	bm_buf path = BM_BUF_INIT, bytes = BM_BUF_INIT, packed = BM_BUF_INIT;
	char tip[BM_OID_HEXSZ + 1];
	const char *project, *channel, *env, *key;
	bm_oid at;
	size_t i;
	int rc = 1;

	if (argc != 7) {
		fprintf(stderr, "usage: consumer META_REPO PROJECT CHANNEL"
				" ENV FLAG TARGETING_KEY\n");
		return 2;
	}
	project = argv[2], channel = argv[3], env = argv[4], key = argv[5];
	if (bm_global_init() < 0)
		return fail("init");
	/* one view of the repo at its tip: all reads below see one commit */
	if (bm_store_open(&store, argv[1]) < 0)
		{ fail("open"); goto done; }
	if (bm_store_tip(&at, store) < 0 || bm_store_fs(&fs, store, &at) < 0)
		{ fail("tip"); goto done; }
	bm_oid_fmt(tip, &at);
	printf("meta_commit=%s\n", tip);

	/* a channel: its current entry, then the release it points at */
	if (bm_channel_current(&entry, fs, project, channel) < 0)
		{ fail("channel"); goto done; }
	printf("channel_seq=%llu\nchannel_release=%s\nchannel_actor=%s\n",
	       (unsigned long long)entry->seq, entry->release, entry->actor);
	if (bm_release_get(&release, fs, project, entry->release) < 0)
		{ fail("release"); goto done; }
	printf("release_version=%s\nrelease_sources=%zu\n", release->version,
	       release->n_sources);

	/* the config of the project in an env, with the parents. values */
	ropts.at = &at;
	if (bm_config_resolve(&config, store, project, env, &ropts) < 0)
		{ fail("config"); goto done; }
	for (i = 0; i < config->count; i++)
		printf("config.%s=%s (%s, from %s)\n", config->values[i].key,
		       config->values[i].text,
		       bm_config_type_str(config->values[i].type),
		       config->values[i].env);

	/* a feature flag for an instance on the channel */
	if (bm_flag_load(&flag, fs, project, env, key) < 0)
		{ fail("flag"); goto done; }
	if (bm_flag_eval(&result, flag, channel, argv[6], NULL) < 0)
		{ fail("flag eval"); goto done; }
	printf("flag.%s=%s (%s)\n", key, result.variant,
	       bm_flag_reason_str(result.reason));

	/* any record by its path, decoded with the generated descriptor */
	if (bm_path_release(&path, project, entry->release) < 0 ||
	    bm_fs_read(&bytes, fs, path.ptr) < 0)
		{ fail("read"); goto done; }
	if (bm_record_decode(&raw, &bootmeta__v1__release__descriptor,
			     bytes.ptr, bytes.size) < 0)
		{ fail("decode"); goto done; }
	printf("record=%s %s %zu bytes\n", path.ptr, raw->descriptor->name,
	       bytes.size);

	/* the generated types as they are: build a record and encode it */
	made.project = (char *)project;
	made.id = entry->release;
	made.version = "0.0.0-consumer";
	if (bm_record_encode(&packed, &made.base) < 0)
		{ fail("encode"); goto done; }
	printf("encoded=%zu bytes, packed_size=%zu\n", packed.size,
	       bootmeta__v1__release__get_packed_size(&made));
	rc = 0;
done:
	bm_buf_dispose(&packed);
	bm_buf_dispose(&bytes);
	bm_buf_dispose(&path);
	bm_record_free(raw);
	bm_flag_free(flag);
	bm_config_free(config);
	bm_meta_free(release);
	bm_meta_free(entry);
	bm_fs_free(fs);
	bm_store_free(store);
	bm_global_shutdown();
	return rc;
}
