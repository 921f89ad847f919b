/* tools.c — analyzer passes (see tools.h): the adapter table and the generic tools defined by
 * the config, spawning a tool on libuv with a scrubbed environment, a timeout and capped
 * output, and the output parsers.
 *
 * Why pyflakes for Python: it reports only likely errors (undefined names, unused imports,
 * redefinitions, syntax errors), never style, so its findings are high precision and agree
 * with models rather than drowning them; it needs no configuration; it never imports the
 * code it checks (pylint may, to infer types); and it takes milliseconds per file where
 * pylint takes seconds. flake8 would add pycodestyle's style noise on top of pyflakes. */
#include "local/tools.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "change/languages.h"
#include "local/tools_cache.h"
#include "local/tools_parse.h"
#include "log.h"

#define READ_CHUNK 65536

/* --- adapters ---------------------------------------------------------------------------- */

typedef struct adapter adapter;
/* Parses the stdout/stderr of tool `tool` into findings for `files`; appends to l. */
typedef int (*parse_fn)(const char *tool, const char *out, size_t out_len, const char *err,
                        size_t err_len, const char *const *files, size_t n_files,
                        qr_finding_list *l, qr_err *e);

struct adapter {
  const char *name;
  const char *const *exes;   /* executables tried, in order; NULL-terminated */
  const char *const *langs;  /* grammar names whose files it checks; NULL-terminated; NULL: all */
  const char *const *args;   /* arguments before the files; NULL-terminated */
  int max_ok_exit;           /* exit statuses above this mean the tool itself failed */
  parse_fn parse;
  bool noqa;                 /* honours flake8's "# noqa" comments (the tool does not) */
};

#define STRV(...) ((const char *const[]){__VA_ARGS__, NULL})


static const adapter adapters[] = {
    /* The template puts everything on one line in a fixed order; cppcheck writes to stderr and
     * exits 0 whatever it finds. */
    {"cppcheck", STRV("cppcheck"), STRV("c", "cpp"),
     STRV("--quiet", "--enable=warning,style,performance,portability", "--inline-suppr",
          "--template={file}:{line}:{column}:{severity}:{id}:{message}"),
     0, qr_tools_parse_cppcheck, false},
    /* json1 carries line ranges and codes; exit 1 means "found something". */
    {"shellcheck", STRV("shellcheck"), STRV("bash"), STRV("--format=json1"), 1, qr_tools_parse_shellcheck,
     false},
    /* Debian names it pyflakes3; exit 1 means "found something". */
    {"pyflakes", STRV("pyflakes3", "pyflakes"), STRV("python"), (const char *const[]){NULL}, 1,
     qr_tools_parse_pyflakes, true},
};

static const adapter *find_builtin(const char *name) {
  for (size_t i = 0; name && i < QR_ARRAY_LEN(adapters); i++)
    if (!strcmp(adapters[i].name, name)) return &adapters[i];
  return NULL;
}

bool qr_tool_known(const char *name) { return find_builtin(name) != NULL; }

const char *qr_tool_name(size_t i) { return i < QR_ARRAY_LEN(adapters) ? adapters[i].name : NULL; }

/* --- generic tools: process-wide definitions by name ------------------------------------- */

/* A defined tool. The registry holds one reference while it is the current definition of its
 * name, and each run one more, so a redefinition never frees a definition a run still uses. */
typedef struct generic {
  adapter a;            /* its arrays point into the owned strings below */
  const char *exe[2];   /* argv[0], NULL */
  char **argv;          /* owned, NULL-terminated */
  char **langs;         /* owned, NULL-terminated; NULL: every file */
  int refs;
  struct generic *next;
} generic;

static generic *defined; /* current definitions; the loop is single-threaded */

static void free_strv(char **v) {
  for (size_t i = 0; v && v[i]; i++) qr_free(v[i]);
  qr_free(v);
}

static void generic_release(generic *g) {
  if (!g || --g->refs > 0) return;
  qr_free((char *)g->a.name);
  free_strv(g->argv);
  free_strv(g->langs);
  qr_free(g);
}

