/* fuzz_config.c — qr_config_parse on arbitrary bytes: must never crash or leak, and a
 * successful parse must yield a fully resolved config. */
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qr_config *c = NULL;
  qr_err e;
  if (qr_config_parse((const char *)data, size, "fuzz", &c, &e) == 0) {
    for (size_t i = 0; i < c->n_passes; i++)
      if (!c->passes[i].m || !c->passes[i].s || !c->passes[i].m->prov) abort();
    qr_config_free(c);
  }
  return 0;
}
