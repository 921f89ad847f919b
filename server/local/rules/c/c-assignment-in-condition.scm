; id: c-assignment-in-condition
; message: An assignment used as the if condition; this is usually a mistyped comparison (==). If the assignment is intended, wrap it in a second pair of parentheses.
; category: correctness
; severity: warning
; `if ((x = f()))` has an extra parenthesized_expression and is not matched: that is the idiom for an intended assignment.
; Only a plain `=` can be a mistyped `==`: compound assignments (`if (k &= 0x1f)`) are meant.
(if_statement
  condition: (parenthesized_expression (assignment_expression operator: "=") @finding))
