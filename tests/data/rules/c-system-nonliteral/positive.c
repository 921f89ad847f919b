#include <stdlib.h>

int run(const char *cmd) {
  return system(cmd);
}
