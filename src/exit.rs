//! The exit codes `sandbox run` gives for its own outcomes, as timeout(1)
//! and env(1) do, so that a script can tell them from the app's: any other
//! code is the app's own (128 + N when a signal N ended it).

/// The profile's timeout ended the sandbox.
pub const TIMED_OUT: u8 = 124;
/// The sandbox could not be set up or held together (a bad profile, a
/// failed step, a PID 1 that could not seal itself).
pub const SETUP_FAILED: u8 = 125;
/// The command is there but cannot be executed (not executable, a folder).
pub const CANNOT_EXECUTE: u8 = 126;
/// The command is not found inside the sandbox.
pub const NOT_FOUND: u8 = 127;