/* A new NULL-terminated copy of v[0..n). */
static char **strv_dup(const char *const *v, size_t n) {
  char **out = qr_calloc(n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++)
    if (!(out[i] = qr_strdup(v[i]))) {
      free_strv(out);
      return NULL;
    }
  return out;
}

qr_tool_format qr_tool_format_parse(const char *s) {
  return !s ? QR_TOOL_FORMAT_NONE
       : !strcmp(s, "sarif") ? QR_TOOL_FORMAT_SARIF
       : !strcmp(s, "gcc") ? QR_TOOL_FORMAT_GCC : QR_TOOL_FORMAT_NONE;
}

int qr_tool_define(const char *name, const char *const *command, size_t n_command,
                   qr_tool_format format, const char *const *languages, size_t n_languages,
                   qr_err *e) {
  if (!name || !*name || !command || !n_command || !*command[0] ||
      (format != QR_TOOL_FORMAT_SARIF && format != QR_TOOL_FORMAT_GCC) ||
      (n_languages && !languages))
    return qr_err_set(e, QR_E_INVAL, "qr_tool_define: invalid argument");
  if (find_builtin(name)) return qr_err_set(e, QR_E_INVAL, "%s is a built-in tool", name);
  generic *g = qr_calloc(1, sizeof *g);
  if (!g) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  g->a.name = qr_strdup(name);
  g->argv = strv_dup(command, n_command);
  g->langs = n_languages ? strv_dup(languages, n_languages) : NULL;
  g->refs = 1;
  if (!g->a.name || !g->argv || (n_languages && !g->langs)) {
    generic_release(g);
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  g->exe[0] = g->argv[0];
  g->a.exes = g->exe;
  g->a.args = (const char *const *)g->argv + 1;
  g->a.langs = (const char *const *)g->langs;
  g->a.max_ok_exit = 1; /* linters commonly exit 1 when they found something */
  g->a.parse = format == QR_TOOL_FORMAT_SARIF ? qr_tools_parse_sarif : qr_tools_parse_gcc;
  for (generic **p = &defined; *p; p = &(*p)->next)
    if (!strcmp((*p)->a.name, name)) { /* replaced: runs in progress keep their reference */
      generic *old = *p;
      *p = old->next;
      generic_release(old);
      break;
    }
  g->next = defined;
  defined = g;
  return 0;
}

static generic *find_generic(const char *name) {
  for (generic *g = defined; name && g; g = g->next)
    if (!strcmp(g->a.name, name)) return g;
  return NULL;
}

/* A built-in adapter or the current definition of `name`; *g is set for a defined one. */
static const adapter *find_adapter(const char *name, generic **g) {
  const adapter *a = find_builtin(name);
  generic *d = a ? NULL : find_generic(name);
  if (g) *g = d;
  return a ? a : d ? &d->a : NULL;
}

static bool adapter_covers(const adapter *a, const qr_language *lang) {
  if (a && !a->langs) return true;
  for (size_t k = 0; a && lang && a->langs[k]; k++)
    if (!strcmp(a->langs[k], lang->name)) return true;
  return false;
}

bool qr_tool_covers(const char *name, const qr_language *lang) {
  return adapter_covers(find_adapter(name, NULL), lang);
}

static bool is_executable(const char *path) {
  struct stat st;
  return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* The full path of `exe` on $PATH (new string), or NULL. */
static char *which(const char *exe) {
  const char *path = getenv("PATH");
  for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
    size_t n = strcspn(p, ":");
    char *full = n ? qr_asprintf("%.*s/%s", (int)n, p, exe) : NULL;
    if (full && is_executable(full)) return full;
    qr_free(full);
    p += n + (p[n] == ':');
  }
  return NULL;
}

/* The adapter's executable (new string) or NULL: a name is looked up on PATH, a path with a
 * '/' taken as is, a relative one from `root` (the folder the tool runs in). */
static char *adapter_exe(const adapter *a, const char *root) {
  char *full = NULL;
  for (size_t i = 0; a->exes[i] && !full; i++) {
    const char *x = a->exes[i];
    if (!strchr(x, '/')) {
      full = which(x);
      continue;
    }
    full = x[0] == '/' ? qr_strdup(x) : qr_asprintf("%s/%s", root ? root : ".", x);
    if (full && !is_executable(full)) {
      qr_free(full);
      full = NULL;
    }
  }
  return full;
}

bool qr_tool_available(const char *name) {
  const adapter *a = find_adapter(name, NULL);
  char *full = a ? adapter_exe(a, NULL) : NULL;
  qr_free(full);
  return full != NULL;
}

int qr_tool_parse(const char *name, const char *out_text, size_t out_len, const char *err_text,
                  size_t err_len, const char *const *files, size_t n_files,
                  qr_finding_list *out, qr_err *e) {
  const adapter *a = find_adapter(name, NULL);
  if (!a) return qr_err_set(e, QR_E_INVAL, "unknown tool \"%s\"", name ? name : "(null)");
  if (!out || (!out_text && out_len) || (!err_text && err_len))
    return qr_err_set(e, QR_E_INVAL, "qr_tool_parse: NULL argument");
  return a->parse(a->name, out_text ? out_text : "", out_len, err_text ? err_text : "", err_len, files,
                  n_files, out, e);
}

/* --- a project's own suppressions: flake8's "# noqa" ------------------------------------- */

/* A line's "# noqa" comment: flake8's rule (#\s*noqa, case-insensitive; ":" right after it and
 * codes make it apply to those codes and their prefixes only, anything else to every code). */
typedef struct noqa_line {
  size_t file;  /* index in the run's files */
  int line;     /* 1-based */
  char *codes;  /* owned; "F401,E501" upper-cased; NULL: every code */
} noqa_line;

/* The codes listed at [q, end) ("F401, E501"), upper-cased and comma-separated into buf. */
static void noqa_codes(const char *q, const char *end, char *buf, size_t size) {
  size_t k = 0;
  while (q < end && isalpha((unsigned char)*q)) {
    const char *c = q;
    while (q < end && isalpha((unsigned char)*q)) q++;
    const char *d = q;
    while (q < end && isdigit((unsigned char)*q)) q++;
    if (q == d || k + (size_t)(q - c) + 2 > size) break; /* letters without digits end it */
    if (k) buf[k++] = ',';
    for (const char *x = c; x < q; x++) buf[k++] = (char)toupper((unsigned char)*x);
    while (q < end && (*q == ',' || *q == ' ' || *q == '\t')) q++;
  }
  buf[k] = '\0';
}

/* The noqa comment of [p, p+n): 1 and *codes (new string, or NULL: every code), 0 when the
 * line has none, QR_E_NOMEM. */
static int parse_noqa(const char *p, size_t n, char **codes) {
  for (const char *end = p + n, *h; (h = memchr(p, '#', (size_t)(end - p))); p = h + 1) {
    const char *q = h + 1;
    while (q < end && (*q == ' ' || *q == '\t')) q++;
    if (end - q < 4 || strncasecmp(q, "noqa", 4)) continue;
    q += 4;
    char buf[256] = "";
    if (q < end && *q == ':') noqa_codes(q + 1 + (q + 1 < end && q[1] == ' '), end, buf, sizeof buf);
    *codes = buf[0] ? qr_strdup(buf) : NULL;
    return buf[0] && !*codes ? QR_E_NOMEM : 1;
  }
  return 0;
}

/* Whether `code` is among the comma-separated `codes` or starts with one of them. */
static bool code_listed(const char *codes, const char *code) {
  for (const char *p = codes; code && *p;) {
    size_t n = strcspn(p, ",");
    if (n && !strncmp(code, p, n)) return true;
    p += n + (p[n] == ',');
  }
  return false;
}

/* --- running ----------------------------------------------------------------------------- */

struct qr_tool_run {
  const adapter *a;
  generic *g;    /* the definition of a generic tool (a reference), else NULL */
  qr_tool_done_cb cb;
  void *data;
  uv_process_t proc;
  uv_pipe_t out, err;
  uv_timer_t timer;
  qr_buf obuf, ebuf;
  char **files;  /* repository-relative paths; owned */
  char *stage;   /* private folder holding the snapshot's files, where the tool runs; owned,
                  * removed with the run; NULL for a generic tool (it runs in the root) */
  size_t n_files;
  noqa_line *noqa; /* owned array: the "# noqa" comments of files (adapters with a->noqa) */
  size_t n_noqa;
  qr_cache *cache;  /* borrowed (qr_tool_opts); NULL: no cache */
  char key[QR_CACHE_KEY_SIZE]; /* the run's cache key; "" when it is not cached */
  qr_finding_list hit; /* a cache hit's findings, delivered instead of running */
  bool cached;
  int handles;   /* initialized handles not yet closed */
  bool spawned, exited, out_eof, err_eof, finished, canceled;
  int64_t exit_status;
  int term_signal;
  int status;    /* set early by a timeout or an overflow */
  char reason[256];
  char chunk[READ_CHUNK];
};

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f) {
  (void)st, (void)type, (void)f;
  remove(path); /* best effort: go on with the rest */
  return 0;
}

