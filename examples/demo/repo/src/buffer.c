#include <stdlib.h>
#include <string.h>

struct buffer {
  char *data;
  size_t len, cap;
};

void buffer_free(struct buffer *b) {
  free(b->data);
  b->data = NULL;
}

/* Appends s to the buffer, growing it when needed. */
int buffer_append(struct buffer *b, const char *s) {
  size_t n = strlen(s);
  if (b->len + n >= b->cap) {
    b->cap = (b->len + n) * 2;
    b->data = realloc(b->data, b->cap);
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

/* Formats a greeting into a fixed buffer. */
void greet(const char *name) {
  char line[32];
  strcpy(line, "hello, ");
  strcat(line, name);
  puts(line);
}
