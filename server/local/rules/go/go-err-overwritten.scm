; id: go-err-overwritten
; message: This err is assigned and then overwritten by the next statement before anyone checks it, so the first error is silently lost; check it (if err != nil) before the next call.
; category: correctness
; severity: warning
; The next statement assigns err again without reading it; that is the unchecked case which
; needs no data flow to see.
(block
  [
    (short_var_declaration left: (expression_list (identifier) @e1))
    (assignment_statement left: (expression_list (identifier) @e1))
  ] @finding
  .
  [
    (short_var_declaration left: (expression_list (identifier) @e2) right: (_) @rhs)
    (assignment_statement left: (expression_list (identifier) @e2) right: (_) @rhs)
  ]
  (#eq? @e1 "err")
  (#eq? @e2 "err")
  (#not-match? @rhs "(^|[^A-Za-z0-9_])err([^A-Za-z0-9_]|$)"))
