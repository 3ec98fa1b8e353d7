//! A raw PostgreSQL frontend for tests that must send exact byte sequences: pipelines of
//! Parse/Bind/Execute with one or several Syncs, partial frames, bad lengths — things drivers
//! never send. The tests below prove the client itself against the test database.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use postgres_protocol::IsNull;
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};
use postgres_protocol::message::frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use pglab::testing::TestDb;

/// How long a read waits for the server before failing with [`io::ErrorKind::TimedOut`].
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest message body accepted from the server; anything bigger is taken as garbage.
const MAX_MESSAGE: usize = 64 << 20;

/// One backend message, decoded as far as the tests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    RowDescription,
    /// Column values in text format; `None` is SQL NULL.
    DataRow(Vec<Option<String>>),
    /// The command tag, e.g. `SELECT 1` or `INSERT 0 5`.
    CommandComplete(String),
    /// Fields `C` (SQLSTATE) and `M` of an ErrorResponse.
    Error {
        code: String,
        message: String,
    },
    Notice,
    /// The transaction status: `I` idle, `T` in a transaction, `E` in a failed transaction.
    ReadyForQuery(u8),
    ParseComplete,
    BindComplete,
    NoData,
    ParameterDescription,
    EmptyQuery,
    PortalSuspended,
    CloseComplete,
    CopyIn,
    CopyOut,
    CopyData(Bytes),
    CopyDone,
    Notification {
        channel: String,
        payload: String,
    },
    /// Any other tag (ParameterStatus `S` after a `SET`, for one).
    Other(u8),
}

impl Backend {
    /// Decodes the body of a message with tag `tag`.
    pub fn decode(tag: u8, mut body: Bytes) -> io::Result<Self> {
        Ok(match tag {
            b'T' => Self::RowDescription,
            b'D' => {
                let count = take_i16(&mut body)?;
                let mut values = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
                for _ in 0..count {
                    let len = take_i32(&mut body)?;
                    values.push(match usize::try_from(len) {
                        Ok(len) => {
                            let value = take_bytes(&mut body, len)?;
                            Some(String::from_utf8_lossy(&value).into_owned())
                        }
                        Err(_) => None, // -1: NULL
                    });
                }
                Self::DataRow(values)
            }
            b'C' => Self::CommandComplete(take_cstr(&mut body)?),
            b'E' => {
                let (mut code, mut message) = (String::new(), String::new());
                loop {
                    let field = take_u8(&mut body)?;
                    if field == 0 {
                        break;
                    }
                    let value = take_cstr(&mut body)?;
                    match field {
                        b'C' => code = value,
                        b'M' => message = value,
                        _ => {}
                    }
                }
                Self::Error { code, message }
            }
            b'N' => Self::Notice,
            b'Z' => Self::ReadyForQuery(take_u8(&mut body)?),
            b'1' => Self::ParseComplete,
            b'2' => Self::BindComplete,
            b'3' => Self::CloseComplete,
            b'n' => Self::NoData,
            b't' => Self::ParameterDescription,
            b'I' => Self::EmptyQuery,
            b's' => Self::PortalSuspended,
            b'G' => Self::CopyIn,
            b'H' => Self::CopyOut,
            b'd' => Self::CopyData(body),
            b'c' => Self::CopyDone,
            b'A' => {
                let _pid = take_i32(&mut body)?;
                Self::Notification {
                    channel: take_cstr(&mut body)?,
                    payload: take_cstr(&mut body)?,
                }
            }
            other => Self::Other(other),
        })
    }
}

/// The rows of every DataRow in `msgs`, in order.
pub fn rows(msgs: &[Backend]) -> Vec<Vec<Option<String>>> {
    msgs.iter()
        .filter_map(|m| match m {
            Backend::DataRow(values) => Some(values.clone()),
            _ => None,
        })
        .collect()
}

/// The SQLSTATE codes of every ErrorResponse in `msgs`, in order.
pub fn errors(msgs: &[Backend]) -> Vec<String> {
    msgs.iter()
        .filter_map(|m| match m {
            Backend::Error { code, .. } => Some(code.clone()),
            _ => None,
        })
        .collect()
}

