//! `brief`: the command line of the Brief contract language.
//!
//! Exit codes: 0 success; 1 findings (errors in a schema, incompatible
//! clients, breaking changes, files `fmt --check` would change, schemas a
//! generator cannot express); 2 usage errors and unreadable or unwritable
//! files.

/// `print!` that never panics: a closed stdout (`brief check | head`) is
/// not an error of ours, so a broken pipe is ignored.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` that never panics on a closed stdout (see [`out!`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

use brief_check::compat::compat;
use brief_check::diff::{NamedClient, diff};
use brief_check::usage::usage;
use brief_check::{Checked, Source, parse_and_check, render};
use brief_syntax::Diagnostic;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use brief::{module_name, rustfmt};

#[derive(Parser)]
#[command(
    name = "brief",
    version,
    about = "Check, format, compare and generate code from Brief contracts"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Output format of findings.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Colors in text output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Cmd {
    /// Parse and check schemas; report every error with its span.
    Check {
        /// Schema files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check that each client contract is a subset its server can serve.
    Compat {
        /// The server's full schema.
        #[arg(long)]
        server: PathBuf,
        /// Client contracts (their own copies of the schema).
        #[arg(required = true)]
        clients: Vec<PathBuf>,
    },
    /// Show which server rpcs and fields each client uses, and which none do.
    Usage {
        /// The server's full schema.
        #[arg(long)]
        server: PathBuf,
        /// Client contracts.
        #[arg(required = true)]
        clients: Vec<PathBuf>,
    },
    /// Compare two versions of a server schema.
    Diff {
        /// The old version.
        old: PathBuf,
        /// The new version.
        new: PathBuf,
        /// Client contracts: a change is breaking only if it breaks one of them.
        #[arg(long, num_args = 1..)]
        clients: Vec<PathBuf>,
    },
    /// Format schemas canonically, in place.
    Fmt {
        /// Schema files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change nothing; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Generate code.
    Gen {
        #[command(subcommand)]
        target: Target,
    },
}

#[derive(Subcommand)]
enum Target {
    /// Rust: serde types, server trait + axum router, client, events (needs the brief-rt crate).
    Rust {
        /// The schema.
        file: PathBuf,
        /// Directory to write `<file stem>.rs` into.
        #[arg(long)]
        out: PathBuf,
        /// The file is a client contract: generate the client side only.
        #[arg(long)]
        client: bool,
        /// Do not run rustfmt over the output. By default it runs (the
        /// generator's own layout matches rustfmt for names up to 40
        /// characters, not for every longer one); when rustfmt is missing
        /// or fails, a warning says so and the unformatted code is written.
        #[arg(long)]
        no_rustfmt: bool,
    },
    /// proto3 for protoc.
    Proto {
        /// The schema.
        file: PathBuf,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// A failure that ends the command with a message and an exit code.
struct Fail(u8, String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal(),
    };
    let mut app = App {
        sources: Vec::new(),
        format: cli.format,
        color,
    };
    match app.run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(Fail(code, msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}

struct App {
    sources: Vec<Source>,
    format: Format,
    color: bool,
}

impl App {
    fn load(&mut self, path: &Path) -> Result<(usize, Checked), Fail> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Fail(2, format!("cannot read {}: {e}", path.display())))?;
        let id = self.sources.len();
        let checked = parse_and_check(&text, id);
        self.sources.push(Source {
            name: path.display().to_string(),
            text,
        });
        Ok((id, checked))
    }

    /// Loads a schema that must be free of errors (for compat, usage, diff, gen).
    fn load_valid(&mut self, path: &Path) -> Result<(usize, Checked), Fail> {
        let (id, checked) = self.load(path)?;
        if !checked.ok() {
            let errors: Vec<Diagnostic> = checked
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .cloned()
                .collect();
            eprint!("{}", render::text(&errors, &self.sources, self.color));
            return Err(Fail(
                1,
                format!(
                    "{} has errors; run `brief check` and fix them first",
                    path.display()
                ),
            ));
        }
        Ok((id, checked))
    }

    fn report(&self, diags: &[Diagnostic], extra: serde_json::Value) {
        match self.format {
            Format::Text => {
                eprint!("{}", render::text(diags, &self.sources, self.color));
                eprintln!("{}", render::summary(diags));
            }
            Format::Json => {
                let mut v = serde_json::json!({
                    "diagnostics": render::json(diags, &self.sources),
                    "errors": diags.iter().filter(|d| d.is_error()).count(),
                    "warnings": diags.iter().filter(|d| !d.is_error()).count(),
                });
                if let (Some(obj), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
                    obj.extend(more);
                }
                outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }
        }
    }

    fn run(&mut self, cmd: Cmd) -> Result<u8, Fail> {
        match cmd {
            Cmd::Check { files } => {
                let mut diags = Vec::new();
                for f in &files {
                    let (id, checked) = self.load(f)?;
                    let ok = checked.ok();
                    diags.extend(checked.diagnostics);
                    if ok {
                        // Names `brief gen` would refuse, reported before anyone generates.
                        diags.extend(brief_codegen::lint(&checked.file, id));
                    }
                }
                self.report(&diags, serde_json::json!({}));
                Ok(u8::from(diags.iter().any(Diagnostic::is_error)))
            }
            Cmd::Compat { server, clients } => {
                let (sid, s) = self.load_valid(&server)?;
                let mut diags = Vec::new();
                for c in &clients {
                    let (cid, cf) = self.load_valid(c)?;
                    diags.extend(
                        compat(&s.file, sid, &cf.file, cid)
                            .into_iter()
                            .map(|v| v.diagnostic),
                    );
                }
                self.report(
                    &diags,
                    serde_json::json!({ "compatible": diags.is_empty() }),
                );
                Ok(u8::from(!diags.is_empty()))
            }
            Cmd::Usage { server, clients } => {
                let (_, s) = self.load_valid(&server)?;
                let mut files = Vec::new();
                for c in &clients {
                    files.push((c.display().to_string(), self.load_valid(c)?.1.file));
                }
                let named: Vec<(String, &brief_syntax::File)> =
                    files.iter().map(|(n, f)| (n.clone(), f)).collect();
                let u = usage(&s.file, &named);
                match self.format {
                    Format::Json => {
                        outln!("{}", serde_json::to_string_pretty(&u).unwrap_or_default())
                    }
                    Format::Text => out!("{}", usage_text(&u)),
                }
                Ok(0)
            }
            Cmd::Diff { old, new, clients } => {
                let (_, o) = self.load_valid(&old)?;
                let (_, n) = self.load_valid(&new)?;
                let mut files = Vec::new();
                for c in &clients {
                    let (id, cf) = self.load_valid(c)?;
                    files.push((c.display().to_string(), id, cf.file));
                }
                let named: Vec<NamedClient<'_>> = files
                    .iter()
                    .map(|(name, id, file)| NamedClient {
                        name: name.clone(),
                        file,
                        id: *id,
                    })
                    .collect();
                let d = diff(&o.file, &n.file, &named);
                let breaking = d.breaking();
                let violations: Vec<Diagnostic> = d
                    .violations
                    .iter()
                    .map(|(_, v)| v.diagnostic.clone())
                    .collect();
                match self.format {
                    Format::Json => {
                        // Spans as `file:line:column` next to the byte offsets.
                        let changes: Vec<serde_json::Value> = d
                            .changes
                            .iter()
                            .map(|c| {
                                let mut v = serde_json::to_value(c).unwrap_or_default();
                                if let Some(obj) = v.as_object_mut() {
                                    let at = |f: usize, s: Option<brief_syntax::Span>| {
                                        s.map(|s| self.location(f, s.start as usize))
                                    };
                                    obj.insert("old_at".into(), at(0, c.old).into());
                                    obj.insert("new_at".into(), at(1, c.new).into());
                                }
                                v
                            })
                            .collect();
                        let v = serde_json::json!({
                            "changes": changes,
                            "breaking": breaking,
                            "violations": render::json(&violations, &self.sources),
                        });
                        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                    }
                    Format::Text => {
                        for c in &d.changes {
                            let at = c.new.map(|s| (1, s)).or(c.old.map(|s| (0, s)));
                            let loc = at
                                .map(|(f, s)| self.location(f, s.start as usize))
                                .unwrap_or_default();
                            let tag = if c.breaking { "breaking" } else { "ok      " };
                            let who = if c.broken_clients.is_empty() {
                                String::new()
                            } else {
                                format!(" (breaks {})", c.broken_clients.join(", "))
                            };
                            outln!("{tag} {loc}: {}{who}", c.message);
                        }
                        eprint!("{}", render::text(&violations, &self.sources, self.color));
                        let n = d.changes.iter().filter(|c| c.breaking).count();
                        eprintln!("{} changes, {n} breaking", d.changes.len());
                    }
                }
                Ok(u8::from(breaking))
            }
            Cmd::Fmt { files, check } => {
                // Every file is handled, whatever happens to the others: each
                // problem is reported for its file, and the exit code is the
                // worst seen (2 unreadable/unwritable, 1 syntax errors or
                // unformatted under --check).
                let mut unformatted = Vec::new();
                let mut code = 0;
                for f in &files {
                    let text = match std::fs::read_to_string(f) {
                        Ok(text) => text,
                        Err(e) => {
                            eprintln!("error: cannot read {}: {e}", f.display());
                            code = code.max(2);
                            continue;
                        }
                    };
                    let parsed = brief_syntax::parse(&text, self.sources.len());
                    self.sources.push(Source {
                        name: f.display().to_string(),
                        text: text.clone(),
                    });
                    if !parsed.diagnostics.is_empty() {
                        eprint!(
                            "{}",
                            render::text(&parsed.diagnostics, &self.sources, self.color)
                        );
                        eprintln!("error: {} has syntax errors; not formatted", f.display());
                        code = code.max(1);
                        continue;
                    }
                    let formatted = brief_syntax::fmt::format(&parsed.file);
                    if formatted != text {
                        if check {
                            unformatted.push(f.display().to_string());
                        } else if let Err(e) = std::fs::write(f, formatted) {
                            eprintln!("error: cannot write {}: {e}", f.display());
                            code = code.max(2);
                        }
                    }
                }
                for f in &unformatted {
                    outln!("{f}: not formatted");
                }
                if !unformatted.is_empty() {
                    code = code.max(1);
                }
                Ok(code)
            }
            Cmd::Gen { target } => self.generate(target),
        }
    }

    /// Reports every name a generator cannot map (each naming its spans)
    /// and fails with exit code 1.
    fn unmappable(&self, path: &Path, id: usize, errors: Vec<brief_codegen::Error>) -> Fail {
        let diags: Vec<Diagnostic> = errors
            .iter()
            .map(|e| e.diagnostic(id, brief_syntax::Severity::Error))
            .collect();
        eprint!("{}", render::text(&diags, &self.sources, self.color));
        Fail(
            1,
            format!(
                "{} cannot be generated faithfully; rename what is shown above",
                path.display()
            ),
        )
    }

    fn location(&self, file: usize, offset: usize) -> String {
        let Some(src) = self.sources.get(file) else {
            return String::new();
        };
        let (line, col) = brief_syntax::LineIndex::new(&src.text).line_col(&src.text, offset);
        format!("{}:{line}:{col}", src.name)
    }

    fn generate(&mut self, target: Target) -> Result<u8, Fail> {
        match target {
            Target::Rust {
                file,
                out,
                client,
                no_rustfmt,
            } => {
                let (id, checked) = self.load_valid(&file)?;
                let name = file_name(&file);
                let opts = brief_codegen::RustOptions {
                    client,
                    source_name: name.clone(),
                };
                let mut code = brief_codegen::rust(&checked.file, &opts).map_err(|_| {
                    self.unmappable(
                        &file,
                        id,
                        brief_codegen::rust_problems(&checked.file, client),
                    )
                })?;
                if !no_rustfmt {
                    match rustfmt(&code) {
                        Ok(formatted) => code = formatted,
                        // The generator's own layout is valid Rust, usually
                        // rustfmt's: write it, but say it was not formatted.
                        Err(why) => eprintln!(
                            "warning: {why}; {} is written unformatted (the generator's own \
                             layout; --no-rustfmt skips rustfmt)",
                            file.display()
                        ),
                    }
                }
                std::fs::create_dir_all(&out)
                    .map_err(|e| Fail(2, format!("cannot create {}: {e}", out.display())))?;
                let path = out.join(format!("{}.rs", module_name(&name)));
                std::fs::write(&path, code)
                    .map_err(|e| Fail(2, format!("cannot write {}: {e}", path.display())))?;
                outln!("{}", path.display());
                Ok(0)
            }
            Target::Proto { file, out } => {
                let (id, checked) = self.load_valid(&file)?;
                let proto =
                    brief_codegen::proto(&checked.file, &file_name(&file)).map_err(|_| {
                        self.unmappable(&file, id, brief_codegen::proto_problems(&checked.file))
                    })?;
                match out {
                    Some(path) => std::fs::write(&path, proto)
                        .map_err(|e| Fail(2, format!("cannot write {}: {e}", path.display())))?,
                    None => out!("{proto}"),
                }
                Ok(0)
            }
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn usage_text(u: &brief_check::usage::Usage) -> String {
    let mut out = String::new();
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    out.push_str("unused by every client (safe to delete):\n");
    out.push_str(&format!("  rpcs:   {}\n", list(&u.unused_rpcs)));
    out.push_str(&format!("  topics: {}\n", list(&u.unused_topics)));
    out.push_str(&format!("  fields: {}\n", list(&u.unused_fields)));
    for c in &u.clients {
        out.push_str(&format!("{}:\n", c.client));
        out.push_str(&format!("  rpcs:   {}\n", list(&c.rpcs)));
        out.push_str(&format!("  topics: {}\n", list(&c.topics)));
        out.push_str(&format!("  fields: {}\n", list(&c.fields)));
    }
    out
}
