// Fake credentials for the redaction tests.
const config = {
  dbPassword: "Xk9#qL2v!Rm7@pZ4",
  client_secret: 'q8Vn3Kp1Wz6Tb9Yr',
  session: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
  tokenizer: "bert-base-uncased",
};

function connect() {
  return open(config.dbPassword);
}
