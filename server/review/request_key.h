/* request_key.h — the pass cache's key of one model request: the request exactly as it would be
 * sent (URL, headers but the auth line, body: model, temperature, max_output_tokens, stream,
 * json_schema and the prompt template are all in it) plus QR_CACHE_FORMAT and a sample number.
 * The prompt's boundary token is random per process (prompt.h), so it is replaced by a fixed
 * word first: the same request keys the same in every run.
 *
 * The sample number keeps votes apart: when two passes of one review send byte-identical
 * requests (two aliases of one model at one temperature), the second is sample 1 and gets its
 * own request and its own cache entry, so one answer never counts as two passes' votes. */
#ifndef QR_REQUEST_KEY_H
#define QR_REQUEST_KEY_H

#include "common.h"
#include "config/config.h"
#include "review/prompt.h"
#include "store/cache.h"

/* Fills key (QR_CACHE_KEY_SIZE bytes) for sending p to m as the given sample (0 for the
 * first). QR_E_NOMEM, or QR_E_INVAL for a prompt the provider code refuses. */
int qr_request_key(const qr_config_model *m, const qr_prompt *p, int sample,
                   char key[QR_CACHE_KEY_SIZE], qr_err *e);

#endif
