//! The `coldbench` command line: parses arguments, calls the library, prints.
//! Everything that measures lives in the library (`coldbench::plan`,
//! `coldbench::session`, `coldbench::experiment`).

mod cli;

fn main() {
    std::process::exit(cli::main());
}
