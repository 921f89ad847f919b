const { exec } = require("child_process");

function archive(name) {
  exec(`tar czf ${name}.tgz data`);
  child_process.execSync("rm -rf " + name);
}
