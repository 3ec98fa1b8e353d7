//! Lints one piece of SQL against the schema's safety rules: tenant tables need an
//! `organization_id` condition, soft-delete tables need a `deleted_at` condition when read, and
//! comparing two constants is the mark of SQL built by pasting input.
//!
//! Which tables are tenant or soft-delete tables is not known here: it comes from the live
//! catalog as [`TableFacts`]. What each rule promises, simple enough to explain on a slide:
//!
//! - **A filter counts when the WHERE as a whole implies it.** A table is filtered on a column
//!   when a condition that must hold for every returned row mentions it: one side of an AND is
//!   enough, an OR needs it on both branches (`organization_id = 1 or title = 'x'` returns
//!   other tenants' rows through the second branch). WHERE, HAVING and each JOIN's ON count
//!   as conditions that must hold. The column must be qualified by the table's alias or name,
//!   or unqualified when the table is alone in its FROM. Whether the condition is *right*
//!   (`organization_id = $1` rather than `organization_id = organization_id`) is not judged.
//! - **A filter applied outside a CTE or a sub-select in FROM counts**, when the inner SELECT
//!   passes the column out (`*`, `alias.*` or the column by name): `with p as (select * from
//!   posts) select * from p where organization_id = $1` is filtered. A CTE whose body is not a
//!   plain SELECT (a UNION, a recursive CTE) is checked inside.
//! - **A read by primary key is a note, not a warning.** An ORM loading a relationship reads
//!   the related rows by key (`users.id = $1`, `users.id IN (…)`, `= ANY($1)`): those ids came
//!   from rows already filtered, which the lab cannot see from one statement, so it says
//!   "note:" and asks the reader to check where the ids came from (an id from the request
//!   is exactly the leak lesson 5 teaches). A table joined by its key to a parent that has
//!   the tenant filter (`join users u on u.id = p.author_id where p.organization_id = $1`) is
//!   the tenant's through its parent: no tenancy warning; its soft-delete check is a note.
//!   The key is the `id` column, the lab's convention. Writes by key stay warnings.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Delete, Expr, FromTable, Ident, InTarget, Insert, JoinConstraint, JoinOperator,
    ObjectName, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement,
    TableFactor, TableObject, TableWithJoins, Update, UpdateTableFromKind, Value, Visit, Visitor,
};

const TENANT_COLUMN: &str = "organization_id";
const SOFT_DELETE_COLUMN: &str = "deleted_at";
/// The primary key column of the lab's tables.
const KEY_COLUMN: &str = "id";

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
    /// A tenant table read (`write: false`) or changed (`write: true`) without `organization_id`;
    /// `by_key`: a read by primary key, reported as a note.
    MissingTenantFilter {
        table: String,
        write: bool,
        by_key: bool,
    },
    /// A soft-delete table read without any condition on `deleted_at`; `by_key`: a read by
    /// primary key, reported as a note.
    MissingSoftDeleteFilter { table: String, by_key: bool },
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
                by_key: false,
            } => format!(
                "{table} is read without an organization_id condition: every tenant table needs \
                 `organization_id = $1`, or one tenant can see another's rows"
            ),
            Lint::MissingTenantFilter {
                table,
                write: false,
                by_key: true,
            } => format!(
                "note: {table} is read by id without organization_id: safe when the ids come \
                 from rows already filtered by tenant (an ORM loading a relationship); ids \
                 from the request need `organization_id = $1` too"
            ),
            Lint::MissingTenantFilter {
                table, write: true, ..
            } => format!(
                "{table} is written without organization_id: an UPDATE or DELETE needs \
                 `organization_id = $1` in its WHERE and an INSERT needs an organization_id \
                 value, or one tenant can change another's rows"
            ),
            Lint::MissingSoftDeleteFilter {
                table,
                by_key: false,
            } => format!(
                "{table} is read without a deleted_at condition: add `{table}.deleted_at IS NULL`, \
                 or rows the user deleted come back"
            ),
            Lint::MissingSoftDeleteFilter {
                table,
                by_key: true,
            } => format!(
                "note: {table} is read by id without deleted_at: a deleted row still loads \
                 (an ORM shows a deleted {table} row of a live parent); add \
                 `{table}.deleted_at IS NULL` where deleted rows must stay hidden"
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
            ctes: HashMap::new(),
            derived: HashMap::new(),
            passed_on: HashMap::new(),
            lints: Vec::new(),
        };
        let _ = statement.visit(&mut linter);
        lints.extend(linter.lints);
    }
    lints
}

