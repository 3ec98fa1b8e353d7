//! Reading `EXPLAIN (FORMAT JSON)` output into the plan tree. Keys are read by hand rather than
//! through a derived struct so that an error names the node and the key it tripped on, and so
//! that keys added by later PostgreSQL versions are kept rather than rejected.

use serde_json::{Map, Value};

use super::metrics::Metrics;
use super::node::{Actual, Buffers, Node, NodeId, Relationship, Removed};
use super::{Jit, Plan, Trigger};

/// Why a text could not be read as an EXPLAIN plan.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(
        "the EXPLAIN output is not JSON ({source}); ask for it with EXPLAIN (FORMAT JSON, ...)"
    )]
    NotJson {
        #[source]
        source: serde_json::Error,
    },
    #[error("the EXPLAIN output is an empty list: there is no plan in it")]
    Empty,
    #[error(
        "the EXPLAIN output should be a list holding one object with a \"Plan\" key, found {found}"
    )]
    NotAPlan { found: String },
    #[error(
        "plan node {path} has no \"{key}\"; is this EXPLAIN output from PostgreSQL 13 or later?"
    )]
    Missing { path: String, key: &'static str },
    #[error("plan node {path}: \"{key}\" should be {expected}, found {found}")]
    WrongType {
        path: String,
        key: String,
        expected: &'static str,
        found: String,
    },
    #[error("the plan is nested more than {limit} levels deep; refusing to read it")]
    TooDeep { limit: usize },
}

/// Real plans are a few dozen levels at most; the limit keeps hostile input from exhausting
/// the stack.
const MAX_DEPTH: usize = 256;

/// Reads the text of `EXPLAIN (FORMAT JSON)` (a one-element list) or the bare object in it.
pub fn parse(text: &str) -> Result<Plan, ParseError> {
    let value: Value =
        serde_json::from_str(text).map_err(|source| ParseError::NotJson { source })?;
    from_value(&value)
}

/// The same as [`parse`], for JSON already decoded (e.g. by the database driver).
pub fn from_value(value: &Value) -> Result<Plan, ParseError> {
    let top = match value {
        Value::Array(items) => items.first().ok_or(ParseError::Empty)?,
        other => other,
    };
    let Some(top) = top.as_object() else {
        return Err(ParseError::NotAPlan {
            found: describe(top),
        });
    };
    let Some(root) = top.get("Plan") else {
        let keys: Vec<&str> = top.keys().map(String::as_str).take(5).collect();
        return Err(ParseError::NotAPlan {
            found: format!("an object with keys {keys:?}"),
        });
    };

    let mut nodes = Vec::new();
    read_node(root, None, 0, "Plan".to_owned(), &mut nodes)?;
    let analyzed = nodes.iter().any(|node| node.actual.is_some());

    let path = "(top level)";
    let execution_ms = number(top, "Execution Time", path)?.or(number(top, "Total Runtime", path)?);
    let plan = Plan {
        analyzed,
        planning_ms: number(top, "Planning Time", path)?,
        execution_ms,
        triggers: read_triggers(top)?,
        jit: read_jit(top)?,
        settings: object(top, "Settings", path)?.cloned().unwrap_or_default(),
        planning_buffers: match object(top, "Planning", path)? {
            Some(planning) => read_buffers(planning, "Planning")?,
            None => None,
        },
        props: top
            .iter()
            .filter(|(key, _)| key.as_str() != "Plan")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        nodes,
    };
    Ok(super::metrics::derive(plan))
}

