; id: py-is-literal
; message: `is` compares identity, not value: with a str or number literal the result depends on interning and Python warns about it; use ==.
; category: correctness
; severity: warning
; fix: ==
(comparison_operator
  (_)
  operators: "is" @fix
  [(string) (integer) (float)]) @finding
