export function greet(req, res) {
  const name = req.query.name;
  res.send("<h1>Hello " + name + "</h1>");
}
