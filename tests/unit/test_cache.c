/* Unit tests for cache.c: keys (SHA-256 known answers, every part counts), round trip, LRU
 * eviction under the cap, stats and clear, two processes at once, and damaged or unwritable
 * paths failing with a clear error. */
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/cache.h"
#include "test.h"

/* Removes the test's folder when the test process exits (forked writers _exit and skip it). */
static char temp_root[64];
static int remove_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
  return remove(p);
}
static void remove_temp(void) { nftw(temp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* NAME in a fresh folder under /tmp, one per test (each test runs in its own process). */
static char *temp_path(const char *name) {
  snprintf(temp_root, sizeof temp_root, "/tmp/qr-cache-XXXXXX");
  ASSERT(mkdtemp(temp_root) != NULL);
  atexit(remove_temp);
  char *p = qr_asprintf("%s/%s", temp_root, name);
  ASSERT(p != NULL);
  return p;
}

static qr_cache_entry entry(const char *text) {
  return (qr_cache_entry){.text = (char *)text, .model_served = "m-served", .input_tokens = 10,
                          .output_tokens = 5, .cached_tokens = 2, .cost_usd = 0.5};
}

static void put(qr_cache *c, const char *key, const char *text) {
  qr_cache_entry en = entry(text);
  ASSERT_OK(qr_cache_put(c, key, &en, NULL));
}

static bool has(qr_cache *c, const char *key) {
  qr_cache_entry got = {0};
  int rc = qr_cache_get(c, key, &got, NULL);
  ASSERT(rc == QR_OK || rc == QR_E_NOTFOUND);
  qr_cache_entry_clear(&got);
  return rc == QR_OK;
}

TEST(cache_key_known_answers) {
  char k[QR_CACHE_KEY_SIZE];
  /* expected values from Python's hashlib over the same length-prefixed parts */
  qr_cache_key("m", "http://x", "instr", "body", 4, k);
  ASSERT_STR_EQ(k, "6818c0306af07219c23a3fc944cb22e7545034b3beeb326241dc2d4679ee2338");
  char body[401];
  for (int i = 0; i < 100; i++) memcpy(body + 4 * i, "body", 4);
  body[400] = '\0';
  qr_cache_key("m", NULL, "", body, 400, k);
  ASSERT_STR_EQ(k, "e4bbcb30e526848ba33cccb8c535ade2a279dce194ed6762c00ae2272d826fb6");
}

TEST(cache_key_every_part_counts) {
  char a[QR_CACHE_KEY_SIZE], b[QR_CACHE_KEY_SIZE];
  qr_cache_key("m", "u", "i", "r", 1, a);
  qr_cache_key("m", "u", "i", "r", 1, b);
  ASSERT_STR_EQ(a, b);
  qr_cache_key("m2", "u", "i", "r", 1, b);
  ASSERT(strcmp(a, b));
  qr_cache_key("m", "u2", "i", "r", 1, b);
  ASSERT(strcmp(a, b));
  qr_cache_key("m", "u", "i2", "r", 1, b);
  ASSERT(strcmp(a, b));
  qr_cache_key("m", "u", "i", "r2", 2, b);
  ASSERT(strcmp(a, b));
  qr_cache_key("mu", "", "i", "r", 1, b); /* moving bytes between parts changes the key */
  ASSERT(strcmp(a, b));
  qr_cache_key("m", "u", NULL, "r", 1, a);
  qr_cache_key("m", "u", "", "r", 1, b);
  ASSERT(strcmp(a, b));
}

TEST(cache_round_trip_and_private_file) {
  char *path = temp_path("sub/cache.db");
  qr_cache *c = NULL;
  ASSERT_OK(qr_cache_open(path, 0, &c, NULL));
  qr_cache_entry got = {0};
  ASSERT_EQ(qr_cache_get(c, "k1", &got, NULL), QR_E_NOTFOUND);
  put(c, "k1", "{\"findings\":[]}");
  ASSERT_OK(qr_cache_get(c, "k1", &got, NULL));
  ASSERT_STR_EQ(got.text, "{\"findings\":[]}");
  ASSERT_STR_EQ(got.model_served, "m-served");
  ASSERT_EQ(got.input_tokens, 10);
  ASSERT_EQ(got.output_tokens, 5);
  ASSERT_EQ(got.cached_tokens, 2);
  ASSERT(got.cost_usd == 0.5);
  qr_cache_entry_clear(&got);
  /* a put replaces; an entry without model_served reads back NULL */
  qr_cache_entry en = {.text = "second"};
  ASSERT_OK(qr_cache_put(c, "k1", &en, NULL));
  qr_cache_close(c);

  ASSERT_OK(qr_cache_open(path, 0, &c, NULL)); /* it persists */
  ASSERT_OK(qr_cache_get(c, "k1", &got, NULL));
  ASSERT_STR_EQ(got.text, "second");
  ASSERT(got.model_served == NULL);
  qr_cache_entry_clear(&got);
  qr_cache_entry none = {0};
  ASSERT_EQ(qr_cache_put(c, "k2", &none, NULL), QR_E_INVAL);
  qr_cache_close(c);
  struct stat st;
  ASSERT_OK(stat(path, &st));
  ASSERT_EQ(st.st_mode & 0777, 0600);
  qr_free(path);
}

TEST(cache_evicts_least_recently_used) {
  char *path = temp_path("cache.db");
  char text[1000];
  memset(text, 'x', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  /* each entry is a bit over 1000 bytes: three fit under 3500, four do not */
  qr_cache *c = NULL;
  ASSERT_OK(qr_cache_open(path, 3500, &c, NULL));
  put(c, "a", text);
  put(c, "b", text);
  put(c, "c", text);
  ASSERT(has(c, "a")); /* a is now more recent than b and c */
  put(c, "d", text);
  ASSERT(!has(c, "b"));
  ASSERT(has(c, "a") && has(c, "c") && has(c, "d")); /* reads count as uses: a, c, d */
  put(c, "e", text); /* a is now the oldest */
  ASSERT(!has(c, "a"));
  ASSERT(has(c, "c") && has(c, "d") && has(c, "e"));

  json_t *s = NULL;
  ASSERT_OK(qr_cache_stats(c, &s, NULL));
  ASSERT_EQ(json_integer_value(json_object_get(s, "entries")), 3);
  ASSERT(json_integer_value(json_object_get(s, "bytes")) <= 3500);
  ASSERT_EQ(json_integer_value(json_object_get(s, "max_bytes")), 3500);
  ASSERT(json_integer_value(json_object_get(s, "hits")) >= 5);
  ASSERT_STR_EQ(json_string_value(json_object_get(s, "path")), path);
  json_decref(s);

  char big[4000];
  memset(big, 'y', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  qr_cache_entry en = entry(big);
  qr_err e = {0};
  ASSERT_EQ(qr_cache_put(c, "huge", &en, &e), QR_E_TOOBIG);
  ASSERT(has(c, "c") && has(c, "d") && has(c, "e")); /* nothing evicted for it */

  ASSERT_OK(qr_cache_clear(c, NULL));
  ASSERT(!has(c, "c"));
  ASSERT_OK(qr_cache_stats(c, &s, NULL));
  ASSERT_EQ(json_integer_value(json_object_get(s, "entries")), 0);
  ASSERT_EQ(json_integer_value(json_object_get(s, "bytes")), 0);
  json_decref(s);
  qr_cache_close(c);
  qr_free(path);
}

/* One process's share of the concurrent test: its own keys and the shared ones, written and
 * read back. Returns the number of failures. */
static int hammer(const char *path, int who) {
  qr_cache *c = NULL;
  qr_err e = {0};
  if (qr_cache_open(path, 0, &c, &e)) {
    fprintf(stderr, "open: %s\n", e.msg);
    return 1;
  }
  int bad = 0;
  for (int i = 0; i < 150; i++) {
    char key[32], text[64];
    snprintf(key, sizeof key, i % 3 ? "p%d-%d" : "shared-%d", i % 3 ? who : i, i);
    snprintf(text, sizeof text, "answer %d", i);
    qr_cache_entry en = entry(text), got = {0};
    if (qr_cache_put(c, key, &en, &e)) {
      fprintf(stderr, "put: %s\n", e.msg);
      bad++;
    }
    if (qr_cache_get(c, key, &got, &e)) {
      fprintf(stderr, "get: %s\n", e.msg);
      bad++;
    } else if (strcmp(got.text, text)) {
      bad++;
    }
    qr_cache_entry_clear(&got);
  }
  qr_cache_close(c);
  return bad;
}

TEST(cache_two_processes_at_once) {
  char *path = temp_path("cache.db");
  pid_t pids[2];
  for (int w = 0; w < 2; w++) {
    pids[w] = fork();
    ASSERT(pids[w] >= 0);
    if (pids[w] == 0) _exit(hammer(path, w) ? 1 : 0);
  }
  for (int w = 0; w < 2; w++) {
    int status = 0;
    ASSERT_EQ(waitpid(pids[w], &status, 0), pids[w]);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  qr_cache *c = NULL;
  ASSERT_OK(qr_cache_open(path, 0, &c, NULL));
  json_t *s = NULL;
  ASSERT_OK(qr_cache_stats(c, &s, NULL));
  /* 100 own keys each, 50 shared */
  ASSERT_EQ(json_integer_value(json_object_get(s, "entries")), 250);
  json_decref(s);
  ASSERT(has(c, "p0-1") && has(c, "p1-149") && has(c, "shared-0"));
  qr_cache_close(c);
  qr_free(path);
}

TEST(cache_damaged_file_is_a_clear_error) {
  char *path = temp_path("cache.db");
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  for (int i = 0; i < 500; i++) fputs("this is not an SQLite database ", f);
  fclose(f);
  qr_cache *c = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_cache_open(path, 0, &c, &e), QR_E_IO);
  ASSERT(c == NULL);
  ASSERT(strstr(e.msg, path) != NULL);
  ASSERT(strstr(e.msg, "damaged") != NULL);
  qr_free(path);
}

TEST(cache_damaged_pages_never_crash) {
  char *path = temp_path("cache.db");
  qr_cache *c = NULL;
  ASSERT_OK(qr_cache_open(path, 0, &c, NULL));
  char text[3000];
  memset(text, 'z', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  for (int i = 0; i < 20; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    put(c, key, text);
  }
  ASSERT_OK(qr_cache_clear(c, NULL)); /* checkpoints: everything is in the main file */
  for (int i = 0; i < 20; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    put(c, key, text);
  }
  qr_cache_close(c); /* the last close checkpoints the WAL into the file */
  /* scribble over everything after the header */
  FILE *f = fopen(path, "r+");
  ASSERT(f != NULL);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  for (long off = 200; off < size; off += 97) {
    fseek(f, off, SEEK_SET);
    fputs("\xde\xad\xbe\xef", f);
  }
  fclose(f);
  /* open may fail or succeed; every call after must return a code, not crash */
  qr_err e = {0};
  if (qr_cache_open(path, 0, &c, &e) == QR_OK) {
    qr_cache_entry got = {0};
    int rc = qr_cache_get(c, "k3", &got, &e);
    ASSERT(rc == QR_OK || rc == QR_E_NOTFOUND || rc == QR_E_IO);
    qr_cache_entry_clear(&got);
    qr_cache_entry en = entry("new");
    rc = qr_cache_put(c, "k99", &en, &e);
    ASSERT(rc == QR_OK || rc == QR_E_IO);
    json_t *s = NULL;
    if (qr_cache_stats(c, &s, &e) == QR_OK) json_decref(s);
    qr_cache_close(c);
  } else {
    ASSERT(strstr(e.msg, path) != NULL);
  }
  qr_free(path);
}

TEST(cache_unwritable_path_is_a_clear_error) {
  char *file = temp_path("plain");
  FILE *f = fopen(file, "w");
  ASSERT(f != NULL);
  fclose(f);
  char *path = qr_asprintf("%s/cache.db", file); /* its folder is a file */
  qr_cache *c = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_cache_open(path, 0, &c, &e), QR_E_IO);
  ASSERT(c == NULL);
  ASSERT(strstr(e.msg, path) != NULL);
  qr_free(path);
  qr_free(file);
}

TEST(cache_default_path_follows_xdg) {
  char *p = NULL;
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  ASSERT_OK(qr_cache_default_path(&p, NULL));
  ASSERT_STR_EQ(p, "/x/cache/quorum/cache.db");
  qr_free(p);
  setenv("XDG_CACHE_HOME", "", 1);
  setenv("HOME", "/home/u", 1);
  ASSERT_OK(qr_cache_default_path(&p, NULL));
  ASSERT_STR_EQ(p, "/home/u/.cache/quorum/cache.db");
  qr_free(p);
}
