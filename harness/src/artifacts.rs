//! Where the build put the workloads and runners (see `harness/build.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The workloads, in the order tables list them.
pub const WORKLOADS: [&str; 4] = ["noop", "thumbnail", "json-validate", "hash"];

/// Directory holding the nested build's output. `COLDBENCH_ARTIFACTS_DIR` in the
/// environment at run time overrides the path baked in at build time.
pub fn artifacts_dir() -> PathBuf {
    std::env::var_os("COLDBENCH_ARTIFACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("COLDBENCH_ARTIFACTS_DIR")))
}

/// The repository the harness was built from.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("COLDBENCH_REPO_DIR"))
}

/// The `wasm32-wasip1` module of `workload` (a command's own file).
pub fn wasm_module(workload: &str) -> PathBuf {
    if let Some(c) = command(workload) {
        return c.wasm.clone();
    }
    artifacts_dir()
        .join("wasm32-wasip1")
        .join("release")
        .join(format!("{workload}.wasm"))
}

/// The static `x86_64-unknown-linux-musl` binary of `workload` (a
/// command's own; an empty path if it has none: see [`native_missing`]).
pub fn static_binary(workload: &str) -> PathBuf {
    if let Some(c) = command(workload) {
        return c.native.clone().unwrap_or_default();
    }
    artifacts_dir()
        .join("x86_64-unknown-linux-musl")
        .join("release")
        .join(workload)
}

/// The dynamically linked `x86_64-unknown-linux-gnu` (glibc) binary of
/// `workload`, for images with a distribution root filesystem.
pub fn glibc_binary(workload: &str) -> PathBuf {
    if let Some(c) = command(workload) {
        // A command comes as one static binary: it runs on a distribution
        // root filesystem too.
        return c.native.clone().unwrap_or_default();
    }
    artifacts_dir()
        .join("x86_64-unknown-linux-gnu")
        .join("release")
        .join(workload)
}

/// The runner binary for `runtime` (e.g. `wasmtime`): built by
/// `harness/build.rs` into its own target directory,
/// `<artifacts>/runner-<runtime>/release/coldbench-runner-<runtime>`, or for
/// another version (`wasmtime@36`) by `scripts/build-runtime-version.sh`.
pub fn runner_binary(runtime: &str) -> PathBuf {
    let name = format!("coldbench-runner-{runtime}");
    if runtime.contains('@') {
        versions_dir().join("bin").join(name)
    } else {
        artifacts_dir()
            .join(format!("runner-{runtime}"))
            .join("release")
            .join(name)
    }
}

/// Where `scripts/build-runtime-version.sh` puts the runners it builds
/// against other runtime versions (`bin/coldbench-runner-<runtime>@<version>`):
/// `COLDBENCH_VERSIONS_DIR` if set, else `target/versions` in the repository.
pub fn versions_dir() -> PathBuf {
    std::env::var_os("COLDBENCH_VERSIONS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("target").join("versions"))
}

/// The curated real inputs shipped in the repository (`workloads/inputs`).
pub fn default_inputs_dir() -> PathBuf {
    repo_dir().join("workloads").join("inputs")
}

/// A user's own WASI command, measured as a workload ("command mode",
/// `--workload NAME=PATH.wasm[:NATIVE_BINARY]`): it is given its
/// arguments and one input file on stdin, runs to exit, and its response is
/// its stdout's CRC-32 — with exit status 0 required — verified across
/// targets like every response. No ready line: its cold start is the whole
/// life of the command (`t_first_response`: start → end of stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandWorkload {
    /// Its name in tables and `run.json`: `[a-z0-9][a-z0-9-]*`, at most 40
    /// characters, not a shipped workload's.
    pub name: String,
    /// The `wasm32-wasip1` command module (exports `_start`).
    pub wasm: PathBuf,
    /// The same program as a static Linux binary, for `native` (the
    /// reference checksums) and the container targets; `None`: those
    /// targets are skipped with the reason.
    pub native: Option<PathBuf>,
    /// Arguments after the program name, in order.
    pub args: Vec<String>,
    /// Input files, one case each, given whole on stdin
    /// (`--workload-input NAME=FILE`); none: one case with empty stdin.
    pub inputs: Vec<PathBuf>,
    /// A directory the command sees as its working directory, read only
    /// (`--workload-dir NAME=DIR`; absolute once [`CommandWorkload::check`]ed):
    /// a Wasm guest gets it preopened as `.`, a native process starts in
    /// it, a container has it bind-mounted read-only as its working
    /// directory ([`coldbench_containers::WORKLOAD_DIR_MOUNT`]). Each
    /// target's `workload_dir` knob says whether it enforces read-only.
    /// `None`: no directory.
    pub dir: Option<PathBuf>,
}