static void run_free(qr_tool_run *r) {
  if (r->stage) nftw(r->stage, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  qr_free(r->stage);
  generic_release(r->g);
  for (size_t i = 0; i < r->n_noqa; i++) qr_free(r->noqa[i].codes);
  qr_free(r->noqa);
  qr_finding_list_free(&r->hit);
  for (size_t i = 0; i < r->n_files; i++) qr_free(r->files[i]);
  qr_free(r->files);
  qr_buf_free(&r->obuf);
  qr_buf_free(&r->ebuf);
  qr_free(r);
}

/* Records the noqa comments of file fi (its text in the snapshot). */
static int collect_noqa(qr_tool_run *r, size_t fi, const qr_snapshot_file *sf) {
  size_t alloc = r->n_noqa;
  for (size_t ln = 1; ln <= sf->n_lines; ln++) {
    const char *t;
    size_t n;
    char *codes;
    if (!qr_snapshot_line(sf, (int)ln, &t, &n)) continue;
    int found = parse_noqa(t, n, &codes);
    if (found < 0 || (found && qr_grow(&r->noqa, &alloc, r->n_noqa + 1, sizeof *r->noqa, 8))) {
      if (found > 0) qr_free(codes);
      return QR_E_NOMEM;
    }
    if (found) r->noqa[r->n_noqa++] = (noqa_line){fi, (int)ln, codes};
  }
  return 0;
}

/* Whether the project suppressed finding f on its line ("# noqa", or "# noqa: CODE"). */
static bool noqa_suppressed(const qr_tool_run *r, const qr_finding *f) {
  for (size_t i = 0; i < r->n_noqa; i++) {
    const noqa_line *q = &r->noqa[i];
    if (q->line != f->start_line || strcmp(r->files[q->file], f->file)) continue;
    return !q->codes || code_listed(q->codes, qr_tools_pyflakes_code(f->message, strlen(f->message)));
  }
  return false;
}

/* Drops the findings the project suppressed; returns how many. */
static size_t drop_suppressed(const qr_tool_run *r, qr_finding_list *l) {
  size_t kept = 0, n = l->n;
  for (size_t i = 0; i < n; i++) {
    if (r->n_noqa && noqa_suppressed(r, &l->items[i])) {
      qr_finding_clear(&l->items[i]);
      continue;
    }
    l->items[kept++] = l->items[i];
  }
  l->n = kept;
  return n - kept;
}

static void on_close(uv_handle_t *h) {
  qr_tool_run *r = h->data;
  if (--r->handles == 0) run_free(r);
}

static void close_if_open(uv_handle_t *h) {
  if (h->data && !uv_is_closing(h)) uv_close(h, on_close);
}

/* Closes every handle; the last close callback frees the run. */
static void teardown(qr_tool_run *r) {
  r->finished = true;
  close_if_open((uv_handle_t *)&r->timer);
  close_if_open((uv_handle_t *)&r->out);
  close_if_open((uv_handle_t *)&r->err);
  close_if_open((uv_handle_t *)&r->proc);
}

/* The first line of stderr, for a failure reason. */
static void first_stderr_line(const qr_tool_run *r, char *buf, size_t size) {
  const char *t = r->ebuf.data ? r->ebuf.data : "";
  snprintf(buf, size, "%.*s", (int)strcspn(t, "\n"), t);
}

/* The outcome once the process has exited and both pipes are drained. */
static void finish(qr_tool_run *r) {
  qr_finding_list l;
  qr_finding_list_init(&l);
  int status = r->status;
  char line[160];
  if (!status && r->term_signal) {
    status = QR_E_IO;
    snprintf(r->reason, sizeof r->reason, "%s was killed by signal %d", r->a->name, r->term_signal);
  } else if (!status && r->exit_status > r->a->max_ok_exit) {
    status = QR_E_IO;
    first_stderr_line(r, line, sizeof line);
    snprintf(r->reason, sizeof r->reason, "%s exited with status %lld: %s", r->a->name,
             (long long)r->exit_status, line);
  } else if (!status && r->spawned) {
    qr_err e = {0};
    status = r->a->parse(r->a->name, r->obuf.data ? r->obuf.data : "", r->obuf.len,
                         r->ebuf.data ? r->ebuf.data : "", r->ebuf.len,
                         (const char *const *)r->files, r->n_files, &l, &e);
    if (status) snprintf(r->reason, sizeof r->reason, "%.200s", e.msg);
    size_t dropped = status ? 0 : drop_suppressed(r, &l);
    if (dropped) QR_INFO("%s: %zu finding(s) left out: the project suppressed them (# noqa)", r->a->name, dropped);
    if (!status && r->key[0]) qr_tool_cache_put(r->cache, r->key, &l);
  } else if (r->cached) {
    qr_finding_list_free(&l);
    l = r->hit;
    qr_finding_list_init(&r->hit);
    r->reason[0] = '\0';
  }
  if (!r->canceled) r->cb(status, r->reason[0] ? r->reason : NULL, &l, r->cached, r->data);
  qr_finding_list_free(&l);
  teardown(r);
}

static void maybe_finish(qr_tool_run *r) {
  if (!r->finished && r->exited && r->out_eof && r->err_eof) finish(r);
}

/* Stops reading both pipes: after a kill, a grandchild holding them must not keep us waiting. */
static void stop_reading(qr_tool_run *r) {
  uv_read_stop((uv_stream_t *)&r->out);
  uv_read_stop((uv_stream_t *)&r->err);
  r->out_eof = r->err_eof = true;
}

static void kill_run(qr_tool_run *r, int status, const char *reason) {
  if (!r->status) {
    r->status = status;
    snprintf(r->reason, sizeof r->reason, "%s %s", r->a->name, reason);
  }
  if (!r->exited) uv_process_kill(&r->proc, SIGKILL);
  uv_timer_stop(&r->timer);
  stop_reading(r);
  maybe_finish(r);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  qr_tool_run *r = h->data;
  *buf = uv_buf_init(r->chunk, sizeof r->chunk);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  qr_tool_run *r = s->data;
  bool is_out = s == (uv_stream_t *)&r->out;
  if (n > 0) {
    if (qr_buf_append(is_out ? &r->obuf : &r->ebuf, buf->base, (size_t)n))
      kill_run(r, QR_E_TOOBIG, "wrote more output than the cap; its findings were discarded");
    return;
  }
  if (n == 0) return;
  uv_read_stop(s);
  if (is_out) r->out_eof = true;
  else r->err_eof = true;
  maybe_finish(r);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int signal) {
  qr_tool_run *r = p->data;
  r->exited = true;
  r->exit_status = status;
  r->term_signal = r->status ? 0 : signal; /* our own kill is already explained */
  maybe_finish(r);
}

static void on_timer(uv_timer_t *t) {
  qr_tool_run *r = t->data;
  if (!r->spawned) { /* nothing to run (or a cache hit): report from the loop, not from start */
    snprintf(r->reason, sizeof r->reason, "%s: no changed file it checks", r->a->name);
    r->exited = r->out_eof = r->err_eof = true;
    maybe_finish(r);
    return;
  }
  kill_run(r, QR_E_TIMEOUT, "timed out");
}

/* The reviewable files of the change that the adapter checks (present in the snapshot). */
static int collect_files(qr_tool_run *r, const qr_diff *d, const qr_snapshot *s) {
  r->files = qr_calloc(d->n_files + 1, sizeof *r->files);
  if (!r->files) return QR_E_NOMEM;
  for (size_t i = 0; i < d->n_files; i++) {
    const qr_diff_file *df = &d->files[i];
    const qr_snapshot_file *sf = qr_snapshot_find(s, df->path);
    if (!qr_diff_file_reviewable(df) || !sf || !adapter_covers(r->a, sf->lang)) continue;
    if (!(r->files[r->n_files++] = qr_strdup(df->path))) return QR_E_NOMEM;
    if (r->a->noqa && collect_noqa(r, r->n_files - 1, sf)) return QR_E_NOMEM;
  }
  return 0;
}

/* Whether rel stays below its folder: not absolute, no ".." component. */
static bool stays_below(const char *rel) {
  size_t n = strlen(rel);
  return rel[0] != '/' && strcmp(rel, "..") && strncmp(rel, "../", 3) && !strstr(rel, "/../") &&
         !(n >= 3 && !strcmp(rel + n - 3, "/.."));
}

/* Writes len bytes of text as stage/rel, making its folders (0700); the file must be new. */
static int stage_write(const char *stage, const char *rel, const char *text, size_t len) {
  if (!stays_below(rel)) return QR_E_INVAL; /* never out of the stage */
  char *path = qr_asprintf("%s/%s", stage, rel);
  if (!path) return QR_E_NOMEM;
  for (char *sl = strchr(path + strlen(stage) + 1, '/'); sl; sl = strchr(sl + 1, '/')) {
    *sl = '\0';
    bool ok = !mkdir(path, 0700) || errno == EEXIST;
    *sl = '/';
    if (!ok) {
      qr_free(path);
      return QR_E_IO;
    }
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  qr_free(path);
  if (fd < 0) return errno == EEXIST ? 0 : QR_E_IO;
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, text + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t)n;
  }
  return close(fd) || done < len ? QR_E_IO : 0;
}

