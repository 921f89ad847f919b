/* main.c — quorum-ls, the language server on stdio: parses flags, sets up logging (stderr or
 * a file, never stdout, which carries the protocol) and runs the server until `exit` or the
 * end of input. Exit status: 0 after shutdown+exit, 1 otherwise, 2 on a usage/startup error. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "log.h"
#include "lsp/lsp.h"
#include "lsp/lsp_actions.h"
#include "lsp/lsp_review.h"
#include "version.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: quorum-ls [--stdio] [-v|-vv] [--log-file PATH] [--max-message-bytes N]\n"
          "                 [--config FILE]\n"
          "       quorum-ls --version | --help\n"
          "Speaks LSP on stdin/stdout, which must be pipes or sockets.\n"
          "  --stdio                 use stdio (the default; accepted for client compatibility)\n"
          "  -v, -vv                 log info / debug messages (default: warnings and errors)\n"
          "  --log-file PATH         append the log to PATH instead of stderr\n"
          "  --max-message-bytes N   discard messages larger than N bytes (default %zu)\n"
          "  --config FILE           review configuration (default: $QUORUM_CONFIG, then\n"
          "                          $XDG_CONFIG_HOME/quorum/config.json)\n",
          QR_TRANSPORT_DEFAULT_MAX_BODY);
}

/* The option's value: "--opt=V" or the next argument. NULL when missing. */
static const char *option_value(const char *arg, const char *name, int *i, int argc,
                                char **argv) {
  size_t n = strlen(name);
  if (strncmp(arg, name, n)) return NULL;
  if (arg[n] == '=') return arg + n + 1;
  if (arg[n] || *i + 1 >= argc) return NULL;
  return argv[++*i];
}

static bool parse_size(const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || !v || v > SIZE_MAX) return false;
  *out = (size_t)v;
  return true;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, qr_server_options *opts,
                      qr_lsp_review_options *review, const char **log_file, int *verbosity) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "--stdio")) continue;
    if (!strcmp(a, "--version")) {
      printf("quorum-ls %s\n", QR_VERSION);
      return 0;
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    if (a[0] == '-' && a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
      *verbosity += (int)strlen(a + 1);
    } else if ((v = option_value(a, "--log-file", &i, argc, argv))) {
      *log_file = v;
    } else if ((v = option_value(a, "--config", &i, argc, argv))) {
      review->config_path = v;
    } else if ((v = option_value(a, "--max-message-bytes", &i, argc, argv))) {
      if (!parse_size(v, &opts->max_message_bytes)) {
        fprintf(stderr, "quorum-ls: --max-message-bytes needs a positive integer\n");
        return 2;
      }
    } else {
      fprintf(stderr, "quorum-ls: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  return -1;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN); /* a vanished client shows up as a write error instead */
  qr_server_options opts = {.in_fd = 0, .out_fd = 1};
  qr_lsp_review_options review_opts = {0};
  const char *log_file = NULL;
  int verbosity = 0;
  int status = parse_args(argc, argv, &opts, &review_opts, &log_file, &verbosity);
  if (status >= 0) return status;
  qr_log_set_level(verbosity >= 2 ? QR_LOG_DEBUG : verbosity ? QR_LOG_INFO : QR_LOG_WARN);
  if (log_file && qr_log_open(log_file)) {
    fprintf(stderr, "quorum-ls: cannot open log file %s\n", log_file);
    return 2;
  }

  uv_loop_t *loop = uv_default_loop();
  qr_server s;
  qr_lsp_review *review = NULL;
  qr_err e = {0};
  if (qr_server_init(&s, loop, &opts, &e)) {
    QR_ERROR("quorum-ls: %s", e.msg);
    status = 2;
  } else if (qr_lsp_review_new(&s, &review_opts, &review, &e)) {
    QR_ERROR("quorum-ls: %s", e.msg);
    status = 2;
  } else if (qr_lsp_actions_register(review)) {
    QR_ERROR("quorum-ls: cannot set up code actions: out of memory");
    status = 2;
  } else if (qr_server_start(&s)) {
    QR_ERROR("quorum-ls: cannot read stdin");
    status = 2;
  } else {
    QR_INFO("quorum-ls %s ready", QR_VERSION);
    uv_run(loop, UV_RUN_DEFAULT);
    status = qr_server_exit_code(&s);
  }
  qr_lsp_review_close(review); /* before dispose: it stops answering requests the server frees */
  qr_server_dispose(&s);
  uv_run(loop, UV_RUN_DEFAULT); /* lets canceled reviews, git children and closing handles finish */
  if (uv_loop_close(loop)) QR_DEBUG("quorum-ls: handles still open at exit");
  qr_log_close();
  return status;
}
