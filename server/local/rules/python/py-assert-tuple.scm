; id: py-assert-tuple
; message: Asserting a parenthesized tuple always passes (a non-empty tuple is true); write `assert condition, "message"` without the parentheses.
; category: correctness
; severity: error
(assert_statement . (tuple) @finding)