/* Copies <root>/<dir>.shellcheckrc for every folder on rel's path (shellcheck searches upward
 * from the script's folder), so the tool sees the project's configuration in the stage. */
static int stage_configs(const char *stage, const char *root, const char *rel) {
  int rc = 0;
  for (const char *end = rel; !rc && end; end = strchr(end, '/')) {
    if (*end == '/') end++;
    char *from_rel = qr_asprintf("%.*s%s", (int)(end - rel), rel, QR_TOOL_CONFIG_FILE);
    char *from = from_rel ? qr_asprintf("%s/%s", root, from_rel) : NULL, *text = NULL;
    size_t len = 0;
    if (!from) rc = QR_E_NOMEM;
    else if (!qr_read_file(from, QR_TOOL_MAX_OUTPUT, &text, &len, NULL))
      rc = stage_write(stage, from_rel, text, len);
    qr_free(text);
    qr_free(from);
    qr_free(from_rel);
  }
  return rc;
}

/* The stage's top .shellcheckrc: the repository's, else ~/.shellcheckrc, else an empty one, so
 * shellcheck's upward search stops there and never reads a file another user put in /tmp. */
static int stage_root_config(const char *stage, const char *root) {
  const char *home = getenv("HOME");
  char *path = qr_asprintf("%s/" QR_TOOL_CONFIG_FILE, root), *text = NULL;
  size_t len = 0;
  if (path && qr_read_file(path, QR_TOOL_MAX_OUTPUT, &text, &len, NULL) && home && *home) {
    qr_free(path);
    path = qr_asprintf("%s/" QR_TOOL_CONFIG_FILE, home);
    if (path && qr_read_file(path, QR_TOOL_MAX_OUTPUT, &text, &len, NULL)) len = 0;
  }
  int rc = path ? stage_write(stage, QR_TOOL_CONFIG_FILE, text ? text : "", len) : QR_E_NOMEM;
  qr_free(text);
  qr_free(path);
  return rc;
}