/// The tags of every CommandComplete in `msgs`, in order.
pub fn command_tags(msgs: &[Backend]) -> Vec<String> {
    msgs.iter()
        .filter_map(|m| match m {
            Backend::CommandComplete(tag) => Some(tag.clone()),
            _ => None,
        })
        .collect()
}

/// A frontend that speaks protocol 3.0 by hand. Writers only append to a buffer; [`send`]
/// writes it, so a test decides exactly which bytes travel together.
///
/// [`send`]: RawClient::send
pub struct RawClient {
    stream: TcpStream,
    /// Frontend messages written but not yet sent.
    buf: BytesMut,
    /// Bytes received but not yet returned as messages.
    inbox: BytesMut,
    ssl_answer: Option<u8>,
    auth: &'static str,
    backend_key: Option<(i32, i32)>,
    parameters: Vec<(String, String)>,
}

impl RawClient {
    /// A TCP connection with nothing sent yet (`TCP_NODELAY` set): for tests of the startup
    /// phase itself. Follow with [`RawClient::startup`] or raw bytes.
    pub async fn open(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: BytesMut::new(),
            inbox: BytesMut::new(),
            ssl_answer: None,
            auth: "none",
            backend_key: None,
            parameters: Vec::new(),
        })
    }

    /// Connects, starts up and authenticates; returns once the server is ready for a query.
    pub async fn connect(
        addr: SocketAddr,
        user: &str,
        password: &str,
        database: &str,
        application_name: &str,
    ) -> io::Result<Self> {
        let mut client = Self::open(addr).await?;
        client
            .startup(user, password, database, application_name)
            .await?;
        Ok(client)
    }

    /// Like [`RawClient::connect`], but sends an SSLRequest first, as `sslmode=prefer`
    /// clients do, and goes on in plaintext if the answer is `N`. An `S` is an error: this
    /// client does not speak TLS.
    pub async fn connect_with_ssl_request(
        addr: SocketAddr,
        user: &str,
        password: &str,
        database: &str,
        application_name: &str,
    ) -> io::Result<Self> {
        let mut client = Self::open(addr).await?;
        let answer = client.ssl_request().await?;
        if answer != b'N' {
            return Err(io::Error::other(format!(
                "the SSLRequest was answered {:?}, not N",
                char::from(answer)
            )));
        }
        client
            .startup(user, password, database, application_name)
            .await?;
        Ok(client)
    }

    /// Sends an SSLRequest and returns the one-byte answer (`S` or `N`).
    pub async fn ssl_request(&mut self) -> io::Result<u8> {
        frontend::ssl_request(&mut self.buf);
        self.send().await?;
        let answer = self.read_byte().await?;
        self.ssl_answer = Some(answer);
        Ok(answer)
    }

    /// Sends the StartupMessage (protocol 3.0), answers the authentication request (trust,
    /// cleartext, MD5 or SCRAM-SHA-256 without channel binding) and reads up to the first
    /// ReadyForQuery.
    pub async fn startup(
        &mut self,
        user: &str,
        password: &str,
        database: &str,
        application_name: &str,
    ) -> io::Result<()> {
        let params = [
            ("user", user),
            ("database", database),
            ("application_name", application_name),
        ];
        frontend::startup_message(params, &mut self.buf)?;
        self.send().await?;
        let mut scram: Option<ScramSha256> = None;
        loop {
            let (tag, mut body) = self.read_message().await?;
            match tag {
                b'R' => {
                    let code = take_i32(&mut body)?;
                    match code {
                        0 => {
                            if self.auth == "none" {
                                self.auth = "trust";
                            }
                        }
                        3 => {
                            self.auth = "cleartext";
                            frontend::password_message(password.as_bytes(), &mut self.buf)?;
                            self.send().await?;
                        }
                        5 => {
                            self.auth = "md5";
                            let salt = take_bytes(&mut body, 4)?;
                            let salt = [salt[0], salt[1], salt[2], salt[3]];
                            let hash = md5_hash(user.as_bytes(), password.as_bytes(), salt);
                            frontend::password_message(hash.as_bytes(), &mut self.buf)?;
                            self.send().await?;
                        }
                        10 => {
                            let mut mechanisms = Vec::new();
                            while body.first().is_some_and(|b| *b != 0) {
                                mechanisms.push(take_cstr(&mut body)?);
                            }
                            if !mechanisms.iter().any(|m| m == SCRAM_SHA_256) {
                                return Err(io::Error::other(format!(
                                    "no supported SASL mechanism among {mechanisms:?}"
                                )));
                            }
                            self.auth = "scram-sha-256";
                            let state = ScramSha256::new(
                                password.as_bytes(),
                                ChannelBinding::unsupported(),
                            );
                            frontend::sasl_initial_response(
                                SCRAM_SHA_256,
                                state.message(),
                                &mut self.buf,
                            )?;
                            self.send().await?;
                            scram = Some(state);
                        }
                        11 => {
                            let state = scram.as_mut().ok_or_else(|| {
                                invalid("SASLContinue before SASL started".into())
                            })?;
                            state.update(&body)?;
                            frontend::sasl_response(state.message(), &mut self.buf)?;
                            self.send().await?;
                        }
                        12 => {
                            let state = scram
                                .as_mut()
                                .ok_or_else(|| invalid("SASLFinal before SASL started".into()))?;
                            state.finish(&body)?;
                        }
                        other => {
                            return Err(io::Error::new(
                                io::ErrorKind::Unsupported,
                                format!("authentication request {other} is not supported"),
                            ));
                        }
                    }
                }
                b'E' => {
                    let refusal = Backend::decode(tag, body)?;
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("the server refused the startup: {refusal:?}"),
                    ));
                }
                b'S' => {
                    let name = take_cstr(&mut body)?;
                    let value = take_cstr(&mut body)?;
                    self.parameters.push((name, value));
                }
                b'K' => {
                    let pid = take_i32(&mut body)?;
                    let secret = take_i32(&mut body)?;
                    self.backend_key = Some((pid, secret));
                }
                b'Z' => return Ok(()),
                _ => {} // NoticeResponse, NegotiateProtocolVersion
            }
        }
    }

    /// The answer to the SSLRequest, if one was sent.
    pub fn ssl_answer(&self) -> Option<u8> {
        self.ssl_answer
    }

    /// How the server authenticated us: `trust`, `cleartext`, `md5` or `scram-sha-256`.
    pub fn auth_method(&self) -> &'static str {
        self.auth
    }

    /// Process id and secret key from BackendKeyData (for CancelRequest tests).
    pub fn backend_key(&self) -> Option<(i32, i32)> {
        self.backend_key
    }

    /// A ParameterStatus value reported during startup.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    // Writers: they only append to the buffer.

    /// Query (`Q`): simple protocol, may hold several statements.
    pub fn query(&mut self, sql: &str) -> &mut Self {
        frontend::query(sql, &mut self.buf).expect("no NUL in the SQL");
        self
    }

    /// Parse (`P`) with no parameter types given (the server infers them).
    pub fn parse(&mut self, name: &str, sql: &str) -> &mut Self {
        frontend::parse(name, sql, [], &mut self.buf).expect("no NUL in the name or SQL");
        self
    }

    /// Bind (`B`) with every parameter and result column in text format; `None` is NULL.
    pub fn bind(&mut self, portal: &str, statement: &str, params: &[Option<&[u8]>]) -> &mut Self {
        let written = frontend::bind(
            portal,
            statement,
            [],
            params.iter().copied(),
            |param, buf| {
                Ok(match param {
                    Some(bytes) => {
                        buf.put_slice(bytes);
                        IsNull::No
                    }
                    None => IsNull::Yes,
                })
            },
            [],
            &mut self.buf,
        );
        assert!(
            written.is_ok(),
            "Bind for portal {portal:?} could not be written"
        );
        self
    }

    /// Describe (`D`) of a portal.
    pub fn describe_portal(&mut self, name: &str) -> &mut Self {
        frontend::describe(b'P', name, &mut self.buf).expect("no NUL in the name");
        self
    }

    /// Describe (`D`) of a prepared statement.
    pub fn describe_statement(&mut self, name: &str) -> &mut Self {
        frontend::describe(b'S', name, &mut self.buf).expect("no NUL in the name");
        self
    }

    /// Execute (`E`); `max_rows` 0 means all rows.
    pub fn execute(&mut self, portal: &str, max_rows: i32) -> &mut Self {
        frontend::execute(portal, max_rows, &mut self.buf).expect("no NUL in the name");
        self
    }

    /// Close (`C`) of a prepared statement.
    pub fn close_statement(&mut self, name: &str) -> &mut Self {
        frontend::close(b'S', name, &mut self.buf).expect("no NUL in the name");
        self
    }

    /// Close (`C`) of a portal.
    pub fn close_portal(&mut self, name: &str) -> &mut Self {
        frontend::close(b'P', name, &mut self.buf).expect("no NUL in the name");
        self
    }

    /// Sync (`S`): ends an extended-protocol group; the server answers with ReadyForQuery.
    pub fn sync(&mut self) -> &mut Self {
        frontend::sync(&mut self.buf);
        self
    }

    /// Flush (`H`): asks for pending output without ending the group.
    pub fn flush_msg(&mut self) -> &mut Self {
        frontend::flush(&mut self.buf);
        self
    }

    /// CopyData (`d`).
    pub fn copy_data(&mut self, data: &[u8]) -> &mut Self {
        self.buf.put_u8(b'd');
        self.buf.put_i32(frame_len(data.len()));
        self.buf.put_slice(data);
        self
    }

    /// CopyDone (`c`).
    pub fn copy_done(&mut self) -> &mut Self {
        frontend::copy_done(&mut self.buf);
        self
    }

    /// Terminate (`X`).
    pub fn terminate(&mut self) -> &mut Self {
        frontend::terminate(&mut self.buf);
        self
    }

    /// Appends arbitrary bytes (bad lengths, unknown tags, half messages).
    pub fn push_bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.put_slice(bytes);
        self
    }

    /// Takes the buffered messages out unsent, e.g. to send them in pieces with
    /// [`RawClient::send_bytes`].
    pub fn take_buffered(&mut self) -> BytesMut {
        self.buf.split()
    }

    /// Writes everything buffered, in one write.
    pub async fn send(&mut self) -> io::Result<()> {
        let out = self.buf.split();
        self.stream.write_all(&out).await?;
        self.stream.flush().await
    }

    /// Writes whatever is buffered followed by `bytes`.
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.push_bytes(bytes);
        self.send().await
    }

    // Readers.

    /// The next message as tag and body (without tag and length).
    pub async fn read_message(&mut self) -> io::Result<(u8, Bytes)> {
        loop {
            if let Some(frame) = self.take_frame()? {
                return Ok(frame);
            }
            if self.fill().await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the server closed the connection ({} bytes of a message pending)",
                        self.inbox.len()
                    ),
                ));
            }
        }
    }

    /// The next message, decoded.
    pub async fn read_backend(&mut self) -> io::Result<Backend> {
        let (tag, body) = self.read_message().await?;
        Backend::decode(tag, body)
    }

    /// Messages up to and including the next ReadyForQuery.
    pub async fn read_until_ready(&mut self) -> io::Result<Vec<Backend>> {
        let mut msgs = Vec::new();
        loop {
            let msg = self.read_backend().await?;
            let ready = matches!(msg, Backend::ReadyForQuery(_));
            msgs.push(msg);
            if ready {
                return Ok(msgs);
            }
        }
    }

    /// Messages until the server closes the connection (after Terminate, or a fatal error).
    pub async fn read_until_closed(&mut self) -> io::Result<Vec<Backend>> {
        let mut msgs = Vec::new();
        loop {
            if let Some((tag, body)) = self.take_frame()? {
                msgs.push(Backend::decode(tag, body)?);
                continue;
            }
            match self.fill().await {
                Ok(0) if self.inbox.is_empty() => return Ok(msgs),
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection closed in the middle of a message",
                    ));
                }
                Ok(_) => {}
                // A reset after the last message is also a close.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(msgs),
                Err(e) => return Err(e),
            }
        }
    }

    /// One untagged byte (the answer to SSLRequest or GSSENCRequest).
    pub async fn read_byte(&mut self) -> io::Result<u8> {
        while self.inbox.is_empty() {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.inbox.get_u8())
    }

    /// A whole message from the inbox, if one is there.
    fn take_frame(&mut self) -> io::Result<Option<(u8, Bytes)>> {
        if self.inbox.len() < 5 {
            return Ok(None);
        }
        let tag = self.inbox[0];
        let len = i32::from_be_bytes([self.inbox[1], self.inbox[2], self.inbox[3], self.inbox[4]]);
        let len = usize::try_from(len)
            .ok()
            .filter(|len| (4..=MAX_MESSAGE).contains(len))
            .ok_or_else(|| invalid(format!("message {:?} has length {len}", char::from(tag))))?;
        if self.inbox.len() < 1 + len {
            return Ok(None);
        }
        let mut frame = self.inbox.split_to(1 + len);
        frame.advance(5);
        Ok(Some((tag, frame.freeze())))
    }

    /// Reads more from the socket into the inbox; 0 means the server closed.
    async fn fill(&mut self) -> io::Result<usize> {
        self.inbox.reserve(8192);
        match tokio::time::timeout(READ_TIMEOUT, self.stream.read_buf(&mut self.inbox)).await {
            Ok(read) => read,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the server sent nothing for {READ_TIMEOUT:?}"),
            )),
        }
    }
}

