#include <stdlib.h>
#include <string.h>

struct frame { char tag[16]; char *body; };

void frame_fill(struct frame *fr, const char *tag, const char *body, size_t body_len) {
  memcpy(fr->tag, tag, strlen(tag));
  fr->body = memcpy(malloc(body_len), body, body_len + 1);
}
