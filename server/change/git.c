/* git.c — one git child process: stdout and stderr pipes read into capped buffers; the
 * callback runs once the process has exited and all three handles have closed. */
#include "change/git.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 32
#define MAX_STDERR 8192

typedef struct git_run {
  uv_process_t proc;
  uv_pipe_t out, err;
  qr_buf out_buf, err_buf;
  int open_handles;
  int64_t exit_status;
  int status; /* first error seen */
  bool exit1_ok;
  qr_git_done_cb cb;
  void *data;
} git_run;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  static char chunk[65536]; /* the loop is single-threaded: one read at a time */
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(chunk, sizeof chunk);
}

static void finish_if_closed(git_run *g) {
  if (--g->open_handles > 0) return;
  if (!g->cb) { /* spawn failed: the caller got the error */
    qr_buf_free(&g->out_buf);
    qr_buf_free(&g->err_buf);
    qr_free(g);
    return;
  }
  int status = g->status;
  if (!status && g->exit_status != 0 && !(g->exit1_ok && g->exit_status == 1)) status = QR_E_IO;
  const char *msg = g->err_buf.data ? g->err_buf.data : "";
  g->cb(status, g->out_buf.data ? g->out_buf.data : "", g->out_buf.len,
        status == QR_E_TOOBIG ? "git output is larger than the cap" : msg, g->data);
  qr_buf_free(&g->out_buf);
  qr_buf_free(&g->err_buf);
  qr_free(g);
}

static void on_closed(uv_handle_t *h) { finish_if_closed(h->data); }

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  git_run *g = s->data;
  if (n > 0) {
    qr_buf *b = (uv_pipe_t *)s == &g->out ? &g->out_buf : &g->err_buf;
    int rc = qr_buf_append(b, buf->base, (size_t)n);
    if (rc && b == &g->out_buf && !g->status) g->status = rc;
    if (!rc || b == &g->err_buf) return; /* a long stderr is just cut */
  }
  if (n < 0 || g->status) uv_close((uv_handle_t *)s, on_closed);
}

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int signal) {
  git_run *g = p->data;
  g->exit_status = exit_status ? exit_status : signal;
  uv_close((uv_handle_t *)p, on_closed);
}

int qr_git_run(uv_loop_t *loop, const char *root, const char *const *args, size_t max_out,
               bool exit1_ok, qr_git_done_cb cb, void *data, qr_err *e) {
  char *argv[MAX_ARGS + 4] = {"git", "-C", (char *)root};
  size_t n = 3;
  for (size_t i = 0; args[i]; i++) {
    if (n == MAX_ARGS + 3) return qr_err_set(e, QR_E_INVAL, "too many git arguments");
    argv[n++] = (char *)args[i];
  }
  argv[n] = NULL;
  git_run *g = qr_calloc(1, sizeof *g);
  if (!g) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  qr_buf_init(&g->out_buf, max_out);
  qr_buf_init(&g->err_buf, MAX_STDERR);
  g->cb = cb;
  g->data = data;
  g->exit1_ok = exit1_ok;
  uv_pipe_init(loop, &g->out, 0);
  uv_pipe_init(loop, &g->err, 0);
  g->out.data = g->err.data = g->proc.data = g;
  uv_stdio_container_t stdio[3] = {
      {.flags = UV_IGNORE},
      {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&g->out},
      {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&g->err}};
  uv_process_options_t opts = {.file = "git", .args = argv, .exit_cb = on_exit_cb,
                               .stdio = stdio, .stdio_count = 3};
  int rc = uv_spawn(loop, &g->proc, &opts);
  if (rc) {
    /* Nothing ran: close the handles and free g from their close callbacks, without cb. */
    g->cb = NULL;
    g->open_handles = 3;
    uv_close((uv_handle_t *)&g->out, on_closed);
    uv_close((uv_handle_t *)&g->err, on_closed);
    uv_close((uv_handle_t *)&g->proc, on_closed);
    return qr_err_set(e, QR_E_IO, "cannot run git: %s", uv_strerror(rc));
  }
  g->open_handles = 3;
  uv_read_start((uv_stream_t *)&g->out, on_alloc, on_read);
  uv_read_start((uv_stream_t *)&g->err, on_alloc, on_read);
  return QR_OK;
}

