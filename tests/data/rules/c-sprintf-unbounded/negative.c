#include <stdio.h>

void greet(const char *who, int n) {
  char msg[32];
  snprintf(msg, sizeof msg, "hello, %s!", who);
  sprintf(msg, "%d items", n);
  sprintf(msg, "%.20s", who);
  puts(msg);
}
