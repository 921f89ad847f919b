#include <stdio.h>

void log_msg(const char *msg, int n) {
  printf("%s", msg);
  fprintf(stderr, "%s\n", msg);
  printf("done\n");
  fprintf(stderr, "%d\n", n);
}
