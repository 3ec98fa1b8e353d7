//! Cutting a byte stream into PostgreSQL protocol messages, for reading only: the proxy
//! forwards the bytes it received, never what this module decoded. Every length is checked
//! against a maximum before anything is allocated, and only the messages the recorder reads
//! are kept (a row of a large result or a chunk of COPY data is counted, not copied).

/// PostgreSQL itself refuses messages of a gigabyte or more.
pub const MAX_MESSAGE_LEN: usize = (1 << 30) - 1;
/// Longest message body kept for reading; the rest of a longer one (a huge SQL text) is
/// skipped and the message marked truncated.
pub const MAX_KEPT_BODY: usize = 1 << 20;
/// Longest untagged startup-phase message (startup parameters, cancel and SSL requests).
pub const MAX_STARTUP_LEN: usize = 10_000;

/// Which side sent the stream; decides which messages are worth keeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    Frontend,
    /// Server to client.
    Backend,
}

impl Direction {
    /// Who sends this direction's bytes.
    pub fn peer(self) -> &'static str {
        match self {
            Direction::Frontend => "client",
            Direction::Backend => "server",
        }
    }

    pub fn reading(self) -> &'static str {
        match self {
            Direction::Frontend => "read from the client",
            Direction::Backend => "read from the server",
        }
    }

    /// How much of a message's body the recorder keeps, and whether that cuts it short.
    /// Rows, COPY data, passwords and notices are only counted.
    fn kept(self, tag: u8, body_len: usize) -> (usize, bool) {
        let read = match self {
            Direction::Frontend => matches!(tag, b'Q' | b'P' | b'B' | b'E' | b'C' | b'F'),
            Direction::Backend => matches!(tag, b'C' | b'E' | b'Z' | b'S' | b'K'),
        };
        if read {
            (body_len.min(MAX_KEPT_BODY), body_len > MAX_KEPT_BODY)
        } else {
            (0, false)
        }
    }
}

/// One message, whole or (for kept bodies over [`MAX_KEPT_BODY`]) cut short.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub tag: u8,
    /// The body as kept: empty for messages that are only counted.
    pub body: &'a [u8],
    /// The body was longer than [`MAX_KEPT_BODY`]; `body` holds its beginning.
    pub truncated: bool,
    /// The message's size on the wire (tag and length word included), whatever was kept.
    pub wire_len: usize,
}

/// A stream that is not the PostgreSQL protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("message {tag:?} declares length {len}, below the minimum of 4")]
    TooShort { tag: char, len: u32 },
    #[error("message {tag:?} declares length {len}, above the maximum of {MAX_MESSAGE_LEN}")]
    TooLong { tag: char, len: u32 },
}

/// Incremental decoder for the tagged messages of one direction.
#[derive(Debug)]
pub struct FrameDecoder {
    direction: Direction,
    header: [u8; 5],
    header_len: usize,
    /// The message being read, once its header is complete.
    current: Option<Partial>,
}

#[derive(Debug)]
struct Partial {
    tag: u8,
    /// The whole message's size on the wire.
    wire_len: usize,
    /// Body bytes still to come.
    remaining: usize,
    /// Kept body bytes so far (empty when the body is only counted).
    kept: Vec<u8>,
    /// How many more body bytes to keep.
    keep_left: usize,
    truncated: bool,
}

impl FrameDecoder {
    pub fn new(direction: Direction) -> Self {
        Self {
            direction,
            header: [0; 5],
            header_len: 0,
            current: None,
        }
    }

    /// Whether the stream is between messages (nothing of a next message read yet).
    pub fn at_boundary(&self) -> bool {
        self.header_len == 0 && self.current.is_none()
    }

