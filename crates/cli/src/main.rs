//! `atf` with the built-in strategies: the same entry point a user's crate
//! calls with its own strategies added (see the `atf` facade crate).

fn main() -> std::process::ExitCode {
    atf_cli::main(atf_cli::Registry::builtin())
}
