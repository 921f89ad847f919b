/* test_dispatch.c — JSON-RPC dispatch: error codes for each malformed case, routing, async
 * replies, cancellation, outbound calls and their responses, the gate, deep nesting. */
#include "lsp/dispatch.h"
#include "test.h"

/* Every message the dispatcher writes, parsed, in order. */
static json_t *sent;

static int capture(void *ctx, const char *body, size_t len) {
  json_error_t err;
  json_t *m = json_loadb(body, len, 0, &err);
  ASSERT(m != NULL);
  ASSERT_OK(json_array_append_new(sent, m));
  return 0;
}

static qr_rpc *new_rpc(void) {
  json_decref(sent);
  sent = json_array();
  qr_rpc *rpc = qr_rpc_new(capture, NULL);
  ASSERT(rpc != NULL);
  return rpc;
}

static void handle(qr_rpc *rpc, const char *body) {
  ASSERT_OK(qr_rpc_handle(rpc, body, strlen(body)));
}

static json_t *last(void) {
  ASSERT(json_array_size(sent) > 0);
  return json_array_get(sent, json_array_size(sent) - 1);
}

static long long error_code(json_t *m) {
  json_t *code = json_object_get(json_object_get(m, "error"), "code");
  ASSERT(json_is_integer(code));
  return json_integer_value(code);
}

/* Asserts that `body` produced exactly one error reply with `code` and id `id_json`. */
static void expect_error(qr_rpc *rpc, const char *body, int code, const char *id_json) {
  size_t before = json_array_size(sent);
  handle(rpc, body);
  ASSERT_EQ(json_array_size(sent), before + 1);
  json_t *m = last();
  ASSERT_STR_EQ(json_string_value(json_object_get(m, "jsonrpc")), "2.0");
  ASSERT_EQ(error_code(m), code);
  char *id = json_dumps(json_object_get(m, "id"), JSON_ENCODE_ANY);
  ASSERT_STR_EQ(id, id_json);
  free(id);
}

static void echo(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  ASSERT_STR_EQ(qr_rpc_request_method(req), "echo");
  ASSERT_OK(qr_rpc_reply(req, params ? json_incref(params) : NULL));
}

TEST(dispatch_parse_error) {
  qr_rpc *rpc = new_rpc();
  expect_error(rpc, "{bad", QR_RPC_PARSE_ERROR, "null");
  expect_error(rpc, "", QR_RPC_PARSE_ERROR, "null");
  expect_error(rpc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"} trailing",
               QR_RPC_PARSE_ERROR, "null");
  qr_rpc_free(rpc);
}

TEST(dispatch_invalid_requests) {
  qr_rpc *rpc = new_rpc();
  ASSERT_OK(qr_rpc_on_request(rpc, "m", echo, NULL));
  const struct {
    const char *body, *id;
  } cases[] = {
      {"[]", "null"},
      {"5", "null"},
      {"\"str\"", "null"},
      {"[1]", "null"},
      {"{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"m\"}", "7"},
      {"{\"id\":7,\"method\":\"m\"}", "7"},
      {"{\"jsonrpc\":2.0,\"id\":7,\"method\":\"m\"}", "7"},
      {"{\"jsonrpc\":\"2.0\",\"id\":7}", "7"},
      {"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":5}", "7"},
      {"{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"m\",\"params\":3}", "\"s\""},
      {"{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"m\",\"params\":\"x\"}", "\"s\""},
      {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"m\"}", "null"},
      {"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"m\"}", "null"},
      {"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"m\"}", "null"},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":true}", "null"}, /* notification */
      {"{\"jsonrpc\":\"2.0\",\"method\":[]}", "null"},
  };
  for (size_t i = 0; i < QR_ARRAY_LEN(cases); i++)
    expect_error(rpc, cases[i].body, QR_RPC_INVALID_REQUEST, cases[i].id);
  qr_rpc_free(rpc);
}

TEST(dispatch_method_not_found_and_ignored_notifications) {
  qr_rpc *rpc = new_rpc();
  expect_error(rpc, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}", QR_RPC_METHOD_NOT_FOUND,
               "3");
  expect_error(rpc, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"$/nope\"}",
               QR_RPC_METHOD_NOT_FOUND, "\"x\"");
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}");
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"$/setTrace\",\"params\":{}}");
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":99}}");
  ASSERT_EQ(json_array_size(sent), 2); /* notifications are never answered */
  qr_rpc_free(rpc);
}

