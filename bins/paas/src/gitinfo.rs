//! The default image tag: the short commit hash of the repository that holds
//! app.toml, read from `.git` directly (no `git` process: `paas render` must
//! start in milliseconds).

use std::fs;
use std::path::{Path, PathBuf};

/// The image tag of a render or deploy: `explicit` (`--image-tag`), else
/// the short commit of the repository holding `app` (app.toml), else `dev`
/// (never `latest`).
pub(crate) fn image_tag(explicit: Option<&str>, app: &Path) -> String {
    explicit.map_or_else(
        || short_commit(&crate::render::absolute_dir(app)).unwrap_or_else(|| "dev".to_owned()),
        str::to_owned,
    )
}

/// The short (7 character) commit hash of the repository containing `dir`,
/// or `None` outside a repository or on an unborn branch.
pub(crate) fn short_commit(dir: &Path) -> Option<String> {
    let git_dir = find_git_dir(dir)?;
    let head = fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let full = match head.strip_prefix("ref: ") {
        Some(reference) => resolve_ref(&git_dir, reference)?,
        None => head.to_owned(),
    };
    let valid = full.len() >= 7 && full.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| full[..7].to_owned())
}

/// The message of the commit checked out in the repository containing
/// `dir` (for the linked tasks of a release), or `None` when `git` is not
/// installed or `dir` is not in a repository. A deploy can afford the
/// `git` process that rendering avoids.
pub(crate) fn commit_message(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%B"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn find_git_dir(dir: &Path) -> Option<PathBuf> {
    let mut current = Some(dir);
    while let Some(d) = current {
        let candidate = d.join(".git");
        if candidate.is_dir() {
            return Some(candidate);
        }
        if candidate.is_file() {
            // A worktree or submodule: `.git` is a file `gitdir: <path>`.
            let text = fs::read_to_string(&candidate).ok()?;
            let target = text.trim().strip_prefix("gitdir: ")?;
            let target = d.join(target);
            return Some(target);
        }
        current = d.parent();
    }
    None
}

fn resolve_ref(git_dir: &Path, reference: &str) -> Option<String> {
    if let Ok(text) = fs::read_to_string(git_dir.join(reference)) {
        return Some(text.trim().to_owned());
    }
    // Worktrees keep shared refs in the common dir.
    let common = fs::read_to_string(git_dir.join("commondir"))
        .ok()
        .map(|c| git_dir.join(c.trim()))
        .unwrap_or_else(|| git_dir.to_owned());
    if let Ok(text) = fs::read_to_string(common.join(reference)) {
        return Some(text.trim().to_owned());
    }
    let packed = fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (hash, name) = line.split_once(' ')?;
        (name == reference).then(|| hash.to_owned())
    })
}
