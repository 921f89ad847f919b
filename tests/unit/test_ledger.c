/* Unit tests for ledger.c: appends (mode, folders, one line per record, concurrent writers),
 * queries (order, since, sums by model/day/role), damaged lines, backward reading across
 * blocks and over-long lines, the daily spend and the text form. */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/ledger.h"
#include "test.h"

/* A fresh folder under /tmp, one per test (each test runs in its own process). */
/* Removes the test's folder when the test process exits (forked writers _exit and skip it). */
static char temp_root[64];
static int remove_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
  return remove(p);
}
static void remove_temp(void) { nftw(temp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static char *temp_dir(void) {
  snprintf(temp_root, sizeof temp_root, "/tmp/qr-ledger-XXXXXX");
  ASSERT(mkdtemp(temp_root) != NULL);
  atexit(remove_temp);
  return temp_root;
}

static char *join(const char *dir, const char *name) {
  char *p = qr_asprintf("%s/%s", dir, name);
  ASSERT(p != NULL);
  return p;
}

/* 2024-05-01T00:00:00Z plus `days` days and `secs` seconds. */
static time_t day(int days, int secs) { return (time_t)1714521600 + days * 86400 + secs; }

static qr_ledger_record rec(time_t t, const char *role, const char *model, double cost) {
  return (qr_ledger_record){.time = t, .role = role, .strategy = "security", .model = model,
                            .model_requested = "vendor/model-x", .model_served = "vendor/model-x-1",
                            .input_tokens = 100, .output_tokens = 10, .cached_tokens = 1,
                            .cost_usd = cost, .latency_ms = 250, .status = "ok",
                            .redactions = 2, .review = "abc"};
}

static void append(qr_ledger *l, qr_ledger_record r) { ASSERT_OK(qr_ledger_append(l, &r, NULL)); }

/* What the ledger at `path` says was spent since t. */
static double spent_since(const char *path, time_t t) {
  double spent = -1;
  ASSERT_OK(qr_ledger_spent_since(path, t, &spent, NULL));
  return spent;
}

/* A new ledger file in a temporary folder holding `text`; its path is new (qr_free). */
static char *ledger_with(const char *text) {
  char *path = join(temp_dir(), "l.jsonl");
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  fputs(text, f);
  fclose(f);
  return path;
}

TEST(ledger_append_creates_private_file_and_reads_back) {
  char *dir = temp_dir();
  char *path = join(dir, "state/quorum/ledger.jsonl");
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  ASSERT_STR_EQ(qr_ledger_path(l), path);
  append(l, rec(day(0, 1), "pass", "fast", 0.25));
  append(l, rec(day(0, 2), "judge", "smart", 0.5));
  qr_ledger_close(l);

  struct stat st;
  ASSERT_OK(stat(path, &st));
  ASSERT_EQ(st.st_mode & 0777, 0600);
  char *folder = join(dir, "state/quorum");
  ASSERT_OK(stat(folder, &st));
  ASSERT_EQ(st.st_mode & 0777, 0700);

  char *text = NULL;
  size_t len = 0;
  ASSERT_OK(qr_read_file(path, 1 << 20, &text, &len, NULL));
  ASSERT_EQ(text[len - 1], '\n');
  ASSERT(strchr(text, '\n') != text + len - 1); /* two lines */

  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, NULL, NULL, &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 2);
  json_t *first = json_array_get(q, 0);
  ASSERT_STR_EQ(json_string_value(json_object_get(first, "time")), "2024-05-01T00:00:01Z");
  ASSERT_STR_EQ(json_string_value(json_object_get(first, "role")), "pass");
  ASSERT_STR_EQ(json_string_value(json_object_get(first, "model_served")), "vendor/model-x-1");
  ASSERT_EQ(json_integer_value(json_object_get(first, "redactions")), 2);
  ASSERT_EQ(json_integer_value(json_object_get(first, "cached_tokens")), 1);
  ASSERT(json_real_value(json_object_get(first, "cost_usd")) == 0.25);
  ASSERT_EQ(json_integer_value(json_object_get(first, "attempts")), 1); /* 0 counts as one */
  ASSERT_EQ(json_object_size(first), 15); /* exactly the documented fields */
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(q, 1), "role")), "judge");
  json_decref(q);
  qr_free(text);
  qr_free(folder);
  qr_free(path);
}

