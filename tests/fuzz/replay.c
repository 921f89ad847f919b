/* replay.c — runs a libFuzzer harness over a saved corpus without libFuzzer, so `make test`
 * replays every input under ASan/UBSan. Usage: fuzz-NAME DIR|FILE… ; prints one ok/FAIL line. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  char *buf;
  size_t len;
  qr_err e;
  if (qr_read_file(path, 64u << 20, &buf, &len, &e)) {
    fprintf(stderr, "%s\n", e.msg);
    return 1;
  }
  LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
  qr_free(buf);
  return 0;
}

static int replay(const char *path, int *count) {
  struct stat st;
  if (stat(path, &st)) return 0; /* an empty corpus is not an error */
  if (!S_ISDIR(st.st_mode)) {
    (*count)++;
    return replay_file(path);
  }
  DIR *d = opendir(path);
  if (!d) return 1;
  struct dirent *ent;
  int rc = 0;
  while ((ent = readdir(d))) {
    if (ent->d_name[0] == '.') continue;
    char *p = qr_asprintf("%s/%s", path, ent->d_name);
    if (!p) { rc = 1; break; }
    rc |= replay(p, count);
    qr_free(p);
  }
  closedir(d);
  return rc;
}

int main(int argc, char **argv) {
  int count = 0, rc = 0;
  for (int i = 1; i < argc; i++) rc |= replay(argv[i], &count);
  printf("%s fuzz-replay/%s (%d inputs)\n", rc ? "FAIL" : "ok", argc > 1 ? argv[1] : "-", count);
  return rc;
}
