#include <string.h>

void set_name(struct user *u, const char *name) {
  char buf[32];
  strcpy(buf, name);
  strcat(u->title, u->suffix);
}
