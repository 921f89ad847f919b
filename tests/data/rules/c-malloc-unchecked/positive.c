#include <stdlib.h>
#include <string.h>

struct node *make(int v, size_t n) {
  struct node *nd = malloc(sizeof *nd);
  nd->value = v;
  char *buf = (char *)malloc(n);
  memset(buf, 0, n);
  return nd;
}
