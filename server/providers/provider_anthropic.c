/* provider_anthropic.c — the Anthropic messages adapter.
 *
 * Structured output: the schema becomes the input_schema of one tool that tool_choice forces
 * (with disable_parallel_tool_use, so one call), and the answer is the tool_use blocks' `input`
 * serialized back to JSON text (plain) or assembled from input_json_delta.partial_json per block
 * (stream); should a model still call the tool more than once, every call's input is kept, one
 * JSON object per line (the findings parser reads them all). Without a tool block the text
 * blocks are the answer. Stream events: message_start (model, input usage),
 * content_block_start/delta/stop, message_delta (stop_reason, output usage), message_stop,
 * ping, error. */
#include <string.h>

#include "providers/provider.h"

#define TOOL_DESCRIPTION "Report the result of the review in this exact structure."

static int build(const qr_config_model *m, const qr_prompt *p, json_t **out, qr_err *e) {
  json_t *body = json_pack("{s:s, s:i, s:s, s:[{s:s, s:s}], s:f, s:b}",
                           "model", m->model, "max_tokens", m->max_output_tokens,
                           "system", p->system,
                           "messages", "role", "user", "content", p->user,
                           "temperature", m->temperature, "stream", m->stream);
  if (!body) return qr_err_set(e, QR_E_NOMEM, "out of memory building a request");
  const char *name = p->schema_name ? p->schema_name : "answer";
  int rc = 0;
  if (p->schema) {
    rc = json_object_set_new(body, "tools",
                             json_pack("[{s:s, s:s, s:O}]", "name", name, "description",
                                       TOOL_DESCRIPTION, "input_schema", p->schema));
    if (!rc)
      rc = json_object_set_new(body, "tool_choice",
                               json_pack("{s:s, s:s, s:b}", "type", "tool", "name", name,
                                         "disable_parallel_tool_use", 1));
  }
  if (rc) {
    json_decref(body);
    return qr_err_set(e, QR_E_NOMEM, "out of memory building a request");
  }
  *out = body;
  return QR_OK;
}

/* usage: {input_tokens, output_tokens, cache_read_input_tokens, …}; message_delta repeats
 * the cumulative counts, so later values replace earlier ones. message_start's output_tokens is
 * a placeholder (1), not read: a stream cut before message_delta has no output count and is
 * charged at its estimate. */
static void read_usage(qr_completion *c, json_t *usage, bool output) {
  qr_provider_usage(usage, "input_tokens", &c->input_tokens);
  if (output) qr_provider_usage(usage, "output_tokens", &c->output_tokens);
  qr_provider_usage(usage, "cache_read_input_tokens", &c->cached_tokens);
}

static int provider_error(qr_provider_parse *ps, json_t *err) {
  const char *msg = qr_provider_error_message(err);
  json_t *type = json_object_get(err, "type");
  return qr_provider_fail(ps, QR_E_PROVIDER, "provider_error", "the provider reported %s: %.300s",
                          json_is_string(type) ? json_string_value(type) : "an error",
                          msg ? msg : "no message");
}

/* stop_reason "refusal" carries no text of its own. */
static int read_stop(qr_provider_parse *ps, json_t *stop) {
  if (json_is_string(stop) && !strcmp(json_string_value(stop), "refusal")) ps->refused = true;
  return qr_provider_set_string(ps, &ps->c->finish_reason, stop);
}

static bool is_tool_use(json_t *block) {
  json_t *type = json_object_get(block, "type");
  return json_is_string(type) && !strcmp(json_string_value(type), "tool_use");
}

/* A whole message: every tool_use block's input, one per line, else the text blocks joined. */
static int read_content(qr_provider_parse *ps, json_t *content) {
  size_t i;
  json_t *block;
  int rc = QR_OK;
  json_array_foreach(content, i, block) {
    if (rc || !is_tool_use(block)) continue;
    if (ps->tool_seen) rc = qr_provider_append(ps, &ps->text, "\n", 1);
    else qr_buf_reset(&ps->text);
    ps->tool_seen = true;
    if (!rc) rc = qr_provider_dump(ps, &ps->text, json_object_get(block, "input"));
  }
  if (rc || ps->tool_seen) return rc;
  json_array_foreach(content, i, block) {
    json_t *text = json_object_get(block, "text");
    if (json_is_string(text) &&
        (rc = qr_provider_append(ps, &ps->text, json_string_value(text), json_string_length(text))))
      return rc;
  }
  return QR_OK;
}

