/* fuzz_diff.c — libFuzzer harness for the diff parser: any input either fails with an error
 * code or yields a diff whose lookups agree with its hunks on every file. */
#include <stdint.h>
#include <stdlib.h>

#include "change/diff.h"

/* Checks the invariants the rest of quorum relies on; aborts (a fuzzer finding) if one breaks. */
static void check_file(const qr_diff *d, const qr_diff_file *f) {
  if (!f->path || !qr_diff_find(d, f->path)) abort();
  int prev_end = 0;
  for (size_t j = 0; j < f->n_hunks; j++) {
    const qr_hunk *h = &f->hunks[j];
    if (h->new_start < prev_end || h->n_added > (size_t)h->new_count) abort();
    for (size_t k = 0; k < h->n_added; k++) {
      int line = h->added[k];
      if (line < h->new_start || line >= h->new_start + h->new_count) abort();
      if (k && line <= h->added[k - 1]) abort();
      if (!qr_diff_line_added(f, line) || !qr_diff_line_in_hunks(f, line)) abort();
    }
    if (h->new_count && !qr_diff_line_in_hunks(f, h->new_start)) abort();
    prev_end = h->new_start + h->new_count;
  }
  if (qr_diff_line_in_hunks(f, prev_end) && f->n_hunks) abort(); /* just past the last hunk */
  if (f->removed_head_len > QR_DIFF_HEAD_BYTES ||
      (f->removed_head && f->removed_head[f->removed_head_len]))
    abort();
  qr_diff_file_reviewable(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qr_diff *d = NULL;
  qr_err e;
  if (qr_diff_parse((const char *)data, size, 1u << 20, &d, &e)) return 0;
  for (size_t i = 0; i < d->n_files; i++) check_file(d, &d->files[i]);
  qr_diff_free(d);
  return 0;
}
