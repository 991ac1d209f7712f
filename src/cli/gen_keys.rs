//! `tipline gen-keys`: fresh random values for the four keys, as shell `export` lines.

use std::process::ExitCode;

use rand::RngCore;

/// Prints `export TIPLINE_ALIAS_KEY=…`, `export TIPLINE_ROUTE_KEY=…`,
/// `export TIPLINE_AUDIT_KEY=…` and `export TIPLINE_LINK_KEY=…` (32 random bytes each, in hex)
/// for `eval "$(tipline gen-keys)"`.
pub fn gen_keys() -> ExitCode {
    for name in [
        "TIPLINE_ALIAS_KEY",
        "TIPLINE_ROUTE_KEY",
        "TIPLINE_AUDIT_KEY",
        "TIPLINE_LINK_KEY",
    ] {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        println!("export {name}={}", hex::encode(key));
    }
    ExitCode::SUCCESS
}
