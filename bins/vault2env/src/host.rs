//! The process's surroundings as a trait: environment variables and files.
//!
//! Everything vault2env learns about its host (configuration, the service
//! account token, `/etc/hosts`, `/etc/resolv.conf`, CA bundles) comes through
//! [`Host`], so tests hand in a [`MapHost`] and never mutate the real process
//! environment.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// Read access to environment variables and files.
pub trait Host {
    /// The value of one environment variable, `None` when unset or not UTF-8.
    fn var(&self, name: &str) -> Option<String>;
    /// The whole environment, in its original order, including non-UTF-8 entries.
    fn vars(&self) -> Vec<(OsString, OsString)>;
    /// The contents of a file.
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>>;
}

/// An in-memory host for tests: a fixed environment and a fixed set of
/// files. `Debug` shows names and paths only (values may be secrets).
#[derive(Clone, Default)]
pub struct MapHost {
    vars: Vec<(String, String)>,
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MapHost {
    /// An empty host: no variables, no files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an environment variable.
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.retain(|(n, _)| n != name);
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds (or replaces) a file.
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.into(), contents.into());
        self
    }
}

impl std::fmt::Debug for MapHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vars: Vec<&str> = self.vars.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("MapHost")
            .field("vars", &vars)
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Host for MapHost {
    fn var(&self, name: &str) -> Option<String> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn vars(&self) -> Vec<(OsString, OsString)> {
        self.vars
            .iter()
            .map(|(n, v)| (OsString::from(n), OsString::from(v)))
            .collect()
    }

    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}
