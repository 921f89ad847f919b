/* Unit tests for sse.c: recorded OpenAI/OpenRouter/Anthropic streams give the same events
 * however they are chunked and whichever line endings they use; comments; caps. */
#include "providers/sse.h"
#include "test.h"

/* Events are recorded as "type|data\n" lines into a qr_buf. */
static int record(const char *event, const char *data, size_t len, void *ud) {
  qr_buf *out = ud;
  ASSERT_EQ(strlen(data), len);
  return qr_buf_printf(out, "%s|%s\n", event, data);
}

/* Parses `text` in chunks of `chunk` bytes; returns the recorded events (caller frees). */
static char *parse_chunked(const char *text, size_t len, size_t chunk) {
  qr_buf out;
  qr_buf_init(&out, 1 << 24);
  qr_sse s;
  qr_sse_init(&s, 1 << 16, 1 << 20, record, &out);
  for (size_t off = 0; off < len; off += chunk)
    ASSERT_OK(qr_sse_feed(&s, text + off, QR_MIN(chunk, len - off), NULL));
  ASSERT(!qr_sse_pending(&s));
  qr_sse_free(&s);
  char *r = qr_buf_detach(&out, NULL);
  ASSERT(r);
  return r;
}

static char *load(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/provider/%s", qr_test_data_dir(), name);
  char *text;
  ASSERT_OK(qr_read_file(path, 1 << 20, &text, len, NULL));
  return text;
}

/* Rewrites every "\n" as `eol`. */
static char *with_eol(const char *text, const char *eol) {
  qr_buf b;
  qr_buf_init(&b, 1 << 24);
  for (const char *p = text; *p; p++)
    ASSERT_OK(*p == '\n' ? qr_buf_puts(&b, eol) : qr_buf_append(&b, p, 1));
  return qr_buf_detach(&b, NULL);
}

static void check_all_chunkings(const char *name, int expected_events) {
  size_t len;
  char *text = load(name, &len);
  char *ref = parse_chunked(text, len, len);
  int n = 0;
  for (const char *p = strchr(ref, '|'); p; p = strchr(p + 1, '|')) n++;
  ASSERT(n >= expected_events); /* data itself may contain '|'; never fewer */
  const size_t sizes[] = {1, 2, 3, 5, 7, 13, 64, 1000, 4096, 65536};
  const char *eols[] = {"\n", "\r\n", "\r"};
  for (size_t e = 0; e < QR_ARRAY_LEN(eols); e++) {
    char *t = with_eol(text, eols[e]);
    for (size_t i = 0; i < QR_ARRAY_LEN(sizes); i++) {
      char *got = parse_chunked(t, strlen(t), sizes[i]);
      if (strcmp(got, ref)) QR__FAIL("%s: eol %zu chunk %zu differs", name, e, sizes[i]);
      qr_free(got);
    }
    qr_free(t);
  }
  qr_free(ref);
  qr_free(text);
}

TEST(sse_chunkings_openai) { check_all_chunkings("openai_stream.sse", 7); }
TEST(sse_chunkings_openrouter) { check_all_chunkings("openrouter_stream.sse", 7); }
TEST(sse_chunkings_anthropic) { check_all_chunkings("anthropic_stream.sse", 13); }

TEST(sse_events_and_comments) {
  const char *text =
      ": OPENROUTER PROCESSING\n\n"
      "event: message_start\ndata: {\"a\":1}\n\n"
      "data: line one\ndata:line two\ndata\n\n"
      "id: 7\nretry: 100\n\n" /* no data: nothing dispatched */
      "data: [DONE]\n\n"
      "data: unterminated";
  char *got = parse_chunked(text, strlen(text) - strlen("data: unterminated"), 4);
  ASSERT_STR_EQ(got, "message_start|{\"a\":1}\nmessage|line one\nline two\n\nmessage|[DONE]\n");
  qr_free(got);

  /* the unterminated event at the end is pending, then dropped */
  qr_buf out;
  qr_buf_init(&out, 1 << 16);
  qr_sse s;
  qr_sse_init(&s, 1024, 1024, record, &out);
  ASSERT_OK(qr_sse_feed(&s, text, strlen(text), NULL));
  ASSERT(qr_sse_pending(&s));
  qr_sse_free(&s);
  qr_buf_free(&out);
}

TEST(sse_crlf_split_across_chunks) {
  qr_buf out;
  qr_buf_init(&out, 1 << 16);
  qr_sse s;
  qr_sse_init(&s, 1024, 1024, record, &out);
  ASSERT_OK(qr_sse_feed(&s, "data: a\r", 8, NULL));
  ASSERT_OK(qr_sse_feed(&s, "\n\r", 2, NULL));
  ASSERT_OK(qr_sse_feed(&s, "\ndata: b\r\r", 10, NULL));
  ASSERT_STR_EQ(out.data, "message|a\nmessage|b\n");
  qr_sse_free(&s);
  qr_buf_free(&out);
}

TEST(sse_line_cap) {
  qr_buf out;
  qr_buf_init(&out, 1 << 16);
  qr_sse s;
  qr_err e = {0};
  qr_sse_init(&s, 16, 1024, record, &out);
  ASSERT_OK(qr_sse_feed(&s, "data: 0123456789", 16, &e)); /* exactly the cap */
  ASSERT_EQ(qr_sse_feed(&s, "x", 1, &e), QR_E_TOOBIG);
  ASSERT_STR_EQ(e.msg, "server-sent event line longer than 16 bytes");
  qr_sse_free(&s);
  qr_sse_init(&s, 16, 1024, record, &out);
  ASSERT_EQ(qr_sse_feed(&s, "data: 0123456789x\n", 18, &e), QR_E_TOOBIG); /* in one chunk */
  qr_sse_free(&s);
  qr_buf_free(&out);
}

TEST(sse_event_cap) {
  qr_buf out;
  qr_buf_init(&out, 1 << 16);
  qr_sse s;
  qr_err e = {0};
  qr_sse_init(&s, 64, 10, record, &out);
  ASSERT_OK(qr_sse_feed(&s, "data: 12345\ndata: 6789\n", 23, &e)); /* 10 bytes with the \n */
  ASSERT_EQ(qr_sse_feed(&s, "data: x\n", 8, &e), QR_E_TOOBIG);
  ASSERT_STR_EQ(e.msg, "server-sent event larger than 10 bytes");
  qr_sse_free(&s);
  qr_buf_free(&out);
}

static int stop_at_second(const char *event, const char *data, size_t len, void *ud) {
  return ++*(int *)ud == 2 ? QR_E_PROVIDER : QR_OK;
}

TEST(sse_callback_stops) {
  int n = 0;
  qr_sse s;
  qr_sse_init(&s, 64, 64, stop_at_second, &n);
  ASSERT_EQ(qr_sse_feed(&s, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27, NULL), QR_E_PROVIDER);
  ASSERT_EQ(n, 2);
  qr_sse_free(&s);
}
