class A {
  // We are an open project; see the rules above.
  int x;
}
