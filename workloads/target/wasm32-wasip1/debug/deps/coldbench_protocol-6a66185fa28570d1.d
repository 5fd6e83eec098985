/work/main/workloads/target/wasm32-wasip1/debug/deps/coldbench_protocol-6a66185fa28570d1.d: protocol/src/lib.rs protocol/src/runner.rs protocol/src/workload.rs

/work/main/workloads/target/wasm32-wasip1/debug/deps/libcoldbench_protocol-6a66185fa28570d1.rmeta: protocol/src/lib.rs protocol/src/runner.rs protocol/src/workload.rs

protocol/src/lib.rs:
protocol/src/runner.rs:
protocol/src/workload.rs:
