//! Demo parameters as lesson files write them (a TOML inline table such as
//! `{ posts = 10 }`): what each demo accepts, checked once when a lesson loads and read again,
//! typed, when the demo runs. Messages name the demo, the parameter and what is allowed.
//!
//! SQL parameters are read with sqlparser (through `crate::sql`), so a lesson with two
//! statements where one belongs, or a CREATE INDEX without a name, fails when it loads rather
//! than halfway through a demo in front of a room.

use std::time::Duration;

use sqlparser::ast::Statement;

/// What a parameter accepts.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    /// A whole number in `min..=max`.
    Int { min: i64, max: i64 },
    /// An array of 1 to `max_len` whole numbers, each in `min..=max`.
    IntList { min: i64, max: i64, max_len: usize },
    /// A duration written as milliseconds (`"2ms"`, `"0.5ms"`), at most `max_ms`.
    Millis { max_ms: u64 },
    /// SQL text holding exactly one statement of the given shape.
    Sql(SqlShape),
}

/// Which statements an SQL parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlShape {
    /// Any one statement.
    Any,
    /// One `CREATE INDEX` that names its index (the demo drops and rebuilds it by that name).
    NamedCreateIndex,
}

/// What a `CREATE INDEX` parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIndex {
    /// The index, as written (quotes and schema kept, so the server resolves it the same way).
    pub index: String,
    /// The table it is built on, as written.
    pub table: String,
}

/// One parameter of a demo.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    /// What it means and its default, for messages and help.
    pub help: &'static str,
}

impl ParamSpec {
    /// The allowed values, in words.
    pub fn allowed(&self) -> String {
        match self.kind {
            ParamKind::Int { min, max } => format!("a whole number from {min} to {max}"),
            ParamKind::IntList { min, max, max_len } => format!(
                "an array of 1 to {max_len} whole numbers, each from {min} to {max}, \
                 e.g. [10, 100]"
            ),
            ParamKind::Millis { max_ms } => {
                format!("a duration in milliseconds from \"0ms\" to \"{max_ms}ms\", e.g. \"2ms\"")
            }
            ParamKind::Sql(SqlShape::Any) => "a string holding exactly one SQL statement".into(),
            ParamKind::Sql(SqlShape::NamedCreateIndex) => {
                "a string holding one CREATE INDEX statement that names its index, \
                 e.g. \"create index big_users_email_idx on big_users (email)\""
                    .into()
            }
        }
    }

    fn check(&self, value: &toml::Value) -> Result<(), String> {
        if let ParamKind::Sql(shape) = self.kind {
            // The SQL itself can be long: the message says what is wrong with it instead of
            // repeating it.
            let why = match value.as_str() {
                Some(text) => check_sql(text, shape).err(),
                None => Some(format!("is {value}, not a string")),
            };
            return match why {
                None => Ok(()),
                Some(why) => Err(format!(
                    "parameter `{}` {why}; it must be {}",
                    self.name,
                    self.allowed()
                )),
            };
        }
        let ok = match self.kind {
            ParamKind::Int { min, max } => {
                value.as_integer().is_some_and(|n| (min..=max).contains(&n))
            }
            ParamKind::IntList { min, max, max_len } => value.as_array().is_some_and(|items| {
                (1..=max_len).contains(&items.len())
                    && items
                        .iter()
                        .all(|v| v.as_integer().is_some_and(|n| (min..=max).contains(&n)))
            }),
            ParamKind::Millis { max_ms } => value
                .as_str()
                .and_then(parse_millis)
                .is_some_and(|d| d <= Duration::from_millis(max_ms)),
            ParamKind::Sql(_) => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "parameter `{}` is {value}, but it must be {}",
                self.name,
                self.allowed()
            ))
        }
    }
}

/// Checks `params` against `specs`: every key known, every value of the right type and range.
pub fn check(demo: &str, specs: &[ParamSpec], params: &toml::Table) -> Result<(), String> {
    for (key, value) in params {
        let Some(spec) = specs.iter().find(|s| s.name == key) else {
            let known = if specs.is_empty() {
                "it takes no parameters".to_string()
            } else {
                let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
                format!("it takes {}", names.join(", "))
            };
            return Err(format!("demo `{demo}` has no parameter `{key}`: {known}"));
        };
        spec.check(value)
            .map_err(|why| format!("demo `{demo}`: {why}"))?;
    }
    Ok(())
}

/// `"2ms"`, `"0.5 ms"` or `"0"` as a duration; `None` for anything else.
pub fn parse_millis(text: &str) -> Option<Duration> {
    let number = text.trim();
    let number = number.strip_suffix("ms").unwrap_or(number).trim();
    let ms: f64 = number.parse().ok()?;
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(ms / 1000.0))
}

