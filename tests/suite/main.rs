//! caploop's integration tests, one module per file, built as one test
//! binary: one crate to compile and link instead of one per file (the
//! dependencies' generics were instantiated, and polars linked, 28 times),
//! and one pool of test threads over the whole suite.
//!
//! Run one file's tests with `cargo test --test suite <module>::`, e.g.
//! `cargo test --test suite taxonomies::`.

mod common;

mod apply;
mod bad_inputs;
mod calibration;
mod cli;
mod diagnose;
mod diagnosis_real;
mod gaps;
mod gaps_real;
mod harnesses;
mod hostile;
mod ingest_real;
mod inspect;
mod labels;
mod lighteval;
mod lmeval_harness;
mod paper;
mod phrasings;
mod plan;
mod planted;
mod report;
mod run_labels;
mod slice_eval_props;
mod sliceline_peer;
mod slices_props;
mod stream_props;
mod taxonomies;
mod verify;
mod weakness;
