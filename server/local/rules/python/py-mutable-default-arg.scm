; id: py-mutable-default-arg
; message: A mutable default argument is created once and shared by every call, so changes leak between calls; default to None and create the object inside the function.
; category: correctness
; severity: warning
(default_parameter value: [(list) (dictionary) (set)] @finding)
(typed_default_parameter value: [(list) (dictionary) (set)] @finding)
(default_parameter
  value: (call) @finding
  (#match? @finding "^(list|dict|set)\\(\\)$"))