/* The tool checks what is reviewed, not what is on disk (git's index for --staged, an editor's
 * unsaved buffer): the snapshot's files are written into a private folder (0700, same relative
 * paths, plus the project's .shellcheckrc files) and the tool runs there. */
static int stage_files(qr_tool_run *r, const qr_snapshot *s, const char *root, qr_err *e) {
  const char *tmp = getenv("TMPDIR");
  r->stage = qr_asprintf("%s/quorum-tool-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!r->stage) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!mkdtemp(r->stage)) {
    int err = errno;
    qr_free(r->stage);
    r->stage = NULL;
    return qr_err_set(e, QR_E_IO, "%s: cannot make a private folder: %s", r->a->name, strerror(err));
  }
  int rc = stage_root_config(r->stage, root);
  for (size_t i = 0; !rc && i < r->n_files; i++) {
    const qr_snapshot_file *sf = qr_snapshot_find(s, r->files[i]);
    rc = stage_write(r->stage, r->files[i], sf->text, sf->len);
    if (!rc) rc = stage_configs(r->stage, root, r->files[i]);
  }
  if (rc == QR_E_NOMEM) return qr_err_set(e, rc, "out of memory");
  if (rc) return qr_err_set(e, rc, "%s: cannot write the reviewed files into %s", r->a->name, r->stage);
  return 0;
}

