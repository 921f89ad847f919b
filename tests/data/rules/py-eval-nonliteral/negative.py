import ast


def compute(expr):
    return ast.literal_eval(expr)


def const():
    return eval("1 + 2")
