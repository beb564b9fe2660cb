//! Model tests, grouped by concern.
