int check(int status) {
  if (status = 3) return 1;
  return 0;
}
