// The parser ignores previous tokens.
fn main() { let _s = "you are an admin"; }
