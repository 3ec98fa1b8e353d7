//! The lexical normaliser: the shape of a statement computed from tokens alone.
//!
//! It serves twice. As the fingerprint cache key it must be cheap (one pass, no parse) and
//! never coarser than the parsed shape: two texts with the same lexical shape must parse to the
//! same normalised SQL, so it only erases what the parsed shape erases too (literal values,
//! `$n`, the length of `IN` lists and of multi-row `VALUES`) and keeps everything else,
//! keyword case included. As the fallback for text sqlparser cannot parse it is the
//! fingerprint itself.

use super::lexer::{Token, TokenKind, tokenize};

/// The lexical shape of a text and how many literal values it contained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LexicalShape {
    pub text: String,
    pub literals: usize,
}

/// Normalises `sql`: literals and `$n` become `?`, comments go, whitespace collapses to one
/// space, `IN (?, ?, ?)` becomes `IN (?)`, `VALUES (?, ?), (?, ?)` becomes `VALUES (?, ?)`, empty
/// statements disappear and statements are joined with `"; "`.
///
/// `literals` counts numbers and strings (every quoting style). It does not count `$n` (a
/// parameter is the fix, not the problem), nor `NULL`, `TRUE` or `FALSE`: those are keywords
/// written by the programmer, not values pasted in from data.
pub(crate) fn lexical_shape(sql: &str) -> LexicalShape {
    let tokens = tokenize(sql);
    let literals = tokens
        .iter()
        .filter(|token| token.kind == TokenKind::Literal)
        .count();
    let mut out = String::with_capacity(sql.len());
    for (index, statement) in super::lexer::statements(&tokens).enumerate() {
        if index > 0 {
            out.push_str("; ");
        }
        write_statement(&mut out, statement);
    }
    LexicalShape {
        text: out,
        literals,
    }
}

fn write_statement(out: &mut String, tokens: &[Token<'_>]) {
    let mut index = 0;
    let mut previous_was_in_or_values = None::<ListKeyword>;
    while let Some(token) = tokens.get(index) {
        if token.space_before && index > 0 {
            out.push(' ');
        }
        if let Some(keyword) = previous_was_in_or_values
            && let Some(consumed) = collapse_list(out, keyword, &tokens[index..])
        {
            index += consumed;
            previous_was_in_or_values = None;
            continue;
        }
        out.push_str(if token.is_value() { "?" } else { token.text });
        previous_was_in_or_values = if token.is_word("in") {
            Some(ListKeyword::In)
        } else if token.is_word("values") {
            Some(ListKeyword::Values)
        } else {
            None
        };
        index += 1;
    }
}

#[derive(Clone, Copy)]
enum ListKeyword {
    In,
    Values,
}

/// At the token after `IN` or `VALUES`: when a list of plain values follows, writes it as one
/// element (`(?)`) or one row (`(?, ?)`) and returns how many tokens it covered.
fn collapse_list(out: &mut String, keyword: ListKeyword, tokens: &[Token<'_>]) -> Option<usize> {
    let (first_width, first_len) = value_tuple(tokens)?;
    let mut consumed = first_len;
    if let ListKeyword::Values = keyword {
        // Further rows only fold into the first when they have the same width; anything
        // else (an expression, a sub-select) is written out as it is.
        while let Some(comma) = tokens.get(consumed)
            && comma.text == ","
            && let Some((width, len)) = tokens.get(consumed + 1..).and_then(value_tuple)
            && width == first_width
        {
            consumed += 1 + len;
        }
    }
    out.push('(');
    let width = match keyword {
        ListKeyword::In => 1,
        ListKeyword::Values => first_width,
    };
    for position in 0..width {
        if position > 0 {
            out.push_str(", ");
        }
        out.push('?');
    }
    out.push(')');
    Some(consumed)
}

/// Matches `( value [, value]* )` at the start of `tokens`: its width and token length.
fn value_tuple(tokens: &[Token<'_>]) -> Option<(usize, usize)> {
    if tokens.first()?.text != "(" {
        return None;
    }
    let mut index = 1;
    let mut width = 0;
    loop {
        if !tokens.get(index)?.is_value() {
            return None;
        }
        width += 1;
        index += 1;
        match tokens.get(index)?.text {
            "," => index += 1,
            ")" => return Some((width, index + 1)),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(sql: &str) -> String {
        lexical_shape(sql).text
    }

    #[test]
    fn literals_and_parameters_become_placeholders() {
        assert_eq!(
            shape("SELECT * FROM t WHERE a = 'x''y' AND b = $2 AND c = -1.5e3 AND d = E'\\''"),
            "SELECT * FROM t WHERE a = ? AND b = ? AND c = -? AND d = ?"
        );
        assert_eq!(lexical_shape("select 'a', 1, $1, null, true").literals, 2);
    }

    #[test]
    fn identifiers_with_digits_and_quoted_identifiers_survive() {
        assert_eq!(
            shape(r#"select t1.c2 from "T 3" t1"#),
            r#"select t1.c2 from "T 3" t1"#
        );
    }

    #[test]
    fn in_lists_collapse_but_subqueries_do_not() {
        assert_eq!(shape("a IN (1, 2, 3)"), "a IN (?)");
        assert_eq!(shape("a in ($1)"), "a in (?)");
        assert_eq!(shape("a IN (1, b)"), "a IN (?, b)");
        assert_eq!(
            shape("a IN (select 1)"),
            "a IN (select ?)",
            "a sub-select stays a sub-select"
        );
    }

    #[test]
    fn values_rows_collapse() {
        assert_eq!(
            shape("insert into t (a, b) values (1, 'x'), (2, 'y'), ($1, $2)"),
            "insert into t (a, b) values (?, ?)"
        );
        assert_eq!(
            shape("values (1, 2), (3, now())"),
            "values (?, ?), (?, now())"
        );
    }

    #[test]
    fn whitespace_comments_and_empty_statements() {
        assert_eq!(
            shape(";; select  1 -- one\n ;/* two */select\t2;;"),
            "select ?; select ?"
        );
        assert_eq!(shape("  -- nothing\n ; "), "");
    }
}
