//! Connection strings taken apart: a `postgres://` URL (libpq's URI form) read into its
//! parts — scheme, user, password, host, port, database and parameters — each named with
//! what it changes, and the parts a URL leaves out named with the default libpq uses
//! instead. Pure: nothing here connects. The password never leaves this module in clear:
//! [`ConnInfo`] keeps only whether one was given, and [`mask_password`] hides it in text.

use percent_encoding::percent_decode_str;

/// What a password is shown as, everywhere.
pub const MASK: &str = "****";

/// A connection URL, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// `postgres` or `postgresql`.
    pub scheme: String,
    pub user: Option<String>,
    /// Whether the URL carries a password (in its user part or as `?password=`).
    pub has_password: bool,
    /// Each host with its port as written; empty when the URL names none.
    pub hosts: Vec<HostPort>,
    pub database: Option<String>,
    /// Every `?name=value` pair, decoded, in order (a `password` value is masked).
    pub params: Vec<(String, String)>,
}

/// One host of a URL (libpq accepts several, tried in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// A name, an IP address (IPv6 without its brackets) or a unix-socket folder.
    pub host: Option<String>,
    pub port: Option<u16>,
}

/// One labelled part of a connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// `user`, `host`, `sslmode`…
    pub name: String,
    /// As given (decoded), or the default libpq uses when the URL leaves it out.
    pub value: String,
    /// False when `value` is the default rather than something the URL says.
    pub given: bool,
    /// What this part changes.
    pub means: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a connection URL starts with postgres:// or postgresql://")]
    NotAUrl,
    #[error("`{0}` is not a port number (1 to 65535)")]
    BadPort(String),
    #[error("an IPv6 address in a URL is written in brackets: [::1]")]
    UnclosedBracket,
    #[error("a percent escape in the URL does not decode to text")]
    BadEscape,
    /// Another database's URL (`mysql://`, `sqlite://`): its scheme, as written.
    #[error(
        "is a {0}:// URL, and pglab works with PostgreSQL only: give a postgres:// or \
         postgresql:// URL"
    )]
    OtherScheme(String),
}

/// Refuses a URL whose scheme is not PostgreSQL's (`mysql://…`), naming the scheme, before
/// anything tries to connect with it; text without a `scheme://` passes, for the reader of
/// the URL to judge.
pub fn check_scheme(url: &str) -> Result<(), Error> {
    let Some((scheme, _)) = url.split_once("://") else {
        return Ok(());
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let postgres = ["postgres", "postgresql"]
        .iter()
        .any(|name| scheme.eq_ignore_ascii_case(name));
    if is_scheme && !postgres {
        return Err(Error::OtherScheme(scheme.to_string()));
    }
    Ok(())
}

/// Reads `url`, a `postgres://` or `postgresql://` URL.
pub fn parse(url: &str) -> Result<ConnInfo, Error> {
    let (scheme, rest) = url.split_once("://").ok_or(Error::NotAUrl)?;
    if !matches!(scheme, "postgres" | "postgresql") {
        return Err(Error::NotAUrl);
    }
    let rest = rest.split('#').next().unwrap_or("");
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
    // The password may hold `@` only percent-encoded, so the last `@` ends the user part.
    let (userinfo, hostlist) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let (user, has_password) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((user, _)) => (decode(user)?, true),
            None => (decode(info)?, false),
        },
        None => (String::new(), false),
    };
    let mut info = ConnInfo {
        scheme: scheme.to_string(),
        user: Some(user).filter(|u| !u.is_empty()),
        has_password,
        hosts: hosts(hostlist)?,
        database: Some(decode(path)?).filter(|d| !d.is_empty()),
        params: Vec::new(),
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode_form(name)?, decode_form(value)?);
        // libpq: a parameter also written in the URL's body takes over from it.
        match name.as_str() {
            "password" => info.has_password = true,
            "user" => info.user = Some(value.clone()),
            "dbname" => info.database = Some(value.clone()),
            "host" => info.hosts = vec![HostPort::named(&value)],
            "port" => {
                let port = port(&value)?;
                match info.hosts.first_mut() {
                    Some(first) => first.port = port,
                    None => info.hosts.push(HostPort { host: None, port }),
                }
            }
            _ => {}
        }
        let value = if name == "password" {
            MASK.to_string()
        } else {
            value
        };
        info.params.push((name, value));
    }
    Ok(info)
}

impl HostPort {
    fn named(host: &str) -> Self {
        Self {
            host: Some(host.to_string()).filter(|h| !h.is_empty()),
            port: None,
        }
    }

