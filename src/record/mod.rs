//! The *record* stage: run a program under strace with the flags netcheck needs.