/// A filter missing inside a CTE or sub-select that its reader can still apply: the table
/// inside and the column the reader must filter on.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Passed {
    table: String,
    column: &'static str,
}

/// A filter missing on a table of one SELECT.
struct Missing {
    table: String,
    qualifier: String,
    column: &'static str,
    by_key: bool,
}

/// Walks one statement; sqlparser's visitor calls `pre_visit_select` for every SELECT
/// anywhere (CTEs, sub-selects, INSERT … SELECT), so each is checked in its own scope.
/// A query is visited before its CTEs and sub-selects, so what they pass to it is worked out
/// first (the addresses identify the AST nodes during this one walk).
struct Linter<'f> {
    facts: &'f TableFacts,
    /// Names defined by `WITH`, with the filters each leaves to its readers.
    ctes: HashMap<String, Vec<Passed>>,
    /// Sub-selects in FROM, with the filters each leaves to its reader.
    derived: HashMap<*const Query, Vec<Passed>>,
    /// SELECTs whose missing filters their reader applies or is blamed for.
    passed_on: HashMap<*const Select, Vec<Passed>>,
    lints: Vec<Lint>,
}

impl Visitor for Linter<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = ident_key(&cte.alias.name);
                // Known before its body is read: a recursive CTE names itself.
                self.ctes.insert(name.clone(), Vec::new());
                let passed = self.pass_through(&cte.query);
                self.ctes.insert(name, passed);
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        let passed = self
            .passed_on
            .get(&(select as *const Select))
            .cloned()
            .unwrap_or_default();
        let (missing, _) = self.missing(select);
        for miss in missing {
            let passed_out = passed
                .iter()
                .any(|p| p.table == miss.table && p.column == miss.column);
            if !passed_out {
                self.report_missing(miss);
            }
        }
        let scope = self.scope_of(select);
        let conditions = select.selection.iter().chain(&select.having);
        self.report_literal_comparisons(Mentions::of(
            conditions.chain(scope.join_conditions.iter().copied()),
        ));
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
    /// The filters `query` (a CTE body or a sub-select in FROM) leaves to its reader: those
    /// missing in its SELECT whose column it passes out.
    fn pass_through(&mut self, query: &Query) -> Vec<Passed> {
        let key = query as *const Query;
        if let Some(passed) = self.derived.get(&key) {
            return passed.clone();
        }
        let passed = match query.body.as_ref() {
            SetExpr::Select(select) if query.with.is_none() => {
                let (missing, scope_items) = self.missing(select);
                let passed: Vec<Passed> = missing
                    .into_iter()
                    .filter(|miss| passes_out(select, miss, scope_items))
                    .map(|miss| Passed {
                        table: miss.table,
                        column: miss.column,
                    })
                    .collect();
                if !passed.is_empty() {
                    self.passed_on
                        .insert(select.as_ref() as *const Select, passed.clone());
                }
                passed
            }
            _ => Vec::new(),
        };
        self.derived.insert(key, passed.clone());
        passed
    }

    /// The tables of `select`'s FROM, with what its CTEs and sub-selects pass to it.
    fn scope_of<'q>(&mut self, select: &'q Select) -> Scope<'q> {
        let mut sub_selects = Vec::new();
        for from in &select.from {
            derived_in(&from.relation, &mut sub_selects);
            for join in &from.joins {
                derived_in(&join.relation, &mut sub_selects);
            }
        }
        for query in sub_selects {
            self.pass_through(query);
        }
        let mut scope = Scope::default();
        let sources = Sources {
            ctes: &self.ctes,
            derived: &self.derived,
        };
        for from in &select.from {
            scope.add_from(from, &sources);
        }
        scope
    }

    /// The filters missing on the tables `select` reads, and how many FROM items it has.
    fn missing(&mut self, select: &Select) -> (Vec<Missing>, usize) {
        let scope = self.scope_of(select);
        let conditions: Vec<&Expr> = select
            .selection
            .iter()
            .chain(&select.having)
            .chain(scope.join_conditions.iter().copied())
            .collect();
        let mut missing = Vec::new();
        for table in &scope.tables {
            for column in self.obligations(table) {
                if scope.filters(&conditions, table, column)
                    || (column == TENANT_COLUMN
                        && self.tenant_through_parent(&scope, &conditions, table, 0))
                {
                    continue;
                }
                // Joined by key to a parent: the parent's tenant filter decides (above), a
                // deleted related row is a note.
                let by_key = scope.looked_up_by_key(&conditions, table)
                    || (column == SOFT_DELETE_COLUMN
                        && scope.parents_by_key(&conditions, table).next().is_some());
                missing.push(Missing {
                    table: table.name.clone(),
                    qualifier: table.qualifier.clone(),
                    column,
                    by_key,
                });
            }
        }
        (missing, scope.items)
    }

    /// The columns `table` must be filtered on: from the facts, or what a CTE or sub-select
    /// passed on.
    fn obligations(&self, table: &TableRef) -> Vec<&'static str> {
        if let Some(passed) = &table.passed {
            return passed.clone();
        }
        let mut columns = Vec::new();
        if self.facts.tenant.contains(&table.name) {
            columns.push(TENANT_COLUMN);
        }
        if self.facts.soft_delete.contains(&table.name) {
            columns.push(SOFT_DELETE_COLUMN);
        }
        columns
    }

    /// `table` is joined by its key to a tenant table that is filtered by tenant (itself, or
    /// through its own parent): its rows are the tenant's.
    fn tenant_through_parent(
        &self,
        scope: &Scope<'_>,
        conditions: &[&Expr],
        table: &TableRef,
        depth: usize,
    ) -> bool {
        depth < scope.tables.len()
            && scope.parents_by_key(conditions, table).any(|parent| {
                self.obligations(parent).contains(&TENANT_COLUMN)
                    && (scope.filters(conditions, parent, TENANT_COLUMN)
                        || self.tenant_through_parent(scope, conditions, parent, depth + 1))
            })
    }

    fn report_missing(&mut self, miss: Missing) {
        let lint = if miss.column == TENANT_COLUMN {
            Lint::MissingTenantFilter {
                table: miss.table,
                write: false,
                by_key: miss.by_key,
            }
        } else {
            Lint::MissingSoftDeleteFilter {
                table: miss.table,
                by_key: miss.by_key,
            }
        };
        self.report_table(lint);
    }

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
            self.report_written(&table);
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
        let sources = Sources {
            ctes: &self.ctes,
            derived: &self.derived,
        };
        let mut target_scope = Scope::default();
        for target in targets {
            target_scope.add_factor(&target.relation, &sources);
        }
        let mut read_scope = Scope::default();
        // Joins hanging off the target (MySQL's multi-table form) are read, not written.
        for join in targets.iter().flat_map(|target| &target.joins) {
            read_scope.add_join(&join.relation, &join.join_operator, &sources);
        }
        for from in read {
            read_scope.add_from(from, &sources);
        }
        let conditions: Vec<&Expr> = selection
            .iter()
            .chain(read_scope.join_conditions.iter().copied())
            .collect();
        let implied = |table: &TableRef, unqualified: bool| {
            conditions.iter().any(|condition| {
                implied(condition, &|leaf| {
                    let mentions = Mentions::of(std::iter::once(leaf));
                    (unqualified && mentions.unqualified.contains(TENANT_COLUMN))
                        || mentions.qualifies(table, TENANT_COLUMN)
                })
            })
        };
        let mut written = Vec::new();
        let mut read_unfiltered = Vec::new();
        for table in &target_scope.tables {
            if self.facts.tenant.contains(&table.name) && !implied(table, true) {
                written.push(table.name.clone());
            }
        }
        for table in &read_scope.tables {
            if self.facts.tenant.contains(&table.name)
                && !implied(table, false)
                && !read_scope.using_columns.contains(TENANT_COLUMN)
            {
                read_unfiltered.push(table.name.clone());
            }
        }
        let mentions = Mentions::of(conditions.iter().copied());
        for table in written {
            self.report_written(&table);
        }
        for table in read_unfiltered {
            self.report_table(Lint::MissingTenantFilter {
                table,
                write: false,
                by_key: false,
            });
        }
        self.report_literal_comparisons(mentions);
    }

    fn report_written(&mut self, table: &str) {
        self.report_table(Lint::MissingTenantFilter {
            table: table.to_owned(),
            write: true,
            by_key: false,
        });
    }

    /// Reports a lint about a table once per rule: a warning replaces a note about the same
    /// table, a second report of either is dropped.
    fn report_table(&mut self, lint: Lint) {
        let about = |lint: &Lint| match lint {
            Lint::MissingTenantFilter { table, by_key, .. } => Some((0, table.clone(), *by_key)),
            Lint::MissingSoftDeleteFilter { table, by_key } => Some((1, table.clone(), *by_key)),
            Lint::LiteralComparison { .. } => None,
        };
        let Some((rule, table, by_key)) = about(&lint) else {
            return self.report(lint);
        };
        let earlier = self
            .lints
            .iter()
            .position(|known| about(known).is_some_and(|(r, t, _)| r == rule && t == table));
        match earlier {
            None => self.lints.push(lint),
            Some(index) => {
                let earlier_is_note = about(&self.lints[index]).is_some_and(|(_, _, k)| k);
                if earlier_is_note && !by_key {
                    self.lints[index] = lint;
                }
            }
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

/// Whether `condition` holds only where `leaf` holds for one of its conjuncts: an AND needs
/// it on one side, an OR on both.
fn implied(condition: &Expr, leaf: &dyn Fn(&Expr) -> bool) -> bool {
    match condition {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => implied(left, leaf) || implied(right, leaf),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Or,
            right,
        } => implied(left, leaf) && implied(right, leaf),
        Expr::Nested(inner) => implied(inner, leaf),
        _ => leaf(condition),
    }
}

/// Sub-selects in FROM, nested joins included.
fn derived_in<'q>(factor: &'q TableFactor, found: &mut Vec<&'q Query>) {
    match factor {
        TableFactor::Derived { subquery, .. } => found.push(subquery),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => {
            derived_in(&table_with_joins.relation, found);
            for join in &table_with_joins.joins {
                derived_in(&join.relation, found);
            }
        }
        _ => {}
    }
}

