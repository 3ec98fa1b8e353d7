//! Lints one piece of SQL against the schema's safety rules: tenant tables need an
//! `organization_id` condition, soft-delete tables need a `deleted_at` condition when read, and
//! comparing two constants is the mark of SQL built by pasting input.
//!
//! Which tables are tenant or soft-delete tables is not known here: it comes from the live
//! catalog as [`TableFacts`]. The rules are deliberately simple enough to explain on a slide: a
//! table counts as filtered when any WHERE, ON or HAVING condition of the SELECT that reads it
//! mentions the column, qualified by the table's alias or name, or unqualified when the table is
//! alone in its FROM. Whether the condition is *right* (`organization_id = $1` rather than
//! `organization_id = organization_id`) is not judged.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Delete, Expr, FromTable, Ident, Insert, JoinConstraint, JoinOperator,
    ObjectName, Query, Select, Statement, TableFactor, TableObject, TableWithJoins, Update,
    UpdateTableFromKind, Value, Visit, Visitor,
};

const TENANT_COLUMN: &str = "organization_id";
const SOFT_DELETE_COLUMN: &str = "deleted_at";

/// Which tables carry `organization_id` (tenant tables) and `deleted_at` (soft-delete tables).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableFacts {
    tenant: HashSet<String>,
    soft_delete: HashSet<String>,
}

impl TableFacts {
    /// Table names may be qualified or quoted: only the lowercased last part is kept, which is
    /// also how statements are matched (`lab.users`, `"users"` and `USERS` are all `users`).
    pub fn new<T, S>(tenant_tables: T, soft_delete_tables: S) -> Self
    where
        T: IntoIterator<Item: AsRef<str>>,
        S: IntoIterator<Item: AsRef<str>>,
    {
        Self {
            tenant: table_keys(tenant_tables),
            soft_delete: table_keys(soft_delete_tables),
        }
    }

    pub fn is_tenant(&self, table: &str) -> bool {
        self.tenant.contains(&table_key(table))
    }

    pub fn is_soft_delete(&self, table: &str) -> bool {
        self.soft_delete.contains(&table_key(table))
    }
}

fn table_keys(names: impl IntoIterator<Item: AsRef<str>>) -> HashSet<String> {
    names
        .into_iter()
        .map(|name| table_key(name.as_ref()))
        .collect()
}

fn table_key(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.trim().trim_matches('"').to_lowercase()
}

/// One thing wrong with a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lint {
    /// A tenant table read (`write: false`) or changed (`write: true`) without `organization_id`.
    MissingTenantFilter { table: String, write: bool },
    /// A soft-delete table read without any condition on `deleted_at`.
    MissingSoftDeleteFilter { table: String },
    /// A comparison of two constants, such as `'1' = '1'`.
    LiteralComparison { text: String },
}

impl Lint {
    /// What is wrong and how to fix it, in one sentence.
    pub fn message(&self) -> String {
        match self {
            Lint::MissingTenantFilter {
                table,
                write: false,
            } => format!(
                "{table} is read without an organization_id condition: every tenant table needs \
                 `organization_id = $1`, or one tenant can see another's rows"
            ),
            Lint::MissingTenantFilter { table, write: true } => format!(
                "{table} is written without organization_id: an UPDATE or DELETE needs \
                 `organization_id = $1` in its WHERE and an INSERT needs an organization_id \
                 value, or one tenant can change another's rows"
            ),
            Lint::MissingSoftDeleteFilter { table } => format!(
                "{table} is read without a deleted_at condition: add `{table}.deleted_at IS NULL`, \
                 or rows the user deleted come back"
            ),
            Lint::LiteralComparison { text } => format!(
                "`{text}` compares two constants, the mark of SQL built by pasting input: pass \
                 values as bind parameters ($1) so input can never become SQL"
            ),
        }
    }
}

/// Lints every statement in `sql`; empty when sqlparser cannot read it. Each table is reported
/// at most once per rule and statement.
pub fn lint(sql: &str, facts: &TableFacts) -> Vec<Lint> {
    let Some(statements) = super::parse(sql) else {
        return Vec::new();
    };
    let mut lints = Vec::new();
    for statement in &statements {
        let mut linter = Linter {
            facts,
            cte_names: HashSet::new(),
            lints: Vec::new(),
        };
        let _ = statement.visit(&mut linter);
        lints.extend(linter.lints);
    }
    lints
}

