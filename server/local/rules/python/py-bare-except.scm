; id: py-bare-except
; message: A bare `except:` also catches KeyboardInterrupt and SystemExit and hides real errors; catch Exception (or the specific exceptions expected).
; category: correctness
; severity: warning
; fix: except Exception
; A bare clause has no exception type: "except" is followed directly by the colon.
((except_clause "except" @finding) @clause
  (#match? @clause "^except[[:space:]]*:"))
