//! Rebuild when a migration or the story seed changes: `sqlx::migrate!` and `include_str!`
//! embed them at compile time, and cargo does not watch new files in those folders by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=seed");
}
