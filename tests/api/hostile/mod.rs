//! Hostile input and abuse (issue #18): each attack that once worked, tried again.
//! - `spellings`: the routes of the access table under other spellings of their paths;
//! - the spreadsheet bombs are unit tests of `files::xlsx` and `files` (no server needed);
//! - `limits`: rate limits with huge and many keys, kept in the database;
//! - `passwords`: the password forms check cheap things first and are rate-limited;
//! - `uploads`: documents spooled to disk, idle bodies dropped.

mod limits;
mod passwords;
mod runs;
mod smaller;
mod spellings;
mod uploads;
