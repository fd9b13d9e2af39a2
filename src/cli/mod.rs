//! Operator commands of the `reel` binary that live beside `main.rs` (this module belongs
//! to the binary, not to the library).

pub mod app;
pub mod track;
pub mod watermark;