/// The length field of a message with a body of `body` bytes.
fn frame_len(body: usize) -> i32 {
    i32::try_from(body + 4).expect("message fits in i32")
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

fn take_bytes(body: &mut Bytes, n: usize) -> io::Result<Bytes> {
    if body.len() < n {
        return Err(invalid(format!(
            "message body too short: {n} bytes wanted, {} left",
            body.len()
        )));
    }
    Ok(body.split_to(n))
}

fn take_u8(body: &mut Bytes) -> io::Result<u8> {
    Ok(take_bytes(body, 1)?[0])
}

fn take_i16(body: &mut Bytes) -> io::Result<i16> {
    Ok(take_bytes(body, 2)?.get_i16())
}

fn take_i32(body: &mut Bytes) -> io::Result<i32> {
    Ok(take_bytes(body, 4)?.get_i32())
}

fn take_cstr(body: &mut Bytes) -> io::Result<String> {
    let end = body
        .iter()
        .position(|b| *b == 0)
        .ok_or_else(|| invalid("string without its NUL".into()))?;
    let text = body.split_to(end);
    body.advance(1);
    Ok(String::from_utf8_lossy(&text).into_owned())
}

// Tests of the client itself, straight against the test database.

async fn owner_client(db: &TestDb) -> RawClient {
    let (addr, password) = owner_endpoint(db).await;
    RawClient::connect(
        addr,
        db.owner.get_username(),
        &password,
        &db.name,
        "pglab-wire-test",
    )
    .await
    .expect("the raw client connects as the owner")
}

async fn owner_endpoint(db: &TestDb) -> (SocketAddr, String) {
    let addr = tokio::net::lookup_host((db.owner.get_host(), db.owner.get_port()))
        .await
        .expect("the test server's host resolves")
        .next()
        .expect("the test server's host has an address");
    let password = db.owner_password().expect("the test server runs");
    (addr, password.to_string())
}

fn text(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some((*v).to_string())).collect()
}

