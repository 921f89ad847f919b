/* lsp.h — the language server object: stdio transport + JSON-RPC dispatcher + document
 * store, and the LSP lifecycle (initialize → initialized → … → shutdown → exit) and text
 * synchronisation (didOpen/didChange/didSave/didClose).
 *
 * Usage (see main.c):
 *   qr_server s; qr_server_init(&s, loop, &opts, &e);
 *   qr_rpc_on_request(qr_server_rpc(&s), "quorum/review", …);   // extra handlers
 *   qr_server_start(&s); uv_run(loop, UV_RUN_DEFAULT);
 *   int code = qr_server_exit_code(&s); qr_server_dispose(&s);
 * The loop is stopped (uv_stop) once the transport has closed after `exit` or end of input,
 * so handles other modules still hold do not keep the process alive.
 *
 * Gating: before `initialize`, requests get ServerNotInitialized (−32002) and notifications
 * other than `exit` are dropped; after `shutdown`, requests get InvalidRequest (−32600) and
 * notifications other than `exit` are dropped. */
#ifndef QR_LSP_H
#define QR_LSP_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "common.h"
#include "lsp/dispatch.h"
#include "lsp/document.h"
#include "lsp/transport.h"

#define QR_SERVER_DEFAULT_MAX_DOC ((size_t)16 << 20) /* 16 MiB per open document */

typedef struct qr_server_options {
  size_t max_message_bytes; /* 0: QR_TRANSPORT_DEFAULT_MAX_BODY */
  size_t max_doc_bytes;     /* 0: QR_SERVER_DEFAULT_MAX_DOC */
  int in_fd, out_fd;        /* normally 0 and 1; must be pipes or sockets */
} qr_server_options;

typedef enum {
  QR_SERVER_STARTING,    /* waiting for initialize */
  QR_SERVER_RUNNING,     /* initialize answered */
  QR_SERVER_SHUT_DOWN,   /* shutdown answered; waiting for exit */
  QR_SERVER_EXITING,     /* exit received or input ended; transport closing */
} qr_server_state;

/* Embedded by value (typically on main's stack); must outlive the loop run. Fields are
 * readable by other modules; only lsp.c writes them. */
/* What the lifecycle and text-sync handlers tell a listener, after the store is updated. */
typedef enum {
  QR_SERVER_INITIALIZED, /* `initialized` arrived; uri is NULL */
  QR_SERVER_DID_OPEN,
  QR_SERVER_DID_CHANGE,  /* only when the change was applied */
  QR_SERVER_DID_SAVE,
  QR_SERVER_DID_CLOSE,   /* the document is already gone from the store */
  QR_SERVER_SHUTDOWN,    /* `shutdown` arrived; its reply follows the listener; uri is NULL */
  QR_SERVER_DRAINED,     /* the client took every byte held back for it; uri is NULL */
} qr_server_event;

struct qr_server;
/* params: the notification's params, borrowed for the call (DID_CHANGE listeners read
 * contentChanges from it to follow edits). */
typedef void (*qr_server_event_cb)(struct qr_server *s, qr_server_event ev, const char *uri,
                                   int version, const json_t *params, void *data);

typedef struct qr_server {
  uv_loop_t *loop;
  qr_transport *transport; /* owned; NULL once closed */
  qr_rpc *rpc;             /* owned */
  qr_docs *docs;           /* owned */
  qr_server_state state;
  bool shutdown_received;
  int exit_code;               /* 0 after shutdown+exit, else 1 */
  qr_pos_encoding encoding;    /* negotiated in initialize */
  json_t *capabilities;        /* owned ServerCapabilities sent by initialize; other modules
                                  may add members (json_object_set_new) before the loop runs */
  json_t *client_capabilities; /* owned; NULL before initialize */
  json_t *init_options;        /* owned initializationOptions; NULL when absent */
  json_t *init_params;         /* owned params of initialize (workspace folders); NULL before */
  qr_server_event_cb on_event; /* one listener (the review module), or NULL */
  void *on_event_data;
} qr_server;

/* Opens the transport on opts->in_fd/out_fd, creates the dispatcher and the document store
 * and registers the lifecycle and text-sync handlers. Nothing is read until qr_server_start.
 * On failure everything is released and e says why (QR_E_UNSUPPORTED when stdio is not a pipe). */
int qr_server_init(qr_server *s, uv_loop_t *loop, const qr_server_options *opts, qr_err *e);
/* The dispatcher, to register more handlers before qr_server_start. Borrowed. */
qr_rpc *qr_server_rpc(qr_server *s);
/* Sets the one listener for lifecycle and document events (NULL to remove). */
void qr_server_listen(qr_server *s, qr_server_event_cb cb, void *data);
/* True while messages wait for a client that is not reading (see QR_SERVER_DRAINED). */
bool qr_server_output_busy(const qr_server *s);
/* Starts reading messages. */
int qr_server_start(qr_server *s);
/* Sends window/logMessage {type, message}; type 1 error, 2 warning, 3 info, 4 log. */
int qr_server_log_message(qr_server *s, int type, const char *message);
/* The process exit code the LSP spec asks for: 0 if `exit` followed `shutdown`, else 1. */
int qr_server_exit_code(const qr_server *s);
/* Frees the dispatcher, the documents and the JSON it holds, and closes the transport if it
 * is still open (run the loop afterwards to let its handles close). */
void qr_server_dispose(qr_server *s);

#endif
