/* Unit tests for common.c: error names, capped buffers. */
#include "common.h"
#include "test.h"

TEST(common_strerror) {
  ASSERT_STR_EQ(qr_strerror(QR_E_TOOBIG), "input exceeds its size cap");
  ASSERT_STR_EQ(qr_err_name(QR_E_PARSE), "QR_E_PARSE");
  ASSERT_STR_EQ(qr_strerror(-999), "unknown error");
}

TEST(common_buf_cap) {
  qr_buf b;
  qr_buf_init(&b, 8);
  ASSERT_OK(qr_buf_puts(&b, "abcd"));
  ASSERT_OK(qr_buf_printf(&b, "%d", 123));
  ASSERT_EQ(qr_buf_puts(&b, "xy"), QR_E_TOOBIG);
  ASSERT_STR_EQ(b.data, "abcd123");
  qr_buf_consume(&b, 2);
  ASSERT_STR_EQ(b.data, "cd123");
  size_t n;
  char *s = qr_buf_detach(&b, &n);
  ASSERT_EQ(n, 5);
  ASSERT_STR_EQ(s, "cd123");
  qr_free(s);
}

TEST(common_alloc_failure) {
  qr_alloc_fail_after(1);
  ASSERT(qr_malloc(10) == NULL);
  qr_alloc_fail_after(-1);
  void *p = qr_malloc(10);
  ASSERT(p != NULL);
  qr_free(p);
}
