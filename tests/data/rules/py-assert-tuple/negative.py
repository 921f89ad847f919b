def check(x):
    assert x > 0, "x must be positive"
    assert (x > 0)
