#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int copy_head(const char *src, char **out) {
  char *tmp = malloc(4096);
  int fd = open(src, O_RDONLY);
  if (fd < 0)
    return -1;
  if (read(fd, tmp, 4096) < 0)
    return -2;
  close(fd);
  *out = tmp;
  return 0;
}
