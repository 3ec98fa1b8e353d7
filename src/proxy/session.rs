//! One client's session through the proxy: the untagged startup exchange (SSL and GSS
//! encryption refused, cancel requests relayed, the startup message read for the user and
//! database), the server connection (in plain text or TLS, see [`super::tls`]), then both directions relayed byte for byte while a decoded copy feeds the
//! session's [`Conversation`]. Each message is shown to the conversation before it is
//! forwarded, so the conversation sees a request before the answer it causes.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::frame::{Direction, Fields, FrameDecoder, MAX_STARTUP_LEN};
use super::latency::{DelayLine, Latency, sleep_precisely_until};
use super::round_trip::Conversation;
use super::tls::{
    NegotiationError, Phase, Progress, Upstream, UpstreamStream, UpstreamTls,
    without_channel_binding,
};
use crate::data::proxy::{ProxyEvent, SessionEnd, SessionId, SessionInfo};

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;
/// Protocol 3.0 and 3.2 (PostgreSQL 18): the major version is the high 16 bits.
const PROTOCOL_MAJOR_3: u32 = 3;
/// A TLS handshake's first byte: a client using `sslnegotiation=direct`.
const TLS_HANDSHAKE: u8 = 0x16;
/// A client that connects and says nothing for this long is dropped.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Free space kept in each direction's read buffer.
const READ_BUFFER: usize = 16 * 1024;
/// Bytes a direction's delay line may hold before reading pauses.
const MAX_QUEUED_BYTES: usize = 8 << 20;

/// What a session needs from the proxy around it.
#[derive(Debug, Clone)]
pub struct Context {
    /// `host:port` of the real server.
    pub upstream: String,
    /// How the server connection is encrypted, if at all.
    pub tls: UpstreamTls,
    /// How long the server connection's setup may take (see [`super::tls::UPSTREAM_TIMEOUT`]).
    pub upstream_timeout: Duration,
    pub latency: Latency,
    pub events: mpsc::Sender<ProxyEvent>,
}

/// Serves one accepted client until either side closes; reports what happened as events.
pub async fn serve(mut client: TcpStream, peer: SocketAddr, id: SessionId, cx: Context) {
    let began = Instant::now();
    let end = match run(&mut client, peer, id, &cx, began).await {
        Ok(Some(end)) => end,
        // A cancel request: no session began, none ends.
        Ok(None) => return,
        Err(why) => SessionEnd::Failed(why),
    };
    let _ = cx
        .events
        .send(ProxyEvent::SessionEnded { session: id, end })
        .await;
}

async fn run(
    client: &mut TcpStream,
    peer: SocketAddr,
    id: SessionId,
    cx: &Context,
    began: Instant,
) -> Result<Option<SessionEnd>, String> {
    let _ = client.set_nodelay(true);
    // Simulates the TCP handshake the client would pay on a distant network.
    sleep(cx.latency.round_trip()).await;
    let mut early_requests = 0;
    let startup = loop {
        let message = tokio::time::timeout(STARTUP_TIMEOUT, read_startup_message(client))
            .await
            .map_err(|_| "the client sent no startup message within 60 s".to_string())?
            .map_err(|why| match early_requests {
                0 => why,
                // A client that requires encryption gives up when it is refused.
                _ => "the client hung up when the proxy refused SSL (it speaks plain text on \
                      loopback: connect with sslmode=disable or prefer)"
                    .to_string(),
            })?;
        let code = u32::from_be_bytes([message[4], message[5], message[6], message[7]]);
        match code {
            SSL_REQUEST | GSSENC_REQUEST => {
                early_requests += 1;
                sleep(cx.latency.round_trip()).await;
                client
                    .write_all(b"N")
                    .await
                    .map_err(io("refuse encryption"))?;
            }
            CANCEL_REQUEST => {
                relay_cancel(&message, cx).await;
                let _ = cx.events.send(ProxyEvent::Cancel { client: peer }).await;
                return Ok(None);
            }
            _ if code >> 16 == PROTOCOL_MAJOR_3 => break message,
            _ => return Err(format!("the client asked for unknown protocol code {code}")),
        }
    };
    let info = session_info(id, peer, &startup[8..]);
    let mut conversation = Conversation::new(info, began);
    for _ in 0..=early_requests {
        conversation.startup_request();
    }
    let (upstream, first) = match connect_upstream(cx, &startup).await {
        Ok(upstream) => upstream,
        Err(why) => {
            let message = format!(
                "pglab proxy cannot reach the database at {}: {why}",
                cx.upstream
            );
            let _ = client.write_all(&fatal_error("08006", &message)).await;
            return Err(message);
        }
    };
    relay(client, upstream.stream, first, &mut conversation, cx)
        .await
        .map(Some)
}

