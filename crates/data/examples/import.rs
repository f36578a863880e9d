//! Imports one file into a data directory and prints the report and the
//! time taken: `cargo run --release -p atf-data --example import -- FILE DATA_DIR`.

use atf_data::{Catalog, ImportOptions};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(file), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: import FILE DATA_DIR".into());
    };
    let catalog = Catalog::open(&PathBuf::from(dir))?;
    let t = Instant::now();
    let r = catalog.import(&PathBuf::from(file), &ImportOptions::default())?;
    let import_time = t.elapsed();
    let t = Instant::now();
    let bars = catalog.load(&r.dataset, None, None)?;
    println!(
        "{} rows ({} format, {} gaps, {} missing bars) imported in {:.3} s, loaded in {:.3} s; file {}",
        r.rows,
        r.format,
        r.gaps,
        r.missing_bars,
        import_time.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        catalog.data_dir().join(&r.dataset.file).display()
    );
    assert_eq!(bars.len() as u64, r.rows);
    Ok(())
}
