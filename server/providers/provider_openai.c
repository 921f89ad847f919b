/* provider_openai.c — the OpenAI-compatible chat completions adapter (OpenAI, OpenRouter,
 * Ollama's /v1, llama.cpp and other local servers).
 *
 * The request sends `max_tokens`, not `max_completion_tokens`: every compatible server accepts
 * the former, while the latter is OpenAI-only (OpenAI still honours max_tokens for chat models).
 * A reasoning model (o1, o3, o4-mini, gpt-5…; the `reasoning` model option) rejects both
 * max_tokens and any temperature but the default: it gets max_completion_tokens, no
 * temperature, and reasoning_effort when configured.
 * Structured output is response_format json_schema (strict) unless the provider disables it.
 * A stream is chat.completion.chunk events, a final usage chunk with `choices: []` (asked for
 * with stream_options.include_usage) and `data: [DONE]`; OpenRouter also sends comments (the
 * SSE parser drops them), `usage.cost`, and errors inside a 200 answer as `{error:{…}}`, at the
 * top or in a choice whose finish_reason is "error". */
#include <string.h>

#include "providers/provider.h"

/* The sampling and length parameters the model accepts. */
static int set_limits(const qr_config_model *m, json_t *body) {
  if (!m->reasoning)
    return json_object_set_new(body, "temperature", json_real(m->temperature)) ||
           json_object_set_new(body, "max_tokens", json_integer(m->max_output_tokens));
  int rc = json_object_set_new(body, "max_completion_tokens", json_integer(m->max_output_tokens));
  if (!rc && m->reasoning_effort)
    rc = json_object_set_new(body, "reasoning_effort", json_string(m->reasoning_effort));
  return rc;
}

static int build(const qr_config_model *m, const qr_prompt *p, json_t **out, qr_err *e) {
  json_t *body = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:b}",
                           "model", m->model,
                           "messages", "role", "system", "content", p->system,
                           "role", "user", "content", p->user,
                           "stream", m->stream);
  if (!body) return qr_err_set(e, QR_E_NOMEM, "out of memory building a request");
  int rc = set_limits(m, body);
  if (!rc && m->prov->json_schema && p->schema)
    rc = json_object_set_new(body, "response_format",
                             json_pack("{s:s, s:{s:s, s:O, s:b}}", "type", "json_schema",
                                       "json_schema", "name",
                                       p->schema_name ? p->schema_name : "answer", "schema",
                                       p->schema, "strict", 1));
  if (!rc && m->stream)
    rc = json_object_set_new(body, "stream_options", json_pack("{s:b}", "include_usage", 1));
  if (rc) {
    json_decref(body);
    return qr_err_set(e, QR_E_NOMEM, "out of memory building a request");
  }
  *out = body;
  return QR_OK;
}

/* usage: {prompt_tokens, completion_tokens, prompt_tokens_details:{cached_tokens}, cost?} */
static void read_usage(qr_completion *c, json_t *usage) {
  if (!json_is_object(usage)) return;
  qr_provider_usage(usage, "prompt_tokens", &c->input_tokens);
  qr_provider_usage(usage, "completion_tokens", &c->output_tokens);
  qr_provider_usage(json_object_get(usage, "prompt_tokens_details"), "cached_tokens",
                    &c->cached_tokens);
  json_t *cost = json_object_get(usage, "cost");
  if (json_is_number(cost)) {
    c->cost_usd = json_number_value(cost);
    c->cost_reported = true;
  }
}

/* An {error:{message, code}} object in a 2xx body or stream (OpenRouter). */
static int provider_error(qr_provider_parse *ps, json_t *err) {
  const char *msg = qr_provider_error_message(err);
  return qr_provider_fail(ps, QR_E_PROVIDER, "provider_error", "the provider reported: %.300s",
                          msg ? msg : "an error without message");
}

/* The fields shared by a whole response and a chunk: model, usage, error. */
static int read_common(qr_provider_parse *ps, json_t *j) {
  json_t *err = json_object_get(j, "error");
  if (err && !json_is_null(err)) return provider_error(ps, err);
  read_usage(ps->c, json_object_get(j, "usage"));
  if (!ps->c->model_served) return qr_provider_set_string(ps, &ps->c->model_served,
                                                          json_object_get(j, "model"));
  return QR_OK;
}