static int parse(qr_provider_parse *ps, const char *body, size_t len) {
  json_t *j = qr_provider_json(ps, body, len);
  if (!j) return ps->status;
  json_t *content = json_object_get(j, "content");
  int rc = QR_OK;
  if (json_object_get(j, "error")) rc = provider_error(ps, json_object_get(j, "error"));
  else if (!json_is_array(content))
    rc = qr_provider_fail(ps, QR_E_PARSE, "malformed_response", "the message has no content list");
  if (!rc) {
    read_usage(ps->c, json_object_get(j, "usage"), true);
    rc = qr_provider_set_string(ps, &ps->c->model_served, json_object_get(j, "model"));
  }
  if (!rc) rc = read_stop(ps, json_object_get(j, "stop_reason"));
  if (!rc) rc = read_content(ps, content);
  json_decref(j);
  return rc;
}

/* A tool_use block opens: the first drops any text before it (not the answer), a later one
 * starts a new line of the answer. Blocks stream one after another, so the tool input deltas
 * that follow belong to this block (block_delta checks their index). */
static int block_start(qr_provider_parse *ps, json_t *event) {
  if (!is_tool_use(json_object_get(event, "content_block"))) return QR_OK;
  int rc = QR_OK;
  if (ps->tool_seen) rc = qr_provider_append(ps, &ps->text, "\n", 1);
  else qr_buf_reset(&ps->text);
  ps->tool_seen = true;
  ps->tool_block = json_integer_value(json_object_get(event, "index"));
  return rc;
}

static int block_delta(qr_provider_parse *ps, json_t *event) {
  json_t *delta = json_object_get(event, "delta");
  const char *type = json_string_value(json_object_get(delta, "type"));
  const char *key = !type                                  ? NULL
                    : !strcmp(type, "text_delta")          ? "text"
                    : !strcmp(type, "input_json_delta")    ? "partial_json"
                                                           : NULL;
  json_t *piece = key ? json_object_get(delta, key) : NULL;
  if (!json_is_string(piece)) return QR_OK; /* thinking, signatures, future delta types */
  if (!strcmp(key, "text") && ps->tool_seen) return QR_OK;
  if (!strcmp(key, "partial_json") &&
      (!ps->tool_seen || json_integer_value(json_object_get(event, "index")) != ps->tool_block))
    return qr_provider_fail(ps, QR_E_PARSE, "malformed_response",
                            "tool input for content block %lld, which is not the open tool call",
                            (long long)json_integer_value(json_object_get(event, "index")));
  return qr_provider_append(ps, &ps->text, json_string_value(piece), json_string_length(piece));
}

static int event(qr_provider_parse *ps, const char *type, const char *data, size_t len) {
  if (!strcmp(type, "ping")) return QR_OK;
  json_t *j = qr_provider_json(ps, data, len);
  if (!j) return ps->status;
  int rc = QR_OK;
  if (!strcmp(type, "error")) {
    rc = provider_error(ps, json_object_get(j, "error"));
  } else if (!strcmp(type, "message_start")) {
    json_t *msg = json_object_get(j, "message");
    read_usage(ps->c, json_object_get(msg, "usage"), false);
    rc = qr_provider_set_string(ps, &ps->c->model_served, json_object_get(msg, "model"));
  } else if (!strcmp(type, "content_block_start")) {
    rc = block_start(ps, j);
  } else if (!strcmp(type, "content_block_delta")) {
    rc = block_delta(ps, j);
  } else if (!strcmp(type, "message_delta")) {
    read_usage(ps->c, json_object_get(j, "usage"), true);
    rc = read_stop(ps, json_object_get(json_object_get(j, "delta"), "stop_reason"));
  } else if (!strcmp(type, "message_stop")) {
    ps->finished = ps->terminated = true;
  }
  json_decref(j);
  return rc;
}

const qr_provider_ops qr_provider_anthropic_ops = {
    .path = "/messages",
    .auth_format = "x-api-key: %s",
    .fixed_header = "anthropic-version: 2023-06-01",
    .build = build,
    .parse = parse,
    .event = event,
};