/* ---- the review's change: tracked diff, then untracked files one by one ------------------ */

/* The diff's shape is quorum's, whatever the user's git config says: no colour, no external
 * diff tool (diff.external), no textconv driver (it would move the lines), a/ b/ prefixes
 * (diff.noprefix, diff.mnemonicPrefix), every path from the root (diff.relative). */
#define DIFF_FLAGS                                                                               \
  "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "--src-prefix=a/",            \
      "--dst-prefix=b/"

typedef struct change_diff {
  uv_loop_t *loop;
  char *root;
  qr_buf diff;      /* the combined diff, capped */
  char *untracked;  /* NUL-separated paths from ls-files -z; owned */
  size_t untracked_len, pos;
  int files;
  qr_git_done_cb cb;
  void *data;
} change_diff;

static void change_finish(change_diff *c, int status, const char *message) {
  c->cb(status, c->diff.data ? c->diff.data : "", c->diff.len, message, c->data);
  qr_buf_free(&c->diff);
  qr_free(c->untracked);
  qr_free(c->root);
  qr_free(c);
}

static void next_untracked(change_diff *c);

static void on_untracked_diff(int status, const char *out, size_t len, const char *message,
                              void *data) {
  change_diff *c = data;
  if (!status) status = qr_buf_append(&c->diff, out, len);
  if (status) change_finish(c, status, status == QR_E_TOOBIG ? "the change is larger than the cap" : message);
  else next_untracked(c);
}

static void next_untracked(change_diff *c) {
  while (c->pos < c->untracked_len) {
    const char *path = c->untracked + c->pos;
    c->pos += strlen(path) + 1;
    if (++c->files > QR_GIT_MAX_UNTRACKED) {
      QR_WARN("more than %d untracked files: %s and later ones are not reviewed",
              QR_GIT_MAX_UNTRACKED, path);
      break;
    }
    const char *args[] = {"diff", "--no-index", DIFF_FLAGS, "--", "/dev/null", path, NULL};
    qr_err e = {0};
    if (qr_git_run(c->loop, c->root, args, c->diff.cap - c->diff.len, true, on_untracked_diff, c, &e))
      change_finish(c, e.code, e.msg);
    return;
  }
  change_finish(c, QR_OK, "");
}

static void on_ls_files(int status, const char *out, size_t len, const char *message, void *data) {
  change_diff *c = data;
  if (status) {
    change_finish(c, status, message);
    return;
  }
  c->untracked = qr_malloc(len + 1);
  if (!c->untracked) {
    change_finish(c, QR_E_NOMEM, "out of memory");
    return;
  }
  memcpy(c->untracked, out, len);
  c->untracked[len] = '\0';
  c->untracked_len = len;
  next_untracked(c);
}

static void on_tracked_diff(int status, const char *out, size_t len, const char *message,
                            void *data) {
  change_diff *c = data;
  if (!status) status = qr_buf_append(&c->diff, out, len);
  if (status) {
    change_finish(c, status, status == QR_E_TOOBIG ? "the change is larger than the cap" : message);
    return;
  }
  static const char *const args[] = {"ls-files", "--others", "--exclude-standard", "-z", NULL};
  qr_err e = {0};
  if (qr_git_run(c->loop, c->root, args, 1 << 20, false, on_ls_files, c, &e))
    change_finish(c, e.code, e.msg);
}

