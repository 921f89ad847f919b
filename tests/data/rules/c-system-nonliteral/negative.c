#include <stdlib.h>

int run(void) {
  return system("make clean");
}