/// Walks one statement; sqlparser's visitor calls `pre_visit_select` for every SELECT
/// anywhere (CTEs, sub-selects, INSERT … SELECT), so each is checked in its own scope.
struct Linter<'f> {
    facts: &'f TableFacts,
    /// Names defined by `WITH`: a reference to one is not a table read.
    cte_names: HashSet<String>,
    lints: Vec<Lint>,
}

impl Visitor for Linter<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.cte_names.insert(ident_key(&cte.alias.name));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        let mut scope = Scope::default();
        for from in &select.from {
            scope.add_from(from, &self.cte_names);
        }
        let conditions = select.selection.iter().chain(&select.having);
        let mentions = Mentions::of(conditions.chain(scope.join_conditions.iter().copied()));
        for table in &scope.tables {
            if self.facts.tenant.contains(&table.name)
                && !scope.mentions(&mentions, table, TENANT_COLUMN)
            {
                self.report_tenant(&table.name, false);
            }
            if self.facts.soft_delete.contains(&table.name)
                && !scope.mentions(&mentions, table, SOFT_DELETE_COLUMN)
            {
                self.report(Lint::MissingSoftDeleteFilter {
                    table: table.name.clone(),
                });
            }
        }
        self.report_literal_comparisons(mentions);
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        match statement {
            Statement::Insert(insert) => self.check_insert(insert),
            Statement::Update(update) => self.check_update(update),
            Statement::Delete(delete) => self.check_delete(delete),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

impl Linter<'_> {
    fn check_insert(&mut self, insert: &Insert) {
        let TableObject::TableName(name) = &insert.table else {
            return;
        };
        let Some(table) = object_key(name) else {
            return;
        };
        // Without a column list every column gets a value, organization_id included.
        let names_tenant = insert
            .columns
            .iter()
            .any(|column| object_key(column).as_deref() == Some(TENANT_COLUMN));
        if self.facts.tenant.contains(&table) && !insert.columns.is_empty() && !names_tenant {
            self.report_tenant(&table, true);
        }
    }

    fn check_update(&mut self, update: &Update) {
        let read = match &update.from {
            Some(UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from)) => {
                from.as_slice()
            }
            None => &[],
        };
        self.check_write(std::slice::from_ref(&update.table), read, &update.selection);
    }

    fn check_delete(&mut self, delete: &Delete) {
        let (FromTable::WithFromKeyword(targets) | FromTable::WithoutKeyword(targets)) =
            &delete.from;
        let read = delete.using.as_deref().unwrap_or_default();
        self.check_write(targets, read, &delete.selection);
    }

    /// UPDATE and DELETE: unqualified columns in the WHERE belong to the target, so the target
    /// may be constrained without a qualifier; tables joined in by FROM/USING may not.
    fn check_write(
        &mut self,
        targets: &[TableWithJoins],
        read: &[TableWithJoins],
        selection: &Option<Expr>,
    ) {
        let mut target_scope = Scope::default();
        for target in targets {
            target_scope.add_factor(&target.relation, &self.cte_names);
        }
        let mut read_scope = Scope::default();
        // Joins hanging off the target (MySQL's multi-table form) are read, not written.
        for join in targets.iter().flat_map(|target| &target.joins) {
            read_scope.add_join(&join.relation, &join.join_operator, &self.cte_names);
        }
        for from in read {
            read_scope.add_from(from, &self.cte_names);
        }
        let mentions = Mentions::of(
            selection
                .iter()
                .chain(read_scope.join_conditions.iter().copied()),
        );
        for table in &target_scope.tables {
            let filtered = mentions.unqualified.contains(TENANT_COLUMN)
                || mentions.qualifies(table, TENANT_COLUMN);
            if self.facts.tenant.contains(&table.name) && !filtered {
                self.report_tenant(&table.name, true);
            }
        }
        for table in &read_scope.tables {
            if self.facts.tenant.contains(&table.name)
                && !mentions.qualifies(table, TENANT_COLUMN)
                && !read_scope.using_columns.contains(TENANT_COLUMN)
            {
                self.report_tenant(&table.name, false);
            }
        }
        self.report_literal_comparisons(mentions);
    }

    fn report_tenant(&mut self, table: &str, write: bool) {
        let already = self.lints.iter().any(|lint| {
            matches!(lint, Lint::MissingTenantFilter { table: reported, .. } if reported == table)
        });
        if !already {
            self.lints.push(Lint::MissingTenantFilter {
                table: table.to_owned(),
                write,
            });
        }
    }

    fn report_literal_comparisons(&mut self, mentions: Mentions) {
        for text in mentions.literal_comparisons {
            self.report(Lint::LiteralComparison { text });
        }
    }

    fn report(&mut self, lint: Lint) {
        if !self.lints.contains(&lint) {
            self.lints.push(lint);
        }
    }
}

