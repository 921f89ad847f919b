def compute(expr):
    return eval(expr)
