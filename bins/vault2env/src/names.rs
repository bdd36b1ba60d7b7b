//! Secret keys to environment variable names, and `vault:` references.

/// Whether `name` is a portable variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The variable name for a secret key: valid names are kept as they are;
/// others are upper-cased with `-`, `.` and `/` turned into `_`
/// (`redis-password` → `REDIS_PASSWORD`). `None` when still invalid.
pub fn normalise(key: &str) -> Option<String> {
    if is_valid_name(key) {
        return Some(key.to_owned());
    }
    let n: String = key
        .chars()
        .map(|c| match c {
            '-' | '.' | '/' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    is_valid_name(&n).then_some(n)
}

/// A parsed `vault:<path>#<key>` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Path relative to the KV mount, without leading or trailing slashes.
    pub path: String,
    /// Key inside the secret.
    pub key: String,
}

/// Parses a variable value as a reference. Only the exact form
/// `vault:<path>#<key>` (non-empty path and key, no whitespace) is one:
/// `None` for every other value, including ones that merely start with
/// `vault:` (see [`looks_like_reference`]). `Some(Err(..))` when the form is
/// right but the path has an empty, `.` or `..` segment.
pub fn parse_reference(value: &str) -> Option<Result<Reference, String>> {
    let rest = value.strip_prefix("vault:")?;
    let (path, key) = rest.rsplit_once('#')?;
    let path = path.trim_matches('/');
    if path.is_empty() || key.is_empty() || rest.contains(char::is_whitespace) {
        return None;
    }
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Some(Err("the path has an empty, . or .. segment".into()));
    }
    Some(Ok(Reference {
        path: path.to_owned(),
        key: key.to_owned(),
    }))
}

/// Whether a value starts with `vault:` without being a reference: such
/// values pass through unchanged, and vault2env warns (naming the variable,
/// never the value) in case a reference was meant.
pub fn looks_like_reference(value: &str) -> bool {
    value.starts_with("vault:") && parse_reference(value).is_none()
}
