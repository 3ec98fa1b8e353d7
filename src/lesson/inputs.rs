//! An exercise graded on inputs (`check.inputs`): a handler's query fixed by the learner is
//! run once per input a client could send, the way the handler would run it. The input
//! reaches the SQL both ways a handler can pass it: `{input}` in the text is replaced by the
//! input's characters, as string formatting does, and `$1` is bound to it, as a parameter.
//! An answer that still formats is then really fed the malicious input, and its rows say
//! what it did. The rows of all runs are put together, each led by its input, so one rows
//! comparison (and the diagnoses) covers every input at once.

use crate::data::ResultSet;

/// Where string formatting puts the input in a query.
pub const PLACEHOLDER: &str = "{input}";
/// The name the query is prepared under while it runs for one input.
const PREPARED: &str = "pglab_input";
/// The column the input is shown in, first.
pub const COLUMN: &str = "input";

/// The script that runs `sql` for `input`: prepared with one text parameter, the input
/// formatted into the text where `{input}` is, then executed with the input bound.
pub fn script(sql: &str, input: &str) -> String {
    let formatted = sql.replace(PLACEHOLDER, input);
    let body = formatted.trim().trim_end_matches(';');
    format!(
        "prepare {PREPARED}(text) as\n{body}\n;\nexecute {PREPARED}({})",
        literal(input)
    )
}

/// Forgets the prepared query, so the next input can prepare it again.
pub const FORGET: &str = "deallocate pglab_input";

/// `input` as an SQL string literal (quotes doubled: the lab's connections keep
/// `standard_conforming_strings` on, PostgreSQL's default).
fn literal(input: &str) -> String {
    format!("'{}'", input.replace('\'', "''"))
}

/// One result from each input's, every row led by its input.
pub fn together(results: Vec<(String, ResultSet)>) -> ResultSet {
    let mut columns = vec![COLUMN.to_string()];
    let mut rows = Vec::new();
    for (input, result) in results {
        // Columns come with rows: an input that found none has none to give.
        if columns.len() == 1 {
            columns.extend(result.columns);
        }
        rows.extend(result.rows.into_iter().map(|row| {
            let mut labelled = vec![Some(input.clone())];
            labelled.extend(row);
            labelled
        }));
    }
    ResultSet::new(columns, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_is_formatted_where_the_placeholder_is_and_bound_as_1() {
        let sql = "select id from users where username = '{input}' or username = $1;";
        assert_eq!(
            script(sql, "x' or '1'='1"),
            "prepare pglab_input(text) as\n\
             select id from users where username = 'x' or '1'='1' or username = $1\n;\n\
             execute pglab_input('x'' or ''1''=''1')"
        );
    }

    #[test]
    fn each_inputs_rows_are_led_by_the_input() {
        let rs = |rows: &[&str]| {
            ResultSet::new(
                vec!["id".into()],
                rows.iter().map(|r| vec![Some(r.to_string())]).collect(),
            )
        };
        let none = ResultSet::default();
        let all = together(vec![("x".into(), none), ("alice".into(), rs(&["1"]))]);
        assert_eq!(all.columns, vec!["input", "id"]);
        assert_eq!(all.rows, vec![vec![Some("alice".into()), Some("1".into())]]);
        let _ = rs(&[]);
    }
}
