/* lsp_review.c — the editor surface of the review engine: what triggers a review (didSave after
 * the debounce), the git steps, starting reviews, delivering diagnostics, carrying findings
 * across edits, progress, configuration, and the quorum/review and quorum/ledger requests.
 * Code actions and workspace/executeCommand live in lsp_actions.c; the structs both share are
 * in lsp_review_internal.h.
 *
 * A *job* is one review on its way: optional git steps (find the repository, tell tracked from
 * untracked, get the diff), then qr_review_start, then delivery (diagnostics for a document,
 * diagnostics for every changed file, or the reply to `quorum/review`). A *file state* holds
 * what was last published for one URI (the findings, so code actions and Dismiss can use them)
 * and the document's debounce timer.
 *
 * Staleness: a document job keeps the text it reviewed (the buffer when the git steps read it).
 * An edit while it runs does not cancel it: its findings are carried from that text onto the
 * buffer as it is when they land, like an edit moves published ones, and those on lines changed
 * since are left out (and said in the log). A newer review of the document, or closing it,
 * cancels it. The findings already published are not thrown away by an edit: each didChange moves them by
 * the lines it touched (lsp_diagnostics.h), drops those whose code changed, and republishes the
 * rest for the new version; the next review's result replaces them. A full-text change is
 * compared with the text the findings were last placed on (kept while there are findings).
 *
 * Lifetime: jobs and timers count in lr->live; after qr_lsp_review_close the struct is freed
 * when that count drops to zero (the last git child reaped, review finished, timer closed). */
#include "lsp/lsp_review_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "change/git.h"
#include "change/snapshot.h"
#include "providers/http.h"
#include "store/ledger.h"
#include "log.h"
#include "local/rules.h"
#include "lsp/lsp_diagnostics.h"
#include "lsp/lsp_workspace.h"
#include "review/review.h"

#define MAX_GIT_SMALL ((size_t)64 << 10)                /* rev-parse / ls-files output */
#define MAX_DEBOUNCE_MS 600000

static void job_finish(job *j);

/* ---- small helpers ------------------------------------------------------------------------------ */

json_t *qr_lsp_cap(qr_lsp_review *lr, const char *a, const char *b, const char *c) {
  json_t *v = json_object_get(lr->srv->client_capabilities, a);
  if (b) v = json_object_get(v, b);
  if (c) v = json_object_get(v, c);
  return v;
}

void qr_lsp_show(qr_lsp_review *lr, int type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  qr_buf b;
  qr_buf_init(&b, 4096);
  qr_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  QR_INFO("lsp_review: %s", b.data ? b.data : "");
  json_t *p = json_pack("{s:i,s:s}", "type", type, "message", b.data ? b.data : "quorum");
  if (p && !lr->closing && !lr->shut_down) qr_rpc_notify(lr->srv->rpc, "window/showMessage", p);
  else json_decref(p);
  qr_buf_free(&b);
}

const char *qr_lsp_uri_param(json_t *params) {
  return json_string_value(json_object_get(json_object_get(params, "textDocument"), "uri"));
}

static cfg_ref *cfg_hold(cfg_ref *c) {
  if (c) c->refs++;
  return c;
}

static void cfg_release(cfg_ref *c) {
  if (!c || --c->refs) return;
  qr_rules_free(c->rules);
  qr_config_free(c->c);
  qr_free(c);
}

static void maybe_free(qr_lsp_review *lr) {
  if (!lr->closing || lr->live) return;
  cfg_release(lr->cfg);
  qr_http_close(lr->http); /* its handles close on the loop the caller runs */
  qr_free(lr->flag_config);
  qr_free(lr->ws_config);
  json_decref(lr->folders);
  qr_free(lr);
}

/* ---- file states and publishing ------------------------------------------------------------------- */

file_state *qr_lsp_file_find(qr_lsp_review *lr, const char *uri) {
  for (file_state *f = lr->files; f; f = f->next)
    if (!strcmp(f->uri, uri)) return f;
  return NULL;
}

static file_state *file_get(qr_lsp_review *lr, const char *uri) {
  file_state *f = qr_lsp_file_find(lr, uri);
  if (f || lr->closing) return f;
  f = qr_calloc(1, sizeof *f);
  if (!f || !(f->uri = qr_strdup(uri))) {
    qr_free(f);
    return NULL;
  }
  uv_timer_init(lr->srv->loop, &f->timer);
  f->timer.data = f;
  f->lr = lr;
  f->version = -1;
  f->next = lr->files;
  lr->files = f;
  lr->live++;
  return f;
}

static void forget_text(file_state *f) {
  qr_free(f->text);
  f->text = NULL;
  f->len = 0;
}

void qr_lsp_file_forget(file_state *f) {
  json_decref(f->findings);
  json_decref(f->diagnostics);
  f->findings = f->diagnostics = NULL;
  forget_text(f);
}

/* Keeps a copy of the open document's text while f has findings to move (see move_findings). */
static void remember_text(qr_lsp_review *lr, file_state *f) {
  qr_document *d = qr_docs_get(lr->srv->docs, f->uri);
  forget_text(f);
  if (!d || !json_array_size(f->findings)) return;
  f->text = qr_strndup(d->text, d->len);
  f->len = f->text ? d->len : 0;
}

static void on_file_closed(uv_handle_t *h) {
  file_state *f = h->data;
  qr_lsp_review *lr = f->lr;
  qr_lsp_file_forget(f);
  qr_free(f->uri);
  qr_free(f->root);
  qr_free(f->rel);
  qr_free(f);
  lr->live--;
  maybe_free(lr);
}

static void set_str(char **dst, const char *v) {
  char *copy = v ? qr_strdup(v) : NULL;
  if (v && !copy) return; /* keeps the old value rather than none */
  qr_free(*dst);
  *dst = copy;
}

/* The text diagnostics are placed on: the open document, else the file on disk. *owned is set
 * when the caller must free it. */
