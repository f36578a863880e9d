//! `atf strategies`.

use crate::args::StrategiesArgs;
use crate::exit::CliResult;
use crate::out::outln;
use crate::render::print_json;
use atf_engine::{ParamKind, Registry};

pub fn run(registry: &Registry, a: &StrategiesArgs) -> CliResult {
    let infos: Vec<_> = registry.infos().collect();
    if a.json {
        return print_json(&infos);
    }
    for s in infos {
        outln!("{} {} — {}", s.name, s.version, s.description);
        for p in &s.params.0 {
            let kind = match &p.kind {
                ParamKind::Int {
                    default, min, max, ..
                } => format!("int   default {default:<6} range {min}..={max}"),
                ParamKind::Float {
                    default, min, max, ..
                } => format!("float default {default:<6} range {min}..={max}"),
                ParamKind::Bool { default } => format!("bool  default {default}"),
                ParamKind::Choice { default, options } => {
                    format!("choice default {default} of {}", options.join("|"))
                }
            };
            outln!("    {:<16} {kind:<44} {}", p.name, p.description);
        }
        outln!();
    }
    Ok(())
}
