//! `cli-<runtime>`: each start spawns the runtime's own command-line tool on
//! the module, as a user of `wasmtime run` does — so the figures include
//! what the CLI adds over an embedded runtime (process start, engine
//! set-up, compilation cache lookup or compile, WASI context).
//!
//! A runtime's tool is found, in this order, where `--cli-runtime NAME=PATH`
//! put it ([`parse_runtime`], carried in [`HostProbe::cli_tools`]), in the
//! set-up's tools directory
//! ([`tools_dir`], `scripts/install-cli-runtimes.sh`), then on `PATH`.
//! Runtimes the set-up cannot install on these machines (WasmEdge, wasm3:
//! neither is in Debian's packages, crates.io or PyPI) are listed by
//! `coldbench targets` as unavailable with the command that installs them.

use super::native::NativeInstance;
use super::{
    BuildContext, HostProbe, Instance, Priors, Target, TargetError, TargetFamily, TargetResult,
    Variant, compile_prior_s, file_artifact, heavy, require_built,
};
use crate::artifacts::{repo_dir, wasm_module};
use coldbench_results::{Artifact, ArtifactKind, BeforeClock, Family, TargetRecord};
use std::collections::{BTreeMap, HashMap};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a CLI variant runs a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliMode {
    /// `wasmtime run` on the `.wasm` with the CLI's default compilation
    /// cache on (pointed at the run's cache directory): the first start
    /// compiles, every later one looks the module up and loads it.
    WasmtimeCached,
    /// `wasmtime compile` once at prepare (not timed as cold start), then
    /// `wasmtime run --allow-precompiled` on the `.cwasm` at every start.
    WasmtimePrecompiled,
    /// `wasmedge <module> <args>` (its interpreter/AOT as configured by its install).
    Wasmedge,
    /// `wasm3 <module> <args>`: the wasm3 interpreter (MVP feature set only).
    Wasm3,
}

/// One `cli-*` variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CliVariant {
    /// Stable id (`cli-wasmtime`, `cli-wasmtime-aot`, `cli-wasmedge`, `cli-wasm3`).
    pub id: &'static str,
    /// The tool's name (`wasmtime`), as `--cli-runtime` and `PATH` know it.
    pub tool: &'static str,
    /// How a start runs the module.
    pub mode: CliMode,
    /// What happens at each start.
    pub description: &'static str,
    /// How to install the tool where the set-up cannot (`None`: the set-up does).
    pub install: Option<&'static str>,
}

/// Every CLI variant, in table order.
pub const VARIANTS: [CliVariant; 4] = [
    CliVariant {
        id: "cli-wasmtime",
        tool: "wasmtime",
        mode: CliMode::WasmtimeCached,
        description: "`wasmtime run module.wasm` as a process per start, the CLI's compilation cache on (run's cache dir): process start + engine set-up + cache lookup + load",
        install: None,
    },
    CliVariant {
        id: "cli-wasmtime-aot",
        tool: "wasmtime",
        mode: CliMode::WasmtimePrecompiled,
        description: "`wasmtime run --allow-precompiled module.cwasm` (compiled at prepare by `wasmtime compile`) as a process per start",
        install: None,
    },
    CliVariant {
        id: "cli-wasmedge",
        tool: "wasmedge",
        mode: CliMode::Wasmedge,
        description: "`wasmedge module.wasm` as a process per start",
        install: Some(
            "curl -sSf https://raw.githubusercontent.com/WasmEdge/WasmEdge/master/utils/install.sh | bash \
             (GitHub release; not in Debian's packages, crates.io or PyPI), then `--cli-runtime wasmedge=$HOME/.wasmedge/bin/wasmedge` or put it on PATH",
        ),
    },
    CliVariant {
        id: "cli-wasm3",
        tool: "wasm3",
        mode: CliMode::Wasm3,
        description: "`wasm3 module.wasm` (interpreter, MVP feature set) as a process per start",
        install: Some(
            "git clone https://github.com/wasm3/wasm3 && cmake -S wasm3 -B wasm3/build -DCMAKE_BUILD_TYPE=Release && \
             cmake --build wasm3/build (source only: not in Debian's packages, crates.io or PyPI), then `--cli-runtime wasm3=wasm3/build/wasm3`",
        ),
    },
];

