/* outputs_github.c — what the pull-request bot posts: the review payload (inline comments only
 * where GitHub accepts them — lines of one hunk on the diff's right side — with suggestion
 * blocks for fixes, everything else in the review body), the hidden fingerprint markers that
 * make re-runs idempotent, and the summary comment. */
#include <ctype.h>
#include <string.h>

#include "output/output.h"
#include "output/output_common.h"

#define MAX_BODY (256u << 10) /* GitHub rejects comment bodies over 65,536 chars; stay far below */

/* True when new-side lines first..last all lie in one hunk of `f` (GitHub rejects multi-line
 * comments that span hunks, and any line outside the diff). */
static bool in_one_hunk(const qr_diff_file *f, long long first, long long last) {
  if (!f || f->status == QR_FILE_DELETED || first < 1 || last < first) return false;
  for (size_t i = 0; i < f->n_hunks; i++) {
    const qr_hunk *h = &f->hunks[i];
    if (first >= h->new_start && last < (long long)h->new_start + h->new_count) return true;
  }
  return false;
}

/* A fence longer than any run of backticks in `text`, so the replacement cannot close it. */
static int fence_len(const char *text) {
  int longest = 0, run = 0;
  for (const char *p = text; *p; p++) {
    run = *p == '`' ? run + 1 : 0;
    longest = QR_MAX(longest, run);
  }
  return QR_MAX(3, longest + 1);
}

/* Text that came from the change or a model (messages, paths, fixes), with every copy of the
 * marker prefix broken by a zero-width space after "<": it renders the same, and a re-run
 * never mistakes it for a marker quorum wrote. */
static void put_untrusted(qr_buf *b, const char *s) {
  for (const char *hit; (hit = strstr(s, QR_FP_MARKER_PREFIX)); s = hit + 1) {
    qr_buf_append(b, s, (size_t)(hit - s) + 1);
    qr_buf_puts(b, "\xe2\x80\x8b");
  }
  qr_buf_puts(b, s);
}

static void put_marker(qr_buf *b, const json_t *f) {
  qr_buf_printf(b, QR_FP_MARKER_PREFIX "%s -->", qr_output_str(f, "fingerprint", ""));
}

/* The inline comment text: the finding, the suggestion when `fix` is given, the marker. */
static char *comment_body(const json_t *f, const json_t *fix, int ran) {
  qr_buf b;
  qr_buf_init(&b, MAX_BODY);
  qr_buf_printf(&b, "**%s** (", qr_output_str(f, "severity", ""));
  put_untrusted(&b, qr_output_str(f, "category", ""));
  qr_buf_printf(&b, ", %lld/%lld passes): ", qr_output_int(f, "votes"), qr_output_seen(f, ran));
  put_untrusted(&b, qr_output_str(f, "message", ""));
  qr_buf_puts(&b, "\n");
  if (fix) {
    const char *r = qr_output_str(fix, "replacement", "");
    size_t n = strlen(r);
    int fence = fence_len(r);
    qr_buf_printf(&b, "\n%.*ssuggestion\n", fence, "``````````````````````````````");
    put_untrusted(&b, r);
    qr_buf_printf(&b, "%s%.*s\n", n && r[n - 1] != '\n' ? "\n" : "", fence,
                  "``````````````````````````````");
  }
  qr_buf_puts(&b, "\n");
  put_marker(&b, f);
  return qr_buf_detach(&b, NULL);
}

static json_t *comment(const char *path, long long first, long long last, char *body) {
  json_t *c = json_pack("{s:s, s:I, s:s, s:s*}", "path", path, "line", (json_int_t)last, "side",
                        "RIGHT", "body", body);
  qr_free(body);
  if (c && first < last) {
    json_object_set_new(c, "start_line", json_integer(first));
    json_object_set_new(c, "start_side", json_string("RIGHT"));
  }
  return c;
}

/* The inline comment for `f`, or NULL when none of its lines can carry one. A fix becomes a
 * suggestion only when its own lines can be commented (a suggestion replaces exactly the
 * commented lines); otherwise the finding's range is used, else its first line alone. */
