import functools


class Cart:
    def __init__(self):
        self.items = []

    def add(self, name, price):
        self.items.append((name, price))

    def total(self):
        total = 0
        for _, p in self.items:
            total += p
        return total


@functools.lru_cache(maxsize=None)
def discount(code):
    if code == "HALF":
        return 0.5
    return 1.0


TAX = 0.25
