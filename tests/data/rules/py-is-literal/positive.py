def kind(x):
    if x is "admin":
        return 1
    return 0
