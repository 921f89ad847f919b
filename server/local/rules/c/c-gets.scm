; id: c-gets
; message: gets() cannot limit what it reads and overflows the buffer on long input (it was removed in C11); use fgets(buf, sizeof buf, stdin).
; category: security
; severity: error
(call_expression
  function: (identifier) @fn
  (#eq? @fn "gets")) @finding
