//! Rusk: Dask-style dataframe jobs as a REST service. See `DESIGN.md` for the contract and
//! the README for a walkthrough.

#![deny(unsafe_code)]

pub mod api;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod engine;
// The only module with `unsafe`: calls into the CUDA driver.
#[allow(unsafe_code)]
pub mod gpu;
pub mod gpu_bench;
pub mod keys;
pub mod ml;
pub mod netguard;
pub mod objects;
pub mod results;
pub mod spec;
pub mod store;
pub mod telemetry;
pub mod views;
pub mod webhooks;
pub mod worker;