/* Analyzers get no network: each runs inside a new user and network namespace
 * (`unshare -rn`), where only a downed loopback exists. Whether this machine allows that is
 * probed once per process; where it does not (no unshare, user namespaces disabled), tools
 * run without it and the log says so once. Returns the unshare path (static) or NULL. */
static const char *net_isolation(void) {
  static int state = -1; /* -1 unknown, 0 unavailable, 1 available */
  static char *unshare;
  if (state < 0) {
    unshare = which("unshare");
    state = 0;
    if (unshare) {
      pid_t pid = fork();
      if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2);
        execl(unshare, "unshare", "-rn", "true", (char *)NULL);
        _exit(127);
      }
      int st = 0;
      state = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    if (!state)
      QR_WARN("tools: analyzers run WITH network access here (`unshare -rn` is not available)");
  }
  return state ? unshare : NULL;
}

/* argv: [unshare -rn --] exe, the adapter's arguments, then "./path" for each file so that a
 * file named like an option ("-rf") stays a file name. Every string is new; ends with NULL. */
static char **build_argv(const qr_tool_run *r, const char *exe) {
  const char *jail = net_isolation();
  size_t na = 0, nj = jail ? 3 : 0, n;
  while (r->a->args[na]) na++;
  n = nj + 1 + na + r->n_files;
  char **argv = qr_calloc(n + 1, sizeof *argv);
  if (!argv) return NULL;
  bool ok = true;
  if (jail) ok = (argv[0] = qr_strdup(jail)) && (argv[1] = qr_strdup("-rn")) && (argv[2] = qr_strdup("--"));
  ok = ok && (argv[nj] = qr_strdup(exe)) != NULL;
  for (size_t i = 0; ok && i < na; i++) ok = (argv[nj + 1 + i] = qr_strdup(r->a->args[i])) != NULL;
  for (size_t i = 0; ok && i < r->n_files; i++)
    ok = (argv[nj + 1 + na + i] = qr_asprintf("./%s", r->files[i])) != NULL;
  if (ok) return argv;
  for (size_t i = 0; i < n; i++) qr_free(argv[i]);
  qr_free(argv);
  return NULL;
}