/// Whether `select` passes `miss`'s column of its table out to its reader.
fn passes_out(select: &Select, miss: &Missing, scope_items: usize) -> bool {
    let is_column =
        |expr: &Expr| refers_to(expr, &miss.qualifier, &miss.table, miss.column, scope_items);
    select.projection.iter().any(|item| match item {
        SelectItem::Wildcard(_) => true,
        SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
            object_key(name).is_some_and(|q| q == miss.qualifier || q == miss.table)
        }
        SelectItem::UnnamedExpr(expr) => is_column(expr),
        SelectItem::ExprWithAlias { expr, alias } => {
            ident_key(alias) == miss.column && is_column(expr)
        }
        _ => false,
    })
}

/// Whether `expr` is `column` of the table known as `qualifier` (or `name`), unqualified
/// only when the table is alone in its FROM (`scope_items` is 1).
fn refers_to(expr: &Expr, qualifier: &str, name: &str, column: &str, scope_items: usize) -> bool {
    match expr {
        Expr::Identifier(ident) => scope_items == 1 && ident_key(ident) == column,
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [.., q, c] => {
                ident_key(c) == column && (ident_key(q) == qualifier || ident_key(q) == name)
            }
            _ => false,
        },
        Expr::Nested(inner) => refers_to(inner, qualifier, name, column, scope_items),
        _ => false,
    }
}

