//! The wire formats that make "identical workload" literally true.
//!
//! Every coldbench workload, in every target (native process, Wasm module in a
//! runner, container), speaks the same **stdio protocol**:
//!
//! 1. as soon as `main` is reached it writes one *ready line* to stdout:
//!    `COLDBENCH-READY <workload> <protocol-version>\n`;
//! 2. it reads a *request* from stdin: a header line
//!    `REQ <params> <name>:<len_bytes> ...\n` followed by the raw bytes of each
//!    named part, in order (`<params>` is `k=v;k=v` or `-` when empty);
//! 3. it writes one *response line*:
//!    `RES ok crc32=<8 hex> out_bytes=<n> [k=v ...]\n` or
//!    `RES err <kind> <message>\n`;
//! 4. in one-shot mode (the default) it exits after one response; started with
//!    `--serve` it loops until stdin reaches end of file.
//!
//! The CRC-32 (IEEE) of the workload's result bytes is what the harness compares
//! across targets: a target that answers differently from `native` for the same
//! input is an error, never a fast sample.
//!
//! [`runner`] holds the framing between the harness and a runtime runner
//! process, and [`monotonic_ns`] the clock both sides read.

#![deny(missing_docs)]

use std::fmt;
use std::io::{self, BufRead, Read, Write};

pub mod runner;
pub mod workload;

/// Version of the stdio protocol; written in the ready line and checked by the harness.
pub const PROTOCOL_VERSION: u32 = 1;

/// First word of the ready line.
pub const READY_PREFIX: &str = "COLDBENCH-READY";

/// Largest accepted request header line, in bytes (the parts themselves are unbounded).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Errors reading or writing the protocol.
#[derive(Debug)]
pub enum ProtocolError {
    /// The underlying stream failed.
    Io(io::Error),
    /// A line did not follow the grammar; the string says which line and why.
    Malformed(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Io(e) => write!(f, "protocol i/o error: {e}"),
            ProtocolError::Malformed(m) => write!(f, "malformed protocol line: {m}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

impl From<io::Error> for ProtocolError {
    fn from(e: io::Error) -> Self {
        ProtocolError::Io(e)
    }
}

/// One named input of a request (e.g. `input`, `schema`, or a sibling schema's file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Name of the part: ASCII, no whitespace, no `:`.
    pub name: String,
    /// Raw bytes of the part.
    pub bytes: Vec<u8>,
}

/// A request: workload parameters plus named input parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Parameters as ordered `(key, value)` pairs; neither may contain whitespace, `;` or `=`.
    pub params: Vec<(String, String)>,
    /// Input parts, in the order they are sent.
    pub parts: Vec<Part>,
}

impl Request {
    /// Value of parameter `key`, if present.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Bytes of the part named `name`, if present.
    pub fn part(&self, name: &str) -> Option<&[u8]> {
        self.parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.bytes.as_slice())
    }

