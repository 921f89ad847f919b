def find(cur, name, uid):
    cur.execute("SELECT * FROM users WHERE name = '%s'" % name)
    cur.execute(f"DELETE FROM users WHERE id = {uid}")
