/* tools_cache.c — analyzer outputs in the pass cache (tools_cache.h). An entry's text is a JSON
 * array of findings: {file, start_line, end_line, severity, category, message, rule}. */
#include "local/tools_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "log.h"

#define MAX_FILE_BYTES (64u << 20) /* what the snapshot reads at most, and more */
#define FORMAT "tools-cache/1"     /* changes when what is kept changes */

/* Adds the configuration file at path (when there is one) to argv under the name `name`. */
static bool add_config(qr_buf *argv, const char *name, const char *path) {
  char *text = NULL;
  size_t len = 0;
  bool ok = true;
  if (path && !qr_read_file(path, MAX_FILE_BYTES, &text, &len, NULL))
    ok = !qr_buf_printf(argv, "\x1f%s=", name) && !qr_buf_append(argv, text, len);
  qr_free(text);
  return ok;
}

/* The configuration files on file's path: <dir>/.shellcheckrc for each folder from root down. */
static bool add_configs(qr_buf *argv, const char *root, const char *file) {
  bool ok = true;
  for (const char *end = file; ok && end; end = strchr(end, '/')) {
    if (*end == '/') end++;
    char *name = qr_asprintf("%.*s%s", (int)(end - file), file, QR_TOOL_CONFIG_FILE);
    char *path = name ? qr_asprintf("%s/%s", root, name) : NULL;
    ok = path && add_config(argv, name, path);
    qr_free(path);
    qr_free(name);
  }
  return ok;
}

bool qr_tool_cache_key(const char *tool, const char *exe, const char *const *args,
                       const char *root, const char *const *files, size_t n_files,
                       char key[QR_CACHE_KEY_SIZE]) {
  struct stat st;
  if (stat(exe, &st)) return false;
  qr_buf req, argv;
  qr_buf_init(&req, (size_t)-1);
  qr_buf_init(&argv, 1u << 20);
  bool ok = !qr_buf_printf(&argv, "%s %s %lld %lld.%09ld", FORMAT, exe, (long long)st.st_size,
                           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  for (size_t i = 0; ok && args[i]; i++) ok = !qr_buf_printf(&argv, "\x1f%s", args[i]);
  for (size_t i = 0; ok && i < n_files; i++) {
    char *path = qr_asprintf("%s/%s", root, files[i]), *text = NULL;
    size_t len = 0;
    ok = path && !qr_read_file(path, MAX_FILE_BYTES, &text, &len, NULL) &&
         !qr_buf_printf(&req, "%s%c%zu%c", files[i], 0, len, 0) && !qr_buf_append(&req, text, len);
    qr_free(text);
    qr_free(path);
  }
  for (size_t i = 0; ok && i < n_files; i++) ok = add_configs(&argv, root, files[i]);
  const char *home = getenv("HOME");
  char *user = home && *home ? qr_asprintf("%s/" QR_TOOL_CONFIG_FILE, home) : NULL;
  ok = ok && add_config(&argv, "~/" QR_TOOL_CONFIG_FILE, user);
  qr_free(user);
  if (ok) {
    char *tool_id = qr_asprintf("tool:%s", tool);
    ok = tool_id != NULL;
    if (ok) qr_cache_key(tool_id, NULL, argv.data, req.data ? req.data : "", req.len, key);
    qr_free(tool_id);
  }
  qr_buf_free(&req);
  qr_buf_free(&argv);
  return ok;
}

/* One kept finding back into l; false when the entry is not in the expected form. */
static bool finding_from_json(json_t *o, const char *model, qr_finding_list *l) {
  qr_finding f = {0};
  const char *file = json_string_value(json_object_get(o, "file"));
  const char *cat = json_string_value(json_object_get(o, "category"));
  const char *msg = json_string_value(json_object_get(o, "message"));
  const char *rule = json_string_value(json_object_get(o, "rule"));
  f.start_line = (int)json_integer_value(json_object_get(o, "start_line"));
  f.end_line = (int)json_integer_value(json_object_get(o, "end_line"));
  f.severity = qr_severity_parse(json_string_value(json_object_get(o, "severity")));
  if (!file || !cat || !msg || !f.severity || f.start_line < 1 || f.end_line < f.start_line)
    return false;
  f.file = qr_strdup(file);
  f.category = qr_strdup(cat);
  f.message = qr_strdup(msg);
  f.rule = qr_strdup(rule);
  bool ok = f.file && f.category && f.message && (f.rule || !rule) &&
            !qr_finding_add_source(&f, model, "analyzer", -1) && !qr_finding_list_push(l, &f);
  qr_finding_clear(&f);
  return ok;
}

bool qr_tool_cache_get(qr_cache *c, const char *key, const char *tool, qr_finding_list *out) {
  qr_cache_entry entry = {0};
  if (!c || qr_cache_get(c, key, &entry, NULL)) return false;
  json_t *a = json_loads(entry.text, 0, NULL);
  char *model = qr_asprintf("tool:%s", tool);
  size_t before = out->n, i;
  json_t *o;
  bool ok = json_is_array(a) && model;
  json_array_foreach(a, i, o) {
    if (!ok) break;
    ok = finding_from_json(o, model, out);
  }
  while (!ok && out->n > before) qr_finding_clear(&out->items[--out->n]);
  qr_free(model);
  json_decref(a);
  qr_cache_entry_clear(&entry);
  return ok;
}

void qr_tool_cache_put(qr_cache *c, const char *key, const qr_finding_list *l) {
  if (!c) return;
  json_t *a = json_array();
  for (size_t i = 0; a && i < l->n; i++) {
    const qr_finding *f = &l->items[i];
    if (json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s*}", "file", f->file,
                                           "start_line", f->start_line, "end_line", f->end_line,
                                           "severity", qr_severity_name(f->severity), "category",
                                           f->category, "message", f->message, "rule", f->rule))) {
      json_decref(a);
      a = NULL;
    }
  }
  char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
  qr_err e = {0};
  qr_cache_entry entry = {.text = text};
  if (!text) QR_WARN("tools cache: out of memory keeping the findings");
  else if (qr_cache_put(c, key, &entry, &e)) QR_WARN("tools cache: %s", e.msg);
  free(text);
  json_decref(a);
}
