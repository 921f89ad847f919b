/* lsp_diagnostics.c — result JSON → LSP Diagnostics and fix TextEdits, and the line arithmetic
 * that carries findings across edits. Byte offsets are found on the UTF-8 text and only then
 * converted to the client's encoding (qr_text_position), so a non-ASCII line gets the same
 * visual range in UTF-16 and UTF-8 clients. */
#include "lsp/lsp_diagnostics.h"

#include <limits.h>
#include <string.h>

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }
/* Git's rule, as in the snapshot and the document store: only "\n" ends a line (a lone "\r" is
 * text), so findings numbered by git land on the lines the editor shows. */
static bool is_break(char c) { return c == '\n'; }

/* Number of lines in text; a trailing line break does not start a new line. */
static int line_count(const char *text, size_t len) {
  int n = 0;
  for (size_t i = 0; i < len; i++) n += is_break(text[i]);
  return n + (len && !is_break(text[len - 1]));
}

/* Byte offset of the start of 1-based `line` (len when past the end). */
static size_t line_start(const char *text, size_t len, int line) {
  return qr_text_offset(text, len, QR_ENC_UTF8, line - 1, 0);
}

/* Where the line starting at `start` ends: its "\n", or the "\r" of its "\r\n". */
static size_t line_end(const char *text, size_t len, size_t start) {
  while (start < len && !is_break(text[start])) start++;
  return start > 0 && start < len && text[start - 1] == '\r' ? start - 1 : start;
}

static json_t *position(const char *text, size_t len, qr_pos_encoding enc, size_t off) {
  int line, ch;
  qr_text_position(text, len, enc, off, &line, &ch);
  return json_pack("{s:i,s:i}", "line", line, "character", ch);
}

static json_t *range_of(const char *text, size_t len, qr_pos_encoding enc, size_t a, size_t b) {
  return json_pack("{s:o,s:o}", "start", position(text, len, enc, a), "end",
                   position(text, len, enc, b));
}

json_t *qr_diagnostics_range(const char *text, size_t len, qr_pos_encoding enc, int start_line,
                             int end_line) {
  int n = QR_MAX(line_count(text, len), 1);
  start_line = QR_MIN(QR_MAX(start_line, 1), n);
  end_line = QR_MIN(QR_MAX(end_line, start_line), n);
  size_t first = line_start(text, len, start_line);
  size_t a = first;
  /* The first non-blank character at or after the start line (blank lines are skipped). */
  while (a < len && (is_blank(text[a]) || is_break(text[a]))) a++;
  size_t end_start = line_start(text, len, end_line);
  size_t b = line_end(text, len, end_start);
  while (b > end_start && is_blank(text[b - 1])) b--;
  if (a >= b) return range_of(text, len, enc, first, first);
  return range_of(text, len, enc, a, b);
}

static int severity_code(const char *s) {
  static const char *const names[] = {"error", "warning", "info", "hint"};
  for (size_t i = 0; s && i < QR_ARRAY_LEN(names); i++)
    if (!strcmp(s, names[i])) return (int)i + 1;
  return 2; /* an unknown severity is shown, as a warning, rather than hidden */
}

/* The relatedInformation of finding f: its fix's span when that differs from the finding's
 * [start, end]; NULL when there is none to give. New reference. */
static json_t *related(const json_t *f, int start, int end, const char *uri, const char *text,
                       size_t len, qr_pos_encoding enc) {
  json_t *fix = json_object_get(f, "fix");
  json_t *sl = json_object_get(fix, "start_line"), *el = json_object_get(fix, "end_line");
  if (!uri || !json_is_integer(sl) || !json_is_integer(el)) return NULL;
  int a = (int)json_integer_value(sl), b = (int)json_integer_value(el);
  if (a == start && b == end) return NULL;
  char *msg = a == b ? qr_asprintf("the suggested fix replaces line %d", a)
                      : qr_asprintf("the suggested fix replaces lines %d–%d", a, b);
  json_t *r = msg ? json_pack("[{s:{s:s,s:o},s:s}]", "location", "uri", uri, "range",
                              qr_diagnostics_range(text, len, enc, a, b), "message", msg)
                  : NULL;
  qr_free(msg);
  return r;
}