TEST(ledger_null_strings_and_now) {
  char *path = join(temp_dir(), "l.jsonl");
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  qr_ledger_record r = {.role = "pass", .status = "timeout"};
  time_t before = time(NULL);
  ASSERT_OK(qr_ledger_append(l, &r, NULL));
  ASSERT_EQ(qr_ledger_append(l, NULL, NULL), QR_E_INVAL);
  qr_ledger_close(l);
  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, NULL, NULL, &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 1);
  ASSERT(json_is_null(json_object_get(json_array_get(q, 0), "model_served")));
  json_decref(q);
  /* time 0 means now: the record counts as spent since a moment ago */
  double spent = -1;
  ASSERT_OK(qr_ledger_spent_since(path, before - 1, &spent, NULL));
  ASSERT(spent == 0);
  qr_free(path);
}

TEST(ledger_long_strings_are_cut_to_one_record) {
  char *path = join(temp_dir(), "l.jsonl");
  char big[10000];
  /* "é" is two bytes: a cut must not split one */
  for (size_t i = 0; i + 2 < sizeof big; i += 2) memcpy(big + i, "\xc3\xa9", 2);
  big[sizeof big - 2] = '\0';
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  qr_ledger_record r = rec(day(0, 0), "pass", big, 1);
  r.strategy = r.model_requested = r.model_served = r.status = r.review = big;
  ASSERT_OK(qr_ledger_append(l, &r, NULL));
  qr_ledger_close(l);
  struct stat st;
  ASSERT_OK(stat(path, &st));
  ASSERT(st.st_size <= QR_LEDGER_MAX_RECORD);
  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, NULL, NULL, &q, NULL, NULL));
  const char *model = json_string_value(json_object_get(json_array_get(q, 0), "model"));
  ASSERT(model != NULL);
  ASSERT(strlen(model) > 100 && strlen(model) <= 200);
  json_decref(q);
  qr_free(path);
}

TEST(ledger_query_since_and_sums) {
  char *path = join(temp_dir(), "l.jsonl");
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  append(l, rec(day(0, 10), "pass", "fast", 1));
  append(l, rec(day(1, 10), "pass", "fast", 2));
  append(l, rec(day(1, 20), "pass", "smart", 4));
  append(l, rec(day(2, 10), "judge", "smart", 8));
  qr_ledger_close(l);

  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, "2024-05-02", NULL, &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 3);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(q, 0), "time")),
                "2024-05-02T00:00:10Z");
  json_decref(q);
  ASSERT_OK(qr_ledger_query(path, "2024-05-02T00:00:11Z", NULL, &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 2);
  json_decref(q);

  ASSERT_OK(qr_ledger_query(path, NULL, "model", &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 2);
  json_t *fast = json_array_get(q, 0), *smart = json_array_get(q, 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(fast, "model")), "fast");
  ASSERT_EQ(json_integer_value(json_object_get(fast, "calls")), 2);
  ASSERT_EQ(json_integer_value(json_object_get(fast, "input_tokens")), 200);
  ASSERT(json_real_value(json_object_get(fast, "cost_usd")) == 3);
  ASSERT_STR_EQ(json_string_value(json_object_get(smart, "model")), "smart");
  ASSERT(json_real_value(json_object_get(smart, "cost_usd")) == 12);
  json_decref(q);

  ASSERT_OK(qr_ledger_query(path, "2024-05-02", "day", &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 2);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(q, 0), "day")), "2024-05-02");
  ASSERT(json_real_value(json_object_get(json_array_get(q, 0), "cost_usd")) == 6);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(q, 1), "day")), "2024-05-03");
  json_decref(q);

  ASSERT_OK(qr_ledger_query(path, NULL, "role", &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 2);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(q, 0), "role")), "judge");
  ASSERT_EQ(json_integer_value(json_object_get(json_array_get(q, 1), "calls")), 3);
  json_decref(q);
  qr_free(path);
}

TEST(ledger_query_rejects_bad_arguments) {
  json_t *q = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_ledger_query("/nonexistent/l.jsonl", "May 1", NULL, &q, NULL, &e), QR_E_INVAL);
  ASSERT(strstr(e.msg, "since") != NULL);
  ASSERT_EQ(qr_ledger_query("/nonexistent/l.jsonl", "2024-13-01", NULL, &q, NULL, NULL), QR_E_INVAL);
  ASSERT_EQ(qr_ledger_query("/nonexistent/l.jsonl", NULL, "week", &q, NULL, &e), QR_E_INVAL);
  /* a missing file is an empty ledger */
  ASSERT_OK(qr_ledger_query("/nonexistent/l.jsonl", NULL, NULL, &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 0);
  json_decref(q);
}

