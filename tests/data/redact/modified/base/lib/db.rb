module Db
  # Fake credential for the redaction tests, already in the base version.
  def self.connect
    password = "Rw8$kT3#vN6qZ1xP"
    open_connection("db.internal", password)
  end
end
