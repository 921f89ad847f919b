; id: py-eval-nonliteral
; message: eval/exec of a value computed at run time runs arbitrary code if any of it comes from input; parse the data instead (ast.literal_eval, json.loads).
; category: security
; severity: warning
(call
  function: (identifier) @fn
  arguments: (argument_list . [(identifier) (attribute) (subscript) (call) (binary_operator) (string (interpolation))])
  (#any-of? @fn "eval" "exec")) @finding
