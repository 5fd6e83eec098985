//! Images: building one from an in-memory tar context (a Dockerfile and the
//! workload binary) through the Engine API, and reading its id and size.

use super::*;

/// A locally built image.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// Tag, e.g. `coldbench/noop:scratch`.
    pub tag: String,
    /// Image id (`sha256:...`).
    pub id: String,
    /// Image size as the engine reports it, bytes.
    pub size_bytes: u64,
}

/// One image for [`DockerHost::build_workload_images`]: `FROM base`, the
/// file `binary` copied to `/<workload>` and made the entrypoint, tagged `tag`.
#[derive(Debug, Clone)]
pub struct ImageBuild {
    /// `scratch` or an image already in the engine.
    pub base: String,
    /// Workload name: the file's name inside the image.
    pub workload: String,
    /// The static (scratch) or glibc (Debian) binary on the host.
    pub binary: std::path::PathBuf,
    /// Tag to give the image, e.g. `coldbench/noop:scratch`.
    pub tag: String,
}

/// What an inspection of image `reference` says about it.
pub(super) fn image_info(reference: &str, inspect: bollard::models::ImageInspect) -> ImageInfo {
    ImageInfo {
        tag: reference.to_string(),
        id: inspect.id.unwrap_or_default(),
        size_bytes: inspect.size.unwrap_or(0).max(0) as u64,
    }
}

/// Sends one build of `b` and reads its log to the end. Errors: the binary
/// cannot be read, or the engine reports an error (with the build's log).
pub(super) async fn build_image(docker: Docker, b: &ImageBuild) -> Result<(), ContainerError> {
    let bin = std::fs::read(&b.binary).map_err(|source| ContainerError::Io {
        path: b.binary.display().to_string(),
        source,
    })?;
    let workload = &b.workload;
    let dockerfile = format!(
        "FROM {}\nCOPY {workload} /{workload}\nENTRYPOINT [\"/{workload}\"]\n",
        b.base
    );
    let context = tar_context(&[
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        (workload, &bin, 0o755),
    ])
    .map_err(|source| ContainerError::Io {
        path: "in-memory build context".into(),
        source,
    })?;
    let labels = HashMap::from([(LABEL_KEY.to_string(), "1".to_string())]);
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&b.tag)
        .rm(true)
        .forcerm(true)
        .labels(&labels)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    let mut log = String::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| ContainerError::Build {
            tag: b.tag.clone(),
            message: e.to_string(),
        })?;
        if let Some(s) = info.stream {
            log.push_str(&s);
        }
        if let Some(detail) = info.error_detail {
            return Err(ContainerError::Build {
                tag: b.tag.clone(),
                message: format!("{}\n{log}", detail.message.unwrap_or_default()),
            });
        }
    }
    Ok(())
}

/// Builds an uncompressed tar archive in memory from `(path, bytes, mode)` entries.
pub(super) fn tar_context(entries: &[(&str, &[u8], u32)]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes, mode) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, path, *bytes)?;
    }
    builder.into_inner()
}
