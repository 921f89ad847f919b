; id: go-file-not-closed
; message: A file opened here is never closed in this function, which leaks a descriptor on every call; add `defer f.Close()` after the error check.
; category: correctness
; severity: warning
; The function neither closes anything nor returns a file-like value (which would hand the
; file to its caller).
(function_declaration
  result: (_)? @result
  body: (block
    (short_var_declaration
      right: (expression_list
        (call_expression
          function: (selector_expression operand: (identifier) @pkg field: (field_identifier) @fn)))) @finding) @body
  (#eq? @pkg "os")
  (#any-of? @fn "Open" "OpenFile" "Create")
  (#not-match? @result "File|Reader|Writer|Closer|io\\.")
  (#not-match? @body "Close\\("))
