/* Unit tests for request_key.c: the pass cache key is the request that is sent (every field
 * that changes the answer counts, the API key does not, the per-process boundary token does
 * not) plus the sample number that keeps twin passes' answers apart. */
#include <stdlib.h>
#include <string.h>

#include "review/request_key.h"
#include "test.h"

#define KEY_ENV "QR_TEST_REQUEST_KEY"

static qr_config_provider prov = {.name = "p", .type = QR_PROVIDER_OPENAI,
                                  .base_url = "http://127.0.0.1:1/v1", .api_key_env = KEY_ENV,
                                  .json_schema = true};

static qr_config_model model(void) {
  return (qr_config_model){.alias = "m", .provider = "p", .prov = &prov, .model = "test-model",
                           .max_output_tokens = 4096, .temperature = 0.2};
}

/* A prompt shaped like prompt.c's, with the given boundary token and system text. */
static qr_prompt prompt(const char *token, const char *system) {
  qr_prompt p = {.system = qr_strdup(system), .schema = qr_prompt_findings_schema(),
                 .schema_name = qr_strdup("review_findings")};
  p.user = qr_asprintf("Between <<<CODE-%s>>> and <<<END-CODE-%s>>>.\n<<<CODE-%s>>>\nint x;\n"
                       "<<<END-CODE-%s>>>\n", token, token, token, token);
  ASSERT(p.system && p.user && p.schema && p.schema_name);
  return p;
}

static const char T1[] = "0123456789abcdef0123456789abcdef";
static const char T2[] = "fedcba9876543210fedcba9876543210";

static void key_of(const qr_config_model *m, const qr_prompt *p, int sample, char out[QR_CACHE_KEY_SIZE]) {
  ASSERT_OK(qr_request_key(m, p, sample, out, NULL));
}

TEST(request_key_stable_across_tokens_and_api_keys) {
  qr_config_model m = model();
  qr_prompt a = prompt(T1, "sys"), b = prompt(T2, "sys");
  char ka[QR_CACHE_KEY_SIZE], kb[QR_CACHE_KEY_SIZE];
  setenv(KEY_ENV, "sk-one", 1);
  key_of(&m, &a, 0, ka);
  setenv(KEY_ENV, "sk-two", 1);
  key_of(&m, &b, 0, kb);
  ASSERT_STR_EQ(ka, kb);
  unsetenv(KEY_ENV); /* the key never needs the API key */
  key_of(&m, &a, 0, kb);
  ASSERT_STR_EQ(ka, kb);
  qr_prompt_clear(&a);
  qr_prompt_clear(&b);
}

/* Whether sending p to m as `sample` keys differently from k0. */
static bool differs(const char *k0, const qr_config_model *m, const qr_prompt *p, int sample) {
  char k[QR_CACHE_KEY_SIZE];
  key_of(m, p, sample, k);
  return strcmp(k0, k) != 0;
}

TEST(request_key_every_sent_field_counts) {
  qr_config_model base = model();
  qr_prompt p = prompt(T1, "sys"), edited = prompt(T1, "sys, edited template");
  char k0[QR_CACHE_KEY_SIZE];
  key_of(&base, &p, 0, k0);
  ASSERT(differs(k0, &base, &edited, 0));
  ASSERT(differs(k0, &base, &p, 1)); /* a twin pass's sample */
  qr_config_model m = base;
  m.temperature = 1.0;
  ASSERT(differs(k0, &m, &p, 0));
  m = base;
  m.max_output_tokens = 1024;
  ASSERT(differs(k0, &m, &p, 0));
  m = base;
  m.stream = true;
  ASSERT(differs(k0, &m, &p, 0));
  m = base;
  m.model = "other-model";
  ASSERT(differs(k0, &m, &p, 0));
  qr_config_provider other = prov;
  other.json_schema = false;
  m = base;
  m.prov = &other;
  ASSERT(differs(k0, &m, &p, 0));
  other = prov;
  other.base_url = "http://127.0.0.1:2/v1";
  ASSERT(differs(k0, &m, &p, 0));
  qr_prompt_clear(&p);
  qr_prompt_clear(&edited);
}
