import math


class Pager:
    def __init__(self, items, size):
        self.items = items
        self.size = size

    def page_count(self):
        return len(self.items) // self.size

    def pages(self):
        for n in range(self.page_count()):
            yield self.items[n * self.size:(n + 1) * self.size]