/// A table read by one FROM clause.
struct TableRef {
    /// Lowercased, unqualified table name: what [`TableFacts`] is keyed by.
    name: String,
    /// The name its columns are qualified with: the alias when there is one.
    qualifier: String,
}

/// The tables and join conditions of one FROM clause.
#[derive(Default)]
struct Scope<'q> {
    tables: Vec<TableRef>,
    /// Every FROM item, including sub-selects and functions: a lone table may use
    /// unqualified columns, a table among several may not.
    items: usize,
    join_conditions: Vec<&'q Expr>,
    /// `JOIN … USING (organization_id)` equates the column across the joined tables.
    using_columns: HashSet<String>,
}

impl<'q> Scope<'q> {
    fn add_from(&mut self, from: &'q TableWithJoins, cte_names: &HashSet<String>) {
        self.add_factor(&from.relation, cte_names);
        for join in &from.joins {
            self.add_join(&join.relation, &join.join_operator, cte_names);
        }
    }

    fn add_join(
        &mut self,
        relation: &'q TableFactor,
        operator: &'q JoinOperator,
        cte_names: &HashSet<String>,
    ) {
        self.add_factor(relation, cte_names);
        match join_constraint(operator) {
            Some(JoinConstraint::On(condition)) => self.join_conditions.push(condition),
            Some(JoinConstraint::Using(columns) | JoinConstraint::UsingAlias(columns, _)) => {
                self.using_columns
                    .extend(columns.iter().filter_map(object_key));
            }
            _ => {}
        }
    }

    fn add_factor(&mut self, factor: &'q TableFactor, cte_names: &HashSet<String>) {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                self.items += 1;
                let Some(table) = object_key(name) else {
                    return;
                };
                if name.0.len() == 1 && cte_names.contains(&table) {
                    return;
                }
                let qualifier = alias
                    .as_ref()
                    .map_or_else(|| table.clone(), |alias| ident_key(&alias.name));
                self.tables.push(TableRef {
                    name: table,
                    qualifier,
                });
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.add_from(table_with_joins, cte_names),
            _ => self.items += 1,
        }
    }

    fn mentions(&self, mentions: &Mentions, table: &TableRef, column: &str) -> bool {
        mentions.qualifies(table, column)
            || (self.items == 1 && mentions.unqualified.contains(column))
            || self.using_columns.contains(column)
    }
}

fn join_constraint(operator: &JoinOperator) -> Option<&JoinConstraint> {
    use JoinOperator as J;
    match operator {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::CrossJoin(c)
        | J::Semi(c)
        | J::LeftSemi(c)
        | J::RightSemi(c)
        | J::Anti(c)
        | J::LeftAnti(c)
        | J::RightAnti(c)
        | J::StraightJoin(c)
        | J::AsOf { constraint: c, .. } => Some(c),
        J::CrossApply | J::OuterApply | J::ArrayJoin | J::LeftArrayJoin | J::InnerArrayJoin => None,
    }
}

/// The columns a set of conditions mentions, and the constant comparisons among them.
#[derive(Default)]
struct Mentions {
    /// `(qualifier, column)` pairs, from any depth: a correlated sub-select that says
    /// `p.organization_id` constrains the outer `p`.
    qualified: Vec<(String, String)>,
    /// Bare column names at the top level only: inside a sub-select they belong to its tables.
    unqualified: HashSet<String>,
    literal_comparisons: Vec<String>,
    query_depth: usize,
}

