/* lsp_trust.c — whose configuration file the editor may name. The configFile setting reaches the
 * server from the client, and some clients let a repository set it (Emacs' eglot reads
 * eglot-workspace-configuration from .dir-locals.el); the file says where the API keys are
 * sent. So a client-named file is refused when it lies within the reach of any folder the
 * server works in (see qr_workspace_config_trusted): the folders are remembered here. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lsp/lsp_review_internal.h"
#include "lsp/lsp_workspace.h"

#define MAX_FOLDERS 1024 /* folders added by the client; past this every client config is refused */

int qr_lsp_folders_init(qr_lsp_review *lr) {
  json_t *ws = json_pack("{s:{s:b,s:b}}", "workspaceFolders", "supported", 1,
                         "changeNotifications", 1);
  lr->folders = json_array();
  if (!ws || !lr->folders || json_object_set_new(lr->srv->capabilities, "workspace", ws))
    return QR_E_NOMEM;
  return 0;
}

void qr_lsp_on_folders(qr_rpc *rpc, json_t *params, void *data) {
  qr_lsp_review *lr = data;
  json_t *v;
  size_t i;
  json_array_foreach(json_object_get(json_object_get(params, "event"), "added"), i, v) {
    json_t *uri = json_object_get(v, "uri");
    if (json_is_string(uri) && json_array_size(lr->folders) <= MAX_FOLDERS)
      json_array_append(lr->folders, uri);
  }
}

typedef struct {
  const char *config;
  qr_err *e;
  int rc;
} check;

static void check_folder(check *c, const char *folder) {
  if (!c->rc && folder && folder[0] == '/')
    c->rc = qr_workspace_config_trusted(c->config, folder, c->e);
}

/* The folder a URI names, or for a document its parent folder. */
static void check_uri(check *c, const char *uri, bool document) {
  char *path = uri ? qr_workspace_uri_to_path(uri) : NULL;
  char *slash = path && document ? strrchr(path, '/') : NULL;
  if (slash) slash[slash == path] = '\0';
  check_folder(c, path);
  qr_free(path);
}

static void check_document(qr_document *d, void *data) { check_uri(data, d->uri, true); }

int qr_lsp_config_check(qr_lsp_review *lr, const char *config, const char *root, qr_err *e) {
  if (json_array_size(lr->folders) > MAX_FOLDERS)
    return qr_err_set(e, QR_E_INVAL, "more than %d workspace folders: the configuration file "
                                     "%s cannot be checked against them", MAX_FOLDERS, config);
  check c = {config, e, 0};
  char cwd[PATH_MAX];
  json_t *init = lr->srv->init_params, *v;
  size_t i;
  check_folder(&c, root);
  check_folder(&c, getcwd(cwd, sizeof cwd));
  check_folder(&c, json_string_value(json_object_get(init, "rootPath")));
  check_uri(&c, json_string_value(json_object_get(init, "rootUri")), false);
  json_array_foreach(json_object_get(init, "workspaceFolders"), i, v)
    check_uri(&c, json_string_value(json_object_get(v, "uri")), false);
  json_array_foreach(lr->folders, i, v) check_uri(&c, json_string_value(v), false);
  qr_docs_each(lr->srv->docs, check_document, &c);
  for (file_state *f = lr->files; f; f = f->next) check_folder(&c, f->root);
  if (c.rc) QR_WARN("lsp_trust: %s", e->msg);
  return c.rc;
}
