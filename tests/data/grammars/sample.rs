use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Entry {
    name: String,
    hits: u32,
}

impl Entry {
    pub fn new(name: &str) -> Self {
        Entry { name: name.to_string(), hits: 0 }
    }
}

fn count<'a>(words: &[&'a str]) -> HashMap<&'a str, usize> {
    let mut map = HashMap::new();
    for w in words {
        *map.entry(*w).or_insert(0) += 1;
    }
    map
}

fn main() {
    let e = Entry::new("x");
    println!("{:?} {:?}", e, count(&["a", "b", "a"]));
}
