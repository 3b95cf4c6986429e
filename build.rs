//! The lessons (and their folder) are bundled into the binary with rust-embed, which sees a file's
//! edits but not a new file: rebuild whenever anything under `lessons/` changes.

fn main() {
    println!("cargo:rerun-if-changed=lessons");
    println!("cargo:rerun-if-changed=build.rs");
}