fn read_node(
    value: &Value,
    parent: Option<NodeId>,
    depth: usize,
    path: String,
    nodes: &mut Vec<Node>,
) -> Result<NodeId, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep { limit: MAX_DEPTH });
    }
    let Some(map) = value.as_object() else {
        return Err(wrong_type(&path, "(node)", "an object", value));
    };
    let node_type = text(map, "Node Type", &path)?.ok_or_else(|| ParseError::Missing {
        path: path.clone(),
        key: "Node Type",
    })?;
    // From here on errors say which kind of node it was.
    let path = format!("{path} ({node_type})");
    let id = NodeId(nodes.len());
    let actual = match number(map, "Actual Loops", &path)? {
        Some(loops) => Some(Actual {
            startup_ms: number(map, "Actual Startup Time", &path)?,
            total_ms: number(map, "Actual Total Time", &path)?,
            rows: number(map, "Actual Rows", &path)?.unwrap_or(0.0),
            loops,
        }),
        None => None,
    };
    let node = Node {
        id,
        parent,
        children: Vec::new(),
        depth,
        relationship: Relationship::from_printed(text(map, "Parent Relationship", &path)?),
        subplan_name: owned(map, "Subplan Name", &path)?,
        relation: owned(map, "Relation Name", &path)?,
        schema: owned(map, "Schema", &path)?,
        alias: owned(map, "Alias", &path)?,
        index_name: owned(map, "Index Name", &path)?,
        cte_name: owned(map, "CTE Name", &path)?,
        function_name: owned(map, "Function Name", &path)?,
        join_type: owned(map, "Join Type", &path)?,
        operation: owned(map, "Operation", &path)?,
        strategy: owned(map, "Strategy", &path)?,
        partial_mode: owned(map, "Partial Mode", &path)?,
        scan_direction: owned(map, "Scan Direction", &path)?,
        parallel_aware: map.get("Parallel Aware").and_then(Value::as_bool) == Some(true),
        startup_cost: number(map, "Startup Cost", &path)?.unwrap_or(0.0),
        total_cost: number(map, "Total Cost", &path)?.unwrap_or(0.0),
        plan_rows: number(map, "Plan Rows", &path)?.unwrap_or(0.0),
        plan_width: number(map, "Plan Width", &path)?.unwrap_or(0.0),
        actual,
        removed: Removed {
            by_filter: number(map, "Rows Removed by Filter", &path)?,
            by_join_filter: number(map, "Rows Removed by Join Filter", &path)?,
            by_index_recheck: number(map, "Rows Removed by Index Recheck", &path)?,
        },
        buffers: read_buffers(map, &path)?,
        workers_planned: count(map, "Workers Planned", &path)?,
        workers_launched: count(map, "Workers Launched", &path)?,
        props: map
            .iter()
            .filter(|(key, _)| key.as_str() != "Plans")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        node_type: node_type.to_owned(),
        metrics: Metrics::default(),
    };
    nodes.push(node);

    let children = match map.get("Plans") {
        None => &[][..],
        Some(Value::Array(children)) => children.as_slice(),
        Some(other) => return Err(wrong_type(&path, "Plans", "a list", other)),
    };
    let mut ids = Vec::with_capacity(children.len());
    for (index, child) in children.iter().enumerate() {
        let child_path = format!("{path} › Plans[{index}]");
        ids.push(read_node(child, Some(id), depth + 1, child_path, nodes)?);
    }
    nodes[id.0].children = ids;
    Ok(id)
}

/// Buffers of a node (or of planning); `None` when no buffer key is present (no BUFFERS).
fn read_buffers(map: &Map<String, Value>, path: &str) -> Result<Option<Buffers>, ParseError> {
    let mut buffers = Buffers::default();
    let mut seen = false;
    for (slot, key) in buffers.counters_mut().into_iter().zip(Buffers::KEYS) {
        if let Some(value) = count(map, key, path)? {
            *slot = value;
            seen = true;
        }
    }
    Ok(seen.then_some(buffers))
}

fn read_triggers(top: &Map<String, Value>) -> Result<Vec<Trigger>, ParseError> {
    let Some(list) = top.get("Triggers") else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(wrong_type("(top level)", "Triggers", "a list", list));
    };
    let mut triggers = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        let path = format!("Triggers[{index}]");
        let Some(map) = item.as_object() else {
            return Err(wrong_type(&path, "(trigger)", "an object", item));
        };
        triggers.push(Trigger {
            name: owned(map, "Trigger Name", &path)?.unwrap_or_default(),
            constraint: owned(map, "Constraint Name", &path)?,
            relation: owned(map, "Relation", &path)?,
            time_ms: number(map, "Time", &path)?,
            calls: number(map, "Calls", &path)?.unwrap_or(0.0),
            before: false,
        });
    }
    Ok(triggers)
}

