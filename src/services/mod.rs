//! Use cases. Each takes the pool, runs in one transaction where it changes anything, and
//! returns view models ready to render or serialise.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod awards;
pub mod bids;
pub mod cobidding;
pub mod dashboard;
pub mod documents;
pub mod eforms;
pub mod espd;
pub mod groups;
pub mod health;
pub mod home;
pub mod keys;
pub mod limits;
pub mod needs;
pub mod notices;
pub mod open_data;
pub mod pooling;
pub mod practice;
pub mod programme;
pub mod public;
pub mod receipts;
pub mod seal;
pub mod settings;
pub mod sourcing;
pub mod suppliers;
pub mod tenders;
