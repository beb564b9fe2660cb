/* capi: small client and server that use less common Linux socket calls, for lab/capi.sh.
 *
 *   capi srv-tcp PORT MODE         one TCP connection: accept4, then MODE
 *     echo     read to end of stream (ppoll, MSG_WAITALL), answer, close
 *     rst      read one request, close abortively (SO_LINGER {1, 0})
 *     close    close at once, without reading
 *     unspec   read one request, dissolve with connect(AF_UNSPEC), close
 *   capi srv-udp PORT N            recvmmsg N datagrams, answer each with sendmmsg
 *   capi cli MODE ADDR PORT [PORT2]
 *     mmsg      UDP: sendmmsg 4, recvmmsg the answers (1 s timeout)
 *     unspec    UDP: connect, send, receive; connect(AF_UNSPEC); connect to PORT2, same
 *     trunc     UDP: send, recvmsg into two 16-byte iovecs with MSG_TRUNC
 *     tfo       TCP: sendto(MSG_FASTOPEN) on an unconnected socket, shutdown, read to EOF
 *     tfoc      TCP: TCP_FASTOPEN_CONNECT, connect, write, shutdown, read to EOF
 *     linger0   TCP: write, SO_LINGER {1, 0}, close
 *     linger5   TCP: write, shutdown, read to EOF, SO_LINGER {1, 5}, close
 *     reset     TCP: write, read (the server resets)
 *     nosignal  TCP: send MSG_NOSIGNAL until EPIPE (the server closed at once)
 *     sigpipe   TCP: write until SIGPIPE ends the program
 *     sendfile  TCP: sendfile a file, splice a pipe, shutdown, read to EOF
 *     dup       TCP: dup2/dup3/F_DUPFD_CLOEXEC, close the original, write, close_range
 *     waits     TCP: SOCK_NONBLOCK connect, pselect6, MSG_DONTWAIT, poll POLLRDHUP, epoll_pwait2
 *     tunspec   TCP: write, read answer, connect(AF_UNSPEC), close
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in addr_of(const char *ip, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static int tcp_connect(const char *ip, int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = addr_of(ip, port);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("connect");
    exit(1);
  }
  return s;
}

static void drain(int s) {
  char buf[256];
  ssize_t n;
  while ((n = read(s, buf, sizeof buf)) > 0) {
  }
  if (n < 0) perror("read");
}

static const char REQ[] = "GET /capi\n";

static int srv_tcp(int port, const char *mode) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, qlen = 5;
  struct sockaddr_in a = addr_of("0.0.0.0", port);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(l, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof qlen);
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 5) < 0) {
    perror("listen");
    return 1;
  }
  int c = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) {
    perror("accept4");
    return 1;
  }
  close(l);
  if (!strcmp(mode, "close")) {
    close(c);
    return 0;
  }
  /* The connection is nonblocking: wait for the request with ppoll, then read it whole. */
  struct pollfd p = {c, POLLIN | POLLRDHUP, 0};
  struct timespec ts = {5, 0};
  char buf[4096];
  size_t got = 0;
  for (;;) {
    if (ppoll(&p, 1, &ts, NULL) <= 0) break;
    ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n <= 0) break;
    got += n;
    if (strcmp(mode, "echo") && got >= sizeof REQ - 1) break;
  }
  if (!strcmp(mode, "rst")) {
    struct linger lg = {1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c);
    return 0;
  }
  if (!strcmp(mode, "unspec")) {
    struct sockaddr u = {.sa_family = AF_UNSPEC};
    connect(c, &u, sizeof u);
    close(c);
    return 0;
  }
  char ans[64];
  int n = snprintf(ans, sizeof ans, "got %zu\n", got);
  send(c, ans, n, MSG_NOSIGNAL);
  close(c);
  return 0;
}