impl CliVariant {
    /// The runtime's name in results files: the tool's with `-cli`
    /// (`wasmtime-cli`), so that a CLI's version is never taken for the
    /// embedded runtime's of the same name in a run's fingerprint.
    pub fn runtime_name(&self) -> String {
        format!("{}-cli", self.tool)
    }
}

/// The runtime CLIs' family.
pub struct CliFamily;

/// The `cli-*` family's registration.
pub static FAMILY: CliFamily = CliFamily;

fn cli_variant(v: &Variant) -> CliVariant {
    *VARIANTS
        .iter()
        .find(|c| c.id == v.id)
        .expect("a cli variant")
}

/// Parses `--cli-runtime NAME=PATH`: the tool `name` is the executable at
/// `path` for every `cli-*` variant using it (the CLI puts the pairs in
/// [`HostProbe::cli_tools`]).
///
/// # Errors
/// The spec has no `=`, or `path` is not an executable file (the message
/// names it).
pub fn parse_runtime(spec: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = spec.split_once('=').ok_or_else(|| {
        format!("--cli-runtime {spec:?}: expected NAME=PATH, e.g. wasmtime=/usr/local/bin/wasmtime")
    })?;
    let path = PathBuf::from(path);
    if !is_executable(&path) {
        return Err(format!(
            "--cli-runtime {name}={}: not an executable file",
            path.display()
        ));
    }
    Ok((name.to_string(), path))
}

/// Where `scripts/install-cli-runtimes.sh` puts the runtime CLIs it
/// installs: `target/tools/bin` of the checkout, or `COLDBENCH_TOOLS_DIR`.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("COLDBENCH_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("target").join("tools").join("bin"))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The executable of `tool`: given by `--cli-runtime` (`given`), else in
/// [`tools_dir`], else on `PATH`.
pub fn find_tool(given: &BTreeMap<String, PathBuf>, tool: &str) -> Option<PathBuf> {
    if let Some(p) = given.get(tool) {
        return Some(p.clone());
    }
    let installed = tools_dir().join(tool);
    if is_executable(&installed) {
        return Some(installed);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| is_executable(p))
    })
}

/// `tool --version`'s first line (e.g. `wasmtime 49.0.3 (f96eabaa1 2026-10-14)`).
fn tool_version(path: &Path) -> Result<String, String> {
    let out = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {} --version: {e}", path.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --version failed ({}): {}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string())
}

impl TargetFamily for CliFamily {
    fn variants(&'static self) -> Vec<Variant> {
        VARIANTS
            .iter()
            .map(|c| Variant {
                id: c.id.to_string(),
                family: Family::Wasm,
                description: format!("{} CLI: {}", c.tool, c.description),
                start: super::new_process(match c.mode {
                    CliMode::WasmtimePrecompiled => &[BeforeClock::ModuleCompiledToFile],
                    _ => &[],
                }),
                provider: self,
            })
            .collect()
    }

    fn availability(&self, v: &Variant, host: &HostProbe) -> Result<(), String> {
        let c = cli_variant(v);
        let Some(path) = find_tool(&host.cli_tools, c.tool) else {
            return Err(format!(
                "no `{}` found (--cli-runtime {}=PATH, {}, PATH); install: {}",
                c.tool,
                c.tool,
                tools_dir().display(),
                c.install.unwrap_or("scripts/install-cli-runtimes.sh")
            ));
        };
        tool_version(&path).map(|_| ())
    }

    fn build(&self, v: &Variant, ctx: &BuildContext<'_>) -> Box<dyn Target> {
        let c = cli_variant(v);
        let tool = find_tool(&ctx.host.cli_tools, c.tool).unwrap_or_else(|| PathBuf::from(c.tool));
        Box::new(CliTarget {
            version: tool_version(&tool).unwrap_or_default(),
            tool,
            variant: c,
            cache_dir: ctx.cache_dir.join(c.id),
            modules: HashMap::new(),
        })
    }

