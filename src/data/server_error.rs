//! An error the server reported, with every field a learner needs: one type whether the
//! console received it for learner SQL or the proxy saw it pass on the wire, and where its
//! position falls in the SQL text (the caret a view draws under it).

/// An `ErrorResponse` from the server (or a statement pglab refused before sending it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerError {
    /// `ERROR`, `FATAL`, …
    pub severity: String,
    /// The SQLSTATE code, e.g. `42601` (syntax error), `23503` (foreign key violation);
    /// empty for a statement pglab refused itself.
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// 1-based character index into the SQL text, as the server reports it.
    pub position: Option<usize>,
}

/// Where an error position falls in a (possibly multi-line) statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caret<'a> {
    /// 1-based line number.
    pub line: usize,
    /// That line's text, without its line break.
    pub text: &'a str,
    /// 0-based character (not byte) offset of the error within `text`: the caret goes under
    /// character number `column`.
    pub column: usize,
}

impl ServerError {
    /// A statement pglab refused before the server saw it (no SQLSTATE), e.g. two
    /// statements where EXPLAIN takes one.
    pub fn refused(message: &str) -> Self {
        Self {
            severity: "ERROR".into(),
            message: message.to_string(),
            ..Self::default()
        }
    }

    /// The line of `sql` the error position falls on, and the column within it. `None` when
    /// the server gave no position or it lies outside `sql` (it points into another text).
    pub fn caret_line<'a>(&self, sql: &'a str) -> Option<Caret<'a>> {
        caret(sql, self.position?)
    }
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.sqlstate, self.message)
    }
}

/// The character at 1-based `position` of `sql`: its line and column. One past the last
/// character is a valid position (PostgreSQL's "at end of input").
fn caret(sql: &str, position: usize) -> Option<Caret<'_>> {
    let index = position.checked_sub(1)?;
    if index > sql.chars().count() {
        return None;
    }
    let mut before = 0;
    for (number, line) in sql.split('\n').enumerate() {
        let length = line.chars().count();
        // A position on the line break itself belongs to the line it ends.
        if index <= before + length {
            let text = line.strip_suffix('\r').unwrap_or(line);
            return Some(Caret {
                line: number + 1,
                text,
                column: (index - before).min(text.chars().count()),
            });
        }
        before += length + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(sql: &str, position: usize) -> Option<(usize, &str, usize)> {
        caret(sql, position).map(|c| (c.line, c.text, c.column))
    }

    #[test]
    fn the_caret_finds_its_line_and_column_in_characters() {
        let sql = "select 'héllo ☃',\n  frm users";
        // 'f' of `frm` is character 21 (1-based): 17 characters and a break on line 1.
        assert_eq!(at(sql, 21), Some((2, "  frm users", 2)));
        assert_eq!(at(sql, 1), Some((1, "select 'héllo ☃',", 0)));
    }

    #[test]
    fn a_position_at_the_end_of_the_text_is_kept_and_beyond_it_is_not() {
        // PostgreSQL points one past the last character for "syntax error at end of input".
        assert_eq!(at("select (", 9), Some((1, "select (", 8)));
        assert_eq!(at("select (", 10), None);
        assert_eq!(at("select (", 0), None);
    }

    #[test]
    fn windows_line_breaks_are_not_part_of_the_line() {
        assert_eq!(at("select 1,\r\nx", 12), Some((2, "x", 0)));
    }

    #[test]
    fn a_refusal_has_no_sqlstate_and_reads_as_an_error() {
        let refused = ServerError::refused("EXPLAIN works on exactly one statement");
        assert_eq!(refused.sqlstate, "");
        assert_eq!(
            refused.to_string(),
            "ERROR : EXPLAIN works on exactly one statement"
        );
    }
}
