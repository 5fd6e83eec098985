//! `noop`: reaches `main`, answers, exits — the cold-start floor.
//! Its result is the empty byte string, whatever the request.

use coldbench_protocol::workload::{Output, serve};

fn main() {
    std::process::exit(serve("noop", |_req| Ok(Output::default())));
}
