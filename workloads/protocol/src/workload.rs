//! The workload side of the stdio protocol: one function that every workload's
//! `main` calls with its request handler.

use crate::{Request, Response, ready_line};
use std::io::{self, BufReader, Write};

/// What a handler returns for a request it could not serve: becomes `RES err <kind> <message>`.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// Short machine-readable kind (`decode`, `parse`, `params`, ...).
    pub kind: &'static str,
    /// One-line human-readable message naming the problem.
    pub message: String,
}

impl Rejection {
    /// Builds a rejection of `kind` with `message`.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Rejection {
        Rejection {
            kind,
            message: message.into(),
        }
    }
}

/// A successful result: the bytes that are checksummed plus informational fields.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Result bytes (encoded thumbnail, digest, validation verdict, ...).
    pub bytes: Vec<u8>,
    /// Extra `key=value` facts echoed in the response line.
    pub fields: Vec<(String, String)>,
}

/// Runs the stdio protocol for workload `name`: writes the ready line, then serves
/// one request (or, with `--serve` in the arguments, every request until stdin
/// closes) with `handler`. Returns the process exit code: 0 on success, 2 on a
/// protocol error (which is also reported on stderr).
pub fn serve(name: &str, mut handler: impl FnMut(&Request) -> Result<Output, Rejection>) -> i32 {
    let serve_loop = std::env::args().skip(1).any(|a| a == "--serve");
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if out.write_all(ready_line(name).as_bytes()).is_err() || out.flush().is_err() {
        return 2;
    }
    let stdin = io::stdin();
    let mut input = BufReader::with_capacity(64 * 1024, stdin.lock());
    loop {
        let req = match Request::read_from(&mut input) {
            Ok(Some(r)) => r,
            Ok(None) => return if serve_loop { 0 } else { 2 },
            Err(e) => {
                let _ = writeln!(io::stderr(), "{name}: {e}");
                let line = Response::Err {
                    kind: "protocol".into(),
                    message: e.to_string(),
                }
                .to_line();
                let _ = out.write_all(line.as_bytes());
                let _ = out.flush();
                return 2;
            }
        };
        let resp = match handler(&req) {
            Ok(o) => Response::ok(&o.bytes, o.fields),
            Err(r) => Response::Err {
                kind: r.kind.into(),
                message: r.message,
            },
        };
        if out.write_all(resp.to_line().as_bytes()).is_err() || out.flush().is_err() {
            return 2;
        }
        if !serve_loop {
            return 0;
        }
    }
}
