#include <stdio.h>

int main(void) {
  char line[64];
  gets(line);
  return line[0];
}
