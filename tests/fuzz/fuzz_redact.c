/* fuzz_redact.c — libFuzzer harness for secret redaction: any input is redacted with the same
 * number of lines, every redaction lies within them and names a known rule, and redacting the
 * output again finds nothing (placeholders never look like secrets, and no remembered secret
 * survives). Each input starts with nothing remembered but one configured key; the input as a
 * JSON string and as a provider message goes through the same rules; as a new file of a change,
 * its credential findings stay within the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "local/redact.h"

static size_t newlines(const char *p, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += p[i] == '\n';
  return k;
}

/* A provider message of this input: redacted in place, NUL-terminated within its cap. */
static void check_message(const uint8_t *data, size_t size) {
  char msg[512];
  size_t n = size < sizeof msg - 1 ? size : sizeof msg - 1;
  memcpy(msg, data, n);
  msg[n] = '\0';
  qr_redact_message(msg, sizeof msg);
  if (strnlen(msg, sizeof msg) == sizeof msg) abort();
}

/* The input as a new file of a change: the credential findings (which decode values to judge
 * them) report only lines of the file, at a known severity. */
static void check_findings(const char *text, size_t size, size_t lines, const char *path) {
  qr_buf diff;
  qr_buf_init(&diff, 1u << 24);
  int rc = qr_buf_printf(&diff, "--- /dev/null\n+++ b/%s\n@@ -0,0 +1,%zu @@\n", path, lines + 1);
  for (size_t a = 0; !rc && a <= size;) {
    const char *nl = memchr(text + a, '\n', size - a);
    size_t b = nl ? (size_t)(nl - text) : size;
    rc = qr_buf_append(&diff, "+", 1);
    if (!rc) rc = qr_buf_append(&diff, text + a, b - a);
    if (!rc) rc = qr_buf_append(&diff, "\n", 1);
    a = b + 1;
  }
  qr_diff *d = NULL;
  qr_snapshot *snap = qr_snapshot_new();
  qr_finding_list l;
  qr_finding_list_init(&l);
  if (!rc && snap && !qr_diff_parse(diff.data, diff.len, diff.len + 1, &d, NULL) &&
      !qr_snapshot_add(snap, path, text, size) && !qr_redact_findings(d, snap, &l, NULL))
    for (size_t i = 0; i < l.n; i++)
      if (l.items[i].start_line < 1 || (size_t)l.items[i].end_line > lines + 1 ||
          (l.items[i].severity != QR_SEV_ERROR && l.items[i].severity != QR_SEV_WARNING))
        abort();
  qr_finding_list_free(&l);
  qr_snapshot_free(snap);
  qr_diff_free(d);
  qr_buf_free(&diff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qr_redact_forget();
  qr_redact_remember_key("fuzzKEY-0123456789");
  check_message(data, size);
  qr_redacted r, again;
  if (qr_redact((const char *)data, size, &r, NULL)) return 0; /* out of memory only */
  size_t lines = newlines((const char *)data, size);
  if (newlines(r.text, r.len) != lines) abort();
  int total = 0;
  for (size_t i = 0; i < r.n; i++) {
    const qr_redaction *x = &r.items[i];
    if ((unsigned)x->rule >= QR_SECRET_N_RULES || x->start_line < 1 ||
        x->end_line < x->start_line || (size_t)x->end_line > lines + 1 || x->start > x->end ||
        x->end > size)
      abort();
  }
  check_findings((const char *)data, size, lines, "src/app.py");
  check_findings((const char *)data, size, lines, "tests/test_app.py");
  for (int k = 0; k < QR_SECRET_N_RULES; k++) total += r.counts[k];
  if ((size_t)total != r.n) abort();
  if (qr_redact(r.text, r.len, &again, NULL) == 0) {
    if (again.n || again.len != r.len || memcmp(again.text, r.text, r.len)) abort();
    qr_redacted_clear(&again);
  }
  qr_redacted_clear(&r);
  return 0;
}