/// The registered commands; shared, so that the lookups on a start's path
/// copy a pointer, not the command.
static COMMANDS: std::sync::RwLock<BTreeMap<String, Arc<CommandWorkload>>> =
    std::sync::RwLock::new(BTreeMap::new());

/// Makes `cmd` known to every target of this process (targets resolve
/// workload names to files here, cases read its inputs). Registering the
/// same name again replaces it. Check it first ([`CommandWorkload::parse`],
/// [`CommandWorkload::check`]).
pub fn register_command(cmd: CommandWorkload) {
    COMMANDS
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(cmd.name.clone(), Arc::new(cmd));
}

/// The command workload registered as `name`, if any.
pub fn command(name: &str) -> Option<Arc<CommandWorkload>> {
    COMMANDS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(name)
        .cloned()
}

/// Whether `name` is a shipped workload or a registered command.
pub fn is_known_workload(name: &str) -> bool {
    WORKLOADS.contains(&name) || command(name).is_some()
}

/// The `--workload-dir` of command `workload` (absolute), if it has one.
pub fn workload_dir(workload: &str) -> Option<PathBuf> {
    command(workload).and_then(|c| c.dir.clone())
}

/// Why `workload` has no native binary (a command given without one), or
/// `None` when it has one.
pub fn native_missing(workload: &str) -> Option<String> {
    match command(workload) {
        Some(c) if c.native.is_none() => Some(format!(
            "workload `{workload}` was given without a native binary (`--workload {workload}=PATH.wasm:NATIVE_BINARY`): native and container targets need a static Linux build of the same program"
        )),
        _ => None,
    }
}

/// Why a command workload (`--workload`) cannot be measured; each names the
/// flag or the file, what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The `--workload` value is malformed.
    #[error("--workload `{spec}`: {why}")]
    Spec {
        /// The value as given.
        spec: String,
        /// What is wrong with it.
        why: String,
    },
    /// `--workload-dir` names no directory.
    #[error("workload `{workload}`: --workload-dir {} is not a directory: give an existing directory", dir.display())]
    NotADirectory {
        /// The workload's name.
        workload: String,
        /// The path given.
        dir: PathBuf,
    },
    /// A file of the workload cannot be read.
    #[error("workload `{workload}`: cannot read {what} {}: {detail}", path.display())]
    Unreadable {
        /// The workload's name.
        workload: String,
        /// `Wasm module` or `native binary`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The reader's error.
        detail: String,
    },
    /// The module is not a WASI preview 1 command ([`check_wasi_command`]).
    #[error("workload `{workload}`: {} is not a WASI command module: {why}", path.display())]
    NotWasiCommand {
        /// The workload's name.
        workload: String,
        /// The module.
        path: PathBuf,
        /// Why not, and what to build instead.
        why: String,
    },
    /// The native binary is not a static x86-64 executable ([`check_static_elf`]).
    #[error("workload `{workload}`: native binary {} cannot be used: {why}", path.display())]
    NotStaticElf {
        /// The workload's name.
        workload: String,
        /// The binary.
        path: PathBuf,
        /// Why not, and what to build instead.
        why: String,
    },
}

impl CommandError {
    fn spec(spec: &str, why: impl Into<String>) -> CommandError {
        CommandError::Spec {
            spec: spec.to_string(),
            why: why.into(),
        }
    }
}

impl CommandWorkload {
    /// Parses `NAME=PATH.wasm[:NATIVE_BINARY]` (the `--workload` value).
    ///
    /// Errors: no `=`, a bad name (see [`CommandWorkload::name`]), an empty path.
    pub fn parse(spec: &str) -> Result<CommandWorkload, CommandError> {
        let (name, paths) = spec
            .split_once('=')
            .ok_or_else(|| CommandError::spec(spec, "not NAME=PATH.wasm[:NATIVE_BINARY]"))?;
        let (wasm, native) = match paths.split_once(':') {
            Some((w, n)) => (w, Some(n)),
            None => (paths, None),
        };
        if wasm.is_empty() || native.is_some_and(str::is_empty) {
            return Err(CommandError::spec(
                spec,
                "empty path (NAME=PATH.wasm[:NATIVE_BINARY])",
            ));
        }
        let ok_name = !name.is_empty()
            && name.len() <= 40
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok_name {
            return Err(CommandError::spec(
                spec,
                format!(
                    "name `{name}` must be lower-case letters, digits and `-` (at most 40, starting with a letter or digit): it names images, rows and files"
                ),
            ));
        }
        if WORKLOADS.contains(&name) {
            return Err(CommandError::spec(
                spec,
                format!("`{name}` is a shipped workload; give your command another name"),
            ));
        }
        Ok(CommandWorkload {
            name: name.to_string(),
            wasm: PathBuf::from(wasm),
            native: native.map(PathBuf::from),
            args: Vec::new(),
            inputs: Vec::new(),
            dir: None,
        })
    }

