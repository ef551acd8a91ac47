//! Real security keys through hidapi (to be written).