static const char *file_text(qr_lsp_review *lr, file_state *f, size_t *len, char **owned,
                             int *version) {
  *owned = NULL;
  qr_document *d = qr_docs_get(lr->srv->docs, f->uri);
  if (d) {
    *len = d->len;
    *version = d->version;
    return d->text;
  }
  *version = -1;
  char *path = f->root && f->rel ? qr_asprintf("%s/%s", f->root, f->rel) : NULL;
  if (!path || qr_read_file(path, QR_SERVER_DEFAULT_MAX_DOC, owned, len, NULL)) *owned = NULL;
  qr_free(path);
  return *owned;
}

/* Sends the findings of f as diagnostics, leaving out dismissed ones. While the client is not
 * reading they are held back (f->held) and sent, newest only, when it drains. */
void qr_lsp_publish(qr_lsp_review *lr, file_state *f) {
  size_t len = 0;
  char *owned;
  int version;
  const char *text = file_text(lr, f, &len, &owned, &version);
  /* Clients that do not advertise relatedInformation get none. */
  bool related =
      json_is_true(qr_lsp_cap(lr, "textDocument", "publishDiagnostics", "relatedInformation"));
  json_t *diags = json_array(), *fi;
  size_t i;
  json_array_foreach(f->findings, i, fi) {
    const char *fp = json_string_value(json_object_get(fi, "fingerprint"));
    if (!text || !diags || (f->root && qr_workspace_is_dismissed(f->root, fp))) continue;
    json_array_append_new(diags, qr_diagnostics_from_finding(fi, related ? f->uri : NULL, text,
                                                             len, lr->srv->encoding));
  }
  qr_free(owned);
  if (!diags) return;
  json_decref(f->diagnostics);
  f->diagnostics = json_incref(diags);
  if ((f->held = qr_server_output_busy(lr->srv))) {
    json_decref(diags);
    return;
  }
  json_t *p = json_pack("{s:s,s:o}", "uri", f->uri, "diagnostics", diags);
  if (p && version >= 0) json_object_set_new(p, "version", json_integer(version));
  if (p && !lr->closing && !lr->shut_down)
    qr_rpc_notify(lr->srv->rpc, "textDocument/publishDiagnostics", p);
  else json_decref(p);
}

/* Copies of the result's findings about `rel`, each marked "provisional" when asked; NULL when
 * out of memory. */
static json_t *findings_about(json_t *result, const char *rel, bool provisional) {
  json_t *mine = json_array(), *fi;
  size_t i;
  json_array_foreach(json_object_get(result, "findings"), i, fi) {
    const char *file = json_string_value(json_object_get(fi, "file"));
    json_t *copy = mine && file && !strcmp(file, rel) ? json_deep_copy(fi) : NULL;
    if (copy && provisional) json_object_set_new(copy, "provisional", json_true());
    if (copy) json_array_append_new(mine, copy);
  }
  return mine;
}

/* Carries findings found in `reviewed` onto `shown`, the text they will be shown on, the way an
 * edit moves them: those on lines that differ are dropped. Returns how many were dropped. */
static size_t follow_text(json_t *findings, const char *reviewed, size_t rlen, const char *shown,
                          size_t slen) {
  size_t before = json_array_size(findings);
  qr_line_edit e;
  if (shown && rlen == slen && !memcmp(reviewed, shown, rlen)) return 0;
  if (!shown || qr_diagnostics_text_edit(reviewed, rlen, shown, slen, &e)) json_array_clear(findings);
  else qr_diagnostics_move(findings, &e);
  return before - json_array_size(findings);
}

/* Carries f's findings from `reviewed` (the text the review read) onto the text shown now —
 * the buffer, else the file on disk — when they differ (edited since, or the index was
 * reviewed): never shown at the reviewed lines; those on changed lines are left out, and said. */
static void follow_shown(qr_lsp_review *lr, file_state *f, const char *reviewed, size_t rlen) {
  size_t len = 0;
  char *owned;
  int shown_version;
  const char *shown = file_text(lr, f, &len, &owned, &shown_version);
  size_t dropped = follow_text(f->findings, reviewed, rlen, shown, len);
  qr_free(owned);
  if (f->version >= 0) f->version = shown_version;
  char *msg = dropped ? qr_asprintf("quorum: %zu findings on %s not shown: the text there is no "
                                    "longer the reviewed text (edited since, or not what was "
                                    "staged)", dropped, f->rel)
                      : NULL;
  if (msg) qr_server_log_message(lr->srv, MSG_LOG, msg);
  qr_free(msg);
}

/* Keeps `mine` (stolen) as f's findings about `rel` for `version`, found in `reviewed` (NULL:
 * the text shown now), then publishes them. */
static void keep_findings(qr_lsp_review *lr, file_state *f, const char *root, const char *rel,
                          json_t *mine, int version, const char *reviewed, size_t reviewed_len) {
  qr_lsp_file_forget(f);
  f->findings = mine;
  f->version = version;
  set_str(&f->root, root);
  set_str(&f->rel, rel);
  if (reviewed && json_array_size(mine)) follow_shown(lr, f, reviewed, reviewed_len);
  remember_text(lr, f);
  qr_lsp_publish(lr, f);
}

/* Keeps, for file_state f, the result's findings about `rel`, then publishes them. */
static void deliver_file(qr_lsp_review *lr, file_state *f, const char *root, const char *rel,
                         json_t *result, int version, const char *reviewed, size_t reviewed_len) {
  json_t *mine = findings_about(result, rel, false);
  if (mine) keep_findings(lr, f, root, rel, mine, version, reviewed, reviewed_len);
}

/* Whether `list` holds a finding with fingerprint fp. */
static bool has_fingerprint(const json_t *list, const char *fp) {
  size_t i;
  json_t *fi;
  json_array_foreach(list, i, fi) {
    const char *other = json_string_value(json_object_get(fi, "fingerprint"));
    if (fp && other && !strcmp(fp, other)) return true;
  }
  return false;
}

/* Appends to `mine` copies of the findings of `before` whose fingerprint `mine` lacks. */
static void add_unmatched(json_t *mine, const json_t *before) {
  size_t i;
  json_t *b;
  json_array_foreach(before, i, b) {
    if (!has_fingerprint(mine, json_string_value(json_object_get(b, "fingerprint"))))
      json_array_append_new(mine, json_deep_copy(b));
  }
}