/// Reads one untagged message: a length (itself included), then a 4-byte code and the rest.
async fn read_startup_message(client: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut len = [0u8; 4];
    client
        .read_exact(&mut len)
        .await
        .map_err(io("read the startup message"))?;
    if len[0] == TLS_HANDSHAKE {
        return Err(
            "the client started TLS directly (sslnegotiation=direct); the proxy \
                    speaks plain text on loopback: connect with sslmode=disable or prefer"
                .into(),
        );
    }
    let len = u32::from_be_bytes(len) as usize;
    if !(8..=MAX_STARTUP_LEN).contains(&len) {
        return Err(format!(
            "the client's startup message declares length {len}, outside 8..={MAX_STARTUP_LEN}"
        ));
    }
    let mut message = vec![0u8; len];
    message[..4].copy_from_slice(&(len as u32).to_be_bytes());
    client
        .read_exact(&mut message[4..])
        .await
        .map_err(io("read the startup message"))?;
    Ok(message)
}

/// The startup parameters: pairs of NUL-terminated names and values.
fn session_info(id: SessionId, client: SocketAddr, parameters: &[u8]) -> SessionInfo {
    let mut info = SessionInfo {
        id,
        client,
        user: String::new(),
        database: String::new(),
        application_name: String::new(),
        backend_pid: None,
    };
    let mut fields = Fields::new(parameters);
    loop {
        let name = fields.cstr();
        if name.is_empty() {
            break;
        }
        let value = String::from_utf8_lossy(fields.cstr()).into_owned();
        match name {
            b"user" => info.user = value,
            b"database" => info.database = value,
            b"application_name" => info.application_name = value,
            _ => {}
        }
    }
    if info.database.is_empty() {
        info.database.clone_from(&info.user);
    }
    info
}

/// A cancel request carries the server's own process id and key, so it goes to the server
/// unchanged, on a connection of its own (encrypted as the session's would be).
async fn relay_cancel(message: &[u8], cx: &Context) {
    sleep(cx.latency.round_trip() / 2).await;
    let connected = cx
        .tls
        .connect(&cx.upstream, cx.latency.round_trip(), cx.upstream_timeout)
        .await;
    if let Ok(upstream) = connected {
        let mut stream = upstream.stream;
        let _ = stream.write_all(message).await;
        let _ = stream.shutdown().await;
    }
}

/// A new connection to the server, through TLS when the settings ask for it, with the
/// client's startup message forwarded and the server's first messages read (see
/// [`authentication_offer`]). One time limit covers it all, so a server that accepts the
/// connection and then stays silent ends the session with an error naming the silent step.
async fn connect_upstream(cx: &Context, startup: &[u8]) -> Result<(Upstream, Vec<u8>), String> {
    let progress = Progress::default();
    // The simulated network's delays (three half round trips and two whole ones at most)
    // are not the server's silence.
    let limit = cx.upstream_timeout + 4 * cx.latency.round_trip();
    tokio::time::timeout(limit, set_up_upstream(cx, startup, &progress))
        .await
        .unwrap_or_else(|_| {
            Err(NegotiationError::silent(&cx.upstream, &progress, cx.upstream_timeout).to_string())
        })
}

