/* test.h — the unit-test registry: TEST(name) { … } registers a test; ASSERT_* fail it.
 * tests/unit/main.c forks each test (a crash fails only that test) and prints one
 * "ok NAME" / "FAIL NAME" line per test, read by tests/run.sh. */
#ifndef QR_TEST_H
#define QR_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*qr_test_fn)(void);
void qr_test_register(const char *name, qr_test_fn fn);

#define TEST(name)                                                                    \
  static void test_##name(void);                                                     \
  __attribute__((constructor)) static void register_##name(void) {                    \
    qr_test_register(#name, test_##name);                                            \
  }                                                                                  \
  static void test_##name(void)

#define QR__FAIL(...)                                                                \
  do {                                                                               \
    fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                  \
    fprintf(stderr, __VA_ARGS__);                                                    \
    fputc('\n', stderr);                                                             \
    exit(1);                                                                         \
  } while (0)

#define ASSERT(c) do { if (!(c)) QR__FAIL("assertion failed: %s", #c); } while (0)
#define ASSERT_EQ(a, b)                                                              \
  do {                                                                               \
    long long a_ = (long long)(a), b_ = (long long)(b);                              \
    if (a_ != b_) QR__FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);                \
  } while (0)
#define ASSERT_OK(a) ASSERT_EQ((a), 0)
#define ASSERT_STR_EQ(a, b)                                                          \
  do {                                                                               \
    const char *a_ = (a), *b_ = (b);                                                 \
    if (!a_ || !b_ || strcmp(a_, b_))                                                \
      QR__FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
  } while (0)
#define ASSERT_MEM_EQ(a, b, n) do { if (memcmp((a), (b), (n))) QR__FAIL("%s == %s (%zu bytes)", #a, #b, (size_t)(n)); } while (0)

/* The folder of golden data, tests/data (QR_TEST_DATA overrides). */
const char *qr_test_data_dir(void);

#endif
