/* main.c — quorum-ls, the language server on stdio. */
#include <stdio.h>
#include <string.h>

#include "version.h"

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--version")) {
      printf("quorum-ls %s\n", QR_VERSION);
      return 0;
    }
  }
  fprintf(stderr, "quorum-ls: the LSP core is being built\n");
  return 1;
}
