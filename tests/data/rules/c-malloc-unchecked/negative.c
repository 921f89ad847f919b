#include <stdlib.h>
#include <string.h>

struct node *make(int v) {
  struct node *nd = malloc(sizeof *nd);
  if (!nd) return NULL;
  nd->value = v;
  struct node *other = malloc(sizeof *other);
  other = nd;
  other->value = v;
  return nd;
}
