; id: c-malloc-unchecked
; message: The allocation result is used on the next line without a NULL check; when allocation fails this dereferences NULL. Check the pointer first.
; category: correctness
; severity: warning
; Only the statement right after the allocation is looked at: that is where the check belongs.
(compound_statement
  [
    (declaration
      declarator: (init_declarator
        declarator: (pointer_declarator declarator: (identifier) @var)
        value: [
          (call_expression function: (identifier) @fn)
          (cast_expression value: (call_expression function: (identifier) @fn))
        ]))
    (expression_statement
      (assignment_expression
        left: (identifier) @var
        right: [
          (call_expression function: (identifier) @fn)
          (cast_expression value: (call_expression function: (identifier) @fn))
        ]))
  ] @finding
  .
  (expression_statement [
    (assignment_expression
      left: [
        (subscript_expression argument: (identifier) @use)
        (field_expression argument: (identifier) @use)
        (pointer_expression argument: (identifier) @use)
      ])
    (call_expression
      function: (identifier) @callee
      arguments: (argument_list . (identifier) @use))
  ])
  (#any-of? @fn "malloc" "calloc" "realloc" "strdup" "strndup")
  (#any-of? @callee "memset" "memcpy" "memmove" "strcpy" "strcat" "sprintf" "snprintf")
  (#eq? @var @use))
