import os
import sys
import re


def main():
    return 0
