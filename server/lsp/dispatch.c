/* dispatch.c — JSON-RPC 2.0 message classification, routing and replies.
 *
 * Handlers live in a short linked list (a server registers a few dozen methods at most).
 * In-flight incoming requests form a doubly-linked list so `$/cancelRequest` can find them and
 * a reply can unlink in O(1); outbound calls wait in a singly-linked list keyed by integer id.
 * Responses are never answered, even malformed ones: two dispatchers talking to each other
 * must not be able to ping-pong error replies. */
#include "lsp/dispatch.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

typedef struct handler {
  struct handler *next;
  char *method; /* owned */
  bool is_request;
  qr_rpc_method_cb on_request;
  qr_rpc_notify_cb on_notify;
  void *data;
} handler;

struct qr_rpc_request {
  qr_rpc *rpc;
  qr_rpc_request *prev, *next;
  json_t *id;   /* owned reference */
  char *method; /* owned */
  qr_rpc_cancel_cb cancel;
  void *cancel_data;
};

typedef struct pending {
  struct pending *next;
  json_int_t id;
  qr_rpc_response_cb cb;
  void *data;
} pending;

struct qr_rpc {
  qr_rpc_write_fn write;
  void *write_ctx;
  handler *handlers;
  qr_rpc_request *inflight;
  pending *pending;
  json_int_t next_id;
  qr_rpc_gate_fn gate;
  void *gate_data;
};

qr_rpc *qr_rpc_new(qr_rpc_write_fn write, void *write_ctx) {
  qr_rpc *rpc = qr_calloc(1, sizeof *rpc);
  if (!rpc) return NULL;
  rpc->write = write;
  rpc->write_ctx = write_ctx;
  rpc->next_id = 1;
  return rpc;
}

static void request_free(qr_rpc_request *req) {
  qr_rpc *rpc = req->rpc;
  if (req->prev)
    req->prev->next = req->next;
  else
    rpc->inflight = req->next;
  if (req->next) req->next->prev = req->prev;
  json_decref(req->id);
  qr_free(req->method);
  qr_free(req);
}

void qr_rpc_free(qr_rpc *rpc) {
  if (!rpc) return;
  while (rpc->inflight) request_free(rpc->inflight);
  for (pending *p = rpc->pending, *next; p; p = next) {
    next = p->next;
    qr_free(p);
  }
  for (handler *h = rpc->handlers, *next; h; h = next) {
    next = h->next;
    qr_free(h->method);
    qr_free(h);
  }
  qr_free(rpc);
}

static handler *find_handler(qr_rpc *rpc, const char *method, bool is_request) {
  for (handler *h = rpc->handlers; h; h = h->next)
    if (h->is_request == is_request && !strcmp(h->method, method)) return h;
  return NULL;
}

static int add_handler(qr_rpc *rpc, const char *method, bool is_request, qr_rpc_method_cb rcb,
                       qr_rpc_notify_cb ncb, void *data) {
  if (!method || (!rcb && !ncb)) return QR_E_INVAL;
  handler *h = find_handler(rpc, method, is_request);
  if (!h) {
    h = qr_calloc(1, sizeof *h);
    if (!h || !(h->method = qr_strdup(method))) {
      qr_free(h);
      return QR_E_NOMEM;
    }
    h->is_request = is_request;
    h->next = rpc->handlers;
    rpc->handlers = h;
  }
  h->on_request = rcb;
  h->on_notify = ncb;
  h->data = data;
  return QR_OK;
}

int qr_rpc_on_request(qr_rpc *rpc, const char *method, qr_rpc_method_cb cb, void *data) {
  return add_handler(rpc, method, true, cb, NULL, data);
}

int qr_rpc_on_notification(qr_rpc *rpc, const char *method, qr_rpc_notify_cb cb, void *data) {
  return add_handler(rpc, method, false, NULL, cb, data);
}

void qr_rpc_set_gate(qr_rpc *rpc, qr_rpc_gate_fn gate, void *data) {
  rpc->gate = gate;
  rpc->gate_data = data;
}

/* ---- sending ------------------------------------------------------------------------------- */

/* Sends {"jsonrpc":"2.0", k1:v1, k2:v2, k3:v3}. Every v is stolen; a pair whose key is NULL is
 * left out, a NULL value under a key means an allocation already failed. */
