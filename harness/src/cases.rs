//! Turns an inputs directory into request cases, one request per case.
//!
//! Layout of an inputs directory (the shipped one is `workloads/inputs`):
//! - `images/**.{jpg,jpeg,png}` → one `thumbnail` case per file (fit in 256×256);
//! - `blobs/*` → `hash` cases `<file>:sha256` and `<file>:blake3`, plus
//!   `<smallest file>:sha256x1000` (the iterated, CPU-heavy variant);
//! - `json/<case>/document.json` + `json/<case>/schema.json` → one
//!   `json-validate` case per directory; every other `*.json` in it is sent as a
//!   sibling schema that `schema.json` may `$ref`;
//! - `noop` needs no input: one case `empty`.
//!
//! Files are read once, before any measurement.

use coldbench_protocol::{Part, Request};
use coldbench_results::{CaseRecord, FailureKind, InputFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bounding box of the thumbnail cases, pixels.
pub const THUMBNAIL_BOX_PX: u32 = 256;
/// Iterations of the CPU-heavy hash case, unless a run sets its own
/// (`--hash-iterations`, e.g. to check that `compare` sees 10 % more work).
pub const HASH_HEAVY_ITERATIONS: u32 = 1000;

/// Largest case, bytes (256 MiB, all its input files together). Every start
/// gets the whole request on its stdin, and a Wasm instance or a container
/// holds at most 1 GiB of memory; a larger file is refused before it is read.
pub const MAX_CASE_BYTES: u64 = 256 << 20;

/// One workload request, ready to send.
#[derive(Debug, Clone)]
pub struct Case {
    /// Workload name.
    pub workload: String,
    /// Case name, unique within the workload.
    pub name: String,
    /// The request.
    pub request: Request,
    /// The request serialized in the stdio protocol.
    pub request_bytes: Vec<u8>,
    /// Where each part came from.
    pub inputs: Vec<InputFile>,
    /// A command workload's case ([`crate::artifacts::CommandWorkload`]):
    /// `request_bytes` are the input file's raw bytes, given on stdin; the
    /// response is the stdout's CRC-32, no ready or response line.
    pub command: bool,
}

impl Case {
    /// The case as written into the results file.
    pub fn record(&self, expected_crc32: Option<u32>) -> CaseRecord {
        CaseRecord {
            workload: self.workload.clone(),
            case: self.name.clone(),
            params: self
                .request
                .params
                .iter()
                .cloned()
                .collect::<BTreeMap<_, _>>(),
            inputs: self.inputs.clone(),
            expected_crc32: expected_crc32.map(|c| format!("{c:08x}")),
        }
    }
}

/// A problem with the inputs directory, reported and skipped.
#[derive(Debug, Clone)]
pub struct InputProblem {
    /// Workload concerned.
    pub workload: String,
    /// What kind of problem: [`FailureKind::Missing`] (absent or
    /// unreadable) or [`FailureKind::BadInput`] (malformed or truncated).
    pub kind: FailureKind,
    /// What is wrong and what to do.
    pub message: String,
}

/// Why an image file looks truncated, or `None`: a JPEG (starting `FF D8`)
/// must end with its
/// end-of-image marker `FF D9` (trailing padding of zero bytes, CR, LF or
/// spaces allowed), a PNG with its `IEND` chunk. Decoders accept a cut file
/// silently and thumbnail what is there; coldbench would then measure a
/// different input than the file claims to be.
pub fn image_truncated(path: &Path, bytes: &[u8]) -> Option<String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let body = {
        let mut end = bytes.len();
        while end > 0 && matches!(bytes[end - 1], 0 | b'\r' | b'\n' | b' ') {
            end -= 1;
        }
        &bytes[..end]
    };
    // Only files that start as the format they claim are judged here; what
    // is not an image at all is left to the decoder (native rejects it).
    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    const PNG_IEND: [u8; 8] = [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82];
    let what = match ext.as_str() {
        "jpg" | "jpeg" if bytes.starts_with(&[0xFF, 0xD8]) && !body.ends_with(&[0xFF, 0xD9]) => {
            "no JPEG end-of-image marker (FF D9) at its end"
        }
        "png" if bytes.starts_with(&PNG_SIGNATURE) && !body.ends_with(&PNG_IEND) => {
            "no PNG IEND chunk at its end"
        }
        _ => return None,
    };
    Some(format!(
        "input {} ({} bytes) looks truncated: {what}; the case is left out (a decoder would thumbnail only the part that is there) — replace the file",
        path.display(),
        bytes.len()
    ))
}

