//! Validator (to be written).
