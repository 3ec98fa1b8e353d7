//! A small PostgreSQL tokeniser for reading SQL that sqlparser may not accept, and for work
//! that must stay cheaper than a parse (cache keys, literal counts, statement splitting).
//!
//! It knows exactly as much of PostgreSQL's lexical grammar as is needed to never mistake the
//! inside of a string, a quoted identifier, a comment or a dollar-quoted body for SQL: it does
//! not classify keywords and it never fails. Every token is a slice of the input, and the input
//! is only ever cut at ASCII bytes, so slicing cannot land inside a UTF-8 character.

/// What a token is, as far as normalising and splitting need to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A keyword or an unquoted identifier (`SELECT`, `users`, `t1`).
    Word,
    /// A double-quoted identifier, quotes included (`"Users"`).
    QuotedIdent,
    /// A literal value: a number or any form of string (`42`, `'x'`, `E'\n'`, `$$..$$`).
    Literal,
    /// A positional parameter (`$1`).
    Placeholder,
    /// The statement separator.
    Semicolon,
    /// Anything else: operators and punctuation (`=`, `::`, `(`, `,`).
    Punct,
}

/// One token: its kind, its text, and whether whitespace or a comment came before it (so a
/// normaliser can keep `a = 1` and `a=1` apart from `a.b` without knowing operator rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
    pub space_before: bool,
}

impl Token<'_> {
    /// True when this token is the unquoted word `word` in any letter case.
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// True for a literal or a `$n`: the positions a fingerprint turns into `?`.
    pub fn is_value(&self) -> bool {
        matches!(self.kind, TokenKind::Literal | TokenKind::Placeholder)
    }
}

/// Splits `sql` into tokens, dropping whitespace and comments.
pub(crate) fn tokenize(sql: &str) -> Vec<Token<'_>> {
    let mut lexer = Lexer {
        sql,
        bytes: sql.as_bytes(),
        pos: 0,
    };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token() {
        tokens.push(token);
    }
    tokens
}

/// Splits a token list at `;` into the statements that contain at least one token.
pub(crate) fn statements<'t, 'a>(tokens: &'t [Token<'a>]) -> impl Iterator<Item = &'t [Token<'a>]> {
    tokens
        .split(|token| token.kind == TokenKind::Semicolon)
        .filter(|statement| !statement.is_empty())
}

struct Lexer<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

/// Bytes PostgreSQL allows inside an unquoted identifier; non-ASCII bytes count as letters,
/// which also keeps multi-byte characters whole.
fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