fn files_under(dir: &Path, recursive: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            if recursive {
                out.extend(files_under(&p, true));
            }
        } else if p.is_file() {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A missing-input problem.
fn missing(message: String) -> (FailureKind, String) {
    (FailureKind::Missing, message)
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn build(
    root: &Path,
    workload: &str,
    name: String,
    params: Vec<(&str, String)>,
    files: Vec<(String, PathBuf)>,
) -> Result<Case, (FailureKind, String)> {
    let mut parts = Vec::new();
    let mut inputs = Vec::new();
    let mut total = 0u64;
    for (_, path) in &files {
        total += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    }
    if total > MAX_CASE_BYTES {
        let names: Vec<String> = files.iter().map(|(_, p)| p.display().to_string()).collect();
        return Err((
            FailureKind::BadInput,
            format!(
                "input {} is {:.1} MiB, over coldbench's {} MiB per case (every start gets the whole request on stdin; Wasm instances and containers hold at most 1 GiB): the case is left out — use a smaller file",
                names.join(" + "),
                total as f64 / (1u64 << 20) as f64,
                MAX_CASE_BYTES >> 20
            ),
        ));
    }
    for (part, path) in files {
        let bytes = std::fs::read(&path).map_err(|e| {
            (
                FailureKind::Missing,
                format!("cannot read input {}: {e}", path.display()),
            )
        })?;
        if workload == "thumbnail"
            && let Some(why) = image_truncated(&path, &bytes)
        {
            return Err((FailureKind::BadInput, why));
        }
        inputs.push(InputFile {
            part: part.clone(),
            path: rel(root, &path),
            bytes: bytes.len() as u64,
        });
        parts.push(Part { name: part, bytes });
    }
    let request = Request {
        params: params
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        parts,
    };
    let request_bytes = request
        .to_bytes()
        .map_err(|e| (FailureKind::BadInput, format!("case {name}: {e}")))?;
    Ok(Case {
        workload: workload.to_string(),
        name,
        request,
        request_bytes,
        inputs,
        command: false,
    })
}

/// The cases of command workload `cmd`: one per input file (its name the
/// file's name, its bytes the command's stdin), or one case `empty` with
/// nothing on stdin when it has no input. Parameters record the command's
/// arguments (`args`, space-joined), `mode=command` and its `--workload-dir`
/// (`dir`, absolute) when it has one.
///
/// Errors: a file that cannot be read or is over [`MAX_CASE_BYTES`], one
/// per file (the others still give cases).
pub fn command_cases(
    cmd: &crate::artifacts::CommandWorkload,
) -> Vec<Result<Case, (FailureKind, String)>> {
    let mut params = vec![
        ("mode".to_string(), "command".to_string()),
        ("args".to_string(), cmd.args.join(" ")),
    ];
    if let Some(dir) = &cmd.dir {
        params.push(("dir".to_string(), dir.display().to_string()));
    }
    let case = |name: String, bytes: Vec<u8>, inputs: Vec<InputFile>| Case {
        workload: cmd.name.clone(),
        name,
        request: Request {
            params: params.clone(),
            parts: Vec::new(),
        },
        request_bytes: bytes,
        inputs,
        command: true,
    };
    if cmd.inputs.is_empty() {
        return vec![Ok(case("empty".into(), Vec::new(), Vec::new()))];
    }
    cmd.inputs
        .iter()
        .map(|path| {
            let size = std::fs::metadata(path).map(|m| m.len()).map_err(|e| {
                (
                    FailureKind::Missing,
                    format!(
                        "cannot read input {} of workload `{}`: {e}",
                        path.display(),
                        cmd.name
                    ),
                )
            })?;
            if size > MAX_CASE_BYTES {
                return Err((
                    FailureKind::BadInput,
                    format!(
                        "input {} of workload `{}` is {:.1} MiB, over coldbench's {} MiB per case (every start gets it whole on stdin): the case is left out — use a smaller file",
                        path.display(),
                        cmd.name,
                        size as f64 / (1u64 << 20) as f64,
                        MAX_CASE_BYTES >> 20
                    ),
                ));
            }
            let bytes = std::fs::read(path).map_err(|e| {
                (
                    FailureKind::Missing,
                    format!("cannot read input {}: {e}", path.display()),
                )
            })?;
            let name = part_name(path);
            let input = InputFile {
                part: "stdin".into(),
                path: path.display().to_string(),
                bytes: bytes.len() as u64,
            };
            Ok(case(name, bytes, vec![input]))
        })
        .collect()
}

fn part_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().replace([' ', ':'], "_"))
        .unwrap_or_default()
}

