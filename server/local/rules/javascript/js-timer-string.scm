; id: js-timer-string
; message: A string passed to setTimeout/setInterval is evaluated like eval; pass a function instead.
; category: security
; severity: warning
; also: typescript tsx
(call_expression
  function: (identifier) @fn
  arguments: (arguments . [(string) (template_string) (binary_expression)])
  (#any-of? @fn "setTimeout" "setInterval")) @finding