/* The fields shared by a whole response and a chunk, and *choice = the first choice, or
 * NULL for `choices: null` / `[]` (no answer, which is not malformed). */
static int read_head(qr_provider_parse *ps, json_t *j, json_t **choice) {
  json_t *choices = json_object_get(j, "choices");
  json_t *ch = json_array_get(choices, 0);
  *choice = json_is_object(ch) ? ch : NULL;
  int rc = read_common(ps, j);
  json_t *err = json_object_get(*choice, "error"); /* OpenRouter: finish_reason "error" */
  if (!rc && err && !json_is_null(err)) rc = provider_error(ps, err);
  if (!rc && ((choices && !json_is_null(choices) && !json_is_array(choices)) || (ch && !*choice)))
    rc = qr_provider_fail(ps, QR_E_PARSE, "malformed_response",
                          "\"choices\" is not a list of objects");
  return rc;
}

static int read_refusal(qr_provider_parse *ps, json_t *refusal) {
  if (!json_is_string(refusal)) return QR_OK;
  ps->refused = true;
  return qr_provider_append(ps, &ps->refusal, json_string_value(refusal), json_string_length(refusal));
}

/* content as a list of parts (Mistral, some OpenAI-compatible servers): the text parts are the
 * answer, a refusal part is a refusal; reasoning ("thinking") and other parts are not. */
static int read_parts(qr_provider_parse *ps, json_t *parts) {
  size_t i;
  json_t *part;
  int rc = QR_OK;
  json_array_foreach(parts, i, part) {
    const char *type = json_string_value(json_object_get(part, "type"));
    json_t *text = json_object_get(part, "text");
    if (rc || !type) continue;
    if (!strcmp(type, "text") && json_is_string(text))
      rc = qr_provider_append(ps, &ps->text, json_string_value(text), json_string_length(text));
    else if (!strcmp(type, "refusal")) rc = read_refusal(ps, json_object_get(part, "refusal"));
  }
  return rc;
}

/* content / refusal of a message or delta (a string or a list of parts; null when absent). */
static int read_message(qr_provider_parse *ps, json_t *msg) {
  json_t *content = json_object_get(msg, "content");
  int rc = QR_OK;
  if (json_is_string(content))
    rc = qr_provider_append(ps, &ps->text, json_string_value(content),
                            json_string_length(content));
  else if (json_is_array(content)) rc = read_parts(ps, content);
  return rc ? rc : read_refusal(ps, json_object_get(msg, "refusal"));
}

static int parse(qr_provider_parse *ps, const char *body, size_t len) {
  json_t *j = qr_provider_json(ps, body, len);
  if (!j) return ps->status;
  json_t *ch;
  int rc = read_head(ps, j, &ch);
  if (!rc && ch) {
    json_t *msg = json_object_get(ch, "message");
    if (!json_is_object(msg))
      rc = qr_provider_fail(ps, QR_E_PARSE, "malformed_response", "a choice has no message");
    else rc = read_message(ps, msg);
    if (!rc)
      rc = qr_provider_set_string(ps, &ps->c->finish_reason, json_object_get(ch, "finish_reason"));
  }
  json_decref(j);
  return rc;
}

static int event(qr_provider_parse *ps, const char *type, const char *data, size_t len) {
  if (len == 6 && !memcmp(data, "[DONE]", 6)) {
    ps->finished = ps->terminated = true;
    return QR_OK;
  }
  json_t *j = qr_provider_json(ps, data, len);
  if (!j) return ps->status;
  json_t *ch;
  int rc = read_head(ps, j, &ch);
  if (!rc && ch) {
    json_t *delta = json_object_get(ch, "delta");
    if (json_is_object(delta)) rc = read_message(ps, delta);
    json_t *finish = json_object_get(ch, "finish_reason");
    if (!rc && json_is_string(finish)) {
      rc = qr_provider_set_string(ps, &ps->c->finish_reason, finish);
      ps->finished = true; /* the answer is complete; usage and [DONE] may follow */
    }
  }
  json_decref(j);
  return rc;
}

const qr_provider_ops qr_provider_openai_ops = {
    .path = "/chat/completions",
    .auth_format = "Authorization: Bearer %s",
    .fixed_header = NULL,
    .build = build,
    .parse = parse,
    .event = event,
};
