; id: js-eval
; message: eval (or new Function) of a value computed at run time executes arbitrary code if any of it comes from input; parse data with JSON.parse or use a lookup table.
; category: security
; severity: warning
; also: typescript tsx
(call_expression
  function: (identifier) @fn
  arguments: (arguments . [(identifier) (member_expression) (subscript_expression) (call_expression) (binary_expression) (template_string (template_substitution))])
  (#eq? @fn "eval")) @finding
(new_expression
  constructor: (identifier) @fn
  (#eq? @fn "Function")) @finding
