//! caploop: from per-sample LLM evaluation logs to capability slices, honest
//! checkpoint comparisons, diagnoses and targeted data plans.
//!
//! The stages are modules (DESIGN.md section 2); `cli` only parses arguments
//! and calls them.

pub mod apply;
pub mod cli;
pub mod config;
pub mod diagnose;
pub mod error;
pub mod history;
pub mod ingest;
pub mod json;
pub mod labels;
pub mod manifest;
pub mod mapping;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod report;
pub mod settings;
pub mod shipped;
pub mod slices;
pub mod stats;
pub mod synth;
pub mod table;
pub mod tagging;
pub mod taxonomy;
pub mod trace;
pub mod verify;
pub mod vocabulary;

pub use error::{Error, ExitCode, Result};
