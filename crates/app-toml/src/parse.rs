//! Parsing and validation (being written: see issue 2).

use crate::{Error, ParseOptions, Resolved};

#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    name: String,
}

pub(crate) fn parse(_source: &[u8], options: &ParseOptions<'_>) -> Result<Parsed, Error> {
    Ok(Parsed {
        name: options.fallback_name.unwrap_or_default().to_owned(),
    })
}

impl Parsed {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn resolve(&self, env: &str) -> Result<Resolved, Error> {
        Err(Error::UnknownEnvironment {
            name: env.to_owned(),
            known: Vec::new(),
        })
    }
}
