/* lsp_actions.c — what the editor can do with published findings: textDocument/codeAction
 * (the fix as a quickfix, Dismiss, Explain), codeAction/resolve (the fix's edit computed when
 * chosen), and workspace/executeCommand (quorum.reviewFile, reviewChanges, reviewStaged,
 * dismiss, explain, clear). The findings come from the file states lsp_review.c keeps; the
 * structs are in lsp_review_internal.h. */
#include "lsp/lsp_actions.h"

#include <string.h>

#include "lsp/lsp_diagnostics.h"
#include "lsp/lsp_review_internal.h"
#include "lsp/lsp_workspace.h"

static const char *const commands[] = {"quorum.reviewFile", "quorum.reviewChanges",
                                       "quorum.reviewStaged", "quorum.dismiss", "quorum.clear",
                                       "quorum.explain"};

/* ---- code actions ---------------------------------------------------------------------------------- */

static const char *str_or(json_t *v, const char *dflt) {
  return json_is_string(v) ? json_string_value(v) : dflt;
}

static json_t *find_finding(file_state *f, const char *fp) {
  json_t *fi;
  size_t i;
  json_array_foreach(f ? f->findings : NULL, i, fi) {
    const char *x = json_string_value(json_object_get(fi, "fingerprint"));
    if (x && fp && !strcmp(x, fp)) return fi;
  }
  return NULL;
}

static bool client_resolves_edits(qr_lsp_review *lr) {
  json_t *props = json_object_get(qr_lsp_cap(lr, "textDocument", "codeAction", "resolveSupport"),
                                  "properties"), *p;
  size_t i;
  json_array_foreach(props, i, p) if (json_is_string(p) && !strcmp(json_string_value(p), "edit"))
      return true;
  return false;
}

/* The WorkspaceEdit applying finding fi's fix to the open document f, or NULL when the
 * document moved on since the review or the file is not inside its workspace. New reference. */
static json_t *fix_edit(qr_lsp_review *lr, file_state *f, json_t *fi) {
  qr_document *d = qr_docs_get(lr->srv->docs, f->uri);
  json_t *fix = json_object_get(fi, "fix");
  if (!d || !fix || d->version != f->version || !f->root) return NULL;
  char *path = qr_workspace_uri_to_path(f->uri);
  bool inside = path && qr_workspace_abs_confined(f->root, path, NULL);
  qr_free(path);
  json_t *edit = inside ? qr_diagnostics_fix_edit(fix, d->text, d->len, lr->srv->encoding) : NULL;
  return edit ? json_pack("{s:{s:[o]}}", "changes", f->uri, edit) : NULL;
}

static bool kind_wanted(json_t *only, const char *kind) {
  json_t *k;
  size_t i;
  if (!json_is_array(only)) return true;
  json_array_foreach(only, i, k) {
    const char *s = json_string_value(k);
    if (s && !strncmp(kind, s, strlen(s))) return true;
  }
  return false;
}

static void add_actions(qr_lsp_review *lr, file_state *f, json_t *fi, json_t *diag, json_t *only,
                        json_t *out) {
  const char *msg = json_string_value(json_object_get(fi, "message"));
  const char *fp = json_string_value(json_object_get(fi, "fingerprint"));
  double conf = json_number_value(json_object_get(fi, "confidence"));
  if (!msg || !fp) return;
  char *title = qr_asprintf("quorum: fix — %s", msg);
  json_t *edit = kind_wanted(only, "quickfix") ? fix_edit(lr, f, fi) : NULL;
  if (title && edit) {
    json_t *a = json_pack("{s:s,s:s,s:[O],s:b}", "title", title, "kind", "quickfix", "diagnostics",
                          diag, "isPreferred", conf >= QR_DIAGNOSTICS_HIGH_CONFIDENCE);
    if (a && client_resolves_edits(lr)) { /* the edit is computed again on resolve */
      json_object_set_new(a, "data", json_pack("{s:s,s:s}", "uri", f->uri, "fingerprint", fp));
      json_decref(edit);
    } else if (a) {
      json_object_set_new(a, "edit", edit);
    } else {
      json_decref(edit);
    }
    json_array_append_new(out, a);
  } else {
    json_decref(edit);
  }
  qr_free(title);
  if (json_is_array(only)) return; /* Dismiss and Explain have no kind a filter could ask for */
  static const struct { const char *label, *command; } extra[] = {
      {"Dismiss", "quorum.dismiss"}, {"Explain", "quorum.explain"}};
  for (size_t i = 0; i < QR_ARRAY_LEN(extra); i++) {
    char *t = qr_asprintf("quorum: %s — %s", extra[i].label, msg);
    if (t)
      json_array_append_new(out, json_pack("{s:s,s:[O],s:{s:s,s:s,s:[s,s]}}", "title", t,
                                           "diagnostics", diag, "command", "title", t, "command",
                                           extra[i].command, "arguments", f->uri, fp));
    qr_free(t);
  }
}

