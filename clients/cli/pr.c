/* pr.c — `quorum pr`: reviews a GitHub pull request through the REST API and, with --post,
 * posts one review with inline comments and keeps one summary comment up to date; with
 * --checks, records a check run with annotations.
 *
 * Steps: the PR (head sha) → its files, page by page → a unified diff rebuilt from each file's
 * patch, and the head version of every reviewed file written under a private temp folder →
 * the review engine → output on stdout → posting. Re-runs are idempotent: each comment carries
 * its finding's fingerprint in a hidden marker, findings already posted are skipped, no review
 * is posted when nothing is new, and the summary comment is edited only when it changed. Files
 * beyond --max-files, without a patch (binary or too large for the API) or too big to fetch
 * are listed in the summary as not reviewed.
 *
 * Trust: the pull request's author controls its head, so nothing there configures the review.
 * The repository config (.quorum.json, .quorum/config.json) is read from the BASE revision; a
 * pull request that changes it is reviewed like any change and the summary says the change
 * takes effect after merge. Markers (fingerprints, the summary) count only in comments written
 * by the token's own account (GET /user; --bot-login for app tokens). Text from the pull
 * request is printed through qr_fputs_clean (no control characters, no workflow commands). */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config/repo_config.h"
#include "github.h"
#include "log.h"

#define DEFAULT_MAX_FILES 300
#define MAX_PR_FILES 3000       /* GitHub lists at most 3000 files of a pull request */
#define MAX_FILE_BYTES (4u << 20)
#define MAX_LISTED_COMMENTS 10000

static const char usage[] =
    "usage: quorum pr --repo OWNER/NAME --pr N [--post] [--checks] [--max-files N] [OPTIONS]\n"
    "Reviews a GitHub pull request (GITHUB_TOKEN from the environment; GITHUB_API_URL for\n"
    "GitHub Enterprise) and prints the result; OPTIONS as for `quorum review`.\n"
    "  --post          post one review with inline comments (findings already posted are\n"
    "                  skipped) and create or update the summary comment\n"
    "  --checks        create a check run named quorum with the findings as annotations\n"
    "  --max-files N   review at most N files (default 300); the rest are listed as not reviewed\n"
    "  --bot-login L   the account quorum posts as, when GET /user cannot tell (an app token);\n"
    "                  default: github-actions[bot]. Only its comments count as quorum's own\n"
    "The repository config (.quorum.json) is read from the pull request's base, never its head.\n"
    "Exit codes: 0 done, 1 --fail-on reached, 2 usage, configuration or GitHub error,\n"
    "3 every pass failed.\n";

typedef struct pr_cmd {
  cli_opts o;
  const char *repo;
  long number;
  bool post, checks;
  long max_files;
  const char *bot_login; /* --bot-login, or NULL */
  gh_client gh;
  char *head_sha, *base_sha; /* owned */
  char *dir;       /* private temp folder, removed on every exit (signals too); owned */
  char *root;      /* dir/head: the head files under review; owned */
  char *base_root; /* dir/base: the base revision's repository config, if any; owned */
  char *me;        /* login of the token's account; owned, NULL until posting */
  qr_buf diff;     /* the rebuilt unified diff */
  json_t *skipped; /* [{"file", "reason"}] not reviewed before the engine even saw them */
  json_t *notes;   /* what the summary says besides the engine's notes (strings) */
} pr_cmd;

/* The repository config files, in the order the engine reads them (repo_config.h). */
static const char *const config_names[] = {".quorum.json", ".quorum/config.json"};

/* ---- fetching --------------------------------------------------------------------------- */

/* True for a repository-relative path that stays inside the checkout. */
static bool safe_path(const char *p) {
  if (!*p || *p == '/') return false;
  for (const char *s = p; s; s = strchr(s, '/')) {
    if (*s == '/') s++;
    if (!strncmp(s, "..", 2) && (s[2] == '/' || !s[2])) return false;
    if (*s == '/' || !*s) return false; /* empty segment */
  }
  return true;
}

/* Appends `path` in git's C quoting, so any byte survives the diff parser. */
static void put_quoted(qr_buf *b, const char *prefix, const char *path) {
  qr_buf_printf(b, "\"%s", prefix);
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if (*p == '"' || *p == '\\') qr_buf_printf(b, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f) qr_buf_printf(b, "\\%03o", *p);
    else qr_buf_append(b, p, 1);
  }
  qr_buf_puts(b, "\"");
}

