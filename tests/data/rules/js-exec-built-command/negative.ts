const { execFile } = require("child_process");

function archive(name) {
  execFile("tar", ["czf", name + ".tgz", "data"]);
  exec("make clean");
}
