//! Workflows of the quickstart.
