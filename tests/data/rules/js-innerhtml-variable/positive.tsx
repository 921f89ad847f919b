function show(el, name) {
  el.innerHTML = name;
  el.innerHTML += `<b>${name}</b>`;
}
