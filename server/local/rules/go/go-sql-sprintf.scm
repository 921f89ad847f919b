; id: go-sql-sprintf
; message: SQL built with fmt.Sprintf is open to SQL injection; pass the values as query arguments (db.Query("... WHERE id = $1", id)).
; category: security
; severity: error
(call_expression
  function: (selector_expression field: (field_identifier) @method)
  arguments: (argument_list
    (call_expression
      function: (selector_expression operand: (identifier) @pkg field: (field_identifier) @fn)))
  (#any-of? @method "Query" "QueryRow" "Exec" "QueryContext" "QueryRowContext" "ExecContext" "Prepare" "PrepareContext")
  (#eq? @pkg "fmt")
  (#eq? @fn "Sprintf")) @finding
