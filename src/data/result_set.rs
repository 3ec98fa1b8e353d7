//! What one statement returned, as the learner sees it: column names and rows of text values
//! (`None` is SQL NULL). The console fills it, the lesson grader compares two of them, the
//! views draw it; it knows nothing about where the values came from.

/// Column names and rows, every value in PostgreSQL's text form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    pub fn new(columns: Vec<String>, rows: Vec<Vec<Option<String>>>) -> Self {
        Self { columns, rows }
    }
}