impl Mentions {
    fn of<'e>(conditions: impl Iterator<Item = &'e Expr>) -> Self {
        let mut mentions = Self::default();
        for condition in conditions {
            let _ = condition.visit(&mut mentions);
        }
        mentions
    }

    fn qualifies(&self, table: &TableRef, column: &str) -> bool {
        self.qualified.iter().any(|(qualifier, mentioned)| {
            mentioned == column && (*qualifier == table.qualifier || *qualifier == table.name)
        })
    }
}

impl Visitor for Mentions {
    type Break = ();

    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.query_depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.query_depth = self.query_depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(column) if self.query_depth == 0 => {
                self.unqualified.insert(ident_key(column));
            }
            Expr::CompoundIdentifier(parts) => {
                if let [.., qualifier, column] = parts.as_slice() {
                    self.qualified
                        .push((ident_key(qualifier), ident_key(column)));
                }
            }
            Expr::BinaryOp { left, op, right }
                if is_comparison(op) && is_constant(left) && is_constant(right) =>
            {
                let text = expr.to_string();
                if !self.literal_comparisons.contains(&text) {
                    self.literal_comparisons.push(text);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn is_comparison(op: &BinaryOperator) -> bool {
    use BinaryOperator as B;
    matches!(op, B::Eq | B::NotEq | B::Lt | B::Gt | B::LtEq | B::GtEq)
}

/// A literal value, possibly parenthesised, signed or cast; `$n` is not a constant.
fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Value(value) => !matches!(value.value, Value::Placeholder(_)),
        Expr::TypedString(_) => true,
        Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. }
        | Expr::Cast { expr: inner, .. } => is_constant(inner),
        _ => false,
    }
}

/// Unquoted identifiers fold to lowercase in PostgreSQL; quoted ones are lowercased too, so
/// `"Users"` still matches facts about `users` (the lab has no mixed-case tables).
fn ident_key(ident: &Ident) -> String {
    ident.value.to_lowercase()
}