/// Characters that PostgreSQL glues together into one operator (`<>`, `>=`, `||`, `->>`).
fn is_operator_byte(byte: u8) -> bool {
    b"+-*/<>=~!@#%^&|`?".contains(&byte)
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        let space_before = self.skip_space_and_comments();
        let start = self.pos;
        let first = self.peek(0)?;
        let kind = self.scan(first);
        // Every scan consumes at least one byte, so the loop in `tokenize` always advances.
        let text = self.sql.get(start..self.pos).unwrap_or_default();
        Some(Token {
            kind,
            text,
            space_before,
        })
    }

    /// Skips whitespace and comments; true when anything was skipped.
    fn skip_space_and_comments(&mut self) -> bool {
        let start = self.pos;
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(byte), _) if byte.is_ascii_whitespace() => self.pos += 1,
                (Some(b'-'), Some(b'-')) => {
                    while self.peek(0).is_some_and(|byte| byte != b'\n') {
                        self.pos += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => self.skip_block_comment(),
                _ => return self.pos > start,
            }
        }
    }

    /// PostgreSQL block comments nest, unlike C's.
    fn skip_block_comment(&mut self) {
        let mut depth = 0usize;
        while let Some(byte) = self.peek(0) {
            match (byte, self.peek(1)) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', Some(b'/')) => {
                    depth = depth.saturating_sub(1);
                    self.pos += 2;
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    fn scan(&mut self, first: u8) -> TokenKind {
        let second = self.peek(1);
        match first {
            b'\'' => {
                self.pos += 1;
                self.skip_quoted(b'\'', false);
                TokenKind::Literal
            }
            b'"' => {
                self.pos += 1;
                self.skip_quoted(b'"', false);
                TokenKind::QuotedIdent
            }
            b'e' | b'E' if second == Some(b'\'') => {
                self.pos += 2;
                self.skip_quoted(b'\'', true);
                TokenKind::Literal
            }
            b'b' | b'B' | b'x' | b'X' | b'n' | b'N' if second == Some(b'\'') => {
                self.pos += 2;
                self.skip_quoted(b'\'', false);
                TokenKind::Literal
            }
            b'u' | b'U' if second == Some(b'&') && matches!(self.peek(2), Some(b'\'' | b'"')) => {
                let quote = self.peek(2).unwrap_or(b'\'');
                self.pos += 3;
                self.skip_quoted(quote, false);
                if quote == b'"' {
                    TokenKind::QuotedIdent
                } else {
                    TokenKind::Literal
                }
            }
            b'$' => self.scan_dollar(),
            b';' => {
                self.pos += 1;
                TokenKind::Semicolon
            }
            b'0'..=b'9' => {
                self.scan_number();
                TokenKind::Literal
            }
            b'.' if second.is_some_and(|byte| byte.is_ascii_digit()) => {
                self.scan_number();
                TokenKind::Literal
            }
            byte if is_ident_start(byte) => {
                while self.peek(0).is_some_and(is_ident_byte) {
                    self.pos += 1;
                }
                TokenKind::Word
            }
            byte if is_operator_byte(byte) => {
                self.scan_operator();
                TokenKind::Punct
            }
            b':' => {
                while self.peek(0) == Some(b':') {
                    self.pos += 1;
                }
                TokenKind::Punct
            }
            _ => {
                self.pos += 1;
                TokenKind::Punct
            }
        }
    }

    /// Skips to just after the closing `quote`; a doubled quote is an escaped quote, and in an
    /// `E''` string a backslash escapes the next byte. An unterminated string runs to the end.
    fn skip_quoted(&mut self, quote: u8, backslash_escapes: bool) {
        while let Some(byte) = self.peek(0) {
            self.pos += 1;
            if backslash_escapes && byte == b'\\' {
                if self.peek(0).is_some() {
                    self.pos += 1;
                }
            } else if byte == quote {
                if self.peek(0) == Some(quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
    }

    /// `$1` is a parameter; `$$...$$` and `$tag$...$tag$` are string bodies; a lone `$` is
    /// punctuation (sqlparser will reject it, the lexer need not).
    fn scan_dollar(&mut self) -> TokenKind {
        if self.peek(1).is_some_and(|byte| byte.is_ascii_digit()) {
            self.pos += 1;
            while self.peek(0).is_some_and(|byte| byte.is_ascii_digit()) {
                self.pos += 1;
            }
            return TokenKind::Placeholder;
        }
        let mut tag_end = self.pos + 1;
        if self
            .bytes
            .get(tag_end)
            .is_some_and(|&byte| is_ident_start(byte))
        {
            // A tag is an identifier without `$`, so the byte after it must be the closing `$`.
            while self
                .bytes
                .get(tag_end)
                .is_some_and(|&byte| is_ident_byte(byte) && byte != b'$')
            {
                tag_end += 1;
            }
        }
        if self.bytes.get(tag_end) != Some(&b'$') {
            self.pos += 1;
            return TokenKind::Punct;
        }
        let delimiter = &self.bytes[self.pos..=tag_end];
        let body_start = tag_end + 1;
        self.pos = match find(&self.bytes[body_start..], delimiter) {
            Some(offset) => body_start + offset + delimiter.len(),
            None => self.bytes.len(),
        };
        TokenKind::Literal
    }

    /// Decimal numbers with fraction and exponent, `_` separators (PostgreSQL 16), and
    /// `0x`/`0o`/`0b` integers.
    fn scan_number(&mut self) {
        let radix_prefix = self.peek(0) == Some(b'0')
            && matches!(self.peek(1), Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B'))
            && self.peek(2).is_some_and(|byte| byte.is_ascii_hexdigit());
        if radix_prefix {
            self.pos += 2;
            while self
                .peek(0)
                .is_some_and(|byte| byte.is_ascii_hexdigit() || byte == b'_')
            {
                self.pos += 1;
            }
            return;
        }
        self.skip_digits();
        if self.peek(0) == Some(b'.') && self.peek(1) != Some(b'.') {
            self.pos += 1;
            self.skip_digits();
        }
        let exponent_digit = match (self.peek(1), self.peek(2)) {
            (Some(b'+' | b'-'), Some(byte)) => byte.is_ascii_digit(),
            (Some(byte), _) => byte.is_ascii_digit(),
            _ => false,
        };
        if matches!(self.peek(0), Some(b'e' | b'E')) && exponent_digit {
            self.pos += 2;
            self.skip_digits();
        }
    }

    fn skip_digits(&mut self) {
        while self
            .peek(0)
            .is_some_and(|byte| byte.is_ascii_digit() || byte == b'_')
        {
            self.pos += 1;
        }
    }

    /// An operator run stops where a comment starts, as in PostgreSQL (`a=-- x` is `=`).
    fn scan_operator(&mut self) {
        self.pos += 1;
        while let Some(byte) = self.peek(0) {
            let comment = matches!(
                (byte, self.peek(1)),
                (b'-', Some(b'-')) | (b'/', Some(b'*'))
            );
            if !is_operator_byte(byte) || comment {
                return;
            }
            self.pos += 1;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(TokenKind, &str)> {
        tokenize(sql)
            .into_iter()
            .map(|token| (token.kind, token.text))
            .collect()
    }

    #[test]
    fn strings_identifiers_and_parameters() {
        use TokenKind::*;
        assert_eq!(
            kinds(r#"select "a""b", 'it''s', E'x\'y', $1 from t1"#),
            vec![
                (Word, "select"),
                (QuotedIdent, r#""a""b""#),
                (Punct, ","),
                (Literal, "'it''s'"),
                (Punct, ","),
                (Literal, r"E'x\'y'"),
                (Punct, ","),
                (Placeholder, "$1"),
                (Word, "from"),
                (Word, "t1"),
            ]
        );
    }

    #[test]
    fn dollar_quotes_hide_semicolons() {
        let tokens = tokenize("select $f$ a; 'b $f$; select $$x;$$");
        let texts: Vec<_> = tokens.iter().map(|token| token.text).collect();
        assert_eq!(
            texts,
            vec!["select", "$f$ a; 'b $f$", ";", "select", "$$x;$$"]
        );
    }

    #[test]
    fn comments_are_whitespace() {
        let tokens = tokenize("a/* x /* nested */ ; */-- ; \n=--c\n1");
        let texts: Vec<_> = tokens.iter().map(|token| token.text).collect();
        assert_eq!(texts, vec!["a", "=", "1"]);
        assert!(tokens[1].space_before);
    }

    #[test]
    fn numbers() {
        use TokenKind::*;
        assert_eq!(
            kinds("-1.5e3 .5 0x1F 1_000 a1"),
            vec![
                (Punct, "-"),
                (Literal, "1.5e3"),
                (Literal, ".5"),
                (Literal, "0x1F"),
                (Literal, "1_000"),
                (Word, "a1"),
            ]
        );
    }

    #[test]
    fn unterminated_input_never_panics() {
        for sql in [
            "'abc",
            "\"abc",
            "E'\\",
            "$tag$ body",
            "/* open",
            "$",
            "U&",
            "0x",
            "é'",
            "1e",
        ] {
            let _ = tokenize(sql);
        }
    }
}
