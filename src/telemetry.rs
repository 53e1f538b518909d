//! Structured logs: one JSON object per line, each carrying the request id of its request.
//! Tokens, passwords and secrets are never logged (only the `sub` and role of a caller).

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

pub fn init(level: &str, format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_span_events(FmtSpan::CLOSE).with_writer(std::io::stderr);
    // A second init (tests start many servers in one process) is harmless: ignore it.
    let _ = if format == "pretty" {
        builder.try_init()
    } else {
        builder.json().with_current_span(true).with_span_list(false).flatten_event(true).try_init()
    };
}
