//! Reading the conditions PostgreSQL prints on plan nodes (`Filter`, `Index Cond`, `Hash
//! Cond`, `Join Filter`) just far enough to name the columns an index could use: which column
//! is compared, and whether by equality or as a range. The printed form is regular (every
//! comparison in parentheses, `AND`/`OR` between them, casts as `::type`), so a small reader
//! suffices; anything it does not recognise is reported as [`Op::Other`] rather than guessed.

/// How a column is compared, as far as a B-tree index cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`, `= ANY (…)`, `IS NULL`: the index can jump to the matching entries.
    Equality,
    /// `<`, `<=`, `>`, `>=`: the index can bound one end of a range.
    Range,
    /// Anything else (`LIKE`, `<>`, functions): a plain B-tree on the column does not help.
    Other,
}

/// One `column op value` comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The table alias or name before the column (`p` in `p.author_id`), when printed.
    pub qualifier: Option<String>,
    pub column: String,
    pub op: Op,
    /// The other side as printed (`'user1'::text`, `u.id`, `$2`).
    pub value: String,
    /// The type the column itself was cast to (`numeric` in `(author_id)::numeric = 1.0`),
    /// when the cast changes what an index on the column can serve: casts to `text` (how
    /// PostgreSQL prints a `varchar` compared with text) are binary-compatible and left out.
    pub cast: Option<String>,
}

impl Comparison {
    /// Whether an index on the bare column cannot serve this comparison, because the column
    /// is compared only after a cast.
    pub fn hides_column(&self) -> bool {
        self.cast.is_some()
    }

    /// Whether the other side is a plan parameter (`$2`): a value an InitPlan computes at
    /// run time, which the planner could not see when it estimated the rows.
    pub fn against_parameter(&self) -> bool {
        self.value.trim_start_matches('(').starts_with('$')
    }
}

/// The comparisons ANDed together in `text`. Parts under an `OR` are left out: one index on
/// one column does not serve a disjunction across columns.
pub fn comparisons(text: &str) -> Vec<Comparison> {
    let mut out = Vec::new();
    collect(text, &mut out);
    out
}

/// The distinct columns of `comparisons` matching `keep`, equality columns first and each
/// group in printed order: the order a B-tree index on them should have.
pub fn index_order(comparisons: &[Comparison]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for wanted in [Op::Equality, Op::Range] {
        for comparison in comparisons.iter().filter(|c| c.op == wanted) {
            if !columns.contains(&comparison.column) {
                columns.push(comparison.column.clone());
            }
        }
    }
    columns
}

fn collect(text: &str, out: &mut Vec<Comparison>) {
    let text = strip_parens(text.trim());
    if split_top_level(text, " OR ").len() > 1 {
        return;
    }
    let parts = split_top_level(text, " AND ");
    if parts.len() > 1 {
        for part in parts {
            collect(part, out);
        }
        return;
    }
    if let Some(comparison) = atom(text) {
        out.push(comparison);
    }
}

/// Removes parentheses that enclose the whole text: `((a = 1))` → `a = 1`.
fn strip_parens(mut text: &str) -> &str {
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        // `(a) = (b)` starts and ends with a parenthesis that do not belong together.
        if !balanced(inner) {
            break;
        }
        text = inner.trim();
    }
    text
}

