def append(item, items=[]):
    items.append(item)
    return items


def config(key, options: dict = {}):
    return options.get(key)
