; id: c-scanf-unbounded-string
; message: A %s or %[ conversion without a field width reads an unlimited number of characters into the buffer; give a width one less than the buffer size (e.g. %63s).
; category: security
; severity: warning
(call_expression
  function: (identifier) @fn
  arguments: (argument_list (string_literal) @fmt)
  (#any-of? @fn "scanf" "fscanf" "sscanf")
  (#match? @fmt "%l?s|%\\[")) @finding