TEST(ledger_skips_lines_that_are_not_records) {
  char *path = join(temp_dir(), "l.jsonl");
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  fputs("{\"time\":\"2024-05-01T00:00:01Z\",\"cost_usd\":1.5,\"role\":\"pass\"}\n", f);
  fputs("not json\n\n[1,2]\n{\"time\":\"yesterday\",\"cost_usd\":100}\n{\"cost_usd\":100}\n", f);
  fputs("{\"time\":\"2024-05-01T00:00:02Z\",\"cost_usd\":2.5,\"role\":\"judge\"}\n", f);
  fputs("{\"time\":\"2024-05-01T00:00:03Z\",\"cost_", f); /* a torn last line */
  fclose(f);
  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, NULL, NULL, &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 2);
  json_decref(q);
  ASSERT(spent_since(path, day(0, 0)) == 4);
  qr_free(path);
}

/* A torn last line (a crash mid-write) does not swallow the next record. */
TEST(ledger_append_after_torn_line) {
  char *path = ledger_with("{\"time\":\"2024-05-01T00:00:03Z\",\"cost_");
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  append(l, rec(day(0, 5), "pass", "m", 2));
  append(l, rec(day(0, 6), "pass", "m", 3));
  qr_ledger_close(l);
  ASSERT(spent_since(path, day(0, 0)) == 5);
  qr_free(path);
}

/* Damaged records (absurd or negative counts and costs) are skipped, so sums never overflow;
 * an impossible date is refused, not normalized. */
TEST(ledger_skips_damaged_records_and_bad_dates) {
  char *path = ledger_with(
      "{\"time\":\"2024-05-01T10:00:00Z\",\"input_tokens\":10,\"cost_usd\":0.5}\n"
      "{\"time\":\"2024-05-01T11:00:00Z\",\"input_tokens\":9223372036854775807,\"cost_usd\":1}\n"
      "{\"time\":\"2024-05-01T11:00:00Z\",\"input_tokens\":9223372036854775807,\"cost_usd\":1}\n"
      "{\"time\":\"2024-05-01T12:00:00Z\",\"input_tokens\":1,\"cost_usd\":1e308}\n"
      "{\"time\":\"2024-05-01T12:00:00Z\",\"input_tokens\":1,\"cost_usd\":-5}\n");
  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, NULL, "model", &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 1);
  ASSERT_EQ(json_integer_value(json_object_get(json_array_get(q, 0), "input_tokens")), 10);
  json_decref(q);
  ASSERT(spent_since(path, day(0, 0)) == 0.5);
  ASSERT_EQ(qr_ledger_query(path, "2024-02-31", NULL, &q, NULL, NULL), QR_E_INVAL);
  ASSERT_EQ(qr_ledger_query(path, "2023-02-29T00:00:00Z", NULL, &q, NULL, NULL), QR_E_INVAL);
  ASSERT_OK(qr_ledger_query(path, "2024-02-29", NULL, &q, NULL, NULL));
  json_decref(q);
  qr_free(path);
}

/* A stray old record after today's (a merged or restored file, a clock step) does not end the
 * backward scan: the day's spend and a since query still see today's records. */
TEST(ledger_out_of_order_record_does_not_hide_newer_ones) {
  static const int days[] = {5, -1000, 5, -2000}; /* in file order */
  static const double costs[] = {10, 0, 1, 0};
  char *path = join(temp_dir(), "l.jsonl");
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  for (int i = 0; i < 4; i++) append(l, rec(day(days[i], i * 10), "pass", "m", costs[i]));
  qr_ledger_close(l);
  ASSERT(spent_since(path, day(5, 0)) == 11);
  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, "2024-05-06", NULL, &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 2);
  json_decref(q);
  qr_free(path);
}

TEST(ledger_spent_since_across_blocks_and_long_lines) {
  char *path = join(temp_dir(), "l.jsonl");
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  for (int i = 0; i < 2000; i++) append(l, rec(day(0, i), "pass", "old", 1)); /* ~600 KB */
  qr_ledger_close(l);
  /* a line longer than a read block, between the old and the new records */
  FILE *f = fopen(path, "a");
  ASSERT(f != NULL);
  fputs("{\"time\":\"2024-05-05T00:00:00Z\",\"cost_usd\":1000,\"pad\":\"", f);
  for (int i = 0; i < 100000; i++) fputc('x', f);
  fputs("\"}\n", f);
  fclose(f);
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  for (int i = 0; i < 1500; i++) append(l, rec(day(5, i), "pass", "new", 0.5));
  qr_ledger_close(l);

  double spent = 0;
  ASSERT_OK(qr_ledger_spent_since(path, day(5, 0), &spent, NULL));
  ASSERT(spent == 750);
  /* old records from second 1000 on count 1 each; the over-long line is skipped, not misread */
  ASSERT_OK(qr_ledger_spent_since(path, day(0, 1000), &spent, NULL));
  ASSERT(spent == 1000 * 1 + 750);
  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, NULL, NULL, &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), 3500);
  /* file order survives the backward read */
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(q, 0), "time")),
                "2024-05-01T00:00:00Z");
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(q, 1999), "model")), "old");
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(q, 2000), "model")), "new");
  json_decref(q);
  qr_free(path);
}

