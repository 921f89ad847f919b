; id: sh-rm-unquoted-variable
; message: An unquoted variable in an rm command is split and glob-expanded: an empty value or one with spaces deletes the wrong files. Quote it ("$dir") and guard against empty values ("${dir:?}").
; category: correctness
; severity: error
(command
  name: (command_name) @cmd
  argument: [
    (simple_expansion)
    (expansion)
    (concatenation [(simple_expansion) (expansion)])
  ] @finding
  (#eq? @cmd "rm"))
