def find(cur, name, uid):
    cur.execute("SELECT * FROM users WHERE name = %s", (name,))
    cur.execute("DELETE FROM users WHERE id = ?", (uid,))
    log.execute("step %d" % uid)
