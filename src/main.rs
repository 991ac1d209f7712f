//! The `tipline` binary: the command line lives in [`tipline::cli`], one file per subcommand.

fn main() -> std::process::ExitCode {
    tipline::cli::main()
}
