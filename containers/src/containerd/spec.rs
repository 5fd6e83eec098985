//! The OCI runtime spec of a containerd container: process, mounts,
//! namespaces and the hardening coldbench applies to every container.

use super::*;

/// The OCI runtime spec of one container: `spec.args` in a read-only
/// `spec.rootfs`, its own pid, network (loopback only), IPC, UTS and mount
/// namespaces, `/proc` and a small `/dev`, every capability dropped,
/// `no-new-privileges`, the hardening's user, memory and task limits, its
/// own cgroup `/coldbench/<id>`.
pub fn oci_spec(spec: &TaskSpec<'_>, id: &str) -> serde_json::Value {
    let h = spec.hardening;
    let (uid, gid) = h
        .user
        .as_deref()
        .and_then(|u| u.split_once(':'))
        .and_then(|(u, g)| Some((u.parse::<u32>().ok()?, g.parse::<u32>().ok()?)))
        .unwrap_or((0, 0));
    let caps: Vec<&str> = if h.drop_all_capabilities {
        Vec::new()
    } else {
        vec![
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_FSETID",
            "CAP_FOWNER",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_KILL",
            "CAP_NET_BIND_SERVICE",
        ]
    };
    let mut resources = serde_json::json!({
        "devices": [{"allow": false, "access": "rwm"}],
    });
    if let Some(m) = h.memory_bytes {
        resources["memory"] = serde_json::json!({"limit": m});
    }
    if let Some(p) = h.pids_limit {
        resources["pids"] = serde_json::json!({"limit": p});
    }
    let mut mounts = serde_json::json!([
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}
    ]);
    if let (Some(d), Some(list)) = (spec.workload_dir, mounts.as_array_mut()) {
        list.push(serde_json::json!({
            "destination": crate::WORKLOAD_DIR_MOUNT, "type": "bind",
            "source": d.display().to_string(),
            "options": ["rbind", "ro", "nosuid", "nodev"]
        }));
    }
    let cwd = if spec.workload_dir.is_some() {
        crate::WORKLOAD_DIR_MOUNT
    } else {
        "/"
    };
    serde_json::json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": uid, "gid": gid},
            "args": spec.args,
            "env": [],
            "cwd": cwd,
            "noNewPrivileges": h.no_new_privileges,
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps,
                "inheritable": [], "ambient": []
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
        },
        "root": {"path": spec.rootfs.display().to_string(), "readonly": true},
        "hostname": "coldbench",
        "mounts": mounts,
        "linux": {
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                {"type": "uts"}, {"type": "mount"}
            ],
            "resources": resources,
            "cgroupsPath": format!("/coldbench/{id}"),
            "maskedPaths": [
                "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                "/sys/firmware"
            ],
            "readonlyPaths": [
                "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                "/proc/sysrq-trigger"
            ]
        }
    })
}