fn complete(tag: &str) -> Backend {
    Backend::CommandComplete(tag.into())
}

#[tokio::test]
async fn a_simple_query_with_two_statements_ends_with_one_ready_for_query() {
    let db = TestDb::create().await.unwrap();
    let mut client = owner_client(&db).await;
    if std::env::var_os("DATABASE_URL").is_none() {
        assert_eq!(client.auth_method(), "scram-sha-256");
    }
    assert!(client.backend_key().is_some());
    assert!(client.parameter("server_version").is_some());

    client.query("select 1; select 2").send().await.unwrap();
    let msgs = client.read_until_ready().await.unwrap();
    assert_eq!(command_tags(&msgs), ["SELECT 1", "SELECT 1"], "{msgs:?}");
    assert_eq!(rows(&msgs), [text(&["1"]), text(&["2"])]);
    assert_eq!(
        msgs.iter()
            .filter(|m| matches!(m, Backend::ReadyForQuery(_)))
            .count(),
        1
    );
    assert_eq!(msgs.last(), Some(&Backend::ReadyForQuery(b'I')));

    client.terminate().send().await.unwrap();
    assert_eq!(client.read_until_closed().await.unwrap(), []);
}

#[tokio::test]
async fn a_pipeline_of_two_executions_with_one_sync_answers_both() {
    let db = TestDb::create().await.unwrap();
    let mut client = owner_client(&db).await;
    client
        .parse("", "select $1::int + 1")
        .bind("", "", &[Some(b"41")])
        .execute("", 0)
        .parse("doubled", "select $1::int * 2, $2::text")
        .bind("p", "doubled", &[Some(b"21"), None])
        .describe_portal("p")
        .execute("p", 0)
        .sync()
        .send()
        .await
        .unwrap();
    let msgs = client.read_until_ready().await.unwrap();
    assert_eq!(
        msgs,
        [
            Backend::ParseComplete,
            Backend::BindComplete,
            Backend::DataRow(text(&["42"])),
            complete("SELECT 1"),
            Backend::ParseComplete,
            Backend::BindComplete,
            Backend::RowDescription,
            Backend::DataRow(vec![Some("42".into()), None]),
            complete("SELECT 1"),
            Backend::ReadyForQuery(b'I'),
        ]
    );
}