TEST(dispatch_request_reply_and_batch) {
  qr_rpc *rpc = new_rpc();
  ASSERT_OK(qr_rpc_on_request(rpc, "echo", echo, NULL));
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"echo\",\"params\":{\"k\":[1,2]}}");
  json_t *m = last();
  ASSERT_STR_EQ(json_string_value(json_object_get(m, "id")), "a");
  ASSERT_EQ(json_integer_value(json_array_get(
                json_object_get(json_object_get(m, "result"), "k"), 1)),
            2);
  ASSERT(json_object_get(m, "error") == NULL);
  /* params null is taken as absent; the result is then JSON null */
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"echo\",\"params\":null}");
  ASSERT(json_is_null(json_object_get(last(), "result")));
  /* a batch: each element answered on its own */
  handle(rpc, "[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"echo\",\"params\":[5]},"
              "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"zzz\"}]");
  ASSERT_EQ(json_array_size(sent), 4);
  ASSERT_EQ(json_integer_value(json_object_get(json_array_get(sent, 2), "id")), 5);
  ASSERT_EQ(error_code(json_array_get(sent, 3)), QR_RPC_METHOD_NOT_FOUND);
  qr_rpc_free(rpc);
}

/* ---- cancellation and async replies ------------------------------------------------------- */

static qr_rpc_request *held;
static int cancels;

static void on_cancel(qr_rpc_request *req, void *data) {
  ASSERT(req == held);
  ASSERT_EQ((long long)(size_t)data, 42);
  cancels++;
  held = NULL;
  ASSERT_OK(qr_rpc_reply_error(req, QR_RPC_REQUEST_CANCELLED, "cancelled", NULL));
}

static void slow(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  held = req;
  qr_rpc_request_on_cancel(req, on_cancel, (void *)(size_t)42);
}

TEST(dispatch_cancel_routes_to_in_flight_request) {
  qr_rpc *rpc = new_rpc();
  ASSERT_OK(qr_rpc_on_request(rpc, "slow", slow, NULL));
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"slow\"}");
  qr_rpc_request *first = held;
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"id\":\"5\",\"method\":\"slow\"}");
  ASSERT(held != first);
  ASSERT_EQ(json_array_size(sent), 0);
  /* the string id "5" is a different request from the integer id 5 */
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":\"5\"}}");
  ASSERT_EQ(cancels, 1);
  ASSERT_EQ(json_array_size(sent), 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(last(), "id")), "5");
  ASSERT_EQ(error_code(last()), QR_RPC_REQUEST_CANCELLED);
  /* a second cancel of an answered request does nothing */
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":\"5\"}}");
  ASSERT_EQ(cancels, 1);
  /* the other one is answered normally, later */
  ASSERT_OK(qr_rpc_reply(first, json_integer(1)));
  ASSERT_EQ(json_integer_value(json_object_get(last(), "id")), 5);
  ASSERT_EQ(json_integer_value(json_object_get(last(), "result")), 1);
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":5}}");
  ASSERT_EQ(cancels, 1);
  ASSERT_EQ(json_array_size(sent), 2);
  qr_rpc_free(rpc);
}

TEST(dispatch_free_drops_in_flight_requests) {
  qr_rpc *rpc = new_rpc();
  ASSERT_OK(qr_rpc_on_request(rpc, "slow", slow, NULL));
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"slow\"}");
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"slow\"}");
  ASSERT_OK(qr_rpc_call(rpc, "client/thing", NULL, NULL, NULL));
  qr_rpc_free(rpc); /* LeakSanitizer checks that both requests and the call were freed */
  ASSERT_EQ(cancels, 0);
}

/* ---- outbound calls ----------------------------------------------------------------------- */

static char responses[256];

static void on_response(qr_rpc *rpc, json_t *result, json_t *error, void *data) {
  char *r = result ? json_dumps(result, JSON_ENCODE_ANY) : NULL;
  size_t n = strlen(responses);
  snprintf(responses + n, sizeof responses - n, "%s:%s:%lld;", (const char *)data,
           r ? r : "-", json_integer_value(json_object_get(error, "code")));
  free(r);
}

