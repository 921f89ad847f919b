import os
import sys


def load(path):
    unused = 1
    return open(path).read() + missing_name


def again():
    pass


def again():
    return sys.argv