async fn set_up_upstream(
    cx: &Context,
    startup: &[u8],
    progress: &Progress,
) -> Result<(Upstream, Vec<u8>), String> {
    let mut upstream = cx
        .tls
        .connect_and_negotiate(&cx.upstream, cx.latency.round_trip(), progress)
        .await
        .map_err(|e| e.to_string())?;
    sleep(cx.latency.round_trip() / 2).await;
    progress.at(Phase::AuthenticationRequest);
    upstream
        .stream
        .write_all(startup)
        .await
        .map_err(io("forward the startup message"))?;
    upstream
        .stream
        .flush()
        .await
        .map_err(io("forward the startup message"))?;
    let first = authentication_offer(&mut upstream.stream).await?;
    Ok((upstream, first))
}

/// The server's first messages after the startup message, up to its authentication request
/// (a `NegotiateProtocolVersion` may come before it), with a channel-binding offer taken out
/// (see [`without_channel_binding`]; a plain-text server never makes one). They go to the
/// client first, through the relay, whose conversation sees them as it would have.
async fn authentication_offer(upstream: &mut Box<dyn UpstreamStream>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    // NegotiateProtocolVersion at most once, then the request (or an error).
    for _ in 0..2 {
        let mut header = [0u8; 5];
        upstream
            .read_exact(&mut header)
            .await
            .map_err(io("read the server's authentication request"))?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if !(4..=MAX_STARTUP_LEN).contains(&len) {
            return Err(format!(
                "the server's first message declares length {len}, outside 4..={MAX_STARTUP_LEN}"
            ));
        }
        let mut message = header.to_vec();
        message.resize(1 + len, 0);
        upstream
            .read_exact(&mut message[5..])
            .await
            .map_err(io("read the server's authentication request"))?;
        let tag = header[0];
        match without_channel_binding(&message) {
            Some(rewritten) => out.extend_from_slice(&rewritten),
            None => out.extend_from_slice(&message),
        }
        if tag != b'v' {
            break;
        }
    }
    Ok(out)
}

/// Bytes of one direction waiting for their due time.
type Queue = VecDeque<(Instant, Bytes)>;

/// Relays both directions until one side closes. The two directions are separate futures
/// polled together, so a write that waits (the server not reading while it streams results
/// to a client that pipelines) never stops the other direction.
async fn relay(
    client: &mut TcpStream,
    upstream: Box<dyn UpstreamStream>,
    first: Vec<u8>,
    conversation: &mut Conversation,
    cx: &Context,
) -> Result<SessionEnd, String> {
    let (client_in, client_out) = client.split();
    // Both halves are polled by this one task, so the split's lock is never contended.
    let (server_in, server_out) = tokio::io::split(upstream);
    // What the server said already, read before the relay began, comes first.
    let server_in = std::io::Cursor::new(first).chain(server_in);
    // Never held across an await; the two directions only take turns.
    let conversation = Mutex::new(conversation);
    tokio::select! {
        end = pump(Direction::Frontend, client_in, server_out, &conversation, cx) => end,
        end = pump(Direction::Backend, server_in, client_out, &conversation, cx) => end,
    }
}

