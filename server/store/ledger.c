/* ledger.c — the append-only call ledger (JSON Lines) and its queries.
 *
 * Appends are one write() of one whole line on an O_APPEND descriptor, so records from several
 * processes never interleave. Reads go backwards from the end of the file in blocks: the
 * questions asked ("since a date", "spent today") are about the recent end of a file that only
 * grows, so a long history is not read at all once the scan passes the date. */
#include "store/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store/xdg.h"

#define FIELD_MAX 200      /* bytes of one string field in a record */
#define BLOCK (64u << 10)  /* backward read size; a line longer than this is skipped */
/* Records are nearly in time order but not exactly (several processes, clock steps, a merged or
 * restored file): a backward scan stops only after SCAN_STOP_RUN records in a row more than
 * SCAN_SLACK_S before the date it looks for, so a few stray old records never hide newer ones. */
#define SCAN_SLACK_S 3600
#define SCAN_STOP_RUN 1000
/* A record claiming more tokens or dollars than this is damaged: readers skip it (sums of
 * sane records cannot overflow). */
#define MAX_TOKENS 1000000000000ll
#define MAX_USD 1e9

struct qr_ledger {
  int fd;
  char *path;
};

int qr_ledger_default_path(char **out, qr_err *e) {
  return qr_xdg_path("XDG_STATE_HOME", ".local/state", "ledger.jsonl", out, e);
}

/* The explicit path copied, or the default. */
static int resolve_path(const char *path, char **out, qr_err *e) {
  if (!path) return qr_ledger_default_path(out, e);
  *out = qr_strdup(path);
  return *out ? QR_OK : qr_err_set(e, QR_E_NOMEM, "out of memory");
}

int qr_ledger_open(const char *path, qr_ledger **out, qr_err *e) {
  qr_ledger *l = qr_calloc(1, sizeof *l);
  if (!l) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  l->fd = -1;
  int rc = resolve_path(path, &l->path, e);
  if (!rc) rc = qr_xdg_make_parents(l->path, e);
  if (!rc) {
    l->fd = open(l->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0)
      rc = qr_err_set(e, QR_E_IO, "cannot open the ledger %s: %s", l->path, strerror(errno));
  }
  if (rc) {
    qr_ledger_close(l);
    return rc;
  }
  *out = l;
  return QR_OK;
}

const char *qr_ledger_path(const qr_ledger *l) { return l->path; }

void qr_ledger_close(qr_ledger *l) {
  if (!l) return;
  if (l->fd >= 0) close(l->fd);
  qr_free(l->path);
  qr_free(l);
}

/* A JSON string of at most FIELD_MAX bytes of s, cut on a UTF-8 boundary; null for NULL (and
 * for text that is not UTF-8, which jansson refuses). New reference. */
static json_t *field(const char *s) {
  if (!s) return json_null();
  size_t n = strnlen(s, FIELD_MAX + 1);
  if (n > FIELD_MAX) {
    n = FIELD_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  }
  json_t *j = json_stringn(s, n);
  return j ? j : json_null();
}

static void format_time(time_t t, char out[32]) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *record_json(const qr_ledger_record *r) {
  char when[32];
  format_time(r->time ? r->time : time(NULL), when);
  return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:f, s:I, s:o, s:I, s:o, s:i}",
                   "time", when, "role", field(r->role), "strategy", field(r->strategy), "model",
                   field(r->model), "model_requested", field(r->model_requested), "model_served",
                   field(r->model_served), "input_tokens", (json_int_t)r->input_tokens,
                   "output_tokens", (json_int_t)r->output_tokens, "cached_tokens",
                   (json_int_t)r->cached_tokens, "cost_usd", r->cost_usd, "latency_ms",
                   (json_int_t)r->latency_ms, "status", field(r->status), "redactions",
                   (json_int_t)r->redactions, "review", field(r->review), "attempts",
                   r->attempts > 0 ? r->attempts : 1);
}

/* Whether the file does not end with a newline (a record torn by a crash or a full disk). Two
 * appenders seeing it at once each add a '\n': an empty line, which readers skip. */
static bool torn_end(int fd) {
  struct stat st;
  char last;
  return !fstat(fd, &st) && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 &&
         last != '\n';
}

