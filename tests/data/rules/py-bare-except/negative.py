def load(path):
    try:
        return open(path).read()
    except OSError:
        return None
    except (ValueError, KeyError) as e:
        raise RuntimeError(path) from e
