/* request_key.c — see request_key.h. */
#include "review/request_key.h"

#include <string.h>

#include "providers/provider.h"

#define BOUNDARY_OPEN "<<<CODE-"
#define TOKEN_LEN 32 /* hex digits of prompt.c's boundary token */

/* The boundary token of the prompt's user text, or NULL when it has none (the judge). */
static const char *boundary_token(const qr_prompt *p, char out[TOKEN_LEN + 1]) {
  const char *at = strstr(p->user, BOUNDARY_OPEN);
  if (!at) return NULL;
  at += strlen(BOUNDARY_OPEN);
  if (strspn(at, "0123456789abcdef") < TOKEN_LEN) return NULL;
  memcpy(out, at, TOKEN_LEN);
  out[TOKEN_LEN] = '\0';
  return out;
}

/* Appends `s` to b with every `token` (NULL: none) replaced by a fixed word. */
static int append_stable(qr_buf *b, const char *s, const char *token) {
  int rc = QR_OK;
  for (const char *hit; !rc && token && (hit = strstr(s, token)); s = hit + TOKEN_LEN) {
    rc = qr_buf_append(b, s, (size_t)(hit - s));
    if (!rc) rc = qr_buf_puts(b, "BOUNDARY");
  }
  return rc ? rc : qr_buf_puts(b, s);
}

int qr_request_key(const qr_config_model *m, const qr_prompt *p, int sample,
                   char key[QR_CACHE_KEY_SIZE], qr_err *e) {
  qr_provider_request req;
  int rc = qr_provider_request_canonical(m, p, &req, e);
  if (rc) return rc;
  char tok[TOKEN_LEN + 1];
  const char *token = boundary_token(p, tok);
  qr_buf headers, body;
  qr_buf_init(&headers, SIZE_MAX / 2);
  qr_buf_init(&body, SIZE_MAX / 2);
  for (size_t i = 0; !rc && i < req.n_headers; i++) rc = qr_buf_printf(&headers, "%s\n", req.headers[i]);
  if (!rc) rc = append_stable(&body, req.body, token);
  char *version = rc ? NULL : qr_asprintf("%s sample %d", QR_CACHE_FORMAT, sample);
  if (version)
    qr_cache_key(version, req.url, headers.data ? headers.data : "", body.data, body.len, key);
  else
    rc = qr_err_set(e, QR_E_NOMEM, "out of memory building a cache key");
  qr_free(version);
  qr_buf_free(&headers);
  qr_buf_free(&body);
  qr_provider_request_free(&req);
  return rc;
}
