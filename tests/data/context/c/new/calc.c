#include <stdio.h>

#define LIMIT 20

struct point {
  int x;
  int y;
  int z;
};

static int add(int a, int b) {
  return a + b;
}

int sum(const int *v, int n) {
  int s = 0;
  for (int i = 0; i <= n; i++)
    s = add(s, v[i]);
  return s;
}

int main(void) {
  int v[3] = {1, 2, 3};
  printf("%d\n", sum(v, 3));
  return 0;
}
