//! Standard output for commands. A reader that stops early (`pglab lessons run 8 | head`)
//! closes the pipe, and every later write fails with EPIPE (Rust ignores SIGPIPE, so no
//! signal ends the program as it ends C tools). [`stdout`] marks that failure as
//! [`OutputClosed`], and `main` then ends quietly with the status a shell expects of a
//! pipeline's early-closed writer — [`EXIT_OUTPUT_CLOSED`], 128 + SIGPIPE, what `yes | head`
//! leaves — instead of a panic or an error message about a reader that left on purpose.

use std::io::{self, ErrorKind, Write};

/// The exit status after standard output was closed: 128 + SIGPIPE (13), as a shell reports
/// a writer that a pipe's reader left.
pub const EXIT_OUTPUT_CLOSED: u8 = 141;

/// Standard output was closed by its reader.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct OutputClosed;

/// Standard output, whose writes fail with [`OutputClosed`] inside the `io::Error` once the
/// reader is gone.
pub struct Stdout(io::Stdout);

/// Where every command writes what it prints.
pub fn stdout() -> Stdout {
    Stdout(io::stdout())
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(marked)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).map_err(marked)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(marked)
    }
}

fn marked(error: io::Error) -> io::Error {
    if error.kind() == ErrorKind::BrokenPipe {
        io::Error::new(ErrorKind::BrokenPipe, OutputClosed)
    } else {
        error
    }
}

/// Whether `error` ended the program because standard output was closed (anywhere in its
/// chain, under any context). A broken pipe to anything else (a child process) is an error.
pub fn output_closed(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.is::<OutputClosed>()
            || cause
                .downcast_ref::<io::Error>()
                .and_then(io::Error::get_ref)
                .is_some_and(|inner| inner.is::<OutputClosed>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn only_a_closed_standard_output_is_recognised() {
        let closed: anyhow::Error = marked(io::Error::from(ErrorKind::BrokenPipe)).into();
        assert!(output_closed(&closed));
        let wrapped = Err::<(), _>(marked(io::Error::from(ErrorKind::BrokenPipe)))
            .context("writing the plan")
            .unwrap_err();
        assert!(output_closed(&wrapped));
        // A child process's pipe breaking is a failure like any other.
        let child: anyhow::Error = io::Error::from(ErrorKind::BrokenPipe).into();
        assert!(!output_closed(&child));
        let other: anyhow::Error = marked(io::Error::from(ErrorKind::PermissionDenied)).into();
        assert!(!output_closed(&other));
    }
}