int qr_ledger_append(qr_ledger *l, const qr_ledger_record *r, qr_err *e) {
  if (!l || !r) return qr_err_set(e, QR_E_INVAL, "no ledger or no record");
  json_t *j = record_json(r);
  if (j && r->usage_estimated && json_object_set_new(j, "usage_estimated", json_true())) {
    json_decref(j);
    j = NULL;
  }
  if (!j) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  char buf[QR_LEDGER_MAX_RECORD + 1], *line = buf + 1; /* buf[0]: room for a '\n' before it */
  size_t n = json_dumpb(j, line, QR_LEDGER_MAX_RECORD - 1, JSON_COMPACT);
  json_decref(j);
  if (n == 0 || n > QR_LEDGER_MAX_RECORD - 1)
    return qr_err_set(e, QR_E_TOOBIG, "a ledger record exceeds %d bytes", QR_LEDGER_MAX_RECORD);
  line[n++] = '\n';
  if (torn_end(l->fd)) { /* a crash cut the last record: this one must not join it */
    *--line = '\n';
    n++;
  }
  ssize_t w;
  do w = write(l->fd, line, n);
  while (w < 0 && errno == EINTR);
  if (w < 0) return qr_err_set(e, QR_E_IO, "cannot write the ledger %s: %s", l->path, strerror(errno));
  if ((size_t)w != n)
    return qr_err_set(e, QR_E_IO, "short write to the ledger %s (disk full?)", l->path);
  return QR_OK;
}

void qr_ledger_review_id(char out[QR_LEDGER_ID_SIZE]) {
  uint64_t v = 0;
  /* getrandom fails only on ancient kernels; time and pid still tell reviews apart there. */
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
    v = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ qr_now_ms();
  snprintf(out, QR_LEDGER_ID_SIZE, "%016llx", (unsigned long long)v);
}

/* ---- reading --------------------------------------------------------------------------------- */

/* The value of n decimal digits at s, or -1 when one is not a digit. */
static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC) into *out. */
static bool parse_time(const char *s, time_t *out) {
  size_t len = strlen(s);
  if (len != 10 && len != 20) return false;
  struct tm tm = {0};
  int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
  if (y < 1970 || s[4] != '-' || mo < 1 || mo > 12 || s[7] != '-' || d < 1 || d > 31) return false;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  if (len == 20) {
    tm.tm_hour = digits(s + 11, 2);
    tm.tm_min = digits(s + 14, 2);
    tm.tm_sec = digits(s + 17, 2);
    if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' || tm.tm_hour < 0 ||
        tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
      return false;
  }
  *out = timegm(&tm);
  struct tm back;
  /* timegm normalizes: 2026-02-31 would be 2026-03-03 */
  return gmtime_r(out, &back) && back.tm_mday == d && back.tm_mon == mo - 1;
}

/* Called for each record from the last to the first with the record (borrowed) and its time;
 * returns false to stop the scan. */
typedef bool (*record_fn)(json_t *rec, time_t t, void *data);

/* Whether a count or an amount of a record is absent or within [0, max]. */
static bool in_range(json_t *rec, const char *k, double max) {
  json_t *v = json_object_get(rec, k);
  double x = json_number_value(v);
  return !v || (json_is_number(v) && x >= 0 && x <= max);
}

/* The line parsed as a record (an object with a valid "time", *t, whose counts and cost are
 * sane), or NULL when it is not one. New reference. */
static json_t *parse_record(const char *line, size_t len, time_t *t) {
  static const char *const counts[] = {"input_tokens", "output_tokens", "cached_tokens", "latency_ms"};
  json_t *rec = len ? json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
  const char *when = json_string_value(json_object_get(rec, "time"));
  bool ok = json_is_object(rec) && when && parse_time(when, t) && in_range(rec, "cost_usd", MAX_USD);
  for (size_t i = 0; ok && i < QR_ARRAY_LEN(counts); i++)
    ok = in_range(rec, counts[i], (double)MAX_TOKENS);
  if (!ok && len) QR_DEBUG("ledger: skipping a line that is not a sane record");
  if (!ok) json_decref(rec);
  return ok ? rec : NULL;
}

/* Hands one line to fn when it is a record. */
static bool visit_line(const char *line, size_t len, record_fn fn, void *data) {
  time_t t;
  json_t *rec = parse_record(line, len, &t);
  bool go_on = rec ? fn(rec, t, data) : true;
  json_decref(rec);
  return go_on;
}

/* Whether a backward scan goes on past a record at t, before `since` (see SCAN_STOP_RUN);
 * *run counts the old records in a row. */
static bool scan_goes_on(int *run, time_t t, time_t since) {
  if (t >= since - SCAN_SLACK_S) {
    *run = 0;
    return true;
  }
  return ++*run < SCAN_STOP_RUN;
}

