//! Every shipped claim quotes its article word for word, names the right
//! one and says whose measurement it is: each quote is looked up in the
//! article's text (`../shared/articles/`, or `COLDBENCH_ARTICLES`), its
//! parts between "…" in order, and the claim's source is checked against the
//! articles' index (their README).

use coldbench_reports::claims::{self, SHIPPED_CLAIMS};
use std::path::{Path, PathBuf};

/// The articles' directory: `COLDBENCH_ARTICLES`, else `shared/articles`
/// beside an ancestor of this crate (the workplace keeps it at
/// `/work/shared/articles`, next to the checkout).
fn articles_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("COLDBENCH_ARTICLES") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/articles"))
        .chain([PathBuf::from("/work/shared/articles")])
        .find(|p| p.join("README.md").is_file())
        .expect(
            "the articles the claims quote are not found: set COLDBENCH_ARTICLES to the directory \
             holding them and their README.md (../shared/articles beside the checkout)",
        )
}

/// Text as compared: typographic quotes and dashes as their ASCII forms,
/// micro signs as one, and no whitespace or table bars (the articles' tables
/// lost their cell borders when published as text: "Startup Time5-50ms").
fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '|')
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            '\u{2013}' | '\u{2014}' => '-',
            '\u{00B5}' => '\u{03BC}',
            c => c,
        })
        .collect()
}

/// `Ok` if every part of `quote` between "…" appears in `text`, in order;
/// else the first part that does not.
fn quote_found(text: &str, quote: &str) -> Result<(), String> {
    let text = normalize(text);
    let mut from = 0;
    for part in quote.split('…') {
        let p = normalize(part);
        if p.is_empty() {
            continue;
        }
        match text[from..].find(&p) {
            Some(i) => from += i + p.len(),
            None => return Err(part.trim().to_string()),
        }
    }
    Ok(())
}

/// The articles' index: file name → title (`None` for untitled ones).
fn index(dir: &Path) -> Vec<(String, Option<String>)> {
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let (file, title) = (cells.get(1)?, cells.get(2)?);
            file.ends_with(".txt").then(|| {
                (
                    file.to_string(),
                    (!title.starts_with('(')).then(|| title.to_string()),
                )
            })
        })
        .collect()
}

#[test]
fn every_quote_is_in_its_article_word_for_word() {
    let dir = articles_dir();
    let idx = index(&dir);
    assert_eq!(idx.len(), 5, "the index lists five articles");
    let all = claims::parse(SHIPPED_CLAIMS, "claims.toml").unwrap();
    let mut problems = Vec::new();
    for c in &all {
        let Some(file) = &c.article else {
            problems.push(format!("{}: no `article`", c.id));
            continue;
        };
        if c.measured_by.as_deref().is_none_or(str::is_empty) {
            problems.push(format!("{}: no `measured_by`", c.id));
        }
        let Some((_, title)) = idx.iter().find(|(f, _)| f == file) else {
            problems.push(format!("{}: article {file} is not in the index", c.id));
            continue;
        };
        if let Some(t) = title
            && !c.source.starts_with(t.as_str())
        {
            problems.push(format!(
                "{}: source `{}` does not name its article `{t}`",
                c.id, c.source
            ));
        }
        if title.is_none()
            && idx
                .iter()
                .any(|(_, t)| t.as_ref().is_some_and(|t| c.source.starts_with(t.as_str())))
        {
            problems.push(format!(
                "{}: source names a titled article, its quote is from an untitled one",
                c.id
            ));
        }
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        if let Err(part) = quote_found(&text, &c.quote) {
            problems.push(format!("{}: `{part}` is not in {file}", c.id));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check itself: a word changed, a quote put in the wrong article, or
/// cut parts out of order are caught.
#[test]
fn the_quote_check_catches_a_changed_word_and_a_wrong_article() {
    let dir = articles_dir();
    let first_person = std::fs::read_to_string(dir.join("001_465c1b412f7982f4.txt")).unwrap();
    let niche = std::fs::read_to_string(dir.join("000_57b35baf545faa4a.txt")).unwrap();
    let lambda = "The Lambda function took 180ms to respond on a cold start. The Wasm version responded in 8ms.";
    assert!(quote_found(&first_person, lambda).is_ok());
    // The misattribution the ledger carried: this experiment is not in
    // "Rust and WebAssembly: From Niche to Infrastructure".
    assert!(quote_found(&niche, lambda).is_err());
    assert!(quote_found(&first_person, &lambda.replace("180ms", "150ms")).is_err());
    let two = "Three milliseconds … a 770x difference";
    assert!(quote_found(&niche, two).is_ok());
    assert!(quote_found(&niche, "a 770x difference … Three milliseconds").is_err());
}
