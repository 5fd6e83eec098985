//! Property tests of everything that parses bytes coldbench did not write
//! itself: the stdio protocol (a guest's request reader, the harness's
//! ready and response line parsers), the runner frame decoder, and the
//! results-file reader. Arbitrary and mutated inputs must give an error,
//! never a panic, an abort or an allocation the input did not pay for; valid
//! inputs must round-trip. proptest (stable toolchain, no cargo-fuzz):
//! 512 cases per property, seeded by proptest's own persistence rules.

use coldbench_protocol::runner::{Frame, Kind};
use coldbench_protocol::{Part, Request, Response, parse_ready_line};
use coldbench_results::RunFile;
use proptest::prelude::*;
use std::io;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A parameter key or value: no whitespace, `;` or `=`.
fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.-]{1,12}"
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::collection::vec((token(), token()), 0..4),
        prop::collection::vec(
            (
                "[a-zA-Z0-9_.-]{1,12}",
                prop::collection::vec(any::<u8>(), 0..256),
            ),
            0..4,
        ),
    )
        .prop_map(|(params, parts)| Request {
            params,
            parts: parts
                .into_iter()
                .map(|(name, bytes)| Part { name, bytes })
                .collect(),
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn requests_round_trip(req in request()) {
        let bytes = req.to_bytes().unwrap();
        let mut r = io::Cursor::new(bytes);
        prop_assert_eq!(Request::read_from(&mut r).unwrap(), Some(req));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_request_reader(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Request::read_from(&mut io::Cursor::new(bytes));
    }

    #[test]
    fn a_header_announcing_huge_parts_is_an_error_not_an_allocation(len in (1u64 << 32)..u64::MAX, have in 0usize..64) {
        let mut bytes = format!("REQ - input:{len}\n").into_bytes();
        bytes.extend(std::iter::repeat_n(b'x', have));
        prop_assert!(Request::read_from(&mut io::Cursor::new(bytes)).is_err());
    }

    #[test]
    fn arbitrary_lines_never_panic_the_line_parsers(line in "\\PC{0,200}") {
        let _ = Response::parse_line(&line);
        let _ = parse_ready_line(&line);
        let _ = Response::parse_line(&format!("RES ok {line}"));
        let _ = Response::parse_line(&format!("RES err {line}"));
    }

    #[test]
    fn frames_round_trip(instance in any::<u64>(), payload in prop::collection::vec(any::<u8>(), 0..1024)) {
        let f = Frame { kind: Kind::Stdout, instance, payload };
        let mut buf = Vec::new();
        f.write_to(&mut buf).unwrap();
        let mut r = io::Cursor::new(buf);
        prop_assert_eq!(Frame::read_from(&mut r).unwrap(), Some(f));
        prop_assert_eq!(Frame::read_from(&mut r).unwrap(), None);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_frame_decoder(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut r = io::Cursor::new(bytes);
        // Read until an error or the end; each call consumes input or stops.
        for _ in 0..64 {
            match Frame::read_from(&mut r) {
                Ok(Some(_)) => continue,
                _ => break,
            }
        }
    }

    #[test]
    fn a_frame_announcing_4_gib_is_an_error_not_an_allocation(len in 10u32.., have in 0usize..64) {
        let mut bytes = len.to_le_bytes().to_vec();
        bytes.push(Kind::Stdout as u8);
        bytes.extend(7u64.to_le_bytes());
        bytes.extend(std::iter::repeat_n(b'x', have.min(len as usize - 9).saturating_sub(1)));
        prop_assert!(Frame::read_from(&mut io::Cursor::new(bytes)).is_err());
    }
}

/// A real results file (the stored CI baseline) to mutate.
fn baseline() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/baseline/1/run.json"),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..config() })]

    /// Cut, overwritten or spliced results files are refused with an error
    /// naming the file, never a panic.
    #[test]
    fn mutated_results_files_are_errors_never_panics(
        cut in 0usize..400_000,
        at in 0usize..400_000,
        junk in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let good = baseline();
        let dir = std::env::temp_dir().join(format!("coldbench-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("run-{cut}-{at}.json"));
        // Truncated.
        std::fs::write(&path, &good[..cut.min(good.len().saturating_sub(1))]).unwrap();
        let e = RunFile::read(&path).expect_err("a truncated file");
        prop_assert!(e.to_string().contains(&path.display().to_string()), "{}", e);
        // Overwritten in the middle: an error or, if the bytes happened to
        // keep it valid JSON of the schema, a file; never a panic.
        let mut bad = good.clone();
        let at = at % bad.len();
        for (i, b) in junk.iter().enumerate() {
            if at + i < bad.len() {
                bad[at + i] = *b;
            }
        }
        std::fs::write(&path, &bad).unwrap();
        let _ = RunFile::read(&path);
        std::fs::remove_file(&path).unwrap();
    }
}
