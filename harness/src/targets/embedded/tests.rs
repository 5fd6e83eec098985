use super::*;

fn kv(pairs: &[(&str, u64)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn runner_phases_add_up_to_t_ready() {
    let stamps = kv(&[
        ("received_ns", 110),
        ("thread_ns", 130),
        ("module_ready_ns", 200),
        ("instantiated_ns", 260),
        ("first_stdout_ns", 300),
    ]);
    let phases = runner_phases(&stamps, 100, 345);
    assert_eq!(
        phases,
        vec![
            (Metric::TRunnerDispatch, 10),
            (Metric::TRunnerHandoff, 20),
            (Metric::TRunnerModule, 70),
            (Metric::TRunnerInstantiate, 60),
            (Metric::TGuestReady, 40),
            (Metric::TReadyReturn, 45),
        ]
    );
}

#[test]
fn a_missing_stamp_merges_into_the_next_phase() {
    // wasmtime-pooling: no module phase; instantiate starts at the thread stamp.
    let stamps = kv(&[
        ("received_ns", 110),
        ("thread_ns", 130),
        ("instantiated_ns", 160),
        ("first_stdout_ns", 190),
    ]);
    let phases = runner_phases(&stamps, 100, 200);
    assert!(!phases.iter().any(|(m, _)| *m == Metric::TRunnerModule));
    assert!(phases.contains(&(Metric::TRunnerInstantiate, 30)));
    // No first-stdout stamp: no guest or return phase (never a merged one).
    let stamps = kv(&[("received_ns", 110), ("instantiated_ns", 160)]);
    let phases = runner_phases(&stamps, 100, 200);
    assert_eq!(
        phases,
        vec![
            (Metric::TRunnerDispatch, 10),
            (Metric::TRunnerInstantiate, 50)
        ]
    );
}

#[test]
fn stamps_out_of_order_or_missing_give_no_phases() {
    let backwards = kv(&[("received_ns", 90), ("instantiated_ns", 160)]);
    assert!(runner_phases(&backwards, 100, 200).is_empty());
    let late_read = kv(&[
        ("received_ns", 110),
        ("instantiated_ns", 160),
        ("first_stdout_ns", 250),
    ]);
    assert!(runner_phases(&late_read, 100, 200).is_empty());
    assert!(runner_phases(&kv(&[("received_ns", 110)]), 100, 200).is_empty());
}
