/* Unit tests for plan.c: every pass × every chunk, grouped by chunk, prompts built. */
#include "review/plan.h"
#include "test.h"

static const char *config_json =
    "{\"providers\":{\"p\":{\"type\":\"openai\"}},"
    "\"models\":{\"a\":{\"provider\":\"p\",\"model\":\"m1\"},\"b\":{\"provider\":\"p\",\"model\":\"m2\"}},"
    "\"strategies\":{\"mine\":\"CUSTOM-INSTRUCTIONS\"},"
    "\"passes\":[{\"model\":\"a\",\"strategy\":\"correctness\"},{\"model\":\"b\",\"strategy\":\"mine\"}]}";

TEST(plan_every_pass_every_chunk) {
  qr_config *c = NULL;
  ASSERT_OK(qr_config_parse(config_json, strlen(config_json), NULL, &c, NULL));
  qr_context_chunk chunks[3] = {{.text = "CHUNK-ZERO\n"}, {.text = "CHUNK-ONE\n"},
                                {.text = "CHUNK-TWO\n"}};
  qr_context ctx = {.chunks = chunks, .n_chunks = 3};
  qr_plan *p = NULL;
  ASSERT_OK(qr_plan_build(c, &ctx, &p, NULL));
  ASSERT_EQ(p->n_requests, 6);
  const char *names[] = {"CHUNK-ZERO", "CHUNK-ONE", "CHUNK-TWO"};
  for (size_t i = 0; i < p->n_requests; i++) {
    const qr_plan_request *r = &p->requests[i];
    ASSERT_EQ(r->chunk, (int)(i / 2));
    ASSERT_EQ(r->pass, (int)(i % 2));
    ASSERT(strstr(r->prompt.user, names[r->chunk]) != NULL);
    ASSERT(r->prompt.schema != NULL);
    const char *want = r->pass ? "CUSTOM-INSTRUCTIONS" : c->passes[0].s->instructions;
    ASSERT(strstr(r->prompt.user, want) != NULL);
  }
  qr_plan_free(p);
  qr_config_free(c);
}

TEST(plan_empty) {
  qr_config *c = NULL;
  ASSERT_OK(qr_config_parse("{}", 2, NULL, &c, NULL));
  qr_context_chunk chunk = {.text = "x\n"};
  qr_context ctx = {.chunks = &chunk, .n_chunks = 1};
  qr_plan *p = NULL;
  ASSERT_OK(qr_plan_build(c, &ctx, &p, NULL));
  ASSERT_EQ(p->n_requests, 0);
  qr_plan_free(p);
  qr_config_free(c);
  ASSERT_EQ(qr_plan_build(NULL, &ctx, &p, NULL), QR_E_INVAL);
}
