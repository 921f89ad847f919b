; id: js-document-write
; message: document.write with computed content is a cross-site scripting risk and blocks parsing; build DOM nodes (createElement, textContent) instead.
; category: security
; severity: warning
; also: typescript tsx
(call_expression
  function: (member_expression object: (identifier) @obj property: (property_identifier) @fn)
  arguments: (arguments . [(identifier) (member_expression) (subscript_expression) (call_expression) (binary_expression) (template_string (template_substitution))])
  (#eq? @obj "document")
  (#any-of? @fn "write" "writeln")) @finding
