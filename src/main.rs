fn main() {
    std::process::exit(revkeeper::cli::main());
}
