//! Scrubbing of sensitive strings from anything that might be printed.
//!
//! vault2env never formats a secret value on purpose; the redactor is the
//! second line of defence for text it does not control (Vault's error
//! messages), which a misbehaving server could fill with the JWT, the
//! token or a value.

/// Holds every sensitive string seen so far and removes them from text.
#[derive(Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} strings)", self.secrets.len())
    }
}

/// The longest piece of foreign text (Vault's error messages) that is printed.
const MAX_FOREIGN: usize = 300;

impl Redactor {
    /// Remembers a sensitive string. Very short strings (under 4 bytes) are
    /// not scrubbed, since removing them would mangle every message while
    /// protecting little.
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= 4 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            // Longest first, so a secret that contains another is removed whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Text with every known secret replaced by `<redacted>`, cut to a sane length.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "<redacted>");
            }
        }
        if out.len() > MAX_FOREIGN {
            let mut cut = MAX_FOREIGN;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
        }
        out
    }
}