json_t *qr_diagnostics_from_finding(const json_t *f, const char *uri, const char *text,
                                    size_t len, qr_pos_encoding enc) {
  json_t *sl = json_object_get(f, "start_line"), *el = json_object_get(f, "end_line");
  const char *msg = json_string_value(json_object_get(f, "message"));
  if (!json_is_integer(sl) || !msg) return NULL;
  int start = (int)json_integer_value(sl);
  int end = json_is_integer(el) ? (int)json_integer_value(el) : start;
  int votes = (int)json_integer_value(json_object_get(f, "votes"));
  const char *cat = json_string_value(json_object_get(f, "category"));
  const char *fp = json_string_value(json_object_get(f, "fingerprint"));
  json_t *sources = json_object_get(f, "sources");
  int seen = (int)json_integer_value(json_object_get(f, "seen"));
  bool provisional = json_is_true(json_object_get(f, "provisional"));
  char *message = qr_asprintf("%s (%d/%d passes%s)", msg, QR_MAX(votes, 1), QR_MAX(seen, votes),
                              provisional ? ", provisional" : "");
  json_t *d = message ? json_pack("{s:o,s:i,s:s,s:s,s:s,s:{s:s,s:i,s:f,s:O*}}", "range",
                                  qr_diagnostics_range(text, len, enc, start, end), "severity",
                                  severity_code(json_string_value(json_object_get(f, "severity"))),
                                  "source", "quorum", "code", cat ? cat : "", "message", message,
                                  "data", "fingerprint", fp ? fp : "", "votes", votes,
                                  "confidence", json_number_value(json_object_get(f, "confidence")),
                                  "sources", json_is_array(sources) ? sources : NULL)
                      : NULL;
  qr_free(message);
  if (d && provisional &&
      json_object_set_new(json_object_get(d, "data"), "provisional", json_true())) {
    json_decref(d);
    return NULL;
  }
  json_t *rel = d ? related(f, start, end, uri, text, len, enc) : NULL;
  if (rel) json_object_set_new(d, "relatedInformation", rel);
  return d;
}

json_t *qr_diagnostics_fix_edit(const json_t *fix, const char *text, size_t len,
                                qr_pos_encoding enc) {
  json_t *sl = json_object_get(fix, "start_line"), *el = json_object_get(fix, "end_line");
  const char *repl = json_string_value(json_object_get(fix, "replacement"));
  if (!json_is_integer(sl) || !json_is_integer(el) || !repl) return NULL;
  json_int_t start = json_integer_value(sl), end = json_integer_value(el);
  if (start < 1 || end < start || end > line_count(text, len)) return NULL;
  size_t a = line_start(text, len, (int)start), b = line_start(text, len, (int)end + 1);
  size_t rl = strlen(repl);
  bool ends_with_break = b > a && is_break(text[b - 1]);
  bool repl_break = rl && repl[rl - 1] == '\n';
  /* Whole lines are replaced: keep the file's line structure whatever the model wrote. */
  char *new_text = ends_with_break && rl && !repl_break ? qr_asprintf("%s\n", repl)
                   : !ends_with_break && repl_break ? qr_strndup(repl, rl - 1)
                                                    : qr_strdup(repl);
  json_t *edit = new_text ? json_pack("{s:o,s:s}", "range", range_of(text, len, enc, a, b),
                                      "newText", new_text)
                          : NULL;
  qr_free(new_text);
  return edit;
}

bool qr_diagnostics_range_hits(const json_t *range, int b0, int b1) {
  json_t *s = json_object_get(range, "start"), *e = json_object_get(range, "end");
  json_int_t a0 = json_integer_value(json_object_get(s, "line"));
  json_int_t a1 = json_integer_value(json_object_get(e, "line"));
  return json_is_object(s) && json_is_object(e) && a0 <= b1 && b0 <= a1;
}

/* ---- following edits ----------------------------------------------------------------------------- */

/* Number of line breaks in text. */
static int breaks(const char *text, size_t len) {
  int n = 0;
  for (size_t i = 0; i < len; i++) n += is_break(text[i]);
  return n;
}

