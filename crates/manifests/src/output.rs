//! Serialisation of rendered objects: multi-document YAML and the JSON form.
//!
//! YAML is written by a small block-style emitter over `serde_json::Value`
//! rather than through `serde_yaml`: it is several times faster (rendering is
//! on every deploy's path and helmgen serves the whole platform), and its
//! quoting is deliberately conservative so that YAML 1.1 readers (PyYAML in
//! kubernetes-validate and checkov, kubectl) and YAML 1.2 readers read the
//! same values: any string that could be mistaken for a number, boolean, null,
//! date or sexagesimal is double-quoted. A round-trip test checks every
//! rendered fixture through `serde_yaml`, and a property test compares random
//! values against a tree-based reference writer (in the tests) and serde_yaml.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::{Error, Rendered, Stage};

pub(crate) fn to_yaml(rendered: &Rendered) -> Result<String, Error> {
    let mut out = String::with_capacity(rendered.objects.len() * 2048);
    for staged in &rendered.objects {
        out.push_str("---\n");
        write_yaml(&mut out, &staged.object)?;
    }
    Ok(out)
}

pub(crate) fn to_json_value(rendered: &Rendered) -> Result<serde_json::Value, Error> {
    let objects = rendered
        .objects
        .iter()
        .map(|o| serde_json::to_value(&o.object))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Serialize(e.to_string()))?;
    let mut stages: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for stage in Stage::ALL {
        stages.insert(
            stage.as_str(),
            rendered.stage(stage).map(|o| o.key()).collect(),
        );
    }
    Ok(serde_json::json!({
        "platform_version": rendered.platform_version,
        "objects": objects,
        "stages": stages,
    }))
}

/// Writes one YAML document (without the `---` line) for any serialisable
/// value, streaming: no intermediate tree is built.
pub(crate) fn write_yaml<T: serde::Serialize + ?Sized>(
    out: &mut String,
    value: &T,
) -> Result<(), Error> {
    value
        .serialize(yaml::Ser {
            out,
            ctx: yaml::Ctx::Top,
        })
        .map_err(|e| Error::Serialize(e.0))
}

/// Byte classes for [`is_plain_safe`]: 0 ends the plain form, [`BODY`] may
/// appear anywhere, [`FIRST`] may also start a plain scalar, [`SPACE`] is
/// allowed unless it follows `:` (`: ` would start a mapping).
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() || c == b'/' || c == b'_' {
            FIRST | BODY
        } else if c.is_ascii_digit()
            || matches!(
                c,
                b'-' | b'.' | b':' | b'=' | b'@' | b'+' | b'(' | b')' | b','
            )
        {
            BODY
        } else if c == b' ' {
            SPACE
        } else {
            0
        };
        b += 1;
    }
    t
};
const BODY: u8 = 1;
const FIRST: u8 = 2;
const SPACE: u8 = 4;

/// Whether `s` can be written as a plain scalar and read back as the same
/// string by both YAML 1.1 and 1.2 readers: it starts with a letter, `/` or
/// `_` (digits, signs and dots could start a number, date or time), holds
/// only letters, digits, `-_./:=@+(),` and spaces not after `:`, does not
/// end with a space or `:`, and is no YAML 1.1 or 1.2 boolean or null. One
/// table lookup per byte: this is the emitter's hottest function.
pub(crate) fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if CLASS[usize::from(first)] & FIRST == 0 || last == b' ' || last == b':' {
        return false;
    }
    let mut prev = first;
    for &c in &bytes[1..] {
        let class = CLASS[usize::from(c)];
        if class & BODY == 0 && (class == 0 || prev == b':') {
            return false;
        }
        prev = c;
    }
    bytes.len() > 5 || !is_reserved(bytes)
}

/// Words that YAML 1.1 or 1.2 read as booleans or null, in any case.
fn is_reserved(bytes: &[u8]) -> bool {
    const RESERVED: &[&[u8]] = &[
        b"y", b"n", b"yes", b"no", b"on", b"off", b"true", b"false", b"null", b"~",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(bytes))
}

pub(crate) fn write_string(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
        return;
    }
    // A JSON string is a valid YAML double-quoted scalar. Runs of characters
    // that need no escape are copied whole.
    out.push('"');
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if needs_unicode_escape(c) => None,
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        run_start = i + c.len_utf8();
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}

/// Characters a double-quoted scalar must carry as `\uXXXX`: controls, and
/// the ones YAML readers treat as line breaks or byte order marks.
fn needs_unicode_escape(c: char) -> bool {
    (c as u32) < 0x20
        || matches!(
            c,
            '\u{7f}' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
        )
}

mod yaml;