static void on_code_action(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_lsp_review *lr = data;
  const char *uri = qr_lsp_uri_param(params);
  json_t *range = json_object_get(params, "range");
  json_t *only = json_object_get(json_object_get(params, "context"), "only");
  file_state *f = uri ? qr_lsp_file_find(lr, uri) : NULL;
  json_t *out = json_array(), *d;
  size_t i;
  if (!out) return (void)qr_rpc_reply_error(req, QR_RPC_INTERNAL_ERROR, "out of memory", NULL);
  int a0 = (int)json_integer_value(json_object_get(json_object_get(range, "start"), "line"));
  int a1 = (int)json_integer_value(json_object_get(json_object_get(range, "end"), "line"));
  json_array_foreach(f ? f->diagnostics : NULL, i, d) {
    const char *fp = json_string_value(json_object_get(json_object_get(d, "data"), "fingerprint"));
    json_t *fi = find_finding(f, fp);
    if (fi && qr_diagnostics_range_hits(json_object_get(d, "range"), a0, a1))
      add_actions(lr, f, fi, d, only, out);
  }
  qr_rpc_reply(req, out);
}

static void on_code_action_resolve(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_lsp_review *lr = data;
  json_t *d = json_object_get(params, "data");
  const char *uri = json_string_value(json_object_get(d, "uri"));
  file_state *f = uri ? qr_lsp_file_find(lr, uri) : NULL;
  json_t *fi = find_finding(f, json_string_value(json_object_get(d, "fingerprint")));
  json_t *edit = fi ? fix_edit(lr, f, fi) : NULL;
  if (!edit) {
    qr_rpc_reply_error(req, QR_RPC_CONTENT_MODIFIED, "the document changed since the review", NULL);
    return;
  }
  json_t *action = json_deep_copy(params);
  if (action && !json_object_set_new(action, "edit", edit))
    qr_rpc_reply(req, action);
  else
    qr_rpc_reply_error(req, QR_RPC_INTERNAL_ERROR, "out of memory", NULL);
}

/* ---- commands --------------------------------------------------------------------------------------- */

/* "Explain": the merged message, then each source — with its own message when the result has one. */
static char *explain(file_state *f, json_t *fi) {
  qr_buf b;
  qr_buf_init(&b, 64 << 10);
  json_t *sources = json_object_get(fi, "sources"), *s;
  size_t i;
  int rc = qr_buf_printf(&b, "%s [%s, %d/%d passes, confidence %.2f]",
                         str_or(json_object_get(fi, "message"), ""),
                         str_or(json_object_get(fi, "category"), ""),
                         (int)json_integer_value(json_object_get(fi, "votes")),
                         (int)json_integer_value(json_object_get(fi, "seen")),
                         json_number_value(json_object_get(fi, "confidence")));
  json_array_foreach(sources, i, s) {
    const char *m = json_string_value(json_object_get(s, "message"));
    if (!rc)
      rc = qr_buf_printf(&b, "\n- %s (%s)%s%s",
                         str_or(json_object_get(s, "model"), "?"),
                         str_or(json_object_get(s, "strategy"), "?"), m ? ": " : "",
                         m ? m : "");
  }
  char *out = rc ? NULL : qr_buf_detach(&b, NULL);
  qr_buf_free(&b);
  return out;
}

