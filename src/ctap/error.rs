//! (to be written)
pub enum CtapError {}
