//! [`HostProbe`]: what this host offers to the target families, probed once
//! per session (the Docker engine, node, the cgroup layout, the runtime CLIs
//! given on the command line).

use super::{BuildContext, DockerHost, EngineInfo, Target, TargetOptions, Variant, node};
use coldbench_results::TargetRecord;
use std::sync::Arc;
use std::time::Duration;

/// What this host offers, probed once: the Docker engine, node, the runners.
pub struct HostProbe {
    /// A connected engine, or why not.
    pub docker: Result<Arc<DockerHost>, String>,
    /// What the engine says about itself.
    pub engine: Option<EngineInfo>,
    /// `node --version`, or why node cannot be used.
    pub node: Result<String, String>,
    /// The host's cgroup layout (`2`, `hybrid`, `1`).
    pub cgroup_layout: crate::host::CgroupLayout,
    /// The run whose containers the targets built from this probe label.
    pub run_id: String,
    /// Runtime CLIs given by `--cli-runtime NAME=PATH` (tool → executable),
    /// looked up before the set-up's tools directory and `PATH`.
    pub cli_tools: std::collections::BTreeMap<String, std::path::PathBuf>,
}

impl HostProbe {
    /// Probes the host; `run_id` labels the containers this probe's engine
    /// connection will start.
    pub fn new(run_id: &str) -> Self {
        let (docker, engine) =
            match DockerHost::connect(run_id, crate::reap::owner(), Duration::from_secs(5)) {
                Ok(h) => {
                    let info = h.engine_info(Duration::from_secs(10)).ok();
                    (Ok(Arc::new(h)), info)
                }
                Err(e) => (Err(e.to_string()), None),
            };
        HostProbe {
            docker,
            engine,
            node: node::probe_node(),
            cgroup_layout: crate::host::CgroupLayout::read(),
            run_id: run_id.to_string(),
            cli_tools: Default::default(),
        }
    }

    /// This probe with the runtime CLIs given by `--cli-runtime`.
    pub fn with_cli_tools(
        mut self,
        tools: std::collections::BTreeMap<String, std::path::PathBuf>,
    ) -> Self {
        self.cli_tools = tools;
        self
    }

    /// `Ok` if `v` can run here, else why not and how to enable it.
    pub fn availability(&self, v: &Variant) -> Result<(), String> {
        v.provider.availability(v, self)
    }

    /// A target for `v` (which should be available); precompiled modules go
    /// to `cache_dir`.
    pub fn build(
        &self,
        v: &Variant,
        cache_dir: &std::path::Path,
        workloads: &[String],
        options: &TargetOptions,
    ) -> Box<dyn Target> {
        v.provider.build(
            v,
            &BuildContext {
                cache_dir,
                workloads,
                options,
                host: self,
            },
        )
    }

    /// The record of a variant that cannot run here, with `why`.
    pub fn unavailable_record(&self, v: &Variant, why: &str) -> TargetRecord {
        let (runtime, runtime_version) = v.provider.runtime(v, self);
        TargetRecord {
            id: v.id.clone(),
            family: v.family,
            runtime,
            runtime_version,
            knobs: std::collections::BTreeMap::from([("description".to_string(), v.describe())]),
            available: false,
            unavailable_reason: Some(why.to_string()),
            artifacts: Vec::new(),
            start: Some(v.start.clone()),
        }
    }
}