/* Progressive results: while a document's review runs, each progress report publishes the
 * consensus so far about it, marked provisional, when it changed. What was published before
 * this review stays beside it (unless the consensus holds the same fingerprint) until the final
 * result replaces everything, so no finding disappears and comes back in between; an edit of
 * the document ends this (the final result is carried onto the new text). Returns how many findings the
 * review has about the document so far, -1 when it is not a document review still current. */
static int deliver_so_far(job *j, qr_review *r) {
  qr_lsp_review *lr = j->lr;
  qr_document *d = j->kind == JOB_DOC ? qr_docs_get(lr->srv->docs, j->uri) : NULL;
  if (!d || d->version != j->version || j->canceled || lr->closing) return -1;
  file_state *f = file_get(lr, j->uri);
  json_t *partial = f ? qr_review_partial(r) : NULL;
  json_t *mine = partial ? findings_about(partial, j->rel, true) : NULL;
  json_decref(partial);
  int n = mine ? (int)json_array_size(mine) : -1;
  if (n <= 0 || json_equal(mine, j->shown)) {
    json_decref(mine);
    return n;
  }
  json_decref(j->shown);
  j->shown = json_incref(mine);
  if (!j->before) j->before = f->findings ? json_incref(f->findings) : json_array();
  add_unmatched(mine, j->before);
  keep_findings(lr, f, j->root, j->rel, mine, j->version, NULL, 0);
  return n;
}

/* A document review that showed provisional findings ended without its final result (an edit
 * or a close canceled it, or the server closes): its provisional findings must not stay the
 * current set. Those whose fingerprint was published before it lose the mark, the others go;
 * what was published before is kept (moved with edits as f->findings are). Left alone when a
 * newer review of the document already shows its own. */
static void settle_provisional(job *j) {
  qr_lsp_review *lr = j->lr;
  file_state *f = j->shown ? qr_lsp_file_find(lr, j->uri) : NULL;
  for (job *o = lr->jobs; f && o; o = o->next)
    if (o != j && o->kind == JOB_DOC && !o->canceled && o->shown && !strcmp(o->uri, j->uri)) f = NULL;
  if (!f || !f->findings) return;
  for (size_t i = json_array_size(f->findings); i-- > 0;) {
    json_t *fi = json_array_get(f->findings, i);
    if (!json_is_true(json_object_get(fi, "provisional"))) continue;
    if (has_fingerprint(j->before, json_string_value(json_object_get(fi, "fingerprint"))))
      json_object_del(fi, "provisional");
    else json_array_remove(f->findings, i);
  }
  remember_text(lr, f);
  qr_lsp_publish(lr, f);
}

/* quorum.reviewChanges / reviewStaged: every file with findings gets its diagnostics (once,
 * however many findings it has), provided it lies inside the repository. */
static void deliver_changes(qr_lsp_review *lr, job *j, qr_review *r, json_t *result) {
  json_t *seen = json_object(), *fi;
  size_t i;
  json_array_foreach(json_object_get(result, "findings"), i, fi) {
    const char *file = json_string_value(json_object_get(fi, "file"));
    if (!seen || !file || json_object_get(seen, file) ||
        !qr_workspace_rel_confined(j->root, file))
      continue;
    json_object_set_new(seen, file, json_true());
    char *path = qr_asprintf("%s/%s", j->root, file);
    char *uri = path ? qr_workspace_path_to_uri(path) : NULL;
    file_state *f = uri ? file_get(lr, uri) : NULL;
    const qr_snapshot_file *reviewed = qr_review_file(r, file);
    if (f && reviewed) deliver_file(lr, f, j->root, file, result, -1, reviewed->text, reviewed->len);
    qr_free(path);
    qr_free(uri);
  }
  json_decref(seen);
}

/* ---- progress ------------------------------------------------------------------------------------ */

static void progress_send(job *j, json_t *value) {
  json_t *p = value ? json_pack("{s:s,s:o}", "token", j->token, "value", value) : NULL;
  if (p && !j->lr->closing && !j->lr->shut_down) qr_rpc_notify(j->lr->srv->rpc, "$/progress", p);
  else json_decref(p);
}

static void on_progress_created(qr_rpc *rpc, json_t *result, json_t *error, void *data) {
  job *j = data;
  j->create_pending = false;
  if (!error && j->busy && j->review) {
    j->progress_begun = true;
    progress_send(j, json_pack("{s:s,s:s,s:b,s:s,s:i}", "kind", "begin", "title",
                               "quorum review", "cancellable", 0, "message", "starting",
                               "percentage", 0));
  }
  job_finish(j);
}

static void progress_start(job *j) {
  qr_lsp_review *lr = j->lr;
  if (!json_is_true(qr_lsp_cap(lr, "window", "workDoneProgress", NULL))) return;
  snprintf(j->token, sizeof j->token, "quorum-%u", ++lr->next_token);
  json_t *p = json_pack("{s:s}", "token", j->token);
  if (p && !qr_rpc_call(lr->srv->rpc, "window/workDoneProgress/create", p, on_progress_created,
                        j))
    j->create_pending = true;
}

static void on_review_progress(qr_review *r, int done, int total, double cost, void *data) {
  job *j = data;
  int so_far = deliver_so_far(j, r);
  if (!j->progress_begun) return;
  char msg[128];
  if (so_far >= 0)
    snprintf(msg, sizeof msg, "%d/%d passes done, $%.4f, %d findings so far (provisional)", done,
             total, cost, so_far); /* clients read "D/T passes done, $C" from the start */
  else
    snprintf(msg, sizeof msg, "%d/%d passes done, $%.4f", done, total, cost);
  progress_send(j, json_pack("{s:s,s:s,s:i}", "kind", "report", "message", msg, "percentage",
                             total > 0 ? done * 100 / total : 0));
}

/* ---- jobs ------------------------------------------------------------------------------------------- */

static void job_free(job *j) {
  qr_lsp_review *lr = j->lr;
  for (job **p = &lr->jobs; *p; p = &(*p)->next)
    if (*p == j) {
      *p = j->next;
      break;
    }
  cfg_release(j->cfg);
  json_decref(j->shown);
  json_decref(j->before);
  qr_free(j->uri);
  qr_free(j->text);
  qr_free(j->diff);
  qr_snapshot_free(j->index);
  qr_snapshot_free_omitted(j->index_omitted);
  qr_free(j->dir);
  qr_free(j->root);
  qr_free(j->rel);
  qr_free(j->base);
  qr_free(j);
  lr->live--;
  maybe_free(lr);
}

