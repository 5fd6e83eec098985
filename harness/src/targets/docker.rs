//! `docker-scratch-runc-bridge` (and siblings): the workload's static binary in a
//! `FROM scratch` image, run by the Docker Engine through bollard.

use super::{Instance, Target, TargetError, TargetResult};
use crate::artifacts::static_binary;
use crate::stream::LineReader;
use coldbench_containers::{
    Container, ContainerError, ContainerSpec, DockerHost, EngineInfo, ImageInfo,
};
use coldbench_results::{Artifact, TargetRecord};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Docker variant: image flavour, OCI runtime and network mode.
pub struct DockerTarget {
    id: String,
    host: Option<Arc<DockerHost>>,
    engine: Option<EngineInfo>,
    unavailable: Option<String>,
    runtime: Option<String>,
    network_mode: String,
    images: HashMap<String, ImageInfo>,
}

impl DockerTarget {
    /// The default variant (`scratch` image, the engine's default OCI runtime,
    /// `bridge` network) on `host`, or an unavailable one carrying `why`.
    pub fn new(host: Result<Arc<DockerHost>, String>, engine: Option<EngineInfo>) -> Self {
        let (host, unavailable) = match host {
            Ok(h) => (Some(h), None),
            Err(why) => (None, Some(why)),
        };
        let runtime = engine.as_ref().map(|e| e.default_runtime.clone());
        DockerTarget {
            id: "docker".into(),
            host,
            engine,
            unavailable,
            runtime,
            network_mode: "bridge".into(),
            images: HashMap::new(),
        }
    }

    /// Why the target cannot run, if it cannot.
    pub fn unavailable_reason(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    fn host(&self) -> TargetResult<&Arc<DockerHost>> {
        self.host.as_ref().ok_or_else(|| {
            TargetError::Unavailable(
                self.unavailable
                    .clone()
                    .unwrap_or_else(|| "Docker unavailable".into()),
            )
        })
    }
}

fn cerr(e: ContainerError) -> TargetError {
    match e {
        ContainerError::Timeout { .. } => TargetError::Timeout(e.to_string()),
        ContainerError::Unreachable { .. } => TargetError::Unavailable(e.to_string()),
        other => TargetError::Failed(other.to_string()),
    }
}

impl Target for DockerTarget {
    fn id(&self) -> &str {
        &self.id
    }

    fn record(&self) -> TargetRecord {
        let mut names: Vec<&String> = self.images.keys().collect();
        names.sort();
        TargetRecord {
            id: self.id.clone(),
            family: "container".into(),
            runtime: "docker".into(),
            runtime_version: self
                .engine
                .as_ref()
                .map(|e| e.engine_version.clone())
                .unwrap_or_default(),
            knobs: BTreeMap::from([
                (
                    "image".to_string(),
                    "scratch + static musl binary".to_string(),
                ),
                (
                    "oci_runtime".into(),
                    self.runtime
                        .clone()
                        .unwrap_or_else(|| "engine default".into()),
                ),
                ("network_mode".into(), self.network_mode.clone()),
                (
                    "client".into(),
                    "bollard 0.21 (create → attach → start)".into(),
                ),
                (
                    "storage_driver".into(),
                    self.engine
                        .as_ref()
                        .map(|e| e.storage_driver.clone())
                        .unwrap_or_default(),
                ),
                (
                    "image_pull".into(),
                    "never (built locally from an in-memory tar context)".into(),
                ),
            ]),
            available: self.unavailable.is_none(),
            unavailable_reason: self.unavailable.clone(),
            artifacts: names
                .into_iter()
                .map(|w| Artifact {
                    workload: w.clone(),
                    kind: "image".into(),
                    bytes: self.images[w].size_bytes,
                    id: format!("{} {}", self.images[w].tag, self.images[w].id),
                })
                .collect(),
        }
    }

    fn prepare(&mut self, workload: &str, timeout: Duration) -> TargetResult<Option<u64>> {
        if self.images.contains_key(workload) {
            return Ok(None);
        }
        let host = self.host()?.clone();
        let t0 = Instant::now();
        let tag = format!("coldbench/{workload}:scratch");
        let image = host
            .build_scratch_image(
                workload,
                &static_binary(workload),
                &tag,
                timeout.max(Duration::from_secs(120)),
            )
            .map_err(cerr)?;
        let ns = t0.elapsed().as_nanos() as u64;
        self.images.insert(workload.to_string(), image);
        Ok(Some(ns))
    }

    fn start(&mut self, workload: &str, timeout: Duration) -> TargetResult<Box<dyn Instance>> {
        let image = self
            .images
            .get(workload)
            .ok_or_else(|| TargetError::Failed(format!("image for {workload} was never built")))?
            .id
            .clone();
        let spec = ContainerSpec {
            image,
            args: Vec::new(),
            runtime: self.runtime.clone(),
            network_mode: self.network_mode.clone(),
        };
        let mut container = self.host()?.start(&spec, timeout).map_err(cerr)?;
        let rx = container
            .take_stdout()
            .ok_or_else(|| TargetError::Failed("container has no stdout stream".into()))?;
        Ok(Box::new(DockerInstance {
            container: Some(container),
            stdout: LineReader::new(rx),
        }))
    }
}

struct DockerInstance {
    container: Option<Container>,
    stdout: LineReader,
}

impl Instance for DockerInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, bytes: &[u8], timeout: Duration) -> TargetResult<()> {
        self.container
            .as_mut()
            .expect("live until teardown")
            .write_stdin(bytes, timeout)
            .map_err(cerr)
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        let c = self.container.take().expect("live until teardown");
        let code = c.wait_and_remove(timeout).map_err(cerr)?;
        if code != 0 {
            return Err(TargetError::Failed(format!(
                "container exited with status {code}"
            )));
        }
        Ok(())
    }

    fn diagnostics(&mut self) -> String {
        self.container
            .as_ref()
            .map(|c| c.stderr())
            .unwrap_or_default()
    }
}
