/* agent_io.c: `bootmeta-live agent-io`, the transfers bootmeta-agent runs in a process of
 * their own, so that the agent itself never maps libcurl (agent_http.h):
 *   agent-io http GET|POST URL TIMEOUT_MS MAX   stdin: a line with the bearer token (may be
 *                                               empty), then the body; stdout: a line with
 *                                               the status, then the answer
 *   agent-io fetch DEST TIMEOUT_MS [STALL_MS]   stdin: the Binary record (protobuf); the file
 *                                               at DEST has the record's size and sha256
 *                                               (bm_artifact_fetch); stdout: bytes, attempts,
 *                                               resumed bytes, URL
 * Exit 0, or 1 with the cause on stderr (its last line). Not a user command. */
#include "cli_net.h"
#include "live.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_all(bm_buf *out, size_t max)
{
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (out->size + n > max || bm_buf_put(out, chunk, n) < 0)
			return -1;
	}
	return ferror(stdin) ? -1 : 0;
}

typedef struct {
	bm_buf body;
	size_t max;
} io_buf;

static size_t io_write(char *p, size_t size, size_t n, void *arg)
{
	io_buf *b = arg;
	size_t len = size * n;
	if (b->body.size + len > b->max)
		return 0;
	return bm_buf_put(&b->body, p, len) < 0 ? 0 : len;
}

static int io_http(int argc, char **argv)
{
	bm_buf in = BM_BUF_INIT;
	io_buf b = { BM_BUF_INIT, 0 };
	struct curl_slist *hdr = NULL;
	char auth[600];
	const char *body = NULL;
	char *nl;
	CURL *h;
	CURLcode rc;
	long status = 0;
	int post;
	if (argc != 6 || (strcmp(argv[2], "GET") && strcmp(argv[2], "POST"))) {
		fputs("usage: bootmeta-live agent-io http GET|POST URL TIMEOUT_MS MAX\n", stderr);
		return BM_EXIT_USAGE;
	}
	post = !strcmp(argv[2], "POST");
	b.max = (size_t)strtoull(argv[5], NULL, 10);
	if (read_all(&in, 4u << 20) < 0 || bm_buf_puts(&in, "") < 0 || !(nl = memchr(in.ptr, '\n', in.size))) {
		fputs("bootmeta-live agent-io: cannot read the request\n", stderr);
		bm_buf_dispose(&in);
		return BM_EXIT_FAIL;
	}
	*nl = '\0';
	body = nl + 1;
	if (!(h = curl_easy_init())) {
		bm_buf_dispose(&in);
		return BM_EXIT_FAIL;
	}
	curl_easy_setopt(h, CURLOPT_URL, argv[3]);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, io_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, strtol(argv[4], NULL, 10));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* set and not empty, as the agent's own TLS takes them (agent_http_set_ca) */
	if (getenv("SSL_CERT_FILE") && *getenv("SSL_CERT_FILE"))
		curl_easy_setopt(h, CURLOPT_CAINFO, getenv("SSL_CERT_FILE"));
	if (getenv("SSL_CERT_DIR") && *getenv("SSL_CERT_DIR"))
		curl_easy_setopt(h, CURLOPT_CAPATH, getenv("SSL_CERT_DIR"));
	hdr = curl_slist_append(hdr, "Accept: application/json");
	if (post) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		if (*in.ptr) {
			snprintf(auth, sizeof(auth), "Authorization: Bearer %s", in.ptr);
			hdr = curl_slist_append(hdr, auth);
		}
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	bm_buf_dispose(&in);
	if (rc != CURLE_OK) {
		fprintf(stderr, "%s\n", curl_easy_strerror(rc));
		bm_buf_dispose(&b.body);
		return BM_EXIT_FAIL;
	}
	printf("%ld\n", status);
	if (b.body.size)
		fwrite(b.body.ptr, 1, b.body.size, stdout);
	bm_buf_dispose(&b.body);
	return fflush(stdout) ? BM_EXIT_FAIL : BM_EXIT_OK;
}

static int io_fetch(bm_cli *cli, int argc, char **argv)
{
	bm_buf in = BM_BUF_INIT;
	Bootmeta__V1__Binary *b = NULL;
	bm_artifact_result res = BM_ARTIFACT_RESULT_INIT;
	cli_transfer t;
	int rc = BM_EXIT_FAIL;
	if (argc != 4 && argc != 5) {
		fputs("usage: bootmeta-live agent-io fetch DEST TIMEOUT_MS [STALL_MS]\n", stderr);
		return BM_EXIT_USAGE;
	}
	if (read_all(&in, 1u << 20) < 0 ||
	    !(b = bootmeta__v1__binary__unpack(NULL, in.size, (const uint8_t *)(in.ptr ? in.ptr : "")))) {
		fputs("bootmeta-live agent-io: the binary record does not decode\n", stderr);
		goto done;
	}
	cli_transfer_init(&t, cli, "fetch", NULL, (unsigned int)strtoul(argv[3], NULL, 10), 0);
	t.o.progress = NULL;
	if (argc == 5) /* whole seconds for libcurl's low-speed time; at least one */
		t.o.low_speed_seconds = (unsigned int)(strtoul(argv[4], NULL, 10) + 999) / 1000;
	if (bm_artifact_fetch(&res, argv[2], b, &t.o) < 0) {
		fprintf(stderr, "%s\n", bm_error_last());
		goto done;
	}
	printf("%llu %u %llu %s\n", (unsigned long long)res.bytes, res.attempts, (unsigned long long)res.resumed_bytes,
	       res.url.ptr ? res.url.ptr : "");
	rc = fflush(stdout) ? BM_EXIT_FAIL : BM_EXIT_OK;
done:
	bm_artifact_result_dispose(&res);
	if (b)
		bootmeta__v1__binary__free_unpacked(b, NULL);
	bm_buf_dispose(&in);
	return rc;
}

int live_agent_io(bm_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "http"))
		return io_http(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "fetch"))
		return io_fetch(cli, argc, argv);
	fputs("usage: bootmeta-live agent-io http|fetch ... (bootmeta-agent runs it; not a user command)\n", stderr);
	return BM_EXIT_USAGE;
}
