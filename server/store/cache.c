/* cache.c — the pass cache in SQLite, and the SHA-256 its keys are made with.
 *
 * One table, entries(key, answer, usage, bytes, last_used, hits). last_used is a logical clock
 * (one more than the newest entry's) rather than wall time, so "least recently used" is exact
 * even for uses within the same second and immune to clock steps. Writes that touch more than
 * one statement run in BEGIN IMMEDIATE, so a second process waits on the busy timeout instead
 * of failing half-way; single statements are atomic on their own. */
#include "store/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/xdg.h"

#define ROW_OVERHEAD 64 /* bytes counted for a row besides its strings */

/* ---- SHA-256 (FIPS 180-4), written for this file ------------------------------------------ */

typedef struct sha256 {
  uint32_t h[8];
  uint64_t len; /* bytes hashed */
  uint8_t block[64];
  size_t fill;
} sha256;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_init(sha256 *s) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, h0, sizeof h0);
  s->len = 0;
  s->fill = 0;
}

static void sha256_block(sha256 *s, const uint8_t *p) {
  uint32_t w[64], v[8];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  memcpy(v, s->h, sizeof v);
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
                  ((v[4] & v[5]) ^ (~v[4] & v[6])) + K[i] + w[i];
    uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
                  ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
    memmove(v + 1, v, 7 * sizeof v[0]);
    v[4] += t1;
    v[0] = t1 + t2;
  }
  for (int i = 0; i < 8; i++) s->h[i] += v[i];
}

static void sha256_update(sha256 *s, const void *data, size_t n) {
  const uint8_t *p = data;
  s->len += n;
  while (n > 0) {
    size_t take = QR_MIN(n, 64 - s->fill);
    memcpy(s->block + s->fill, p, take);
    s->fill += take;
    p += take;
    n -= take;
    if (s->fill == 64) {
      sha256_block(s, s->block);
      s->fill = 0;
    }
  }
}