    fn runtime(&self, v: &Variant, _host: &HostProbe) -> (String, String) {
        (cli_variant(v).runtime_name(), String::new())
    }

    /// `wasmtime run` on this host: ~10 ms light (a 70 MB binary's process
    /// start and engine set-up), more with a heavy guest; `wasmtime compile`
    /// as the embedded runner's precompile.
    fn priors(&self, v: &Variant, workload: &str) -> Priors {
        let start_s = if heavy(workload) { 0.04 } else { 0.012 };
        let p = Priors::new(start_s, 0.0005);
        match cli_variant(v).mode {
            CliMode::WasmtimePrecompiled | CliMode::WasmtimeCached => {
                p.with_prepare_s(compile_prior_s(workload))
            }
            CliMode::Wasmedge | CliMode::Wasm3 => p,
        }
    }
}

/// A `cli-*` variant with its tool found.
pub struct CliTarget {
    variant: CliVariant,
    tool: PathBuf,
    version: String,
    /// The variant's own cache directory (`.cwasm` files, wasmtime's cache).
    cache_dir: PathBuf,
    /// workload → the file a start runs (`.wasm`, or `.cwasm` compiled at prepare).
    modules: HashMap<String, PathBuf>,
}

impl CliTarget {
    /// wasmtime's cache configuration pointing at this run's cache directory
    /// (so that runs never share, nor touch `~/.cache/wasmtime`).
    fn wasmtime_cache_config(&self) -> PathBuf {
        self.cache_dir.join("wasmtime-cache.toml")
    }

    fn command(&self, module: &Path, workload: &str, serve: bool) -> Command {
        let mut cmd = Command::new(&self.tool);
        let wasmtime = match self.variant.mode {
            CliMode::WasmtimeCached => {
                cmd.arg("run").arg("-C").arg(format!(
                    "cache-config={}",
                    self.wasmtime_cache_config().display()
                ));
                true
            }
            CliMode::WasmtimePrecompiled => {
                cmd.arg("run").arg("--allow-precompiled");
                true
            }
            CliMode::Wasmedge | CliMode::Wasm3 => false,
        };
        if wasmtime {
            cmd.arg("--argv0").arg(workload);
            // A --workload-dir as `.` (prepare refuses it for the other CLIs).
            if let Some(d) = crate::artifacts::workload_dir(workload) {
                let mut map = d.into_os_string();
                map.push("::.");
                cmd.arg("--dir").arg(map);
            }
        }
        cmd.arg(module);
        cmd.args(super::workload_args(workload, serve));
        cmd
    }
}

impl Target for CliTarget {
    fn id(&self) -> &str {
        self.variant.id
    }

    fn record(&self) -> TargetRecord {
        let mut knobs = BTreeMap::from([
            (
                "per_start".to_string(),
                self.variant.description.to_string(),
            ),
            ("tool".to_string(), self.tool.display().to_string()),
            (
                "host".to_string(),
                "one process per instance (the runtime's CLI)".to_string(),
            ),
        ]);
        if super::any_workload_dir(self.modules.keys()) {
            knobs.insert(
                "workload_dir".into(),
                "a --workload-dir command's directory as `--dir DIR::.`, NOT read-only: the wasmtime CLI's `--dir` grants full access (it has no read-only form)".into(),
            );
        }
        if self.variant.mode == CliMode::WasmtimeCached {
            knobs.insert(
                "cache_config".into(),
                self.wasmtime_cache_config().display().to_string(),
            );
        }
        let mut names: Vec<&String> = self.modules.keys().collect();
        names.sort();
        let mut artifacts = Vec::new();
        for w in names {
            artifacts.push(file_artifact(w, ArtifactKind::Wasm, &wasm_module(w)));
            let m = &self.modules[w];
            if self.variant.mode == CliMode::WasmtimePrecompiled {
                artifacts.push(Artifact {
                    workload: w.clone(),
                    kind: ArtifactKind::Cwasm,
                    bytes: super::file_bytes(m),
                    id: m.display().to_string(),
                });
            }
        }
        TargetRecord {
            id: self.variant.id.into(),
            family: Family::Wasm,
            runtime: self.variant.runtime_name(),
            runtime_version: self.version.clone(),
            knobs,
            available: true,
            unavailable_reason: None,
            artifacts,
            start: None,
        }
    }