/// A value given to a query: a literal or a `$n` placeholder.
fn is_value(expr: &Expr) -> bool {
    is_constant(expr)
        || matches!(expr, Expr::Value(value) if matches!(value.value, Value::Placeholder(_)))
}

/// What a FROM clause can read besides tables: CTEs and sub-selects, with what they pass on.
struct Sources<'l> {
    ctes: &'l HashMap<String, Vec<Passed>>,
    derived: &'l HashMap<*const Query, Vec<Passed>>,
}

/// A table read by one FROM clause.
struct TableRef {
    /// Lowercased, unqualified table name: what [`TableFacts`] is keyed by. For a table read
    /// through a CTE or sub-select, the table inside it.
    name: String,
    /// The name its columns are qualified with: the alias when there is one.
    qualifier: String,
    /// Read through a CTE or sub-select: the columns it left to this reader to filter.
    passed: Option<Vec<&'static str>>,
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
    fn add_from(&mut self, from: &'q TableWithJoins, sources: &Sources<'_>) {
        self.add_factor(&from.relation, sources);
        for join in &from.joins {
            self.add_join(&join.relation, &join.join_operator, sources);
        }
    }

    fn add_join(
        &mut self,
        relation: &'q TableFactor,
        operator: &'q JoinOperator,
        sources: &Sources<'_>,
    ) {
        self.add_factor(relation, sources);
        match join_constraint(operator) {
            Some(JoinConstraint::On(condition)) => self.join_conditions.push(condition),
            Some(JoinConstraint::Using(columns) | JoinConstraint::UsingAlias(columns, _)) => {
                self.using_columns
                    .extend(columns.iter().filter_map(object_key));
            }
            _ => {}
        }
    }

