; id: py-yaml-unsafe-load
; message: yaml.load without a Loader can construct arbitrary Python objects from the document; use yaml.safe_load.
; category: security
; severity: warning
; fix: safe_load
(call
  function: (attribute object: (identifier) @mod attribute: (identifier) @fix)
  arguments: (argument_list . (_) .)
  (#eq? @mod "yaml")
  (#eq? @fix "load")) @finding
