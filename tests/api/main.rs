//! The integration test binary: the real server on port 0, a fresh database per test, on SQLite
//! and — when `GROUPEMENT_TEST_POSTGRES_URL` is set — on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access;
mod accounts;
mod auth;
mod award_journey;
mod bids;
mod browser;
mod buyer_profile;
mod cli_award;
mod cli_export;
mod cli_pool;
mod cobidding;
mod demo;
mod durability;
mod eforms;
mod espd;
mod forms;
mod frontier;
mod groups;
mod health;
mod homes;
mod hostile;
mod journey;
mod life_cycle;
mod logs;
mod migrations;
mod needs;
mod needs_pages;
mod notices;
mod openapi;
mod page_snapshots;
mod pages;
mod pooling_journey;
mod programme;
mod questions;
mod scale_out;
mod sealed;
mod sealing;
mod settings;
mod smtp;
mod startup;
mod suppliers;
mod team_journey;
