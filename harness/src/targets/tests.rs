use super::*;

/// Two versions of a runtime precompile to the same file names: each
/// runtime (and version) gets its own cache directory, or one version
/// would deserialize the other's modules (found by the first
/// side-by-side run: wasmtime 48 and 50 read wasmtime 36's `.cwasm`).
#[test]
fn versions_of_a_runtime_never_share_a_cache_directory() {
    let host = HostProbe::new("unit");
    let cache = std::path::Path::new("/nonexistent/cache");
    let dir = |id: &str| {
        let v = variant(id).expect("in the catalog");
        let t = v.provider.build(
            &v,
            &BuildContext {
                cache_dir: cache,
                workloads: &[],
                options: &TargetOptions::default(),
                host: &host,
            },
        );
        t.record().knobs["cache_dir"].clone()
    };
    let dirs = ["wasmtime-aot", "wasmtime@50-aot", "wasmtime@36-aot"].map(dir);
    assert_ne!(dirs[0], dirs[1]);
    assert_ne!(dirs[1], dirs[2]);
    assert_ne!(dirs[0], dirs[2]);
    assert!(dirs.iter().all(|d| d.starts_with("/nonexistent/cache/")));
}

#[test]
fn patterns_select_on_dash_boundaries() {
    assert!(selects("all", "wasmi"));
    assert!(selects("docker", "docker-debian-runsc-none"));
    assert!(selects("docker-debian", "docker-debian-runc-bridge"));
    assert!(!selects("docker-deb", "docker-debian-runc-bridge"));
    assert!(selects("wasmtime", "wasmtime-pooling"));
    assert!(!selects("wasm", "wasmtime-jit"));
    assert!(selects("wasmi", "wasmi"));
    // Versions built on demand: by name or their own prefix, never by
    // `all` or the pinned runtime's prefix.
    assert!(!selects("all", "wasmtime@50-pooling"));
    assert!(!selects("wasmtime", "wasmtime@50-pooling"));
    assert!(selects("wasmtime@50", "wasmtime@50-pooling"));
    assert!(picks("wasmtime@36-aot", "wasmtime@36-aot"));
    // A variant's own id picks it alone, a family prefix all of them.
    assert!(picks("cli-wasmtime", "cli-wasmtime"));
    assert!(!picks("cli-wasmtime", "cli-wasmtime-aot"));
    assert!(!picks("wamr-interp", "wamr-interp-preloaded"));
    assert!(picks("wamr", "wamr-interp-preloaded"));
    assert!(picks("cli", "cli-wasmtime-aot"));
    assert!(picks("all", "node"));
}

#[test]
fn catalog_ids_are_unique_and_cover_the_issue_matrix() {
    let ids: Vec<String> = catalog().into_iter().map(|v| v.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len());
    for id in [
        "native",
        "wasmtime-jit",
        "wasmtime-aot",
        "wasmtime-pooling",
        "wasmer-cranelift",
        "wasmer-singlepass",
        "wasmi",
        "node",
        "docker-scratch-runc-bridge",
        "docker-debian-runsc-none",
        "docker-debian-crun-none",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing");
    }
}
