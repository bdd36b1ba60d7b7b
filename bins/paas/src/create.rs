//! `paas service create`: a ready service repository.
//!
//! The flow: collect the name, template and owner (flags; on a terminal a
//! wizard asks for the missing ones; without one a missing flag is a usage
//! error), validate them (the name with app-toml's own rule), refuse a
//! target directory that exists and is not empty, fill the templates
//! (`templates`) with values taken from the platform config (engine
//! version, port, probe paths, base image, registry, user id), check the
//! result (no placeholder left; app.toml renders for every environment of
//! the platform), write everything into a temporary directory beside the
//! target and move it into place at the end, so that a failure leaves
//! nothing half-written.
//!
//! Layout of the new repository (the convention `paas lint` and `paas
//! codegen` read): the service's own Brief schema is `brief/<service>.brief`;
//! the client contracts of the services it calls are
//! `brief/clients/<service>.brief`.

mod templates;
mod wizard;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use manifests::pipeline::{Request, render_source};
use platform_config::Platform;

use crate::cli::{CreateArgs, Global, Output, Template};
use crate::{Failure, clock, render::load_platform};

pub(crate) use templates::OutputFile;

/// Longest owner (team) name.
const OWNER_MAX: usize = 63;

/// Replicas written under `[envs.prod]`: one per zone of a typical
/// three-zone cluster, at least the platform's prod minimum.
const PROD_REPLICAS: u32 = 3;

/// The answers that make a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answers {
    pub(crate) name: String,
    pub(crate) template: Template,
    pub(crate) owner: String,
}

/// `paas service create`.
pub(crate) fn create(global: &Global, args: &CreateArgs) -> Result<String, Failure> {
    let platform = load_platform(global.platform.as_deref())?;
    // Flags given are checked before anything is asked.
    if let Some(name) = &args.name {
        check_name(name, &platform).map_err(|e| Failure::usage(e.text()))?;
    }
    if let Some(owner) = &args.owner {
        check_owner(owner).map_err(|e| Failure::usage(e.text()))?;
    }
    if let Some(dir) = &args.dir {
        check_target(dir)?;
    }
    let missing = missing_flags(args);
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let answers = if missing.is_empty() {
        Answers {
            name: args.name.clone().unwrap_or_default(),
            template: args.template.unwrap_or(Template::Golang),
            owner: args.owner.clone().unwrap_or_default(),
        }
    } else if interactive {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut stderr = std::io::stderr();
        wizard::ask(&mut input, &mut stderr, args, &platform)?
    } else {
        return Err(Failure::usage(format!(
            "error: missing {} (there is no terminal to ask on)\n\
             help: paas service create --name N --template golang|rust|python|node --owner TEAM [--dir DIR]",
            join_and(&missing)
        )));
    };
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&answers.name));
    check_target(&dir)?;
    let files = generate(&answers, &platform)?;
    if !missing.is_empty() && interactive && !global.yes {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut stderr = std::io::stderr();
        wizard::confirm(&mut input, &mut stderr, &answers, &dir, &platform)?;
    }
    write_atomically(&dir, &files)?;
    Ok(report(global.output, &answers, &dir, &files))
}

/// The flags a run without a terminal lacks, as the user types them.
fn missing_flags(args: &CreateArgs) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if args.name.is_none() {
        missing.push("--name");
    }
    if args.template.is_none() {
        missing.push("--template");
    }
    if args.owner.is_none() {
        missing.push("--owner");
    }
    missing
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A rejected answer: what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) message: String,
    pub(crate) hint: String,
}

impl Invalid {
    /// `error: ...` and `help: ...` lines.
    pub(crate) fn text(&self) -> String {
        format!("error: {}\nhelp: {}", self.message, self.hint)
    }
}