fn object_key(name: &ObjectName) -> Option<String> {
    name.0.last()?.as_ident().map(ident_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> TableFacts {
        TableFacts::new(["users", "posts", "audit_logs"], ["users", "posts"])
    }

    fn lints(sql: &str) -> Vec<Lint> {
        lint(sql, &facts())
    }

    fn tenant(table: &str, write: bool) -> Lint {
        Lint::MissingTenantFilter {
            table: table.into(),
            write,
        }
    }

    fn soft(table: &str) -> Lint {
        Lint::MissingSoftDeleteFilter {
            table: table.into(),
        }
    }

    #[test]
    fn filtered_read_is_clean() {
        assert_eq!(
            lints("select * from posts where organization_id = $1 and deleted_at is null"),
            vec![]
        );
    }

    #[test]
    fn unfiltered_read_gets_both_lints() {
        assert_eq!(
            lints("select * from posts where id = $1"),
            vec![tenant("posts", false), soft("posts")]
        );
    }

    #[test]
    fn join_checks_each_table_by_alias() {
        assert_eq!(
            lints(
                "select p.title, u.username from posts p join users u on u.id = p.author_id \
                 where p.organization_id = $1 and p.deleted_at is null and u.deleted_at is null"
            ),
            vec![tenant("users", false)]
        );
    }

    #[test]
    fn unqualified_column_does_not_cover_a_join() {
        assert_eq!(
            lints(
                "select * from posts p join users u on u.id = p.author_id \
                 where organization_id = $1 and p.deleted_at is null and u.deleted_at is null"
            ),
            vec![tenant("posts", false), tenant("users", false)]
        );
    }

    #[test]
    fn comma_joins_and_using_clauses() {
        assert_eq!(
            lints(
                "select * from posts, users where posts.organization_id = $1 \
                 and posts.deleted_at is null and users.deleted_at is null"
            ),
            vec![tenant("users", false)]
        );
        assert_eq!(
            lints(
                "select * from posts p join users u using (organization_id) \
                 where p.deleted_at is null and u.deleted_at is null"
            ),
            vec![],
            "USING (organization_id) mentions the column for both sides"
        );
    }

    #[test]
    fn tables_outside_the_facts_are_not_checked() {
        assert_eq!(lints("select * from organizations"), vec![]);
        assert_eq!(
            lints("select * from pgbench_accounts where aid = 1"),
            vec![]
        );
    }

    #[test]
    fn names_match_qualified_quoted_and_upper_case() {
        for sql in [
            "select * from lab.posts where id = $1",
            "select * from \"posts\" where id = $1",
            "SELECT * FROM POSTS WHERE ID = $1",
        ] {
            assert_eq!(
                lints(sql),
                vec![tenant("posts", false), soft("posts")],
                "{sql}"
            );
        }
        let qualified_facts = TableFacts::new(["lab.Posts"], Vec::<String>::new());
        assert!(qualified_facts.is_tenant("posts"));
    }

    #[test]
    fn sub_selects_and_ctes_are_checked() {
        assert_eq!(
            lints(
                "select * from organizations o where exists \
                 (select 1 from users u where u.organization_id = o.id)"
            ),
            vec![soft("users")]
        );
        assert_eq!(
            lints(
                "with recent as (select * from posts where deleted_at is null) \
                 select * from recent"
            ),
            vec![tenant("posts", false)]
        );
        assert_eq!(
            lints("select * from (select * from audit_logs) a"),
            vec![tenant("audit_logs", false)]
        );
    }

    #[test]
    fn writes_need_the_tenant() {
        assert_eq!(
            lints("update posts set title = $1 where id = $2"),
            vec![tenant("posts", true)]
        );
        assert_eq!(
            lints("update posts set title = $1 where id = $2 and organization_id = $3"),
            vec![]
        );
        assert_eq!(
            lints("delete from posts where id = $1"),
            vec![tenant("posts", true)]
        );
        assert_eq!(
            lints("delete from posts p where p.id = $1 and p.organization_id = $2"),
            vec![]
        );
        assert_eq!(
            lints("insert into posts (author_id, title) values ($1, $2)"),
            vec![tenant("posts", true)]
        );
        assert_eq!(
            lints("insert into posts (organization_id, author_id, title) values ($1,$2,$3)"),
            vec![]
        );
        assert_eq!(
            lints("insert into organizations (name) values ($1)"),
            vec![]
        );
    }

    #[test]
    fn update_from_checks_the_joined_table() {
        assert_eq!(
            lints(
                "update posts set title = u.username from users u \
                 where u.id = posts.author_id and posts.organization_id = $1"
            ),
            vec![tenant("users", false)]
        );
    }

    #[test]
    fn pasted_input_is_flagged() {
        let found = lints("select * from users where email = '' or '1'='1'");
        assert!(found.contains(&Lint::LiteralComparison {
            text: "'1' = '1'".into()
        }));
        assert!(found.contains(&tenant("users", false)));
        assert!(found.contains(&soft("users")));
        assert_eq!(
            lints("select * from organizations where 1 = 1"),
            vec![Lint::LiteralComparison {
                text: "1 = 1".into()
            }]
        );
        assert_eq!(lints("select * from organizations where id = $1"), vec![]);
        assert_eq!(lints("select 1 = 1"), vec![], "only conditions are checked");
    }

    #[test]
    fn any_mention_of_deleted_at_is_deliberate() {
        assert_eq!(
            lints("select * from users where deleted_at is not null and organization_id = 1"),
            vec![]
        );
        assert_eq!(
            lints(
                "select * from users where organization_id = $1 and deleted_at > now() - interval '30 days'"
            ),
            vec![]
        );
    }

    #[test]
    fn unparsable_sql_is_not_linted() {
        assert_eq!(lints("select * from posts where"), vec![]);
        assert_eq!(lints("FROBNICATE posts"), vec![]);
    }

    #[test]
    fn messages_name_the_table_and_the_fix() {
        let message = tenant("posts", false).message();
        assert!(message.starts_with("posts is read without an organization_id condition"));
        assert!(message.contains("`organization_id = $1`"));
        assert!(soft("users").message().contains("deleted_at IS NULL"));
        assert!(tenant("posts", true).message().contains("written"));
    }
}