#[tokio::test]
async fn pipelined_syncs_are_answered_one_ready_for_query_each() {
    let db = TestDb::create().await.unwrap();
    let mut client = owner_client(&db).await;
    // Both groups leave in one write, before anything is read.
    client
        .parse("", "begin")
        .bind("", "", &[])
        .execute("", 0)
        .parse("one", "select 1")
        .bind("", "one", &[])
        .execute("", 0)
        .sync()
        .bind("", "one", &[])
        .execute("", 0)
        .parse("", "commit")
        .bind("", "", &[])
        .execute("", 0)
        .sync()
        .send()
        .await
        .unwrap();

    let first = client.read_until_ready().await.unwrap();
    assert_eq!(command_tags(&first), ["BEGIN", "SELECT 1"], "{first:?}");
    assert_eq!(rows(&first), [text(&["1"])]);
    assert_eq!(first.last(), Some(&Backend::ReadyForQuery(b'T')));

    let second = client.read_until_ready().await.unwrap();
    assert_eq!(
        second,
        [
            Backend::BindComplete,
            Backend::DataRow(text(&["1"])),
            complete("SELECT 1"),
            Backend::ParseComplete,
            Backend::BindComplete,
            complete("COMMIT"),
            Backend::ReadyForQuery(b'I'),
        ]
    );
}

