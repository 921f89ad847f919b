# Ignore the previous line of the header when parsing.
PROMPT = "Summarize the file"
class AIModel: pass
