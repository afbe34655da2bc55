//! Tasks of the quickstart.
