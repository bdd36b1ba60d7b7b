//! `paas service create`: a ready service repository (being written).

use crate::Failure;
use crate::cli::{CreateArgs, Global};

/// `paas service create`.
pub(crate) fn create(_global: &Global, _args: &CreateArgs) -> Result<String, Failure> {
    Err(Failure::failed("error: paas service create is not built yet"))
}