/* Visits the complete lines of blk[from, n) from the last to the first. */
static bool visit_block(const char *blk, size_t from, size_t n, record_fn fn, void *data) {
  size_t end = n;
  for (size_t i = n; i > from; i--) {
    if (blk[i - 1] != '\n') continue;
    if (!visit_line(blk + i, end - i, fn, data)) return false;
    end = i - 1;
  }
  return visit_line(blk + from, end - from, fn, data);
}

/* Reads the file at `path` backwards in BLOCK-sized reads, each ending where the previous
 * block's first complete line began. A missing file has no records. */
static int scan_back(const char *path, record_fn fn, void *data, qr_err *e) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return QR_OK;
    return qr_err_set(e, QR_E_IO, "cannot open the ledger %s: %s", path, strerror(errno));
  }
  struct stat st;
  char *blk = qr_malloc(BLOCK);
  int rc = !blk ? qr_err_set(e, QR_E_NOMEM, "out of memory")
           : fstat(fd, &st) ? qr_err_set(e, QR_E_IO, "cannot stat %s: %s", path, strerror(errno))
                            : QR_OK;
  off_t end = rc ? 0 : st.st_size;
  while (!rc && end > 0) {
    off_t start = end > (off_t)BLOCK ? end - (off_t)BLOCK : 0;
    size_t n = (size_t)(end - start);
    ssize_t got = pread(fd, blk, n, start);
    if (got != (ssize_t)n) {
      rc = qr_err_set(e, QR_E_IO, "cannot read the ledger %s", path);
      break;
    }
    size_t from = 0;
    if (start > 0) {
      /* The block's first line may have begun earlier: it is read with the next block. */
      const char *nl = memchr(blk, '\n', n);
      if (!nl) { /* a line longer than a block: skip it */
        end = start;
        continue;
      }
      from = (size_t)(nl - blk) + 1;
    }
    if (!visit_block(blk, from, n, fn, data)) break;
    end = start > 0 ? start + (off_t)from - 1 : 0;
  }
  qr_free(blk);
  close(fd);
  return rc;
}

/* ---- queries --------------------------------------------------------------------------------- */

typedef struct query {
  time_t since;     /* 0: everything */
  const char *by;   /* NULL: records */
  json_t *records;  /* newest first while scanning */
  json_t *groups;   /* key → sums */
  long omitted;     /* records past QR_LEDGER_MAX_RECORDS */
  int old_run;      /* records before since in a row */
  int rc;
} query;

static long long int_field(json_t *rec, const char *k) {
  return (long long)json_integer_value(json_object_get(rec, k));
}

/* The group key of rec for q->by, written into key. */
static void group_key(const query *q, json_t *rec, char key[FIELD_MAX + 1]) {
  if (!strcmp(q->by, "day")) {
    snprintf(key, FIELD_MAX + 1, "%.10s", json_string_value(json_object_get(rec, "time")));
    return;
  }
  const char *v = json_string_value(json_object_get(rec, q->by));
  snprintf(key, FIELD_MAX + 1, "%s", v ? v : "-");
}

static int add_to_group(query *q, json_t *rec) {
  char key[FIELD_MAX + 1];
  group_key(q, rec, key);
  json_t *g = json_object_get(q->groups, key);
  if (!g) {
    g = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:I}", q->by, key, "calls", (json_int_t)0,
                  "input_tokens", (json_int_t)0, "output_tokens", (json_int_t)0, "cached_tokens",
                  (json_int_t)0, "cost_usd", 0.0, "latency_ms", (json_int_t)0);
    if (!g || json_object_set_new(q->groups, key, g)) return QR_E_NOMEM;
  }
  static const char *const sums[] = {"input_tokens", "output_tokens", "cached_tokens", "latency_ms"};
  json_integer_set(json_object_get(g, "calls"), int_field(g, "calls") + 1);
  for (size_t i = 0; i < QR_ARRAY_LEN(sums); i++)
    json_integer_set(json_object_get(g, sums[i]), int_field(g, sums[i]) + int_field(rec, sums[i]));
  json_real_set(json_object_get(g, "cost_usd"),
                json_real_value(json_object_get(g, "cost_usd")) +
                    json_number_value(json_object_get(rec, "cost_usd")));
  return QR_OK;
}

static bool on_query_record(json_t *rec, time_t t, void *data) {
  query *q = data;
  if (t < q->since) return scan_goes_on(&q->old_run, t, q->since);
  q->old_run = 0;
  if (q->by) q->rc = add_to_group(q, rec);
  else if (json_array_size(q->records) >= QR_LEDGER_MAX_RECORDS) q->omitted++;
  else q->rc = json_array_append(q->records, rec) ? QR_E_NOMEM : QR_OK;
  return q->rc == QR_OK;
}

