//! `hostile`: a workload that misbehaves on request, for the fault tests
//! (`harness/tests/faults.rs`), never measured. It speaks the stdio protocol
//! like every workload (ready line, one request, one response) and does what
//! the request's `mode` parameter says:
//!
//! - `ok`: answers at once with an empty result (a well-behaved sibling);
//! - `loop`: spins forever without a host call (stopped only from outside:
//!   epoch interruption, a killed runner or process);
//! - `trap`: executes an `unreachable` (Wasm) / aborts (native);
//! - `panic`: panics (the workloads build with `panic = "abort"`);
//! - `grow`: allocates and touches 16 MiB blocks until refused or
//!   `limit_mib` (default 8192) is reached; answers `grown_mib=N` if it was
//!   refused gracefully;
//! - `flood`: writes `bytes` (default 1 GiB) to stdout without a newline;
//! - `escape`: tries what a sandboxed guest must not manage — read
//!   `/etc/passwd`, list `/`, read the environment, open a TCP connection to
//!   `127.0.0.1:<port>` (param `port`, default 9) and spawn a process — and
//!   answers each outcome as a field (`file=`, `dir=`, `env_vars=`, `net=`,
//!   `spawn=`: `denied:<error kind>` or what it got), plus the network
//!   interfaces it can see (`ifaces=`, from `/proc/net/dev`);
//! - `wrong`: answers a result that depends on where it runs (`wasm` or
//!   `native`): a Wasm target's answer differs from native's, as a broken
//!   runtime's would;
//! - `fork`: spawns copies of itself that sleep 2 s, up to `max` (default
//!   200), and answers `spawned=N` and why it stopped — after they have all
//!   ended, or at once with `wait=no` (they outlive the answer);
//!
//! Started with `--dir-probe` it is instead a command (`--workload`, run to
//! exit) for the `--workload-dir` tests: it prints the file `probe.txt` of
//! its working directory, then tries to create `written-by-guest` beside it
//! and says nothing of the outcome — its output is the same whether the
//! directory is read-only or not; the test looks at the directory.

use coldbench_protocol::workload::{Output, Rejection, serve};
use std::io::Write;

fn main() {
    if std::env::args().any(|a| a == "--child-sleep") {
        std::thread::sleep(std::time::Duration::from_secs(2));
        return;
    }
    if std::env::args().any(|a| a == "--dir-probe") {
        match std::fs::read("probe.txt") {
            Ok(text) => {
                let _ = std::io::stdout().write_all(&text);
            }
            Err(e) => {
                eprintln!("hostile --dir-probe: cannot read probe.txt: {e}");
                std::process::exit(3);
            }
        }
        let _ = std::fs::write("written-by-guest", b"the directory was writable\n");
        return;
    }
    std::process::exit(serve("hostile", |req| {
        let mode = req.param("mode").unwrap_or("ok");
        let num = |k: &str, default: u64| -> Result<u64, Rejection> {
            req.param(k).map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| Rejection::new("params", format!("{k}={v} is not a number")))
            })
        };
        match mode {
            "ok" => Ok(Output::default()),
            "loop" => {
                let mut i = 0u64;
                loop {
                    i = std::hint::black_box(i.wrapping_add(1));
                }
            }
            "trap" => trap(),
            "panic" => panic!("hostile guest panics on purpose"),
            "grow" => Ok(field(
                "grown_mib",
                grow(num("limit_mib", 8192)?).to_string(),
            )),
            "flood" => {
                flood(num("bytes", 1 << 30)?);
                Ok(Output::default())
            }
            "escape" => Ok(escape(num("port", 9)? as u16)),
            "fork" => Ok(fork(num("max", 200)?, req.param("wait") != Some("no"))),
            "wrong" => Ok(Output {
                bytes: if cfg!(target_family = "wasm") {
                    b"wasm".to_vec()
                } else {
                    b"native".to_vec()
                },
                fields: Vec::new(),
            }),
            other => Err(Rejection::new("params", format!("unknown mode `{other}`"))),
        }
    }));
}

