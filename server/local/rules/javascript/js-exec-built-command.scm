; id: js-exec-built-command
; message: A shell command built from strings and run with exec/execSync is command injection when any part comes from input; use execFile/spawn with an argument array.
; category: security
; severity: error
; also: typescript tsx
(call_expression
  function: [
    (identifier) @fn
    (member_expression property: (property_identifier) @fn)
  ]
  arguments: (arguments . [(binary_expression) (template_string (template_substitution))])
  (#any-of? @fn "exec" "execSync")) @finding
