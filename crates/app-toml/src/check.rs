//! Per-layer checks: every key of the format with its type, range, name rule
//! and vocabulary, applied to the base of the file and to each
//! `[envs.<env>]` override layer.
//!
//! These checks look at one layer at a time, so they never need to know what
//! another layer says. Rules that involve several keys (a required key, `max`
//! against `min`, duplicate ports, ...) can be satisfied by a different layer
//! and are checked on each environment's merged result instead (`merge.rs`).

use std::ops::{Range, RangeInclusive};

use crate::names::{self, suggest};
use crate::tree::{Entry, Node, Path, ROOT, Table, Value};
use crate::{Date, Diagnostic, DiagnosticKind, HardeningRule, Strategy, Vocabulary};

/// Keys of the top level of the file.
pub(crate) const BASE_KEYS: [&str; 22] = [
    "schema_version",
    "name",
    "description",
    "kind",
    "owner",
    "criticality",
    "replicas",
    "engine",
    "ports",
    "health",
    "autoscale",
    "env",
    "secrets",
    "dependencies",
    "databases",
    "routes",
    "processes",
    "jobs",
    "init",
    "deploy",
    "exceptions",
    "envs",
];

/// Keys of an `[envs.<env>]` table.
pub(crate) const OVERRIDE_KEYS: [&str; 20] = [
    "description",
    "kind",
    "owner",
    "criticality",
    "replicas",
    "engine",
    "ports",
    "health",
    "autoscale",
    "env",
    "secrets",
    "dependencies",
    "databases",
    "routes",
    "processes",
    "jobs",
    "init",
    "deploy",
    "exceptions",
    "unset",
];

/// Keys of the fixed sections, for the hint on a key written outside its table.
const SECTION_KEYS: [(&str, &[&str]); 5] = [
    ("engine", &["version", "size", "image"]),
    (
        "health",
        &["liveness", "readiness", "startup", "startup_seconds"],
    ),
    ("autoscale", &["min", "max", "cpu_percent"]),
    ("secrets", &["vault", "keys"]),
    ("deploy", &["strategy", "canary_steps"]),
];

pub(crate) const KINDS: [&str; 2] = ["business", "infra"];
pub(crate) const CRITICALITIES: [&str; 3] = ["low", "normal", "high"];
pub(crate) const DATABASE_ENGINES: [&str; 3] = ["postgres", "redis", "kafka"];

/// Longest service name (it is also the namespace, and object names are
/// built from it).
pub(crate) const NAME_MAX: usize = 40;
/// Longest DNS-1123 label.
pub(crate) const LABEL_MAX: usize = 63;

pub(crate) const REPLICAS: RangeInclusive<i64> = 0..=1000;
pub(crate) const AUTOSCALE_REPLICAS: RangeInclusive<i64> = 1..=1000;
pub(crate) const CPU_PERCENT: RangeInclusive<i64> = 1..=100;
pub(crate) const PORT: RangeInclusive<i64> = 1..=65535;
pub(crate) const STARTUP_SECONDS: RangeInclusive<i64> = 1..=3600;
pub(crate) const TIMEOUT_MS: RangeInclusive<i64> = 1..=3_600_000;
pub(crate) const DEADLINE_SECONDS: RangeInclusive<i64> = 1..=604_800;
pub(crate) const CANARY_STEP: RangeInclusive<i64> = 1..=99;

/// Which kind of table is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Base,
    Override,
}

