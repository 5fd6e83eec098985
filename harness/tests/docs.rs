//! The measurement contract is cited as `docs/design.md §N` from the code and
//! the README: every such citation must name a section the file has.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Section numbers of `docs/design.md`: its `## N. Title` headings.
fn sections() -> Vec<u32> {
    let text = std::fs::read_to_string(repo().join("docs/design.md")).expect("docs/design.md");
    text.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .filter_map(|l| l.split_once(". "))
        .filter_map(|(n, _)| n.parse().ok())
        .collect()
}

/// Files that may cite the contract: sources, scripts, docs, the README.
fn citing_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !matches!(
                name,
                "target" | ".git" | "node_modules" | "fixtures" | "snapshots"
            ) {
                citing_files(&path, out);
            }
        } else if [".rs", ".md", ".sh", ".toml", ".mjs"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}

/// Every `design.md §N` (also "design.md` §N" and "design.md) §N") in `text`.
fn citations(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("design.md") {
        let rest = text[i + "design.md".len()..].trim_start_matches(['`', ')', ' ']);
        if let Some(after) = rest.strip_prefix('§') {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                out.push(n);
            }
        }
    }
    out
}

#[test]
fn every_design_citation_names_a_section_that_exists() {
    let sections = sections();
    assert!(sections.len() >= 8, "design.md sections: {sections:?}");
    let mut files = Vec::new();
    citing_files(&repo(), &mut files);
    let mut cited = 0;
    let mut dangling = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for n in citations(&text) {
            cited += 1;
            if !sections.contains(&n) {
                dangling.push(format!("{}: §{n}", f.display()));
            }
        }
    }
    assert!(
        cited >= 20,
        "only {cited} citations found: the scan is broken"
    );
    assert!(
        dangling.is_empty(),
        "citations of missing sections: {dangling:#?}"
    );
    // The old name must not come back: the contract lives in docs/design.md.
    let old: Vec<_> = files
        .iter()
        .filter(|f| !f.ends_with("tests/docs.rs"))
        .filter(|f| {
            std::fs::read_to_string(f)
                .map(|t| t.contains("DESIGN.md"))
                .unwrap_or(false)
        })
        .collect();
    assert!(old.is_empty(), "cites DESIGN.md: {old:?}");
}

#[test]
fn the_citation_scan_finds_each_form() {
    assert_eq!(
        citations(
            "see docs/design.md §3, `docs/design.md` §7 and (docs/design.md) §10; design.md alone"
        ),
        vec![3, 7, 10]
    );
}
