//! `coldbench report`: the tables of existing results files, rendered from
//! the files only.

use anyhow::Result;
use coldbench_results::RunFile;
use std::path::PathBuf;

/// Prints every section of every file in `paths`.
///
/// Errors: a file that cannot be read, is not a results file, or has a
/// newer schema (named in the message).
pub fn print(paths: &[PathBuf]) -> Result<()> {
    let runs = paths
        .iter()
        .map(|p| RunFile::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    for (run, path) in runs.iter().zip(paths) {
        if runs.len() > 1 {
            println!("== {}", path.display());
        }
        print!("{}", coldbench_reports::full(run));
    }
    Ok(())
}
