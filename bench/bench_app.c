/* bench_app.c: the toy app of the agent benchmark (bench/b_agent.sh): an HTTP server on
 * 127.0.0.1:PORT that answers every request 200 "ok", so 20 of them start in milliseconds
 * and the figure is the agent's, not the app's start-up.
 *
 *   bench_app PORT */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char answer[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
	struct sockaddr_in a;
	char buf[2048];
	int s, one = 1;
	if (argc != 2)
		return 2;
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0) {
		perror("bench_app");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		if (read(c, buf, sizeof(buf)) > 0 && write(c, answer, sizeof(answer) - 1) < 0)
			perror("bench_app");
		close(c);
	}
}
