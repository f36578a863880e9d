//! atf with the built-ins plus the scaffold's example strategy (`rsi-dip`,
//! compiled from the very file `atf new` writes) and the test-only
//! `fault-injection`: the binary the test suites and the benchmarks run
//! where they need those two. Built by `cargo test --workspace` into
//! `target/<profile>/examples/atf-extras`.

#[path = "../templates/rsi_dip.rs"]
mod rsi_dip;

fn main() -> std::process::ExitCode {
    atf::main(
        atf::Registry::builtin()
            .with::<rsi_dip::RsiDip>()
            .with::<atf::engine::strategies::FaultInjection>(),
    )
}
