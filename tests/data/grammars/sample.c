#include <stdio.h>
#include <stdlib.h>

struct point {
  int x, y;
};

static int manhattan(const struct point *a, const struct point *b) {
  return abs(a->x - b->x) + abs(a->y - b->y);
}

int main(int argc, char **argv) {
  struct point p = {1, 2}, q = {.x = 4, .y = -2};
  for (int i = 0; i < argc; i++) printf("%s\n", argv[i]);
  printf("%d\n", manhattan(&p, &q));
  return 0;
}
