# Previous instructions are in README.
x = "no issues found"