/// Builds the cases of `workloads` from `root`, the iterated `hash` case
/// doing `hash_iterations` SHA-256 passes. Unreadable or missing inputs
/// become [`InputProblem`]s; the other cases are still returned.
pub fn discover(
    root: &Path,
    workloads: &[String],
    hash_iterations: u32,
) -> (Vec<Case>, Vec<InputProblem>) {
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    let mut push = |w: &str, r: Result<Case, (FailureKind, String)>| match r {
        Ok(c) => cases.push(c),
        Err((kind, message)) => problems.push(InputProblem {
            workload: w.to_string(),
            kind,
            message,
        }),
    };
    for w in workloads {
        let w = w.as_str();
        match w {
            "noop" => push(w, build(root, w, "empty".into(), vec![], vec![])),
            "thumbnail" => {
                let dir = root.join("images");
                let images: Vec<_> = files_under(&dir, true)
                    .into_iter()
                    .filter(|p| {
                        p.extension()
                            .map(|e| {
                                let e = e.to_string_lossy().to_lowercase();
                                e == "jpg" || e == "jpeg" || e == "png"
                            })
                            .unwrap_or(false)
                    })
                    .collect();
                if images.is_empty() {
                    push(
                        w,
                        Err(missing(format!(
                            "no .jpg/.jpeg/.png files under {}",
                            dir.display()
                        ))),
                    );
                }
                for p in images {
                    let px = THUMBNAIL_BOX_PX.to_string();
                    push(
                        w,
                        build(
                            root,
                            w,
                            rel(&dir, &p),
                            vec![("max_width", px.clone()), ("max_height", px)],
                            vec![("input".into(), p)],
                        ),
                    );
                }
            }
            "hash" => {
                let dir = root.join("blobs");
                let blobs = files_under(&dir, false);
                if blobs.is_empty() {
                    push(w, Err(missing(format!("no files under {}", dir.display()))));
                }
                for p in &blobs {
                    for algo in ["sha256", "blake3"] {
                        push(
                            w,
                            build(
                                root,
                                w,
                                format!("{}:{algo}", rel(&dir, p)),
                                vec![("algo", algo.into()), ("iterations", "1".into())],
                                vec![("input".into(), p.clone())],
                            ),
                        );
                    }
                }
                if let Some(smallest) = blobs
                    .iter()
                    .min_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(u64::MAX))
                {
                    push(
                        w,
                        build(
                            root,
                            w,
                            format!("{}:sha256x{hash_iterations}", rel(&dir, smallest)),
                            vec![
                                ("algo", "sha256".into()),
                                ("iterations", hash_iterations.to_string()),
                            ],
                            vec![("input".into(), smallest.clone())],
                        ),
                    );
                }
            }
            "json-validate" => {
                let dir = root.join("json");
                let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .map(|rd| {
                        rd.flatten()
                            .map(|e| e.path())
                            .filter(|p| p.is_dir())
                            .collect()
                    })
                    .unwrap_or_default();
                dirs.sort();
                if dirs.is_empty() {
                    push(
                        w,
                        Err(missing(format!(
                            "no case directories under {} (each needs document.json and schema.json)",
                            dir.display()
                        ))),
                    );
                }
                for d in dirs {
                    let (doc, schema) = (d.join("document.json"), d.join("schema.json"));
                    if !doc.is_file() || !schema.is_file() {
                        push(
                            w,
                            Err(missing(format!(
                                "{} needs both document.json and schema.json",
                                d.display()
                            ))),
                        );
                        continue;
                    }
                    let mut files = vec![
                        ("document".to_string(), doc.clone()),
                        ("schema".to_string(), schema.clone()),
                    ];
                    for s in files_under(&d, false) {
                        if s != doc && s != schema && s.extension().is_some_and(|e| e == "json") {
                            files.push((part_name(&s), s));
                        }
                    }
                    push(w, build(root, w, rel(&dir, &d), vec![], files));
                }
            }
            other => match crate::artifacts::command(other) {
                Some(cmd) => {
                    for c in command_cases(&cmd) {
                        push(other, c);
                    }
                }
                None => push(
                    other,
                    Err(missing(format!(
                        "unknown workload `{other}` (known: noop, thumbnail, json-validate, hash)"
                    ))),
                ),
            },
        }
    }
    (cases, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_inputs_give_cases_for_every_workload() {
        let all: Vec<String> = crate::artifacts::WORKLOADS
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (cases, problems) = discover(
            &crate::artifacts::default_inputs_dir(),
            &all,
            HASH_HEAVY_ITERATIONS,
        );
        assert!(problems.is_empty(), "{problems:?}");
        for w in crate::artifacts::WORKLOADS {
            assert!(cases.iter().any(|c| c.workload == w), "no case for {w}");
        }
        let pkg = cases
            .iter()
            .find(|c| c.name == "package-schemastore")
            .expect("package.json case");
        // The main schema plus its ten sibling schemas.
        assert_eq!(pkg.request.parts.len(), 12);
        assert!(cases.iter().any(|c| c.name.ends_with(":sha256x1000")));
    }

    #[test]
    fn truncated_images_are_told_from_whole_ones() {
        let dir = crate::artifacts::default_inputs_dir().join("images");
        for f in ["hato.jpg", "exif_Portrait_8.jpg", "skimage_camera.png"] {
            let p = dir.join(f);
            let bytes = std::fs::read(&p).unwrap();
            assert_eq!(image_truncated(&p, &bytes), None, "{f} is whole");
            let cut = &bytes[..bytes.len() / 3];
            let why = image_truncated(&p, cut).expect("a third of it is truncated");
            assert!(why.contains(f) && why.contains("looks truncated"), "{why}");
        }
        // Not an image at all: the decoder's business, not this check's.
        assert_eq!(image_truncated(Path::new("x.jpg"), b"plain text"), None);
        // Padding after the end marker is allowed.
        assert_eq!(
            image_truncated(Path::new("x.jpg"), &[0xFF, 0xD8, 1, 0xFF, 0xD9, 0, 0]),
            None
        );
    }

    #[test]
    fn missing_directory_is_a_problem_not_a_panic() {
        let (cases, problems) = discover(
            Path::new("/nonexistent-coldbench"),
            &["thumbnail".into(), "noop".into()],
            HASH_HEAVY_ITERATIONS,
        );
        assert_eq!(cases.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("images"));
    }
}
