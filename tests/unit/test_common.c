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

TEST(common_utf8_sanitize) {
  qr_buf b;
  qr_buf_init(&b, 1024);
  /* valid ASCII, é, 😀; then a Latin-1 byte, a cut sequence, an overlong '/', a surrogate */
  const char in[] = "a\xc3\xa9\xf0\x9f\x98\x80|\xe9|\xe2\x82|\xc0\xaf|\xed\xa0\x80";
  ASSERT_OK(qr_buf_append_utf8(&b, in, sizeof in - 1));
  ASSERT_STR_EQ(b.data, "a\xc3\xa9\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                        "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  qr_buf_free(&b);
}

/* What qr_fputs_clean writes for `in`. */
static char *cleaned(const char *in) {
  static char out[512];
  FILE *f = fmemopen(out, sizeof out, "w");
  qr_fputs_clean(f, in);
  fclose(f);
  return out;
}

TEST(common_fputs_clean_untrusted_text) {
  ASSERT_STR_EQ(cleaned("src/a.c"), "src/a.c");
  ASSERT_STR_EQ(cleaned("a\n::add-mask::x"), "a\\n::add-mask::x");
  ASSERT_STR_EQ(cleaned("::error file=a::b"), "\\x3a:error file=a::b");
  ASSERT_STR_EQ(cleaned("  ::warning::w"), "  \\x3a:warning::w");
  ASSERT_STR_EQ(cleaned("##[error]x"), "\\x23#[error]x");
  ASSERT_STR_EQ(cleaned("\x1b[2J\r\t\x7f"), "\\x1b[2J\\x0d\\t\\x7f");
  ASSERT_STR_EQ(cleaned("\xc2\x9b" "31m caf\xc3\xa9"), "\\x9b31m caf\xc3\xa9");
}

TEST(glob_match_like_gitignore) {
  ASSERT(qr_glob_match("*.py", "a.py") && qr_glob_match("*.py", "src/deep/a.py"));
  ASSERT(!qr_glob_match("*.py", "a.pyc"));
  ASSERT(qr_glob_match("src/*.c", "src/a.c") && !qr_glob_match("src/*.c", "src/x/a.c"));
  ASSERT(qr_glob_match("vendor/**", "vendor/a/b/c.c") && !qr_glob_match("vendor/**", "src/vendor/a.c"));
  ASSERT(qr_glob_match("**/*.c", "a.c") && qr_glob_match("**/*.c", "x/y/a.c"));
  ASSERT(qr_glob_match("a/**/b.c", "a/b.c") && qr_glob_match("a/**/b.c", "a/x/y/b.c"));
  ASSERT(!qr_glob_match("a/**/b.c", "a/x/c.c"));
  ASSERT(qr_glob_match("/src/*.c", "src/a.c") && !qr_glob_match("/src/*.c", "lib/src/a.c"));
  ASSERT(!qr_glob_match("", "a.c"));
  ASSERT(qr_glob_match("**/**/x", "a/b/x"));
  /* A hostile pattern on a deep path stays fast (backtracking only to the last "**"). */
  char deep[2048] = "", pat[2048] = "";
  for (int i = 0; i < 500; i++) strcat(deep, "d/");
  strcat(deep, "y");
  for (int i = 0; i < 200; i++) strcat(pat, "**/d/");
  strcat(pat, "z");
  ASSERT(!qr_glob_match(pat, deep));
}