    /// Total size of all parts, in bytes.
    pub fn payload_bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes.len() as u64).sum()
    }

    /// Serializes the request (header line then parts) into `w`.
    ///
    /// Errors: [`ProtocolError::Malformed`] if a name or parameter contains a
    /// reserved character; [`ProtocolError::Io`] if writing fails.
    pub fn write_to(&self, w: &mut impl Write) -> Result<(), ProtocolError> {
        let mut header = String::from("REQ ");
        if self.params.is_empty() {
            header.push('-');
        } else {
            for (i, (k, v)) in self.params.iter().enumerate() {
                for s in [k, v] {
                    if s.is_empty() || s.contains([';', '=', ' ', '\n', '\t']) {
                        return Err(ProtocolError::Malformed(format!(
                            "request parameter {k:?}={v:?} contains a reserved character or is empty"
                        )));
                    }
                }
                if i > 0 {
                    header.push(';');
                }
                header.push_str(k);
                header.push('=');
                header.push_str(v);
            }
        }
        for p in &self.parts {
            if p.name.is_empty() || p.name.contains([':', ' ', '\n', '\t']) {
                return Err(ProtocolError::Malformed(format!(
                    "part name {:?} is empty or contains whitespace or ':'",
                    p.name
                )));
            }
            header.push(' ');
            header.push_str(&p.name);
            header.push(':');
            header.push_str(&p.bytes.len().to_string());
        }
        header.push('\n');
        w.write_all(header.as_bytes())?;
        for p in &self.parts {
            w.write_all(&p.bytes)?;
        }
        w.flush()?;
        Ok(())
    }

    /// Serializes the request into a new buffer (see [`Request::write_to`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ProtocolError> {
        let mut v = Vec::with_capacity(self.payload_bytes() as usize + 128);
        self.write_to(&mut v)?;
        Ok(v)
    }

    /// Reads one request from `r`. Returns `Ok(None)` on a clean end of file
    /// before any header byte.
    ///
    /// Errors: [`ProtocolError::Malformed`] for a bad header,
    /// [`ProtocolError::Io`] for a read failure or a truncated part.
    pub fn read_from(r: &mut impl BufRead) -> Result<Option<Request>, ProtocolError> {
        let mut line = Vec::new();
        let n = r
            .by_ref()
            .take(MAX_HEADER_BYTES as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') {
            return Err(ProtocolError::Malformed(
                "request header is not terminated by a newline (or longer than 64 KiB)".into(),
            ));
        }
        let line = std::str::from_utf8(&line[..line.len() - 1])
            .map_err(|_| ProtocolError::Malformed("request header is not UTF-8".into()))?;
        let mut words = line.split(' ');
        if words.next() != Some("REQ") {
            return Err(ProtocolError::Malformed(format!(
                "expected a line starting with `REQ`, got {:?}",
                truncate(line, 80)
            )));
        }
        let params_word = words.next().ok_or_else(|| {
            ProtocolError::Malformed("request header has no parameter field".into())
        })?;
        let mut params = Vec::new();
        if params_word != "-" {
            for kv in params_word.split(';') {
                let (k, v) = kv.split_once('=').ok_or_else(|| {
                    ProtocolError::Malformed(format!("request parameter {kv:?} is not k=v"))
                })?;
                params.push((k.to_string(), v.to_string()));
            }
        }
        let mut lens = Vec::new();
        for w in words {
            let (name, len) = w.rsplit_once(':').ok_or_else(|| {
                ProtocolError::Malformed(format!("request part {w:?} is not name:len"))
            })?;
            let len: usize = len.parse().map_err(|_| {
                ProtocolError::Malformed(format!("request part {w:?} has a bad length"))
            })?;
            lens.push((name.to_string(), len));
        }
        let mut parts = Vec::with_capacity(lens.len());
        for (name, len) in lens {
            // Grown as bytes arrive, never allocated from the header's claim:
            // a header announcing more than will come costs nothing.
            let mut bytes = Vec::new();
            r.by_ref().take(len as u64).read_to_end(&mut bytes)?;
            if bytes.len() != len {
                return Err(ProtocolError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "request part {name:?} announced {len} bytes, {} arrived",
                        bytes.len()
                    ),
                )));
            }
            parts.push(Part { name, bytes });
        }
        Ok(Some(Request { params, parts }))
    }
}

/// A workload's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The workload produced a result.
    Ok {
        /// CRC-32 (IEEE) of the result bytes.
        crc32: u32,
        /// Length of the result bytes.
        out_bytes: u64,
        /// Extra workload-specific facts (e.g. `valid=true`, `width=256`), informational only.
        fields: Vec<(String, String)>,
    },
    /// The workload rejected the input (corrupt image, invalid JSON, ...).
    Err {
        /// Short machine-readable kind, e.g. `decode`, `parse`, `params`.
        kind: String,
        /// Human-readable message (single line).
        message: String,
    },
}

