; id: c-realloc-self-assign
; message: Assigning realloc's result back to the pointer it resizes leaks the old block when realloc fails (it returns NULL and the old pointer is lost); assign to a temporary and check it first.
; category: correctness
; severity: warning
(assignment_expression
  left: (_) @lhs
  right: [
    (call_expression function: (identifier) @fn arguments: (argument_list . (_) @arg))
    (cast_expression value: (call_expression function: (identifier) @fn arguments: (argument_list . (_) @arg)))
  ]
  (#eq? @fn "realloc")
  (#eq? @lhs @arg)) @finding