/* One file's part of the diff: ---/+++ markers, then GitHub's patch (the hunks). */
static int append_patch(pr_cmd *c, const json_t *f) {
  const char *path = qr_output_str(f, "filename", ""), *status = qr_output_str(f, "status", "");
  const char *old = qr_output_str(f, "previous_filename", path);
  const char *patch = qr_output_str(f, "patch", "");
  qr_buf *b = &c->diff;
  qr_buf_puts(b, "--- ");
  if (!strcmp(status, "added")) qr_buf_puts(b, "/dev/null");
  else put_quoted(b, "a/", old);
  qr_buf_puts(b, "\n+++ ");
  put_quoted(b, "b/", path);
  size_t n = strlen(patch);
  return qr_buf_printf(b, "\n%s%s", patch, n && patch[n - 1] != '\n' ? "\n" : "");
}

static int mkdirs_for(const char *root, const char *path) {
  char *full = qr_asprintf("%s/%s", root, path);
  if (!full) return QR_E_NOMEM;
  for (char *s = full + strlen(root) + 1; (s = strchr(s, '/')); s++) {
    *s = '\0';
    int bad = mkdir(full, 0700) && errno != EEXIST;
    *s = '/';
    if (bad) {
      qr_free(full);
      return QR_E_IO;
    }
  }
  qr_free(full);
  return QR_OK;
}

/* Writes text to root/path, making its folders. QR_E_IO (e says why) when this file system
 * cannot hold it: a name too long, a character it refuses, a file where a folder should be. */
static int write_under(const char *root, const char *path, const char *text, size_t len,
                       qr_err *e) {
  char *full = NULL;
  if (mkdirs_for(root, path) || !(full = qr_asprintf("%s/%s", root, path)))
    return qr_err_set(e, QR_E_IO, "cannot create folders: %s", strerror(errno));
  FILE *f = fopen(full, "wb");
  int rc = !f || fwrite(text, 1, len, f) != len || fclose(f)
               ? qr_err_set(e, QR_E_IO, "cannot write it here: %s", strerror(errno))
               : QR_OK;
  if (f && rc) fclose(f);
  qr_free(full);
  return rc;
}

/* The version of `path` at commit `ref` (at most max_bytes), into *text (*len bytes). */
static int fetch_text(pr_cmd *c, const char *ref, const char *path, size_t max_bytes,
                      char **text, size_t *len, qr_err *e) {
  char *esc = gh_escape_path(path);
  char *api = esc ? qr_asprintf("/repos/%s/contents/%s?ref=%s", c->repo, esc, ref) : NULL;
  int rc = api ? gh_raw(&c->gh, api, "application/vnd.github.raw", max_bytes, text, len, e)
               : qr_err_set(e, QR_E_NOMEM, "out of memory");
  qr_free(api);
  qr_free(esc);
  return rc;
}

/* Writes the version of `path` at commit `ref` under `root` (at most max_bytes). */
static int fetch_file(pr_cmd *c, const char *ref, const char *root, const char *path,
                      size_t max_bytes, qr_err *e) {
  char *text = NULL;
  size_t len = 0;
  int rc = fetch_text(c, ref, path, max_bytes, &text, &len, e);
  if (!rc) rc = write_under(root, path, text, len, e);
  qr_free(text);
  return rc;
}

/* "quorum: <what><text>" on stderr; `text` may quote the pull request, so it is cleaned. */
static void say(const char *what, const char *text) {
  fprintf(stderr, "quorum: %s", what);
  qr_fputs_clean(stderr, text);
  fputc('\n', stderr);
}

static void skip(pr_cmd *c, const char *path, const char *reason) {
  json_array_append_new(c->skipped, json_pack("{s:s, s:s}", "file", path, "reason", reason));
}

static bool is_config_file(const char *path) {
  for (size_t i = 0; i < QR_ARRAY_LEN(config_names); i++)
    if (!strcmp(path, config_names[i])) return true;
  return false;
}

/* The base revision's repository config files into c->base_root; one that is absent there
 * (404) is simply absent. */
