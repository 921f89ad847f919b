/* dispatch.h — JSON-RPC 2.0 over any message transport: routes incoming requests and
 * notifications to registered handlers, answers malformed messages with the standard error
 * codes, routes `$/cancelRequest` to the in-flight request it names, and matches responses to
 * the requests this side sent. It does no I/O itself: every outgoing message goes through the
 * `write` function given at creation (normally qr_transport_send).
 *
 * Rules applied to each incoming body:
 *  - not valid JSON (including nesting deeper than jansson's JSON_PARSER_MAX_DEPTH, 2048)
 *    → ParseError −32700, id null;
 *  - not an object, wrong "jsonrpc", bad "method", "params" neither object nor array (null is
 *    taken as absent, as some clients send it), or an id that is neither integer nor string
 *    → InvalidRequest −32600, with the id when it is usable, else null;
 *  - a request for an unregistered method → MethodNotFound −32601;
 *  - unknown notifications (including `$/…` ones) are ignored;
 *  - a batch array is handled element by element; each reply is sent as its own message
 *    (LSP never batches) and an empty batch is an InvalidRequest.
 * Jansson's depth limit means hostile nesting fails to parse instead of exhausting the stack. */
#ifndef QR_DISPATCH_H
#define QR_DISPATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/* JSON-RPC and LSP error codes. */
enum {
  QR_RPC_PARSE_ERROR = -32700,
  QR_RPC_INVALID_REQUEST = -32600,
  QR_RPC_METHOD_NOT_FOUND = -32601,
  QR_RPC_INVALID_PARAMS = -32602,
  QR_RPC_INTERNAL_ERROR = -32603,
  QR_RPC_SERVER_NOT_INITIALIZED = -32002,
  QR_RPC_REQUEST_CANCELLED = -32800,
  QR_RPC_CONTENT_MODIFIED = -32801,
  QR_RPC_SERVER_CANCELLED = -32802,
  QR_RPC_REQUEST_FAILED = -32803,
};

typedef struct qr_rpc qr_rpc;
typedef struct qr_rpc_request qr_rpc_request; /* an incoming request awaiting its reply */

/* A request handler. It must eventually answer with qr_rpc_reply or qr_rpc_reply_error (now
 * or later, from another callback); `req` stays valid until then. params: borrowed, valid
 * during the call only (json_incref to keep it), NULL when absent. */
typedef void (*qr_rpc_method_cb)(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data);
/* A notification handler. params: borrowed, valid during the call, NULL when absent. */
typedef void (*qr_rpc_notify_cb)(qr_rpc *rpc, json_t *params, void *data);
/* The answer to qr_rpc_call: exactly one of result/error is non-NULL (a JSON null result is
 * json_null(), not NULL). Both borrowed, valid during the call. */
typedef void (*qr_rpc_response_cb)(qr_rpc *rpc, json_t *result, json_t *error, void *data);
/* The client cancelled `req`. The handler still owns it and must still reply, normally with
 * QR_RPC_REQUEST_CANCELLED — possibly from inside this callback. */
typedef void (*qr_rpc_cancel_cb)(qr_rpc_request *req, void *data);
/* Sends one complete message body (the transport frames it). Returns 0 or a QR_E_* code. */
typedef int (*qr_rpc_write_fn)(void *ctx, const char *body, size_t len);
/* Consulted before every request and notification (except `$/cancelRequest` and responses).
 * Return 0 to dispatch. Otherwise a request is answered with that error code and *message
 * (static text, set by the gate), and a notification is dropped. */
typedef int (*qr_rpc_gate_fn)(qr_rpc *rpc, const char *method, bool is_request,
                              const char **message, void *data);

/* A new dispatcher writing through write(write_ctx, …). NULL when out of memory. */
qr_rpc *qr_rpc_new(qr_rpc_write_fn write, void *write_ctx);
/* Frees rpc. In-flight requests are freed without replies (their handlers must not touch
 * them afterwards) and pending calls are dropped without calling their callbacks. NULL is ok. */
void qr_rpc_free(qr_rpc *rpc);

/* Registers (or replaces) the handler for a method; copies `method`. QR_E_NOMEM/QR_E_INVAL. */
int qr_rpc_on_request(qr_rpc *rpc, const char *method, qr_rpc_method_cb cb, void *data);
int qr_rpc_on_notification(qr_rpc *rpc, const char *method, qr_rpc_notify_cb cb, void *data);
/* Installs the gate (NULL removes it). */
void qr_rpc_set_gate(qr_rpc *rpc, qr_rpc_gate_fn gate, void *data);

/* Handles one message body (or a batch array) as delivered by the framer. Protocol errors are
 * answered as described above and return 0; only a failure to allocate or to write returns an
 * error code. Handlers run before this returns. */
int qr_rpc_handle(qr_rpc *rpc, const char *body, size_t len);

/* Answers req with result (stolen; NULL means JSON null) and frees req — even on failure. */
int qr_rpc_reply(qr_rpc_request *req, json_t *result);
/* Answers req with {code, message, data} (data stolen, may be NULL) and frees req. */
int qr_rpc_reply_error(qr_rpc_request *req, int code, const char *message, json_t *data);
/* Sets the function called if the peer cancels req (NULL removes it). Called at most once. */
void qr_rpc_request_on_cancel(qr_rpc_request *req, qr_rpc_cancel_cb cb, void *data);
/* The request's method name; borrowed, valid until req is answered. */
const char *qr_rpc_request_method(const qr_rpc_request *req);

/* Sends a notification; params stolen (may be NULL). */
int qr_rpc_notify(qr_rpc *rpc, const char *method, json_t *params);
/* Sends a request with a fresh integer id; cb runs when the matching response arrives.
 * params stolen (may be NULL). On error cb is never called. */
int qr_rpc_call(qr_rpc *rpc, const char *method, json_t *params, qr_rpc_response_cb cb,
                void *data);
/* Answers every pending call with a synthetic error {code, message} (e.g. when the peer has
 * gone away), so callers waiting on responses can finish. */
void qr_rpc_fail_pending(qr_rpc *rpc, int code, const char *message);
/* Number of requests sent with qr_rpc_call still awaiting a response. */
size_t qr_rpc_pending_count(const qr_rpc *rpc);

#endif