static int srv_udp(int port, int count) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = addr_of("0.0.0.0", port);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("bind");
    return 1;
  }
  struct timeval tv = {3, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int done = 0;
  while (done < count) {
    struct mmsghdr m[8];
    struct iovec io[8];
    char buf[8][256];
    struct sockaddr_in from[8];
    memset(m, 0, sizeof m);
    for (int i = 0; i < 8; i++) {
      io[i].iov_base = buf[i];
      io[i].iov_len = sizeof buf[i];
      m[i].msg_hdr.msg_iov = &io[i];
      m[i].msg_hdr.msg_iovlen = 1;
      m[i].msg_hdr.msg_name = &from[i];
      m[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(s, m, 8, MSG_WAITFORONE, NULL);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) io[i].iov_len = m[i].msg_len;
    sendmmsg(s, m, n, 0);
    done += n;
  }
  close(s);
  return 0;
}

static int udp_exchange(int s, const char *what) {
  char buf[256];
  send(s, what, strlen(what), 0);
  ssize_t n = recv(s, buf, sizeof buf, 0);
  if (n < 0) perror("recv");
  return n < 0;
}

static int cli(const char *mode, const char *ip, int port, int port2) {
  struct sockaddr_in a = addr_of(ip, port);
  char buf[4096];
  if (!strcmp(mode, "mmsg")) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval tv = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct mmsghdr m[4];
    struct iovec io[4];
    char out[4][32], in[4][256];
    memset(m, 0, sizeof m);
    for (int i = 0; i < 4; i++) {
      int len = snprintf(out[i], sizeof out[i], "datagram %d of 4", i + 1);
      io[i].iov_base = out[i];
      io[i].iov_len = len;
      m[i].msg_hdr.msg_iov = &io[i];
      m[i].msg_hdr.msg_iovlen = 1;
      m[i].msg_hdr.msg_name = &a;
      m[i].msg_hdr.msg_namelen = sizeof a;
    }
    int sent = sendmmsg(s, m, 4, 0);
    int got = 0;
    while (got < sent) {
      memset(m, 0, sizeof m);
      for (int i = 0; i < 4; i++) {
        io[i].iov_base = in[i];
        io[i].iov_len = sizeof in[i];
        m[i].msg_hdr.msg_iov = &io[i];
        m[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(s, m, 4 - got, MSG_WAITFORONE, NULL);
      if (n <= 0) break;
      got += n;
    }
    close(s);
    printf("%d of %d answered\n", got, sent);
    return got < sent;
  }
  if (!strcmp(mode, "unspec")) {
    int s = socket(AF_INET, SOCK_DGRAM, 0), rc = 0;
    struct timeval tv = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connect(s, (struct sockaddr *)&a, sizeof a);
    rc |= udp_exchange(s, "first peer");
    struct sockaddr u = {.sa_family = AF_UNSPEC};
    connect(s, &u, sizeof u);
    struct sockaddr_in b = addr_of(ip, port2);
    connect(s, (struct sockaddr *)&b, sizeof b);
    rc |= udp_exchange(s, "second peer");
    close(s);
    return rc;
  }
  if (!strcmp(mode, "trunc")) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    connect(s, (struct sockaddr *)&a, sizeof a);
    const char *msg = "a datagram of more than thirty-two bytes, cut by the reader";
    send(s, msg, strlen(msg), 0);
    char p1[16], p2[16];
    struct iovec io[2] = {{p1, sizeof p1}, {p2, sizeof p2}};
    struct msghdr h = {.msg_iov = io, .msg_iovlen = 2};
    ssize_t n = recvmsg(s, &h, MSG_TRUNC);
    printf("recvmsg %zd flags %#x\n", n, h.msg_flags);
    close(s);
    return 0;
  }
  if (!strcmp(mode, "tfo")) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (sendto(s, REQ, sizeof REQ - 1, MSG_FASTOPEN, (struct sockaddr *)&a, sizeof a) < 0) {
      perror("sendto");
      return 1;
    }
    shutdown(s, SHUT_WR);
    drain(s);
    close(s);
    return 0;
  }
  if (!strcmp(mode, "tfoc")) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof one);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
      perror("connect");
      return 1;
    }
    if (write(s, REQ, sizeof REQ - 1) < 0) {
      perror("write");
      return 1;
    }
    shutdown(s, SHUT_WR);
    drain(s);
    close(s);
    return 0;
  }
  if (!strcmp(mode, "linger0")) {
    int s = tcp_connect(ip, port);
    write(s, REQ, sizeof REQ - 1);
    usleep(200000);
    struct linger lg = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(s);
    return 0;
  }
  if (!strcmp(mode, "linger5")) {
    int s = tcp_connect(ip, port);
    write(s, REQ, sizeof REQ - 1);
    shutdown(s, SHUT_WR);
    drain(s);
    struct linger lg = {1, 5};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(s);
    return 0;
  }
  if (!strcmp(mode, "reset") || !strcmp(mode, "tunspec")) {
    int s = tcp_connect(ip, port);
    write(s, REQ, sizeof REQ - 1);
    if (!strcmp(mode, "tunspec")) {
      usleep(200000);
      struct sockaddr u = {.sa_family = AF_UNSPEC};
      connect(s, &u, sizeof u);
      close(s);
      return 0;
    }
    ssize_t n = read(s, buf, sizeof buf);
    if (n < 0) perror("read");
    close(s);
    return n < 0;
  }
  if (!strcmp(mode, "nosignal") || !strcmp(mode, "sigpipe")) {
    int s = tcp_connect(ip, port);
    usleep(300000);
    for (int i = 0; i < 5; i++) {
      ssize_t n = !strcmp(mode, "nosignal") ? send(s, REQ, sizeof REQ - 1, MSG_NOSIGNAL)
                                            : write(s, REQ, sizeof REQ - 1);
      if (n < 0) {
        perror("send");
        break;
      }
      usleep(100000);
    }
    close(s);
    return 0;
  }
  if (!strcmp(mode, "sendfile")) {
    int s = tcp_connect(ip, port);
    int f = open("/etc/os-release", O_RDONLY);
    off_t off = 0;
    sendfile(s, f, &off, 200);
    close(f);
    int p[2];
    pipe(p);
    write(p[1], "through a pipe\n", 15);
    splice(p[0], NULL, s, NULL, 15, 0);
    close(p[0]);
    close(p[1]);
    shutdown(s, SHUT_WR);
    drain(s);
    close(s);
    return 0;
  }
  if (!strcmp(mode, "dup")) {
    int s = tcp_connect(ip, port);
    int d = dup2(s, 10);
    close(s);
    int e = dup3(d, 11, O_CLOEXEC);
    close(d);
    int f = fcntl(e, F_DUPFD_CLOEXEC, 20);
    close(e);
    write(f, REQ, sizeof REQ - 1);
    shutdown(f, SHUT_WR);
    drain(f);
    syscall(SYS_close_range, 3, ~0U, 0);
    return 0;
  }
  if (!strcmp(mode, "waits")) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(s, (struct sockaddr *)&a, sizeof a);
    fd_set w;
    FD_ZERO(&w);
    FD_SET(s, &w);
    struct timespec ts = {3, 0};
    pselect(s + 1, NULL, &w, NULL, &ts, NULL);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      fprintf(stderr, "connect: %s\n", strerror(err));
      return 1;
    }
    int fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl & ~O_NONBLOCK);
    /* Nothing sent yet: a MSG_DONTWAIT read on the blocking socket says EAGAIN. */
    recv(s, buf, sizeof buf, MSG_DONTWAIT);
    send(s, REQ, sizeof REQ - 1, 0);
    shutdown(s, SHUT_WR);
    struct pollfd p = {s, POLLIN | POLLRDHUP, 0};
    poll(&p, 1, 3000);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = s};
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    struct epoll_event out;
    struct timespec t2 = {3, 0};
#ifdef SYS_epoll_pwait2
    if (syscall(SYS_epoll_pwait2, ep, &out, 1, &t2, NULL, 8) < 0)
#endif
      epoll_wait(ep, &out, 1, 3000);
    recv(s, buf, sizeof buf, MSG_WAITALL);
    close(ep);
    close(s);
    return 0;
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "srv-tcp")) return srv_tcp(atoi(argv[2]), argv[3]);
  if (argc >= 4 && !strcmp(argv[1], "srv-udp")) return srv_udp(atoi(argv[2]), atoi(argv[3]));
  if (argc >= 5 && !strcmp(argv[1], "cli"))
    return cli(argv[2], argv[3], atoi(argv[4]), argc > 5 ? atoi(argv[5]) : 0);
  fprintf(stderr, "usage: see the comment at the top of capi.c\n");
  return 2;
}