static int fetch_base_config(pr_cmd *c, qr_err *e) {
  for (size_t i = 0; i < QR_ARRAY_LEN(config_names); i++) {
    int rc = fetch_file(c, c->base_sha, c->base_root, config_names[i], QR_REPO_CONFIG_MAX_BYTES, e);
    if (rc == QR_E_TOOBIG) {
      json_array_append_new(c->notes, json_sprintf("the base revision's %s is larger than %u bytes; "
                                                   "not used", config_names[i], QR_REPO_CONFIG_MAX_BYTES));
    } else if (rc && !(rc == QR_E_HTTP && c->gh.last_code == 404)) {
      return rc;
    }
  }
  return QR_OK;
}

/* Takes one listed file into the review, or records why not. Only GitHub errors other than
 * a too-large file stop the run. */
static int take_file(pr_cmd *c, const json_t *f, long *taken, qr_err *e) {
  const char *path = qr_output_str(f, "filename", ""), *status = qr_output_str(f, "status", "");
  if (is_config_file(path) || is_config_file(qr_output_str(f, "previous_filename", "")))
    json_array_append_new(c->notes, json_sprintf(
        "this pull request changes the review configuration (%s); the change takes effect after "
        "merge: this review used the base revision's", path));
  /* Deleted files are never reviewed; pure renames and mode changes have no lines to review. */
  if (!strcmp(status, "removed") || (!json_object_get(f, "patch") && !qr_output_int(f, "changes") &&
                                     json_object_get(f, "changes")))
    return QR_OK;
  if (!safe_path(path)) {
    skip(c, path, "unsafe path");
    return QR_OK;
  }
  if (!json_object_get(f, "patch")) {
    skip(c, path, "no patch from GitHub: binary or too large");
    return QR_OK;
  }
  if (*taken >= c->max_files) {
    skip(c, path, "beyond the --max-files budget");
    return QR_OK;
  }
  char *text = NULL;
  size_t len = 0;
  int rc = fetch_text(c, c->head_sha, path, MAX_FILE_BYTES, &text, &len, e);
  if (rc == QR_E_TOOBIG) {
    skip(c, path, "file too large to fetch");
    return QR_OK;
  }
  qr_err we = {0};
  if (!rc && write_under(c->root, path, text, len, &we)) { /* one file, not the whole review */
    qr_free(text);
    skip(c, path, we.msg);
    return QR_OK;
  }
  qr_free(text);
  if (!rc) rc = append_patch(c, f);
  if (!rc) ++*taken;
  return rc;
}

/* A commit id as GitHub gives it (hex; it goes into URLs). */
static bool valid_sha(const char *s) {
  size_t n = s ? strspn(s, "0123456789abcdefABCDEF") : 0;
  return n >= 7 && n <= 64 && !s[n];
}

static int fetch_pr(pr_cmd *c, qr_err *e) {
  char *path = qr_asprintf("/repos/%s/pulls/%ld", c->repo, c->number);
  json_t *pr = NULL, *files = NULL;
  int rc = path ? gh_json(&c->gh, "GET", path, NULL, &pr, e) : QR_E_NOMEM;
  const char *sha = json_string_value(json_object_get(json_object_get(pr, "head"), "sha"));
  const char *base = json_string_value(json_object_get(json_object_get(pr, "base"), "sha"));
  if (!rc && (!valid_sha(sha) || !valid_sha(base)))
    rc = qr_err_set(e, QR_E_PARSE, "GitHub: the pull request has no valid head or base sha");
  if (!rc && (!(c->head_sha = qr_strdup(sha)) || !(c->base_sha = qr_strdup(base)))) rc = QR_E_NOMEM;
  if (!rc) rc = fetch_base_config(c, e);
  char *files_path = rc ? NULL : qr_asprintf("%s/files", path);
  if (!rc) rc = files_path ? gh_list(&c->gh, files_path, MAX_PR_FILES, &files, e) : QR_E_NOMEM;
  size_t i;
  json_t *f;
  long taken = 0;
  json_array_foreach(files, i, f) {
    if (rc) break;
    rc = take_file(c, f, &taken, e);
  }
  if (rc == QR_E_NOMEM) qr_err_set(e, rc, "out of memory");
  json_decref(files);
  json_decref(pr);
  qr_free(files_path);
  qr_free(path);
  return rc;
}

/* ---- posting ---------------------------------------------------------------------------- */

#define DEFAULT_BOT_LOGIN "github-actions[bot]" /* the account of Actions' GITHUB_TOKEN */

/* c->me: the login of the token's account (GET /user). Installation tokens cannot read /user
 * (403); they post as the app's bot, --bot-login or github-actions[bot]. */