    /// Feeds received bytes; calls `on_frame` for each message completed by them. After an
    /// error the stream cannot be read further.
    pub fn feed(
        &mut self,
        mut bytes: &[u8],
        mut on_frame: impl FnMut(Frame<'_>),
    ) -> Result<(), FrameError> {
        while !bytes.is_empty() {
            let Some(partial) = &mut self.current else {
                // Fast path: a whole message lies in `bytes`; hand it over without copying.
                if self.header_len == 0
                    && let Some((frame, len)) = self.whole_message(bytes)?
                {
                    on_frame(frame);
                    bytes = &bytes[len..];
                    continue;
                }
                let take = (5 - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + take]
                    .copy_from_slice(&bytes[..take]);
                self.header_len += take;
                bytes = &bytes[take..];
                if self.header_len == 5 {
                    self.header_len = 0;
                    let (tag, body_len) = checked_header(&self.header)?;
                    let (keep, truncated) = self.direction.kept(tag, body_len);
                    self.current = Some(Partial {
                        tag,
                        wire_len: 5 + body_len,
                        remaining: body_len,
                        kept: Vec::with_capacity(keep),
                        keep_left: keep,
                        truncated,
                    });
                    self.finish_if_complete(&mut on_frame);
                }
                continue;
            };
            let take = partial.remaining.min(bytes.len());
            let keep = partial.keep_left.min(take);
            partial.kept.extend_from_slice(&bytes[..keep]);
            partial.keep_left -= keep;
            partial.remaining -= take;
            bytes = &bytes[take..];
            self.finish_if_complete(&mut on_frame);
        }
        Ok(())
    }

    /// The message at the start of `bytes` and its length, when it is there whole.
    fn whole_message<'a>(&self, bytes: &'a [u8]) -> Result<Option<(Frame<'a>, usize)>, FrameError> {
        let Some(header) = bytes.first_chunk::<5>() else {
            return Ok(None);
        };
        let (tag, body_len) = checked_header(header)?;
        if bytes.len() < 5 + body_len {
            return Ok(None);
        }
        let (kept, truncated) = self.direction.kept(tag, body_len);
        let frame = Frame {
            tag,
            body: &bytes[5..5 + kept],
            truncated,
            wire_len: 5 + body_len,
        };
        Ok(Some((frame, 5 + body_len)))
    }

