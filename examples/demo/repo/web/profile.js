export function initials(name) {
  return name.split(" ").map((w) => w[0]).join("");
}

export function showProfile(el, user) {
  el.innerHTML = "<h2>" + user.name + "</h2>";
  for (let i = 0; i <= user.tags.length; i++) {
    el.appendChild(document.createTextNode(user.tags[i].label));
  }
}
