#include <stdlib.h>

int grow(struct vec *v, size_t n) {
  v->items = realloc(v->items, n * sizeof *v->items);
  return v->items != NULL;
}