/* Frees j once nothing refers to it any more (no child, review or progress call pending). */
static void job_finish(job *j) {
  if (!j->busy && !j->create_pending) job_free(j);
}

static job *job_new(qr_lsp_review *lr, job_kind kind) {
  job *j = qr_calloc(1, sizeof *j);
  if (!j) return NULL;
  j->lr = lr;
  j->kind = kind;
  j->next = lr->jobs;
  lr->jobs = j;
  lr->live++;
  return j;
}

/* Ends a job that failed before or instead of a review: requests get an error, the user a message. */
static void job_fail(job *j, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_fail(job *j, int code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  j->busy = false;
  if (j->req) {
    qr_rpc_request_on_cancel(j->req, NULL, NULL);
    qr_rpc_reply_error(j->req, j->canceled ? QR_RPC_REQUEST_CANCELLED : code,
                       j->canceled ? "review canceled" : msg, NULL);
    j->req = NULL;
  } else if (!j->canceled && !j->lr->closing) {
    qr_lsp_show(j->lr, MSG_WARNING, "quorum: %s", msg);
  }
  job_finish(j);
}

static void on_review_done(qr_review *r, int status, json_t *result, void *data) {
  job *j = data;
  qr_lsp_review *lr = j->lr;
  j->review = NULL;
  j->busy = false;
  if (j->progress_begun) {
    char msg[64];
    snprintf(msg, sizeof msg, "%zu findings", json_array_size(json_object_get(result, "findings")));
    progress_send(j, json_pack("{s:s,s:s}", "kind", "end", "message",
                               status == QR_E_CANCELED ? "canceled" : msg));
  }
  if (status != QR_E_CANCELED && !lr->closing) {
    qr_lsp_log_drops(lr, result);
    qr_lsp_log_left_out(lr, result);
  }
  if (j->req) {
    qr_rpc_request_on_cancel(j->req, NULL, NULL);
    if (status == QR_E_CANCELED && j->canceled)
      qr_rpc_reply_error(j->req, QR_RPC_REQUEST_CANCELLED, "review canceled", NULL);
    else
      qr_rpc_reply(j->req, json_deep_copy(result));
    j->req = NULL;
  } else if (status != QR_E_CANCELED && !lr->closing) {
    if (status)
      qr_lsp_show(lr, MSG_WARNING, "quorum: every review pass failed (see the passes' errors)");
    qr_document *d = j->kind == JOB_DOC ? qr_docs_get(lr->srv->docs, j->uri) : NULL;
    file_state *f = j->kind == JOB_DOC ? file_get(lr, j->uri) : NULL;
    /* A result for an older version is carried onto the buffer as it is now (an edit while the
     * review ran does not throw it away); never one for a closed document reopened since:
     * closing cancels its jobs, so a reopen that restarts at the same version gets none. */
    if (d && f && !j->canceled) {
      deliver_file(lr, f, j->root, j->rel, result, j->version, j->text, j->text_len);
      json_decref(j->shown); /* the final result replaced them */
      j->shown = NULL;
    } else if (j->kind == JOB_CHANGES)
      deliver_changes(lr, j, r, result);
  }
  if (j->kind == JOB_DOC && !lr->closing) settle_provisional(j);
  job_finish(j);
}

static void job_review(job *j, const char *diff, size_t len) {
  qr_lsp_review *lr = j->lr;
  if (j->canceled || lr->closing) return job_fail(j, QR_RPC_REQUEST_CANCELLED, "canceled");
  if (!lr->cfg) return job_fail(j, QR_RPC_REQUEST_FAILED, "no configuration loaded");
  /* Provider endpoints and keys must not come from a file the reviewed code could supply. */
  qr_err te = {0};
  if (lr->cfg->from_workspace && lr->cfg->c->path &&
      qr_lsp_config_check(lr, lr->cfg->c->path, j->root, &te))
    return job_fail(j, QR_RPC_REQUEST_FAILED, "%s", te.msg);
  j->cfg = cfg_hold(lr->cfg);
  qr_config *c = j->cfg->c;
  qr_err le = {0};
  if (c->rules.enabled && !j->cfg->rules &&
      qr_rules_load((const char *const *)c->rules.folders, c->rules.n_folders, &j->cfg->rules, &le))
    return job_fail(j, QR_RPC_REQUEST_FAILED, "%s", le.msg);
  qr_review_params p = {.diff = diff, .diff_len = len, .root = j->root, .config = j->cfg->c,
                        .max_diff_bytes = QR_LSP_REVIEW_MAX_DIFF, .rules = j->cfg->rules,
                        .staged = j->staged};
  /* A document's new side is its buffer, saved or not: findings are placed on that text. A
   * staged review's is the index. */
  if (j->text && (!(p.snapshot = qr_snapshot_new()) ||
                  qr_snapshot_add(p.snapshot, j->rel, j->text, j->text_len))) {
    qr_snapshot_free(p.snapshot);
    return job_fail(j, QR_RPC_INTERNAL_ERROR, "out of memory");
  }
  if (j->index) {
    p.snapshot = j->index;
    p.omitted = j->index_omitted;
    j->index = NULL;
    j->index_omitted = NULL;
  }
  qr_err e = {0};
  j->busy = true;
  int rc = qr_review_start(lr->srv->loop, lr->http, &p, on_review_done, on_review_progress, j,
                           &j->review, &e);
  if (rc) return job_fail(j, QR_RPC_REQUEST_FAILED, "%s", e.msg[0] ? e.msg : qr_strerror(rc));
  progress_start(j);
}

/* Keeps a copy of the document's text as it is now, the text the job reviews (edits since the
 * save are reviewed too): false when it is closed or out of memory. */
static bool take_text(job *j) {
  qr_document *d = qr_docs_get(j->lr->srv->docs, j->uri);
  if (!d) return false;
  j->version = d->version;
  qr_free(j->text);
  j->text_len = d->len;
  if (!(j->text = qr_malloc(d->len + 1))) return false;
  memcpy(j->text, d->text, d->len);
  j->text[d->len] = '\0';
  return true;
}

/* Reviews the document's buffer as a new file (untracked, not in HEAD, or no repository). */
static void job_review_whole(job *j) {
  if (!take_text(j)) return job_fail(j, QR_RPC_REQUEST_FAILED, "the document changed or was closed");
  char *diff = qr_workspace_new_file_diff(j->rel, j->text, j->text_len);
  if (!diff) return job_fail(j, QR_RPC_INTERNAL_ERROR, "out of memory");
  job_review(j, diff, strlen(diff));
  qr_free(diff);
}

/* Reviews the document's buffer against HEAD, from the hunks qr_git_buffer_hunks gave. */
static void job_review_buffer(job *j, const char *hunks, size_t len) {
  char *diff = qr_workspace_modified_diff(j->rel, hunks, len);
  if (!diff) return job_fail(j, QR_RPC_INTERNAL_ERROR, "out of memory");
  job_review(j, diff, strlen(diff));
  qr_free(diff);
}

/* The index's files arrived (a staged review): the review can start on them. */
static void on_index(int status, qr_snapshot *snap, char **omitted, const char *message,
                     void *data) {
  job *j = data;
  j->busy = false;
  j->index = snap;
  j->index_omitted = omitted;
  if (j->canceled || j->lr->closing) return job_fail(j, QR_RPC_REQUEST_CANCELLED, "canceled");
  if (status) return job_fail(j, QR_RPC_REQUEST_FAILED, "cannot read the staged files: %s", message);
  job_review(j, j->diff, j->diff_len);
}

/* A staged review reads its new side from the index (what the commit will hold), never the
 * working tree: keeps the diff and reads the staged files first. */
static void job_review_staged(job *j, const char *diff, size_t len) {
  qr_diff *parsed = NULL;
  qr_err e = {0};
  if (qr_diff_parse(diff, len, QR_LSP_REVIEW_MAX_DIFF, &parsed, &e))
    return job_fail(j, QR_RPC_REQUEST_FAILED, "%s", e.msg);
  int rc = (j->diff = qr_strndup(diff, len)) ? 0 : qr_err_set(&e, QR_E_NOMEM, "out of memory");
  j->diff_len = len;
  j->busy = true; /* on_index may run before the call returns: j is not touched after it */
  if (!rc)
    rc = qr_git_index_snapshot(j->lr->srv->loop, j->root, parsed, QR_REVIEW_MAX_FILE_BYTES,
                               on_index, j, &e);
  qr_diff_free(parsed);
  if (rc) job_fail(j, QR_RPC_INTERNAL_ERROR, "%s", e.msg);
}

/* Git steps: for a document, REV_PARSE → LS_FILES → DIFF; for changes REV_PARSE → DIFF; for a
 * request without a diff, DIFF only. */
enum { GIT_REV_PARSE, GIT_LS_FILES, GIT_DIFF };

static void git_step(job *j, int step);

static void on_git(int status, const char *out, size_t len, const char *message, void *data) {
  job *j = data;
  j->busy = false;
  if (j->canceled || j->lr->closing) return job_fail(j, QR_RPC_REQUEST_CANCELLED, "canceled");
  switch (j->git_step) {
  case GIT_REV_PARSE:
    if (status && j->kind == JOB_DOC) { /* outside a repository: the whole file, from its folder */
      j->root = qr_strdup(j->dir);
      return j->root ? job_review_whole(j) : job_fail(j, QR_RPC_INTERNAL_ERROR, "out of memory");
    }
    if (status) return job_fail(j, QR_RPC_REQUEST_FAILED, "not in a git repository: %s", j->dir);
    j->root = qr_strndup(out, strcspn(out, "\r\n"));
    if (j->kind == JOB_CHANGES) return git_step(j, GIT_DIFF);
    {
      char *path = qr_workspace_uri_to_path(j->uri);
      qr_free(j->rel);
      bool inside = path && qr_workspace_abs_confined(j->root, path, &j->rel);
      qr_free(path);
      if (!inside) return job_fail(j, QR_RPC_REQUEST_FAILED, "%s is not inside %s", j->uri, j->root);
    }
    return git_step(j, GIT_LS_FILES);
  case GIT_LS_FILES:
    if (!status && !len) return job_review_whole(j); /* untracked */
    return git_step(j, GIT_DIFF);
  default:
    if (status == QR_E_NOTFOUND && j->kind == JOB_DOC) return job_review_whole(j); /* not in HEAD */
    if (status) return job_fail(j, QR_RPC_REQUEST_FAILED, "git diff failed: %s", message);
    if (!len && j->kind == JOB_DOC) { /* unchanged since HEAD: nothing to say about it */
      file_state *f = file_get(j->lr, j->uri);
      qr_document *d = qr_docs_get(j->lr->srv->docs, j->uri);
      if (f && d) {
        json_t *empty = json_pack("{s:[],s:[]}", "findings", "passes");
        if (empty) deliver_file(j->lr, f, j->root, j->rel, empty, d->version, NULL, 0);
        json_decref(empty);
      }
      j->busy = false;
      return job_finish(j);
    }
    if (j->kind == JOB_DOC) return job_review_buffer(j, out, len);
    return j->staged ? job_review_staged(j, out, len) : job_review(j, out, len);
  }
}

/* Runs the git command of `step`. A document's diff is its buffer — saved or not — against
 * HEAD (qr_git_buffer_hunks); other diffs are the whole change (qr_git_change_diff: tracked
 * changes plus untracked files, as the CLI reviews them). */
static void git_step(job *j, int step) {
  const char *const rev_parse[] = {"rev-parse", "--show-toplevel", NULL};
  const char *const ls_files[] = {"ls-files", "--", j->rel, NULL};
  uv_loop_t *loop = j->lr->srv->loop;
  j->git_step = step;
  qr_err e = {0};
  int rc;
  if (step == GIT_DIFF && j->kind == JOB_DOC) {
    if (!take_text(j)) return job_fail(j, QR_RPC_REQUEST_FAILED, "the document changed or was closed");
    rc = qr_git_buffer_hunks(loop, j->root, j->rel, j->text, j->text_len,
                             QR_LSP_REVIEW_MAX_DIFF, on_git, j, &e);
  } else if (step == GIT_DIFF) {
    rc = qr_git_change_diff(loop, j->root, j->staged, j->base, QR_LSP_REVIEW_MAX_DIFF, on_git, j, &e);
  } else {
    rc = qr_git_run(loop, step == GIT_REV_PARSE ? j->dir : j->root,
                    step == GIT_REV_PARSE ? rev_parse : ls_files, MAX_GIT_SMALL, false, on_git, j, &e);
  }
  j->busy = !rc;
  if (rc) job_fail(j, QR_RPC_REQUEST_FAILED, "cannot run git: %s", e.msg);
}

/* ---- document reviews ----------------------------------------------------------------------------- */

static void cancel_doc_jobs(qr_lsp_review *lr, const char *uri) {
  for (job *j = lr->jobs; j; j = j->next) {
    if (j->kind != JOB_DOC || j->canceled || strcmp(j->uri, uri)) continue;
    j->canceled = true;
    if (j->review) qr_review_cancel(j->review); /* its done callback still runs */
  }
}

int qr_lsp_review_document(qr_lsp_review *lr, const char *uri) {
  qr_document *d = qr_docs_get(lr->srv->docs, uri);
  if (!d || lr->shut_down) return QR_E_NOTFOUND;
  cancel_doc_jobs(lr, uri);
  char *path = qr_workspace_uri_to_path(uri);
  char *slash = path ? strrchr(path, '/') : NULL;
  job *j = slash ? job_new(lr, JOB_DOC) : NULL;
  if (!j) {
    qr_free(path);
    return path ? QR_E_INVAL : QR_E_NOMEM;
  }
  j->version = d->version;
  j->uri = qr_strdup(uri);
  j->dir = qr_strndup(path, slash == path ? 1 : (size_t)(slash - path));
  j->rel = qr_strdup(slash + 1); /* replaced by the repository-relative path when there is one */
  qr_free(path);
  if (!j->uri || !j->dir || !j->rel) {
    job_fail(j, QR_RPC_INTERNAL_ERROR, "out of memory");
    return QR_E_NOMEM;
  }
  git_step(j, GIT_REV_PARSE);
  return 0;
}

static void on_debounce(uv_timer_t *t) {
  file_state *f = t->data;
  qr_lsp_review_document(f->lr, f->uri);
}

static void on_did_save(qr_lsp_review *lr, const char *uri) {
  if (lr->manual || !qr_docs_get(lr->srv->docs, uri)) return;
  file_state *f = file_get(lr, uri);
  if (f) uv_timer_start(&f->timer, on_debounce, (uint64_t)lr->debounce_ms, 0);
}

static bool has_full_change(const json_t *changes) {
  const json_t *ch;
  size_t i;
  json_array_foreach(changes, i, ch) if (!json_object_get(ch, "range")) return true;
  return false;
}

/* Moves f's findings across the contentChanges just applied to its document, and republishes
 * them for the new version when one moved or went. Incremental changes are followed one by one
 * (each range is in the text the previous ones left); a notification with a full-text change
 * is compared as a whole with the text the findings were on — without that text, or with a
 * change that cannot be read, the findings are dropped rather than shown in the wrong place. */
static void move_findings(qr_lsp_review *lr, file_state *f, const json_t *changes) {
  qr_document *d = qr_docs_get(lr->srv->docs, f->uri);
  size_t before = json_array_size(f->findings);
  if (!d || !before) return;
  int changed = 0;
  qr_line_edit e;
  const json_t *ch;
  size_t i;
  if (has_full_change(changes)) {
    if (f->text && !qr_diagnostics_text_edit(f->text, f->len, d->text, d->len, &e))
      changed = qr_diagnostics_move(f->findings, &e);
    else
      json_array_clear(f->findings);
  } else {
    json_array_foreach(changes, i, ch) {
      if (!qr_diagnostics_change_edit(ch, &e)) {
        json_array_clear(f->findings);
        break;
      }
      changed += qr_diagnostics_move(f->findings, &e);
    }
  }
  if (f->version >= 0) f->version = d->version; /* findings of a changes review stay unversioned */
  remember_text(lr, f);
  if (changed || json_array_size(f->findings) != before) qr_lsp_publish(lr, f);
}

/* An edit stops a pending save review (it would be for an older text); a review already
 * running goes on, its result carried onto the new text when it lands (a paid review is never
 * thrown away), and the findings already shown follow the edit. */
static void on_did_change(qr_lsp_review *lr, const char *uri, const json_t *params) {
  file_state *f = qr_lsp_file_find(lr, uri);
  if (!f) return;
  uv_timer_stop(&f->timer);
  move_findings(lr, f, json_object_get(params, "contentChanges"));
}

/* ---- changes reviews (quorum.reviewChanges / reviewStaged) ---------------------------------------- */

/* The directory a changes review starts from: the argument's root or URI, else the cwd. */
static char *changes_dir(json_t *arg) {
  const char *root = json_string_value(json_object_get(arg, "root"));
  const char *uri = json_is_string(arg) ? json_string_value(arg)
                                        : json_string_value(json_object_get(arg, "uri"));
  if (root) return root[0] == '/' ? qr_strdup(root) : NULL;
  if (uri) {
    char *p = qr_workspace_uri_to_path(uri), *slash = p ? strrchr(p, '/') : NULL;
    if (slash) slash[slash == p] = '\0'; /* the file's folder ("/" stays "/") */
    return p;
  }
  char *cwd = getcwd(NULL, 0), *copy = qr_strdup(cwd);
  free(cwd); /* getcwd allocates with malloc */
  return copy;
}

int qr_lsp_review_changes(qr_lsp_review *lr, json_t *arg, bool staged) {
  job *j = job_new(lr, JOB_CHANGES);
  if (!j || !(j->dir = changes_dir(arg))) {
    if (j) job_free(j);
    return QR_E_INVAL;
  }
  j->staged = staged;
  git_step(j, GIT_REV_PARSE);
  return 0;
}

/* ---- quorum/review --------------------------------------------------------------------------------- */

static void on_request_cancel(qr_rpc_request *req, void *data) {
  job *j = data;
  j->canceled = true;
  if (j->review) qr_review_cancel(j->review); /* else the git step ends the job */
}

static void on_quorum_review(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_lsp_review *lr = data;
  const char *root = json_string_value(json_object_get(params, "root"));
  json_t *diff = json_object_get(params, "diff"), *base = json_object_get(params, "base");
  if (!root || root[0] != '/' || (diff && !json_is_string(diff)) ||
      (base && !json_is_string(base))) {
    qr_rpc_reply_error(req, QR_RPC_INVALID_PARAMS,
                       "quorum/review needs {root: absolute path, diff?: string, base?: string, "
                       "staged?: bool}",
                       NULL);
    return;
  }
  job *j = job_new(lr, JOB_REQUEST);
  if (!j || !(j->root = qr_strdup(root)) || (base && !(j->base = qr_strdup(json_string_value(base))))) {
    if (j) job_free(j);
    qr_rpc_reply_error(req, QR_RPC_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  j->req = req;
  j->staged = json_is_true(json_object_get(params, "staged"));
  qr_rpc_request_on_cancel(req, on_request_cancel, j);
  if (diff)
    job_review(j, json_string_value(diff), json_string_length(diff));
  else
    git_step(j, GIT_DIFF);
}

/* ---- quorum/ledger: {since?, by?} → the records or sums `quorum ledger --json` prints ---------- */

static void on_quorum_ledger(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  json_t *since = json_object_get(params, "since"), *by = json_object_get(params, "by");
  if ((since && !json_is_string(since)) || (by && !json_is_string(by))) {
    qr_rpc_reply_error(req, QR_RPC_INVALID_PARAMS,
                       "quorum/ledger takes {since?: \"YYYY-MM-DD\", by?: \"model\"|\"day\"|\"role\"}",
                       NULL);
    return;
  }
  json_t *out = NULL;
  qr_err e = {0};
  int rc = qr_ledger_query(NULL, json_string_value(since), json_string_value(by), &out, NULL, &e);
  if (rc)
    qr_rpc_reply_error(req, rc == QR_E_INVAL ? QR_RPC_INVALID_PARAMS : QR_RPC_INTERNAL_ERROR, e.msg,
                       NULL);
  else
    qr_rpc_reply(req, out);
}

/* ---- pull diagnostics ------------------------------------------------------------------------------- */

static void on_pull_diagnostics(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_lsp_review *lr = data;
  const char *uri = qr_lsp_uri_param(params);
  file_state *f = uri ? qr_lsp_file_find(lr, uri) : NULL;
  json_t *items = f && f->diagnostics ? json_incref(f->diagnostics) : json_array();
  qr_rpc_reply(req, json_pack("{s:s,s:o}", "kind", "full", "items", items));
}

/* ---- configuration ---------------------------------------------------------------------------------- */

static void load_config(qr_lsp_review *lr) {
  const char *path = lr->ws_config ? lr->ws_config : lr->flag_config;
  qr_config *c = NULL;
  qr_err e = {0};
  cfg_ref *ref = NULL;
  int rc = qr_config_load(path, &c, &e);
  if (!rc && !(ref = qr_calloc(1, sizeof *ref))) rc = qr_err_set(&e, QR_E_NOMEM, "out of memory");
  if (rc) {
    qr_config_free(c);
    qr_lsp_show(lr, MSG_ERROR, "quorum: configuration not loaded: %s",
                e.msg[0] ? e.msg : qr_strerror(rc));
    return;
  }
  ref->c = c;
  ref->refs = 1;
  ref->from_workspace = lr->ws_config != NULL;
  cfg_release(lr->cfg);
  lr->cfg = ref;
  /* Said only when a review is asked for (the engine refuses a plan without passes), so a
   * client that never reviews is not nagged at startup. */
  if (!c->n_passes) QR_INFO("lsp_review: the configuration has no review passes");
}

/* configFile is resolved now (see qr_workspace_config_path) so that job_review's
 * inside-the-workspace check cannot be dodged by a relative, ".." or symlinked path; a refused
 * one is said and the user configuration ($QUORUM_CONFIG / the user file) is used instead. */
static void set_config_file(qr_lsp_review *lr, const char *setting) {
  qr_err e = {0};
  char *real = *setting ? qr_workspace_config_path(setting, &e) : NULL;
  if (real && qr_lsp_config_check(lr, real, NULL, &e)) {
    qr_free(real);
    real = NULL;
  }
  if (*setting && !real)
    qr_lsp_show(lr, MSG_ERROR, "quorum: configuration file refused (%s); using the user configuration",
                e.msg[0] ? e.msg : qr_strerror(e.code));
  qr_free(lr->ws_config);
  lr->ws_config = real;
}

/* Settings from initializationOptions, workspace/configuration or didChangeConfiguration:
 * {configFile?, trigger?: "onSave"|"manual", debounceMs?}. */
static void apply_settings(qr_lsp_review *lr, json_t *s) {
  if (!json_is_object(s)) return;
  json_t *file = json_object_get(s, "configFile"), *trig = json_object_get(s, "trigger");
  json_t *deb = json_object_get(s, "debounceMs");
  if (json_is_string(file)) set_config_file(lr, json_string_value(file));
  if (json_is_string(trig)) lr->manual = !strcmp(json_string_value(trig), "manual");
  if (json_is_integer(deb) && json_integer_value(deb) >= 0 &&
      json_integer_value(deb) <= MAX_DEBOUNCE_MS)
    lr->debounce_ms = (int)json_integer_value(deb);
}

static void on_configuration(qr_rpc *rpc, json_t *result, json_t *error, void *data) {
  qr_lsp_review *lr = data;
  if (lr->closing) return;
  if (!error) apply_settings(lr, json_array_get(result, 0));
  load_config(lr);
}

/* Asks the client for section "quorum" when it can answer, then (re)loads the configuration. */
static void refresh_config(qr_lsp_review *lr) {
  if (json_is_true(qr_lsp_cap(lr, "workspace", "configuration", NULL)) &&
      !qr_rpc_call(lr->srv->rpc, "workspace/configuration",
                   json_pack("{s:[{s:s}]}", "items", "section", "quorum"), on_configuration, lr))
    return;
  load_config(lr);
}

static void on_initialized(qr_lsp_review *lr) {
  qr_rpc *rpc = qr_server_rpc(lr->srv);
  apply_settings(lr, lr->srv->init_options);
  /* Pull diagnostics exist only for clients that ask for them (registered dynamically, since the
   * capabilities were sent before the client's were known to this module). */
  if (json_is_true(json_object_get(qr_lsp_cap(lr, "textDocument", "diagnostic", NULL),
                                   "dynamicRegistration")))
    qr_rpc_call(rpc, "client/registerCapability",
                json_pack("{s:[{s:s,s:s,s:{s:n,s:b,s:b}}]}", "registrations", "id",
                          "quorum-diagnostics", "method", "textDocument/diagnostic",
                          "registerOptions", "documentSelector", "interFileDependencies", 0,
                          "workspaceDiagnostics", 0),
                NULL, NULL);
  refresh_config(lr);
}

static void on_did_change_configuration(qr_rpc *rpc, json_t *params, void *data) {
  qr_lsp_review *lr = data;
  apply_settings(lr, json_object_get(json_object_get(params, "settings"), "quorum"));
  refresh_config(lr);
}

/* `shutdown`: every review is canceled and its request answered now, before the shutdown
 * reply; nothing is published or started afterwards. */
static void on_shutdown(qr_lsp_review *lr) {
  lr->shut_down = true;
  for (job *j = lr->jobs; j; j = j->next) {
    j->canceled = true;
    if (j->req) {
      qr_rpc_request_on_cancel(j->req, NULL, NULL);
      qr_rpc_reply_error(j->req, QR_RPC_REQUEST_CANCELLED, "the server is shutting down", NULL);
      j->req = NULL;
    }
    if (j->review) qr_review_cancel(j->review);
  }
  for (file_state *f = lr->files; f; f = f->next) uv_timer_stop(&f->timer);
}

static void on_server_event(qr_server *s, qr_server_event ev, const char *uri, int version,
                            const json_t *params, void *data) {
  qr_lsp_review *lr = data;
  switch (ev) {
  case QR_SERVER_INITIALIZED: on_initialized(lr); break;
  case QR_SERVER_DID_SAVE: on_did_save(lr, uri); break;
  case QR_SERVER_DID_CHANGE: on_did_change(lr, uri, params); break;
  case QR_SERVER_DID_CLOSE: /* its reviews end: their paid calls stop, their results go */
    cancel_doc_jobs(lr, uri);
    /* fall through */
  case QR_SERVER_DID_OPEN: { /* the text kept for full-text changes follows the buffer */
    file_state *f = qr_lsp_file_find(lr, uri);
    if (f) uv_timer_stop(&f->timer);
    if (f) remember_text(lr, f);
    break;
  }
  case QR_SERVER_SHUTDOWN: on_shutdown(lr); break;
  case QR_SERVER_DRAINED:
    for (file_state *f = lr->files; f && !qr_server_output_busy(s); f = f->next)
      if (f->held) qr_lsp_publish(lr, f);
    break;
  }
}

/* ---- the module ----------------------------------------------------------------------------------- */

static int register_handlers(qr_lsp_review *lr) {
  static const struct {
    const char *method;
    qr_rpc_method_cb cb;
  } reqs[] = {{"quorum/review", on_quorum_review},
              {"quorum/ledger", on_quorum_ledger},
              {"textDocument/diagnostic", on_pull_diagnostics}};
  static const struct {
    const char *method;
    qr_rpc_notify_cb cb;
  } notes[] = {{"workspace/didChangeConfiguration", on_did_change_configuration},
               {"workspace/didChangeWorkspaceFolders", qr_lsp_on_folders}};
  qr_rpc *rpc = qr_server_rpc(lr->srv);
  int rc = 0;
  for (size_t i = 0; !rc && i < QR_ARRAY_LEN(reqs); i++)
    rc = qr_rpc_on_request(rpc, reqs[i].method, reqs[i].cb, lr);
  for (size_t i = 0; !rc && i < QR_ARRAY_LEN(notes); i++)
    rc = qr_rpc_on_notification(rpc, notes[i].method, notes[i].cb, lr);
  if (!rc) qr_server_listen(lr->srv, on_server_event, lr);
  return rc;
}

int qr_lsp_review_new(qr_server *s, const qr_lsp_review_options *o, qr_lsp_review **out,
                      qr_err *e) {
  qr_lsp_review *lr = qr_calloc(1, sizeof *lr);
  if (!lr) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  lr->srv = s;
  lr->debounce_ms = QR_LSP_REVIEW_DEFAULT_DEBOUNCE_MS;
  int rc = o && o->config_path && !(lr->flag_config = qr_strdup(o->config_path)) ? QR_E_NOMEM : 0;
  if (!rc) rc = qr_lsp_folders_init(lr);
  if (!rc) rc = qr_http_new(s->loop, &lr->http, e);
  if (!rc) rc = register_handlers(lr);
  if (rc) {
    if (!e || !e->code) qr_err_set(e, rc, "cannot set up reviews: %s", qr_strerror(rc));
    lr->closing = true;
    maybe_free(lr);
    return rc;
  }
  *out = lr;
  return 0;
}

void qr_lsp_review_close(qr_lsp_review *lr) {
  if (!lr) return;
  qr_server_listen(lr->srv, NULL, NULL);
  lr->closing = true;
  lr->live++; /* held until the end so that freeing a job cannot free lr under this loop */
  for (job *j = lr->jobs; j; j = j->next) {
    j->req = NULL;             /* the dispatcher frees unanswered requests */
    j->create_pending = false; /* and drops pending calls without calling back */
    j->canceled = true;
    if (j->review) qr_review_cancel(j->review);
  }
  /* Jobs no longer waiting on anything can go now; the rest go from their callbacks. */
  for (job *j = lr->jobs, *next; j; j = next) {
    next = j->next;
    if (!j->busy) job_free(j);
  }
  for (file_state *f = lr->files; f; f = f->next) uv_close((uv_handle_t *)&f->timer, on_file_closed);
  lr->files = NULL;
  lr->live--;
  maybe_free(lr);
}
