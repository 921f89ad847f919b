/* fuzz_github_markers.c — libFuzzer harness for the fingerprint-marker scan the pull-request bot
 * runs over comment bodies fetched from GitHub (outside input): any body yields only
 * fingerprints that appear in it as complete markers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *body = qr_strndup((const char *)data, size);
  json_t *seen = json_object();
  if (!body || !seen || qr_output_github_seen(body, seen)) goto out;
  const char *fp;
  json_t *v;
  json_object_foreach(seen, fp, v) {
    char *marker = qr_asprintf(QR_FP_MARKER_PREFIX "%s -->", fp);
    if (!*fp || (marker && !strstr(body, marker))) abort();
    qr_free(marker);
  }
out:
  json_decref(seen);
  qr_free(body);
  return 0;
}
