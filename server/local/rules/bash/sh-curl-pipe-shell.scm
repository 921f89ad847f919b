; id: sh-curl-pipe-shell
; message: Piping a download straight into a shell runs whatever the server (or anyone on the way) sends, even a truncated script; download to a file, verify its checksum, then run it.
; category: security
; severity: warning
(pipeline
  (command name: (command_name) @get)
  .
  (command name: (command_name) @sh)
  (#any-of? @get "curl" "wget")
  (#any-of? @sh "sh" "bash" "zsh" "sudo")) @finding