/// Checks a service name with app-toml's own rule (DNS-1123 label, at most
/// 40 characters), by parsing an app.toml that holds only the name.
pub(crate) fn check_name(name: &str, platform: &Platform) -> Result<(), Invalid> {
    let rule = "a service name is a DNS-1123 label of at most 40 characters: lowercase letters, digits and '-'";
    let probe = format!("name = {}\n", toml_string(name));
    let vocabulary = platform.vocabulary(clock::today());
    let options = app_toml::ParseOptions {
        file_name: "app.toml",
        fallback_name: None,
        vocabulary: &vocabulary,
    };
    // The probe has no [engine]: only the problems of `name` count.
    let Err(app_toml::Error::Invalid(diags)) = app_toml::parse(probe.as_bytes(), &options) else {
        return Ok(());
    };
    match diags.items.iter().find(|d| d.path == "name") {
        None => Ok(()),
        Some(d) => Err(Invalid {
            message: d.message.clone(),
            hint: d.hint.clone().unwrap_or_else(|| rule.to_owned()),
        }),
    }
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Checks an owner: a team name, non-empty, on one line, and made of
/// characters that are plain text in every file it is written into (TOML,
/// YAML and JSON strings, Markdown).
pub(crate) fn check_owner(owner: &str) -> Result<(), Invalid> {
    let hint = "the owning team, e.g. `--owner payments`: letters, digits, spaces and - _ . / @";
    let invalid = |message: String| {
        Err(Invalid {
            message,
            hint: hint.to_owned(),
        })
    };
    let trimmed = owner.trim();
    if trimmed.is_empty() {
        return invalid("the owner must not be empty".to_owned());
    }
    if trimmed != owner {
        return invalid(format!(
            "the owner `{owner}` starts or ends with white space"
        ));
    }
    if owner.chars().count() > OWNER_MAX {
        return invalid(format!(
            "the owner is {} characters long, at most {OWNER_MAX} are allowed",
            owner.chars().count()
        ));
    }
    if let Some(c) = owner
        .chars()
        .find(|c| !(c.is_alphanumeric() || " -_./@".contains(*c)))
    {
        return invalid(format!("the owner `{owner}` contains {c:?}"));
    }
    Ok(())
}

/// Refuses a target that exists and is not an empty directory (exit 1).
fn check_target(dir: &Path) -> Result<(), Failure> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Failure::failed(format!(
            "error: cannot read {}: {e}",
            dir.display()
        ))),
        Ok(meta) if !meta.is_dir() => Err(Failure::failed(format!(
            "error: {} exists and is not a directory; nothing was created\n\
             help: choose another directory with --dir",
            dir.display()
        ))),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|e| {
                Failure::failed(format!("error: cannot read {}: {e}", dir.display()))
            })?;
            if entries.next().is_some() {
                Err(Failure::failed(format!(
                    "error: {} already exists and is not empty; paas service create never overwrites, nothing was created\n\
                     help: choose another directory with --dir, or empty this one",
                    dir.display()
                )))
            } else {
                Ok(())
            }
        }
    }
}

