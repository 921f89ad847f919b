; id: py-sql-built-string
; message: SQL built with string formatting and passed to execute() is open to SQL injection; pass the values as query parameters (cursor.execute("... WHERE id = %s", (id,))).
; category: security
; severity: error
(call
  function: (attribute attribute: (identifier) @fn)
  arguments: (argument_list
    .
    [
      (binary_operator left: (string) operator: ["%" "+"])
      (string (interpolation))
      (call function: (attribute object: (string) attribute: (identifier) @format))
    ] @sql)
  (#any-of? @fn "execute" "executemany" "executescript" "raw")
  (#eq? @format "format")
  (#match? @sql "(?i)(select|insert|update|delete|create|drop|alter|replace|with)[[:space:]]")) @finding
