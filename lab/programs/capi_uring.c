/* capi_uring: a TCP client whose connect, send and receive go through io_uring, for
 * lab/capi.sh. strace sees io_uring_setup and io_uring_enter, never the socket calls.
 *
 *   capi_uring ADDR PORT    connect, send a request, shut down writing, read the answer
 */
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int run(struct io_uring *ring, struct io_uring_sqe *sqe) {
  (void)sqe;
  struct io_uring_cqe *cqe;
  io_uring_submit(ring);
  if (io_uring_wait_cqe(ring, &cqe) < 0) return -1;
  int res = cqe->res;
  io_uring_cqe_seen(ring, cqe);
  return res;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: capi_uring ADDR PORT\n");
    return 2;
  }
  struct io_uring ring;
  if (io_uring_queue_init(4, &ring, 0) < 0) return 1;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
  io_uring_prep_connect(sqe, s, (struct sockaddr *)&a, sizeof a);
  int rc = run(&ring, sqe);
  if (rc < 0) {
    fprintf(stderr, "connect: %s\n", strerror(-rc));
    return 1;
  }
  const char req[] = "GET /uring\n";
  sqe = io_uring_get_sqe(&ring);
  io_uring_prep_send(sqe, s, req, sizeof req - 1, 0);
  run(&ring, sqe);
  shutdown(s, SHUT_WR);
  char buf[256];
  for (;;) {
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, s, buf, sizeof buf, 0);
    if (run(&ring, sqe) <= 0) break;
  }
  close(s);
  io_uring_queue_exit(&ring);
  return 0;
}
