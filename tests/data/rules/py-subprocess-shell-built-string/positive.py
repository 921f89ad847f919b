import subprocess


def archive(name):
    subprocess.run("tar czf " + name + ".tgz data", shell=True)
    subprocess.call(f"rm -rf {name}", shell=True)
