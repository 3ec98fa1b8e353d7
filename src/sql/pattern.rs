//! Token patterns: whether a piece of SQL holds a short run of tokens such as `= null` or
//! `deleted_at is not null`. An exercise's diagnosis uses them to recognise a mistake in an
//! answer's text. Compared token by token, so spacing and letter case do not matter
//! (`deleted_at=NULL` holds `= null`), and never inside a string, a quoted identifier or a
//! comment (`'= null'` does not).

use super::lexer::{Token, TokenKind, tokenize};

/// Whether `sql` holds the tokens of `pattern`, one after another.
pub fn holds(sql: &str, pattern: &str) -> bool {
    let wanted = tokenize(pattern);
    if wanted.is_empty() {
        return false;
    }
    let tokens = tokenize(sql);
    tokens
        .windows(wanted.len())
        .any(|window| window.iter().zip(&wanted).all(|(a, b)| same(a, b)))
}

/// Why `pattern` cannot be a token pattern, if it cannot: it must hold a token, and no `;`
/// (a pattern is part of one statement).
pub fn problem(pattern: &str) -> Option<&'static str> {
    let tokens = tokenize(pattern);
    if tokens.is_empty() {
        return Some("holds no SQL token");
    }
    if tokens.iter().any(|t| t.kind == TokenKind::Semicolon) {
        return Some("holds a `;`: a pattern is part of one statement");
    }
    None
}

/// Words compare without case (SQL keywords and unquoted names fold); everything else exactly.
fn same(a: &Token, b: &Token) -> bool {
    a.kind == b.kind
        && match a.kind {
            TokenKind::Word => a.text.eq_ignore_ascii_case(b.text),
            _ => a.text == b.text,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_tokens_not_characters() {
        let cases = [
            (
                "select 1 from posts where deleted_at = null",
                "= null",
                true,
            ),
            ("select 1 from posts where deleted_at=NULL", "= null", true),
            (
                "select 1 from posts where p.deleted_at IS NOT NULL",
                "deleted_at is not null",
                true,
            ),
            (
                "select 1 from posts where deleted_at is null",
                "= null",
                false,
            ),
            ("select '= null' from posts", "= null", false),
            ("select 1 -- = null\nfrom posts", "= null", false),
            (
                "select 1 from posts where deleted_at <> null",
                "= null",
                false,
            ),
            (
                "select 1 from posts where deleted_at <> null",
                "<> null",
                true,
            ),
            ("select nullable from t where a = nullable", "= null", false),
            ("select * from posts", "select *", true),
            ("select count(*) from posts", "select *", false),
            ("select id from users where id = any($1)", "any (", true),
        ];
        for (sql, pattern, expected) in cases {
            assert_eq!(holds(sql, pattern), expected, "{pattern:?} in {sql:?}");
        }
    }

    #[test]
    fn a_pattern_is_part_of_one_statement() {
        assert_eq!(problem("= null"), None);
        assert!(problem("  -- nothing").is_some());
        assert!(problem("a; b").is_some());
        assert!(!holds("select 1", ""));
    }
}
