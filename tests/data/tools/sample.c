#include <stdlib.h>
#include <string.h>

int first(int *values, int n) {
  int buf[4];
  for (int i = 0; i <= 4; i++) buf[i] = values[i];
  char *p = malloc(16);
  strcpy(p, "hello");
  return buf[0] + n;
}

int divide(int a) {
  int zero = 0;
  return a / zero;
}
