#include <stdio.h>

int read_name(char name[32], int *age) {
  scanf("%d", age);
  return scanf("%31s", name);
}