    /// Checks the files before anything is measured: the module is a core
    /// Wasm module (not a component) that exports `_start` and imports only
    /// WASI preview 1 (`wasi_snapshot_preview1`); the native binary is an
    /// x86-64 ELF executable without a dynamic loader (containers start it
    /// from an empty root filesystem).
    ///
    /// The directory, when given, must exist and is made absolute; so are
    /// the module's and the binary's paths once checked (targets start
    /// elsewhere: a native command runs in its directory, so a relative
    /// binary path would name a file there).
    ///
    /// Errors: [`CommandError`], naming the file, what is wrong and what to do.
    pub fn check(&mut self) -> Result<(), CommandError> {
        if let Some(d) = &self.dir {
            let abs = std::fs::canonicalize(d)
                .ok()
                .filter(|p| p.is_dir())
                .ok_or_else(|| CommandError::NotADirectory {
                    workload: self.name.clone(),
                    dir: d.clone(),
                })?;
            self.dir = Some(abs);
        }
        let bytes = std::fs::read(&self.wasm).map_err(|e| CommandError::Unreadable {
            workload: self.name.clone(),
            what: "Wasm module",
            path: self.wasm.clone(),
            detail: e.to_string(),
        })?;
        check_wasi_command(&bytes).map_err(|why| CommandError::NotWasiCommand {
            workload: self.name.clone(),
            path: self.wasm.clone(),
            why,
        })?;
        if let Some(n) = &self.native {
            let bytes = std::fs::read(n).map_err(|e| CommandError::Unreadable {
                workload: self.name.clone(),
                what: "native binary",
                path: n.clone(),
                detail: e.to_string(),
            })?;
            check_static_elf(&bytes).map_err(|why| CommandError::NotStaticElf {
                workload: self.name.clone(),
                path: n.clone(),
                why,
            })?;
        }
        fn absolute(p: &Path) -> PathBuf {
            std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
        }
        self.wasm = absolute(&self.wasm);
        self.native = self.native.as_deref().map(absolute);
        Ok(())
    }
}

/// `Ok` if `bytes` is a core Wasm module exporting a `_start` function and
/// importing only from `wasi_snapshot_preview1`; else why not.
pub fn check_wasi_command(bytes: &[u8]) -> Result<(), String> {
    use wasmparser::{Encoding, ExternalKind, Parser, Payload};
    if !bytes.starts_with(b"\0asm") {
        return Err(
            "it does not start with the Wasm magic bytes `\\0asm`: build it for `wasm32-wasip1`"
                .into(),
        );
    }
    let mut start = false;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| format!("it does not parse: {e}"))? {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => {
                return Err("it is a component (WASI preview 2), not a core module: build it for `wasm32-wasip1`".into());
            }
            Payload::ImportSection(imports) => {
                for i in imports {
                    let i = i.map_err(|e| format!("bad import section: {e}"))?;
                    if i.module != "wasi_snapshot_preview1" {
                        return Err(format!(
                            "it imports `{}` from module `{}`; only WASI preview 1 (`wasi_snapshot_preview1`) is provided",
                            i.name, i.module
                        ));
                    }
                }
            }
            Payload::ExportSection(exports) => {
                for e in exports {
                    let e = e.map_err(|e| format!("bad export section: {e}"))?;
                    if e.name == "_start" && e.kind == ExternalKind::Func {
                        start = true;
                    }
                }
            }
            _ => {}
        }
    }
    if start {
        Ok(())
    } else {
        Err("it exports no `_start` function (a library or reactor module, not a command): build a binary crate for `wasm32-wasip1`".into())
    }
}