/// The values the templates name, from the answers and the platform config.
pub(crate) fn values<'a>(
    answers: &Answers,
    platform: &Platform,
) -> Result<BTreeMap<&'a str, String>, Failure> {
    let language = templates::language(answers.template);
    let engine = platform.engines.get(language.engine).ok_or_else(|| {
        Failure::usage(format!(
            "error: the platform config has no engine `{}` for the {} template",
            language.engine, language.label
        ))
    })?;
    let version = engine.default_version.clone();
    let base_image = engine.base_images.get(&version).ok_or_else(|| {
        Failure::usage(format!(
            "error: the platform config has no base image for engine `{}` version {version}",
            language.engine
        ))
    })?;
    if engine.command.is_empty() {
        return Err(Failure::usage(format!(
            "error: engine `{}` of the platform config has no command, so vault2env cannot wrap it",
            language.engine
        )));
    }
    let prod_replicas = platform
        .environment("prod")
        .and_then(|p| p.min_replicas)
        .map_or(PROD_REPLICAS, |min| min.max(PROD_REPLICAS));
    let cmd_json = serde_json::to_string(&engine.command)
        .map_err(|e| Failure::failed(format!("error: {e}")))?;
    // The compiled templates copy their binary to the command's path.
    let binary = engine
        .command
        .first()
        .filter(|c| c.starts_with('/'))
        .cloned()
        .unwrap_or_else(|| "/app/service".to_owned());
    let startup_note = if engine.startup == engine.liveness {
        " and startup".to_owned()
    } else {
        format!("; startup: `{}`", engine.startup)
    };
    // Cargo refuses package names that start with a digit.
    let crate_name = if answers.name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("service-{}", answers.name)
    } else {
        answers.name.clone()
    };
    let registry = platform.registry.trim_end_matches('/').to_owned();
    let pairs: [(&str, String); 24] = [
        ("name", answers.name.clone()),
        ("owner", answers.owner.clone()),
        ("engine", language.engine.to_owned()),
        ("language", language.label.to_owned()),
        ("version", version),
        ("port", engine.port.to_string()),
        ("liveness", engine.liveness.clone()),
        ("readiness", engine.readiness.clone()),
        ("startup", engine.startup.clone()),
        ("startup_note", startup_note),
        ("metrics_path", engine.metrics_path.clone()),
        ("base_image", base_image.clone()),
        ("registry", registry.clone()),
        (
            "vault2env_image",
            format!("{registry}/base/vault2env:{}", platform.version),
        ),
        (
            "cli_image",
            format!("{registry}/paas/cli:{}", platform.version),
        ),
        ("uid", platform.pod.run_as_user.to_string()),
        ("gid", platform.pod.run_as_group.to_string()),
        ("cmd_json", cmd_json),
        ("command", engine.command.join(" ")),
        ("binary", binary),
        ("prod_replicas", prod_replicas.to_string()),
        ("crate", crate_name),
        ("run_local", language.run_local.to_owned()),
        ("test_command", language.test_command.to_owned()),
    ];
    Ok(pairs.into_iter().collect())
}

/// Every file of the new repository, checked: no placeholder left, and
/// app.toml renders for every environment of the platform.
pub(crate) fn generate(answers: &Answers, platform: &Platform) -> Result<Vec<OutputFile>, Failure> {
    let values = values(answers, platform)?;
    let files = templates::render(answers.template, &values)
        .map_err(|e| Failure::failed(format!("error: a template of paas is broken: {}", e.0)))?;
    let app = files
        .iter()
        .find(|f| f.path == "app.toml")
        .ok_or_else(|| Failure::failed("error: a template of paas is broken: no app.toml"))?;
    for env in platform.environments.keys() {
        let request = Request {
            file_name: "app.toml".to_owned(),
            service: None,
            environment: env.clone(),
            cluster: None,
            version: 1,
            image_tag: "dev".to_owned(),
            strategy: None,
            previous_version: None,
            canary_weight: None,
            explain: false,
            today: clock::today(),
        };
        if let Err(e) = render_source(app.contents.as_bytes(), platform, &request) {
            return Err(Failure::failed(format!(
                "error: the app.toml paas would write does not render for `{env}` with this platform config; nothing was created\n{e}"
            )));
        }
    }
    Ok(files)
}

/// Writes `files` into a new temporary directory beside `dir`, then moves
/// them into place: the whole directory with one rename when `dir` does not
/// exist, its entries when `dir` is an existing empty directory (so a shell
/// standing in it keeps seeing it). On any error the temporary directory is
/// removed and `dir` is as it was.
fn write_atomically(dir: &Path, files: &[OutputFile]) -> Result<(), Failure> {
    let fail = |what: String| Failure::failed(format!("error: {what}; nothing was created"));
    let target = if dir.exists() {
        std::fs::canonicalize(dir)
            .map_err(|e| fail(format!("cannot read {}: {e}", dir.display())))?
    } else {
        dir.to_owned()
    };
    let base = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("service")
        .to_owned();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| fail(format!("cannot create {}: {e}", parent.display())))?;
    let tmp = temp_dir_beside(&parent, &base).map_err(|e| {
        fail(format!(
            "cannot create a directory in {}: {e}",
            parent.display()
        ))
    })?;
    let result = fill(&tmp, files).and_then(|()| move_into_place(&tmp, &target));
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(fail(e));
    }
    Ok(())
}

