/* Code with token, key and password in its names, and no secret. */
#include <string.h>

#define PASSWORD_PROMPT "Enter password: "
#define MAX_TOKEN_LEN 256
#define KEY_SIZE 32

static const char *token_kind = "refresh";

int check(const char *key, const char *password) {
  if (strcmp(key, "api_version") == 0) return 1;
  char token[MAX_TOKEN_LEN];
  memset(token, 0, sizeof token);
  return password && strlen(password) >= 12 && token_kind[0];
}

/* -----BEGIN RSA PRIVATE KEY----- marks the start of a PEM block; see RFC 7468. */
static const char *const pem_begin = "-----BEGIN RSA PRIVATE KEY-----";
