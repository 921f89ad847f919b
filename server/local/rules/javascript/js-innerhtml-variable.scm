; id: js-innerhtml-variable
; message: Assigning computed HTML to innerHTML/outerHTML is a cross-site scripting risk when any part comes from input; set textContent, or build elements with createElement.
; category: security
; severity: warning
; also: typescript tsx
(assignment_expression
  left: (member_expression property: (property_identifier) @prop)
  right: [(identifier) (member_expression) (subscript_expression) (call_expression) (binary_expression) (template_string (template_substitution))]
  (#any-of? @prop "innerHTML" "outerHTML")) @finding
(augmented_assignment_expression
  left: (member_expression property: (property_identifier) @prop)
  right: [(identifier) (member_expression) (subscript_expression) (call_expression) (binary_expression) (template_string (template_substitution))]
  (#any-of? @prop "innerHTML" "outerHTML")) @finding
