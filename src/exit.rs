//! The program's exit codes, as `pglab --help` and the README document them, and the trait by
//! which an error type says which one it ends the program with. The edge (`exit_code_for` in
//! the crate root) walks an error's chain and takes the first code an error there knows.

/// Exit code: something failed (the default for an error that says nothing more).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: the database could not be found, started or reached.
pub const EXIT_UNAVAILABLE: u8 = 3;
/// Exit code: the request was refused (e.g. an absurd seed size, a proxy address reachable
/// from other machines without `--allow-remote`).
pub const EXIT_REFUSED: u8 = 4;

/// An error that knows how it ends the program. Wrappers that hold another such error answer
/// with the inner error's code: a transparent wrapper hides the inner error from the chain.
pub trait ExitStatus {
    fn exit_code(&self) -> u8;
}