static void on_execute(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_lsp_review *lr = data;
  const char *cmd = json_string_value(json_object_get(params, "command"));
  json_t *args = json_object_get(params, "arguments"), *a0 = json_array_get(args, 0);
  const char *uri = json_is_string(a0) ? json_string_value(a0)
                                       : json_string_value(json_object_get(a0, "uri"));
  const char *fp = json_string_value(json_array_get(args, 1));
  file_state *f = uri ? qr_lsp_file_find(lr, uri) : NULL;
  if (!cmd) return (void)qr_rpc_reply_error(req, QR_RPC_INVALID_PARAMS, "no command", NULL);
  if (!strcmp(cmd, "quorum.reviewFile")) {
    if (!uri || qr_lsp_review_document(lr, uri))
      return (void)qr_rpc_reply_error(req, QR_RPC_INVALID_PARAMS, "needs an open document URI",
                                      NULL);
  } else if (!strcmp(cmd, "quorum.reviewChanges") || !strcmp(cmd, "quorum.reviewStaged")) {
    if (qr_lsp_review_changes(lr, a0, !strcmp(cmd, "quorum.reviewStaged")))
      return (void)qr_rpc_reply_error(req, QR_RPC_INVALID_PARAMS, "no folder to review", NULL);
  } else if (!strcmp(cmd, "quorum.dismiss") || !strcmp(cmd, "quorum.explain")) {
    json_t *fi = find_finding(f, fp);
    if (!fi)
      return (void)qr_rpc_reply_error(req, QR_RPC_INVALID_PARAMS, "unknown finding", NULL);
    if (!strcmp(cmd, "quorum.explain")) {
      char *text = explain(f, fi);
      if (text) qr_lsp_show(lr, MSG_INFO, "%s", text);
      qr_rpc_reply(req, text ? json_string(text) : NULL);
      qr_free(text);
      return;
    }
    qr_err e = {0};
    if (!f->root || qr_workspace_dismiss(f->root, fp, &e))
      return (void)qr_rpc_reply_error(req, QR_RPC_REQUEST_FAILED,
                                      e.msg[0] ? e.msg : "no workspace", NULL);
    qr_lsp_publish(lr, f);
  } else if (!strcmp(cmd, "quorum.clear")) {
    for (file_state *x = lr->files; x; x = x->next) {
      qr_lsp_file_forget(x);
      x->findings = json_array();
      qr_lsp_publish(lr, x);
    }
  } else {
    return (void)qr_rpc_reply_error(req, QR_RPC_INVALID_PARAMS, "unknown command", NULL);
  }
  qr_rpc_reply(req, NULL);
}

/* ---- capabilities --------------------------------------------------------------------------------- */

static int add_capabilities(qr_server *s) {
  json_t *cmds = json_array();
  for (size_t i = 0; cmds && i < QR_ARRAY_LEN(commands); i++)
    json_array_append_new(cmds, json_string(commands[i]));
  json_t *ca = json_pack("{s:[s],s:b}", "codeActionKinds", "quickfix", "resolveProvider", 1);
  json_t *ec = cmds ? json_pack("{s:o}", "commands", cmds) : NULL;
  int rc = ca && ec ? 0 : QR_E_NOMEM;
  if (!rc) rc = json_object_set_new(s->capabilities, "codeActionProvider", ca) ? QR_E_NOMEM : 0;
  else json_decref(ca);
  if (!rc) rc = json_object_set_new(s->capabilities, "executeCommandProvider", ec) ? QR_E_NOMEM : 0;
  else json_decref(ec);
  return rc;
}

int qr_lsp_actions_register(qr_lsp_review *lr) {
  qr_rpc *rpc = qr_server_rpc(lr->srv);
  int rc = add_capabilities(lr->srv);
  if (!rc) rc = qr_rpc_on_request(rpc, "textDocument/codeAction", on_code_action, lr);
  if (!rc) rc = qr_rpc_on_request(rpc, "codeAction/resolve", on_code_action_resolve, lr);
  if (!rc) rc = qr_rpc_on_request(rpc, "workspace/executeCommand", on_execute, lr);
  return rc;
}