    fn add_factor(&mut self, factor: &'q TableFactor, sources: &Sources<'_>) {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                self.items += 1;
                let Some(table) = object_key(name) else {
                    return;
                };
                let qualifier = alias
                    .as_ref()
                    .map_or_else(|| table.clone(), |alias| ident_key(&alias.name));
                match sources.ctes.get(&table) {
                    Some(passed) if name.0.len() == 1 => self.add_passed(passed, &qualifier),
                    _ => self.tables.push(TableRef {
                        name: table,
                        qualifier,
                        passed: None,
                    }),
                }
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                self.items += 1;
                let qualifier = alias
                    .as_ref()
                    .map(|alias| ident_key(&alias.name))
                    .unwrap_or_default();
                if let Some(passed) = sources.derived.get(&(subquery.as_ref() as *const Query)) {
                    self.add_passed(passed, &qualifier);
                }
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.add_from(table_with_joins, sources),
            _ => self.items += 1,
        }
    }

    /// The tables a CTE or sub-select read as `qualifier` left unfiltered, one per table.
    fn add_passed(&mut self, passed: &[Passed], qualifier: &str) {
        for p in passed {
            match self
                .tables
                .iter_mut()
                .find(|t| t.qualifier == qualifier && t.name == p.table)
            {
                Some(known) => known.passed.get_or_insert_default().push(p.column),
                None => self.tables.push(TableRef {
                    name: p.table.clone(),
                    qualifier: qualifier.to_owned(),
                    passed: Some(vec![p.column]),
                }),
            }
        }
    }

    fn mentions(&self, mentions: &Mentions, table: &TableRef, column: &str) -> bool {
        mentions.qualifies(table, column)
            || (self.items == 1 && mentions.unqualified.contains(column))
    }

    /// Whether the conditions, each as a whole, imply a condition on `table`'s `column`.
    fn filters(&self, conditions: &[&Expr], table: &TableRef, column: &str) -> bool {
        self.using_columns.contains(column)
            || conditions.iter().any(|condition| {
                implied(condition, &|leaf| {
                    self.mentions(&Mentions::of(std::iter::once(leaf)), table, column)
                })
            })
    }

    fn is_key(&self, expr: &Expr, table: &TableRef) -> bool {
        refers_to(expr, &table.qualifier, &table.name, KEY_COLUMN, self.items)
    }

    /// The conditions pick `table`'s rows by key: `id = $1`, `id IN (1, 2)`, `id = ANY($1)`.
    fn looked_up_by_key(&self, conditions: &[&Expr], table: &TableRef) -> bool {
        conditions.iter().any(|condition| {
            implied(condition, &|leaf| match leaf {
                Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Eq,
                    right,
                } => {
                    (self.is_key(left, table) && is_value(right))
                        || (self.is_key(right, table) && is_value(left))
                }
                Expr::In {
                    expr,
                    target: InTarget::List(list),
                    negated: false,
                    ..
                } => self.is_key(expr, table) && list.iter().all(is_value),
                Expr::AnyOp {
                    left,
                    compare_op: BinaryOperator::Eq,
                    ..
                } => self.is_key(left, table),
                _ => false,
            })
        })
    }

    /// The other tables `table` is joined to by its key (`u.id = p.author_id`).
    fn parents_by_key<'s>(
        &'s self,
        conditions: &'s [&Expr],
        table: &'s TableRef,
    ) -> impl Iterator<Item = &'s TableRef> {
        self.tables
            .iter()
            .filter(move |parent| !std::ptr::eq(*parent, table))
            .filter(move |parent| {
                let of_parent = |expr: &Expr| match expr {
                    Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                        [.., q, _] => {
                            ident_key(q) == parent.qualifier || ident_key(q) == parent.name
                        }
                        _ => false,
                    },
                    _ => false,
                };
                conditions.iter().any(|condition| {
                    implied(condition, &|leaf| match leaf {
                        Expr::BinaryOp {
                            left,
                            op: BinaryOperator::Eq,
                            right,
                        } => {
                            (self.is_key(left, table) && of_parent(right))
                                || (self.is_key(right, table) && of_parent(left))
                        }
                        _ => false,
                    })
                })
            })
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
            by_key: false,
        }
    }

    fn soft(table: &str) -> Lint {
        Lint::MissingSoftDeleteFilter {
            table: table.into(),
            by_key: false,
        }
    }

    fn tenant_by_key(table: &str) -> Lint {
        Lint::MissingTenantFilter {
            table: table.into(),
            write: false,
            by_key: true,
        }
    }

    fn soft_by_key(table: &str) -> Lint {
        Lint::MissingSoftDeleteFilter {
            table: table.into(),
            by_key: true,
        }
    }

    #[test]
    fn a_filter_on_one_branch_of_an_or_does_not_count() {
        // AND binds tighter: (organization_id = 1) OR (title = 'x' AND deleted_at IS NULL)
        // returns other tenants' rows and deleted ones through the second branch.
        assert_eq!(
            lints(
                "select * from posts where organization_id = 1 or title = 'x' and deleted_at is null"
            ),
            vec![tenant("posts", false), soft("posts")]
        );
        assert_eq!(
            lints(
                "select * from posts where organization_id = 1 \
                 and (deleted_at is null or title = 'x')"
            ),
            vec![soft("posts")]
        );
        assert_eq!(
            lints(
                "select * from posts where (organization_id = 1 and deleted_at is null) \
                 or (organization_id = 1 and deleted_at is null and title = 'x')"
            ),
            vec![],
            "a filter on every branch holds for the whole WHERE"
        );
        assert_eq!(
            lints("delete from posts where organization_id = $1 or id = $2"),
            vec![tenant("posts", true)]
        );
    }

    #[test]
    fn a_filter_applied_outside_a_cte_or_sub_select_counts() {
        assert_eq!(
            lints(
                "with p as (select * from posts) \
                 select * from p where organization_id = $1 and deleted_at is null"
            ),
            vec![]
        );
        assert_eq!(
            lints(
                "with p as (select id, title, organization_id from posts where deleted_at is null) \
                 select x.title from p x where x.organization_id = $1"
            ),
            vec![]
        );
        assert_eq!(
            lints(
                "select * from (select * from posts) recent \
                 where recent.organization_id = $1 and recent.deleted_at is null"
            ),
            vec![]
        );
        assert_eq!(
            lints("with p as (select * from posts) select * from p where deleted_at is null"),
            vec![tenant("posts", false)],
            "the filter is missing outside too"
        );
        assert_eq!(
            lints(
                "with p as (select id, title from posts) \
                 select * from p where id = $1"
            ),
            vec![tenant("posts", false), soft("posts")],
            "the CTE drops the columns, so nothing outside can filter on them"
        );
    }

    #[test]
    fn relationship_loads_by_primary_key_are_notes() {
        // SQLAlchemy's lazy load and selectinload, as psycopg2 and psycopg 3 send them.
        assert_eq!(
            lints(
                "SELECT users.id AS users_id, users.username AS users_username \
                 FROM users WHERE users.id = %(pk_1)s"
                    .replace("%(pk_1)s", "$1")
                    .as_str()
            ),
            vec![tenant_by_key("users"), soft_by_key("users")]
        );
        assert_eq!(
            lints(
                "SELECT users.id AS users_id, users.username AS users_username \
                 FROM users WHERE users.id IN (1, 2, 3)"
            ),
            vec![tenant_by_key("users"), soft_by_key("users")]
        );
        assert_eq!(
            lints("select * from users where id = any($1)"),
            vec![tenant_by_key("users"), soft_by_key("users")]
        );
        // The eager JOIN: users reached by key from posts, which carries the tenant filter.
        assert_eq!(
            lints(
                "SELECT posts.id, posts.title, users_1.id, users_1.username FROM posts \
                 LEFT OUTER JOIN users AS users_1 ON users_1.id = posts.author_id \
                 WHERE posts.organization_id = 1 AND posts.deleted_at IS NULL"
            ),
            vec![soft_by_key("users")]
        );
        // Reached from a parent without the filter: the parent is the leak, and the child too.
        assert_eq!(
            lints(
                "select p.title, u.username from posts p join users u on u.id = p.author_id \
                 where p.deleted_at is null and u.deleted_at is null"
            ),
            vec![tenant("posts", false), tenant("users", false)]
        );
        // A key lookup that also filters on something else is still a lookup by key.
        assert_eq!(
            lints("select * from posts where id in (2, 3, 4, 6) and deleted_at is null"),
            vec![tenant_by_key("posts")]
        );
        // Writes by key stay warnings: the id may come from the request.
        assert_eq!(
            lints("update posts set title = $1 where id = $2"),
            vec![tenant("posts", true)]
        );
        // Not a key lookup: a key on one branch only, or another column.
        assert_eq!(
            lints("select * from users where id = $1 or username = $2"),
            vec![tenant("users", false), soft("users")]
        );
        assert!(tenant_by_key("users").message().starts_with("note:"));
        assert!(soft_by_key("users").message().starts_with("note:"));
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
            lints("select * from posts where title = $1"),
            vec![tenant("posts", false), soft("posts")]
        );
    }

    #[test]
    fn join_checks_each_table_by_alias() {
        assert_eq!(
            lints(
                "select p.title, a.action from posts p join audit_logs a on a.post_id = p.id \
                 where p.organization_id = $1 and p.deleted_at is null"
            ),
            vec![tenant("audit_logs", false)]
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
            "select * from lab.posts where title = $1",
            "select * from \"posts\" where title = $1",
            "SELECT * FROM POSTS WHERE TITLE = $1",
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