/// Why `text` is not one statement of `shape` (a phrase that follows the parameter's name).
pub fn check_sql(text: &str, shape: SqlShape) -> Result<(), String> {
    let found = crate::sql::statement_count(text);
    if found != 1 {
        return Err(match found {
            0 => "holds no statement".to_string(),
            n => format!("holds {n} statements"),
        });
    }
    match shape {
        SqlShape::Any => Ok(()),
        SqlShape::NamedCreateIndex => create_index(text).map(|_| ()),
    }
}

/// The index and table a `CREATE INDEX` text names; why not, as [`check_sql`] words it.
pub fn create_index(text: &str) -> Result<CreateIndex, String> {
    let Some(mut statements) = crate::sql::parse(text) else {
        return Err("could not be read as PostgreSQL".to_string());
    };
    match (statements.pop(), statements.is_empty()) {
        (Some(Statement::CreateIndex(create)), true) => match create.name {
            Some(name) => Ok(CreateIndex {
                index: name.to_string(),
                table: create.table_name.to_string(),
            }),
            None => Err(
                "creates an index without a name (write `create index NAME on …`, \
                 so that the demo can find, drop and rebuild it)"
                    .to_string(),
            ),
        },
        (Some(_), true) => Err("is not a CREATE INDEX statement".to_string()),
        _ => Err("does not hold exactly one statement".to_string()),
    }
}

/// The string `name` of already checked `params`.
pub fn text<'a>(params: &'a toml::Table, name: &str) -> Option<&'a str> {
    params.get(name).and_then(toml::Value::as_str)
}

/// The integer `name` of already checked `params`.
pub fn int(params: &toml::Table, name: &str) -> Option<i64> {
    params.get(name).and_then(toml::Value::as_integer)
}

/// The integer array `name` of already checked `params`.
pub fn ints(params: &toml::Table, name: &str) -> Option<Vec<i64>> {
    let items = params.get(name)?.as_array()?;
    items.iter().map(toml::Value::as_integer).collect()
}

/// The duration `name` of already checked `params`.
pub fn millis(params: &toml::Table, name: &str) -> Option<Duration> {
    params.get(name)?.as_str().and_then(parse_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_read_with_or_without_the_unit() {
        assert_eq!(parse_millis("2ms"), Some(Duration::from_millis(2)));
        assert_eq!(parse_millis(" 0.5 ms"), Some(Duration::from_micros(500)));
        assert_eq!(parse_millis("0"), Some(Duration::ZERO));
        assert_eq!(parse_millis("-1ms"), None);
        assert_eq!(parse_millis("2s"), None);
        assert_eq!(parse_millis("NaNms"), None);
    }

    #[test]
    fn sql_parameters_hold_exactly_one_statement() {
        assert_eq!(check_sql("select 1", SqlShape::Any), Ok(()));
        assert_eq!(check_sql("select 1;", SqlShape::Any), Ok(()));
        assert_eq!(
            check_sql("select 1; select 2", SqlShape::Any),
            Err("holds 2 statements".to_string())
        );
        assert_eq!(
            check_sql(" ; -- nothing", SqlShape::Any),
            Err("holds no statement".to_string())
        );
        // A semicolon inside a string is not a second statement.
        assert_eq!(check_sql("select 'a;b'", SqlShape::Any), Ok(()));
    }

    #[test]
    fn a_create_index_parameter_must_name_its_index() {
        let shape = SqlShape::NamedCreateIndex;
        assert_eq!(
            create_index("create index big_users_email_idx on big_users (email)"),
            Ok(CreateIndex {
                index: "big_users_email_idx".into(),
                table: "big_users".into()
            })
        );
        assert_eq!(
            check_sql(
                "create unique index concurrently i on lab.big_users (lower(email)) \
                 where deleted_at is null",
                shape
            ),
            Ok(())
        );
        let err = check_sql("create index on big_users (email)", shape).unwrap_err();
        assert!(err.contains("without a name"), "{err}");
        let err = check_sql("select * from big_users", shape).unwrap_err();
        assert_eq!(err, "is not a CREATE INDEX statement");
        let err = check_sql("create index a on t (x); create index b on t (y)", shape);
        assert_eq!(err, Err("holds 2 statements".to_string()));
    }

    #[test]
    fn a_bad_sql_parameter_is_named_with_what_it_must_be() {
        let spec = ParamSpec {
            name: "sql",
            kind: ParamKind::Sql(SqlShape::NamedCreateIndex),
            help: "",
        };
        let specs = [spec];
        let params: toml::Table = toml::from_str("sql = \"drop table big_users\"").unwrap();
        let err = check("indexes.create", &specs, &params).unwrap_err();
        assert!(
            err.starts_with("demo `indexes.create`: parameter `sql` is not a CREATE INDEX"),
            "{err}"
        );
        let params: toml::Table = toml::from_str("sql = 3").unwrap();
        let err = check("indexes.create", &specs, &params).unwrap_err();
        assert!(err.contains("`sql` is 3, not a string"), "{err}");
    }
}
