const stripe = require("stripe")("sk_live_FAKE51HfakeKEY0123456789abcd");
const maps = new Maps({ key: "AIzaSyFAKE-fake_0123456789abcdefghijklm" });
sgMail.setApiKey("SG.FAKEfakeFAKEfake012345.FAKEfakeFAKEfake0123456789abcdefghijklmnopq");
// Conversion of string literal "ghp_FAKE0123456789abcdefghijklmnopqrstuv" to bool
if ("ghp_FAKE0123456789abcdefghijklmnopqrstuv") { login(); }
