//! API tests: a real Rusk over real HTTP, on SQLite and on Postgres.

mod csv_errors;
mod data;
mod explore;
mod faults;
mod formats;
mod helpers;
mod lifecycle;
mod out_of_core;
mod outage;
mod pandas;
mod pipelines;
mod progress;
mod results;
mod running;
mod s3;
mod service;
mod sizing;
mod steps;
mod store;
mod validation;
mod workers;
