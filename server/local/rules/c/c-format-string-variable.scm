; id: c-format-string-variable
; message: A variable used as the format string: any '%' in the data is read as a conversion (crash, memory disclosure or write with %n); print it with an explicit "%s" format.
; category: security
; severity: warning
; fix: "%s", @fix
(call_expression
  function: (identifier) @fn
  arguments: (argument_list . (identifier) @fix .)
  (#eq? @fn "printf")) @finding
(call_expression
  function: (identifier) @fn
  arguments: (argument_list . (_) . (identifier) @fix .)
  (#any-of? @fn "fprintf" "dprintf")) @finding
