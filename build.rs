//! Records the compiler that builds poolsweep, for the result file's `meta.toolchain`: cargo
//! tells a build script which `rustc` it compiles the crate with (`RUSTC`), so this is that
//! compiler's `--version`, not whichever `rustc` is on the PATH when the binary later runs.

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|v| !v.is_empty());
    // Without a version (a compiler that cannot say), the result file records `null`.
    if let Some(version) = version {
        println!("cargo::rustc-env=POOLSWEEP_RUSTC_VERSION={version}");
    }
}
