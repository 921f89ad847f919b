/* lsp_review_internal.h — the editor's review state, owned by lsp_review.c (jobs, file states,
 * publishing, configuration), and the few functions lsp_actions.c (code actions and
 * workspace/executeCommand) uses on it. The actions sit above the reviews: lsp_review.c never
 * calls lsp_actions.c. Not part of the public API (see lsp_review.h); only those two files
 * include it. */
#ifndef QR_LSP_REVIEW_INTERNAL_H
#define QR_LSP_REVIEW_INTERNAL_H

#include "config/config.h"
#include "providers/http.h"
#include "lsp/lsp_review.h"
#include "review/review.h"
#include "local/rules.h"

enum { MSG_ERROR = 1, MSG_WARNING = 2, MSG_INFO = 3, MSG_LOG = 4 }; /* showMessage/logMessage types */

/* The configuration, shared by the reviews that run on it: a reload must not free it under them. */
typedef struct cfg_ref {
  qr_config *c;
  qr_rules *rules;     /* the rule pack, compiled at the first review and kept for the next ones */
  bool from_workspace; /* the file was named by initializationOptions / workspace settings */
  int refs;
} cfg_ref;

typedef enum { JOB_DOC, JOB_CHANGES, JOB_REQUEST } job_kind;

typedef struct job {
  struct job *next;
  qr_lsp_review *lr;
  job_kind kind;
  char *uri;              /* JOB_DOC: the document */
  int version;            /* JOB_DOC: the version reviewed */
  char *text;             /* JOB_DOC: that version's text, the new side reviewed; owned */
  size_t text_len;
  char *diff;             /* a staged review's diff while the index is read; owned */
  size_t diff_len;
  struct qr_snapshot *index; /* then the index's files, and why some are left out; owned */
  char **index_omitted;
  char *dir;              /* where the repository is looked for */
  char *root, *rel;       /* repository (or directory) root; JOB_DOC: the file relative to it */
  char *base;             /* diff base (NULL: HEAD) */
  bool staged, canceled;
  qr_rpc_request *req;    /* JOB_REQUEST: answered when the review ends */
  cfg_ref *cfg;
  qr_review *review;      /* while the engine runs */
  int git_step;           /* which git command is running (see on_git) */
  bool busy;              /* a git child or a review is running */
  bool create_pending;    /* window/workDoneProgress/create not answered yet */
  bool progress_begun;
  char token[32];
  json_t *shown;          /* JOB_DOC: the provisional findings last published; owned */
  json_t *before;         /* JOB_DOC: the findings published before this review, kept beside
                           * the provisional ones until the final result; owned */
} job;

typedef struct file_state {
  struct file_state *next;
  qr_lsp_review *lr;
  char *uri, *root, *rel;
  int version;      /* document version the findings are for; -1 when not from a document */
  json_t *findings; /* owned array of the result's findings for this file */
  json_t *diagnostics; /* owned array last published */
  char *text;       /* owned copy of the open document's text the findings are placed on, so a
                       full-text change can be compared with it; NULL without findings */
  size_t len;
  bool held;        /* diagnostics held back while the client does not read (sent when it
                       drains: the newest only, however many edits came meanwhile) */
  uv_timer_t timer; /* debounce; closed (and lr->live decremented) by qr_lsp_review_close */
} file_state;

struct qr_lsp_review {
  qr_server *srv;
  qr_http *http;
  cfg_ref *cfg;            /* NULL until loaded */
  char *flag_config;       /* --config */
  char *ws_config;         /* configFile from the client (initializationOptions / settings) */
  json_t *folders;         /* owned array of folder URIs didChangeWorkspaceFolders added */
  bool manual;             /* trigger "manual": saves do not review */
  int debounce_ms;
  job *jobs;
  file_state *files;
  unsigned next_token;
  int live;                /* running jobs + open timers */
  bool closing;
  bool shut_down;          /* `shutdown` arrived: no reviews start, nothing is published */
};

/* ---- lsp_review.c ---------------------------------------------------------------------------- */

/* The client capability a.b.c (b, c may be NULL), or NULL. Borrowed. */
json_t *qr_lsp_cap(qr_lsp_review *lr, const char *a, const char *b, const char *c);
/* Logs the message and shows it with window/showMessage (type MSG_*) unless closing. */
void qr_lsp_show(qr_lsp_review *lr, int type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* params.textDocument.uri, or NULL. Borrowed from params. */
const char *qr_lsp_uri_param(json_t *params);
/* The state of uri, or NULL when nothing was published for it. Owned by lr. */
file_state *qr_lsp_file_find(qr_lsp_review *lr, const char *uri);
/* Drops f's findings, diagnostics and kept text (the caller republishes). */
void qr_lsp_file_forget(file_state *f);
/* Sends f's findings as diagnostics, leaving out dismissed ones. */
void qr_lsp_publish(qr_lsp_review *lr, file_state *f);
/* Reviews the open document uri (canceling older reviews of it): 0, QR_E_NOTFOUND when it is
 * not open, QR_E_INVAL/QR_E_NOMEM when no job could start. */
int qr_lsp_review_document(qr_lsp_review *lr, const char *uri);
/* quorum.reviewChanges / reviewStaged: reviews the changes of the folder named by arg (the
 * command's first argument, borrowed: {root}, a URI, or {uri}; else the cwd). 0, or
 * QR_E_INVAL when there is no folder to review. */
int qr_lsp_review_changes(qr_lsp_review *lr, json_t *arg, bool staged);

/* ---- lsp_trust.c ------------------------------------------------------------------------------ */

/* Creates lr->folders and announces workspace-folder support in the server's capabilities. */
int qr_lsp_folders_init(qr_lsp_review *lr);
/* workspace/didChangeWorkspaceFolders: remembers every added folder (removed ones too stay: what
 * they held may still be open). */
void qr_lsp_on_folders(qr_rpc *rpc, json_t *params, void *data);
/* 0 when the configuration file the client named (`config`, a real path) lies outside the reach
 * (qr_workspace_config_trusted) of every folder worked in: `root` (may be NULL), the working
 * directory, the workspace folders of initialize and didChangeWorkspaceFolders, each open
 * document's folder and each published file's review root; else an error in e. */
int qr_lsp_config_check(qr_lsp_review *lr, const char *config, const char *root, qr_err *e);

/* lsp_review_log.c: one log line for the files a review left out, and one per pass that
 * dropped findings, with the reasons. */
void qr_lsp_log_left_out(qr_lsp_review *lr, const json_t *result);
void qr_lsp_log_drops(qr_lsp_review *lr, const json_t *result);

#endif