static int whoami(pr_cmd *c, qr_err *e) {
  if (c->me) return QR_OK;
  json_t *user = NULL;
  const char *login = c->bot_login;
  int rc = login ? QR_OK : gh_json(&c->gh, "GET", "/user", NULL, &user, e);
  if (!login && !rc) login = json_string_value(json_object_get(user, "login"));
  if (!login && (rc == QR_OK || (rc == QR_E_HTTP && (c->gh.last_code == 403 || c->gh.last_code == 404)))) {
    QR_INFO("GET /user did not name the token's account; quorum's comments are those of %s",
            DEFAULT_BOT_LOGIN);
    login = DEFAULT_BOT_LOGIN;
    rc = QR_OK;
  }
  if (!rc && !(c->me = qr_strdup(login))) rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
  json_decref(user);
  return rc;
}

/* True when `item` (a comment or review) was written by quorum's own account: anyone can
 * write a marker, so only these are believed. */
static bool mine(const pr_cmd *c, const json_t *item) {
  const char *login = json_string_value(json_object_get(json_object_get(item, "user"), "login"));
  return login && !strcmp(login, c->me);
}

/* Fingerprints already posted: markers in quorum's own review comments and review bodies. */
static int posted_fingerprints(pr_cmd *c, json_t *seen, qr_err *e) {
  static const char *const lists[] = {"comments", "reviews"};
  for (size_t l = 0; l < QR_ARRAY_LEN(lists); l++) {
    char *path = qr_asprintf("/repos/%s/pulls/%ld/%s", c->repo, c->number, lists[l]);
    json_t *items = NULL;
    int rc = path ? gh_list(&c->gh, path, MAX_LISTED_COMMENTS, &items, e) : QR_E_NOMEM;
    qr_free(path);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
      if (!rc && mine(c, it)) rc = qr_output_github_seen(qr_output_str(it, "body", ""), seen);
    }
    json_decref(items);
    if (rc) return rc;
  }
  return QR_OK;
}

/* Appends to b where refused comment `cm` was meant to go, its path written so that it can
 * neither break the list nor forge a marker ('<' as &lt;), then its text. */
static int put_refused(qr_buf *b, const json_t *cm) {
  int rc = qr_buf_puts(b, "\n- `");
  for (const char *p = qr_output_str(cm, "path", ""); !rc && *p; p++)
    rc = *p == '<' ? qr_buf_puts(b, "&lt;") : qr_buf_append(b, strchr("`\r\n", *p) ? "'" : p, 1);
  if (!rc)
    rc = qr_buf_printf(b, ":%lld`: %s", qr_output_int(cm, "line"), qr_output_str(cm, "body", ""));
  return rc;
}

/* GitHub refuses a whole review for one comment it cannot place (422). Then each comment is
 * posted on its own, and the review carries the body and the refused comments (with their
 * markers, so they are not posted again next time). *refused counts them. */
static int post_one_by_one(pr_cmd *c, json_t *payload, size_t *refused, qr_err *e) {
  json_t *comments = json_incref(json_object_get(payload, "comments")), *cm;
  char *path = qr_asprintf("/repos/%s/pulls/%ld/comments", c->repo, c->number);
  qr_buf body;
  qr_buf_init(&body, (size_t)1 << 20);
  int rc = path && !json_object_set_new(payload, "comments", json_array()) ? QR_OK : QR_E_NOMEM;
  if (!rc) rc = qr_buf_puts(&body, qr_output_str(payload, "body", ""));
  size_t i;
  json_array_foreach(comments, i, cm) {
    if (rc) break;
    qr_err ce = {0};
    json_object_set_new(cm, "commit_id", json_string(c->head_sha));
    rc = gh_json(&c->gh, "POST", path, cm, NULL, &ce);
    if (rc == QR_E_HTTP && c->gh.last_code == 422) {
      say("GitHub refused an inline comment: ", ce.msg);
      rc = (*refused)++ ? QR_OK : qr_buf_puts(&body, "\n\nGitHub refused these inline comments:");
      if (!rc) rc = put_refused(&body, cm);
    } else if (rc) {
      *e = ce;
    }
  }
  if (!rc && *refused && json_object_set_new(payload, "body", json_string(body.data)))
    rc = QR_E_NOMEM;
  qr_buf_free(&body);
  qr_free(path);
  json_decref(comments);
  return rc;
}

