/work/main/workloads/target/wasm32-wasip1/release/deps/cfg_if-8887e2c7f69b1c71.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg-if-1.0.5/src/lib.rs

/work/main/workloads/target/wasm32-wasip1/release/deps/libcfg_if-8887e2c7f69b1c71.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg-if-1.0.5/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg-if-1.0.5/src/lib.rs:
