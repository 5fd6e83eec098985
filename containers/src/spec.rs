//! What a container is started with: its image, command, mounts and the
//! hardening (read-only root, capabilities dropped, user, memory and task
//! limits).

/// Where a container gets a command's `--workload-dir`: bind-mounted
/// read-only there, and the working directory of its process.
pub const WORKLOAD_DIR_MOUNT: &str = "/workload-dir";

/// How to run one container.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Image tag or id.
    pub image: String,
    /// Arguments after the image's entrypoint.
    pub args: Vec<String>,
    /// OCI runtime name (`runc`, `runsc`, ...); `None` for the engine default.
    pub runtime: Option<String>,
    /// Network mode (`bridge`, `none`).
    pub network_mode: String,
    /// Confinement of the container.
    pub hardening: Hardening,
    /// A host directory (absolute) bind-mounted read-only at
    /// [`WORKLOAD_DIR_MOUNT`] and made the process's working directory (a
    /// hardened container's user, 65534, must be able to read it); `None`:
    /// no mount, the image's working directory.
    pub workload_dir: Option<std::path::PathBuf>,
}

/// How a container is confined (recorded as knobs by the harness).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    /// Read-only root filesystem (`--read-only`).
    pub read_only_rootfs: bool,
    /// Every Linux capability dropped (`--cap-drop ALL`).
    pub drop_all_capabilities: bool,
    /// `--security-opt no-new-privileges` (no setuid gain).
    pub no_new_privileges: bool,
    /// `--user` (`uid:gid`), `None` for the image's (root).
    pub user: Option<String>,
    /// `--memory`, bytes.
    pub memory_bytes: Option<i64>,
    /// `--pids-limit`.
    pub pids_limit: Option<i64>,
}

impl Hardening {
    /// coldbench's default: read-only root filesystem, all capabilities
    /// dropped, no new privileges, user `65534:65534` (nobody), 1 GiB of
    /// memory (over 5× what the largest shipped input needs natively), 64
    /// tasks. The workloads read stdin and write stdout only.
    pub fn hardened() -> Self {
        Hardening {
            read_only_rootfs: true,
            drop_all_capabilities: true,
            no_new_privileges: true,
            user: Some("65534:65534".into()),
            memory_bytes: Some(1 << 30),
            pids_limit: Some(64),
        }
    }

    /// Docker's defaults (root, writable root filesystem, default
    /// capabilities, no limits): what `--container-hardening off` measures.
    pub fn none() -> Self {
        Hardening {
            read_only_rootfs: false,
            drop_all_capabilities: false,
            no_new_privileges: false,
            user: None,
            memory_bytes: None,
            pids_limit: None,
        }
    }

    /// `docker run` flags equivalent to this confinement (for the record).
    pub fn flags(&self) -> String {
        let mut f = Vec::new();
        if self.read_only_rootfs {
            f.push("--read-only".to_string());
        }
        if self.drop_all_capabilities {
            f.push("--cap-drop ALL".into());
        }
        if self.no_new_privileges {
            f.push("--security-opt no-new-privileges".into());
        }
        if let Some(u) = &self.user {
            f.push(format!("--user {u}"));
        }
        if let Some(m) = self.memory_bytes {
            f.push(format!("--memory {m}"));
        }
        if let Some(p) = self.pids_limit {
            f.push(format!("--pids-limit {p}"));
        }
        if f.is_empty() {
            "none (Docker defaults)".into()
        } else {
            f.join(" ")
        }
    }
}
