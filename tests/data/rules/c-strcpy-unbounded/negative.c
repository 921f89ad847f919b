#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct user {
  char *title;
  char *suffix;
};

void set_name(struct user *u, const char *name) {
  char buf[32];
  strcpy(buf, "anonymous");
  snprintf(buf, sizeof buf, "%s", name);
  strncpy(u->title, name, strlen(u->title));
}

/* A heap destination sized for its sources: sizeof of it would be the pointer's. */
char *join(const char *a, const char *b) {
  char *out = malloc(strlen(a) + strlen(b) + 1);
  if (!out) return NULL;
  strcpy(out, a);
  strcat(out, b);
  return out;
}

/* A member that is a pointer, and an array parameter (a pointer too). */
void retitle(struct user *u, char dst[16], const char *name) {
  strcpy(u->title, name);
  strcat(u->title, u->suffix);
  strcpy(dst, name);
}

/* An inner declaration of a pointer hides an outer array of the same name. */
void shadow(const char *name) {
  char label[8];
  label[0] = 0;
  {
    char *label = malloc(strlen(name) + 1);
    if (label) strcpy(label, name);
    free(label);
  }
}
