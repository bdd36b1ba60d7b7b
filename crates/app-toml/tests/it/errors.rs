//! One test per error class, each through [`check`].

use crate::check;

#[test]
fn probe() {
    check(include_str!("../../../../fixtures/app-toml/ok/wordcounter.toml"), "");
    check(include_str!("../../../../fixtures/app-toml/ok/userinfo.toml"), "");
}
