//! Container names and ids: validation in Docker's words, generated names, random ids.

use std::io::Read;

use crate::error::{EngineError, Result};

/// Docker's rule: `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`.
pub fn validate_name(name: &str) -> Result<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut chars = bare.chars();
    let valid = match chars.next() {
        Some(first) if first.is_ascii_alphanumeric() => {
            let rest = chars.as_str();
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        }
        _ => false,
    };
    if !valid {
        return Err(EngineError::InvalidArgument(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )));
    }
    Ok(bare.to_owned())
}

/// 64 hex digits from the kernel's random source; never all digits (Docker avoids ids that
/// look like numbers, since a short id could be taken for one).
pub fn new_id() -> Result<String> {
    loop {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(|e| EngineError::io("reading", "/dev/urandom", e))?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !id[..12].bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id);
        }
    }
}

const ADJECTIVES: &[&str] = &[
    "admiring", "bold", "brave", "calm", "clever", "eager", "elegant", "focused", "gallant",
    "happy", "jolly", "keen", "kind", "lucid", "modest", "nifty", "quirky", "serene", "sharp",
    "stoic", "tender", "trusting", "vibrant", "wizardly", "zealous",
];

const NAMES: &[&str] = &[
    "agnesi", "babbage", "curie", "dijkstra", "euler", "fermat", "galois", "hopper", "hypatia",
    "kepler", "knuth", "lamport", "liskov", "lovelace", "noether", "pascal", "ritchie", "shannon",
    "thompson", "torvalds", "turing", "wozniak",
];

/// A free name like Docker's: `adjective_scientist`, with a digit appended after a clash.
pub fn generate_name(taken: impl Fn(&str) -> bool) -> Result<String> {
    for attempt in 0..64 {
        let mut bytes = [0u8; 3];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(|e| EngineError::io("reading", "/dev/urandom", e))?;
        let mut name = format!(
            "{}_{}",
            ADJECTIVES[bytes[0] as usize % ADJECTIVES.len()],
            NAMES[bytes[1] as usize % NAMES.len()]
        );
        if attempt > 0 {
            name.push_str(&(bytes[2] % 10).to_string());
        }
        if !taken(&name) {
            return Ok(name);
        }
    }
    Err(EngineError::Internal("no free container name".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        assert_eq!(validate_name("/web").unwrap(), "web");
        assert_eq!(validate_name("a.b_c-1").unwrap(), "a.b_c-1");
        for bad in ["", "a", "-x", "we b", "x/y", "_ab", "ü1"] {
            let e = validate_name(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )
            );
        }
    }

    #[test]
    fn ids_are_64_hex_and_names_avoid_taken_ones() {
        let id = new_id().unwrap();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        let name = generate_name(|n| !n.chars().last().unwrap().is_ascii_digit()).unwrap();
        assert!(name.chars().last().unwrap().is_ascii_digit());
    }
}