/// A new directory `.<base>.paas-create-<pid>[-n]` in `parent`.
fn temp_dir_beside(parent: &Path, base: &str) -> std::io::Result<PathBuf> {
    let pid = std::process::id();
    let mut n = 0u32;
    loop {
        let name = if n == 0 {
            format!(".{base}.paas-create-{pid}")
        } else {
            format!(".{base}.paas-create-{pid}-{n}")
        };
        let path = parent.join(name);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

fn fill(tmp: &Path, files: &[OutputFile]) -> Result<(), String> {
    for file in files {
        let path = tmp.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn move_into_place(tmp: &Path, target: &Path) -> Result<(), String> {
    if !target.exists() {
        return std::fs::rename(tmp, target).map_err(|e| {
            format!(
                "cannot move the new repository to {}: {e}",
                target.display()
            )
        });
    }
    // An existing directory: it must still be empty, and it keeps its inode.
    let still_empty = std::fs::read_dir(target)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false);
    if !still_empty {
        return Err(format!(
            "{} is no longer empty (something wrote into it meanwhile)",
            target.display()
        ));
    }
    let entries: Vec<PathBuf> = std::fs::read_dir(tmp)
        .and_then(|d| d.map(|e| e.map(|e| e.path())).collect())
        .map_err(|e| format!("cannot read {}: {e}", tmp.display()))?;
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for from in entries {
        let Some(name) = from.file_name() else {
            continue;
        };
        let to = target.join(name);
        let taken = std::fs::symlink_metadata(&to).is_ok();
        let outcome = if taken {
            Err(format!("{} appeared meanwhile", to.display()))
        } else {
            std::fs::rename(&from, &to)
                .map_err(|e| format!("cannot move {} into place: {e}", to.display()))
        };
        if let Err(e) = outcome {
            // Put back what was moved: the target is empty again.
            for (from, to) in moved.iter().rev() {
                let _ = std::fs::rename(to, from);
            }
            return Err(e);
        }
        moved.push((from, to));
    }
    std::fs::remove_dir(tmp).map_err(|e| format!("cannot remove {}: {e}", tmp.display()))
}

/// What stdout says: the files created and the next steps (or JSON with `-o json`).
fn report(output: Option<Output>, answers: &Answers, dir: &Path, files: &[OutputFile]) -> String {
    let language = templates::language(answers.template);
    if output == Some(Output::Json) {
        let value = serde_json::json!({
            "service": answers.name,
            "template": language.engine,
            "owner": answers.owner,
            "dir": dir.display().to_string(),
            "files": files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        });
        return serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
    }
    let mut out = format!(
        "created service `{}` ({}, owner {}) in {}:\n",
        answers.name,
        language.label,
        answers.owner,
        dir.display()
    );
    for f in files {
        out.push_str(&format!("  {}\n", f.path));
    }
    let name = &answers.name;
    let steps = [
        (format!("cd {}", shell_word(&dir.display().to_string())), ""),
        (
            format!("git init -b main && git add . && git commit -m \"{name}: new service\""),
            "",
        ),
        (language.test_command.to_owned(), "the service's tests"),
        (
            "paas render -e staging".to_owned(),
            "its manifests, no cluster needed",
        ),
        (
            "paas service deploy -e local -y".to_owned(),
            "a release on two in-process test clusters",
        ),
        (
            "git push".to_owned(),
            "CI: lint, Brief checks, tests, image, staging; prod is a manual job",
        ),
    ];
    out.push_str("\nnext steps:\n");
    for (command, comment) in steps {
        if comment.is_empty() {
            out.push_str(&format!("  {command}\n"));
        } else {
            out.push_str(&format!("  {command:<36} # {comment}\n"));
        }
    }
    out.push_str(&format!(
        "\nThe contract is brief/{name}.brief; client contracts of the services it calls go to brief/clients/<service>.brief.\n"
    ));
    out
}

/// `s` as one word for a POSIX shell.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@%+=:,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests;
