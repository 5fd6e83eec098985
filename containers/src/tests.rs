use super::*;

#[test]
fn tar_context_holds_entries() {
    let t = tar_context(&[
        ("Dockerfile", b"FROM scratch\n", 0o644),
        ("noop", b"\x7fELF", 0o755),
    ])
    .unwrap();
    let mut a = tar::Archive::new(t.as_slice());
    let names: Vec<String> = a
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names, vec!["Dockerfile", "noop"]);
}