/// Collects diagnostics; positions (line, column) are filled in at the end.
pub(crate) struct Checker<'a> {
    pub(crate) source: &'a str,
    pub(crate) vocabulary: &'a Vocabulary,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(source: &'a str, vocabulary: &'a Vocabulary) -> Checker<'a> {
        Checker {
            source,
            vocabulary,
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn push(
        &mut self,
        kind: DiagnosticKind,
        path: &(impl std::fmt::Display + ?Sized),
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.diagnostics.push(Diagnostic {
            kind,
            path: path.to_string(),
            line: 0,
            column: 0,
            span,
            message: message.into(),
            hint,
        });
    }

    fn raw(&self, span: &Range<usize>) -> &str {
        self.source.get(span.clone()).unwrap_or("")
    }

    // ----- the layers -----------------------------------------------------

    /// Checks the whole file: the base layer and every `[envs.<env>]`.
    pub(crate) fn file(&mut self, root: &Table) {
        for entry in &root.entries {
            if &*entry.key == "envs" {
                self.envs(entry);
            } else {
                self.key(entry, &ROOT, Mode::Base);
            }
        }
    }

    fn envs(&mut self, entry: &Entry) {
        let Some(envs) = self.table(&entry.node, &ROOT.key("envs")) else {
            return;
        };
        for env in &envs.entries {
            let envs_path = ROOT.key("envs");
            let path = envs_path.key(&env.key);
            let known = &self.vocabulary.environments;
            if !known.iter().any(|k| **k == *env.key) {
                let hint = suggest(&env.key, known.iter().map(String::as_str));
                self.push(
                    DiagnosticKind::UnknownEnvironment,
                    &path,
                    Some(env.key_span.clone()),
                    format!("unknown environment `{}`", env.key),
                    Some(hint),
                );
            }
            if let Some(table) = self.table(&env.node, &path) {
                for item in &table.entries {
                    self.key(item, &path, Mode::Override);
                }
            }
        }
    }

    /// One key of the base or of an override layer.
    fn key(&mut self, entry: &Entry, prefix: &Path<'_>, mode: Mode) {
        let path = prefix.key(&entry.key);
        let node = &entry.node;
        match (entry.key.as_ref(), mode) {
            ("schema_version", Mode::Base) => {
                if let Some(v) = self.integer_any(node, &path)
                    && v != 1
                {
                    self.push(
                        DiagnosticKind::Range,
                        &path,
                        Some(node.span.clone()),
                        format!("unsupported schema_version {v}"),
                        Some("the only version is 1".to_owned()),
                    );
                }
            }
            ("name", Mode::Base) => {
                if let Some(name) = self.string(node, &path) {
                    self.service_name(name, &path, Some(node.span.clone()), "");
                }
            }
            ("description" | "owner", _) => {
                self.string(node, &path);
            }
            ("kind", _) => {
                self.variant(node, &path, &KINDS, "kind");
            }
            ("criticality", _) => {
                self.variant(node, &path, &CRITICALITIES, "criticality");
            }
            ("replicas", _) => {
                self.integer(node, &path, REPLICAS);
            }
            ("engine", _) => self.engine(node, &path),
            ("ports", _) => self.ports(node, &path),
            ("health", _) => self.health(node, &path),
            ("autoscale", _) => self.autoscale(node, &path),
            ("env", _) => self.env(node, &path),
            ("secrets", _) => self.secrets(node, &path),
            ("dependencies", _) => self.dependencies(node, &path),
            ("databases", _) => self.databases(node, &path),
            ("routes", _) => self.routes(node, &path),
            ("processes", _) => self.processes(node, &path),
            ("jobs", _) => self.jobs(node, &path),
            ("init", _) => self.init(node, &path),
            ("deploy", _) => self.deploy(node, &path),
            ("exceptions", _) => self.exceptions(node, &path),
            ("unset", Mode::Override) => {
                // Whether each path names something is checked against the
                // base in `merge.rs`; here only the shape.
                self.string_array(node, &path);
            }
            ("name" | "schema_version" | "envs", Mode::Override) => self.push(
                DiagnosticKind::UnknownKey,
                &path,
                Some(entry.key_span.clone()),
                format!("`{}` cannot be set per environment", entry.key),
                Some("set it once at the top level of the file".to_owned()),
            ),
            (_, Mode::Base) => self.unknown_top_key(entry, prefix, &path, &BASE_KEYS),
            (_, Mode::Override) => self.unknown_top_key(entry, prefix, &path, &OVERRIDE_KEYS),
        }
    }

    /// Checks the service name, from the file or (with `origin` saying so) the fallback.
    pub(crate) fn service_name(
        &mut self,
        name: &str,
        path: &(impl std::fmt::Display + ?Sized),
        span: Option<Range<usize>>,
        origin: &str,
    ) {
        if let Some(problem) = names::dns_label_problem(name, NAME_MAX) {
            let hint = match names::dns_label_suggestion(name, NAME_MAX) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "a service name is a DNS-1123 label of at most {NAME_MAX} characters: lowercase letters, digits and '-'"
                ),
            };
            self.push(
                DiagnosticKind::InvalidName,
                path,
                span,
                format!("service name `{name}`{origin} {problem}"),
                Some(hint),
            );
        }
    }

    fn engine(&mut self, node: &Node, path: &Path<'_>) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        for entry in &table.entries {
            let p = path.key(&entry.key);
            let n = &entry.node;
            match entry.key.as_ref() {
                "name" => {
                    if let Some(name) = self.string(n, &p) {
                        let known = &self.vocabulary.engines;
                        if !known.iter().any(|k| k == name) {
                            let hint = suggest(name, known.iter().map(String::as_str));
                            self.push(
                                DiagnosticKind::UnknownEngine,
                                &p,
                                Some(n.span.clone()),
                                format!("unknown engine `{name}`"),
                                Some(hint),
                            );
                        }
                    }
                }
                "version" => {
                    if let Some(v) = self.string(n, &p)
                        && v.trim().is_empty()
                    {
                        self.invalid(n, &p, "version must not be empty", None);
                    }
                }
                "size" => self.size(n, &p),
                "image" => {
                    if let Some(v) = self.string(n, &p)
                        && v.trim().is_empty()
                    {
                        self.invalid(n, &p, "image must not be empty", None);
                    }
                }
                _ => self.unknown_key(entry, &p, &["name", "version", "size", "image"]),
            }
        }
    }

    fn size(&mut self, node: &Node, path: &Path<'_>) {
        if let Some(size) = self.string(node, path) {
            let known = &self.vocabulary.sizes;
            if !known.iter().any(|k| k == size) {
                let hint = suggest(size, known.iter().map(String::as_str));
                self.push(
                    DiagnosticKind::UnknownSize,
                    path,
                    Some(node.span.clone()),
                    format!("unknown size `{size}`"),
                    Some(hint),
                );
            }
        }
    }

    fn ports(&mut self, node: &Node, path: &Path<'_>) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        for entry in &table.entries {
            let p = path.key(&entry.key);
            if let Some(problem) = names::port_name_problem(&entry.key) {
                self.push(
                    DiagnosticKind::InvalidName,
                    &p,
                    Some(entry.key_span.clone()),
                    format!("port name `{}` {problem}", entry.key),
                    Some(
                        "port names are IANA service names: up to 15 lowercase letters, digits and '-'"
                            .to_owned(),
                    ),
                );
            }
            self.integer(&entry.node, &p, PORT);
        }
    }

    fn health(&mut self, node: &Node, path: &Path<'_>) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        for entry in &table.entries {
            let p = path.key(&entry.key);
            match entry.key.as_ref() {
                "liveness" | "readiness" | "startup" => self.url_path(&entry.node, &p),
                "startup_seconds" => {
                    self.integer(&entry.node, &p, STARTUP_SECONDS);
                }
                _ => self.unknown_key(
                    entry,
                    &p,
                    &["liveness", "readiness", "startup", "startup_seconds"],
                ),
            }
        }
    }

    fn url_path(&mut self, node: &Node, path: &Path<'_>) {
        if let Some(v) = self.string(node, path)
            && !v.starts_with('/')
        {
            self.invalid(
                node,
                path,
                format!("path `{v}` must start with '/'"),
                Some(format!("did you mean `/{v}`?")),
            );
        }
    }

    fn autoscale(&mut self, node: &Node, path: &Path<'_>) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        for entry in &table.entries {
            let p = path.key(&entry.key);
            match entry.key.as_ref() {
                "min" | "max" => {
                    self.integer(&entry.node, &p, AUTOSCALE_REPLICAS);
                }
                "cpu_percent" => {
                    self.integer(&entry.node, &p, CPU_PERCENT);
                }
                _ => self.unknown_key(entry, &p, &["min", "max", "cpu_percent"]),
            }
        }
    }

    fn env(&mut self, node: &Node, path: &Path<'_>) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        for entry in &table.entries {
            let p = path.key(&entry.key);
            self.posix_name(&entry.key, &p, entry.key_span.clone(), "variable name");
            let n = &entry.node;
            match &n.value {
                Value::String(_) | Value::Integer(_) | Value::Boolean(_) => {}
                Value::Float(_) | Value::Datetime(_) => {
                    let raw = self.raw(&n.span).to_owned();
                    self.push(
                        DiagnosticKind::Type,
                        &p,
                        Some(n.span.clone()),
                        format!(
                            "expected string, integer or boolean, found {}",
                            n.type_name()
                        ),
                        Some(format!("quote it: `{} = \"{raw}\"`", entry.key)),
                    );
                }
                Value::Array(_) | Value::Table(_) => self.push(
                    DiagnosticKind::Type,
                    &p,
                    Some(n.span.clone()),
                    format!(
                        "expected string, integer or boolean, found {}",
                        n.type_name()
                    ),
                    Some(
                        "environment variables are plain values: write it as one string".to_owned(),
                    ),
                ),
            }
        }
    }

    fn posix_name(&mut self, name: &str, path: &Path<'_>, span: Range<usize>, what: &str) {
        if let Some(problem) = names::posix_name_problem(name) {
            let hint = match names::posix_name_suggestion(name) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "names are letters, digits and '_', not starting with a digit".to_owned(),
            };
            self.push(
                DiagnosticKind::InvalidName,
                path,
                Some(span),
                format!("{what} `{name}` {problem}"),
                Some(hint),
            );
        }
    }

    fn secrets(&mut self, node: &Node, path: &Path<'_>) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        for entry in &table.entries {
            let p = path.key(&entry.key);
            match entry.key.as_ref() {
                "vault" => {
                    self.boolean(&entry.node, &p);
                }
                "keys" => {
                    if let Some(items) = self.string_array(&entry.node, &p) {
                        for (i, (key, n)) in items.into_iter().enumerate() {
                            let ip = p.index(i);
                            self.posix_name(key, &ip, n.span.clone(), "secret name");
                        }
                    }
                }
                _ => self.unknown_key(entry, &p, &["vault", "keys"]),
            }
        }
    }

    /// A table of named tables (`[dependencies.<name>]`, `[jobs.<name>]`, ...)
    /// whose names become object names; calls `f` for each valid-shaped entry.
    fn named_tables(
        &mut self,
        node: &Node,
        path: &Path<'_>,
        what: &str,
        mut f: impl FnMut(&mut Self, &Table, &Path<'_>),
    ) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        for entry in &table.entries {
            let p = path.key(&entry.key);
            if let Some(problem) = names::dns_label_problem(&entry.key, LABEL_MAX) {
                let hint = match names::dns_label_suggestion(&entry.key, LABEL_MAX) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        "names are DNS-1123 labels: lowercase letters, digits and '-'".to_owned()
                    }
                };
                self.push(
                    DiagnosticKind::InvalidName,
                    &p,
                    Some(entry.key_span.clone()),
                    format!("{what} name `{}` {problem}", entry.key),
                    Some(hint),
                );
            }
            if let Some(t) = self.table(&entry.node, &p) {
                f(self, t, &p);
            }
        }
    }

    fn dependencies(&mut self, node: &Node, path: &Path<'_>) {
        self.named_tables(node, path, "dependency", |c, table, path| {
            for entry in &table.entries {
                let p = path.key(&entry.key);
                match entry.key.as_ref() {
                    "port" => {
                        if let Some(port) = c.string(&entry.node, &p)
                            && let Some(problem) = names::port_name_problem(port)
                        {
                            c.push(
                                DiagnosticKind::InvalidName,
                                &p,
                                Some(entry.node.span.clone()),
                                format!("port name `{port}` {problem}"),
                                Some(
                                    "name one of the dependency's `[ports]`, e.g. `http`"
                                        .to_owned(),
                                ),
                            );
                        }
                    }
                    "timeout_ms" => {
                        c.integer(&entry.node, &p, TIMEOUT_MS);
                    }
                    _ => c.unknown_key(entry, &p, &["port", "timeout_ms"]),
                }
            }
        });
    }

    fn databases(&mut self, node: &Node, path: &Path<'_>) {
        self.named_tables(node, path, "database", |c, table, path| {
            for entry in &table.entries {
                let p = path.key(&entry.key);
                match entry.key.as_ref() {
                    "engine" => {
                        c.variant(&entry.node, &p, &DATABASE_ENGINES, "database engine");
                    }
                    _ => c.unknown_key(entry, &p, &["engine"]),
                }
            }
        });
    }

    fn routes(&mut self, node: &Node, path: &Path<'_>) {
        self.named_tables(node, path, "route", |c, table, path| {
            for entry in &table.entries {
                let p = path.key(&entry.key);
                match entry.key.as_ref() {
                    "host" => {
                        if let Some(host) = c.string(&entry.node, &p)
                            && let Some(problem) = names::host_problem(host)
                        {
                            let lower = host.to_ascii_lowercase();
                            let hint = (lower != host && names::host_problem(&lower).is_none())
                                .then(|| format!("did you mean `{lower}`?"));
                            c.push(
                                DiagnosticKind::InvalidName,
                                &p,
                                Some(entry.node.span.clone()),
                                format!("host `{host}` {problem}"),
                                hint,
                            );
                        }
                    }
                    "path" => c.url_path(&entry.node, &p),
                    _ => c.unknown_key(entry, &p, &["host", "path"]),
                }
            }
        });
    }

    fn processes(&mut self, node: &Node, path: &Path<'_>) {
        self.named_tables(node, path, "process", |c, table, path| {
            for entry in &table.entries {
                let p = path.key(&entry.key);
                match entry.key.as_ref() {
                    "command" => c.command(&entry.node, &p),
                    "replicas" => {
                        c.integer(&entry.node, &p, REPLICAS);
                    }
                    "size" => c.size(&entry.node, &p),
                    _ => c.unknown_key(entry, &p, &["command", "replicas", "size"]),
                }
            }
        });
    }

    fn jobs(&mut self, node: &Node, path: &Path<'_>) {
        self.named_tables(node, path, "job", |c, table, path| {
            for entry in &table.entries {
                let p = path.key(&entry.key);
                match entry.key.as_ref() {
                    "schedule" => {
                        if let Some(schedule) = c.string(&entry.node, &p)
                            && let Err(why) = crate::cron::check(schedule)
                        {
                            c.push(
                                DiagnosticKind::InvalidCron,
                                &p,
                                Some(entry.node.span.clone()),
                                format!("invalid cron expression `{schedule}`: {why}"),
                                Some("a schedule is `minute hour day-of-month month day-of-week`, e.g. `30 3 * * *`, or a macro such as `@daily`".to_owned()),
                            );
                        }
                    }
                    "command" => c.command(&entry.node, &p),
                    "deadline_seconds" => {
                        c.integer(&entry.node, &p, DEADLINE_SECONDS);
                    }
                    _ => c.unknown_key(entry, &p, &["schedule", "command", "deadline_seconds"]),
                }
            }
        });
    }

    fn init(&mut self, node: &Node, path: &Path<'_>) {
        self.named_tables(node, path, "init job", |c, table, path| {
            for entry in &table.entries {
                let p = path.key(&entry.key);
                match entry.key.as_ref() {
                    "command" => c.command(&entry.node, &p),
                    _ => c.unknown_key(entry, &p, &["command"]),
                }
            }
        });
    }

    fn deploy(&mut self, node: &Node, path: &Path<'_>) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        for entry in &table.entries {
            let p = path.key(&entry.key);
            match entry.key.as_ref() {
                "strategy" => {
                    let all = Strategy::ALL.map(Strategy::as_str);
                    self.variant(&entry.node, &p, &all, "strategy");
                }
                "canary_steps" => self.canary_steps(&entry.node, &p),
                _ => self.unknown_key(entry, &p, &["strategy", "canary_steps"]),
            }
        }
    }

    fn canary_steps(&mut self, node: &Node, path: &Path<'_>) {
        let Some(items) = self.array(node, path) else {
            return;
        };
        if items.is_empty() {
            self.invalid(
                node,
                path,
                "canary_steps must not be empty",
                Some("for example `[5, 25, 50]`".to_owned()),
            );
            return;
        }
        let mut previous: Option<i64> = None;
        for (i, item) in items.iter().enumerate() {
            let p = path.index(i);
            let Some(step) = self.integer(item, &p, CANARY_STEP) else {
                continue;
            };
            if let Some(prev) = previous
                && step <= prev
            {
                self.invalid(
                    item,
                    &p,
                    format!("canary steps must increase strictly, but {step} follows {prev}"),
                    None,
                );
            }
            previous = Some(step);
        }
    }

    fn exceptions(&mut self, node: &Node, path: &Path<'_>) {
        let Some(table) = self.table(node, path) else {
            return;
        };
        let rules = HardeningRule::ALL.map(HardeningRule::as_str);
        for entry in &table.entries {
            let p = path.key(&entry.key);
            if HardeningRule::from_name(&entry.key).is_none() {
                self.push(
                    DiagnosticKind::UnknownKey,
                    &p,
                    Some(entry.key_span.clone()),
                    format!("unknown hardening rule `{}`", entry.key),
                    Some(suggest(&entry.key, rules)),
                );
            }
            let Some(t) = self.table(&entry.node, &p) else {
                continue;
            };
            for item in &t.entries {
                let ip = p.key(&item.key);
                match item.key.as_ref() {
                    "reason" => {
                        if let Some(reason) = self.string(&item.node, &ip)
                            && reason.trim().is_empty()
                        {
                            self.invalid(
                                &item.node,
                                &ip,
                                "reason must not be empty",
                                Some("say why the service needs this exception".to_owned()),
                            );
                        }
                    }
                    "expires" => {
                        self.date(&item.node, &ip);
                    }
                    _ => self.unknown_key(item, &ip, &["reason", "expires"]),
                }
            }
        }
    }

    /// A date: a TOML local date or a `"YYYY-MM-DD"` string.
    pub(crate) fn date(&mut self, node: &Node, path: &Path<'_>) -> Option<Date> {
        match &node.value {
            Value::String(s) => match parse_date(s) {
                Some(d) => Some(d),
                None => {
                    self.invalid(
                        node,
                        path,
                        format!("`{s}` is not a valid date"),
                        Some("write a date as YYYY-MM-DD, e.g. `2027-03-31`".to_owned()),
                    );
                    None
                }
            },
            Value::Datetime(dt) => match date_of(dt) {
                Some(d) => Some(d),
                None => {
                    self.push(
                        DiagnosticKind::Type,
                        path,
                        Some(node.span.clone()),
                        "expected a date, found a date-time",
                        Some("write only the day: YYYY-MM-DD".to_owned()),
                    );
                    None
                }
            },
            _ => {
                self.type_error(node, path, "date");
                None
            }
        }
    }

    // ----- typed helpers ---------------------------------------------------

    pub(crate) fn table<'n>(&mut self, node: &'n Node, path: &Path<'_>) -> Option<&'n Table> {
        let t = node.as_table();
        if t.is_none() {
            self.type_error(node, path, "table");
        }
        t
    }

    fn array<'n>(&mut self, node: &'n Node, path: &Path<'_>) -> Option<&'n [Node]> {
        let a = node.as_array();
        if a.is_none() {
            self.type_error(node, path, "array");
        }
        a
    }

    fn string<'n>(&mut self, node: &'n Node, path: &Path<'_>) -> Option<&'n str> {
        let s = node.as_str();
        if s.is_none() {
            self.type_error(node, path, "string");
        }
        s
    }

    fn boolean(&mut self, node: &Node, path: &Path<'_>) -> Option<bool> {
        let b = node.as_bool();
        if b.is_none() {
            self.type_error(node, path, "boolean");
        }
        b
    }

    fn integer_any(&mut self, node: &Node, path: &Path<'_>) -> Option<i64> {
        let i = node.as_integer();
        if i.is_none() {
            self.type_error(node, path, "integer");
        }
        i
    }

    fn integer(&mut self, node: &Node, path: &Path<'_>, range: RangeInclusive<i64>) -> Option<i64> {
        let v = self.integer_any(node, path)?;
        if range.contains(&v) {
            Some(v)
        } else {
            self.push(
                DiagnosticKind::Range,
                path,
                Some(node.span.clone()),
                format!(
                    "{v} is out of range: expected {} to {}",
                    range.start(),
                    range.end()
                ),
                None,
            );
            None
        }
    }

    /// An array of strings; `None` (after reporting) when any item is not a string.
    fn string_array<'n>(
        &mut self,
        node: &'n Node,
        path: &Path<'_>,
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        let items = self.array(node, path)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push((s, item)),
                None => {
                    self.type_error(item, &path.index(i), "string");
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// A command line: a non-empty array of strings.
    fn command(&mut self, node: &Node, path: &Path<'_>) {
        if let Some(items) = self.string_array(node, path)
            && items.first().is_none_or(|(s, _)| s.trim().is_empty())
        {
            self.invalid(
                node,
                path,
                "command must not be empty",
                Some(
                    "write the program and its arguments, e.g. `[\"./app\", \"worker\"]`"
                        .to_owned(),
                ),
            );
        }
    }

    /// A string from a closed set.
    fn variant<'n>(
        &mut self,
        node: &'n Node,
        path: &Path<'_>,
        choices: &[&str],
        what: &str,
    ) -> Option<&'n str> {
        let v = self.string(node, path)?;
        if choices.contains(&v) {
            Some(v)
        } else {
            let hint = suggest(v, choices.iter().copied());
            self.push(
                DiagnosticKind::UnknownVariant,
                path,
                Some(node.span.clone()),
                format!("unknown {what} `{v}`"),
                Some(hint),
            );
            None
        }
    }

    pub(crate) fn invalid(
        &mut self,
        node: &Node,
        path: &Path<'_>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(
            DiagnosticKind::Invalid,
            path,
            Some(node.span.clone()),
            message,
            hint,
        );
    }

    /// An unknown key of the top level (or of an environment's table): when
    /// no allowed key is close, it may be a key of a section written
    /// outside its table (`size = "small"` instead of under `[engine]`).
    fn unknown_top_key(
        &mut self,
        entry: &Entry,
        prefix: &Path<'_>,
        path: &Path<'_>,
        allowed: &[&str],
    ) {
        let key: &str = &entry.key;
        let hint = match names::did_you_mean(key, allowed.iter().copied()) {
            Some(c) => format!("did you mean `{c}`?"),
            None => match SECTION_KEYS.iter().find(|(_, keys)| keys.contains(&key)) {
                Some((section, _)) => {
                    let table = prefix.key(section);
                    format!("`{key}` belongs under `[{table}]`")
                }
                None => format!("expected one of {}", names::one_of(allowed.iter().copied())),
            },
        };
        self.push(
            DiagnosticKind::UnknownKey,
            path,
            Some(entry.key_span.clone()),
            format!("unknown key `{key}`"),
            Some(hint),
        );
    }

    fn unknown_key(&mut self, entry: &Entry, path: &Path<'_>, allowed: &[&str]) {
        let hint = suggest(&entry.key, allowed.iter().copied());
        self.push(
            DiagnosticKind::UnknownKey,
            path,
            Some(entry.key_span.clone()),
            format!("unknown key `{}`", entry.key),
            Some(hint),
        );
    }

    fn type_error(&mut self, node: &Node, path: &Path<'_>, expected: &str) {
        let raw = self.raw(&node.span);
        let hint = match (&node.value, expected) {
            (Value::Integer(_) | Value::Float(_) | Value::Boolean(_), "string") => {
                Some(format!("quote it: `\"{raw}\"`"))
            }
            (Value::String(s), "integer") if s.trim().parse::<i64>().is_ok() => {
                Some(format!("remove the quotes: `{}`", s.trim()))
            }
            (Value::Float(f), "integer") if f.fract() == 0.0 && f.is_finite() => {
                Some(format!("write it without a decimal point: `{f:.0}`"))
            }
            (Value::String(s), "boolean") if &**s == "true" || &**s == "false" => {
                Some(format!("remove the quotes: `{s}`"))
            }
            (_, "table") if !path.to_string().contains('[') => {
                Some(format!("write it as a table: `[{path}]`"))
            }
            _ => None,
        };
        self.push(
            DiagnosticKind::Type,
            path,
            Some(node.span.clone()),
            format!("expected {expected}, found {}", node.type_name()),
            hint,
        );
    }
}

/// A `YYYY-MM-DD` string as a valid calendar date.
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let date = Date {
        year: s[0..4].parse().ok()?,
        month: s[5..7].parse().ok()?,
        day: s[8..10].parse().ok()?,
    };
    valid_date(date).then_some(date)
}

/// The date of a TOML local date (no time, no offset).
pub(crate) fn date_of(dt: &toml::value::Datetime) -> Option<Date> {
    match (dt.date, dt.time, dt.offset) {
        (Some(d), None, None) => {
            let date = Date {
                year: d.year,
                month: d.month,
                day: d.day,
            };
            valid_date(date).then_some(date)
        }
        _ => None,
    }
}

fn valid_date(d: Date) -> bool {
    let leap =
        (d.year.is_multiple_of(4) && !d.year.is_multiple_of(100)) || d.year.is_multiple_of(400);
    let days = match d.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d.day)
}

/// The date of an `expires` node already checked by [`Checker::date`].
pub(crate) fn node_date(node: &Node) -> Option<Date> {
    match &node.value {
        Value::String(s) => parse_date(s),
        Value::Datetime(dt) => date_of(dt),
        _ => None,
    }
}
