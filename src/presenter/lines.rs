//! Newline-delimited JSON with a bound: [`LineReader`] reads one line at a time and never
//! holds more than its limit (a longer line is skipped to its end and reported), [`read`]
//! turns a line into a message or says why it cannot, [`write`] sends one message.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// One line as it came off the wire, newline removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Text(String),
    /// Longer than the reader's limit: `bytes` were read and thrown away.
    TooLong {
        bytes: usize,
    },
    NotUtf8,
}

/// Reads bounded lines. Cancel-safe: a read interrupted (by `select!`) keeps what it had
/// and the next call goes on from there.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    limit: usize,
    buf: Vec<u8>,
    /// Bytes of the current line beyond the limit were seen: it is being skipped.
    skipped: Option<usize>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    pub fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            limit,
            buf: Vec::new(),
            skipped: None,
        }
    }

    /// The next line; `None` once the peer has hung up (a line it left unfinished is
    /// dropped: half a message is no message).
    pub async fn next(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                self.buf.clear();
                self.skipped = None;
                return Ok(None);
            }
            let end = available.iter().position(|&b| b == b'\n');
            let chunk = &available[..end.unwrap_or(available.len())];
            match self.skipped.as_mut() {
                Some(skipped) => *skipped += chunk.len(),
                None if self.buf.len() + chunk.len() > self.limit => {
                    self.skipped = Some(self.buf.len() + chunk.len());
                    self.buf = Vec::new();
                }
                None => self.buf.extend_from_slice(chunk),
            }
            let used = end.map_or(available.len(), |at| at + 1);
            self.inner.consume(used);
            if end.is_some() {
                let line = match self.skipped.take() {
                    Some(bytes) => Line::TooLong { bytes },
                    None => String::from_utf8(std::mem::take(&mut self.buf))
                        .map_or(Line::NotUtf8, Line::Text),
                };
                return Ok(Some(line));
            }
        }
    }
}

/// The message on `line`, or why there is none, in words for a journal.
pub fn read<T: DeserializeOwned>(line: Line) -> Result<T, String> {
    match line {
        Line::Text(text) => serde_json::from_str(&text).map_err(|error| {
            format!(
                "a malformed line ({error}): {}",
                crate::text::clip(&text, 80)
            )
        }),
        Line::TooLong { bytes } => Err(format!("a line of {bytes} bytes, over the limit")),
        Line::NotUtf8 => Err("a line that is not UTF-8".into()),
    }
}

/// Sends `message` as one line.
pub async fn write<W: AsyncWrite + Unpin>(
    writer: &mut W,
    message: &impl Serialize,
) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(message)?;
    bytes.push(b'\n');
    writer.write_all(&bytes).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines_of(input: &[u8], limit: usize) -> Vec<Line> {
        // A small buffer, so lines arrive in pieces as they would from a socket.
        let reader = tokio::io::BufReader::with_capacity(4, input);
        let mut lines = LineReader::new(reader, limit);
        let mut out = Vec::new();
        while let Some(line) = lines.next().await.expect("reading memory") {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn long_lines_are_skipped_whole_and_the_next_line_is_read() {
        let got = lines_of(b"short\nmuch too long a line\nok\n\xff\xfe\nhalf", 10).await;
        assert_eq!(
            got,
            [
                Line::Text("short".into()),
                Line::TooLong { bytes: 20 },
                Line::Text("ok".into()),
                Line::NotUtf8,
            ]
        );
    }

    #[test]
    fn a_line_that_is_not_a_message_says_why() {
        let why = read::<crate::data::presenter::FromNotes>(Line::Text("{\"type\":1}".into()))
            .expect_err("not a message");
        assert!(why.starts_with("a malformed line"), "{why}");
    }
}
