//! Demo parameters as lesson files write them (a TOML inline table such as
//! `{ posts = 10 }`): what each demo accepts, checked once when a lesson loads and read again,
//! typed, when the demo runs. Messages name the demo, the parameter and what is allowed.

use std::time::Duration;

/// What a parameter accepts.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    /// A whole number in `min..=max`.
    Int { min: i64, max: i64 },
    /// An array of 1 to `max_len` whole numbers, each in `min..=max`.
    IntList { min: i64, max: i64, max_len: usize },
    /// A duration written as milliseconds (`"2ms"`, `"0.5ms"`), at most `max_ms`.
    Millis { max_ms: u64 },
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
        }
    }

    fn check(&self, value: &toml::Value) -> Result<(), String> {
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
}