    /// Whether the host is a unix-socket folder (libpq: a host starting with `/`).
    pub fn is_socket(&self) -> bool {
        self.host.as_deref().is_some_and(|h| h.starts_with('/'))
    }
}

fn hosts(list: &str) -> Result<Vec<HostPort>, Error> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(|spec| {
            let (host, port_text) = if let Some(inner) = spec.strip_prefix('[') {
                let (host, after) = inner.split_once(']').ok_or(Error::UnclosedBracket)?;
                (host, after.strip_prefix(':'))
            } else {
                match spec.rsplit_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (spec, None),
                }
            };
            Ok(HostPort {
                host: Some(decode(host)?).filter(|h| !h.is_empty()),
                port: match port_text {
                    Some(text) => port(text)?,
                    None => None,
                },
            })
        })
        .collect()
}

fn port(text: &str) -> Result<Option<u16>, Error> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Some(port)),
        _ => Err(Error::BadPort(text.to_string())),
    }
}

fn decode(text: &str) -> Result<String, Error> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::BadEscape)
}

/// A query value: percent escapes, and `+` for a space as forms write it.
fn decode_form(text: &str) -> Result<String, Error> {
    decode(&text.replace('+', " "))
}

impl ConnInfo {
    /// Every part, in the order the URL writes them, the ones it leaves out named with
    /// libpq's default; `sslmode` is always listed, since its default matters most.
    pub fn parts(&self) -> Vec<Part> {
        let given = |name: &str, value: String, means: &str| Part {
            name: name.to_string(),
            value,
            given: true,
            means: means.to_string(),
        };
        let default = |name: &str, value: &str, means: &str| Part {
            name: name.to_string(),
            value: value.to_string(),
            given: false,
            means: means.to_string(),
        };
        let mut parts = vec![given(
            "scheme",
            format!("{}://", self.scheme),
            "says this is a PostgreSQL connection string",
        )];
        const USER: &str = "the role you log in as: what you may read and change";
        parts.push(match &self.user {
            Some(user) => given("user", user.clone(), USER),
            None => default("user", "your operating-system user name", USER),
        });
        const PASSWORD: &str = "proves you are that role; masked here, always";
        parts.push(match self.has_password {
            true => given("password", MASK.to_string(), PASSWORD),
            false => default("password", "none: libpq looks in ~/.pgpass", PASSWORD),
        });
        let hosts: Vec<&HostPort> = self.hosts.iter().collect();
        let names: Vec<String> = hosts
            .iter()
            .filter_map(|h| h.host.clone().map(|name| (name, h.is_socket())))
            .map(|(name, socket)| match socket {
                true => format!("{name} (a socket folder)"),
                false => name,
            })
            .collect();
        const HOST: &str = "which machine: a name, an IP address, or a socket folder here";
        parts.push(match names.is_empty() {
            false => given("host", names.join(", "), HOST),
            true => default("host", "a unix socket on this machine", HOST),
        });
        let ports: Vec<String> = hosts
            .iter()
            .filter_map(|h| h.port.map(|p| p.to_string()))
            .collect();
        const PORT: &str = "which server on that machine";
        parts.push(match ports.is_empty() {
            false => given("port", ports.join(", "), PORT),
            true => default("port", "5432", PORT),
        });
        const DATABASE: &str = "which database of that server, with its own tables";
        parts.push(match &self.database {
            Some(db) => given("database", db.clone(), DATABASE),
            None => default("database", "the same as the user name", DATABASE),
        });
        let folded = ["user", "password", "dbname", "host", "port"];
        for (name, value) in &self.params {
            if !folded.contains(&name.as_str()) {
                parts.push(given(name, value.clone(), &param_means(name, value)));
            }
        }
        if !self.params.iter().any(|(name, _)| name == "sslmode") {
            parts.push(default(
                "sslmode",
                "prefer",
                &param_means("sslmode", "prefer"),
            ));
        }
        parts
    }
}

/// What parameter `name` set to `value` changes.
fn param_means(name: &str, value: &str) -> String {
    let text = match (name, value) {
        ("sslmode", "disable") => "no TLS: queries and rows cross the network readable",
        ("sslmode", "allow" | "prefer") => {
            "TLS if the server offers it, else plain; nobody checks who answers"
        }
        ("sslmode", "require") => "TLS or no connection; the certificate is not checked",
        ("sslmode", "verify-ca") => "TLS, certificate signed by an authority you trust",
        ("sslmode", "verify-full") => "TLS, trusted certificate naming the host you asked for",
        ("sslmode", _) => "TLS: not a value libpq knows",
        ("sslrootcert", _) => "the authorities trusted to sign the server's certificate",
        ("application_name", _) => "the name the server shows for this connection",
        ("options", _) => "server settings sent at connect time (-c name=value)",
        ("connect_timeout", _) => "seconds to wait for the connection before giving up",
        ("target_session_attrs", _) => "with several hosts: which kind of server to keep",
        ("statement-cache-capacity", _) => {
            "sqlx's own: how many prepared statements it keeps per connection"
        }
        _ => "a parameter this lab does not describe",
    };
    text.to_string()
}

