//! `coldbench targets`: the catalog and what this host can run.

use anyhow::Result;
use coldbench::targets::{HostProbe, catalog};

/// Prints every variant with its availability and, when unavailable, why.
pub fn list(cli_tools: std::collections::BTreeMap<String, std::path::PathBuf>) -> Result<()> {
    let probe = HostProbe::new("list").with_cli_tools(cli_tools);
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_BORDERS_ONLY)
        .set_header(vec![
            "target",
            "family",
            "a start is",
            "available",
            "what / why not and how to enable",
        ]);
    for v in catalog() {
        let (avail, note) = match probe.availability(&v) {
            Ok(()) => ("yes", v.describe()),
            Err(why) => ("no", why),
        };
        table.add_row(vec![
            v.id.clone(),
            v.family.to_string(),
            v.start.describe(),
            avail.to_string(),
            note,
        ]);
    }
    println!("{table}");
    if let Some(i) = &probe.engine {
        println!(
            "Docker {} (API {}), storage {}, cgroup driver {}, runtimes: {}; host cgroup layout: {}",
            i.engine_version,
            i.api_version,
            i.storage_driver,
            i.cgroup_driver,
            i.runtimes.join(", "),
            probe.cgroup_layout.name()
        );
    }
    Ok(())
}