/* PATH, HOME and LANG only: nothing that could carry a secret (…_KEY, …_TOKEN, credentials
 * helpers) or route traffic (proxies) reaches a tool. */
static char **scrubbed_env(void) {
  const char *path = getenv("PATH"), *home = getenv("HOME");
  char **env = qr_calloc(4, sizeof *env);
  if (!env) return NULL;
  env[0] = qr_asprintf("PATH=%s", path && *path ? path : "/usr/bin:/bin");
  env[1] = qr_asprintf("HOME=%s", home && *home ? home : "/");
  env[2] = qr_strdup("LANG=C.UTF-8");
  if (env[0] && env[1] && env[2]) return env;
  free_strv(env);
  return NULL;
}

static void init_handle(qr_tool_run *r, uv_handle_t *h) {
  h->data = r;
  r->handles++;
}

static int spawn(uv_loop_t *loop, qr_tool_run *r, const char *exe, const char *root, qr_err *e) {
  char **argv = build_argv(r, exe), **env = scrubbed_env();
  int rc = argv && env ? 0 : qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!rc) {
    uv_pipe_init(loop, &r->out, 0);
    init_handle(r, (uv_handle_t *)&r->out);
    uv_pipe_init(loop, &r->err, 0);
    init_handle(r, (uv_handle_t *)&r->err);
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->err}};
    uv_process_options_t o = {.exit_cb = on_exit_cb, .file = argv[0], .args = argv, .env = env,
                              .cwd = root, .stdio_count = 3, .stdio = stdio};
    int uv = uv_spawn(loop, &r->proc, &o);
    init_handle(r, (uv_handle_t *)&r->proc); /* initialized even when the spawn fails */
    if (uv) rc = qr_err_set(e, QR_E_IO, "%s: cannot start it in %s: %s", r->a->name, root, uv_strerror(uv));
  }
  if (!rc) {
    r->spawned = true;
    uv_read_start((uv_stream_t *)&r->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&r->err, on_alloc, on_read);
  }
  free_strv(argv);
  free_strv(env);
  return rc;
}

