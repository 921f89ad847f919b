; id: py-subprocess-shell-built-string
; message: A shell command built from strings and run with shell=True is command injection when any part comes from input; pass a list of arguments without shell=True (or quote with shlex.quote).
; category: security
; severity: error
(call
  function: (attribute object: (identifier) @mod attribute: (identifier) @fn)
  arguments: (argument_list
    .
    [
      (binary_operator)
      (string (interpolation))
      (call function: (attribute attribute: (identifier) @format))
    ] @cmd
    (keyword_argument name: (identifier) @kw value: (true)))
  (#eq? @mod "subprocess")
  (#any-of? @fn "run" "call" "check_call" "check_output" "Popen" "getoutput" "getstatusoutput")
  (#eq? @format "format")
  (#eq? @kw "shell")) @finding
(call
  function: (attribute object: (identifier) @mod attribute: (identifier) @fn)
  arguments: (argument_list
    .
    [
      (binary_operator)
      (string (interpolation))
      (call function: (attribute attribute: (identifier) @format))
    ])
  (#eq? @mod "os")
  (#any-of? @fn "system" "popen")
  (#eq? @format "format")) @finding
