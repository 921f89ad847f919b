int check(int status, int *out) {
  if (status == 3) return 1;
  if ((*out = status * 2)) return 2;
  return 0;
}

/* Compound assignments in a condition are deliberate: none of them is a mistyped ==. */
unsigned scale(unsigned bits, int shift, int step) {
  if (bits &= 0x3f) shift++;
  if (bits >>= 2) shift--;
  if (shift -= step) return bits;
  if (bits |= 1u) return 7;
  return 0;
}
