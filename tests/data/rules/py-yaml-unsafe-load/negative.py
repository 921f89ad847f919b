import yaml


def read(text):
    yaml.load(text, Loader=yaml.SafeLoader)
    return yaml.safe_load(text)
