/* quorum.c — the command-line client. */
#include <stdio.h>
#include <string.h>

#include "version.h"

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--version")) {
      printf("quorum %s\n", QR_VERSION);
      return 0;
    }
  }
  printf("usage: quorum review [options]\n");
  return 0;
}
