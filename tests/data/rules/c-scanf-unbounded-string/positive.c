#include <stdio.h>

int read_name(char name[32]) {
  return scanf("%s", name);
}
