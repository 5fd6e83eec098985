/work/main/workloads/target/wasm32-wasip1/release/deps/coldbench_protocol-bf62d1b87757ae32.d: protocol/src/lib.rs protocol/src/runner.rs protocol/src/workload.rs Cargo.toml

/work/main/workloads/target/wasm32-wasip1/release/deps/libcoldbench_protocol-bf62d1b87757ae32.rmeta: protocol/src/lib.rs protocol/src/runner.rs protocol/src/workload.rs Cargo.toml

protocol/src/lib.rs:
protocol/src/runner.rs:
protocol/src/workload.rs:
Cargo.toml:

# env-dep:CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
# env-dep:CLIPPY_CONF_DIR
