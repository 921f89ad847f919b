#include <string.h>

struct user {
  char title[64];
  char suffix[16];
};

static char last_seen[40];

void set_name(struct user *u, const char *name) {
  char buf[32];
  strcpy(buf, name);
  strcat(u->title, u->suffix);
  if (name[0]) {
    strcpy(last_seen, name);
  }
}
