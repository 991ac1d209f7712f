//! `tipline gen-keys`: fresh random values for the two keys, as shell `export` lines.

use std::process::ExitCode;

use rand::RngCore;

/// Prints `export TIPLINE_ALIAS_KEY=…` and `export TIPLINE_ROUTE_KEY=…` (32 random bytes each,
/// in hex) for `eval "$(tipline gen-keys)"`.
pub fn gen_keys() -> ExitCode {
    let mut alias = [0u8; 32];
    let mut route = [0u8; 32];
    rand::rng().fill_bytes(&mut alias);
    rand::rng().fill_bytes(&mut route);
    println!("export TIPLINE_ALIAS_KEY={}", hex::encode(alias));
    println!("export TIPLINE_ROUTE_KEY={}", hex::encode(route));
    ExitCode::SUCCESS
}
