/* test_transport.c — the Content-Length framer (split reads, merged messages, bad headers,
 * oversize bodies, long lines, bounded memory) and the libuv transport over a socketpair. */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "lsp/transport.h"

/* Records what the framer emits: bodies joined with '|', and event counts. */
typedef struct sink {
  int msgs, too_big, bad;
  size_t too_big_len;
  char bodies[8192];
  size_t blen;
} sink;

static void collect(void *data, qr_frame_event ev, const char *body, size_t len) {
  sink *s = data;
  if (ev == QR_FRAME_TOO_BIG) {
    s->too_big++;
    s->too_big_len = len;
    return;
  }
  if (ev == QR_FRAME_BAD_HEADER) {
    s->bad++;
    return;
  }
  s->msgs++;
  ASSERT(s->blen + len + 1 < sizeof s->bodies);
  memcpy(s->bodies + s->blen, body, len);
  s->blen += len;
  s->bodies[s->blen++] = '|';
  s->bodies[s->blen] = '\0';
}

static void feed_str(qr_framer *f, const char *s) { ASSERT_OK(qr_framer_feed(f, s, strlen(s))); }

/* Frames one body; returns a static buffer. */
static const char *frame(const char *body) {
  static char buf[200];
  snprintf(buf, sizeof buf, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
  return buf;
}

TEST(transport_split_at_every_byte) {
  char stream[2048];
  snprintf(stream, sizeof stream, "%s", frame("{\"a\":1}"));
  strcat(stream, "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
                 "Content-Length: 12\r\n\r\n{\"b\":\"\xc3\xa9\\n\"}");
  strcat(stream, "\r\n"); /* a stray blank line between messages is tolerated */
  strcat(stream, frame("[]"));
  size_t n = strlen(stream);
  for (size_t cut = 0; cut <= n; cut++) {
    sink s = {0};
    qr_framer f;
    qr_framer_init(&f, 0, collect, &s);
    ASSERT_OK(qr_framer_feed(&f, stream, cut));
    ASSERT_OK(qr_framer_feed(&f, stream + cut, n - cut));
    ASSERT_EQ(s.msgs, 3);
    ASSERT_EQ(s.bad, 0);
    ASSERT_STR_EQ(s.bodies, "{\"a\":1}|{\"b\":\"\xc3\xa9\\n\"}|[]|");
    qr_framer_free(&f);
  }
  /* and one byte at a time */
  sink s = {0};
  qr_framer f;
  qr_framer_init(&f, 0, collect, &s);
  for (size_t i = 0; i < n; i++) ASSERT_OK(qr_framer_feed(&f, stream + i, 1));
  ASSERT_EQ(s.msgs, 3);
  qr_framer_free(&f);
}

TEST(transport_merged_messages_and_header_case) {
  sink s = {0};
  qr_framer f;
  qr_framer_init(&f, 0, collect, &s);
  char stream[512];
  snprintf(stream, sizeof stream,
           "content-length: 2\r\n\r\n{}CONTENT-LENGTH:3\r\ncontent-TYPE: x\r\n\r\n[1]"
           "Content-Length: 0\r\n\r\n%s",
           frame("\"z\""));
  feed_str(&f, stream);
  ASSERT_EQ(s.msgs, 4);
  ASSERT_STR_EQ(s.bodies, "{}|[1]||\"z\"|");
  qr_framer_free(&f);
}

TEST(transport_bad_content_length_resyncs) {
  char digits400[401];
  memset(digits400, '9', 400);
  digits400[400] = '\0';
  const char *bad[] = {"-5", "abc", "", "12abc", "0x10", "1 2", "18446744073709551616",
                       digits400};
  for (size_t i = 0; i < QR_ARRAY_LEN(bad); i++) {
    sink s = {0};
    qr_framer f;
    qr_framer_init(&f, 0, collect, &s);
    char stream[1024];
    snprintf(stream, sizeof stream, "Content-Length: %s\r\n\r\n%s", bad[i], frame("{\"ok\":1}"));
    feed_str(&f, stream);
    ASSERT_EQ(s.bad, 1);
    ASSERT_EQ(s.msgs, 1);
    ASSERT_STR_EQ(s.bodies, "{\"ok\":1}|");
    qr_framer_free(&f);
  }
  /* No Content-Length at all; conflicting ones; a header line without a colon. */
  const char *blocks[] = {"X-Junk: yes\r\n\r\n", "Content-Length: 2\r\nContent-Length: 3\r\n\r\n",
                          "Content-Length: 2\r\nnonsense\r\n\r\n"};
  for (size_t i = 0; i < QR_ARRAY_LEN(blocks); i++) {
    sink s = {0};
    qr_framer f;
    qr_framer_init(&f, 0, collect, &s);
    feed_str(&f, blocks[i]);
    feed_str(&f, frame("{}"));
    ASSERT_EQ(s.bad, 1);
    ASSERT_STR_EQ(s.bodies, "{}|");
    qr_framer_free(&f);
  }
}

TEST(transport_resyncs_after_unframed_body) {
  /* The body after a bad block is junk; the next header follows it on the same line. */
  sink s = {0};
  qr_framer f;
  qr_framer_init(&f, 0, collect, &s);
  feed_str(&f, "Content-Length: abc\r\n\r\n{\"lost\":true}garbage");
  feed_str(&f, frame("{\"next\":1}"));
  ASSERT_EQ(s.bad, 1);
  ASSERT_EQ(s.msgs, 1);
  ASSERT_STR_EQ(s.bodies, "{\"next\":1}|");
  qr_framer_free(&f);
}

TEST(transport_oversize_body_is_discarded_unbuffered) {
  sink s = {0};
  qr_framer f;
  qr_framer_init(&f, 1 << 20, collect, &s);
  const size_t declared = 100u * 1000 * 1000;
  char header[64];
  snprintf(header, sizeof header, "Content-Length: %zu\r\n\r\n", declared);
  feed_str(&f, header);
  ASSERT_EQ(s.too_big, 1);
  ASSERT_EQ(s.too_big_len, declared);
  static char chunk[65536];
  memset(chunk, '{', sizeof chunk);
  for (size_t sent = 0; sent < declared; sent += sizeof chunk) {
    size_t n = QR_MIN(sizeof chunk, declared - sent);
    ASSERT_OK(qr_framer_feed(&f, chunk, n));
    ASSERT_EQ(f.body.alloc, 0);        /* nothing of the body is kept */
    ASSERT(f.line.alloc <= 16384);     /* header buffer stays small */
  }
  ASSERT_EQ(s.msgs, 0);
  feed_str(&f, frame("{\"after\":1}"));
  ASSERT_EQ(s.msgs, 1);
  ASSERT_STR_EQ(s.bodies, "{\"after\":1}|");
  ASSERT_EQ(s.too_big, 1);
  qr_framer_free(&f);
}

TEST(transport_body_at_cap_is_accepted) {
  sink s = {0};
  qr_framer f;
  qr_framer_init(&f, 4, collect, &s);
  feed_str(&f, "Content-Length: 4\r\n\r\n[12]Content-Length: 5\r\n\r\n[123]");
  feed_str(&f, frame("{}"));
  ASSERT_EQ(s.msgs, 2);
  ASSERT_EQ(s.too_big, 1);
  ASSERT_STR_EQ(s.bodies, "[12]|{}|");
  qr_framer_free(&f);
}

TEST(transport_long_header_line_rejected_unbuffered) {
  sink s = {0};
  qr_framer f;
  qr_framer_init(&f, 0, collect, &s);
  feed_str(&f, "Content-Length: 2\r\nX-Long: ");
  static char chunk[4096];
  memset(chunk, 'a', sizeof chunk);
  for (int i = 0; i < 64; i++) { /* a 256 KiB header line */
    ASSERT_OK(qr_framer_feed(&f, chunk, sizeof chunk));
    ASSERT(f.line.alloc <= 16384);
  }
  /* The block is skipped, so its "{}" body is junk before the next header. */
  feed_str(&f, "\r\n\r\n{}");
  feed_str(&f, frame("{\"ok\":2}"));
  ASSERT_EQ(s.bad, 1);
  ASSERT_EQ(s.msgs, 1);
  ASSERT_STR_EQ(s.bodies, "{\"ok\":2}|");
  /* A line of exactly 8 KiB is still fine. */
  char line[QR_FRAMER_MAX_LINE + 1];
  memset(line, 'b', sizeof line);
  memcpy(line, "X-Pad: ", 7);
  line[QR_FRAMER_MAX_LINE] = '\0';
  feed_str(&f, line);
  feed_str(&f, "\r\n");
  feed_str(&f, frame("{}"));
  ASSERT_EQ(s.bad, 1);
  ASSERT_EQ(s.msgs, 2);
  qr_framer_free(&f);
}

/* ---- libuv transport over a socketpair ----------------------------------------------------- */

typedef struct uv_case {
  int messages, eofs, closed;
  char last[256];
} uv_case;

static void uv_on_message(qr_transport *t, const char *body, size_t len, void *data) {
  uv_case *c = data;
  c->messages++;
  snprintf(c->last, sizeof c->last, "%.*s", (int)len, body);
  char reply[300];
  snprintf(reply, sizeof reply, "{\"echo\":%.*s}", (int)len, body);
  ASSERT_OK(qr_transport_send(t, reply, strlen(reply)));
}

static void uv_on_eof(qr_transport *t, int status, void *data) {
  uv_case *c = data;
  ASSERT_OK(status);
  c->eofs++;
  qr_transport_close(t);
  ASSERT_EQ(qr_transport_send(t, "{}", 2), QR_E_STATE);
}

static void uv_on_closed(qr_transport *t, void *data) { ((uv_case *)data)->closed++; }

TEST(transport_uv_socketpair_roundtrip) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  int sv[2];
  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  uv_case c = {0};
  qr_transport_options o = {.on_message = uv_on_message, .on_eof = uv_on_eof,
                            .on_closed = uv_on_closed, .data = &c};
  qr_transport *t;
  ASSERT_OK(qr_transport_new(&loop, &o, &t));
  ASSERT_OK(qr_transport_open_fds(t, sv[0], dup(sv[0]), NULL));
  ASSERT_OK(qr_transport_start(t));
  char out[512];
  snprintf(out, sizeof out, "%s", frame("[1]"));
  strcat(out, "Content-Length: 3\r\n\r\n[2]");
  ASSERT_EQ(write(sv[1], out, strlen(out)), (ssize_t)strlen(out));
  shutdown(sv[1], SHUT_WR);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(c.messages, 2);
  ASSERT_STR_EQ(c.last, "[2]");
  ASSERT_EQ(c.eofs, 1);
  ASSERT_EQ(c.closed, 1);
  ASSERT_OK(uv_loop_close(&loop)); /* no handle leaked */
  char in[512] = {0};
  size_t got = 0;
  ssize_t r;
  while ((r = read(sv[1], in + got, sizeof in - 1 - got)) > 0) got += (size_t)r;
  ASSERT_STR_EQ(in, "Content-Length: 12\r\n\r\n{\"echo\":[1]}"
                    "Content-Length: 12\r\n\r\n{\"echo\":[2]}");
  close(sv[1]);
}

TEST(transport_refuses_regular_files) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  uv_case c = {0};
  qr_transport_options o = {.on_message = uv_on_message, .on_closed = uv_on_closed, .data = &c};
  qr_transport *t;
  ASSERT_OK(qr_transport_new(&loop, &o, &t));
  int fd = open("/dev/null", O_RDONLY);
  ASSERT(fd >= 0);
  qr_err e = {0};
  ASSERT_EQ(qr_transport_open_fds(t, fd, fd, &e), QR_E_UNSUPPORTED);
  ASSERT(strstr(e.msg, "not a pipe"));
  qr_transport_close(t);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(c.closed, 1);
  ASSERT_OK(uv_loop_close(&loop));
  close(fd);
}
