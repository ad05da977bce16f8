//! `sandbox`: a declarative Linux sandbox launcher.
//!
//! The crate is one pipeline: [`profile`] (TOML text -> validated
//! [`profile::Profile`]), [`plan`] (profile + host facts + command line ->
//! ordered [`plan::Plan`], pure), and [`exec`] (applies a plan's steps with
//! real system calls, then execs the application). The vocabulary they
//! share (namespace kinds, capabilities, syscalls, rlimits, globs, paths)
//! lives in leaf modules that import nothing of the crate.

pub mod audit;
pub mod capabilities;
pub mod desktop;
pub mod diag;
pub mod exec;
pub mod exit;
pub mod glob;
pub mod host;
pub mod learn;
pub mod limits;
pub mod namespaces;
pub mod paths;
pub mod plan;
pub mod profile;
pub mod syscalls;
pub mod userdb;
