// We ignore the previous value on purpose.
int x;
