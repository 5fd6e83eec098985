//! The HTML report of a real run, opened in headless Chromium (Debian's
//! `chromium`, installed by `scripts/setup.sh --tests`) with the network disabled:
//! the page loads, logs no console message and requests no URL (Chromium's
//! net log), every chart's SVG is in the DOM, and the screenshot is not
//! blank. (Checked to fail on a page with `console.error` and an `<img>`
//! from the network.)
//!
//! Under CI (`CI` set) a missing Chromium fails the test; elsewhere it is
//! skipped with a message.

use coldbench_reports::claims::{self, SHIPPED_CLAIMS};
use coldbench_results::RunFile;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = Command::new("which")
            .arg(name)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_string()));
        if found.is_some() {
            return found;
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "chromium is required under CI: run scripts/setup.sh --tests (apt-get install chromium)"
        );
    }
    eprintln!("skipping: no chromium on PATH");
    None
}

/// Runs headless Chromium on `page` with the network cut off; returns
/// (stdout, stderr).
fn headless(bin: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let profile = page.with_file_name("chromium-profile");
    let o = Command::new(bin)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            // No network: every proxy connection is refused, no name resolves.
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        o.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_html_report_renders_in_chromium_offline() {
    let Some(bin) = chromium() else { return };
    let dir = std::env::temp_dir().join(format!("coldbench-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let run = RunFile::read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/default-suite.json"),
    )
    .unwrap();
    let all = claims::parse(SHIPPED_CLAIMS, "claims.toml").unwrap();
    let html = coldbench_reports::html::report(&[&run], &claims::ledger(&all, &[&run]), &[]);
    let page = dir.join("report.html");
    std::fs::write(&page, &html).unwrap();

    let net_log = dir.join("net-log.json");
    let (dom, log) = headless(
        &bin,
        &page,
        &[
            "--dump-dom",
            &format!("--log-net-log={}", net_log.display()),
        ],
    );
    assert_eq!(dom.matches("<svg").count(), 21, "charts in the loaded DOM");
    assert!(dom.contains("Claims ledger"));
    // The page has no script: any console message (Chromium logs every
    // level as `CONSOLE`) is a failure.
    for line in log.lines() {
        assert!(!line.contains("CONSOLE"), "console message: {line}");
    }
    // Every URL request Chromium made, except its own background traffic
    // to Google's update, account and dictionary services.
    let net = std::fs::read_to_string(&net_log).unwrap();
    let browser_own = ["google.com/", "googleapis.com/", "gvt1.com/"];
    for url in net
        .split("\"url\":\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
    {
        // Web fonts are the page's fetch, not the browser's own traffic,
        // whatever host serves them.
        let font = url.contains("fonts.googleapis.com") || url.contains("fonts.gstatic.com");
        if url.starts_with("http") && (font || !browser_own.iter().any(|h| url.contains(h))) {
            panic!("the page fetched {url}");
        }
    }

    let shot = dir.join("shot.png");
    headless(
        &bin,
        &page,
        &[
            "--window-size=1200,3000",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let px = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for p in bytes.chunks(px) {
        colours.insert(p.to_vec());
        if colours.len() > 50 {
            break;
        }
    }
    assert!(
        colours.len() > 50,
        "the screenshot is blank ({} colours)",
        colours.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
