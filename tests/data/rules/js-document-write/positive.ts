function banner(msg) {
  document.write("<h1>" + msg + "</h1>");
}