fn field(k: &str, v: String) -> Output {
    Output {
        bytes: Vec::new(),
        fields: vec![(k.to_string(), v)],
    }
}

#[cfg(target_family = "wasm")]
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_family = "wasm"))]
fn trap() -> ! {
    std::process::abort()
}

/// Allocates 16 MiB blocks and touches every 4 KiB page of each (reserved
/// but untouched memory costs nothing) until an allocation is refused or
/// `limit_mib` is held; returns the MiB held. The blocks are never freed:
/// the process ends after its answer.
fn grow(limit_mib: u64) -> u64 {
    const BLOCK: usize = 16 << 20;
    let layout = std::alloc::Layout::from_size_align(BLOCK, 4096).expect("valid layout");
    let mut held = 0u64;
    while held * 16 < limit_mib {
        // SAFETY: a non-zero-sized layout; a null result is checked.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        if p.is_null() {
            break;
        }
        for i in (0..BLOCK).step_by(4096) {
            // SAFETY: `i` < BLOCK, inside the block just allocated.
            unsafe { p.add(i).write_volatile(1) };
        }
        held += 1;
    }
    held * 16
}

/// Writes `bytes` bytes of `x` to stdout in 64 KiB writes, no newline.
fn flood(bytes: u64) {
    let chunk = vec![b'x'; 64 << 10];
    let mut out = std::io::stdout().lock();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        if out.write_all(&chunk[..n]).is_err() {
            return;
        }
        left -= n as u64;
    }
    let _ = out.flush();
}

fn denied(e: std::io::Error) -> String {
    format!("denied:{:?}", e.kind())
}

/// Tries what a sandboxed guest must not manage; one field per attempt.
fn escape(port: u16) -> Output {
    let file = match std::fs::read("/etc/passwd") {
        Ok(b) => format!("read:{}B", b.len()),
        Err(e) => denied(e),
    };
    let dir = match std::fs::read_dir("/") {
        Ok(d) => format!("listed:{}", d.count()),
        Err(e) => denied(e),
    };
    let env_vars = std::env::vars_os().count().to_string();
    let net = match std::net::TcpStream::connect(("127.0.0.1", port)) {
        Ok(_) => "connected".to_string(),
        Err(e) => denied(e),
    };
    let ifaces = match std::fs::read_to_string("/proc/net/dev") {
        Ok(t) => {
            let names: Vec<&str> = t
                .lines()
                .skip(2)
                .filter_map(|l| l.split(':').next())
                .map(str::trim)
                .collect();
            names.join(",")
        }
        Err(e) => denied(e),
    };
    let spawn = match std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg("true")
        .status()
    {
        Ok(s) => format!("ran:{}", s.code().unwrap_or(-1)),
        Err(e) => denied(e),
    };
    Output {
        bytes: Vec::new(),
        fields: vec![
            ("file".into(), file),
            ("dir".into(), dir),
            ("env_vars".into(), env_vars),
            ("net".into(), net),
            ("spawn".into(), spawn),
            ("ifaces".into(), ifaces),
        ],
    }
}

/// Spawns sleeping copies of itself until refused or `max`; answers how many
/// and why it stopped.
fn fork(max: u64, wait: bool) -> Output {
    let mut children = Vec::new();
    let mut stopped = "max".to_string();
    while (children.len() as u64) < max {
        match std::process::Command::new("/proc/self/exe")
            .arg("--child-sleep")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
        {
            Ok(c) => children.push(c),
            Err(e) => {
                stopped = denied(e);
                break;
            }
        }
    }
    let spawned = children.len();
    if wait {
        for mut c in children {
            let _ = c.wait();
        }
    }
    Output {
        bytes: Vec::new(),
        fields: vec![
            ("spawned".into(), spawned.to_string()),
            ("stopped".into(), stopped),
        ],
    }
}
