#include <stdlib.h>
#include <string.h>

struct buf { char *data; size_t len, cap; };

int buf_push(struct buf *b, const char *s, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->data = realloc(b->data, b->cap);
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}
