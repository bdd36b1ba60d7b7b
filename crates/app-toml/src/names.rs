//! Name rules: DNS-1123 labels (they become Kubernetes object names), POSIX
//! variable names (`[env]`, `[secrets] keys`), IANA service names (ports),
//! host names (routes), plus the "did you mean" suggestion shared by every
//! check.

/// Why `name` is not a DNS-1123 label of at most `max` characters, if it is not.
pub(crate) fn dns_label_problem(name: &str, max: usize) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".to_owned());
    }
    let len = name.chars().count();
    if len > max {
        return Some(format!(
            "is {len} characters long, at most {max} are allowed"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "contains {}, only lowercase letters, digits and '-' are allowed",
            describe_char(c)
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("must start and end with a lowercase letter or digit".to_owned());
    }
    None
}

/// A DNS-1123 label close to `name` (lowercased, separators turned into
/// `-`), when there is one.
pub(crate) fn dns_label_suggestion(name: &str, max: usize) -> Option<String> {
    let s: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '_' | '.' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let s = s.trim_matches('-').to_owned();
    (s != name && dns_label_problem(&s, max).is_none()).then_some(s)
}

/// Why `name` is not a POSIX variable name (`[A-Za-z_][A-Za-z0-9_]*`), if it is not.
pub(crate) fn posix_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    match chars.next() {
        None => Some("must not be empty".to_owned()),
        Some(c) if c.is_ascii_digit() => Some("must not start with a digit".to_owned()),
        Some(_) => name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map(|c| {
                format!(
                    "contains {}, only letters, digits and '_' are allowed",
                    describe_char(c)
                )
            }),
    }
}

/// A POSIX variable name close to `name`, when there is one.
pub(crate) fn posix_name_suggestion(name: &str) -> Option<String> {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    (s != name && posix_name_problem(&s).is_none()).then_some(s)
}

/// Why `name` is not an IANA service name as Kubernetes port names require
/// (1 to 15 of `a-z0-9-`, at least one letter, no leading, trailing or
/// doubled `-`), if it is not.
pub(crate) fn port_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".to_owned());
    }
    let len = name.chars().count();
    if len > 15 {
        return Some(format!("is {len} characters long, at most 15 are allowed"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "contains {}, only lowercase letters, digits and '-' are allowed",
            describe_char(c)
        ));
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return Some("must contain at least one letter".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Some("must not start or end with '-' or contain \"--\"".to_owned());
    }
    None
}

/// Why `host` is not a host name for a route (DNS-1123 subdomain, optionally
/// starting with `*.`), if it is not.
pub(crate) fn host_problem(host: &str) -> Option<String> {
    let rest = host.strip_prefix("*.").unwrap_or(host);
    if rest.is_empty() {
        return Some("must not be empty".to_owned());
    }
    if host.len() > 253 {
        return Some("is longer than 253 characters".to_owned());
    }
    for label in rest.split('.') {
        if let Some(problem) = dns_label_problem(label, 63) {
            let label = if label.is_empty() { "(empty)" } else { label };
            return Some(format!("has a label `{label}` that {problem}"));
        }
    }
    None
}

fn describe_char(c: char) -> String {
    if c.is_ascii_uppercase() {
        format!("uppercase letter '{c}'")
    } else if c == ' ' {
        "a space".to_owned()
    } else if c.is_control() {
        format!("character {c:?}")
    } else {
        format!("'{c}'")
    }
}

/// The candidate closest to `input`, when it is close enough to be the
/// likely intent (a typo, a case difference, a missing or extra letter).
pub(crate) fn did_you_mean<'c>(
    input: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let lower = input.to_lowercase();
    let mut best: Option<(usize, &'c str)> = None;
    for candidate in candidates {
        if candidate == input {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(input) {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &candidate.to_lowercase())
        };
        let allowed = (candidate.chars().count() / 3).max(1);
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `` `a`, `b` or `c` ``, for "expected one of" hints.
pub(crate) fn one_of<'c>(candidates: impl IntoIterator<Item = &'c str>) -> String {
    let items: Vec<String> = candidates.into_iter().map(|c| format!("`{c}`")).collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// "did you mean `x`?" when a candidate is close, else "expected one of ...".
pub(crate) fn suggest<'c>(
    input: &str,
    candidates: impl IntoIterator<Item = &'c str> + Clone,
) -> String {
    match did_you_mean(input, candidates.clone()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!("expected one of {}", one_of(candidates)),
    }
}