TEST(dispatch_outbound_calls_match_responses) {
  qr_rpc *rpc = new_rpc();
  responses[0] = '\0';
  ASSERT_OK(qr_rpc_call(rpc, "workspace/configuration", json_pack("{s:[]}", "items"),
                        on_response, "A"));
  ASSERT_OK(qr_rpc_call(rpc, "window/workDoneProgress/create", NULL, on_response, "B"));
  ASSERT_EQ(qr_rpc_pending_count(rpc), 2);
  ASSERT_EQ(json_array_size(sent), 2);
  json_t *a = json_array_get(sent, 0), *b = json_array_get(sent, 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(a, "method")), "workspace/configuration");
  ASSERT(json_is_object(json_object_get(a, "params")));
  ASSERT(json_object_get(b, "params") == NULL);
  long long ida = json_integer_value(json_object_get(a, "id"));
  long long idb = json_integer_value(json_object_get(b, "id"));
  ASSERT(ida != idb);
  char msg[256];
  snprintf(msg, sizeof msg, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":null}", idb);
  handle(rpc, msg);
  snprintf(msg, sizeof msg, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":[1]}", idb + ida + 100);
  handle(rpc, msg); /* unknown id: dropped */
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"x\"}}");
  snprintf(msg, sizeof msg,
           "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"error\":{\"code\":-32601,\"message\":\"no\"}}", ida);
  handle(rpc, msg);
  ASSERT_STR_EQ(responses, "B:null:0;A:-:-32601;");
  ASSERT_EQ(qr_rpc_pending_count(rpc), 0);
  ASSERT_EQ(json_array_size(sent), 2); /* responses are never answered */
  qr_rpc_free(rpc);
}

TEST(dispatch_fail_pending_answers_every_call) {
  qr_rpc *rpc = new_rpc();
  responses[0] = '\0';
  ASSERT_OK(qr_rpc_call(rpc, "a", NULL, on_response, "A"));
  ASSERT_OK(qr_rpc_call(rpc, "b", NULL, on_response, "B"));
  qr_rpc_fail_pending(rpc, QR_RPC_REQUEST_FAILED, "peer gone");
  ASSERT(strstr(responses, "A:-:-32803;"));
  ASSERT(strstr(responses, "B:-:-32803;"));
  ASSERT_EQ(qr_rpc_pending_count(rpc), 0);
  qr_rpc_free(rpc);
}

/* ---- the gate ----------------------------------------------------------------------------- */

static int shut_down, notes;

static int gate(qr_rpc *rpc, const char *method, bool is_request, const char **message,
                void *data) {
  if (!shut_down) return 0;
  *message = "shut down";
  return QR_RPC_INVALID_REQUEST;
}

static void note(qr_rpc *rpc, json_t *params, void *data) { notes++; }

TEST(dispatch_gate_rejects_after_shutdown) {
  qr_rpc *rpc = new_rpc();
  ASSERT_OK(qr_rpc_on_request(rpc, "echo", echo, NULL));
  ASSERT_OK(qr_rpc_on_notification(rpc, "note", note, NULL));
  qr_rpc_set_gate(rpc, gate, NULL);
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}");
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"note\"}");
  ASSERT(json_object_get(last(), "result") != NULL);
  ASSERT_EQ(notes, 1);
  shut_down = 1;
  expect_error(rpc, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\"}", QR_RPC_INVALID_REQUEST,
               "2");
  ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(last(), "error"), "message")),
                "shut down");
  handle(rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"note\"}");
  ASSERT_EQ(notes, 1);
  ASSERT_EQ(json_array_size(sent), 2);
  qr_rpc_free(rpc);
}

TEST(dispatch_deep_nesting_is_a_parse_error) {
  qr_rpc *rpc = new_rpc();
  ASSERT_OK(qr_rpc_on_request(rpc, "echo", echo, NULL));
  enum { DEPTH = 10000 };
  static char body[DEPTH * 6 + 128];
  strcpy(body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":");
  char *p = body + strlen(body);
  for (int i = 0; i < DEPTH; i++) p += sprintf(p, "{\"a\":");
  strcpy(p, "1");
  p += 1;
  for (int i = 0; i < DEPTH; i++) *p++ = '}';
  strcpy(p, "}");
  expect_error(rpc, body, QR_RPC_PARSE_ERROR, "null");
  memset(body, '[', DEPTH);
  memset(body + DEPTH, ']', DEPTH);
  body[2 * DEPTH] = '\0';
  expect_error(rpc, body, QR_RPC_PARSE_ERROR, "null");
  /* nesting within jansson's limit still works */
  strcpy(body, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":[[[[[[[[]]]]]]]]}");
  handle(rpc, body);
  ASSERT(json_is_array(json_object_get(last(), "result")));
  qr_rpc_free(rpc);
}

TEST(dispatch_notify_sends_params) {
  qr_rpc *rpc = new_rpc();
  ASSERT_OK(qr_rpc_notify(rpc, "window/logMessage", json_pack("{s:i,s:s}", "type", 1, "message", "hi")));
  ASSERT_OK(qr_rpc_notify(rpc, "bare", NULL));
  json_t *a = json_array_get(sent, 0), *b = json_array_get(sent, 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(a, "method")), "window/logMessage");
  ASSERT(json_object_get(a, "id") == NULL);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(a, "params"), "message")), "hi");
  ASSERT(json_object_get(b, "params") == NULL);
  qr_rpc_free(rpc);
}
