//! Groupement's optimisation models: pooling needs into joint tenders with lots, and awarding
//! lots to bids. A library with no database, no web and no I/O beyond serde: the portal and the
//! command line call it.

pub mod award;
pub mod generate;
pub mod lp;
pub mod pooling;
pub mod procedure;
pub mod teams;
