/* lsp.c — the server object: wires the stdio transport to the dispatcher, enforces the LSP
 * lifecycle with a dispatch gate, and feeds text synchronisation into the document store.
 * Nothing a client sends is fatal: bad notifications are logged and dropped. */
#include "lsp/lsp.h"

#include <limits.h>
#include <string.h>

#include "log.h"
#include "version.h"

enum { LOG_ERROR = 1 }; /* window/logMessage type */

/* ---- transport ↔ dispatcher ---------------------------------------------------------------- */

static int write_body(void *ctx, const char *body, size_t len) {
  qr_server *s = ctx;
  return s->transport ? qr_transport_send(s->transport, body, len) : QR_E_STATE;
}

static void notify(qr_server *s, qr_server_event ev, const char *uri, int version,
                   const json_t *params);

static void on_drained(qr_transport *t, void *data) { notify(data, QR_SERVER_DRAINED, NULL, 0, NULL); }

bool qr_server_output_busy(const qr_server *s) {
  return s->transport && qr_transport_backlog(s->transport) > 0;
}

static void on_message(qr_transport *t, const char *body, size_t len, void *data) {
  qr_server *s = data;
  int rc = qr_rpc_handle(s->rpc, body, len);
  if (rc) QR_WARN("lsp: a message could not be handled: %s", qr_strerror(rc));
}

static void begin_exit(qr_server *s) {
  s->state = QR_SERVER_EXITING;
  if (s->transport) qr_transport_close(s->transport);
}

static void on_eof(qr_transport *t, int status, void *data) {
  qr_server *s = data;
  QR_INFO("lsp: input ended before exit");
  begin_exit(s); /* exit_code stays 1 */
}

/* Stopping the loop here (not waiting for it to drain) keeps handles owned by other
 * modules from holding the process open after exit. */
static void on_closed(qr_transport *t, void *data) {
  qr_server *s = data;
  s->transport = NULL;
  uv_stop(s->loop);
}

static int gate(qr_rpc *rpc, const char *method, bool is_request, const char **message,
                void *data) {
  qr_server *s = data;
  if (!strcmp(method, "exit")) return 0;
  switch (s->state) {
  case QR_SERVER_STARTING:
    if (!strcmp(method, "initialize")) return 0;
    *message = "the server is not initialized";
    return QR_RPC_SERVER_NOT_INITIALIZED;
  case QR_SERVER_RUNNING: return 0;
  default: *message = "the server is shutting down"; return QR_RPC_INVALID_REQUEST;
  }
}

