int check(int status, int *out) {
  if (status == 3) return 1;
  if ((*out = status * 2)) return 2;
  return 0;
}
