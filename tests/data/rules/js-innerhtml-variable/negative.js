function show(el, name) {
  el.textContent = name;
  el.innerHTML = "<b>static</b>";
}
