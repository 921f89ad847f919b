/* redact.h — keeps secrets out of everything quorum sends to a model or posts.
 *
 * Text is scanned for secrets with rules covering every format of gitleaks' default rule set
 * (provider key formats and service tokens, private key blocks — encrypted PEM and PGP
 * included —, JWTs, credentials in URLs, Authorization headers, .netrc and curl passwords,
 * values assigned to password/secret/token/api_key names or to a service's name, `#define`
 * included) plus the API keys quorum itself was configured with, and each is replaced by
 * "[REDACTED:<rule>]". Line structure is kept: a secret spanning lines (a
 * private key block) leaves its newlines behind, so new-file line numbers stay right.
 * Findings about the secrets themselves ("hard-coded credential") are made locally from the
 * redactions and never quote the value. */
#ifndef QR_REDACT_H
#define QR_REDACT_H

#include <jansson.h>
#include <stddef.h>

#include "common.h"
#include "change/diff.h"
#include "judge/findings.h"
#include "change/snapshot.h"

typedef enum {
  QR_SECRET_AWS_ACCESS_KEY,
  QR_SECRET_GITHUB_TOKEN,
  QR_SECRET_ANTHROPIC_KEY,
  QR_SECRET_OPENROUTER_KEY,
  QR_SECRET_OPENAI_KEY,
  QR_SECRET_SLACK_TOKEN,
  QR_SECRET_PRIVATE_KEY,
  QR_SECRET_JWT,
  QR_SECRET_GENERIC,
  QR_SECRET_SERVICE_TOKEN,   /* a service's token format (Stripe, GitLab, SendGrid…) */
  QR_SECRET_URL_CREDENTIAL,  /* the password of scheme://user:password@host */
  QR_SECRET_AUTH_HEADER,     /* Authorization: Bearer/Basic …, curl -u user:password */
  QR_SECRET_CONFIGURED_KEY,  /* an API key quorum read from the environment */
  QR_SECRET_N_RULES
} qr_secret_rule;

/* The rule's id as it appears in the placeholder ("aws-access-key"); static. */
const char *qr_redact_rule_id(qr_secret_rule rule);
/* A human name for messages ("AWS access key"); static. */
const char *qr_redact_rule_kind(qr_secret_rule rule);

/* Where one secret was (1-based lines of the scanned text; equal unless it spanned lines). */
typedef struct qr_redaction {
  qr_secret_rule rule;
  int start_line, end_line;
  size_t start, end; /* the replaced bytes [start, end) of the scanned text */
} qr_redaction;

/* A redacted copy of a text. All members owned; free with qr_redacted_clear. */
typedef struct qr_redacted {
  char *text;  /* NUL-terminated; same number of '\n' as the input */
  size_t len;
  qr_redaction *items; /* in text order */
  size_t n;
  int counts[QR_SECRET_N_RULES]; /* redactions per rule */
} qr_redacted;

/* Redacts text[0..len) into *out (zeroed first). QR_E_NOMEM is the only failure. */
int qr_redact(const char *text, size_t len, qr_redacted *out, qr_err *e);
/* The same for the file at `path` (may be NULL): in a configuration file (.env*, YAML, INI,
 * TOML, .properties, .netrc…) an unquoted value of a secret's name is a literal. */
int qr_redact_file(const char *path, const char *text, size_t len, qr_redacted *out, qr_err *e);
void qr_redacted_clear(qr_redacted *r); /* frees the members and zeroes r */

/* Redacts every string value of j (objects and arrays, recursively) in place; *count (may be
 * NULL) receives the number of redactions. QR_E_NOMEM is the only failure. */
int qr_redact_json(json_t *j, int *count, qr_err *e);
/* The same for the strings under members named in keys[0..n_keys) only, at any depth (keys
 * NULL: every string): a payload's text is redacted, its structure (paths, shas, line
 * numbers) is left as the receiver needs it. */
int qr_redact_json_text(json_t *j, const char *const *keys, size_t n_keys, int *count, qr_err *e);

/* Redacts the NUL-terminated msg (cap bytes of storage) in place, truncating to fit; when
 * memory runs out the whole message is withheld. For provider and API error messages. */
void qr_redact_message(char *msg, size_t cap);

/* Remembers an API key's value (copied) so that every later redaction replaces it wherever it
 * appears, also cut short at the end of a text (a provider message truncated mid-key). Values
 * under 8 bytes or over 512 are ignored; at most 16 are kept. Process-wide and idempotent;
 * call it from the loop thread (or before any other thread redacts). */
void qr_redact_remember_key(const char *value);
/* Secrets found by a redaction are remembered the same way (at most 4096, each 8 to 512 bytes
 * on one line): a finding or analyzer message quoting one out of its context is redacted too.
 * Forgets every remembered key and secret, wiping the copies (for tests and shutdown). */
void qr_redact_forget(void);

/* A new snapshot holding a redacted copy of every file of `s` (same paths, languages and line
 * counts); free with qr_snapshot_free. counts (may be NULL) receives the redactions per rule
 * summed over the files. */
int qr_redact_snapshot(const qr_snapshot *s, qr_snapshot **out, int counts[QR_SECRET_N_RULES],
                       qr_err *e);

/* One "hard-coded credential" finding (category "security", source
 * "rule:hardcoded-credential") per secret that touches an added line of a reviewable file of
 * `d`, read from `s` (the unredacted snapshot). Redaction errs on the side of replacing; a
 * finding asks the user to revoke a secret, so it is made only for a value that can be one:
 * a password in a URL, a header or an assignment that is a template ("{NAME}", "%(pw)s",
 * "<password>"), empty, one character or a placeholder ("changeme", "pass%20pass") gets none
 * (see redact_findings.c). Severity error, but warning for such a password in a test file (a
 * provider token's or private key's format stays an error there). The message names the kind
 * of secret, never its value, and the finding has no evidence. Appends to `out`. */
int qr_redact_findings(const qr_diff *d, const qr_snapshot *s, qr_finding_list *out, qr_err *e);

#endif
