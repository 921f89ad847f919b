import subprocess


def archive(name):
    subprocess.run(["tar", "czf", name + ".tgz", "data"])
    subprocess.run("make clean", shell=True)
    subprocess.call(["rm", "-rf", f"{name}"], shell=False)