static json_t *inline_comment(const json_t *f, const qr_diff_file *df, int ran) {
  const char *path = qr_output_str(f, "file", "");
  long long s = qr_output_int(f, "start_line"), e = qr_output_int(f, "end_line");
  const json_t *fix = json_object_get(f, "fix");
  if (fix && in_one_hunk(df, qr_output_int(fix, "start_line"), qr_output_int(fix, "end_line")))
    return comment(path, qr_output_int(fix, "start_line"), qr_output_int(fix, "end_line"),
                   comment_body(f, fix, ran));
  if (in_one_hunk(df, s, QR_MAX(s, e))) return comment(path, s, QR_MAX(s, e), comment_body(f, NULL, ran));
  if (in_one_hunk(df, s, s)) return comment(path, s, s, comment_body(f, NULL, ran));
  return NULL;
}

json_t *qr_output_github(const json_t *result, const qr_diff *diff, const json_t *seen,
                         size_t *n_new) {
  json_t *comments = json_array();
  qr_buf outside;
  qr_buf_init(&outside, MAX_BODY);
  int ran = qr_output_passes_ran(result);
  size_t i, added = 0, n_outside = 0;
  json_t *f;
  json_array_foreach(json_object_get(result, "findings"), i, f) {
    if (json_object_get(seen, qr_output_str(f, "fingerprint", ""))) continue;
    added++;
    const char *path = qr_output_str(f, "file", "");
    json_t *c = inline_comment(f, qr_diff_find(diff, path), ran);
    if (c) {
      json_array_append_new(comments, c);
      continue;
    }
    n_outside++;
    qr_buf_puts(&outside, "- `");
    put_untrusted(&outside, path);
    qr_buf_printf(&outside, ":%lld` **%s** (", qr_output_int(f, "start_line"),
                  qr_output_str(f, "severity", ""));
    put_untrusted(&outside, qr_output_str(f, "category", ""));
    qr_buf_puts(&outside, "): ");
    put_untrusted(&outside, qr_output_str(f, "message", ""));
    qr_buf_puts(&outside, " ");
    put_marker(&outside, f);
    qr_buf_puts(&outside, "\n");
  }
  char *body = qr_asprintf("**quorum** found %zu new finding%s.%s%s", added,
                           added == 1 ? "" : "s",
                           n_outside ? "\n\nOn lines outside this diff:\n" : "",
                           n_outside && outside.data ? outside.data : "");
  qr_buf_free(&outside);
  if (n_new) *n_new = added;
  json_t *payload = json_pack("{s:s*, s:s, s:o}", "body", body, "event", "COMMENT", "comments",
                              comments);
  qr_free(body);
  return payload;
}

int qr_output_github_seen(const char *body, json_t *seen) {
  const size_t plen = strlen(QR_FP_MARKER_PREFIX);
  for (const char *p = body ? strstr(body, QR_FP_MARKER_PREFIX) : NULL; p;
       p = strstr(p, QR_FP_MARKER_PREFIX)) {
    p += plen;
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '-') n++;
    if (n == 0 || strncmp(p + n, " -->", 4)) continue;
    char *fp = qr_strndup(p, n);
    if (!fp || json_object_set_new(seen, fp, json_true())) {
      qr_free(fp);
      return QR_E_NOMEM;
    }
    qr_free(fp);
  }
  return QR_OK;
}

char *qr_output_github_summary(const json_t *result, const json_t *skipped) {
  qr_buf b;
  qr_buf_init(&b, MAX_BODY);
  char *line = qr_output_summary_line(result);
  qr_buf_printf(&b, QR_SUMMARY_MARKER "\n### quorum review\n\n%s\n", line ? line : "");
  qr_free(line);
  size_t i;
  json_t *v;
  const json_t *omitted = json_object_get(result, "omitted_files");
  if (json_array_size(omitted) || json_array_size(skipped)) qr_buf_puts(&b, "\n**Not reviewed:**\n");
  json_array_foreach(omitted, i, v) qr_buf_printf(&b, "- `%s`\n", json_string_value(v));
  json_array_foreach(skipped, i, v)
    qr_buf_printf(&b, "- `%s` — %s\n", qr_output_str(v, "file", ""), qr_output_str(v, "reason", ""));
  const json_t *errors = json_object_get(result, "errors");
  if (json_array_size(errors)) qr_buf_puts(&b, "\n**Degraded:**\n");
  json_array_foreach(errors, i, v) qr_buf_printf(&b, "- %s\n", json_string_value(v));
  const json_t *notes = json_object_get(result, "notes");
  if (json_array_size(notes)) qr_buf_puts(&b, "\n**Notes:**\n");
  json_array_foreach(notes, i, v) qr_buf_printf(&b, "- %s\n", json_string_value(v));
  return qr_buf_detach(&b, NULL);
}
