import os


def export(name):
    os.system("sort " + name + " > /tmp/report.txt")
    with open("/tmp/report.txt") as f:
        return f.read()
