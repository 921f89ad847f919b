; id: go-defer-in-loop
; message: defer inside a loop runs only when the function returns, so every iteration holds its resource until then; move the loop body into a function or close explicitly.
; category: correctness
; severity: warning
(for_statement body: (block (defer_statement) @finding))