static int send_msg(qr_rpc *rpc, const char *k1, json_t *v1, const char *k2, json_t *v2,
                    const char *k3, json_t *v3) {
  json_t *m = json_object();
  const char *keys[] = {"jsonrpc", k1, k2, k3};
  json_t *vals[] = {json_string("2.0"), v1, v2, v3};
  int bad = 0;
  for (size_t i = 0; i < QR_ARRAY_LEN(keys); i++) {
    if (keys[i])
      bad |= json_object_set_new(m, keys[i], vals[i]); /* steals, even on failure */
    else
      json_decref(vals[i]);
  }
  char *s = bad ? NULL : json_dumps(m, JSON_COMPACT);
  json_decref(m);
  if (!s) return QR_E_NOMEM;
  int rc = rpc->write(rpc->write_ctx, s, strlen(s));
  json_free_t jfree;
  json_get_alloc_funcs(NULL, &jfree);
  jfree(s);
  return rc;
}

/* {code, message, data?}; data stolen. NULL when out of memory. */
static json_t *error_object(int code, const char *message, json_t *data) {
  json_t *e = json_object();
  int bad = json_object_set_new(e, "code", json_integer(code));
  bad |= json_object_set_new(e, "message", json_string(message ? message : ""));
  if (data) bad |= json_object_set_new(e, "data", data);
  if (bad) {
    json_decref(e);
    return NULL;
  }
  return e;
}

/* An error response; id borrowed (NULL → JSON null). */
static int send_error(qr_rpc *rpc, json_t *id, int code, const char *message, json_t *data) {
  return send_msg(rpc, "id", id ? json_incref(id) : json_null(), "error",
                  error_object(code, message, data), NULL, NULL);
}

static int invalid(qr_rpc *rpc, json_t *id, const char *why) {
  QR_WARN("rpc: invalid message: %s", why);
  return send_error(rpc, id, QR_RPC_INVALID_REQUEST, why, NULL);
}

int qr_rpc_reply(qr_rpc_request *req, json_t *result) {
  int rc = send_msg(req->rpc, "id", json_incref(req->id), "result", result ? result : json_null(),
                    NULL, NULL);
  request_free(req);
  return rc;
}

int qr_rpc_reply_error(qr_rpc_request *req, int code, const char *message, json_t *data) {
  int rc = send_error(req->rpc, req->id, code, message, data);
  request_free(req);
  return rc;
}

void qr_rpc_request_on_cancel(qr_rpc_request *req, qr_rpc_cancel_cb cb, void *data) {
  req->cancel = cb;
  req->cancel_data = data;
}

const char *qr_rpc_request_method(const qr_rpc_request *req) { return req->method; }

int qr_rpc_notify(qr_rpc *rpc, const char *method, json_t *params) {
  return send_msg(rpc, "method", json_string(method), params ? "params" : NULL, params, NULL,
                  NULL);
}

int qr_rpc_call(qr_rpc *rpc, const char *method, json_t *params, qr_rpc_response_cb cb,
                void *data) {
  pending *p = qr_calloc(1, sizeof *p);
  if (!p) {
    json_decref(params);
    return QR_E_NOMEM;
  }
  p->id = rpc->next_id++;
  p->cb = cb;
  p->data = data;
  /* Queued before sending: a loopback write may deliver the response synchronously. */
  p->next = rpc->pending;
  rpc->pending = p;
  int rc = send_msg(rpc, "id", json_integer(p->id), "method", json_string(method),
                    params ? "params" : NULL, params);
  if (rc) {
    for (pending **pp = &rpc->pending; *pp; pp = &(*pp)->next)
      if (*pp == p) {
        *pp = p->next;
        break;
      }
    qr_free(p);
  }
  return rc;
}

void qr_rpc_fail_pending(qr_rpc *rpc, int code, const char *message) {
  pending *list = rpc->pending;
  rpc->pending = NULL; /* callbacks may make new calls; those stay pending */
  while (list) {
    pending *p = list;
    list = p->next;
    json_t *err = error_object(code, message, NULL);
    p->cb(rpc, NULL, err ? err : json_null(), p->data);
    json_decref(err);
    qr_free(p);
  }
}

size_t qr_rpc_pending_count(const qr_rpc *rpc) {
  size_t n = 0;
  for (const pending *p = rpc->pending; p; p = p->next) n++;
  return n;
}

/* ---- receiving ----------------------------------------------------------------------------- */

static void handle_response(qr_rpc *rpc, json_t *msg) {
  json_t *id = json_object_get(msg, "id");
  json_t *result = json_object_get(msg, "result");
  json_t *error = json_object_get(msg, "error");
  if (!json_is_integer(id) || (result && error) || (error && !json_is_object(error))) {
    QR_WARN("rpc: dropping a malformed response");
    return;
  }
  pending **pp = &rpc->pending;
  while (*pp && (*pp)->id != json_integer_value(id)) pp = &(*pp)->next;
  pending *p = *pp;
  if (!p) {
    QR_WARN("rpc: dropping a response to unknown id %" JSON_INTEGER_FORMAT,
            json_integer_value(id));
    return;
  }
  *pp = p->next;
  p->cb(rpc, error ? NULL : result, error, p->data);
  qr_free(p);
}

