//! The doctor: reads keepalived.conf as keepalived does and says what will silently go
//! wrong (`keepalived -t` checks syntax only).
pub mod finding;
pub mod reader;
pub mod rooted;
pub mod users;
