; id: c-sprintf-unbounded
; message: sprintf with a %s conversion has no bound on the output, so a long string overflows the buffer; use snprintf(buf, sizeof buf, ...).
; category: security
; severity: warning
; A %s without a precision (%.20s is bounded) writes as much as the argument holds.
(call_expression
  function: (identifier) @fn
  arguments: (argument_list . (_) . (string_literal) @fmt)
  (#any-of? @fn "sprintf" "vsprintf")
  (#match? @fmt "%[-+ #0]*[0-9]*l?s")) @finding
