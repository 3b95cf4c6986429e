//! The lessons and the slides are bundled into the binary with rust-embed, which sees a file's
//! edits but not a new file: rebuild whenever anything under `lessons/` or `slides/` changes.

fn main() {
    println!("cargo:rerun-if-changed=lessons");
    println!("cargo:rerun-if-changed=slides");
    println!("cargo:rerun-if-changed=build.rs");
}
