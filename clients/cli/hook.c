/* hook.c — `quorum install-hook`: writes a plain git pre-commit hook that runs
 * `quorum review --hook` on the staged change. It goes where git looks for hooks
 * (`git rev-parse --git-path hooks`, so core.hooksPath and worktrees work) and never replaces
 * a hook quorum did not write unless --force says so. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "change/git.h"

#define HOOK_TAG "# installed by quorum install-hook"
#define MAX_HOOK_BYTES (1u << 20)

static const char usage[] =
    "usage: quorum install-hook [--force] [--config FILE] [--fail-on SEV] [--fail-on-error-review]\n"
    "Writes .git/hooks/pre-commit (or core.hooksPath) running `quorum review --hook`.\n"
    "The hook blocks a commit (exit 1) when a finding reaches --fail-on (default error);\n"
    "a review that reaches no model lets the commit through unless --fail-on-error-review.\n"
    "  --force   replace an existing pre-commit hook quorum did not write\n";

typedef struct hook_opts {
  bool force, fail_on_error_review;
  const char *config, *fail_on;
} hook_opts;

/* Appends `s` single-quoted for sh. */
static void sh_quote(qr_buf *b, const char *s) {
  qr_buf_puts(b, "'");
  for (; *s; s++) {
    if (*s == '\'') qr_buf_puts(b, "'\\''");
    else qr_buf_append(b, s, 1);
  }
  qr_buf_puts(b, "'");
}

/* The hook script (new string), running this very binary by its absolute path. */
static char *hook_script(const hook_opts *h) {
  char exe[4096];
  size_t n = sizeof exe;
  if (uv_exepath(exe, &n)) return NULL;
  qr_buf b;
  qr_buf_init(&b, MAX_HOOK_BYTES);
  qr_buf_puts(&b, "#!/bin/sh\n" HOOK_TAG "\n"
                  "# Reviews the staged change; skip once with `git commit --no-verify`.\n"
                  "# Exit codes: 0 commit proceeds (also when no model could be reached),\n"
                  "# 1 a finding reached --fail-on, 2 usage or configuration error,\n"
                  "# 3 no model reached and --fail-on-error-review was given.\n"
                  "exec ");
  sh_quote(&b, exe);
  qr_buf_puts(&b, " review --hook");
  if (h->config) {
    qr_buf_puts(&b, " --config ");
    sh_quote(&b, h->config);
  }
  if (h->fail_on) qr_buf_printf(&b, " --fail-on %s", h->fail_on);
  if (h->fail_on_error_review) qr_buf_puts(&b, " --fail-on-error-review");
  qr_buf_puts(&b, "\n");
  return qr_buf_detach(&b, NULL);
}

typedef struct path_wait {
  bool done;
  char *path;
} path_wait;

static void on_hooks_dir(int status, const char *out, size_t len, const char *message, void *data) {
  path_wait *w = data;
  w->done = true;
  if (status) {
    fprintf(stderr, "quorum: not in a git repository: %s\n", message);
    return;
  }
  while (len && (out[len - 1] == '\n' || out[len - 1] == '\r')) len--;
  w->path = qr_strndup(out, len);
}

/* The hooks folder of the repository in the current folder (new string), or NULL. */
static char *hooks_dir(void) {
  static const char *const args[] = {"rev-parse", "--git-path", "hooks", NULL};
  uv_loop_t loop;
  path_wait w = {0};
  qr_err e = {0};
  if (uv_loop_init(&loop)) return NULL;
  if (qr_git_run(&loop, ".", args, 1 << 16, false, on_hooks_dir, &w, &e))
    fprintf(stderr, "quorum: %s\n", e.msg);
  else
    cli_wait(&loop, &w.done);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return w.path;
}

/* Writes the hook unless another one is there (and not --force). Returns the exit code. */
static int write_hook(const char *dir, const hook_opts *h) {
  char *path = qr_asprintf("%s/pre-commit", dir), *script = hook_script(h), *old = NULL;
  int rc = EXIT_USAGE;
  qr_err e = {0};
  if (!path || !script) {
    fputs("quorum: out of memory\n", stderr);
  } else if (!h->force && qr_read_file(path, MAX_HOOK_BYTES, &old, NULL, &e) == QR_OK &&
             !strstr(old, HOOK_TAG)) {
    fprintf(stderr, "quorum: %s exists and was not written by quorum (use --force)\n", path);
  } else if (mkdir(dir, 0777) && errno != EEXIST) {
    fprintf(stderr, "quorum: cannot create %s: %s\n", dir, strerror(errno));
  } else {
    FILE *f = fopen(path, "w");
    if (!f || fputs(script, f) == EOF || fclose(f) || chmod(path, 0755)) {
      fprintf(stderr, "quorum: cannot write %s: %s\n", path, strerror(errno));
    } else {
      printf("quorum: installed %s\n", path);
      rc = 0;
    }
  }
  qr_free(old);
  qr_free(script);
  qr_free(path);
  return rc;
}

int cli_install_hook(int argc, char **argv) {
  static const struct option opts[] = {
      {"force", no_argument, 0, 'f'},         {"config", required_argument, 0, 'c'},
      {"fail-on", required_argument, 0, 'F'}, {"fail-on-error-review", no_argument, 0, 'E'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  hook_opts h = {0};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (ch) {
    case 'f': h.force = true; break;
    case 'c': h.config = optarg; break;
    case 'F':
      if (!qr_severity_parse(optarg))
        return cli_usage_error("unknown severity '%s' for --fail-on", optarg);
      h.fail_on = optarg;
      break;
    case 'E': h.fail_on_error_review = true; break;
    case 'h': fputs(usage, stdout); return 0;
    default: return EXIT_USAGE;
    }
  }
  if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
  char *dir = hooks_dir();
  if (!dir) return EXIT_USAGE;
  /* Hooks run from the top level, so a relative --config must be made absolute. */
  char *config = h.config ? realpath(h.config, NULL) : NULL;
  int rc = EXIT_USAGE;
  if (h.config && !config) fprintf(stderr, "quorum: %s: %s\n", h.config, strerror(errno));
  else rc = write_hook(dir, &(hook_opts){h.force, h.fail_on_error_review, config, h.fail_on});
  free(config); /* from realpath (libc) */
  qr_free(dir);
  return rc;
}
