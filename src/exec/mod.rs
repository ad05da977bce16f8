//! The executor.
pub fn run(_plan: &crate::plan::Plan) -> u8 { 125 }
