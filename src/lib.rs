//! Groupement: a shared procurement marketplace and pooling engine for a *groupement de
//! commandes* of public buyers. Data flows one way: web → services → db / domain / solver.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod files;
pub mod mail;
pub mod services;
pub mod startup;
pub mod web;
pub mod work;

pub use config::Settings;
pub use error::AppError;
pub use startup::Application;
