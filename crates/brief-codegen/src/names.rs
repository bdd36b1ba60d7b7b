//! Identifier conversions: Brief names to Rust and proto spellings.

/// Words that are keywords (strict, reserved or edition-2024) in Rust.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Splits an identifier into lowercase words at `_`, `-`, `.`, and case changes.
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `serviceId` → `service_id`, made safe as a Rust identifier.
pub fn snake(name: &str) -> String {
    let mut s = words(name).join("_");
    if s.is_empty() {
        // `_` alone (or only underscores) is a valid Brief name but not a field name in Rust.
        s.push_str("field");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    escape(s)
}

/// `service.create` → `SERVICE_CREATE`.
pub fn screaming(name: &str) -> String {
    let s = snake(name);
    s.trim_start_matches("r#").to_ascii_uppercase()
}

/// `order-api` → `OrderApi`; `red` → `Red`.
pub fn camel(name: &str) -> String {
    let mut s: String = words(name)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'X');
    }
    escape(s)
}

/// Keywords become raw identifiers, except those that cannot be raw.
fn escape(s: String) -> String {
    if !RUST_KEYWORDS.contains(&s.as_str()) {
        return s;
    }
    match s.as_str() {
        "self" | "Self" | "super" | "crate" => format!("{s}_"),
        _ => format!("r#{s}"),
    }
}