int qr_server_log_message(qr_server *s, int type, const char *message) {
  json_t *params = json_pack("{s:i,s:s}", "type", type, "message", message);
  return params ? qr_rpc_notify(s->rpc, "window/logMessage", params) : QR_E_NOMEM;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static bool client_offers_utf8(json_t *caps) {
  json_t *encs = json_object_get(json_object_get(caps, "general"), "positionEncodings");
  size_t i;
  json_t *v;
  json_array_foreach(encs, i, v) {
    if (json_is_string(v) && !strcmp(json_string_value(v), "utf-8")) return true;
  }
  return false;
}

static void on_initialize(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_server *s = data;
  if (s->state != QR_SERVER_STARTING) {
    qr_rpc_reply_error(req, QR_RPC_INVALID_REQUEST, "initialize was already received", NULL);
    return;
  }
  if (!json_is_object(params)) {
    qr_rpc_reply_error(req, QR_RPC_INVALID_PARAMS, "initialize needs an object", NULL);
    return;
  }
  json_t *caps = json_object_get(params, "capabilities");
  json_t *opts = json_object_get(params, "initializationOptions");
  s->encoding = client_offers_utf8(caps) ? QR_ENC_UTF8 : QR_ENC_UTF16;
  const char *enc = s->encoding == QR_ENC_UTF8 ? "utf-8" : "utf-16";
  json_t *result = NULL;
  if (!json_object_set_new(s->capabilities, "positionEncoding", json_string(enc)))
    result = json_pack("{s:O,s:{s:s,s:s}}", "capabilities", s->capabilities, "serverInfo", "name",
                       "quorum", "version", QR_VERSION);
  if (!result) {
    qr_rpc_reply_error(req, QR_RPC_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  qr_docs_set_encoding(s->docs, s->encoding);
  s->client_capabilities = json_is_object(caps) ? json_incref(caps) : json_object();
  s->init_options = json_is_null(opts) ? NULL : json_incref(opts);
  s->init_params = json_incref(params);
  s->state = QR_SERVER_RUNNING;
  QR_INFO("lsp: initialized (position encoding %s)", enc);
  qr_rpc_reply(req, result);
}

static void notify(qr_server *s, qr_server_event ev, const char *uri, int version,
                   const json_t *params) {
  if (s->on_event) s->on_event(s, ev, uri, version, params, s->on_event_data);
}

void qr_server_listen(qr_server *s, qr_server_event_cb cb, void *data) {
  s->on_event = cb;
  s->on_event_data = data;
}

static void on_initialized(qr_rpc *rpc, json_t *params, void *data) {
  QR_DEBUG("lsp: client confirmed initialization");
  notify(data, QR_SERVER_INITIALIZED, NULL, 0, params);
}

static void on_shutdown(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_server *s = data;
  s->state = QR_SERVER_SHUT_DOWN;
  s->shutdown_received = true;
  notify(s, QR_SERVER_SHUTDOWN, NULL, 0, params); /* work in flight ends before the reply */
  qr_rpc_reply(req, NULL);
}

static void on_exit_notification(qr_rpc *rpc, json_t *params, void *data) {
  qr_server *s = data;
  s->exit_code = s->shutdown_received ? 0 : 1;
  begin_exit(s);
}

/* ---- text synchronisation ------------------------------------------------------------------ */

/* The detail a store call left in e, or the generic text when it left none. */
static const char *err_text(const qr_err *e, int rc) { return e->msg[0] ? e->msg : qr_strerror(rc); }

static const char *param_uri(json_t *params) {
  return json_string_value(json_object_get(json_object_get(params, "textDocument"), "uri"));
}

static int param_version(json_t *params) {
  json_int_t v = json_integer_value(json_object_get(json_object_get(params, "textDocument"),
                                                    "version"));
  return (int)QR_MAX(QR_MIN(v, INT_MAX), INT_MIN);
}

static void on_did_open(qr_rpc *rpc, json_t *params, void *data) {
  qr_server *s = data;
  json_t *td = json_object_get(params, "textDocument");
  const char *uri = param_uri(params);
  const char *lang = json_string_value(json_object_get(td, "languageId"));
  json_t *text = json_object_get(td, "text");
  if (!uri || !json_is_string(text)) {
    QR_WARN("lsp: didOpen without textDocument.uri or .text");
    return;
  }
  qr_err e = {0};
  int rc = qr_docs_open(s->docs, uri, lang ? lang : "", param_version(params),
                        json_string_value(text), json_string_length(text), &e);
  if (rc) QR_WARN("lsp: didOpen %s: %s", uri, err_text(&e, rc));
  else notify(s, QR_SERVER_DID_OPEN, uri, param_version(params), params);
}

static void on_did_change(qr_rpc *rpc, json_t *params, void *data) {
  qr_server *s = data;
  const char *uri = param_uri(params);
  json_t *changes = json_object_get(params, "contentChanges");
  qr_err e = {0};
  int rc = uri && json_is_array(changes)
               ? qr_docs_change(s->docs, uri, param_version(params), changes, &e)
               : qr_err_set(&e, QR_E_INVAL, "didChange without textDocument.uri or contentChanges");
  if (!rc) {
    notify(s, QR_SERVER_DID_CHANGE, uri, param_version(params), params);
    return;
  }
  /* The client's copy and ours now differ: say so where the user can see it. */
  char *msg =
      qr_asprintf("quorum: change to %s not applied: %s", uri ? uri : "?", err_text(&e, rc));
  QR_WARN("lsp: %s", msg ? msg : err_text(&e, rc));
  qr_server_log_message(s, LOG_ERROR, msg ? msg : err_text(&e, rc));
  qr_free(msg);
}

static void on_did_save(qr_rpc *rpc, json_t *params, void *data) {
  const char *uri = param_uri(params);
  QR_DEBUG("lsp: saved %s", uri ? uri : "?");
  if (uri) notify(data, QR_SERVER_DID_SAVE, uri, 0, params);
}

static void on_did_close(qr_rpc *rpc, json_t *params, void *data) {
  qr_server *s = data;
  const char *uri = param_uri(params);
  if (!uri || qr_docs_close(s->docs, uri)) QR_WARN("lsp: didClose for a document not open");
  else notify(s, QR_SERVER_DID_CLOSE, uri, 0, params);
}

/* ---- the server object --------------------------------------------------------------------- */

static int register_handlers(qr_server *s) {
  static const struct {
    const char *method;
    qr_rpc_notify_cb cb;
  } notes[] = {
      {"initialized", on_initialized},
      {"exit", on_exit_notification},
      {"textDocument/didOpen", on_did_open},
      {"textDocument/didChange", on_did_change},
      {"textDocument/didSave", on_did_save},
      {"textDocument/didClose", on_did_close},
  };
  int rc = qr_rpc_on_request(s->rpc, "initialize", on_initialize, s);
  if (!rc) rc = qr_rpc_on_request(s->rpc, "shutdown", on_shutdown, s);
  for (size_t i = 0; !rc && i < QR_ARRAY_LEN(notes); i++)
    rc = qr_rpc_on_notification(s->rpc, notes[i].method, notes[i].cb, s);
  qr_rpc_set_gate(s->rpc, gate, s);
  return rc;
}

int qr_server_init(qr_server *s, uv_loop_t *loop, const qr_server_options *opts, qr_err *e) {
  memset(s, 0, sizeof *s);
  s->loop = loop;
  s->exit_code = 1;
  s->encoding = QR_ENC_UTF16;
  s->docs = qr_docs_new(QR_ENC_UTF16,
                        opts->max_doc_bytes ? opts->max_doc_bytes : QR_SERVER_DEFAULT_MAX_DOC);
  s->rpc = qr_rpc_new(write_body, s);
  s->capabilities = json_pack("{s:{s:b,s:i,s:{s:b}}}", "textDocumentSync", "openClose", 1,
                              "change", 2, "save", "includeText", 0);
  int rc = s->docs && s->rpc && s->capabilities ? register_handlers(s) : QR_E_NOMEM;
  if (rc) {
    qr_err_set(e, rc, "cannot create the server: %s", qr_strerror(rc));
  } else {
    qr_transport_options to = {.max_message_bytes = opts->max_message_bytes,
                               .on_message = on_message,
                               .on_eof = on_eof,
                               .on_closed = on_closed,
                               .on_drained = on_drained,
                               .data = s};
    rc = qr_transport_new(loop, &to, &s->transport);
    if (rc)
      qr_err_set(e, rc, "cannot create the transport: %s", qr_strerror(rc));
    else
      rc = qr_transport_open_fds(s->transport, opts->in_fd, opts->out_fd, e);
  }
  if (rc) qr_server_dispose(s);
  return rc;
}

qr_rpc *qr_server_rpc(qr_server *s) { return s->rpc; }

int qr_server_start(qr_server *s) {
  return s->transport ? qr_transport_start(s->transport) : QR_E_STATE;
}

int qr_server_exit_code(const qr_server *s) { return s->exit_code; }

void qr_server_dispose(qr_server *s) {
  if (s->transport) qr_transport_close(s->transport); /* on_closed clears s->transport */
  qr_rpc_free(s->rpc);
  s->rpc = NULL;
  if (s->docs) qr_docs_free(s->docs);
  s->docs = NULL;
  json_decref(s->capabilities);
  json_decref(s->client_capabilities);
  json_decref(s->init_options);
  json_decref(s->init_params);
  s->capabilities = s->client_capabilities = s->init_options = s->init_params = NULL;
}
