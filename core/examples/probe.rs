//! Prints the attack and sensitive-data findings (class and reason) of each line of stdin,
//! scanned as a query parameter (a line starting with `/` as a path and query string):
//! `cargo run -p meshward-core --example probe < values.txt`.

use meshward_core::detect::{Detector, Direction, Findings, Part, Site};
use std::io::BufRead;
fn main() {
    let detector = Detector::default();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let mut out = Findings::new(64);
        let site = Site { direction: Direction::Request, part: Part::Query, field: "q", key: "q" };
        match line.strip_prefix('/') {
            Some(_) => {
                let (path, query) = line.split_once('?').unwrap_or((&line, ""));
                detector.scan_path_and_query(path, query, &mut out);
            }
            None => detector.scan_value(site, &line, &mut out),
        }
        let found: Vec<String> = out.items.iter().map(|f| format!("{}:{}", f.class, f.reason)).collect();
        println!("{line}\t{found:?}");
    }
}
