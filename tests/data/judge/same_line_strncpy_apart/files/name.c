#include <string.h>

void set_name(char *dst, const char *src) {
  strncpy(dst, src, sizeof dst);
}