/* Looks the run up in the cache: a hit is kept in r->hit and nothing is spawned. */
static void lookup_cache(qr_tool_run *r, const char *exe, const char *root) {
  if (!r->cache || !r->n_files || r->g) return; /* a generic tool's command may read anything */
  if (!qr_tool_cache_key(r->a->name, exe, r->a->args, root, (const char *const *)r->files,
                         r->n_files, r->key))
    r->key[0] = '\0';
  else r->cached = qr_tool_cache_get(r->cache, r->key, r->a->name, &r->hit);
}

int qr_tool_start(uv_loop_t *loop, const char *name, const qr_diff *d, const qr_snapshot *s,
                  const char *root, const qr_tool_opts *o, qr_tool_done_cb cb, void *data,
                  qr_tool_run **out, qr_err *e) {
  if (!loop || !d || !s || !root || !cb || !out || !o || o->timeout_ms < 1)
    return qr_err_set(e, QR_E_INVAL, "qr_tool_start: invalid argument");
  generic *g;
  const adapter *a = find_adapter(name, &g);
  if (!a) return qr_err_set(e, QR_E_INVAL, "unknown tool \"%s\"", name ? name : "(null)");
  char *exe = adapter_exe(a, root);
  if (!exe && g)
    return qr_err_set(e, QR_E_NOTFOUND, "%s: not installed (%s not found)", a->name, a->exes[0]);
  if (!exe) return qr_err_set(e, QR_E_NOTFOUND, "%s: not installed", a->name);
  qr_tool_run *r = qr_calloc(1, sizeof *r);
  if (!r) {
    qr_free(exe);
    return qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  *r = (qr_tool_run){.a = a, .g = g, .cb = cb, .data = data, .cache = o->cache};
  qr_finding_list_init(&r->hit);
  if (g) g->refs++;
  qr_buf_init(&r->obuf, QR_TOOL_MAX_OUTPUT);
  qr_buf_init(&r->ebuf, QR_TOOL_MAX_OUTPUT);
  uv_timer_init(loop, &r->timer);
  init_handle(r, (uv_handle_t *)&r->timer);
  int rc = collect_files(r, d, s) ? qr_err_set(e, QR_E_NOMEM, "out of memory") : 0;
  if (!rc && r->n_files && !g) rc = stage_files(r, s, root, e);
  const char *cwd = r->stage ? r->stage : root;
  if (!rc) lookup_cache(r, exe, cwd);
  if (!rc && r->n_files && !r->cached) rc = spawn(loop, r, exe, cwd, e);
  qr_free(exe);
  if (rc) { /* the handles close on the loop and free the run; cb is never called */
    r->canceled = true;
    teardown(r);
    return rc;
  }
  uv_timer_start(&r->timer, on_timer, r->spawned ? (uint64_t)o->timeout_ms : 0, 0);
  *out = r;
  return 0;
}

void qr_tool_cancel(qr_tool_run *r) {
  if (!r || r->finished) return;
  r->canceled = true;
  if (!r->spawned) {
    teardown(r);
    return;
  }
  kill_run(r, QR_E_CANCELED, "was canceled");
}