static int post_review(pr_cmd *c, const json_t *result, const qr_diff *diff, qr_err *e) {
  json_t *seen = json_object();
  int rc = seen ? whoami(c, e) : QR_E_NOMEM;
  if (!rc) rc = posted_fingerprints(c, seen, e);
  size_t n_new = 0, refused = 0;
  json_t *payload = rc ? NULL : qr_output_github(result, diff, seen, &n_new);
  if (!rc && !payload) rc = QR_E_NOMEM;
  if (!rc && n_new) {
    json_object_set_new(payload, "commit_id", json_string(c->head_sha));
    char *path = qr_asprintf("/repos/%s/pulls/%ld/reviews", c->repo, c->number);
    rc = path ? gh_json(&c->gh, "POST", path, payload, NULL, e) : QR_E_NOMEM;
    if (rc == QR_E_HTTP && c->gh.last_code == 422 &&
        json_array_size(json_object_get(payload, "comments"))) {
      say("GitHub refused the review; posting its comments one by one: ", e->msg);
      *e = (qr_err){0};
      rc = post_one_by_one(c, payload, &refused, e);
      if (!rc) rc = gh_json(&c->gh, "POST", path, payload, NULL, e);
    }
    qr_free(path);
  }
  fprintf(stderr, "quorum: %zu new finding%s posted", n_new, n_new == 1 ? "" : "s");
  if (refused) fprintf(stderr, " (%zu in the review's text: GitHub refused them inline)", refused);
  fputc('\n', stderr);
  json_decref(payload);
  json_decref(seen);
  return rc;
}

/* Creates the summary comment, or edits quorum's own one posted before when its text changed. */
static int post_summary(pr_cmd *c, const json_t *result, qr_err *e) {
  char *body = qr_output_github_summary(result, c->skipped);
  char *path = qr_asprintf("/repos/%s/issues/%ld/comments", c->repo, c->number);
  json_t *comments = NULL, *prev = NULL;
  int rc = body && path ? whoami(c, e) : QR_E_NOMEM;
  if (!rc) rc = gh_list(&c->gh, path, MAX_LISTED_COMMENTS, &comments, e);
  size_t i;
  json_t *it;
  json_array_foreach(comments, i, it) {
    if (mine(c, it) &&
        !strncmp(qr_output_str(it, "body", ""), QR_SUMMARY_MARKER, strlen(QR_SUMMARY_MARKER))) {
      prev = it;
      break;
    }
  }
  json_t *payload = rc ? NULL : json_pack("{s:s}", "body", body);
  if (!rc && !payload) rc = QR_E_NOMEM;
  if (!rc && !prev) {
    rc = gh_json(&c->gh, "POST", path, payload, NULL, e);
  } else if (!rc && strcmp(qr_output_str(prev, "body", ""), body)) {
    char *edit = qr_asprintf("/repos/%s/issues/comments/%lld", c->repo, qr_output_int(prev, "id"));
    rc = edit ? gh_json(&c->gh, "PATCH", edit, payload, NULL, e) : QR_E_NOMEM;
    qr_free(edit);
  }
  json_decref(payload);
  json_decref(comments);
  qr_free(path);
  qr_free(body);
  return rc;
}

