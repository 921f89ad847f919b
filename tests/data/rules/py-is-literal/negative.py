def kind(x):
    if x == "admin":
        return 1
    if x is None or x is not True:
        return 2
    return 0
