//! Structured logs: one JSON object per line, each carrying the request id of its request, or
//! readable lines for a person watching a terminal. Tokens, passwords and secrets are never
//! logged (only the `sub` and role of a caller).

use std::io::IsTerminal;

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// Whether log lines should be readable text: `pretty` always, `json` never, and `auto` when
/// the logs go to a terminal (a person running the demo) rather than a file or a collector.
pub fn readable(format: &str, to_terminal: bool) -> bool {
    match format {
        "pretty" => true,
        "json" => false,
        _ => to_terminal,
    }
}

pub fn init(level: &str, format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_span_events(FmtSpan::CLOSE).with_writer(std::io::stderr);
    // A second init (tests start many servers in one process) is harmless: ignore it.
    let _ = if readable(format, std::io::stderr().is_terminal()) {
        builder.with_target(false).compact().try_init()
    } else {
        builder.json().with_current_span(true).with_span_list(false).flatten_event(true).try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn auto_follows_the_terminal_and_a_setting_overrides_it() {
        assert!(readable("auto", true));
        assert!(!readable("auto", false));
        assert!(readable("pretty", false));
        assert!(!readable("json", true));
    }
}
