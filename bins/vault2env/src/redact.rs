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
    /// A secret of 1 to 3 bytes is known: it cannot be scrubbed without
    /// mangling every message, so foreign text is withheld altogether.
    withhold: bool,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} strings)", self.secrets.len())
    }
}

/// The longest piece of foreign text (Vault's error messages) that is printed.
const MAX_FOREIGN: usize = 300;

impl Redactor {
    /// Remembers a sensitive string. Very short strings (under 4 bytes)
    /// cannot be scrubbed safely (removing every `ab` would mangle messages
    /// and still leak by omission), so once one is known, [`Redactor::foreign`]
    /// withholds foreign text instead.
    pub fn add(&mut self, secret: &str) {
        if (1..4).contains(&secret.len()) {
            self.withhold = true;
        }
        if secret.len() >= 4 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            // Longest first, so a secret that contains another is removed whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Text that vault2env does not control (Vault's error messages), fit to
    /// print: scrubbed, or `None` when a secret too short to scrub is known
    /// (print the status and path only).
    pub fn foreign(&self, text: &str) -> Option<String> {
        (!self.withhold).then(|| self.scrub(text))
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
