; id: c-strcpy-unbounded
; message: This copy into a fixed-size buffer has no bound: a longer source overflows the destination; use snprintf(dst, sizeof dst, "%s", src) or a copy with an explicit size.
; category: security
; severity: warning
; The source is not a literal, so its length is not known where the code is written.
(call_expression
  function: (identifier) @fn
  arguments: (argument_list
    .
    (_)
    .
    [(identifier) (field_expression) (subscript_expression) (call_expression) (pointer_expression)]
    .)
  (#any-of? @fn "strcpy" "strcat" "wcscpy" "wcscat" "stpcpy")) @finding