impl Response {
    /// Builds an `Ok` response for `result` bytes, computing its CRC-32.
    pub fn ok(result: &[u8], fields: Vec<(String, String)>) -> Response {
        Response::Ok {
            crc32: checksum(result),
            out_bytes: result.len() as u64,
            fields,
        }
    }

    /// Renders the response line, including its trailing newline.
    pub fn to_line(&self) -> String {
        match self {
            Response::Ok {
                crc32,
                out_bytes,
                fields,
            } => {
                let mut s = format!("RES ok crc32={crc32:08x} out_bytes={out_bytes}");
                for (k, v) in fields {
                    s.push(' ');
                    s.push_str(&sanitize(k));
                    s.push('=');
                    s.push_str(&sanitize(v));
                }
                s.push('\n');
                s
            }
            Response::Err { kind, message } => {
                format!(
                    "RES err {} {}\n",
                    sanitize(kind),
                    message.replace('\n', " ")
                )
            }
        }
    }

    /// Parses a response line (with or without its trailing newline).
    ///
    /// Errors: [`ProtocolError::Malformed`] if the line is not a response.
    pub fn parse_line(line: &str) -> Result<Response, ProtocolError> {
        let line = line.trim_end_matches(['\n', '\r']);
        let bad =
            || ProtocolError::Malformed(format!("bad response line {:?}", truncate(line, 120)));
        let rest = line.strip_prefix("RES ").ok_or_else(bad)?;
        if let Some(rest) = rest.strip_prefix("err ") {
            let (kind, message) = rest.split_once(' ').unwrap_or((rest, ""));
            return Ok(Response::Err {
                kind: kind.to_string(),
                message: message.to_string(),
            });
        }
        let rest = rest.strip_prefix("ok").ok_or_else(bad)?;
        let mut crc32 = None;
        let mut out_bytes = None;
        let mut fields = Vec::new();
        for w in rest.split(' ').filter(|w| !w.is_empty()) {
            let (k, v) = w.split_once('=').ok_or_else(bad)?;
            match k {
                "crc32" => crc32 = Some(u32::from_str_radix(v, 16).map_err(|_| bad())?),
                "out_bytes" => out_bytes = Some(v.parse().map_err(|_| bad())?),
                _ => fields.push((k.to_string(), v.to_string())),
            }
        }
        Ok(Response::Ok {
            crc32: crc32.ok_or_else(bad)?,
            out_bytes: out_bytes.ok_or_else(bad)?,
            fields,
        })
    }
}

/// The ready line a workload writes when `main` is reached (with trailing newline).
pub fn ready_line(workload: &str) -> String {
    format!("{READY_PREFIX} {workload} {PROTOCOL_VERSION}\n")
}

/// Parses a ready line; returns the workload name.
///
/// Errors: [`ProtocolError::Malformed`] if the line is not a ready line of this
/// protocol version.
pub fn parse_ready_line(line: &str) -> Result<String, ProtocolError> {
    let line = line.trim_end_matches(['\n', '\r']);
    let mut w = line.split(' ');
    match (w.next(), w.next(), w.next(), w.next()) {
        (Some(READY_PREFIX), Some(name), Some(v), None) if v == PROTOCOL_VERSION.to_string() => {
            Ok(name.to_string())
        }
        _ => Err(ProtocolError::Malformed(format!(
            "expected `{READY_PREFIX} <workload> {PROTOCOL_VERSION}`, got {:?}",
            truncate(line, 120)
        ))),
    }
}

/// CRC-32 (IEEE 802.3 polynomial) of `bytes`: the verification checksum of a result.
pub fn checksum(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Nanoseconds on `CLOCK_MONOTONIC` (Linux). The harness and every runner read this
/// same clock so that in-runner phase timestamps can be placed on the harness's
/// timeline. Not available off Linux (the Wasm guests never call it).
#[cfg(target_os = "linux")]
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_whitespace() || c == '=' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max_chars).collect();
        t.push('…');
        t
    }
}
