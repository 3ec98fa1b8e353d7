//! The `pglab` program: parse the command line, run it, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pglab::cli::Cli::parse();
    match pglab::run(cli) {
        Ok(code) => code,
        // Its reader left (`| head`): nothing to say, and nobody to say it to.
        Err(error) if pglab::cli::output_closed(&error) => {
            ExitCode::from(pglab::cli::EXIT_OUTPUT_CLOSED)
        }
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