#[tokio::test]
async fn an_error_mid_pipeline_skips_the_rest_of_its_sync_group() {
    let db = TestDb::create().await.unwrap();
    let mut client = owner_client(&db).await;
    client
        .parse("", "select 1/0")
        .bind("", "", &[])
        .execute("", 0)
        .parse("", "select 1")
        .bind("", "", &[])
        .execute("", 0)
        .sync()
        .send()
        .await
        .unwrap();
    let msgs = client.read_until_ready().await.unwrap();
    assert_eq!(errors(&msgs), ["22012"], "{msgs:?}");
    assert!(command_tags(&msgs).is_empty(), "{msgs:?}");
    assert!(rows(&msgs).is_empty(), "{msgs:?}");
    // The error comes last but for the ReadyForQuery: everything after it was skipped (the
    // division may fail at Bind, where constants are folded, or at Execute).
    let [.., error, ready] = msgs.as_slice() else {
        panic!("too few messages: {msgs:?}");
    };
    assert!(
        matches!(error, Backend::Error { message, .. } if message.contains("division by zero")),
        "{msgs:?}"
    );
    assert_eq!(ready, &Backend::ReadyForQuery(b'I'));

    // The connection is fine afterwards.
    client.query("select 'still here'").send().await.unwrap();
    let msgs = client.read_until_ready().await.unwrap();
    assert_eq!(rows(&msgs), [text(&["still here"])]);
}

#[tokio::test]
async fn an_ssl_request_is_declined_and_the_connection_goes_on_in_plaintext() {
    let db = TestDb::create().await.unwrap();
    if std::env::var_os("DATABASE_URL").is_some() {
        eprintln!("skipped: a DATABASE_URL server may well speak TLS");
        return;
    }
    let (addr, password) = owner_endpoint(&db).await;
    let mut client = RawClient::connect_with_ssl_request(
        addr,
        db.owner.get_username(),
        &password,
        &db.name,
        "pglab-wire-test",
    )
    .await
    .unwrap();
    assert_eq!(client.ssl_answer(), Some(b'N'));
    client
        .query("select current_database()")
        .send()
        .await
        .unwrap();
    let msgs = client.read_until_ready().await.unwrap();
    assert_eq!(rows(&msgs), [text(&[&db.name])]);
}

