//! What the benchmark binaries share.

/// The number after `name` on the command line (`--seconds 10`), or
/// `default` when it is absent or not a number.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

/// The word after `name` on the command line (`--attacks idle,slow`), or
/// `None` when it is absent.
pub fn word(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}
