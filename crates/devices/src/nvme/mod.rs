//! NVMe: pure admin command encoders and parsers for the
//! Identify Controller data structure and the Sanitize Status log
//! (reference *devices-and-images.md*, PART A, §A1), and the [`admin`]
//! layer that sends them.

pub mod admin;
pub mod command;
pub mod identify;
pub mod sanitize_log;