static bool pos_of(const json_t *p, int *line, int *ch) {
  json_t *l = json_object_get(p, "line"), *c = json_object_get(p, "character");
  if (!json_is_integer(l) || !json_is_integer(c)) return false;
  *line = (int)QR_MIN(json_integer_value(l), INT_MAX / 2);
  *ch = (int)QR_MIN(json_integer_value(c), INT_MAX);
  return *line >= 0 && *ch >= 0;
}

bool qr_diagnostics_change_edit(const json_t *change, qr_line_edit *out) {
  json_t *range = json_object_get(change, "range"), *t = json_object_get(change, "text");
  int l0, c0, l1, c1;
  if (!json_is_string(t) || !pos_of(json_object_get(range, "start"), &l0, &c0) ||
      !pos_of(json_object_get(range, "end"), &l1, &c1) || l1 < l0)
    return false;
  const char *text = json_string_value(t);
  size_t tl = json_string_length(t);
  bool whole_lines = c0 == 0 && c1 == 0 && (!tl || is_break(text[tl - 1]));
  bool nothing = l0 == l1 && c0 == c1 && !tl;
  out->first = l0;
  out->last = whole_lines || nothing ? l1 - 1 : l1;
  out->delta = breaks(text, tl) - (l1 - l0);
  return true;
}

typedef struct line_span {
  size_t off, len;
} line_span;

/* The lines of text as LSP counts them (a trailing break starts an empty last line), without
 * their breaks, into *out (qr_free it). Returns the count, or -1 when out of memory. */
static int split_lines(const char *text, size_t len, line_span **out) {
  int n = breaks(text, len) + 1, k = 0;
  line_span *v = qr_malloc((size_t)n * sizeof *v);
  if (!v) return -1;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && !is_break(text[i])) continue;
    v[k++] = (line_span){start, i - start};
    start = i + 1;
  }
  *out = v;
  return n;
}

static bool same_line(const char *a, line_span x, const char *b, line_span y) {
  return x.len == y.len && !memcmp(a + x.off, b + y.off, x.len);
}

int qr_diagnostics_text_edit(const char *old_text, size_t old_len, const char *new_text,
                             size_t new_len, qr_line_edit *out) {
  line_span *o = NULL, *n = NULL;
  int no = split_lines(old_text, old_len, &o), nn = no < 0 ? -1 : split_lines(new_text, new_len, &n);
  if (nn < 0) {
    qr_free(o);
    return QR_E_NOMEM;
  }
  int pre = 0, suf = 0;
  while (pre < no && pre < nn && same_line(old_text, o[pre], new_text, n[pre])) pre++;
  while (suf < no - pre && suf < nn - pre &&
         same_line(old_text, o[no - 1 - suf], new_text, n[nn - 1 - suf]))
    suf++;
  *out = (qr_line_edit){pre, no - 1 - suf, nn - no};
  qr_free(o);
  qr_free(n);
  return QR_OK;
}

/* Moves obj's 1-based {start_line, end_line?} across e. False when e touched those lines. */
static bool move_span(json_t *obj, const qr_line_edit *e, bool *moved) {
  json_t *sl = json_object_get(obj, "start_line"), *el = json_object_get(obj, "end_line");
  json_int_t a = json_integer_value(sl) - 1;
  json_int_t b = json_is_integer(el) ? json_integer_value(el) - 1 : a;
  *moved = false;
  if (b < e->first) return true;
  if (a <= e->last) return false;
  if (!e->delta) return true;
  json_integer_set(sl, a + 1 + e->delta);
  if (json_is_integer(el)) json_integer_set(el, b + 1 + e->delta);
  *moved = true;
  return true;
}

int qr_diagnostics_move(json_t *findings, const qr_line_edit *e) {
  int changed = 0;
  bool moved;
  for (size_t i = json_array_size(findings); i-- > 0;) {
    json_t *f = json_array_get(findings, i), *fix = json_object_get(f, "fix");
    if (!move_span(f, e, &moved)) {
      json_array_remove(findings, i);
      changed++;
      continue;
    }
    changed += moved;
    if (fix && !move_span(fix, e, &moved)) json_object_del(f, "fix");
  }
  return changed;
}
