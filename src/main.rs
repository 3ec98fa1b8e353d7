//! The `pglab` program: parse the command line, run it, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pglab::cli::Cli::parse();
    match pglab::run(cli) {
        Ok(code) => code,
        Err(error) => {
            // The edge of the program: the only place errors reach the terminal.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("pglab: {error:#}");
            }
            pglab::exit_code_for(&error)
        }
    }
}
