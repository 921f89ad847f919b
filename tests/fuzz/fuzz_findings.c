/* fuzz_findings.c — qr_findings_parse on arbitrary model answers: it must either return findings
 * that satisfy the contract (lines ≥ 1 and ordered, a known severity, non-NULL text) or an error,
 * never crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "judge/findings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qr_finding_list l;
  qr_finding_list_init(&l);
  qr_drops drops = {0};
  if (!qr_findings_parse((const char *)data, size, "m", "s", 0, &l, &drops, NULL)) {
    for (size_t i = 0; i < l.n; i++) {
      const qr_finding *f = &l.items[i];
      if (f->start_line < 1 || f->end_line < f->start_line || !qr_severity_name(f->severity)[0] ||
          !f->message || !f->category || !f->file || f->n_sources != 1)
        abort();
    }
  } else if (l.n) {
    abort(); /* an error never leaves partial findings behind */
  }
  if (drops.n > QR_DROPS_KEPT || drops.total < (int)drops.n) abort();
  for (size_t i = 0; i < drops.n; i++)
    if (!drops.items[i].reason || !drops.items[i].reason[0]) abort();
  qr_drops_free(&drops);
  qr_finding_list_free(&l);
  return 0;
}