/// One direction: read, let the conversation see the messages, forward the bytes (now, or
/// at their due time when latency is simulated).
async fn pump(
    direction: Direction,
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    conversation: &Mutex<&mut Conversation>,
    cx: &Context,
) -> Result<SessionEnd, String> {
    let mut decoder = FrameDecoder::new(direction);
    let mut delay = DelayLine::new(cx.latency.clone());
    let mut queue = Queue::new();
    let mut queued_bytes = 0;
    let mut received = BytesMut::new();
    let mut events = Vec::new();
    loop {
        // Room for a whole read each time; without it a read takes a few bytes at a time.
        received.reserve(READ_BUFFER);
        let next_due = queue.front().map(|(due, _)| *due);
        tokio::select! {
            // Reading pauses while the delay line holds too much, as a slow link would.
            read = from.read_buf(&mut received), if queued_bytes < MAX_QUEUED_BYTES => {
                // A TLS server that goes away without saying goodbye ends its stream as
                // surely as a TCP server that closes.
                let read = match read {
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
                    read => read,
                };
                if read.map_err(io(direction.reading()))? == 0 {
                    // Whatever came last (a client's Terminate) still goes on.
                    flush_all(&mut queue, &mut to).await;
                    return Ok(closed(direction, &decoder, conversation, cx).await);
                }
                let arrived = Instant::now();
                let due = delay.due(arrived);
                {
                    let mut conversation = lock(conversation);
                    decoder
                        .feed(&received, |frame| match direction {
                            Direction::Frontend => events.extend(conversation.on_frontend(&frame, arrived)),
                            Direction::Backend => {
                                let delivered = due.unwrap_or(arrived);
                                events.extend(conversation.on_backend(&frame, delivered));
                            }
                        })
                        .map_err(|e| format!("the {} sent a malformed message: {e}", direction.peer()))?;
                }
                // Report before the client can act on the answer, so whoever watches the
                // events has them by the time the client's call returns.
                for event in events.drain(..) {
                    let _ = cx.events.send(event).await;
                }
                match due {
                    None if queue.is_empty() => {
                        to.write_all(&received).await.map_err(io("forward bytes"))?;
                        // TLS holds records back until flushed; plain TCP flushes nothing.
                        to.flush().await.map_err(io("forward bytes"))?;
                        received.clear();
                    }
                    // Chunks still queued go first, even once the delay is turned off.
                    _ => {
                        let due = due.unwrap_or(arrived);
                        queued_bytes += received.len();
                        queue.push_back((due, received.split().freeze()));
                    }
                }
            }
            () = sleep_until(next_due), if next_due.is_some() => {
                let now = Instant::now();
                while let Some((_, chunk)) = queue.pop_front_if(|(due, _)| *due <= now) {
                    queued_bytes -= chunk.len();
                    to.write_all(&chunk).await.map_err(io("forward bytes"))?;
                }
                to.flush().await.map_err(io("forward bytes"))?;
            }
        }
    }
}

/// How the session ended when `direction`'s sender closed its side.
async fn closed(
    direction: Direction,
    decoder: &FrameDecoder,
    conversation: &Mutex<&mut Conversation>,
    cx: &Context,
) -> SessionEnd {
    match direction {
        Direction::Frontend if decoder.at_boundary() => SessionEnd::ClientClosed,
        Direction::Frontend => {
            SessionEnd::Failed("the client hung up in the middle of a message".into())
        }
        // The server hangs up after the client's Terminate, which may be seen first.
        Direction::Backend if lock(conversation).terminated() => SessionEnd::ClientClosed,
        Direction::Backend => {
            let (unanswered, error) = lock(conversation).server_closed(Instant::now());
            for event in unanswered {
                let _ = cx.events.send(event).await;
            }
            SessionEnd::ServerClosed { error }
        }
    }
}

fn lock<'a, 'c>(
    conversation: &'a Mutex<&'c mut Conversation>,
) -> std::sync::MutexGuard<'a, &'c mut Conversation> {
    // A panic while holding the lock cannot leave a half-updated conversation worth
    // refusing: the session would end with that panic anyway.
    conversation
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Delivers everything still queued, each chunk at its time, when the other side is gone.
async fn flush_all(queue: &mut Queue, out: &mut (impl AsyncWrite + Unpin)) {
    while let Some((due, chunk)) = queue.pop_front() {
        sleep_until(Some(due)).await;
        if out.write_all(&chunk).await.is_err() || out.flush().await.is_err() {
            return;
        }
    }
}

async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

async fn sleep_until(due: Option<Instant>) {
    if let Some(due) = due {
        sleep_precisely_until(due).await;
    }
}

/// A FATAL `ErrorResponse`, for a client whose session cannot start.
pub fn fatal_error(code: &str, message: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', code),
        (b'M', message),
    ] {
        body.push(field);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(&body);
    message
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> String {
    move |e| format!("cannot {what}: {e}")
}
