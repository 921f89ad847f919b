#include <stdio.h>
#include <string.h>

void set_name(struct user *u, const char *name) {
  char buf[32];
  strcpy(buf, "anonymous");
  snprintf(buf, sizeof buf, "%s", name);
  strncpy(u->title, name, sizeof u->title - 1);
}
