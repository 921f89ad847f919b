; id: c-strcpy-unbounded
; message: This copy into a fixed-size array has no bound: a longer source overflows the destination; use snprintf(dst, sizeof dst, "%s", src) or a copy with an explicit size.
; category: security
; severity: warning
; The source is not a literal, so its length is not known where the code is written. Only an
; array destination (declared `char name[N]` in scope, or a member declared as an array in the
; file) is matched: a pointer may be sized for its source, and `sizeof` of it is the pointer's.
(call_expression
  function: (identifier) @fn
  arguments: (argument_list
    .
    [(identifier) (field_expression)] @dst
    .
    [(identifier) (field_expression) (subscript_expression) (call_expression) (pointer_expression)]
    .)
  (#any-of? @fn "strcpy" "strcat" "wcscpy" "wcscat" "stpcpy")
  (#array? @dst)) @finding
