; id: py-tls-verify-disabled
; message: verify=False turns off TLS certificate checks, so anyone on the network path can read and change the traffic; keep verification on (pass a CA bundle path if needed).
; category: security
; severity: warning
(call
  arguments: (argument_list
    (keyword_argument name: (identifier) @kw value: (false)) @finding)
  (#eq? @kw "verify"))
