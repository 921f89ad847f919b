/* lsp_diagnostics.c — result JSON → LSP Diagnostics and fix TextEdits. Byte offsets are found on
 * the UTF-8 text and only then converted to the client's encoding (qr_text_position), so a
 * non-ASCII line gets the same visual range in UTF-16 and UTF-8 clients. */
#include "lsp_diagnostics.h"

#include <string.h>

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }
static bool is_break(char c) { return c == '\n' || c == '\r'; }

/* Number of lines in text; a trailing line break does not start a new line. */
static int line_count(const char *text, size_t len) {
  int n = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') i++;
    if (is_break(text[i])) n++;
  }
  return n + (len && !is_break(text[len - 1]));
}

/* Byte offset of the start of 1-based `line` (len when past the end). */
static size_t line_start(const char *text, size_t len, int line) {
  return qr_text_offset(text, len, QR_ENC_UTF8, line - 1, 0);
}

static size_t line_end(const char *text, size_t len, size_t start) {
  while (start < len && !is_break(text[start])) start++;
  return start;
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

json_t *qr_diagnostics_from_finding(const json_t *f, const char *text, size_t len,
                                    qr_pos_encoding enc) {
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
  char *message = qr_asprintf("%s (%d/%d passes)", msg, QR_MAX(votes, 1), QR_MAX(seen, votes));
  json_t *d = message ? json_pack("{s:o,s:i,s:s,s:s,s:s,s:{s:s,s:i,s:f,s:O*}}", "range",
                                  qr_diagnostics_range(text, len, enc, start, end), "severity",
                                  severity_code(json_string_value(json_object_get(f, "severity"))),
                                  "source", "quorum", "code", cat ? cat : "", "message", message,
                                  "data", "fingerprint", fp ? fp : "", "votes", votes,
                                  "confidence", json_number_value(json_object_get(f, "confidence")),
                                  "sources", json_is_array(sources) ? sources : NULL)
                      : NULL;
  qr_free(message);
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
