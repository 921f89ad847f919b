/* common.c — error names, the allocation wrappers (with the torture hook) and qr_buf. */
#include "common.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *qr_strerror(int err) {
  switch (err) {
  case QR_OK: return "success";
#define QR__ERR_TEXT(name, code, text) case QR_E_##name: return text;
    QR_ERRNO_MAP(QR__ERR_TEXT)
#undef QR__ERR_TEXT
  default: return "unknown error";
  }
}

const char *qr_err_name(int err) {
  switch (err) {
  case QR_OK: return "QR_OK";
#define QR__ERR_NAME(name, code, text) case QR_E_##name: return "QR_E_" #name;
    QR_ERRNO_MAP(QR__ERR_NAME)
#undef QR__ERR_NAME
  default: return "QR_E_UNKNOWN";
  }
}

int qr_err_set(qr_err *e, int code, const char *fmt, ...) {
  if (e) {
    va_list ap;
    va_start(ap, fmt);
    e->code = code;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* Countdown for the torture build: the allocation that brings it to 0 fails, once. */
static long fail_countdown = -1;

void qr_alloc_fail_after(long n) { fail_countdown = n; }

static bool should_fail(void) {
  if (fail_countdown <= 0) return false;
  if (--fail_countdown) return false;
  fail_countdown = -1;
  return true;
}

void *qr_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *qr_calloc(size_t count, size_t n) {
  return should_fail() ? NULL : calloc(count ? count : 1, n ? n : 1);
}

void *qr_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }

void qr_free(void *p) { free(p); }

char *qr_strndup(const char *s, size_t n) {
  if (!s) return NULL;
  size_t len = strnlen(s, n);
  char *d = qr_malloc(len + 1);
  if (!d) return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *qr_strdup(const char *s) { return s ? qr_strndup(s, strlen(s)) : NULL; }

char *qr_asprintf(const char *fmt, ...) {
  qr_buf b;
  qr_buf_init(&b, SIZE_MAX / 2);
  va_list ap;
  va_start(ap, fmt);
  int rc = qr_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (rc) {
    qr_buf_free(&b);
    return NULL;
  }
  return qr_buf_detach(&b, NULL);
}

int qr_grow(void *items, size_t *alloc, size_t need, size_t elem, size_t first) {
  if (need <= *alloc) return QR_OK;
  size_t n = *alloc ? *alloc : first;
  while (n < need) {
    if (n > SIZE_MAX / 2) return QR_E_NOMEM;
    n *= 2;
  }
  if (n > SIZE_MAX / elem) return QR_E_NOMEM;
  void **slot = items;
  void *p = qr_realloc(*slot, n * elem);
  if (!p) return QR_E_NOMEM;
  *slot = p;
  *alloc = n;
  return QR_OK;
}

void qr_buf_init(qr_buf *b, size_t cap) {
  b->data = NULL;
  b->len = b->alloc = 0;
  b->cap = cap;
}

static int buf_reserve(qr_buf *b, size_t extra) {
  if (extra > b->cap - b->len) return QR_E_TOOBIG;
  size_t need = b->len + extra + 1;
  if (need <= b->alloc) return QR_OK;
  size_t n = b->alloc ? b->alloc : 64;
  while (n < need) n = n > SIZE_MAX / 2 ? need : n * 2;
  char *p = qr_realloc(b->data, n);
  if (!p) return QR_E_NOMEM;
  if (!b->data) p[0] = '\0'; /* a fresh buffer is an empty string, even before any append */
  b->data = p;
  b->alloc = n;
  return QR_OK;
}

int qr_buf_append(qr_buf *b, const void *p, size_t n) {
  int rc = buf_reserve(b, n);
  if (rc) return rc;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return QR_OK;
}

int qr_buf_puts(qr_buf *b, const char *s) { return qr_buf_append(b, s, strlen(s)); }

int qr_buf_vprintf(qr_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return QR_E_INVAL;
  int rc = buf_reserve(b, (size_t)n);
  if (rc) return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return QR_OK;
}

int qr_buf_printf(qr_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = qr_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2 : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
             : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
  if (!len || len > n) return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  /* no overlong forms, surrogates or code points past U+10FFFF */
  if (len == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))) return 0;
  if (len == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))) return 0;
  return len;
}

int qr_buf_append_utf8(qr_buf *b, const char *p, size_t n) {
  const unsigned char *u = (const unsigned char *)p;
  size_t run = 0, i = 0; /* bytes [i-run, i) are valid and not yet appended */
  int rc = QR_OK;
  while (i < n && !rc) {
    size_t len = utf8_seq(u + i, n - i);
    if (len) {
      i += len;
      run += len;
      continue;
    }
    rc = qr_buf_append(b, p + i - run, run);
    if (!rc) rc = qr_buf_append(b, "\xEF\xBF\xBD", 3);
    run = 0;
    i++;
  }
  return rc ? rc : qr_buf_append(b, p + i - run, run);
}

