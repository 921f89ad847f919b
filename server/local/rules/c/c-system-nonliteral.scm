; id: c-system-nonliteral
; message: The shell command passed here is built at run time; if any part comes from input this is command injection. Prefer fork/exec (posix_spawn) with an argument vector.
; category: security
; severity: warning
(call_expression
  function: (identifier) @fn
  arguments: (argument_list . [(identifier) (field_expression) (subscript_expression) (call_expression) (pointer_expression)])
  (#any-of? @fn "system" "popen")) @finding