static int cmp_keys(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The groups as an array sorted by key. New reference or NULL. */
static json_t *sorted_groups(json_t *groups) {
  size_t n = json_object_size(groups), i = 0;
  const char **keys = qr_calloc(n, sizeof *keys);
  json_t *out = json_array();
  const char *k;
  json_t *v;
  if (!keys || !out) goto fail;
  json_object_foreach(groups, k, v) keys[i++] = k;
  qsort(keys, n, sizeof *keys, cmp_keys);
  for (i = 0; i < n; i++)
    if (json_array_append(out, json_object_get(groups, keys[i]))) goto fail;
  qr_free(keys);
  return out;
fail:
  qr_free(keys);
  json_decref(out);
  return NULL;
}

/* The array in reverse order. New reference or NULL. */
static json_t *reversed(json_t *a) {
  json_t *out = json_array();
  for (size_t i = json_array_size(a); out && i > 0; i--)
    if (json_array_append(out, json_array_get(a, i - 1))) {
      json_decref(out);
      return NULL;
    }
  return out;
}

static int parse_since(const char *since, time_t *out, qr_err *e) {
  if (since && !parse_time(since, out))
    return qr_err_set(e, QR_E_INVAL,
                      "since: \"%s\" is not a valid date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)",
                      since);
  return QR_OK;
}

int qr_ledger_query(const char *path, const char *since, const char *by, json_t **out,
                    long *omitted, qr_err *e) {
  query q = {.by = by};
  if (parse_since(since, &q.since, e)) return QR_E_INVAL;
  if (by && strcmp(by, "model") && strcmp(by, "day") && strcmp(by, "role"))
    return qr_err_set(e, QR_E_INVAL, "by: expected model, day or role, got \"%s\"", by);
  char *file = NULL;
  int rc = resolve_path(path, &file, e);
  if (rc) return rc;
  q.records = json_array();
  q.groups = json_object();
  if (!q.records || !q.groups) rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!rc) rc = scan_back(file, on_query_record, &q, e);
  if (!rc && q.rc) rc = qr_err_set(e, q.rc, "out of memory");
  if (omitted) *omitted = q.omitted;
  if (!rc) {
    *out = by ? sorted_groups(q.groups) : reversed(q.records);
    if (!*out) rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  json_decref(q.records);
  json_decref(q.groups);
  qr_free(file);
  return rc;
}

/* ---- walking forward -------------------------------------------------------------------------- */

typedef struct walk {
  time_t since;
  qr_ledger_each_fn fn;
  void *data;
  int rc;
} walk;

/* Hands one complete line to the walk's function when it is a record at or after since. */
static void walk_line(walk *w, const char *line, size_t len) {
  if (w->rc) return;
  time_t t;
  json_t *rec = parse_record(line, len, &t);
  if (rec && t >= w->since) w->rc = w->fn(rec, w->data);
  json_decref(rec);
}

/* Splits blk into lines, carrying a line cut by the block's end in `line`; a line longer than
 * QR_LEDGER_MAX_LINE is skipped up to its end (*skipping). */
static void walk_block(walk *w, const char *blk, size_t n, qr_buf *line, bool *skipping) {
  while (n > 0 && !w->rc) {
    const char *nl = memchr(blk, '\n', n);
    size_t take = nl ? (size_t)(nl - blk) : n;
    if (!*skipping && qr_buf_append(line, blk, take)) *skipping = true;
    if (nl) {
      if (!*skipping) walk_line(w, line->data, line->len);
      qr_buf_reset(line);
      *skipping = false;
      take++;
    }
    blk += take;
    n -= take;
  }
}

int qr_ledger_each(const char *path, const char *since, qr_ledger_each_fn fn, void *data,
                   qr_err *e) {
  walk w = {.fn = fn, .data = data};
  if (parse_since(since, &w.since, e)) return QR_E_INVAL;
  char *file = NULL;
  int rc = resolve_path(path, &file, e);
  if (rc) return rc;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  char *blk = fd < 0 ? NULL : qr_malloc(BLOCK);
  if (fd < 0 && errno != ENOENT)
    rc = qr_err_set(e, QR_E_IO, "cannot open the ledger %s: %s", file, strerror(errno));
  else if (fd >= 0 && !blk) rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
  qr_buf line;
  qr_buf_init(&line, QR_LEDGER_MAX_LINE);
  bool skipping = false;
  for (ssize_t got = 1; !rc && blk && !w.rc && got > 0;) {
    got = read(fd, blk, BLOCK);
    if (got < 0 && errno != EINTR)
      rc = qr_err_set(e, QR_E_IO, "cannot read the ledger %s: %s", file, strerror(errno));
    else if (got > 0) walk_block(&w, blk, (size_t)got, &line, &skipping);
    else if (got < 0) got = 1; /* EINTR: read again */
  }
  if (!rc && !w.rc && !skipping) walk_line(&w, line.data, line.len); /* a last line without \n */
  qr_buf_free(&line);
  qr_free(blk);
  if (fd >= 0) close(fd);
  qr_free(file);
  return rc ? rc : w.rc;
}

typedef struct spend {
  time_t since;
  double usd;
  int old_run; /* records before since in a row */
} spend;

static bool on_spend_record(json_t *rec, time_t t, void *data) {
  spend *s = data;
  if (t < s->since) return scan_goes_on(&s->old_run, t, s->since);
  s->old_run = 0;
  s->usd += json_number_value(json_object_get(rec, "cost_usd"));
  return true;
}

int qr_ledger_spent_since(const char *path, time_t since, double *out, qr_err *e) {
  char *file = NULL;
  int rc = resolve_path(path, &file, e);
  if (rc) return rc;
  spend s = {.since = since};
  rc = scan_back(file, on_spend_record, &s, e);
  qr_free(file);
  if (!rc) *out = s.usd;
  return rc;
}

/* ---- text ------------------------------------------------------------------------------------ */

static const char *str_field(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "-";
}

int qr_ledger_format_record(const json_t *rec, qr_buf *out) {
  json_t *r = (json_t *)rec; /* jansson's getters take non-const */
  if (!r)
    return qr_buf_printf(out, "%-20s  %-5s  %-16s  %-16s  %-12s  %9s  %9s  %10s  %8s\n", "time",
                         "role", "model", "strategy", "status", "in", "out", "cost_usd", "ms");
  return qr_buf_printf(out, "%-20s  %-5s  %-16s  %-16s  %-12s  %9lld  %9lld  %10.4f  %8lld\n",
                       str_field(r, "time"), str_field(r, "role"), str_field(r, "model"),
                       str_field(r, "strategy"), str_field(r, "status"),
                       int_field(r, "input_tokens"), int_field(r, "output_tokens"),
                       json_number_value(json_object_get(r, "cost_usd")),
                       int_field(r, "latency_ms"));
}

static int format_records(const json_t *q, qr_buf *out) {
  int rc = qr_ledger_format_record(NULL, out);
  size_t i;
  json_t *r;
  json_array_foreach(q, i, r) {
    if (rc) break;
    rc = qr_ledger_format_record(r, out);
  }
  return rc;
}

static int format_groups(const json_t *q, const char *by, qr_buf *out) {
  int rc = qr_buf_printf(out, "%-20s  %6s  %10s  %10s  %10s  %10s\n", by, "calls", "in", "out",
                         "cached", "cost_usd");
  size_t i;
  json_t *g;
  json_array_foreach(q, i, g) {
    if (rc) break;
    rc = qr_buf_printf(out, "%-20s  %6lld  %10lld  %10lld  %10lld  %10.4f\n", str_field(g, by),
                       int_field(g, "calls"), int_field(g, "input_tokens"),
                       int_field(g, "output_tokens"), int_field(g, "cached_tokens"),
                       json_number_value(json_object_get(g, "cost_usd")));
  }
  return rc;
}

void qr_ledger_totals_add(qr_ledger_totals *t, const json_t *rec, const char *by) {
  json_t *r = (json_t *)rec; /* jansson's getters take non-const */
  t->calls += by ? int_field(r, "calls") : 1;
  t->input_tokens += int_field(r, "input_tokens");
  t->output_tokens += int_field(r, "output_tokens");
  t->cost_usd += json_number_value(json_object_get(r, "cost_usd"));
}

int qr_ledger_format_totals(const qr_ledger_totals *t, qr_buf *out) {
  return qr_buf_printf(out, "total: %lld calls, %lld input tokens, %lld output tokens, $%.4f\n",
                       t->calls, t->input_tokens, t->output_tokens, t->cost_usd);
}

int qr_ledger_format_text(const json_t *q, const char *by, qr_buf *out) {
  int rc = by ? format_groups(q, by, out) : format_records(q, out);
  qr_ledger_totals t = {0};
  size_t i;
  json_t *r;
  json_array_foreach(q, i, r) qr_ledger_totals_add(&t, r, by);
  return rc ? rc : qr_ledger_format_totals(&t, out);
}
