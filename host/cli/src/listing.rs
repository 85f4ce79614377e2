//! `switchboard routes` and `switchboard providers`.

use anyhow::Context;
use switchboard::RouteInfo;
use switchboard_providers::metrics::Metrics;

use crate::args::RoutesArgs;

/// Build every route of the config (which checks providers and their options;
/// `[function.<name>]` guests are compiled too) and print a table: binding, namespace,
/// operation (`*` for "any") and the provider's description.
pub fn routes(args: &RoutesArgs) -> anyhow::Result<()> {
    let config = crate::registry::load(Some(&args.config))?;
    let metrics = Metrics::new();
    let router = crate::registry::router(&metrics);
    crate::registry::apply(&config, &router, &metrics, &args.stores)?;
    let table = route_table(&router.routes());
    crate::stdout::write_all(table.as_bytes()).context("cannot write to stdout")
}

/// Print the provider names, then the preset names.
pub fn providers() -> anyhow::Result<()> {
    let registry = crate::registry::full(&Metrics::new());
    let mut out = String::new();
    for name in registry.provider_names() {
        out.push_str(&format!("provider {name}\n"));
    }
    for name in registry.preset_names() {
        out.push_str(&format!("preset   {name}\n"));
    }
    crate::stdout::write_all(out.as_bytes()).context("cannot write to stdout")
}

fn route_table(routes: &[RouteInfo]) -> String {
    let rows: Vec<[String; 4]> = routes
        .iter()
        .map(|route| {
            [
                route.key.binding().unwrap_or("*").to_string(),
                route.key.namespace_name().to_string(),
                route.key.operation().unwrap_or("*").to_string(),
                route.provider.clone(),
            ]
        })
        .collect();
    let header = ["BINDING", "NAMESPACE", "OPERATION", "PROVIDER"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