/* One check run: created with the first batch of annotations, updated with each further one. */
static int post_checks(pr_cmd *c, const json_t *result, qr_err *e) {
  json_t *batches = qr_output_checks(result), *run = NULL;
  if (!batches) return QR_E_NOMEM;
  const char *conclusion = qr_output_checks_conclusion(result, c->o.fail_on);
  char *path = qr_asprintf("/repos/%s/check-runs", c->repo);
  json_t *create = json_pack("{s:s, s:s, s:s, s:s, s:O}", "name", "quorum", "head_sha", c->head_sha,
                             "status", "completed", "conclusion", conclusion, "output",
                             json_array_get(batches, 0));
  int rc = path && create ? gh_json(&c->gh, "POST", path, create, &run, e) : QR_E_NOMEM;
  for (size_t i = 1; !rc && i < json_array_size(batches); i++) {
    char *upd = qr_asprintf("%s/%lld", path, qr_output_int(run, "id"));
    json_t *body = json_pack("{s:O}", "output", json_array_get(batches, i));
    rc = upd && body ? gh_json(&c->gh, "PATCH", upd, body, NULL, e) : QR_E_NOMEM;
    json_decref(body);
    qr_free(upd);
  }
  json_decref(run);
  json_decref(create);
  json_decref(batches);
  qr_free(path);
  return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

/* The engine's notes naming the base config as "<sha>:.quorum.json", then pr's own. */
static int merge_notes(pr_cmd *c, json_t *result) {
  char label[16];
  snprintf(label, sizeof label, "%.7s:", c->base_sha);
  if (cli_relabel_notes(result, c->base_root, label)) return QR_E_NOMEM;
  json_t *notes = json_object_get(result, "notes");
  return json_is_array(notes) && !json_array_extend(notes, c->notes) ? QR_OK : QR_E_NOMEM;
}

/* Reviews what fetch_pr gathered, prints it and posts; returns the exit code. */
static int review_and_post(pr_cmd *c, uv_loop_t *loop, qr_http *http, const qr_config *cfg) {
  qr_err e = {0};
  qr_diff *diff = NULL;
  json_t *result = NULL;
  const char *text = c->diff.data ? c->diff.data : "";
  if (qr_diff_parse(text, c->diff.len, MAX_DIFF_BYTES, &diff, &e)) {
    say("the pull request's patches do not parse: ", e.msg);
    return EXIT_USAGE;
  }
  c->o.repo_config_root = c->base_root;
  int status = cli_review(loop, http, cfg, text, c->diff.len, c->root, NULL, NULL, &c->o,
                          &result, &e);
  int rc = EXIT_USAGE;
  if (result && merge_notes(c, result)) {
    json_decref(result);
    result = NULL;
    qr_err_set(&e, QR_E_NOMEM, "out of memory");
  }
  if (!result) {
    say("", e.msg);
  } else {
    size_t i;
    json_t *s;
    json_array_foreach(c->skipped, i, s) {
      fputs("quorum: not reviewed: ", stderr);
      qr_fputs_clean(stderr, qr_output_str(s, "file", ""));
      fprintf(stderr, " (%s)\n", qr_output_str(s, "reason", "")); /* quorum's own words */
    }
    rc = cli_finish(result, status, diff, &c->o);
    int prc = QR_OK;
    if (cli_interrupted()) c->post = c->checks = false; /* a canceled review is not posted */
    if (c->post) prc = post_review(c, result, diff, &e);
    if (!prc && c->post) prc = post_summary(c, result, &e);
    if (!prc && c->checks) prc = post_checks(c, result, &e);
    if (prc) {
      say("posting failed: ", e.msg);
      rc = EXIT_USAGE;
    }
  }
  json_decref(result);
  qr_diff_free(diff);
  return rc;
}

/* ---- the temporary folder, removed on every exit ---------------------------------------- */

static const char *temp_dir; /* the folder to remove when a signal ends the process */
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static uv_signal_t signal_handles[QR_ARRAY_LEN(cleanup_signals)];
static bool signals_on;

/* Runs on the loop (libuv defers the signal there, so removing files is safe): removes the
 * folder, then dies of the signal as if quorum had not caught it. */
static void on_signal(uv_signal_t *h, int signum) {
  cli_remove_tree(temp_dir);
  signal(signum, SIG_DFL);
  raise(signum);
}

/* dir, dir/head and dir/base under $TMPDIR, and the signal handlers that remove them. */
static int make_temp(pr_cmd *c, uv_loop_t *loop) {
  if (!(c->dir = cli_temp_dir("quorum-pr"))) {
    fprintf(stderr, "quorum: cannot create a temporary folder: %s\n", strerror(errno));
    return EXIT_USAGE;
  }
  temp_dir = c->dir;
  signals_on = true;
  for (size_t i = 0; i < QR_ARRAY_LEN(cleanup_signals); i++) {
    uv_signal_init(loop, &signal_handles[i]);
    uv_signal_start(&signal_handles[i], on_signal, cleanup_signals[i]);
    uv_unref((uv_handle_t *)&signal_handles[i]); /* never keeps the loop running */
  }
  c->root = qr_asprintf("%s/head", c->dir);
  c->base_root = qr_asprintf("%s/base", c->dir);
  if (!c->root || !c->base_root || mkdir(c->root, 0700) || mkdir(c->base_root, 0700)) {
    fprintf(stderr, "quorum: cannot create a temporary folder: %s\n",
            c->root && c->base_root ? strerror(errno) : "out of memory");
    return EXIT_USAGE;
  }
  return 0;
}

static void remove_temp(pr_cmd *c) {
  for (size_t i = 0; signals_on && i < QR_ARRAY_LEN(cleanup_signals); i++)
    uv_close((uv_handle_t *)&signal_handles[i], NULL);
  signals_on = false;
  cli_remove_tree(c->dir);
  temp_dir = NULL;
}

static int run_pr(pr_cmd *c, uv_loop_t *loop, qr_http *http, const qr_config *cfg) {
  qr_err e = {0};
  int rc = make_temp(c, loop);
  if (rc) {
    remove_temp(c);
    return rc;
  }
  if (gh_init(&c->gh, loop, http, getenv("GITHUB_API_URL"), getenv("GITHUB_TOKEN"))) {
    rc = EXIT_USAGE;
  } else if (fetch_pr(c, &e)) {
    say("", e.msg);
    rc = EXIT_USAGE;
  } else {
    rc = review_and_post(c, loop, http, cfg);
  }
  gh_clear(&c->gh);
  remove_temp(c);
  return rc;
}

/* "owner/name" with GitHub's characters only: it goes into URL paths unescaped. */
static bool valid_repo(const char *s) {
  const char *slash = strchr(s, '/');
  if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/')) return false;
  if (strstr(s, "..") || !strcmp(slash, "/.")) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("-_./", *s)) return false;
  return true;
}

