//! A plan's scans in the words text `EXPLAIN (ANALYZE, BUFFERS)` prints under them:
//! `Index Cond`, `Recheck Cond`, `Filter`, `Rows Removed by Filter`, `Heap Fetches` and
//! `Buffers`. The lab's tree shows the same numbers its own way (and cuts a long row at the
//! pane's edge); the lesson teaches the words a learner meets again in psql and in a
//! colleague's bug report, so the demo prints them, each scan on lines of its own.

use super::{paragraph, wrapped};
use crate::explain::node::Buffers;
use crate::explain::{Node, Plan};
use crate::text::group;

/// The conditions a scan prints, in EXPLAIN's order.
const CONDITIONS: [&str; 3] = ["Index Cond", "Recheck Cond", "Filter"];

/// Every scan of `plan`: its title, then what EXPLAIN prints under it. Empty without scans.
pub(super) fn scan_lines(plan: &Plan) -> Vec<String> {
    let scans: Vec<&Node> = plan
        .nodes
        .iter()
        .filter(|node| node.node_type.ends_with("Scan") && node.actual.is_some())
        .collect();
    if scans.is_empty() {
        return Vec::new();
    }
    let mut lines = paragraph("What EXPLAIN prints under each scan, as psql would show it:");
    for node in scans {
        lines.extend(node_lines(node));
    }
    lines
}

fn node_lines(node: &Node) -> Vec<String> {
    let loops = node.actual.map_or(1.0, |actual| actual.loops);
    let title = if loops <= 1.0 {
        node.title()
    } else if node.parallel_aware {
        format!(
            "{}, shared by {}",
            node.title(),
            crate::text::plural(loops, "process", "processes")
        )
    } else {
        format!("{}, run {} times", node.title(), group(loops))
    };
    let mut lines = paragraph(&title);
    let field = |label: &str, value: &str| wrapped(&format!("  {label}: {value}"), "      ");
    for key in CONDITIONS {
        if let Some(condition) = node.props.get(key).and_then(|value| value.as_str()) {
            lines.extend(field(key, condition));
        }
    }
    if let Some(removed) = node.removed.by_filter {
        let value = if loops > 1.0 {
            format!(
                "{} (per process, an average: ≈{} in all)",
                group(removed),
                group(removed * loops)
            )
        } else {
            group(removed)
        };
        lines.extend(field("Rows Removed by Filter", &value));
    }
    if let Some(recheck) = node.removed.by_index_recheck.filter(|n| *n > 0.0) {
        lines.extend(field("Rows Removed by Index Recheck", &group(recheck)));
    }
    if let Some(fetches) = node.props.get("Heap Fetches").and_then(|v| v.as_f64()) {
        lines.extend(field("Heap Fetches", &group(fetches)));
    }
    if let Some(buffers) = node.buffers.filter(|b| b.pages_touched() > 0) {
        let pages = buffers.pages_touched();
        let children = if node.children.is_empty() {
            ""
        } else {
            " (with the nodes under it)"
        };
        lines.extend(field(
            "Buffers",
            &format!(
                "{}: {} of 8 kB = {} (arithmetic){children}",
                printed_buffers(&buffers),
                crate::text::plural(pages as f64, "page", "pages"),
                size(pages * 8)
            ),
        ));
    }
    lines
}

/// The counters as text EXPLAIN prints them: "shared hit=8334 read=3029".
fn printed_buffers(buffers: &Buffers) -> String {
    let mut groups = Vec::new();
    for (kind, hit, read) in [
        ("shared", buffers.shared_hit, buffers.shared_read),
        ("local", buffers.local_hit, buffers.local_read),
    ] {
        let counts: Vec<String> = [("hit", hit), ("read", read)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{what}={n}"))
            .collect();
        if !counts.is_empty() {
            groups.push(format!("{kind} {}", counts.join(" ")));
        }
    }
    groups.join(", ")
}

/// Kilobytes as PostgreSQL's `pg_size_pretty` rounds them: kB below 10 MB, then MB.
fn size(kb: u64) -> String {
    if kb < 10 * 1024 {
        format!("{kb} kB")
    } else {
        format!("{} MB", group(kb as f64 / 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::indexes::LINE_WIDTH;
    use crate::explain::parse;

    #[test]
    fn a_seq_scan_prints_its_filter_removed_rows_and_buffers() {
        let plan = parse(include_str!("../../../tests/fixtures/plans/seq_scan.json")).unwrap();
        let lines = scan_lines(&plan);
        assert_eq!(
            lines[1..],
            [
                "Seq Scan on users",
                "  Filter: (username = 'user50000'::text)",
                "  Rows Removed by Filter: 100,009",
                "  Buffers: shared hit=1235: 1,235 pages of 8 kB = 9880 kB (arithmetic)",
            ]
        );
    }

    #[test]
    fn an_index_scan_prints_its_index_cond() {
        let plan = parse(include_str!(
            "../../../tests/fixtures/plans/index_scan.json"
        ))
        .unwrap();
        let lines = scan_lines(&plan);
        assert!(
            lines.iter().any(|l| l.starts_with("  Index Cond: ")),
            "{lines:#?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("hit=1 read=3: 4 pages")),
            "{lines:#?}"
        );
        assert!(lines.iter().all(|l| l.chars().count() <= LINE_WIDTH));
    }

    #[test]
    fn sizes_round_like_postgres() {
        assert_eq!(size(9_880), "9880 kB");
        assert_eq!(size(90_904), "89 MB");
    }
}
