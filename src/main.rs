fn main() -> std::process::ExitCode {
    investai::cli::main()
}