/// True when every `)` in `text` closes an earlier `(`, outside quotes.
fn balanced(text: &str) -> bool {
    let mut depth = 0_i32;
    for (_, c) in unquoted(text) {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// The characters of `text` outside single and double quotes, with their byte offsets.
fn unquoted(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut quote: Option<char> = None;
    text.char_indices().filter(move |&(_, c)| match quote {
        Some(open) => {
            if c == open {
                quote = None;
            }
            false
        }
        None if c == '\'' || c == '"' => {
            quote = Some(c);
            false
        }
        None => true,
    })
}

/// `text` cut at every `separator` outside parentheses and quotes.
fn split_top_level<'a>(text: &'a str, separator: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut depth = 0_i32;
    let mut start = 0;
    for (index, c) in unquoted(text) {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 && index >= start && text[index..].starts_with(separator) => {
                parts.push(&text[start..index]);
                start = index + separator.len();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// `column op value`, or `value op column` turned around.
fn atom(text: &str) -> Option<Comparison> {
    let (qualifier, column, rest) = column_ref(text)?;
    let cast = column_cast(text);
    let rest = rest.trim_start();
    // `lower(email) = …`: an expression, which only an expression index could serve.
    if rest.starts_with('(') {
        return None;
    }
    if rest.eq_ignore_ascii_case("IS NULL") {
        return Some(comparison(qualifier, column, Op::Equality, "NULL", None));
    }
    let (op, value) = operator(rest)?;
    if let Some((flipped_qualifier, flipped_column, "")) = column_ref(value)
        && op != Op::Other
        && qualifier.is_none()
        && column.starts_with('\'')
    {
        let cast = column_cast(value);
        return Some(comparison(
            flipped_qualifier,
            flipped_column,
            op,
            &column,
            cast,
        ));
    }
    if column.starts_with('\'') {
        return None;
    }
    Some(comparison(qualifier, column, op, value, cast))
}

fn comparison(
    qualifier: Option<String>,
    column: String,
    op: Op,
    value: &str,
    cast: Option<String>,
) -> Comparison {
    Comparison {
        qualifier,
        column,
        op,
        value: value.trim().to_owned(),
        cast,
    }
}

/// The type in `(column)::type` at the start of `text`, unless it is `text` (see
/// [`Comparison::cast`]).
fn column_cast(text: &str) -> Option<String> {
    let inner = text.trim_start().strip_prefix('(')?;
    let close = inner.find(')')?;
    let after = inner[close + 1..].strip_prefix("::")?;
    let end = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ' '))
        .unwrap_or(after.len());
    // `::timestamp without time zone = …`: the type ends where the operator starts.
    let name = after[..end]
        .split(' ')
        .take_while(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (name != "text" && !name.is_empty()).then_some(name)
}

/// The operator at the start of `rest` and what follows it.
fn operator(rest: &str) -> Option<(Op, &str)> {
    // Longest first, so `<=` is not read as `<`.
    const OPERATORS: &[(&str, Op)] = &[
        ("= ANY ", Op::Equality),
        (">=", Op::Range),
        ("<=", Op::Range),
        ("<>", Op::Other),
        ("!=", Op::Other),
        ("=", Op::Equality),
        ("<", Op::Range),
        (">", Op::Range),
    ];
    for (symbol, op) in OPERATORS {
        if let Some(value) = rest.strip_prefix(symbol) {
            return Some((*op, value));
        }
    }
    // LIKE (`~~`), regular expressions, IS NOT NULL, containment…: not a B-tree lookup.
    let end = rest.find(' ')?;
    Some((Op::Other, &rest[end..]))
}

/// A column reference at the start of `text`: `name`, `alias.name`, `"Name"`, or any of them
/// in parentheses with a cast (`(email)::text`); a quoted literal (`'x'::text`) is returned
/// as its text so that [`atom`] can turn `'x' = col` around. Returns (qualifier, column, rest).
fn column_ref(text: &str) -> Option<(Option<String>, String, &str)> {
    let text = text.trim_start();
    if let Some(inner) = text.strip_prefix('(') {
        let close = inner.find(')')?;
        let (qualifier, column, "") = column_ref(&inner[..close])? else {
            return None;
        };
        return Some((qualifier, column, skip_cast(&inner[close + 1..])));
    }
    if let Some(quoted) = text.strip_prefix('\'') {
        let end = quoted.find('\'')? + 2;
        return Some((None, text[..end].to_owned(), skip_cast(&text[end..])));
    }
    let (first, rest) = identifier(text)?;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let (second, rest) = identifier(after_dot)?;
        return Some((Some(first), second, skip_cast(rest)));
    }
    Some((None, first, skip_cast(rest)))
}

/// A plain or double-quoted identifier at the start of `text`, and what follows it.
fn identifier(text: &str) -> Option<(String, &str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        let end = quoted.find('"')?;
        return Some((quoted[..end].to_owned(), &quoted[end + 1..]));
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let word = &text[..end];
    let starts_well = word.chars().next()?.is_alphabetic() || word.starts_with('_');
    starts_well.then(|| (word.to_owned(), &text[end..]))
}

/// Skips `::type` casts (`::text`, `::character varying`, `::integer[]`) after an operand.
fn skip_cast(mut text: &str) -> &str {
    while let Some(after) = text.strip_prefix("::") {
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '[' || c == ']'))
            .unwrap_or(after.len());
        text = &after[end..];
        // Two-word type names: `character varying`, `double precision`, `time zone`.
        for second in [
            " varying",
            " precision",
            " with time zone",
            " without time zone",
        ] {
            if let Some(rest) = text.strip_prefix(second) {
                text = rest;
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(Option<&str>, &str, Op)> {
        // Leaked for test brevity: the strings outlive the vector that holds them.
        comparisons(text)
            .into_iter()
            .map(|c| {
                let qualifier: Option<&str> = c.qualifier.map(|q| &*q.leak());
                (qualifier, &*c.column.leak(), c.op)
            })
            .collect()
    }

    #[test]
    fn printed_conditions_give_their_columns() {
        assert_eq!(
            read("(username = 'user50000'::text)"),
            [(None, "username", Op::Equality)]
        );
        assert_eq!(
            read("((id >= 1000) AND (id <= 1099))"),
            [(None, "id", Op::Range), (None, "id", Op::Range)]
        );
        assert_eq!(
            read("(p.author_id = u.id)"),
            [(Some("p"), "author_id", Op::Equality)]
        );
        assert_eq!(
            read("(((last_name)::text = 'x'::text) AND (created_at > now()))"),
            [
                (None, "last_name", Op::Equality),
                (None, "created_at", Op::Range)
            ]
        );
        assert_eq!(
            read("(deleted_at IS NULL)"),
            [(None, "deleted_at", Op::Equality)]
        );
        assert_eq!(
            read("(id = ANY ('{1,2,3}'::integer[]))"),
            [(None, "id", Op::Equality)]
        );
        assert_eq!(read("('a b' = \"Name\")"), [(None, "Name", Op::Equality)]);
    }

    #[test]
    fn what_an_index_cannot_serve_is_not_a_lookup() {
        assert_eq!(
            read("(username ~~ '%77%'::text)"),
            [(None, "username", Op::Other)]
        );
        assert_eq!(read("(id IS NOT NULL)"), [(None, "id", Op::Other)]);
        assert!(read("((id < 3000) OR (email = 'x'::text))").is_empty());
        assert!(read("(lower(email) = 'x'::text)").is_empty());
        assert!(read("('it''s (odd' = 'x')").is_empty());
    }

    #[test]
    fn a_cast_on_the_column_is_kept_unless_it_is_to_text() {
        let cast = |text: &str| comparisons(text)[0].cast.clone();
        assert_eq!(
            cast("((author_id)::numeric = 250000.0)"),
            Some("numeric".into())
        );
        assert_eq!(
            cast("((created_at)::date = '2024-03-01'::date)"),
            Some("date".into())
        );
        assert_eq!(
            cast("('2024-03-01'::date = (created_at)::date)"),
            Some("date".into())
        );
        assert_eq!(cast("((last_name)::text = 'x'::text)"), None);
        assert_eq!(cast("(author_id = 250000)"), None);
    }

    #[test]
    fn equality_columns_come_first() {
        let found = comparisons("((created_at > now()) AND (status = 'a') AND (org = 1))");
        assert_eq!(index_order(&found), ["status", "org", "created_at"]);
        assert!(comparisons("(id <= $2)")[0].against_parameter());
    }
}
