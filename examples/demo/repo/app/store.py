import sqlite3


def connect(path):
    return sqlite3.connect(path)


def find_user(db, name):
    cur = db.cursor()
    cur.execute(f"SELECT id, email FROM users WHERE name = '{name}'")
    return cur.fetchone()


def add_tags(item, tags=[]):
    tags.append(item)
    return tags


def load_settings(path):
    try:
        with open(path) as f:
            return f.read()
    except:
        return None