#[tokio::test]
async fn describe_and_close_answer_before_a_sync_when_flushed() {
    let db = TestDb::create().await.unwrap();
    let mut client = owner_client(&db).await;
    client
        .parse("s", "select $1::int as n")
        .describe_statement("s")
        .flush_msg()
        .send()
        .await
        .unwrap();
    // No Sync yet: the Flush alone makes the server answer.
    let mut msgs = Vec::new();
    for _ in 0..3 {
        msgs.push(client.read_backend().await.unwrap());
    }
    assert_eq!(
        msgs,
        [
            Backend::ParseComplete,
            Backend::ParameterDescription,
            Backend::RowDescription
        ]
    );

    client
        .bind("p", "s", &[Some(b"7")])
        .execute("p", 0)
        .close_portal("p")
        .close_statement("s")
        .sync()
        .send()
        .await
        .unwrap();
    let msgs = client.read_until_ready().await.unwrap();
    assert_eq!(
        msgs,
        [
            Backend::BindComplete,
            Backend::DataRow(text(&["7"])),
            complete("SELECT 1"),
            Backend::CloseComplete,
            Backend::CloseComplete,
            Backend::ReadyForQuery(b'I'),
        ]
    );
}

#[tokio::test]
async fn a_message_sent_a_byte_at_a_time_is_still_one_message() {
    let db = TestDb::create().await.unwrap();
    let mut client = owner_client(&db).await;
    client.query("select 'pieces'");
    let whole = client.take_buffered();
    for byte in whole.iter() {
        client.send_bytes(&[*byte]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let msgs = client.read_until_ready().await.unwrap();
    assert_eq!(rows(&msgs), [text(&["pieces"])]);
}

#[tokio::test]
async fn a_length_below_four_makes_the_server_hang_up_without_a_word() {
    let db = TestDb::create().await.unwrap();
    let mut client = owner_client(&db).await;
    client.send_bytes(b"Q\0\0\0\x02").await.unwrap();
    // "invalid message length" goes to the server log only (COMMERROR), then it closes.
    let msgs = client.read_until_closed().await.unwrap();
    assert_eq!(msgs, [], "{msgs:?}");
}

#[tokio::test]
async fn copy_in_and_out_and_notifications_are_decoded() {
    let db = TestDb::create().await.unwrap();
    let mut client = owner_client(&db).await;
    client
        .query("create temp table t (x int)")
        .query("copy t from stdin")
        .send()
        .await
        .unwrap();
    assert_eq!(
        command_tags(&client.read_until_ready().await.unwrap()),
        ["CREATE TABLE"]
    );
    assert_eq!(client.read_backend().await.unwrap(), Backend::CopyIn);
    client
        .copy_data(b"1\n")
        .copy_data(b"2\n")
        .copy_done()
        .send()
        .await
        .unwrap();
    assert_eq!(
        client.read_until_ready().await.unwrap(),
        [complete("COPY 2"), Backend::ReadyForQuery(b'I')]
    );

    client
        .query("copy (select sum(x) from t) to stdout")
        .send()
        .await
        .unwrap();
    assert_eq!(
        client.read_until_ready().await.unwrap(),
        [
            Backend::CopyOut,
            Backend::CopyData(Bytes::from_static(b"3\n")),
            Backend::CopyDone,
            complete("COPY 1"),
            Backend::ReadyForQuery(b'I'),
        ]
    );

    client
        .query("listen lab; notify lab, 'hello'")
        .send()
        .await
        .unwrap();
    let msgs = client.read_until_ready().await.unwrap();
    assert_eq!(command_tags(&msgs), ["LISTEN", "NOTIFY"]);
    // Delivered on commit, just before ReadyForQuery.
    assert!(
        msgs.contains(&Backend::Notification {
            channel: "lab".into(),
            payload: "hello".into()
        }),
        "{msgs:?}"
    );
}
