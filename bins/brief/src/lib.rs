//! Library side of the `brief` command, shared with `paas codegen`: file
//! and module naming and running rustfmt over generated code. The
//! generators themselves are pure (`brief-codegen`); this is their I/O edge.

use std::process::{Command, Stdio};

/// `summer.client.brief` → `summer_client`.
pub fn module_name(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".brief").unwrap_or(file_name);
    let mut m: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if m.is_empty() || m.starts_with(|c: char| c.is_ascii_digit()) {
        m.insert(0, '_');
    }
    m
}

/// Runs rustfmt (edition 2024, default max width 100) over `code`; the
/// error says why there is no formatted output (rustfmt missing, failing,
/// or printing something that is not UTF-8).
pub fn rustfmt(code: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "rustfmt is not on PATH".to_string(),
            _ => format!("cannot run rustfmt: {e}"),
        })?;
    // rustfmt reads all of its input before it writes: writing first and
    // then collecting stdout and stderr cannot deadlock.
    let written = child
        .stdin
        .take()
        .ok_or_else(|| "rustfmt has no standard input".to_string())
        .and_then(|mut stdin| {
            stdin
                .write_all(code.as_bytes())
                .map_err(|e| format!("cannot write to rustfmt: {e}"))
        });
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt did not finish: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(if first.is_empty() {
            format!("rustfmt failed ({})", out.status)
        } else {
            format!("rustfmt failed ({}): {}", out.status, first.trim())
        });
    }
    written?;
    if out.stdout.is_empty() && !code.is_empty() {
        return Err("rustfmt printed nothing".into());
    }
    String::from_utf8(out.stdout).map_err(|_| "rustfmt printed something that is not UTF-8".into())
}