void qr_buf_consume(qr_buf *b, size_t n) {
  if (n >= b->len) {
    qr_buf_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}

void qr_buf_reset(qr_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void qr_buf_free(qr_buf *b) {
  qr_free(b->data);
  b->data = NULL;
  b->len = b->alloc = 0;
}

char *qr_buf_detach(qr_buf *b, size_t *len_out) {
  if (!b->data && buf_reserve(b, 0)) return NULL;
  char *p = b->data;
  if (len_out) *len_out = b->len;
  b->data = NULL;
  b->len = b->alloc = 0;
  return p;
}

int qr_read_file(const char *path, size_t max_bytes, char **out, size_t *len_out, qr_err *e) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return qr_err_set(e, errno == ENOENT ? QR_E_NOTFOUND : QR_E_IO, "cannot open %s: %s", path,
                      strerror(errno));
  qr_buf b;
  qr_buf_init(&b, max_bytes);
  char chunk[65536];
  size_t n;
  int rc = QR_OK;
  while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) rc = qr_buf_append(&b, chunk, n);
  if (!rc && ferror(f)) rc = QR_E_IO;
  fclose(f);
  if (!rc) {
    *out = qr_buf_detach(&b, len_out);
    if (*out) return QR_OK;
    rc = QR_E_NOMEM;
  }
  qr_buf_free(&b);
  if (rc == QR_E_TOOBIG) return qr_err_set(e, rc, "%s is larger than %zu bytes", path, max_bytes);
  return qr_err_set(e, rc, "cannot read %s: %s", path, qr_strerror(rc));
}

uint64_t qr_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void qr_fputs_clean(FILE *out, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t blanks = strspn(s, " \t");
  for (size_t i = 0; p[i]; i++) {
    unsigned char c = p[i];
    if (i == blanks && (!strncmp(s + i, "::", 2) || !strncmp(s + i, "##[", 3)))
      fprintf(out, "\\x%02x", c); /* the runner's workflow-command prefixes */
    else if (c == '\n') fputs("\\n", out);
    else if (c == '\t') fputs("\\t", out);
    else if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02x", c);
    else if (c == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) fprintf(out, "\\x%02x", p[++i]);
    else fputc(c, out);
  }
}

/* --- globs ------------------------------------------------------------------------------------ */

#define GLOB_MAX_PARTS 512

/* Splits s at '/' into parts (pointers into s, lengths); -1 when there are too many. */
static int split_path(const char *s, const char **part, size_t *len) {
  int n = 0;
  for (;; n++) {
    if (n == GLOB_MAX_PARTS) return -1;
    part[n] = s;
    len[n] = strcspn(s, "/");
    if (!s[len[n]]) return n + 1;
    s += len[n] + 1;
  }
}

/* One component of a glob against one of a path. */
static bool part_match(const char *p, size_t pn, const char *s, size_t sn) {
  char pat[512], name[512];
  if (pn >= sizeof pat || sn >= sizeof name) return false;
  memcpy(pat, p, pn);
  pat[pn] = '\0';
  memcpy(name, s, sn);
  name[sn] = '\0';
  return fnmatch(pat, name, 0) == 0;
}

static bool is_starstar(const char *p, size_t n) { return n == 2 && p[0] == '*' && p[1] == '*'; }

/* Components against components, "**" matching any run of them: the wildcard algorithm that
 * backtracks only to the last "**" (O(pattern × path) part matches, whatever the input). */
static bool parts_match(const char *const *pp, const size_t *pl, int m, const char *const *sp,
                        const size_t *sl, int n) {
  int i = 0, j = 0, star = -1, mark = 0;
  while (i < n) {
    if (j < m && is_starstar(pp[j], pl[j])) {
      star = j++;
      mark = i;
    } else if (j < m && part_match(pp[j], pl[j], sp[i], sl[i])) {
      i++;
      j++;
    } else if (star >= 0) {
      j = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (j < m && is_starstar(pp[j], pl[j])) j++;
  return j == m;
}

bool qr_glob_match(const char *pat, const char *path) {
  if (!*pat) return false;
  if (!strchr(pat, '/')) {
    const char *base = strrchr(path, '/');
    return fnmatch(pat, base ? base + 1 : path, 0) == 0;
  }
  const char *pp[GLOB_MAX_PARTS], *sp[GLOB_MAX_PARTS];
  size_t pl[GLOB_MAX_PARTS], sl[GLOB_MAX_PARTS];
  int m = split_path(pat[0] == '/' ? pat + 1 : pat, pp, pl), n = split_path(path, sp, sl);
  return m > 0 && n > 0 && parts_match(pp, pl, m, sp, sl, n);
}