static void cancel_request(qr_rpc *rpc, json_t *params) {
  json_t *id = json_object_get(params, "id");
  for (qr_rpc_request *req = rpc->inflight; req; req = req->next) {
    if (!json_equal(req->id, id)) continue;
    qr_rpc_cancel_cb cb = req->cancel;
    req->cancel = NULL; /* at most once */
    if (cb) cb(req, req->cancel_data);
    return;
  }
  QR_DEBUG("rpc: $/cancelRequest for a request no longer in flight");
}

static void handle_notification(qr_rpc *rpc, const char *method, json_t *params) {
  if (!strcmp(method, "$/cancelRequest")) {
    cancel_request(rpc, params);
    return;
  }
  const char *why = NULL;
  if (rpc->gate && rpc->gate(rpc, method, false, &why, rpc->gate_data)) {
    QR_DEBUG("rpc: dropping notification %s: %s", method, why ? why : "gated");
    return;
  }
  handler *h = find_handler(rpc, method, false);
  if (h)
    h->on_notify(rpc, params, h->data);
  else
    QR_DEBUG("rpc: ignoring notification %s", method);
}

static int handle_request(qr_rpc *rpc, json_t *id, const char *method, json_t *params) {
  const char *why = NULL;
  int code = rpc->gate ? rpc->gate(rpc, method, true, &why, rpc->gate_data) : 0;
  if (code) return send_error(rpc, id, code, why ? why : "request refused", NULL);
  handler *h = find_handler(rpc, method, true);
  if (!h) {
    char msg[256];
    snprintf(msg, sizeof msg, "unknown method: %.200s", method);
    QR_DEBUG("rpc: %s", msg);
    return send_error(rpc, id, QR_RPC_METHOD_NOT_FOUND, msg, NULL);
  }
  qr_rpc_request *req = qr_calloc(1, sizeof *req);
  if (!req || !(req->method = qr_strdup(method))) {
    qr_free(req);
    send_error(rpc, id, QR_RPC_INTERNAL_ERROR, "out of memory", NULL);
    return QR_E_NOMEM;
  }
  req->rpc = rpc;
  req->id = json_incref(id);
  req->next = rpc->inflight;
  if (req->next) req->next->prev = req;
  rpc->inflight = req;
  h->on_request(rpc, req, params, h->data);
  return QR_OK;
}

static int handle_one(qr_rpc *rpc, json_t *msg) {
  if (!json_is_object(msg)) return invalid(rpc, NULL, "a message must be a JSON object");
  json_t *method = json_object_get(msg, "method");
  if (!method && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
    handle_response(rpc, msg);
    return QR_OK;
  }
  json_t *id = json_object_get(msg, "id");
  if (id && !json_is_integer(id) && !json_is_string(id))
    return invalid(rpc, NULL, "\"id\" must be an integer or a string");
  json_t *version = json_object_get(msg, "jsonrpc");
  if (!json_is_string(version) || strcmp(json_string_value(version), "2.0"))
    return invalid(rpc, id, "\"jsonrpc\" must be \"2.0\"");
  if (!json_is_string(method)) return invalid(rpc, id, "\"method\" must be a string");
  json_t *params = json_object_get(msg, "params");
  if (json_is_null(params)) params = NULL;
  if (params && !json_is_object(params) && !json_is_array(params))
    return invalid(rpc, id, "\"params\" must be an object or an array");
  if (id) return handle_request(rpc, id, json_string_value(method), params);
  handle_notification(rpc, json_string_value(method), params);
  return QR_OK;
}

int qr_rpc_handle(qr_rpc *rpc, const char *body, size_t len) {
  json_error_t err;
  json_t *msg = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
  if (!msg) {
    QR_WARN("rpc: unparsable message: %s (byte %d)", err.text, err.position);
    char text[256];
    snprintf(text, sizeof text, "parse error: %s", err.text);
    return send_error(rpc, NULL, QR_RPC_PARSE_ERROR, text, NULL);
  }
  int rc = QR_OK;
  if (!json_is_array(msg))
    rc = handle_one(rpc, msg);
  else if (!json_array_size(msg))
    rc = invalid(rpc, NULL, "an empty batch");
  else
    for (size_t i = 0; i < json_array_size(msg); i++) {
      int r = handle_one(rpc, json_array_get(msg, i));
      if (!rc) rc = r;
    }
  json_decref(msg);
  return rc;
}
