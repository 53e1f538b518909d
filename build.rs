//! Rebuilds the crate when a migration is added or edited: `embed_migrations!` reads the
//! migration folders at compile time, and cargo does not otherwise look at them, so an
//! incremental build would keep running the migrations it embedded before.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
