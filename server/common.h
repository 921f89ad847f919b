/* common.h — the error scheme, allocation and capped buffers every quorum module shares.
 *
 * Errors: functions return 0 (QR_OK) or a negative QR_E_* code generated from one X-macro;
 * qr_strerror()/qr_err_name() describe a code. Where a caller needs detail, a function also
 * takes a `qr_err *` (may be NULL) that receives the code and a human-readable sentence.
 * A function that takes a callback and returns an error never calls that callback.
 *
 * Memory: all allocation goes through qr_malloc & co., so the torture build can fail the
 * Nth allocation. Every buffer fed from outside is a qr_buf with a hard cap given at init. */
#ifndef QR_COMMON_H
#define QR_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define QR_ERRNO_MAP(X)                                          \
  X(NOMEM, -1, "out of memory")                                  \
  X(INVAL, -2, "invalid argument")                               \
  X(TOOBIG, -3, "input exceeds its size cap")                    \
  X(PARSE, -4, "malformed input")                                \
  X(IO, -5, "input/output error")                                \
  X(NOTFOUND, -6, "not found")                                   \
  X(CONFIG, -7, "configuration error")                           \
  X(HTTP, -8, "HTTP transfer failed")                            \
  X(TIMEOUT, -9, "timed out")                                    \
  X(CANCELED, -10, "canceled")                                   \
  X(PROVIDER, -11, "provider returned an error")                 \
  X(TRUNCATED, -12, "output truncated")                          \
  X(UNSUPPORTED, -13, "unsupported")                             \
  X(STATE, -14, "operation not valid in the current state")      \
  X(BUDGET, -15, "budget exceeded")

enum {
  QR_OK = 0,
#define QR__ERR_ENUM(name, code, text) QR_E_##name = code,
  QR_ERRNO_MAP(QR__ERR_ENUM)
#undef QR__ERR_ENUM
};

/* A static description of `err` ("unknown error" for codes outside the map). */
const char *qr_strerror(int err);
/* The symbolic name, e.g. "QR_E_TOOBIG". */
const char *qr_err_name(int err);

/* Error detail: the code plus one sentence. Embedded by value; nothing to free. */
typedef struct qr_err {
  int code;
  char msg[512];
} qr_err;

/* Fills `e` (when not NULL) with `code` and a printf-formatted message; returns `code`
 * so callers can write `return qr_err_set(e, QR_E_PARSE, "line %d: …", n);`. */
int qr_err_set(qr_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation. Each returns NULL on failure (never aborts); qr_free(NULL) is a no-op.
 * qr_alloc_fail_after(n) makes the n-th allocation from now fail (n<0: never) — torture builds. */
void *qr_malloc(size_t n);
void *qr_calloc(size_t count, size_t n);
void *qr_realloc(void *p, size_t n);
char *qr_strdup(const char *s);             /* NULL in → NULL out */
char *qr_strndup(const char *s, size_t n);  /* copies at most n bytes, always NUL-terminates */
char *qr_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void qr_free(void *p);
void qr_alloc_fail_after(long n);

/* Makes room for at least `need` elements of `elem` bytes in the array *items of capacity
 * *alloc, doubling from `first`. On failure (QR_E_NOMEM) the array is untouched. */
int qr_grow(void *items, size_t *alloc, size_t need, size_t elem, size_t first);

/* Growable byte buffer with a hard cap (the curl dynbuf idea). The contents are always
 * NUL-terminated (the NUL is not counted in len). Owned by whoever embeds it; qr_buf_free
 * releases the storage. */
typedef struct qr_buf {
  char *data;  /* NULL until the first append */
  size_t len;
  size_t alloc;
  size_t cap; /* len never exceeds this */
} qr_buf;

void qr_buf_init(qr_buf *b, size_t cap);
/* Appends n bytes; QR_E_TOOBIG (buffer unchanged) when len+n would exceed cap. */
int qr_buf_append(qr_buf *b, const void *p, size_t n);
int qr_buf_puts(qr_buf *b, const char *s);
int qr_buf_printf(qr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int qr_buf_vprintf(qr_buf *b, const char *fmt, va_list ap);
/* Appends n bytes of text with every invalid UTF-8 sequence replaced by U+FFFD, so code in
 * another encoding (Latin-1 comments, stray bytes) can still go into JSON requests. */
int qr_buf_append_utf8(qr_buf *b, const char *p, size_t n);
/* Removes the first n bytes (n <= len). */
void qr_buf_consume(qr_buf *b, size_t n);
void qr_buf_reset(qr_buf *b);   /* len = 0, keeps storage */
void qr_buf_free(qr_buf *b);    /* frees storage, keeps the cap */
/* Hands the storage to the caller (free with qr_free; never NULL unless out of memory) and resets b. */
char *qr_buf_detach(qr_buf *b, size_t *len_out);

/* Writes untrusted text (file names, messages from a pull request or a model) to a terminal or
 * a CI log: control characters (C0, DEL, and C1 as UTF-8) become escapes (\n, \t, \xNN), and
 * a leading "::" or "##[" (after blanks) starts with an escape, so the text can neither drive
 * the terminal nor start a line GitHub Actions reads as a workflow command (::add-mask::, …). */
void qr_fputs_clean(FILE *out, const char *s);

/* Matches a repository path against a glob as .gitignore does: '*', '?' and [...] within one
 * path component; two stars as a whole component for any number of them (below a folder,
 * above a name, or between two folders); a pattern without '/' against the file name in any
 * folder; a leading '/' anchors at the root. Patterns may come from a repository: matching
 * costs at most pattern × path component comparisons, and over 512 components matches nothing. */
bool qr_glob_match(const char *pat, const char *path);

/* Reads a whole file into a new NUL-terminated buffer (caller frees with qr_free);
 * QR_E_TOOBIG past max_bytes, QR_E_NOTFOUND/QR_E_IO otherwise. */
int qr_read_file(const char *path, size_t max_bytes, char **out, size_t *len_out, qr_err *e);

/* Monotonic milliseconds (for latency figures, never for test assertions). */
uint64_t qr_now_ms(void);

#define QR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define QR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define QR_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