static int parse_pr_args(pr_cmd *c, int argc, char **argv) {
  static const struct option opts[] = {
      CLI_COMMON_LONGOPTS,
      {"repo", required_argument, 0, 'R'}, {"pr", required_argument, 0, 'P'},
      {"post", no_argument, 0, 'p'},       {"checks", no_argument, 0, 'k'},
      {"max-files", required_argument, 0, 'm'}, {"bot-login", required_argument, 0, 'B'},
      {0, 0, 0, 0}};
  int ch;
  char *end;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
    int rc = cli_common_option(&c->o, ch, optarg, usage);
    if (rc > 0) return rc;
    if (rc == 0) continue;
    switch (ch) {
    case 'R': c->repo = optarg; break;
    case 'P':
      c->number = strtol(optarg, &end, 10);
      if (*end || c->number <= 0) return cli_usage_error("--pr takes a number, not '%s'", optarg);
      break;
    case 'p': c->post = true; break;
    case 'k': c->checks = true; break;
    case 'B': c->bot_login = optarg; break;
    case 'm':
      c->max_files = strtol(optarg, &end, 10);
      if (*end || c->max_files <= 0) return cli_usage_error("--max-files takes a positive number");
      break;
    default: return EXIT_USAGE;
    }
  }
  if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
  if (!c->repo || !valid_repo(c->repo)) return cli_usage_error("--repo OWNER/NAME is required");
  if (!c->number) return cli_usage_error("--pr N is required");
  if ((c->post || c->checks) && !getenv("GITHUB_TOKEN"))
    return cli_usage_error("--post and --checks need GITHUB_TOKEN in the environment");
  return 0;
}

int cli_pr(int argc, char **argv) {
  pr_cmd c = {.o.format = QR_FORMAT_TEXT, .max_files = DEFAULT_MAX_FILES};
  int rc = parse_pr_args(&c, argc, argv);
  if (rc) return rc;
  cli_apply_verbosity(&c.o);
  qr_config *cfg = NULL;
  qr_err e = {0};
  if (qr_config_load(c.o.config_path, &cfg, &e)) {
    say("", e.msg);
    return EXIT_USAGE;
  }
  uv_loop_t loop;
  qr_http *http = NULL;
  qr_buf_init(&c.diff, MAX_DIFF_BYTES);
  c.skipped = json_array();
  c.notes = json_array();
  if (!c.skipped || !c.notes || uv_loop_init(&loop) || qr_http_new(&loop, &http, &e)) {
    fprintf(stderr, "quorum: cannot start: %s\n", e.msg);
    rc = EXIT_USAGE;
  } else {
    rc = run_pr(&c, &loop, http, cfg);
    qr_http_close(http);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop)) QR_WARN("event loop closed with handles open");
  }
  json_decref(c.skipped);
  json_decref(c.notes);
  qr_buf_free(&c.diff);
  qr_free(c.root);
  qr_free(c.base_root);
  qr_free(c.dir);
  qr_free(c.me);
  qr_free(c.head_sha);
  qr_free(c.base_sha);
  qr_config_free(cfg);
  return rc;
}
