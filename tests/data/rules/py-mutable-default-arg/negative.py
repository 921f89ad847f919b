def append(item, items=None):
    if items is None:
        items = []
    items.append(item)
    return items


def config(key, options: tuple = (), name="x", count=0):
    return options