/// `text` with every password in it replaced by [`MASK`]: the user part of a URL's
/// `user:password@`, and any `password=` value (a URL's query or `key=value` form). The
/// rest is left exactly as written.
pub fn mask_password(text: &str) -> String {
    let text = match text.split_once("://") {
        Some((scheme, rest)) => {
            // libpq looks for the user part up to the first `/` only, so a password may
            // hold a raw `?` or `#`: cutting at those as well would print it.
            let end = rest.find('/').unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => {
                    let (userinfo, hosts_and_tail) = (&rest[..at], &rest[at..]);
                    match userinfo.split_once(':') {
                        Some((user, _)) => format!("{scheme}://{user}:{MASK}{hosts_and_tail}"),
                        None => text.to_string(),
                    }
                }
                None => text.to_string(),
            }
        }
        None => text.to_string(),
    };
    mask_password_values(&text)
}

/// Replaces the value after each `password=` that starts a parameter.
fn mask_password_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("password=") {
        let starts_param = at == 0 || rest[..at].ends_with(['?', '&', ' ']);
        out.push_str(&rest[..at + "password=".len()]);
        rest = &rest[at + "password=".len()..];
        if !starts_param {
            continue;
        }
        let end = match rest.strip_prefix('\'') {
            // key='quoted value', with \' inside.
            Some(quoted) => {
                let mut escaped = false;
                quoted
                    .char_indices()
                    .find(|&(_, c)| {
                        let close = c == '\'' && !escaped;
                        escaped = c == '\\' && !escaped;
                        close
                    })
                    .map_or(rest.len(), |(i, _)| i + 2)
            }
            None => rest.find(['&', ' ', '#']).unwrap_or(rest.len()),
        };
        out.push_str(MASK);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_databases_url_is_refused_by_its_scheme() {
        for url in [
            "mysql://root:pw@db:3306/app",
            "MySQL://x",
            "sqlite://file.db",
        ] {
            let scheme = url.split("://").next().unwrap();
            let error = check_scheme(url).unwrap_err();
            assert_eq!(error, Error::OtherScheme(scheme.into()));
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("is a {scheme}:// URL"))
            );
            assert!(!error.to_string().contains("pw"));
        }
        for url in [
            "postgres://a@b/c",
            "PostgreSQL://a@b/c",
            "host=x dbname=y",
            "nonsense",
        ] {
            assert_eq!(check_scheme(url), Ok(()), "{url}");
        }
    }

    fn part<'a>(parts: &'a [Part], name: &str) -> &'a Part {
        parts.iter().find(|p| p.name == name).unwrap()
    }

    #[test]
    fn a_full_url_is_taken_apart() {
        let info = parse(
            "postgres://ana:s3cret@db.example.com:6543/app?sslmode=require&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(info.user.as_deref(), Some("ana"));
        assert!(info.has_password);
        assert_eq!(
            info.hosts,
            vec![HostPort {
                host: Some("db.example.com".into()),
                port: Some(6543)
            }]
        );
        assert_eq!(info.database.as_deref(), Some("app"));
        let parts = info.parts();
        let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "scheme",
                "user",
                "password",
                "host",
                "port",
                "database",
                "sslmode",
                "connect_timeout"
            ]
        );
        assert!(parts.iter().all(|p| p.given));
        assert_eq!(part(&parts, "password").value, MASK);
        assert!(!format!("{parts:?}").contains("s3cret"));
    }

    #[test]
    fn percent_encoded_parts_are_decoded_and_the_password_never_kept() {
        let info = parse("postgresql://ana%40corp:p%40ss%3Aw%2Fd@host/my%20db").unwrap();
        assert_eq!(info.user.as_deref(), Some("ana@corp"));
        assert_eq!(info.database.as_deref(), Some("my db"));
        assert!(info.has_password);
        assert!(!format!("{:?}", info.parts()).contains("p@ss"));
        assert_eq!(
            mask_password("postgresql://ana%40corp:p%40ss%3Aw%2Fd@host/my%20db"),
            "postgresql://ana%40corp:****@host/my%20db"
        );
    }

    #[test]
    fn ipv6_hosts_lose_their_brackets_and_keep_their_port() {
        let info = parse("postgres://u@[::1]:5433/db").unwrap();
        assert_eq!(info.hosts[0].host.as_deref(), Some("::1"));
        assert_eq!(info.hosts[0].port, Some(5433));
        let info = parse("postgres://[2001:db8::7]/db").unwrap();
        assert_eq!(info.hosts[0].host.as_deref(), Some("2001:db8::7"));
        assert_eq!(info.hosts[0].port, None);
        assert_eq!(parse("postgres://[::1/db"), Err(Error::UnclosedBracket));
    }

    #[test]
    fn a_socket_folder_as_host_parameter_or_encoded_host() {
        let info = parse("postgres:///app?host=/var/run/postgresql&port=5433").unwrap();
        assert!(info.hosts[0].is_socket());
        assert_eq!(info.hosts[0].port, Some(5433));
        let parts = info.parts();
        assert_eq!(
            part(&parts, "host").value,
            "/var/run/postgresql (a socket folder)"
        );
        assert_eq!(part(&parts, "port").value, "5433");
        // host and port are folded into their parts, not listed twice.
        assert_eq!(parts.iter().filter(|p| p.name == "host").count(), 1);
        let info = parse("postgres://%2Ftmp/app").unwrap();
        assert_eq!(info.hosts[0].host.as_deref(), Some("/tmp"));
    }

    #[test]
    fn several_hosts_and_parameters_keep_their_order() {
        let info = parse(
            "postgres://u@a.example:5432,b.example:5433/db?target_session_attrs=read-write&application_name=my+app&sslmode=verify-full",
        )
        .unwrap();
        assert_eq!(info.hosts.len(), 2);
        assert_eq!(info.hosts[1].port, Some(5433));
        let parts = info.parts();
        assert_eq!(part(&parts, "host").value, "a.example, b.example");
        assert_eq!(part(&parts, "port").value, "5432, 5433");
        assert_eq!(part(&parts, "application_name").value, "my app");
        let names: Vec<&str> = parts.iter().skip(6).map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["target_session_attrs", "application_name", "sslmode"]
        );
        assert!(part(&parts, "sslmode").means.contains("naming the host"));
    }

    #[test]
    fn missing_parts_are_named_as_libpq_defaults() {
        let parts = parse("postgres://").unwrap().parts();
        for name in ["user", "password", "host", "port", "database", "sslmode"] {
            assert!(!part(&parts, name).given, "{name} is a default");
        }
        assert_eq!(part(&parts, "port").value, "5432");
        assert_eq!(part(&parts, "sslmode").value, "prefer");
        assert_eq!(part(&parts, "database").value, "the same as the user name");
    }

    #[test]
    fn a_password_parameter_counts_and_is_masked() {
        let info = parse("postgres://ana@host/db?password=s3cret&sslmode=disable").unwrap();
        assert!(info.has_password);
        assert!(!format!("{info:?}").contains("s3cret"));
        assert_eq!(
            mask_password("postgres://ana@host/db?password=s3cret&sslmode=disable"),
            "postgres://ana@host/db?password=****&sslmode=disable"
        );
        assert_eq!(
            mask_password("host=db user=ana password='it\\'s secret' dbname=app"),
            "host=db user=ana password=**** dbname=app"
        );
    }

    #[test]
    fn masking_touches_the_password_only() {
        assert_eq!(
            mask_password("postgres://ana:s3cret@db.example.com:5432/app?sslmode=require"),
            "postgres://ana:****@db.example.com:5432/app?sslmode=require"
        );
        assert_eq!(
            mask_password("postgres://ana@localhost/app"),
            "postgres://ana@localhost/app"
        );
        assert_eq!(
            mask_password(
                "postgres://postgres.abcdefghijklmnop:[YOUR-PASSWORD]@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
            ),
            "postgres://postgres.abcdefghijklmnop:****@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
        );
        assert_eq!(mask_password("not a url"), "not a url");
        // libpq takes the user part up to the first `/`: `?` and `#` may be in a password.
        assert_eq!(
            mask_password("postgres://ana:se?cr#et@db:5432/app?sslmode=require"),
            "postgres://ana:****@db:5432/app?sslmode=require"
        );
        assert_eq!(
            mask_password("postgres://ana:p@ss@db"),
            "postgres://ana:****@db"
        );
    }

    #[test]
    fn what_is_not_a_url_is_refused() {
        assert_eq!(parse("mysql://u@h/db"), Err(Error::NotAUrl));
        assert_eq!(parse("host=localhost"), Err(Error::NotAUrl));
        assert_eq!(
            parse("postgres://u@h:99999/db"),
            Err(Error::BadPort("99999".into()))
        );
        assert_eq!(parse("postgres://u@h/%ff"), Err(Error::BadEscape));
    }
}