fn read_jit(top: &Map<String, Value>) -> Result<Option<Jit>, ParseError> {
    let Some(jit) = object(top, "JIT", "(top level)")? else {
        return Ok(None);
    };
    let path = "JIT";
    let timing = object(jit, "Timing", path)?;
    let phase = |key: &str| -> Result<Option<f64>, ParseError> {
        match timing {
            // PostgreSQL 17 splits generation into deform and expression times but keeps its
            // total in `Generation` (an object then); take the number or the object's Total.
            Some(timing) => match timing.get(key) {
                Some(Value::Object(inner)) => number(inner, "Total", path),
                _ => number(timing, key, path),
            },
            None => Ok(None),
        }
    };
    Ok(Some(Jit {
        functions: number(jit, "Functions", path)?.unwrap_or(0.0),
        generation_ms: phase("Generation")?,
        inlining_ms: phase("Inlining")?,
        optimization_ms: phase("Optimization")?,
        emission_ms: phase("Emission")?,
        total_ms: phase("Total")?,
    }))
}

fn number(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<f64>, ParseError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| wrong_type(path, key, "a number", value)),
    }
}

fn count(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u64>, ParseError> {
    match number(map, key, path)? {
        None => Ok(None),
        Some(value) if value >= 0.0 && value.fract() == 0.0 => Ok(Some(value as u64)),
        Some(_) => Err(wrong_type(
            path,
            key,
            "a whole number of at least 0",
            map.get(key).unwrap_or(&Value::Null),
        )),
    }
}

fn text<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, ParseError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(wrong_type(path, key, "a string", other)),
    }
}

fn owned(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, ParseError> {
    Ok(text(map, key, path)?.map(str::to_owned))
}

fn object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, ParseError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(other) => Err(wrong_type(path, key, "an object", other)),
    }
}

fn wrong_type(path: &str, key: &str, expected: &'static str, found: &Value) -> ParseError {
    ParseError::WrongType {
        path: path.to_owned(),
        key: key.to_owned(),
        expected,
        found: describe(found),
    }
}

/// A short description of a JSON value for error messages: its kind and a clipped rendering.
fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    let mut shown = value.to_string();
    if shown.chars().count() > 40 {
        shown = shown.chars().take(40).collect::<String>() + "…";
    }
    format!("{kind} ({shown})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_node_and_key() {
        let error = parse("[]").unwrap_err();
        assert!(matches!(error, ParseError::Empty));

        let error = parse("Seq Scan on users").unwrap_err();
        assert!(error.to_string().contains("FORMAT JSON"), "{error}");

        let error = parse(r#"[{"Plan": {"Node Type": "Limit", "Plans": [{"Total Cost": 1}]}}]"#)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "plan node Plan (Limit) › Plans[0] has no \"Node Type\"; \
             is this EXPLAIN output from PostgreSQL 13 or later?"
        );

        let error =
            parse(r#"{"Plan": {"Node Type": "Result", "Actual Loops": "two"}}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "plan node Plan (Result): \"Actual Loops\" should be a number, found a string (\"two\")"
        );

        let error = parse(r#"[{"QUERY PLAN": 1}]"#).unwrap_err();
        assert!(error.to_string().contains("QUERY PLAN"), "{error}");
    }

    #[test]
    fn unknown_keys_are_kept_and_a_bare_object_is_accepted() {
        let plan = parse(
            r#"{"Plan": {"Node Type": "Index Scan", "Index Searches": 3, "Actual Rows": 0.25,
                "Actual Loops": 4, "Actual Total Time": 0.01, "Actual Startup Time": 0.0}}"#,
        )
        .unwrap();
        let root = plan.root();
        assert_eq!(root.props.get("Index Searches"), Some(&Value::from(3)));
        assert_eq!(root.actual.map(|a| a.rows), Some(0.25));
    }

    #[test]
    fn pg17_jit_generation_object_and_io_keys() {
        let plan = parse(
            r#"[{"Plan": {"Node Type": "Result", "Shared I/O Read Time": 0.5},
                 "JIT": {"Functions": 3, "Timing": {"Generation": {"Deform": 0.1,
                 "Expressions": 0.2, "Total": 0.3}, "Inlining": 0, "Optimization": 1.5,
                 "Emission": 2.0, "Total": 3.8}}}]"#,
        )
        .unwrap();
        let jit = plan.jit.clone().unwrap();
        assert_eq!(jit.generation_ms, Some(0.3));
        assert_eq!(jit.total_ms, Some(3.8));
        assert!(plan.root().props.contains_key("Shared I/O Read Time"));
    }
}