static void sha256_final(sha256 *s, uint8_t out[32]) {
  uint64_t bits = s->len * 8;
  uint8_t pad[72] = {0x80};
  size_t padn = (s->fill < 56 ? 56 : 120) - s->fill;
  for (int i = 0; i < 8; i++) pad[padn + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
  sha256_update(s, pad, padn + 8);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

/* Hashes one key part as its 8-byte length (all ones for NULL) and its bytes. */
static void key_part(sha256 *s, const char *p, size_t n) {
  uint64_t len = p ? (uint64_t)n : UINT64_MAX;
  uint8_t prefix[8];
  for (int i = 0; i < 8; i++) prefix[i] = (uint8_t)(len >> (56 - 8 * i));
  sha256_update(s, prefix, sizeof prefix);
  if (p) sha256_update(s, p, n);
}

static size_t len_or_0(const char *s) { return s ? strlen(s) : 0; }

void qr_cache_key(const char *version, const char *url, const char *headers, const char *body,
                  size_t body_len, char out[QR_CACHE_KEY_SIZE]) {
  sha256 s;
  uint8_t d[32];
  sha256_init(&s);
  key_part(&s, version, len_or_0(version));
  key_part(&s, url, len_or_0(url));
  key_part(&s, headers, len_or_0(headers));
  key_part(&s, body, body_len);
  sha256_final(&s, d);
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- the database -------------------------------------------------------------------------- */

struct qr_cache {
  sqlite3 *db;
  char *path;
  size_t max_bytes;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS entries ("
    " key TEXT PRIMARY KEY, text TEXT NOT NULL, model_served TEXT,"
    " input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,"
    " cached_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, bytes INTEGER NOT NULL,"
    " created INTEGER NOT NULL, last_used INTEGER NOT NULL, hits INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entries_last_used ON entries(last_used);";

/* Turns an SQLite result into a QR_E_* code with the cache file and what was being done. */
static int db_fail(qr_cache *c, int src, const char *what, qr_err *e) {
  const char *why = c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(src);
  switch (src & 0xff) {
  case SQLITE_NOMEM: return qr_err_set(e, QR_E_NOMEM, "cache %s: out of memory", c->path);
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return qr_err_set(e, QR_E_TIMEOUT, "cache %s stayed locked by another process for %d ms (%s)",
                      c->path, QR_CACHE_BUSY_TIMEOUT_MS, what);
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    return qr_err_set(e, QR_E_IO, "cache %s is damaged (%s: %s); remove it to start afresh",
                      c->path, what, why);
  default: return qr_err_set(e, QR_E_IO, "cache %s: %s: %s", c->path, what, why);
  }
}

static int exec(qr_cache *c, const char *sql, const char *what, qr_err *e) {
  int src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
  return src == SQLITE_OK ? QR_OK : db_fail(c, src, what, e);
}

/* Like exec, for the set-up statements two processes may run at once on a new file: SQLite
 * returns BUSY at once, without its busy handler, where waiting could deadlock (a lock
 * upgrade while switching to WAL), so retry here for up to the busy timeout. */
static int exec_setup(qr_cache *c, const char *sql, const char *what, qr_err *e) {
  int src = SQLITE_BUSY;
  for (int waited = 0; waited <= QR_CACHE_BUSY_TIMEOUT_MS; waited += 10) {
    src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    if ((src & 0xff) != SQLITE_BUSY && (src & 0xff) != SQLITE_LOCKED) break;
    usleep(10 * 1000);
  }
  return src == SQLITE_OK ? QR_OK : db_fail(c, src, what, e);
}

static int prepare(qr_cache *c, const char *sql, sqlite3_stmt **st, qr_err *e) {
  int src = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
  return src == SQLITE_OK ? QR_OK : db_fail(c, src, "prepare", e);
}

/* Steps a statement that returns no rows, then finalizes it. */
static int run(qr_cache *c, sqlite3_stmt *st, const char *what, qr_err *e) {
  int src = sqlite3_step(st);
  int rc = src == SQLITE_DONE ? QR_OK : db_fail(c, src, what, e);
  sqlite3_finalize(st);
  return rc;
}

int qr_cache_default_path(char **out, qr_err *e) {
  return qr_xdg_path("XDG_CACHE_HOME", ".cache", "cache.db", out, e);
}

/* Creates the file 0600 before SQLite does (it would use the umask); SQLite gives its -wal and
 * -shm files the same mode. */
static int create_private(const char *path, qr_err *e) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return qr_err_set(e, QR_E_IO, "cannot create the cache %s: %s", path, strerror(errno));
  close(fd);
  return QR_OK;
}

static int open_db(qr_cache *c, qr_err *e) {
  int rc = qr_xdg_make_parents(c->path, e);
  if (!rc) rc = create_private(c->path, e);
  if (rc) return rc;
  int src = sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (src != SQLITE_OK) return db_fail(c, src, "open", e);
  sqlite3_busy_timeout(c->db, QR_CACHE_BUSY_TIMEOUT_MS);
  /* The first statements read the header: a file that is not a database fails here. */
  rc = exec_setup(c, "PRAGMA journal_mode=WAL", "switching to WAL", e);
  if (!rc) rc = exec_setup(c, "PRAGMA synchronous=NORMAL", "setting synchronous", e);
  if (!rc) rc = exec_setup(c, SCHEMA, "creating the table", e);
  return rc;
}

int qr_cache_open(const char *path, size_t max_bytes, qr_cache **out, qr_err *e) {
  qr_cache *c = qr_calloc(1, sizeof *c);
  if (!c) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  c->max_bytes = max_bytes ? max_bytes : QR_CACHE_DEFAULT_MAX_BYTES;
  int rc = path ? (c->path = qr_strdup(path)) ? QR_OK : qr_err_set(e, QR_E_NOMEM, "out of memory")
                : qr_cache_default_path(&c->path, e);
  if (!rc) rc = open_db(c, e);
  if (rc) {
    qr_cache_close(c);
    return rc;
  }
  *out = c;
  return QR_OK;
}

void qr_cache_close(qr_cache *c) {
  if (!c) return;
  sqlite3_close_v2(c->db); /* NULL is a no-op */
  qr_free(c->path);
  qr_free(c);
}

void qr_cache_entry_clear(qr_cache_entry *e) {
  qr_free(e->text);
  qr_free(e->model_served);
  *e = (qr_cache_entry){0};
}

/* A copy of a text column; NULL for SQL NULL. Sets *nomem when the copy fails. */
static char *column_text(sqlite3_stmt *st, int i, bool *nomem) {
  const unsigned char *s = sqlite3_column_text(st, i);
  if (!s) return NULL;
  char *d = qr_strndup((const char *)s, (size_t)sqlite3_column_bytes(st, i));
  if (!d) *nomem = true;
  return d;
}

/* A hit also moves the entry to the front of the LRU order, in the same statement. */
static const char GET_SQL[] =
    "UPDATE entries SET last_used = (SELECT MAX(last_used) FROM entries) + 1, hits = hits + 1"
    " WHERE key = ?1"
    " RETURNING text, model_served, input_tokens, output_tokens, cached_tokens, cost_usd";

int qr_cache_get(qr_cache *c, const char *key, qr_cache_entry *out, qr_err *e) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, GET_SQL, &st, e);
  if (rc) return rc;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  qr_cache_entry got = {0};
  bool nomem = false;
  int src = sqlite3_step(st);
  if (src == SQLITE_ROW) {
    got.text = column_text(st, 0, &nomem);
    got.model_served = column_text(st, 1, &nomem);
    got.input_tokens = (long)sqlite3_column_int64(st, 2);
    got.output_tokens = (long)sqlite3_column_int64(st, 3);
    got.cached_tokens = (long)sqlite3_column_int64(st, 4);
    got.cost_usd = sqlite3_column_double(st, 5);
    src = sqlite3_step(st); /* runs the update to its end */
  }
  if (src != SQLITE_DONE) rc = db_fail(c, src, "reading an entry", e);
  else if (nomem) rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
  else if (!got.text) rc = QR_E_NOTFOUND; /* a miss, not worth a message */
  sqlite3_finalize(st);
  if (rc) qr_cache_entry_clear(&got);
  else *out = got;
  return rc;
}

static const char PUT_SQL[] =
    "INSERT OR REPLACE INTO entries (key, text, model_served, input_tokens, output_tokens,"
    " cached_tokens, cost_usd, bytes, created, last_used, hits)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
    " (SELECT COALESCE(MAX(last_used), 0) + 1 FROM entries), 0)";

/* Keeps the most recently used entries whose bytes add up to at most ?1 and deletes the rest:
 * the same as evicting the oldest one by one until the total fits. */
static const char EVICT_SQL[] =
    "DELETE FROM entries WHERE key IN (SELECT key FROM (SELECT key, SUM(bytes) OVER"
    " (ORDER BY last_used DESC ROWS UNBOUNDED PRECEDING) AS kept FROM entries) WHERE kept > ?1)";

static int insert(qr_cache *c, const char *key, const qr_cache_entry *en, size_t bytes, qr_err *e) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, PUT_SQL, &st, e);
  if (rc) return rc;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, en->text, -1, SQLITE_STATIC);
  if (en->model_served) sqlite3_bind_text(st, 3, en->model_served, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, en->input_tokens);
  sqlite3_bind_int64(st, 5, en->output_tokens);
  sqlite3_bind_int64(st, 6, en->cached_tokens);
  sqlite3_bind_double(st, 7, en->cost_usd);
  sqlite3_bind_int64(st, 8, (sqlite3_int64)bytes);
  sqlite3_bind_int64(st, 9, (sqlite3_int64)time(NULL));
  return run(c, st, "storing an entry", e);
}

