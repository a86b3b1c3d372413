//! `poolsweep`: the command-line tool (sweeps, reports and comparisons arrive with their issues).

fn main() {
    println!("poolsweep {}", env!("CARGO_PKG_VERSION"));
}