/// `Ok` if `bytes` is an x86-64 ELF executable with no `PT_INTERP`
/// program header (statically linked); else why not.
pub fn check_static_elf(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(b"\x7fELF") {
        return Err("it is not an ELF file".into());
    }
    if bytes.len() < 64 || bytes[4] != 2 || bytes[5] != 1 {
        return Err("it is not a 64-bit little-endian ELF file".into());
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
    let e_type = u16_at(16);
    if e_type != 2 && e_type != 3 {
        return Err(format!("ELF type {e_type} is not an executable"));
    }
    if u16_at(18) != 62 {
        return Err(format!("ELF machine {} is not x86-64", u16_at(18)));
    }
    let phoff = u64::from_le_bytes(bytes[32..40].try_into().expect("8 bytes")) as usize;
    let phentsize = usize::from(u16_at(54));
    let phnum = usize::from(u16_at(56));
    for i in 0..phnum {
        let o = phoff.saturating_add(i.saturating_mul(phentsize));
        let Some(h) = bytes.get(o..o + 4) else {
            return Err("its program headers are truncated".into());
        };
        if u32::from_le_bytes(h.try_into().expect("4 bytes")) == 3 {
            return Err("it is dynamically linked (has a PT_INTERP loader): build it statically, e.g. for `x86_64-unknown-linux-musl`".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_specs_parse_or_say_what_is_wrong() {
        let c = CommandWorkload::parse("jaq=/x/jaq.wasm:/x/jaq").unwrap();
        assert_eq!(c.name, "jaq");
        assert_eq!(c.wasm, PathBuf::from("/x/jaq.wasm"));
        assert_eq!(c.native, Some(PathBuf::from("/x/jaq")));
        let c = CommandWorkload::parse("my-tool2=t.wasm").unwrap();
        assert_eq!(c.native, None);
        for (bad, says) in [
            ("jaq", "NAME=PATH"),
            ("jaq=", "empty path"),
            ("jaq=a.wasm:", "empty path"),
            ("Jaq=a.wasm", "lower-case"),
            ("-x=a.wasm", "lower-case"),
            ("hash=a.wasm", "shipped workload"),
        ] {
            let e = CommandWorkload::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    /// A minimal module: type `() -> ()`, imports, one function, exports.
    fn module(import_module: &str, export: &str) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        // type section: 1 type, func () -> ()
        m.extend([1, 4, 1, 0x60, 0, 0]);
        // import section: 1 import `<module>.f` func type 0
        let mut imp = vec![1, import_module.len() as u8];
        imp.extend(import_module.as_bytes());
        imp.extend([1, b'f', 0, 0]);
        m.push(2);
        m.push(imp.len() as u8);
        m.extend(imp);
        // function section: 1 function of type 0
        m.extend([3, 2, 1, 0]);
        // export section: `<export>` = func 1
        let mut exp = vec![1, export.len() as u8];
        exp.extend(export.as_bytes());
        exp.extend([0, 1]);
        m.push(7);
        m.push(exp.len() as u8);
        m.extend(exp);
        // code section: 1 body, no locals, `end`
        m.extend([10, 4, 1, 2, 0, 0x0b]);
        m
    }

    #[test]
    fn only_core_wasi_preview1_commands_pass_the_check() {
        assert_eq!(
            check_wasi_command(&module("wasi_snapshot_preview1", "_start")),
            Ok(())
        );
        let e = check_wasi_command(&module("wasi_snapshot_preview1", "run")).unwrap_err();
        assert!(e.contains("no `_start`"), "{e}");
        let e = check_wasi_command(&module("env", "_start")).unwrap_err();
        assert!(e.contains("module `env`"), "{e}");
        let e = check_wasi_command(b"\0asm\x0d\0\x01\0").unwrap_err();
        assert!(e.contains("component"), "{e}");
        let e = check_wasi_command(b"#!/bin/sh\n").unwrap_err();
        assert!(e.contains("magic"), "{e}");
        let mut cut = module("wasi_snapshot_preview1", "_start");
        cut.truncate(cut.len() - 3);
        assert!(check_wasi_command(&cut).unwrap_err().contains("parse"));
    }

    #[test]
    fn static_binaries_pass_and_dynamic_ones_are_told_apart() {
        // The build's own static workload binary, and the host's dynamic ls.
        let b = std::fs::read(static_binary("noop")).expect("built by harness/build.rs");
        assert_eq!(check_static_elf(&b), Ok(()));
        let b = std::fs::read(glibc_binary("noop")).expect("built by harness/build.rs");
        let e = check_static_elf(&b).unwrap_err();
        assert!(e.contains("dynamically linked"), "{e}");
        assert!(
            check_static_elf(b"text")
                .unwrap_err()
                .contains("not an ELF")
        );
        let mut head = b"\x7fELF\x02\x01".to_vec();
        head.resize(64, 0);
        assert!(
            check_static_elf(&head)
                .unwrap_err()
                .contains("not an executable")
        );
    }
}