static int evict(qr_cache *c, qr_err *e) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, EVICT_SQL, &st, e);
  if (rc) return rc;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)QR_MIN(c->max_bytes, (size_t)INT64_MAX));
  return run(c, st, "evicting old entries", e);
}

int qr_cache_put(qr_cache *c, const char *key, const qr_cache_entry *entry, qr_err *e) {
  if (!key || !entry || !entry->text) return qr_err_set(e, QR_E_INVAL, "a cache entry needs a key and text");
  size_t bytes = strlen(key) + strlen(entry->text) + len_or_0(entry->model_served) + ROW_OVERHEAD;
  if (bytes > c->max_bytes)
    return qr_err_set(e, QR_E_TOOBIG, "a %zu-byte answer exceeds the cache's cap of %zu bytes",
                      bytes, c->max_bytes);
  int rc = exec(c, "BEGIN IMMEDIATE", "starting a write", e);
  if (rc) return rc;
  rc = insert(c, key, entry, bytes, e);
  if (!rc) rc = evict(c, e);
  if (!rc) rc = exec(c, "COMMIT", "committing", e);
  if (rc) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL); /* the first error is the one to report */
  return rc;
}

int qr_cache_stats(qr_cache *c, json_t **out, qr_err *e) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(c,
                   "SELECT COUNT(*), COALESCE(SUM(bytes), 0), COALESCE(SUM(hits), 0) FROM entries",
                   &st, e);
  if (rc) return rc;
  int src = sqlite3_step(st);
  if (src != SQLITE_ROW) {
    rc = db_fail(c, src, "counting entries", e);
    sqlite3_finalize(st);
    return rc;
  }
  struct stat sb;
  json_int_t file_bytes = stat(c->path, &sb) ? 0 : (json_int_t)sb.st_size;
  *out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "path", c->path, "entries",
                   (json_int_t)sqlite3_column_int64(st, 0), "bytes",
                   (json_int_t)sqlite3_column_int64(st, 1), "max_bytes", (json_int_t)c->max_bytes,
                   "hits", (json_int_t)sqlite3_column_int64(st, 2), "file_bytes", file_bytes);
  sqlite3_finalize(st);
  return *out ? QR_OK : qr_err_set(e, QR_E_NOMEM, "out of memory");
}

int qr_cache_clear(qr_cache *c, qr_err *e) {
  int rc = exec(c, "DELETE FROM entries", "clearing", e);
  /* VACUUM rewrites the file without the freed pages; the checkpoint empties the WAL. */
  if (!rc) rc = exec(c, "VACUUM", "compacting", e);
  if (!rc) rc = exec(c, "PRAGMA wal_checkpoint(TRUNCATE)", "checkpointing", e);
  return rc;
}