TEST(ledger_concurrent_appends_do_not_interleave) {
  char *path = join(temp_dir(), "l.jsonl");
  enum { WRITERS = 4, EACH = 300 };
  for (int w = 0; w < WRITERS; w++) {
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid) continue;
    qr_ledger *l = NULL;
    int bad = qr_ledger_open(path, &l, NULL);
    char model[32];
    snprintf(model, sizeof model, "writer-%d", w);
    for (int i = 0; !bad && i < EACH; i++) {
      qr_ledger_record r = rec(day(0, i), "pass", model, 1);
      bad = qr_ledger_append(l, &r, NULL);
    }
    qr_ledger_close(l);
    _exit(bad ? 1 : 0);
  }
  for (int w = 0; w < WRITERS; w++) {
    int status = 0;
    ASSERT(wait(&status) > 0);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  json_t *q = NULL;
  ASSERT_OK(qr_ledger_query(path, NULL, "model", &q, NULL, NULL));
  ASSERT_EQ(json_array_size(q), WRITERS);
  for (int w = 0; w < WRITERS; w++)
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(q, (size_t)w), "calls")), EACH);
  json_decref(q);
  qr_free(path);
}

TEST(ledger_open_fails_clearly) {
  char *dir = temp_dir();
  char *file = join(dir, "plain");
  FILE *f = fopen(file, "w");
  ASSERT(f != NULL);
  fclose(f);
  char *path = join(file, "ledger.jsonl"); /* a folder that is a file */
  qr_ledger *l = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_ledger_open(path, &l, &e), QR_E_IO);
  ASSERT(strstr(e.msg, path) != NULL);
  ASSERT(l == NULL);
  qr_free(path);
  qr_free(file);
}

TEST(ledger_default_path_follows_xdg) {
  char *p = NULL;
  setenv("XDG_STATE_HOME", "/x/state", 1);
  ASSERT_OK(qr_ledger_default_path(&p, NULL));
  ASSERT_STR_EQ(p, "/x/state/quorum/ledger.jsonl");
  qr_free(p);
  unsetenv("XDG_STATE_HOME");
  setenv("HOME", "/home/u", 1);
  ASSERT_OK(qr_ledger_default_path(&p, NULL));
  ASSERT_STR_EQ(p, "/home/u/.local/state/quorum/ledger.jsonl");
  qr_free(p);
  unsetenv("HOME");
  ASSERT_EQ(qr_ledger_default_path(&p, NULL), QR_E_NOTFOUND);
}

TEST(ledger_review_ids_are_hex_and_differ) {
  char a[QR_LEDGER_ID_SIZE], b[QR_LEDGER_ID_SIZE];
  qr_ledger_review_id(a);
  qr_ledger_review_id(b);
  ASSERT_EQ(strlen(a), 16);
  ASSERT_EQ(strspn(a, "0123456789abcdef"), 16);
  ASSERT(strcmp(a, b) != 0);
}

TEST(ledger_text_form) {
  char *path = join(temp_dir(), "l.jsonl");
  qr_ledger *l = NULL;
  ASSERT_OK(qr_ledger_open(path, &l, NULL));
  append(l, rec(day(0, 1), "pass", "fast", 0.125));
  append(l, rec(day(0, 2), "judge", "smart", 0.25));
  qr_ledger_close(l);
  json_t *q = NULL;
  qr_buf b;
  qr_buf_init(&b, 1 << 16);
  ASSERT_OK(qr_ledger_query(path, NULL, NULL, &q, NULL, NULL));
  ASSERT_OK(qr_ledger_format_text(q, NULL, &b));
  ASSERT(strstr(b.data, "2024-05-01T00:00:02Z  judge  smart") != NULL);
  ASSERT(strstr(b.data, "total: 2 calls, 200 input tokens, 20 output tokens, $0.3750\n") != NULL);
  json_decref(q);
  qr_buf_reset(&b);
  ASSERT_OK(qr_ledger_query(path, NULL, "role", &q, NULL, NULL));
  ASSERT_OK(qr_ledger_format_text(q, "role", &b));
  ASSERT(strncmp(b.data, "role ", 5) == 0);
  ASSERT(strstr(b.data, "\npass ") != NULL);
  ASSERT(strstr(b.data, "total: 2 calls,") != NULL);
  json_decref(q);
  qr_buf_free(&b);
  qr_free(path);
}
