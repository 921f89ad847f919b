#include <stdlib.h>

int grow(struct vec *v, size_t n) {
  void *p = realloc(v->items, n * sizeof *v->items);
  if (!p) return 0;
  v->items = p;
  return 1;
}