int qr_git_change_diff(uv_loop_t *loop, const char *root, bool staged, const char *base,
                       size_t max_out, qr_git_done_cb cb, void *data, qr_err *e) {
  change_diff *c = qr_calloc(1, sizeof *c);
  if (!c || !(c->root = qr_strdup(root))) {
    qr_free(c);
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  c->loop = loop;
  c->cb = cb;
  c->data = data;
  qr_buf_init(&c->diff, max_out);
  const char *args[] = {"diff", DIFF_FLAGS, staged ? "--cached" : (base ? base : "HEAD"), "--", NULL};
  /* A staged review stops after the index's diff: untracked files are not part of a commit. */
  int rc = qr_git_run(loop, root, args, max_out, false, staged ? on_untracked_diff : on_tracked_diff,
                      c, e);
  if (rc) {
    qr_free(c->root);
    qr_free(c);
  }
  return rc;
}

/* ---- a staged change's new side, from the index ------------------------------------------- */

typedef struct index_read {
  uv_loop_t *loop;
  char *root;
  char *paths; /* NUL-separated reviewable paths; owned */
  size_t paths_len, pos;
  const char *current;
  size_t max_file_bytes;
  qr_snapshot *snap;
  char **omitted;
  qr_git_snapshot_cb cb;
  void *data;
} index_read;

static void index_finish(index_read *x, int status, const char *message) {
  if (status) {
    qr_snapshot_free(x->snap);
    qr_snapshot_free_omitted(x->omitted);
    x->snap = NULL;
    x->omitted = NULL;
  }
  x->cb(status, x->snap, x->omitted, message, x->data);
  qr_free(x->paths);
  qr_free(x->root);
  qr_free(x);
}

static void next_index_file(index_read *x);

static void on_index_blob(int status, const char *out, size_t len, const char *message,
                          void *data) {
  index_read *x = data;
  int rc;
  if (status == QR_E_TOOBIG) {
    rc = qr_snapshot_omit_too_big(&x->omitted, x->current, x->max_file_bytes);
  } else if (status) { /* an unmerged path has no stage 0 */
    rc = qr_snapshot_omit(&x->omitted, x->current, "not readable from the index");
  } else {
    char *text = qr_malloc(len + 1); /* the exact bytes: a NUL in them marks a binary file */
    if (text) {
      memcpy(text, out, len);
      text[len] = '\0';
    }
    rc = text ? qr_snapshot_take(x->snap, x->current, text, len, &x->omitted) : QR_E_NOMEM;
  }
  if (rc) return index_finish(x, rc, "out of memory");
  next_index_file(x);
}

static void next_index_file(index_read *x) {
  if (x->pos >= x->paths_len) return index_finish(x, QR_OK, "");
  x->current = x->paths + x->pos;
  x->pos += strlen(x->current) + 1;
  char *spec = qr_asprintf(":0:%s", x->current); /* stage 0 named: a path may hold a colon */
  const char *args[] = {"cat-file", "blob", spec, NULL};
  qr_err e = {0};
  int rc = spec ? qr_git_run(x->loop, x->root, args, x->max_file_bytes, false, on_index_blob, x, &e)
                : qr_err_set(&e, QR_E_NOMEM, "out of memory");
  qr_free(spec);
  if (rc) index_finish(x, rc, e.msg);
}

int qr_git_index_snapshot(uv_loop_t *loop, const char *root, const qr_diff *diff,
                          size_t max_file_bytes, qr_git_snapshot_cb cb, void *data, qr_err *e) {
  index_read *x = qr_calloc(1, sizeof *x);
  qr_buf paths;
  qr_buf_init(&paths, SIZE_MAX);
  int rc = x && (x->root = qr_strdup(root)) && (x->snap = qr_snapshot_new()) &&
                   (x->omitted = qr_calloc(1, sizeof(char *)))
               ? QR_OK
               : QR_E_NOMEM;
  for (size_t i = 0; !rc && i < diff->n_files; i++)
    if (qr_diff_file_reviewable(&diff->files[i]))
      rc = qr_buf_append(&paths, diff->files[i].path, strlen(diff->files[i].path) + 1);
  if (rc) {
    qr_buf_free(&paths);
    if (x) {
      qr_snapshot_free(x->snap);
      qr_snapshot_free_omitted(x->omitted);
      qr_free(x->root);
      qr_free(x);
    }
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  x->paths_len = paths.len;
  x->paths = qr_buf_detach(&paths, NULL);
  x->loop = loop;
  x->max_file_bytes = max_file_bytes;
  x->cb = cb;
  x->data = data;
  next_index_file(x);
  return QR_OK;
}

/* ---- an unsaved buffer against HEAD ----------------------------------------------------------- */

typedef struct buffer_diff {
  uv_loop_t *loop;
  char *text;       /* the buffer; owned */
  size_t len, max_out;
  char dir[64];     /* the temporary folder, "" until made */
  qr_git_done_cb cb;
  void *data;
} buffer_diff;

/* Removes the temporary files and folder, calls back, frees. */
static void buffer_finish(buffer_diff *b, int status, const char *out, size_t len,
                          const char *message) {
  if (b->dir[0]) {
    char path[96];
    snprintf(path, sizeof path, "%s/a", b->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/b", b->dir);
    unlink(path);
    rmdir(b->dir);
  }
  b->cb(status, out, len, message, b->data);
  qr_free(b->text);
  qr_free(b);
}

static void on_buffer_compared(int status, const char *out, size_t len, const char *message,
                               void *data) {
  const char *hunks = status || !len ? NULL : !strncmp(out, "@@ ", 3) ? out : strstr(out, "\n@@ ");
  if (hunks && *hunks == '\n') hunks++;
  buffer_finish(data, status, hunks ? hunks : "", hunks ? len - (size_t)(hunks - out) : 0, message);
}

/* Writes n bytes to dir/name, readable by this user only. */
static int write_private(const char *dir, const char *name, const char *text, size_t n) {
  char path[96];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(text, 1, n, f) == n;
  if (f && fclose(f)) ok = false;
  return ok ? QR_OK : QR_E_IO;
}

static void on_head_version(int status, const char *out, size_t len, const char *message,
                            void *data) {
  buffer_diff *b = data;
  if (status) return buffer_finish(b, QR_E_NOTFOUND, "", 0, message);
  const char *tmp = getenv("TMPDIR");
  snprintf(b->dir, sizeof b->dir, "%s/quorum-buffer-XXXXXX",
           tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
  if (!mkdtemp(b->dir)) { /* 0700: the buffer may hold secrets */
    b->dir[0] = '\0';
    return buffer_finish(b, QR_E_IO, "", 0, "cannot create a temporary folder");
  }
  static const char *const args[] = {"diff", "--no-index", DIFF_FLAGS, "--", "a", "b", NULL};
  qr_err e = {0};
  if (write_private(b->dir, "a", out, len) || write_private(b->dir, "b", b->text, b->len))
    return buffer_finish(b, QR_E_IO, "", 0, "cannot write a temporary file");
  if (qr_git_run(b->loop, b->dir, args, b->max_out, true, on_buffer_compared, b, &e))
    buffer_finish(b, e.code, "", 0, e.msg);
}

int qr_git_buffer_hunks(uv_loop_t *loop, const char *root, const char *rel, const char *text,
                        size_t len, size_t max_out, qr_git_done_cb cb, void *data, qr_err *e) {
  buffer_diff *b = qr_calloc(1, sizeof *b);
  char *spec = qr_asprintf("HEAD:%s", rel);
  if (!b || !spec || !(b->text = qr_malloc(len + 1))) {
    if (b) qr_free(b->text);
    qr_free(b);
    qr_free(spec);
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  memcpy(b->text, text, len);
  b->text[len] = '\0';
  *b = (buffer_diff){.loop = loop, .text = b->text, .len = len, .max_out = max_out, .cb = cb,
                     .data = data};
  const char *const args[] = {"cat-file", "--filters", spec, NULL};
  int rc = qr_git_run(loop, root, args, max_out, false, on_head_version, b, e);
  qr_free(spec);
  if (rc) {
    qr_free(b->text);
    qr_free(b);
  }
  return rc;
}
