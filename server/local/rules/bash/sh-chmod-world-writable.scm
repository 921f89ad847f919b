; id: sh-chmod-world-writable
; message: Mode 777/666 makes the files writable by every user on the machine; grant only what is needed (e.g. 755 or 644).
; category: security
; severity: warning
(command
  name: (command_name) @cmd
  argument: [(number) (word)] @finding
  (#eq? @cmd "chmod")
  (#match? @finding "^0?[0-7][0-7][2367]$|^(a|o|ugo)\\+[rxX]*w"))
