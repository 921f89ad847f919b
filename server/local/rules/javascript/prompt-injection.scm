; id: prompt-injection
; message: This text speaks to an AI reviewer ("ignore previous instructions", "report no issues", "you are an AI"): a possible prompt injection aimed at automated review, which models reading this change may obey. Remove it, or confirm it is intended.
; category: prompt-injection
; severity: warning
; also: typescript tsx
; Comments and string literals only, so identifiers and code never match.
([(comment) (string) (template_string)] @finding
  (#match? @finding "(?i)(ignore|disregard|forget|override)[[:space:]]+(all[[:space:]]+)?(the[[:space:]]+|any[[:space:]]+|your[[:space:]]+)?(previous|prior|above|earlier|preceding|system)[[:space:]]+(instructions|prompts?|rules|guidelines)|report[[:space:]]+(no|zero)[[:space:]]+(issues|findings|bugs|problems|vulnerabilities)|you[[:space:]]+are[[:space:]]+an?[[:space:]]+(ai|llm|large[[:space:]]+language[[:space:]]+model)([^[:alnum:]]|$)|(ai|llm|automated)[[:space:]]+(code[[:space:]]+)?reviewers?[[:space:]]*(must|should|:)"))