    /// Checks the module; `cli-wasmtime-aot` compiles it with `wasmtime
    /// compile` (bounded by `timeout`), `cli-wasmtime` writes its cache
    /// configuration and runs nothing (its first timed start fills the
    /// cache, as a user's first `wasmtime run` does; warm-up starts absorb it).
    fn prepare(&mut self, workload: &str, timeout: Duration) -> TargetResult<Option<u64>> {
        let wasm = wasm_module(workload);
        require_built("Wasm module", &wasm)?;
        if crate::artifacts::workload_dir(workload).is_some()
            && matches!(self.variant.mode, CliMode::Wasmedge | CliMode::Wasm3)
        {
            return Err(TargetError::Unavailable(format!(
                "workload `{workload}` has a --workload-dir, which coldbench does not give {} (only the wasmtime CLI's `--dir` is wired)",
                self.variant.id
            )));
        }
        std::fs::create_dir_all(&self.cache_dir).map_err(|e| {
            TargetError::Failed(format!("cannot create {}: {e}", self.cache_dir.display()))
        })?;
        match self.variant.mode {
            CliMode::WasmtimeCached => {
                let dir = self.cache_dir.join("wasmtime-cache");
                std::fs::write(
                    self.wasmtime_cache_config(),
                    format!("[cache]\ndirectory = {:?}\n", dir.display().to_string()),
                )
                .map_err(|e| {
                    TargetError::Failed(format!(
                        "cannot write {}: {e}",
                        self.wasmtime_cache_config().display()
                    ))
                })?;
                self.modules.insert(workload.to_string(), wasm);
                Ok(None)
            }
            CliMode::WasmtimePrecompiled => {
                let out = self.cache_dir.join(format!("{workload}.cwasm"));
                let t0 = Instant::now();
                let mut child = Command::new(&self.tool)
                    .arg("compile")
                    .arg("-o")
                    .arg(&out)
                    .arg(&wasm)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .process_group(0)
                    .spawn()
                    .map_err(|e| {
                        TargetError::Failed(format!("cannot run {}: {e}", self.tool.display()))
                    })?;
                let status = loop {
                    if let Some(s) = child.try_wait().map_err(|e| {
                        TargetError::Failed(format!("waiting for wasmtime compile: {e}"))
                    })? {
                        break s;
                    }
                    if t0.elapsed() > timeout {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(TargetError::Timeout(format!(
                            "`{} compile {}` did not finish within {} ms",
                            self.tool.display(),
                            wasm.display(),
                            timeout.as_millis()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                };
                let ns = t0.elapsed().as_nanos() as u64;
                if !status.success() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    return Err(TargetError::Failed(format!(
                        "`{} compile {}` failed ({status}): {}",
                        self.tool.display(),
                        wasm.display(),
                        err.trim()
                    )));
                }
                self.modules.insert(workload.to_string(), out);
                Ok(Some(ns))
            }
            CliMode::Wasmedge | CliMode::Wasm3 => {
                self.modules.insert(workload.to_string(), wasm);
                Ok(None)
            }
        }
    }

    fn start(
        &mut self,
        workload: &str,
        serve: bool,
        _timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        let module = self
            .modules
            .get(workload)
            .cloned()
            .unwrap_or_else(|| wasm_module(workload));
        let mut cmd = self.command(&module, workload, serve);
        Ok(Box::new(NativeInstance::spawn(
            &mut cmd,
            &self.tool.display().to_string(),
        )?))
    }
}