    fn finish_if_complete(&mut self, on_frame: &mut impl FnMut(Frame<'_>)) {
        if let Some(partial) = self.current.take_if(|p| p.remaining == 0) {
            on_frame(Frame {
                tag: partial.tag,
                body: &partial.kept,
                truncated: partial.truncated,
                wire_len: partial.wire_len,
            });
        }
    }
}

/// The tag and body length of a message header, refused when the length is impossible.
fn checked_header(header: &[u8; 5]) -> Result<(u8, usize), FrameError> {
    let tag = header[0];
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    if len < 4 {
        return Err(FrameError::TooShort {
            tag: char::from(tag),
            len,
        });
    }
    if len as usize > MAX_MESSAGE_LEN {
        return Err(FrameError::TooLong {
            tag: char::from(tag),
            len,
        });
    }
    Ok((tag, len as usize - 4))
}

/// Reads the fields of a message body; every read checks what is left.
#[derive(Debug)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        Self { rest: body }
    }

    /// A NUL-terminated string; without a NUL (a truncated body), whatever is left.
    pub fn cstr(&mut self) -> &'a [u8] {
        match self.rest.iter().position(|&b| b == 0) {
            Some(end) => {
                let value = &self.rest[..end];
                self.rest = &self.rest[end + 1..];
                value
            }
            None => std::mem::take(&mut self.rest),
        }
    }

    pub fn u8(&mut self) -> Option<u8> {
        let (&first, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(first)
    }

    pub fn i16(&mut self) -> Option<i16> {
        let (bytes, rest) = self.rest.split_first_chunk::<2>()?;
        self.rest = rest;
        Some(i16::from_be_bytes(*bytes))
    }

    pub fn i32(&mut self) -> Option<i32> {
        let (bytes, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        Some(i32::from_be_bytes(*bytes))
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// `len` bytes, or `None` when fewer are left.
    pub fn bytes(&mut self, len: usize) -> Option<&'a [u8]> {
        if len > self.rest.len() {
            return None;
        }
        let (value, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![tag];
        bytes.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    fn decode_in_pieces(direction: Direction, stream: &[u8], piece: usize) -> Vec<(u8, Vec<u8>)> {
        let mut decoder = FrameDecoder::new(direction);
        let mut frames = Vec::new();
        for chunk in stream.chunks(piece) {
            decoder
                .feed(chunk, |f| frames.push((f.tag, f.body.to_vec())))
                .unwrap();
        }
        assert!(decoder.at_boundary());
        frames
    }

    #[test]
    fn messages_come_out_whole_however_the_stream_is_cut() {
        let mut stream = message(b'Q', b"select 1\0");
        stream.extend(message(b'S', b""));
        stream.extend(message(b'd', b"copy data is only counted"));
        stream.extend(message(b'P', b"s1\0select $1\0\0\0"));
        let expected = vec![
            (b'Q', b"select 1\0".to_vec()),
            (b'S', vec![]),
            (b'd', vec![]),
            (b'P', b"s1\0select $1\0\0\0".to_vec()),
        ];
        for piece in [1, 2, 3, 5, 7, stream.len()] {
            assert_eq!(
                decode_in_pieces(Direction::Frontend, &stream, piece),
                expected,
                "piece {piece}"
            );
        }
    }

    #[test]
    fn rows_are_counted_but_not_kept() {
        let mut stream = message(b'D', &[0, 1, 0, 0, 0, 1, b'x']);
        stream.extend(message(b'C', b"SELECT 1\0"));
        let frames = decode_in_pieces(Direction::Backend, &stream, 4);
        assert_eq!(frames, vec![(b'D', vec![]), (b'C', b"SELECT 1\0".to_vec())]);
        // Their size on the wire is known all the same, whole or cut in pieces.
        for piece in [3, stream.len()] {
            let mut sizes = Vec::new();
            let mut decoder = FrameDecoder::new(Direction::Backend);
            for chunk in stream.chunks(piece) {
                decoder.feed(chunk, |f| sizes.push(f.wire_len)).unwrap();
            }
            assert_eq!(sizes, [12, 14], "pieces of {piece}");
        }
    }

    #[test]
    fn lengths_below_four_are_refused() {
        for len in [0u32, 3] {
            let mut bytes = vec![b'Q'];
            bytes.extend_from_slice(&len.to_be_bytes());
            let err = FrameDecoder::new(Direction::Frontend)
                .feed(&bytes, |_| panic!("no frame"))
                .unwrap_err();
            assert_eq!(err, FrameError::TooShort { tag: 'Q', len });
        }
    }

    #[test]
    fn lengths_above_the_maximum_are_refused_before_allocating() {
        let mut bytes = vec![b'Q'];
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        let mut decoder = FrameDecoder::new(Direction::Frontend);
        // Fed one byte at a time, so the slow path (which would allocate) sees the header.
        let mut result = Ok(());
        for byte in &bytes {
            result = decoder.feed(std::slice::from_ref(byte), |_| panic!("no frame"));
        }
        assert_eq!(
            result.unwrap_err(),
            FrameError::TooLong {
                tag: 'Q',
                len: u32::MAX
            }
        );
    }

    #[test]
    fn long_kept_bodies_are_cut_to_the_maximum_and_marked() {
        let sql = vec![b'x'; MAX_KEPT_BODY + 10];
        let stream = message(b'Q', &sql);
        let mut decoder = FrameDecoder::new(Direction::Frontend);
        let mut seen = Vec::new();
        for chunk in stream.chunks(64 * 1024) {
            decoder
                .feed(chunk, |f| seen.push((f.body.len(), f.truncated)))
                .unwrap();
        }
        assert_eq!(seen, vec![(MAX_KEPT_BODY, true)]);
    }

    #[test]
    fn fields_never_read_past_the_end() {
        let mut fields = Fields::new(b"name\0\x00\x02ab");
        assert_eq!(fields.cstr(), b"name");
        assert_eq!(fields.i16(), Some(2));
        assert_eq!(fields.bytes(3), None);
        assert_eq!(fields.bytes(2), Some(&b"ab"[..]));
        assert_eq!(fields.i32(), None);
        assert_eq!(fields.u8(), None);
        assert_eq!(fields.cstr(), b"");
    }
}
