//! `hash`: SHA-256 or BLAKE3 over a blob, optionally iterated (the CPU-heavy variant).
//!
//! Request: part `input` (the blob); params `algo=sha256|blake3` (default
//! `sha256`) and `iterations=N` (default 1, at most 10^7). Iteration `i > 0`
//! hashes `digest(i-1) || input`, so the work is `iterations × len(input)` bytes
//! and cannot be skipped. Result bytes: the final 32-byte digest; the response
//! also carries it as `digest=<hex>` so it can be checked with `sha256sum`
//! (for `iterations=1`).

use coldbench_protocol::Request;
use coldbench_protocol::workload::{Output, Rejection, serve};
use sha2::{Digest, Sha256};

const MAX_ITERATIONS: u64 = 10_000_000;

fn handle(req: &Request) -> Result<Output, Rejection> {
    let input = req
        .part("input")
        .ok_or_else(|| Rejection::new("params", "hash needs a part named `input`"))?;
    let iterations: u64 = match req.param("iterations") {
        None => 1,
        Some(s) => s
            .parse()
            .ok()
            .filter(|n| (1..=MAX_ITERATIONS).contains(n))
            .ok_or_else(|| {
                Rejection::new(
                    "params",
                    format!("iterations={s} is not in 1..={MAX_ITERATIONS}"),
                )
            })?,
    };
    let algo = req.param("algo").unwrap_or("sha256");
    let digest: [u8; 32] = match algo {
        "sha256" => {
            let mut d: [u8; 32] = Sha256::digest(input).into();
            for _ in 1..iterations {
                let mut h = Sha256::new();
                h.update(d);
                h.update(input);
                d = h.finalize().into();
            }
            d
        }
        "blake3" => {
            let mut d = *blake3::hash(input).as_bytes();
            for _ in 1..iterations {
                let mut h = blake3::Hasher::new();
                h.update(&d);
                h.update(input);
                d = *h.finalize().as_bytes();
            }
            d
        }
        other => {
            return Err(Rejection::new(
                "params",
                format!("algo={other} is not one of sha256, blake3"),
            ));
        }
    };
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Output {
        bytes: digest.to_vec(),
        fields: vec![
            ("algo".into(), algo.into()),
            ("iterations".into(), iterations.to_string()),
            ("input_bytes".into(), input.len().to_string()),
            ("digest".into(), hex),
        ],
    })
}

fn main() {
    std::process::exit(serve("hash", handle));
}
