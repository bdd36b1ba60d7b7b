//! The files of a new service repository: template texts compiled into the
//! binary (`bins/paas/templates/`), and the one substitution that fills them.
//!
//! A template names its values as `{{key}}`. [`substitute`] replaces every
//! such placeholder from an explicit table and fails on a key the table does
//! not have, so a misspelt placeholder is an error in the tests instead of
//! text in a user's repository. The outputs never contain `{{` at all (the
//! dashboard and alert rules use no Grafana or Prometheus `{{ }}` templating
//! for that reason), which [`render`] checks once more at the end.

use std::collections::BTreeMap;

use crate::cli::Template;

/// One output file: its path inside the new repository and its template.
pub(crate) struct TemplateFile {
    /// Path relative to the repository root; may itself hold placeholders
    /// (`brief/{{name}}.brief`).
    pub(crate) path: &'static str,
    /// The template text.
    pub(crate) text: &'static str,
}

/// What differs between languages besides their own files.
pub(crate) struct Language {
    /// The engine of the platform config (`[engines.<engine>]`).
    pub(crate) engine: &'static str,
    /// For people: "Go", "Node.js", ...
    pub(crate) label: &'static str,
    /// How to run the service on a laptop.
    pub(crate) run_local: &'static str,
    /// How to run its tests.
    pub(crate) test_command: &'static str,
    /// The CI `test` job (a YAML fragment, substituted first).
    pub(crate) ci_test_job: &'static str,
    /// The language's own files, including its Dockerfile.
    pub(crate) files: &'static [TemplateFile],
}

macro_rules! file {
    ($path:literal, $template:literal) => {
        TemplateFile {
            path: $path,
            text: include_str!(concat!("../../templates/", $template)),
        }
    };
}

/// Files every service gets, whatever its language.
pub(crate) const COMMON: &[TemplateFile] = &[
    file!("app.toml", "common/app.toml.tmpl"),
    file!("brief/{{name}}.brief", "common/service.brief.tmpl"),
    file!("brief/clients/README.md", "common/clients-README.md.tmpl"),
    file!(".gitlab-ci.yml", "common/gitlab-ci.yml.tmpl"),
    file!("README.md", "common/README.md.tmpl"),
    file!("observability/dashboard.json", "common/dashboard.json.tmpl"),
    file!("observability/alerts.yaml", "common/alerts.yaml.tmpl"),
];

const GOLANG: Language = Language {
    engine: "golang",
    label: "Go",
    run_local: "go run .",
    test_command: "go test ./...",
    ci_test_job: include_str!("../../templates/golang/ci-test.yml.tmpl"),
    files: &[
        file!("Dockerfile", "golang/Dockerfile.tmpl"),
        file!(".dockerignore", "golang/dockerignore.tmpl"),
        file!(".gitignore", "golang/gitignore.tmpl"),
        file!("go.mod", "golang/go.mod.tmpl"),
        file!("main.go", "golang/main.go.tmpl"),
        file!("main_test.go", "golang/main_test.go.tmpl"),
    ],
};

const RUST: Language = Language {
    engine: "rust",
    label: "Rust",
    run_local: "cargo run",
    test_command: "cargo test",
    ci_test_job: include_str!("../../templates/rust/ci-test.yml.tmpl"),
    files: &[
        file!("Dockerfile", "rust/Dockerfile.tmpl"),
        file!(".dockerignore", "rust/dockerignore.tmpl"),
        file!(".gitignore", "rust/gitignore.tmpl"),
        file!("Cargo.toml", "rust/Cargo.toml.tmpl"),
        file!("src/main.rs", "rust/main.rs.tmpl"),
    ],
};

const PYTHON: Language = Language {
    engine: "python",
    label: "Python",
    run_local: "python -m service",
    test_command: "python -m unittest discover -s tests",
    ci_test_job: include_str!("../../templates/python/ci-test.yml.tmpl"),
    files: &[
        file!("Dockerfile", "python/Dockerfile.tmpl"),
        file!(".dockerignore", "python/dockerignore.tmpl"),
        file!(".gitignore", "python/gitignore.tmpl"),
        file!("pyproject.toml", "python/pyproject.toml.tmpl"),
        file!("requirements.txt", "python/requirements.txt.tmpl"),
        file!("service/__init__.py", "python/init.py.tmpl"),
        file!("service/__main__.py", "python/main.py.tmpl"),
        file!("service/app.py", "python/app.py.tmpl"),
        file!("tests/test_app.py", "python/test_app.py.tmpl"),
    ],
};

const NODE: Language = Language {
    engine: "node",
    label: "Node.js",
    run_local: "node index.js",
    test_command: "npm test",
    ci_test_job: include_str!("../../templates/node/ci-test.yml.tmpl"),
    files: &[
        file!("Dockerfile", "node/Dockerfile.tmpl"),
        file!(".dockerignore", "node/dockerignore.tmpl"),
        file!(".gitignore", "node/gitignore.tmpl"),
        file!("package.json", "node/package.json.tmpl"),
        file!("package-lock.json", "node/package-lock.json.tmpl"),
        file!("index.js", "node/index.js.tmpl"),
        file!("test/service.test.js", "node/test.js.tmpl"),
    ],
};

/// The language of a template.
pub(crate) fn language(template: Template) -> &'static Language {
    match template {
        Template::Golang => &GOLANG,
        Template::Rust => &RUST,
        Template::Python => &PYTHON,
        Template::Node => &NODE,
    }
}

/// Why a template could not be filled (a bug in a template, or a value that
/// would reintroduce a placeholder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError(pub(crate) String);

/// Replaces every `{{key}}` of `text` with `values[key]`. Replaced values are
/// not scanned again. An unknown key or an unclosed `{{` is an error.
pub(crate) fn substitute(
    text: &str,
    values: &BTreeMap<&str, String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(TemplateError(format!(
                "an unclosed `{{{{` at byte {}",
                text.len() - rest.len() + start
            )));
        };
        let key = &after[..end];
        match values.get(key) {
            Some(value) => out.push_str(value),
            None => {
                return Err(TemplateError(format!("unknown placeholder `{key}`")));
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One file of the new repository: path and contents, substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputFile {
    /// Path relative to the repository root, `/`-separated.
    pub(crate) path: String,
    /// The contents.
    pub(crate) contents: String,
}

/// Every file of a new repository of `template`, sorted by path.
pub(crate) fn render(
    template: Template,
    values: &BTreeMap<&str, String>,
) -> Result<Vec<OutputFile>, TemplateError> {
    let language = language(template);
    let mut values = values.clone();
    values.insert("test_job", substitute(language.ci_test_job, &values)?);
    let mut files = Vec::new();
    for file in COMMON.iter().chain(language.files) {
        let path = substitute(file.path, &values)?;
        let contents = substitute(file.text, &values)?;
        if contents.contains("{{") || path.contains("{{") {
            return Err(TemplateError(format!(
                "`{{{{` left in {path} after substitution"
            )));
        }
        files.push(OutputFile { path, contents });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
