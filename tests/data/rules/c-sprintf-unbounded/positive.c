#include <stdio.h>

void greet(const char *who) {
  char msg[32];
  sprintf(msg, "hello, %s!", who);
  puts(msg);
}
